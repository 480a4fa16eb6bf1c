//! Rebuilding segments as jobs: after a definition change, when a broken segment can be
//! evaluated again, and when a time-relative segment's check ([`super::recheck`]) can't
//! bound what moved. The worker here also runs those checks on their schedule.
//!
//! The job is the segment row itself: `status = 'rebuilding'` asks for a rebuild,
//! `lease_until` says an instance is running it (renewed as it goes; an expired lease
//! means that instance is gone, and any other instance takes the job over), and
//! `progress_done` of `progress_total` candidates shows how far it got. A worker per
//! instance ([`Segments::run_segment_worker`]) claims pending rebuilds with a conditional
//! `UPDATE` (only one instance's update matches), runs them, and ticks the schedule.
//!
//! A definition over at most [`INLINE_LIMIT`] contacts (changeable per instance with
//! [`super::maintain::SegmentState::set_inline_limit`]) is built in the request that
//! saved it, through the same claim, so small bases see the result at once.
//!
//! ## The rebuild
//!
//! - Without residuals the filter is exact in SQL and the rebuild is set-based, inside
//!   one transaction that holds the segment's row lock (see `rebuild_exact`).
//! - With residuals, the filter's candidate walk ([`crate::filter::walk`]) decides the
//!   candidates by id outside any transaction (progress is written after each chunk),
//!   and only the end runs under the segment's lock: the contacts written or given
//!   activities since the walk began (read from `contact_events` and `activities` ids
//!   above marks taken before it) are decided again, and the result is
//!   diffed against the stored members. Writes that happened during the walk maintained
//!   the segment themselves; under the lock, no write can start until the rebuild ends.
//!
//! When the members changed, the segments defined in terms of this one are asked to
//! rebuild too. When the definition changed again meanwhile, the segment stays
//! `rebuilding` and the next round builds the newer definition.
//!
//! A segment whose filter can't be prepared any more (its plugin disabled or removed, a
//! field deleted) is marked `needs_attention` with the reason and keeps its members;
//! the worker checks after every change of fields, types, users or plugins, and asks for
//! a rebuild once the filter works again.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};

use super::Segments;
use super::recheck::{Evaluated, generations, marks, written_since};
use super::{NEEDS_ATTENTION, Rebuilt, SegmentKind, lock, rebuild_exact, record, segment_refs};
use crate::Result;
use crate::clock::stored;
use crate::entities::{contact_types, contacts, segment_members, segments};
use crate::filter::Walk;

/// Definitions over at most this many contacts are built in the saving request.
pub const INLINE_LIMIT: u64 = 20_000;

/// How long a saving request waits for a small base's rebuild that a worker claimed.
const INLINE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How many memberships a rebuild moves before the membership tables' statistics are
/// refreshed: a bulk change, like a load (each later write moves a few).
pub const STATISTICS_AFTER: u64 = 10_000;

/// ... and at least one in this many of the rows the statistics last counted, as
/// PostgreSQL's autovacuum asks (`autovacuum_analyze_scale_factor`, a tenth): a large
/// build into tables that already hold millions of memberships changes their statistics
/// little, and on PostgreSQL each refresh samples them (`ANALYZE` of two such tables of
/// 1,040,000 rows: 113-134 ms, BENCHMARKS.md). Whether it shortens creating many
/// segments is not shown: on SQLite, whose refresh is bounded, it did not.
pub const STATISTICS_SHARE: u64 = 10;

/// How long a claimed rebuild is held without a sign of life.
pub const LEASE: Duration = Duration::seconds(60);

/// How often time-relative segments are evaluated again, by default.
pub const TIME_CHECK_EVERY: Duration = Duration::minutes(5);

/// Asks for a rebuild of segment `id` (not of one that needs attention).
pub(crate) async fn request(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    ask(db, id, segments::Column::Status.ne(NEEDS_ATTENTION)).await
}

/// Asks for a rebuild of segment `id` if it is `ok` (a time-relative check that can't
/// bound what moved, [`super::recheck`]).
pub(crate) async fn request_ok(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    ask(db, id, segments::Column::Status.eq("ok")).await
}

async fn ask(db: &impl ConnectionTrait, id: i64, when: sea_orm::sea_query::SimpleExpr) -> Result<()> {
    segments::Entity::update_many()
        .col_expr(segments::Column::Status, Expr::value("rebuilding"))
        .col_expr(segments::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(segments::Column::ProgressDone, Expr::value(0i64))
        .col_expr(segments::Column::ProgressTotal, Expr::value(0i64))
        .filter(segments::Column::Id.eq(id))
        .filter(when)
        .exec(db)
        .await?;
    Ok(())
}

/// What the worker remembers between ticks.
#[derive(Debug, Default)]
pub struct WorkerState {
    /// The generations the last health check saw.
    checked: Option<(i64, i64)>,
    /// When time-relative segments were last checked (the interval is read each tick,
    /// so a changed one applies at once).
    last_time_check: Option<DateTime<Utc>>,
}

impl Segments {
    /// The segment to rebuild next, claimed for this instance; segments whose references
    /// are still pending wait for them.
    async fn claim(&self, only: Option<i64>) -> Result<Option<segments::Model>> {
        let now = stored(self.base.clock.now());
        let free = || {
            sea_orm::Condition::any()
                .add(segments::Column::LeaseUntil.is_null())
                .add(segments::Column::LeaseUntil.lt(now))
        };
        let mut pending = segments::Entity::find()
            .filter(segments::Column::Status.eq("rebuilding"))
            .filter(free())
            .order_by_asc(segments::Column::Id);
        if let Some(id) = only {
            pending = pending.filter(segments::Column::Id.eq(id));
        }
        let pending = pending.all(&self.base.db).await?;
        let waiting: HashSet<i64> = pending.iter().map(|m| m.id).collect();
        let ready = |m: &segments::Model| {
            let mut to = Vec::new();
            if let Some(f) = &m.filter {
                segment_refs(f, "", &mut to);
            }
            !to.iter().any(|(_, r)| *r != m.id && waiting.contains(r))
        };
        let (first, then): (Vec<_>, Vec<_>) = pending.into_iter().partition(ready);
        for m in first.into_iter().chain(then) {
            let claimed = segments::Entity::update_many()
                .col_expr(segments::Column::LeaseUntil, Expr::value(Some(now + LEASE)))
                .filter(segments::Column::Id.eq(m.id))
                .filter(segments::Column::Status.eq("rebuilding"))
                .filter(free())
                .exec(&self.base.db)
                .await?;
            if claimed.rows_affected == 1 {
                return Ok(Some(m));
            }
        }
        Ok(None)
    }

    /// Runs every rebuild this instance can claim; returns how many ran.
    pub async fn run_pending_rebuilds(&self) -> Result<usize> {
        let mut ran = 0;
        while let Some(m) = self.claim(None).await? {
            self.run_rebuild(m).await?;
            ran += 1;
        }
        Ok(ran)
    }

    /// Builds segment `id` now if no other instance holds it (the saving request's path).
    pub(crate) async fn rebuild_now(&self, id: i64) -> Result<()> {
        if let Some(m) = self.claim(Some(id)).await? {
            return self.run_rebuild(m).await;
        }
        // A worker (here or on another instance) got to it first: on a small base it is
        // done in moments, and the saving request answers with the result.
        let waiting = std::time::Instant::now();
        while waiting.elapsed() < INLINE_WAIT {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            let status = segments::Entity::find_by_id(id)
                .select_only()
                .column(segments::Column::Status)
                .into_tuple::<String>()
                .one(&self.base.db)
                .await?;
            if status.as_deref() != Some("rebuilding") {
                break;
            }
        }
        Ok(())
    }

    /// Builds a claimed segment (see the module docs).
    async fn run_rebuild(&self, m: segments::Model) -> Result<()> {
        let id = m.id;
        let Some(filter) = m.filter.filter(|_| m.kind == SegmentKind::Dynamic.as_str()) else {
            return self.finish(id, m.version, None).await;
        };
        // The generations the catalogue was read at: if they moved while it was built,
        // the stored evaluation is older than the plan, and the next check rebuilds again.
        let (prepared, (catalog, plugins)) = match self.prepare_segment_filter_at(Some(id), &filter).await {
            Ok(p) => p,
            Err(e) => return self.needs_attention(id, &e.to_string()).await,
        };
        // What the members are decided against, with the marks read under the lock.
        let evaluated = |(events, activities): (i64, i64)| Evaluated {
            at: prepared.plan.now,
            catalog,
            plugins,
            events,
            activities,
        };
        let condition = prepared.condition(self.base.db.get_database_backend());
        if !prepared.has_residual() {
            let txn = self.base.db.begin().await?;
            lock(&txn, id).await?;
            let done = evaluated(marks(&txn).await?);
            let rebuilt = rebuild_exact(&txn, id, condition, stored(self.base.clock.now())).await?;
            self.finish_in(&txn, id, m.version, Some(rebuilt), Some(done)).await?;
            txn.commit().await?;
            return self.after_rebuild(rebuilt).await;
        }
        let (events_mark, activities_mark) = marks(&self.base.db).await?;
        let total = contacts::Entity::find()
            .filter(condition.clone())
            .count(&self.base.db)
            .await?;
        self.progress(id, 0, total).await?;
        let mut matches = HashSet::new();
        let mut done = 0u64;
        let mut walk = Walk::by_id(&self.filter, &prepared, condition.clone()).ids_only();
        while let Some(chunk) = walk.next().await? {
            matches.extend(chunk.matching_ids());
            done += chunk.len() as u64;
            self.progress(id, done, Ord::max(total, done)).await?;
        }
        let txn = self.base.db.begin().await?;
        lock(&txn, id).await?;
        // Contacts written since the walk began are decided again, as they are now.
        let done = evaluated(marks(&txn).await?);
        let changed = written_since(&txn, events_mark, activities_mark).await?;
        matches.retain(|c| !changed.contains(c));
        let changed: Vec<i64> = changed.into_iter().collect();
        for ids in changed.chunks(500) {
            matches.extend(self.matching_among(&txn, &prepared, &condition, ids).await?);
        }
        let old: HashSet<i64> = segment_members::Entity::find()
            .select_only()
            .column(segment_members::Column::ContactId)
            .filter(segment_members::Column::SegmentId.eq(id))
            .into_tuple::<i64>()
            .all(&txn)
            .await?
            .into_iter()
            .collect();
        let mut joined: Vec<i64> = matches.difference(&old).copied().collect();
        let mut left: Vec<i64> = old.difference(&matches).copied().collect();
        joined.sort_unstable();
        left.sort_unstable();
        record(&txn, id, &joined, &left, stored(self.base.clock.now())).await?;
        let rebuilt = Rebuilt {
            joined: joined.len() as u64,
            left: left.len() as u64,
        };
        self.finish_in(&txn, id, m.version, Some(rebuilt), Some(done)).await?;
        txn.commit().await?;
        self.after_rebuild(rebuilt).await
    }

    /// Which of `ids` match `prepared` exactly as `txn` sees them: `condition` (the
    /// prepared filter's) in SQL, then the residuals' plugins on what it keeps.
    pub(super) async fn matching_among(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        prepared: &crate::filter::Prepared,
        condition: &sea_orm::Condition,
        ids: &[i64],
    ) -> Result<HashSet<i64>> {
        let found = contacts::Entity::find()
            .filter(condition.clone())
            .filter(contacts::Column::Id.is_in(ids.to_vec()));
        if !prepared.has_residual() {
            return Ok(found
                .select_only()
                .column(contacts::Column::Id)
                .into_tuple::<i64>()
                .all(txn)
                .await?
                .into_iter()
                .collect());
        }
        let candidates = found
            .find_also_related(contact_types::Entity)
            .all(txn)
            .await?
            .into_iter()
            .map(crate::contacts::to_contact)
            .collect::<Result<Vec<_>>>()?;
        let keep = self.filter.decide_candidates(prepared, &candidates).await?;
        Ok(candidates
            .iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(c, _)| c.id)
            .collect())
    }

    /// After a rebuild that moved at least [`STATISTICS_AFTER`] memberships (or what
    /// [`super::maintain::SegmentState::set_statistics_after`] set), and a tenth of the
    /// rows the last statistics counted ([`STATISTICS_SHARE`]), the planner's statistics
    /// of the membership tables, which filters on segments join (see
    /// [`crate::filter::indexes::analyze`]).
    pub(super) async fn after_rebuild(&self, rebuilt: Rebuilt) -> Result<()> {
        let moved = rebuilt.joined + rebuilt.left;
        if moved < self.state.statistics_after() {
            return Ok(());
        }
        let counted = crate::filter::indexes::analysed_rows(&self.base.db, "segment_members").await?;
        if counted.is_none_or(|rows| moved * STATISTICS_SHARE >= rows) {
            crate::filter::indexes::analyze(
                &self.base.db,
                &["segment_members", "segment_events"],
                Some(crate::filter::indexes::SQLITE_ANALYSIS_LIMIT),
            )
            .await?;
        }
        Ok(())
    }

    /// Writes a rebuild's progress and renews its lease.
    async fn progress(&self, id: i64, done: u64, total: u64) -> Result<()> {
        let until = stored(self.base.clock.now()) + LEASE;
        segments::Entity::update_many()
            .col_expr(segments::Column::ProgressDone, Expr::value(done as i64))
            .col_expr(segments::Column::ProgressTotal, Expr::value(total as i64))
            .col_expr(segments::Column::LeaseUntil, Expr::value(Some(until)))
            .filter(segments::Column::Id.eq(id))
            .exec(&self.base.db)
            .await?;
        Ok(())
    }

    async fn finish(&self, id: i64, built: i64, rebuilt: Option<Rebuilt>) -> Result<()> {
        let txn = self.base.db.begin().await?;
        self.finish_in(&txn, id, built, rebuilt, None).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Ends a rebuild of version `built`, which decided the members against `evaluated`:
    /// `ok`, unless the definition changed meanwhile; dependants are asked to rebuild when
    /// members moved.
    pub(super) async fn finish_in(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        id: i64,
        built: i64,
        rebuilt: Option<Rebuilt>,
        evaluated: Option<Evaluated>,
    ) -> Result<()> {
        let current = segments::Entity::find_by_id(id).one(txn).await?;
        let Some(current) = current else { return Ok(()) };
        let status = if current.version == built && current.status == "rebuilding" {
            "ok"
        } else {
            current.status.as_str()
        };
        let evaluated = evaluated.filter(|_| current.version == built).map(|e| e.to_json());
        segments::Entity::update_many()
            .col_expr(segments::Column::Status, Expr::value(status))
            .col_expr(segments::Column::Evaluated, Expr::value(evaluated))
            .col_expr(segments::Column::StatusMessage, Expr::value(Option::<String>::None))
            .col_expr(segments::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(
                segments::Column::ProgressDone,
                Expr::col(segments::Column::ProgressTotal),
            )
            .filter(segments::Column::Id.eq(id))
            .exec(txn)
            .await?;
        if rebuilt.is_some_and(|r| r.joined + r.left > 0) {
            for dependant in self.dependants(txn, id).await? {
                request(txn, dependant).await?;
            }
            self.state.wake.notify_one();
        }
        Ok(())
    }

    /// The segments whose filters refer to `id`.
    async fn dependants(&self, db: &impl ConnectionTrait, id: i64) -> Result<Vec<i64>> {
        Ok(segments::Entity::find()
            .filter(segments::Column::Id.ne(id))
            .filter(segments::Column::Filter.is_not_null())
            .all(db)
            .await?
            .into_iter()
            .filter(|m| {
                let mut to = Vec::new();
                if let Some(f) = &m.filter {
                    segment_refs(f, "", &mut to);
                }
                to.iter().any(|(_, r)| *r == id)
            })
            .map(|m| m.id)
            .collect())
    }

    /// Marks segment `id` as needing attention, keeping its members.
    async fn needs_attention(&self, id: i64, why: &str) -> Result<()> {
        let message = format!("its filter can't be evaluated: {why}; it keeps its last members until it is fixed");
        segments::Entity::update_many()
            .col_expr(segments::Column::Status, Expr::value(NEEDS_ATTENTION))
            .col_expr(segments::Column::StatusMessage, Expr::value(Some(message)))
            .col_expr(segments::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(segments::Column::Id.eq(id))
            .exec(&self.base.db)
            .await?;
        Ok(())
    }

    /// Marks the dynamic segments whose filters can't be prepared as needing attention,
    /// and asks for a rebuild of those that work again.
    pub async fn check_segment_health(&self) -> Result<()> {
        let rows = segments::Entity::find()
            .filter(segments::Column::Kind.eq(SegmentKind::Dynamic.as_str()))
            .all(&self.base.db)
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let catalog = self.filter.current_catalog().await?;
        let mut repaired = false;
        for m in rows {
            let Some(filter) = &m.filter else { continue };
            match self.filter.prepare_with(filter, catalog.clone()).await {
                Err(e) if m.status != NEEDS_ATTENTION => self.needs_attention(m.id, &e.to_string()).await?,
                Ok(_) if m.status == NEEDS_ATTENTION => {
                    segments::Entity::update_many()
                        .col_expr(segments::Column::Status, Expr::value("rebuilding"))
                        .col_expr(segments::Column::StatusMessage, Expr::value(Option::<String>::None))
                        .col_expr(segments::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                        .filter(segments::Column::Id.eq(m.id))
                        .filter(segments::Column::Status.eq(NEEDS_ATTENTION))
                        .exec(&self.base.db)
                        .await?;
                    repaired = true;
                }
                _ => {}
            }
        }
        if repaired {
            self.state.wake.notify_one();
        }
        Ok(())
    }

    /// One round of the worker: the health check when the catalogue or the plugins
    /// changed, the time-relative schedule when due, then the pending rebuilds.
    pub async fn segment_tick(&self, state: &mut WorkerState) -> Result<()> {
        let generations = generations(&self.base.db).await?;
        if state.checked != Some(generations) {
            self.check_segment_health().await?;
            state.checked = Some(generations);
        }
        let time_every = self.state.time_check_every();
        let now = self.base.clock.now();
        match state.last_time_check {
            None => state.last_time_check = Some(now),
            Some(last) if now >= last + time_every => {
                self.recheck_time_relative_segments().await?;
                state.last_time_check = Some(now);
            }
            Some(_) => {}
        }
        self.run_pending_rebuilds().await?;
        Ok(())
    }

    /// The background worker: a tick every `poll` and whenever this instance asks for a
    /// rebuild. Runs until the task is dropped.
    pub async fn run_segment_worker(self, poll: std::time::Duration) {
        let mut state = WorkerState::default();
        loop {
            if let Err(e) = self.segment_tick(&mut state).await {
                tracing::warn!(error = %e, "segment worker");
            }
            tokio::select! {
                () = self.state.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}
