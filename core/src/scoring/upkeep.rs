//! Scores kept current by writes: the models compiled once per instance (a [`Book`],
//! checked against the stored models and the catalogue generations before every write),
//! and the write's rescore of the contacts it touched, inside its transaction.
//!
//! The facade runs this hook before the segments' (`facade/upkeep.rs`), so the in-memory
//! evaluation of a segment on `score_band.fit` reads the band this write just decided.
//!
//! A criterion that fails inside a write does not fail the write: the model keeps its
//! scores for the contacts of this write, is marked `needs_attention` with the reason (by
//! a task of its own, after the write lets go of the database), and is left out of
//! upkeep until a rescore succeeds.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::Value as Json;

use super::compute::{Scored, Scorer};
use super::model::{self, Checked, ModelKind};
use super::read::{Reads, Which, read_records};
use super::{NEEDS_ATTENTION, Scoring};
use crate::Result;
use crate::contacts::ContactKind;
use crate::entities::{contact_scores, score_events, scoring_models};
use crate::filter::Catalog;
use crate::filter::memory::Record;
use crate::plugin::CallContext;

/// One model, compiled.
#[derive(Debug)]
pub struct Compiled {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub kind: ModelKind,
    pub checked: Checked,
}

/// The models an instance keeps current on writes, and what they were compiled from.
#[derive(Debug)]
pub struct Book {
    stamp: Stamp,
    pub catalog: Catalog,
    pub models: Vec<Compiled>,
    /// What the models' parameters read of a contact, together.
    pub(crate) reads: Reads,
}

/// The catalogue and plugin generations and every model's `(id, version, status)`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    generations: (i64, i64),
    models: Vec<(i64, i64, String)>,
}

async fn read_stamp(db: &impl ConnectionTrait) -> Result<Stamp> {
    let generations = crate::filter::catalog::read_generations(db).await?;
    let models = scoring_models::Entity::find()
        .select_only()
        .column(scoring_models::Column::Id)
        .column(scoring_models::Column::Version)
        .column(scoring_models::Column::Status)
        .order_by_asc(scoring_models::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(Stamp { generations, models })
}

/// The hook of one write: the book that was current when it began.
pub struct ScoreHook {
    pub(crate) scoring: Scoring,
    pub(crate) book: Option<Arc<Book>>,
}

impl ScoreHook {
    /// Rescores contacts `ids` as `txn` sees them, under every model in the book.
    pub async fn written(&self, txn: &DatabaseTransaction, ids: &[i64]) -> Result<()> {
        let Some(book) = &self.book else { return Ok(()) };
        for chunk in ids.chunks(500) {
            let records = read_records(txn, &book.reads, Which::Ids(chunk)).await?;
            for compiled in &book.models {
                let (of_kind, others): (Vec<&Record>, Vec<&Record>) =
                    records.iter().partition(|r| kind_of(r.contact.kind) == compiled.kind);
                if !others.is_empty() {
                    // A person who became a company (or the other way) leaves the model.
                    contact_scores::Entity::delete_many()
                        .filter(contact_scores::Column::ModelId.eq(compiled.id))
                        .filter(contact_scores::Column::ContactId.is_in(others.iter().map(|r| r.contact.id)))
                        .exec(txn)
                        .await?;
                }
                if of_kind.is_empty() {
                    continue;
                }
                let of_kind: Vec<Record> = of_kind.into_iter().cloned().collect();
                let scorer = Scorer {
                    plugins: &self.scoring.plugins,
                    catalog: &book.catalog,
                    now: self.scoring.base.clock.now(),
                    ctx: CallContext::Write,
                };
                match scorer.score(txn, &compiled.checked, &of_kind).await {
                    Ok(scored) => {
                        let at = crate::clock::stored(self.scoring.base.clock.now());
                        store_scores(txn, compiled.id, &scored, at, true).await?;
                    }
                    Err(
                        e @ (crate::Error::Plugin { .. } | crate::Error::Validation { .. } | crate::Error::Invalid(_)),
                    ) => {
                        self.scoring.mark_needs_attention_later(compiled.id, e.to_string());
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn kind_of(kind: ContactKind) -> ModelKind {
    match kind {
        ContactKind::Person => ModelKind::Person,
        ContactKind::Company => ModelKind::Company,
    }
}

/// Writes `scored` for `model`: rows that changed are upserted, and with `events`, band
/// changes of contacts that had a band are recorded. Answers how many rows changed.
pub(crate) async fn store_scores(
    db: &impl ConnectionTrait,
    model: i64,
    scored: &[Scored],
    at: chrono::DateTime<chrono::Utc>,
    events: bool,
) -> Result<Vec<i64>> {
    if scored.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = scored.iter().map(|s| s.contact_id).collect();
    let mut before: HashMap<i64, (f64, String, Json)> = HashMap::new();
    let select = || {
        contact_scores::Entity::find()
            .select_only()
            .column(contact_scores::Column::ContactId)
            .column(contact_scores::Column::Score)
            .column(contact_scores::Column::Band)
            .column(contact_scores::Column::Points)
            .filter(contact_scores::Column::ModelId.eq(model))
    };
    let rows: Vec<(i64, f64, String, Json)> = match (ids.iter().min(), ids.iter().max()) {
        // A rescore's chunk (ids in order): one range of the primary key, the rows of
        // other contacts in it dropped below. A long `IN`
        // list is read against every row of the model on PostgreSQL (a generic plan
        // over a parameter array: 0.4-0.5 s a chunk of 1,000 at 90,000 scores).
        (Some(&low), Some(&high)) if ids.len() > 100 => {
            select()
                .filter(contact_scores::Column::ContactId.between(low, high))
                .into_tuple()
                .all(db)
                .await?
        }
        _ => {
            select()
                .filter(contact_scores::Column::ContactId.is_in(ids.clone()))
                .into_tuple()
                .all(db)
                .await?
        }
    };
    let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
    for (id, score, band, points) in rows {
        if wanted.contains(&id) {
            before.insert(id, (score, band, points));
        }
    }
    let mut upserts = Vec::new();
    let mut moves = Vec::new();
    let mut changed = Vec::new();
    for s in scored {
        let points = Json::from(s.points.clone());
        match before.get(&s.contact_id) {
            Some((score, band, p)) if *score == s.score && *band == s.band && *p == points => continue,
            Some((_, band, _)) if *band != s.band => moves.push(score_events::ActiveModel {
                model_id: Set(model),
                contact_id: Set(s.contact_id),
                from_band: Set(Some(band.clone())),
                to_band: Set(Some(s.band.clone())),
                score: Set(Some(s.score)),
                at: Set(at),
                ..Default::default()
            }),
            _ => {}
        }
        changed.push(s.contact_id);
        upserts.push(contact_scores::ActiveModel {
            model_id: Set(model),
            contact_id: Set(s.contact_id),
            score: Set(s.score),
            band: Set(s.band.clone()),
            points: Set(points),
            computed_at: Set(at),
        });
    }
    // 6 values a row: 1,000 rows stay under SQLite's and PostgreSQL's bind limits.
    let mut rows = upserts.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<_> = rows.by_ref().take(1000).collect();
        contact_scores::Entity::insert_many(batch)
            .on_conflict(
                OnConflict::columns([contact_scores::Column::ModelId, contact_scores::Column::ContactId])
                    .update_columns([
                        contact_scores::Column::Score,
                        contact_scores::Column::Band,
                        contact_scores::Column::Points,
                        contact_scores::Column::ComputedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    if events && !moves.is_empty() {
        let mut rows = moves.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: Vec<_> = rows.by_ref().take(1000).collect();
            score_events::Entity::insert_many(batch)
                .exec_without_returning(db)
                .await?;
        }
    }
    Ok(changed)
}

impl Scoring {
    /// The book for the models as they are now, compiled again if they or the catalogue
    /// changed. `None` when no model is kept current by writes.
    pub(crate) async fn current_book(&self) -> Result<Option<Arc<Book>>> {
        let stamp = read_stamp(&self.base.db).await?;
        if stamp.models.is_empty() {
            return Ok(None);
        }
        let mut slot = self.state.book.lock().await;
        if let Some(book) = slot.as_ref()
            && book.stamp == stamp
        {
            return Ok(Some(book.clone()));
        }
        let catalog = self.filter.current_catalog().await?;
        let criteria = self.plugins.criteria().await?;
        let rows = scoring_models::Entity::find()
            .filter(scoring_models::Column::Status.ne(NEEDS_ATTENTION))
            .order_by_asc(scoring_models::Column::Id)
            .all(&self.base.db)
            .await?;
        let mut models = Vec::new();
        for m in rows {
            // A model that no longer checks (a field deleted, a plugin disabled) is left
            // out: the worker's health check marks it.
            let Ok(parsed) = model::parse(&m.definition) else {
                continue;
            };
            let Ok(checked) = model::check(&parsed, &catalog, &criteria) else {
                continue;
            };
            models.push(Compiled {
                id: m.id,
                key: m.key,
                name: m.name,
                kind: ModelKind::parse(&m.kind).unwrap_or(ModelKind::Person),
                checked,
            });
        }
        let reads = models
            .iter()
            .fold(Reads::default(), |all, m| all.union(&Reads::of(&m.checked, &catalog)));
        let book = Arc::new(Book {
            stamp,
            catalog,
            models,
            reads,
        });
        *slot = Some(book.clone());
        Ok(Some(book))
    }

    /// The hook for a write that begins now.
    pub async fn write_hook(&self) -> Result<ScoreHook> {
        Ok(ScoreHook {
            scoring: self.clone(),
            book: self.current_book().await?,
        })
    }

    /// Marks model `id` as needing attention once the database lets us (a write's
    /// transaction may be holding it).
    pub(crate) fn mark_needs_attention_later(&self, id: i64, why: String) {
        let scoring = self.clone();
        tokio::spawn(async move {
            if let Err(e) = scoring.mark_needs_attention(id, &why).await {
                tracing::warn!(model = id, error = %e, "could not mark the scoring model as needing attention");
            }
        });
    }

    pub(crate) async fn mark_needs_attention(&self, id: i64, why: &str) -> Result<()> {
        use sea_orm::sea_query::Expr;
        scoring_models::Entity::update_many()
            .col_expr(scoring_models::Column::Status, Expr::value(NEEDS_ATTENTION))
            .col_expr(scoring_models::Column::StatusMessage, Expr::value(why))
            .col_expr(
                scoring_models::Column::LeaseUntil,
                Expr::value(None::<chrono::DateTime<chrono::Utc>>),
            )
            .filter(scoring_models::Column::Id.eq(id))
            .exec(&self.base.db)
            .await?;
        Ok(())
    }
}
