//! The contacts' upkeep: what a contact write runs in its transaction, in order. Scores
//! first (`scoring::upkeep`), then segment memberships (`segments::maintain`), so a
//! segment on a band reads the band this write decided. Both layers are the same height
//! and neither names the other's hook: the order is decided here.

use sea_orm::DatabaseTransaction;

use crate::Result;
use crate::contacts::write::{BoxFuture, UpkeepSource, WriteHook};
use crate::scoring::{Scoring, upkeep::ScoreHook};
use crate::segments::Segments;

/// Begins contact writes with scoring and segment upkeep.
#[derive(Debug, Clone)]
pub(crate) struct Upkeep {
    pub scoring: Scoring,
    pub segments: Segments,
}

struct Chain {
    scores: ScoreHook,
    segments: Box<dyn WriteHook>,
}

impl WriteHook for Chain {
    fn written<'a>(&'a self, txn: &'a DatabaseTransaction, ids: &'a [i64]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            self.scores.written(txn, ids).await?;
            self.segments.written(txn, ids).await
        })
    }

    fn deleting<'a>(&'a self, txn: &'a DatabaseTransaction, id: i64) -> BoxFuture<'a, Result<()>> {
        // The contact's scores and band history go with its row.
        self.segments.deleting(txn, id)
    }
}

impl UpkeepSource for Upkeep {
    fn begin(&self) -> BoxFuture<'_, Result<(DatabaseTransaction, Box<dyn WriteHook>)>> {
        Box::pin(async move {
            // The models are compiled before the transaction begins, for the same reason
            // as the segments' book: compiling reads through other pooled connections.
            let scores = self.scoring.write_hook().await?;
            let (txn, segments) = UpkeepSource::begin(&self.segments).await?;
            let hook: Box<dyn WriteHook> = Box::new(Chain { scores, segments });
            Ok((txn, hook))
        })
    }
}
