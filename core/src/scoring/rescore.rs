//! Full rescores as jobs, and the worker that runs them.
//!
//! The job is the model's row, as a segment rebuild is the segment's
//! ([`crate::segments::jobs`]): `status = 'rescoring'` asks for it, `lease_until` says an
//! instance runs it (renewed after every chunk; an expired lease means the instance is
//! gone and another takes over), `progress_done` of `progress_total` shows how far it
//! got. A model over at most [`INLINE_LIMIT`] contacts of its kind is rescored in the
//! request that saved it, through the same claim.
//!
//! ## A chunk
//!
//! Contacts are taken in id order, [`CHUNK`] at a time, each chunk in a transaction begun
//! like a contact write (SQLite's writer queue, the segments' shared locks), with the
//! contacts' rows held `FOR SHARE` on PostgreSQL: a write of one of them waits for the
//! chunk or the chunk for it, so the score stored is always computed from the row as it
//! is (a chunk that read a contact before a write and stored after it would undo the
//! write's rescore). Only rows whose score, band or points changed are written, band
//! changes are recorded, and the dynamic segments are maintained for the contacts whose
//! scores changed, in the same transaction: a segment on a band is current after every
//! chunk, not at the end.
//!
//! Alternatives considered: one `UPDATE ... SET score = CASE ...` per model in SQL (the
//! baseline of the benchmark): fast, but the criteria are plugins, which SQL can't call;
//! lowering criteria to SQL as filter operators are would make plugins authors write two
//! halves for every criterion. One transaction for the whole base: simple, but it would
//! hold SQLite's write lock for the whole rescore.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::compute::Scorer;
use super::model::ModelKind;
use super::read::{Reads, Which, read_records};
use super::upkeep::store_scores;
use super::{NEEDS_ATTENTION, READY, RESCORING, Scoring};
use crate::auth::Actor;
use crate::clock::stored;
use crate::entities::{contacts, scoring_models};
use crate::plugin::CallContext;
use crate::{Error, Result};

/// Models over at most this many contacts of their kind are rescored in the saving
/// request: the segments' limit. At the benchmark's rate (19,000-44,000 people a second
/// for six parameters, BENCHMARKS.md "Scoring") that is about a second; with 200
/// dynamic segments kept current chunk by chunk, about 3 s (14-16 s for 90,909 people).
pub const INLINE_LIMIT: u64 = 20_000;

/// How long a saving request waits for a small base's rescore another instance claimed.
const INLINE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Contacts per chunk (one transaction, one criterion call per parameter).
pub const CHUNK: u64 = 4096;

/// How long a claimed rescore is held without a sign of life.
pub const LEASE: Duration = Duration::seconds(60);

/// How often models whose points change with time alone are rescored, by default.
pub const TIME_RESCORE_EVERY: Duration = Duration::hours(1);

/// What the worker remembers between ticks.
#[derive(Debug, Default)]
pub struct WorkerState {
    checked: Option<(i64, i64)>,
}

impl Scoring {
    /// Asks for a full rescore of model `id` (also of one that needs attention: the way
    /// back once its criterion works again). Admins only.
    pub async fn request_rescore(&self, actor: &Actor, id: i64) -> Result<super::ScoringModel> {
        if !actor.is_admin() {
            return Err(Error::Forbidden("only admins may rescore a scoring model".into()));
        }
        self.model_row(id).await?;
        self.ask(id).await?;
        self.rescore_after_save(id).await?;
        self.get_model(id).await
    }

    async fn ask(&self, id: i64) -> Result<()> {
        scoring_models::Entity::update_many()
            .col_expr(scoring_models::Column::Status, Expr::value(RESCORING))
            .col_expr(scoring_models::Column::StatusMessage, Expr::value(None::<String>))
            .col_expr(scoring_models::Column::ProgressDone, Expr::value(0i64))
            .filter(scoring_models::Column::Id.eq(id))
            .exec(&self.base.db)
            .await?;
        Ok(())
    }

    /// After a save: rescores now when the model's contacts are few, otherwise wakes the
    /// worker.
    pub(crate) async fn rescore_after_save(&self, id: i64) -> Result<()> {
        let m = self.model_row(id).await?;
        let count = contacts::Entity::find()
            .filter(contacts::Column::Kind.eq(m.kind.as_str()))
            .count(&self.base.db)
            .await?;
        if count <= self.state.inline_limit() {
            let started = std::time::Instant::now();
            loop {
                if let Some(m) = self.claim(Some(id)).await? {
                    self.run_rescore(m).await?;
                    break;
                }
                // Another instance holds it (or it is done): wait for a small base.
                let now = self.model_row(id).await?;
                if now.status != RESCORING || started.elapsed() > INLINE_WAIT {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        } else {
            self.state.wake.notify_one();
        }
        Ok(())
    }

    /// The model to rescore next, claimed for this instance.
    async fn claim(&self, only: Option<i64>) -> Result<Option<scoring_models::Model>> {
        let now = stored(self.base.clock.now());
        let free = || {
            sea_orm::Condition::any()
                .add(scoring_models::Column::LeaseUntil.is_null())
                .add(scoring_models::Column::LeaseUntil.lt(now))
        };
        let mut pending = scoring_models::Entity::find()
            .filter(scoring_models::Column::Status.eq(RESCORING))
            .filter(free())
            .order_by_asc(scoring_models::Column::Id);
        if let Some(id) = only {
            pending = pending.filter(scoring_models::Column::Id.eq(id));
        }
        for m in pending.all(&self.base.db).await? {
            let claimed = scoring_models::Entity::update_many()
                .col_expr(scoring_models::Column::LeaseUntil, Expr::value(Some(now + LEASE)))
                .filter(scoring_models::Column::Id.eq(m.id))
                .filter(scoring_models::Column::Status.eq(RESCORING))
                .filter(free())
                .exec(&self.base.db)
                .await?;
            if claimed.rows_affected == 1 {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// Runs every rescore this instance can claim; returns how many ran.
    pub async fn run_pending_rescores(&self) -> Result<usize> {
        let mut ran = 0;
        while let Some(m) = self.claim(None).await? {
            self.run_rescore(m).await?;
            ran += 1;
        }
        Ok(ran)
    }

    /// Rescores every contact of `m`'s kind (see the module docs).
    async fn run_rescore(&self, m: scoring_models::Model) -> Result<()> {
        let checked = match self.check_definition(&m.definition).await {
            Ok(c) => c,
            Err(e) => {
                return self
                    .mark_needs_attention(m.id, &format!("the model no longer checks: {e}"))
                    .await;
            }
        };
        let kind = ModelKind::parse(&m.kind).unwrap_or(ModelKind::Person);
        let total = contacts::Entity::find()
            .filter(contacts::Column::Kind.eq(kind.as_str()))
            .count(&self.base.db)
            .await?;
        self.progress(m.id, 0, total).await?;
        let catalog = self.filter.current_catalog().await?;
        let reads = Reads::of(&checked, &catalog);
        let pg = self.base.db.get_database_backend() == DbBackend::Postgres;
        let mut after = 0i64;
        let mut done = 0u64;
        loop {
            let turn = self.base.writers.enter().await;
            let (txn, book) = self.segments.begin_contact_write().await?;
            let mut ids = contacts::Entity::find()
                .select_only()
                .column(contacts::Column::Id)
                .filter(contacts::Column::Kind.eq(kind.as_str()))
                .filter(contacts::Column::Id.gt(after))
                .order_by_asc(contacts::Column::Id)
                .limit(CHUNK);
            if pg {
                ids = ids.lock_shared();
            }
            let ids: Vec<i64> = ids.into_tuple().all(&txn).await?;
            let Some(&last) = ids.last() else {
                txn.commit().await?;
                break;
            };
            let records = read_records(&txn, &reads, Which::Range { kind, after, last }).await?;
            let n = records.len() as u64;
            let scorer = Scorer {
                plugins: &self.plugins,
                catalog: &catalog,
                now: self.base.clock.now(),
                ctx: CallContext::Write,
            };
            let scored = match scorer.score(&txn, &checked, &records).await {
                Ok(s) => s,
                Err(e @ (Error::Plugin { .. } | Error::Validation { .. } | Error::Invalid(_))) => {
                    txn.rollback().await?;
                    drop(turn);
                    return self.mark_needs_attention(m.id, &e.to_string()).await;
                }
                Err(e) => return Err(e),
            };
            let changed = store_scores(&txn, m.id, &scored, stored(self.base.clock.now()), true).await?;
            if let Some(book) = &book
                && !changed.is_empty()
            {
                self.segments.maintain_memberships(&txn, book, &changed).await?;
            }
            txn.commit().await?;
            drop(turn);
            after = last;
            done += n;
            if !self.progress(m.id, done, total.max(done)).await? {
                // Changed or deleted meanwhile: the next round rescores the new definition.
                return Ok(());
            }
        }
        if pg && done > 0 {
            // A full rescore may have written most of `contact_scores` (all of it, for a new
            // model). Until autovacuum's next analyze, PostgreSQL plans with the statistics
            // from before: the per-write read of a contact's scores ran as a scan of the
            // whole table (12-16 ms at 181,818 scores instead of 0.07 ms), for about a minute
            // after every new model. Analyzing samples 30,000 rows, whatever the size.
            self.base.db.execute_unprepared("ANALYZE contact_scores").await?;
        }
        let now = stored(self.base.clock.now());
        scoring_models::Entity::update_many()
            .col_expr(scoring_models::Column::Status, Expr::value(READY))
            .col_expr(scoring_models::Column::LeaseUntil, Expr::value(None::<DateTime<Utc>>))
            .col_expr(scoring_models::Column::RescoredAt, Expr::value(Some(now)))
            .filter(scoring_models::Column::Id.eq(m.id))
            .filter(scoring_models::Column::Version.eq(m.version))
            .filter(scoring_models::Column::Status.eq(RESCORING))
            .exec(&self.base.db)
            .await?;
        // A newer version asked for another round: let it be claimed again.
        scoring_models::Entity::update_many()
            .col_expr(scoring_models::Column::LeaseUntil, Expr::value(None::<DateTime<Utc>>))
            .filter(scoring_models::Column::Id.eq(m.id))
            .filter(scoring_models::Column::Version.ne(m.version))
            .exec(&self.base.db)
            .await?;
        Ok(())
    }

    /// Writes progress and renews the lease; `false` when the model was changed or
    /// deleted meanwhile (or marked as needing attention).
    async fn progress(&self, id: i64, done: u64, total: u64) -> Result<bool> {
        let now = stored(self.base.clock.now());
        let done = i64::try_from(done).unwrap_or(i64::MAX);
        let total = i64::try_from(total).unwrap_or(i64::MAX);
        let updated = scoring_models::Entity::update_many()
            .col_expr(scoring_models::Column::ProgressDone, Expr::value(done))
            .col_expr(scoring_models::Column::ProgressTotal, Expr::value(total))
            .col_expr(scoring_models::Column::LeaseUntil, Expr::value(Some(now + LEASE)))
            .filter(scoring_models::Column::Id.eq(id))
            .filter(scoring_models::Column::Status.eq(RESCORING))
            .exec(&self.base.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Marks the models whose definition no longer checks (a field deleted, a criterion's
    /// plugin disabled) as needing attention.
    pub async fn check_model_health(&self) -> Result<()> {
        let rows = scoring_models::Entity::find()
            .filter(scoring_models::Column::Status.ne(NEEDS_ATTENTION))
            .all(&self.base.db)
            .await?;
        for m in rows {
            if let Err(e) = self.check_definition(&m.definition).await {
                if matches!(e, Error::Validation { .. } | Error::Invalid(_)) {
                    self.mark_needs_attention(m.id, &format!("the model no longer checks: {e}"))
                        .await?;
                } else {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Asks for a rescore of the time-dependent models last rescored longer ago than the
    /// schedule says.
    pub async fn schedule_time_rescores(&self) -> Result<u64> {
        let due = stored(self.base.clock.now() - self.state.time_rescore_every());
        let asked = scoring_models::Entity::update_many()
            .col_expr(scoring_models::Column::Status, Expr::value(RESCORING))
            .col_expr(scoring_models::Column::ProgressDone, Expr::value(0i64))
            .filter(scoring_models::Column::TimeDependent.eq(true))
            .filter(scoring_models::Column::Status.eq(READY))
            .filter(
                sea_orm::Condition::any()
                    .add(scoring_models::Column::RescoredAt.is_null())
                    .add(scoring_models::Column::RescoredAt.lt(due)),
            )
            .exec(&self.base.db)
            .await?;
        Ok(asked.rows_affected)
    }

    /// One round of the worker: the health check when the catalogue or the plugins
    /// changed, the time schedule, then the pending rescores.
    pub async fn scoring_tick(&self, state: &mut WorkerState) -> Result<()> {
        let generations = crate::filter::catalog::read_generations(&self.base.db).await?;
        if state.checked != Some(generations) {
            self.check_model_health().await?;
            state.checked = Some(generations);
        }
        self.schedule_time_rescores().await?;
        self.run_pending_rescores().await?;
        Ok(())
    }

    /// The background worker: a tick every `poll` and whenever this instance asks for a
    /// rescore. Runs until the task is dropped.
    pub async fn run_scoring_worker(self, poll: std::time::Duration) {
        let mut state = WorkerState::default();
        loop {
            if let Err(e) = self.scoring_tick(&mut state).await {
                tracing::warn!(error = %e, "scoring worker");
            }
            tokio::select! {
                () = self.state.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}
