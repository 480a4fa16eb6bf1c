//! The generation counters every instance compares to know that what it prepared is out
//! of date: `catalog_generation` (field definitions, contact types, users: what filters
//! refer to) and `plugin_generation` (the enabled plugins). Bumped in the transaction of
//! the change; read by the segments' book (see `segments::maintain`) and by the filter
//! engine's catalogue (see `filter::catalog`).
//!
//! A request's reads may trust what the instance read of them for [`RECHECK`], as plugin
//! calls trust the instance's view of the plugins (`plugin::registry::RELOAD_CHECK`): a
//! change made by another instance shows here within that time, a change made by this
//! one at once, because it marks [`LocalChanges`] after it commits. Whatever must be
//! exact (the segments' book, rebuilds, the time-relative checks) reads them every time.

use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::Result;
use crate::entities::catalog_generation;

/// Marks a bump of `catalog_generation`: fields, types or users changed, so the segment
/// filters every instance holds prepared must be prepared again.
pub async fn catalog_changed(db: &impl ConnectionTrait) -> Result<()> {
    catalog_generation::Entity::update_many()
        .col_expr(
            catalog_generation::Column::Generation,
            Expr::col(catalog_generation::Column::Generation).add(1),
        )
        .filter(catalog_generation::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

/// How long an instance trusts what it read of the generations before it reads them
/// again, for a request's reads.
pub const RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// Changes of the generations (or of what the catalogue is read from) that this process
/// made, counted: what it kept is stale the moment the count moves.
#[derive(Debug, Default)]
pub struct LocalChanges(AtomicU64);

impl LocalChanges {
    /// Marks a change this process committed.
    pub fn mark(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    /// How many changes were marked.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
