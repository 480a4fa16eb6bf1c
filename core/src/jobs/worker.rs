//! The worker: claim a job with a lease, walk its targets in keyset batches, call the
//! plugin once per batch, commit each batch with its checkpoint.
//!
//! - Claiming: on PostgreSQL the next claimable job is locked with `FOR UPDATE SKIP
//!   LOCKED` (two instances never wait on each other or pick the same job) and leased in
//!   the same transaction; on SQLite, with one writer at a time, a conditional `UPDATE`
//!   (still unleased, or the lease expired) decides which instance got it.
//! - The lease ([`LEASE`] unless [`super::Jobs::set_lease`] changed it) is renewed by every committed batch and before each plugin
//!   call that comes late; an expired lease means the instance is gone, and any other
//!   takes the job over from its checkpoint.
//! - A batch the plugin fails on (a trap, a timeout, a refusal of some contact's data) is
//!   tried once more after [`RETRY_AFTER`], then split in halves until the contacts that
//!   fail are alone: those are recorded as failed with the plugin's reason, the others go
//!   on. A failing plugin never fails the job, nor the server.
//! - A job whose action can't run any more (its plugin disabled, removed, or without the
//!   action) is paused with the reason; [`super::Jobs::resume`] queues it again.

use std::collections::HashMap;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use sea_orm::sea_query::{Expr, Func, LockBehavior, LockType};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait};

use super::apply::{Batch, Committed, Decided};
use super::{JobState, Jobs, action_contact};
use crate::auth::{Actor, Role};
use crate::clock::stored;
use crate::entities::{job_targets, jobs};
use crate::plugin::CallContext;
use crate::plugin::values::{ActionContact, Effect};
use crate::{Error, Result};

/// Targets per batch: one plugin call each.
pub const BATCH: u64 = 500;

/// How long a claimed job is held without a sign of life.
pub const LEASE: Duration = Duration::seconds(60);

/// How long a failed batch waits before it is tried again.
pub const RETRY_AFTER: StdDuration = StdDuration::from_millis(250);

/// The states a worker takes a job in.
const CLAIMABLE: [&str; 3] = ["queued", "running", "cancelling"];

/// The reader of targets: they were checked against the starter's visibility when they
/// were frozen.
fn engine_reader() -> Actor {
    Actor {
        user_id: 0,
        email: String::new(),
        role: Role::Admin,
    }
}

/// How the walk of one job ended.
enum Walked {
    /// Every target has an outcome, or the job was cancelled or paused.
    Ended,
    /// Another instance holds the job now.
    LostLease,
}

impl Jobs {
    /// Runs jobs until the process ends: claims the next one, runs it to its end, and
    /// waits for a wake-up or `poll` when there is none.
    pub async fn run_job_worker(self, poll: StdDuration) {
        loop {
            match self.work_once(None).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "job worker"),
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Claims one job (job `only`, when given) and runs it until it ends or this instance
    /// loses it: whether there was one to claim.
    pub async fn work_once(&self, only: Option<i64>) -> Result<bool> {
        let Some(job) = self.claim(only).await? else {
            return Ok(false);
        };
        let id = job.id;
        match self.walk(job).await {
            Ok(Walked::Ended) => {}
            Ok(Walked::LostLease) => tracing::info!(job = id, "job taken over by another instance"),
            Err(e) => {
                // Not the plugin's fault (the database failed): the lease runs out and a
                // worker takes the job up again from its checkpoint.
                tracing::warn!(job = id, error = %e, "job interrupted");
                return Err(e);
            }
        }
        Ok(true)
    }

    /// The next claimable job, leased to this instance.
    async fn claim(&self, only: Option<i64>) -> Result<Option<jobs::Model>> {
        let now = stored(self.base.clock.now());
        let free = || {
            sea_orm::Condition::any()
                .add(jobs::Column::LeaseUntil.is_null())
                .add(jobs::Column::LeaseUntil.lt(now))
        };
        let mut candidates = jobs::Entity::find()
            .filter(jobs::Column::State.is_in(CLAIMABLE))
            .filter(free())
            .order_by_asc(jobs::Column::Id);
        if let Some(id) = only {
            candidates = candidates.filter(jobs::Column::Id.eq(id));
        }
        let lease = |update: sea_orm::UpdateMany<jobs::Entity>| {
            update
                .col_expr(jobs::Column::LeaseOwner, Expr::value(self.instance.to_string()))
                .col_expr(jobs::Column::LeaseUntil, Expr::value(Some(now + self.lease())))
                .col_expr(
                    jobs::Column::StartedAt,
                    Expr::from(Func::coalesce([Expr::col(jobs::Column::StartedAt), Expr::value(now)])),
                )
                .col_expr(
                    jobs::Column::State,
                    Expr::case(jobs::Column::State.eq("queued"), "running")
                        .finally(Expr::col(jobs::Column::State))
                        .into(),
                )
        };
        if self.base.db.get_database_backend() == DbBackend::Postgres {
            let txn = self.base.db.begin().await?;
            let picked = candidates
                .select_only()
                .column(jobs::Column::Id)
                .limit(1)
                .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
                .into_tuple::<i64>()
                .one(&txn)
                .await?;
            let Some(id) = picked else {
                return Ok(None);
            };
            lease(jobs::Entity::update_many())
                .filter(jobs::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            return jobs::Entity::find_by_id(id)
                .one(&self.base.db)
                .await
                .map_err(Into::into);
        }
        let ids: Vec<i64> = candidates
            .select_only()
            .column(jobs::Column::Id)
            .limit(8)
            .into_tuple()
            .all(&self.base.db)
            .await?;
        for id in ids {
            let claimed = lease(jobs::Entity::update_many())
                .filter(jobs::Column::Id.eq(id))
                .filter(jobs::Column::State.is_in(CLAIMABLE))
                .filter(free())
                .exec(&self.base.db)
                .await?;
            if claimed.rows_affected == 1 {
                return jobs::Entity::find_by_id(id)
                    .one(&self.base.db)
                    .await
                    .map_err(Into::into);
            }
        }
        Ok(None)
    }

    /// Runs a claimed job batch by batch until it ends.
    async fn walk(&self, mut job: jobs::Model) -> Result<Walked> {
        loop {
            match JobState::parse(&job.state)? {
                JobState::Cancelling => {
                    self.finish(&job, JobState::Cancelled, Some("cancelled".into())).await?;
                    return Ok(Walked::Ended);
                }
                JobState::Running => {}
                _ => return Ok(Walked::Ended),
            }
            let Some((plugin, action)) = job.action.split_once('.') else {
                self.finish(
                    &job,
                    JobState::Failed,
                    Some(format!("`{}` is not an action name", job.action)),
                )
                .await?;
                return Ok(Walked::Ended);
            };
            let native = super::native::is_native(&job.action);
            let offered = native || self.plugins.actions().await?.into_iter().any(|a| a.name == job.action);
            if !offered {
                let reason = format!(
                    "the action `{}` can't run: its plugin `{plugin}` is disabled, not approved or removed; enable it and resume the job",
                    job.action
                );
                self.finish(&job, JobState::Paused, Some(reason)).await?;
                return Ok(Walked::Ended);
            }
            let ids: Vec<i64> = job_targets::Entity::find()
                .select_only()
                .column(job_targets::Column::ContactId)
                .filter(job_targets::Column::JobId.eq(job.id))
                .filter(job_targets::Column::ContactId.gt(job.checkpoint))
                .order_by_asc(job_targets::Column::ContactId)
                .limit(self.batch.load(std::sync::atomic::Ordering::Relaxed))
                .into_tuple()
                .all(&self.base.db)
                .await?;
            let Some(&last) = ids.last() else {
                self.finish(&job, JobState::Done, None).await?;
                return Ok(Walked::Ended);
            };
            let found = self.reader.get_contacts(&engine_reader(), &ids).await?;
            let contacts: Vec<ActionContact> = found.iter().map(action_contact).collect();
            let deleted = ids
                .iter()
                .filter(|id| found.binary_search_by_key(*id, |c| c.id).is_err())
                .map(|id| (*id, "the contact was deleted after the job started".to_owned()))
                .collect();
            let mut renewed = Instant::now();
            let decided = if native {
                let mut decided = Decided::default();
                let ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
                decided.effects(&ids, super::native::run(&job.action, job.params.as_ref(), &contacts)?);
                decided
            } else {
                self.decide(&job, plugin, action, contacts, &mut renewed).await?
            };
            let batch = Batch { last, decided, deleted };
            match self.commit(&job, batch).await? {
                Committed::Next(next) => job = next,
                Committed::Stopped(current) => job = current,
                Committed::LostLease => return Ok(Walked::LostLease),
            }
        }
    }

    /// The plugin's answer for each contact of a batch: its effects, or why it failed.
    async fn decide(
        &self,
        job: &jobs::Model,
        plugin: &str,
        action: &str,
        contacts: Vec<ActionContact>,
        renewed: &mut Instant,
    ) -> Result<Decided> {
        let mut decided = Decided::default();
        if contacts.is_empty() {
            return Ok(decided);
        }
        let mut pending = vec![(contacts, true)];
        while let Some((part, retry)) = pending.pop() {
            // A third of the lease gone since it was last renewed: renew it before the call.
            if renewed.elapsed().as_millis() as i64 > self.lease().num_milliseconds() / 3 {
                self.renew(job).await?;
                *renewed = Instant::now();
            }
            let ids: Vec<i64> = part.iter().map(|c| c.id).collect();
            let answer = self
                .plugins
                .run(
                    plugin,
                    action,
                    job.params.as_ref(),
                    part.clone(),
                    job.run_at,
                    CallContext::Request,
                )
                .await;
            match answer {
                Ok(effects) => decided.effects(&ids, effects),
                Err(e @ (Error::Plugin { .. } | Error::Validation { .. } | Error::Invalid(_))) => {
                    if retry {
                        tokio::time::sleep(RETRY_AFTER).await;
                        pending.push((part, false));
                    } else if part.len() == 1 {
                        decided.failed(ids[0], e.to_string());
                    } else {
                        let mut left = part;
                        let right = left.split_off(left.len() / 2);
                        pending.push((right, false));
                        pending.push((left, false));
                    }
                }
                Err(other) => return Err(other),
            }
        }
        Ok(decided)
    }

    /// Extends this instance's lease on `job`.
    async fn renew(&self, job: &jobs::Model) -> Result<()> {
        let now = stored(self.base.clock.now());
        jobs::Entity::update_many()
            .col_expr(jobs::Column::LeaseUntil, Expr::value(Some(now + self.lease())))
            .filter(jobs::Column::Id.eq(job.id))
            .filter(jobs::Column::LeaseOwner.eq(self.instance.to_string()))
            .exec(&self.base.db)
            .await?;
        Ok(())
    }

    /// Ends `job` in `state` (or pauses it) and lets its lease go.
    async fn finish(&self, job: &jobs::Model, state: JobState, reason: Option<String>) -> Result<()> {
        let now = stored(self.base.clock.now());
        let mut update = jobs::Entity::update_many()
            .col_expr(jobs::Column::State, Expr::value(state.as_str()))
            .col_expr(jobs::Column::Reason, Expr::value(reason))
            .col_expr(
                jobs::Column::LeaseUntil,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .col_expr(jobs::Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(jobs::Column::UpdatedAt, Expr::value(now));
        if state.finished() {
            update = update.col_expr(jobs::Column::FinishedAt, Expr::value(Some(now)));
        }
        update
            .filter(jobs::Column::Id.eq(job.id))
            .filter(jobs::Column::LeaseOwner.eq(self.instance.to_string()))
            .exec(&self.base.db)
            .await?;
        Ok(())
    }
}

/// Effects grouped by contact, in answer order.
pub(super) fn by_contact(effects: Vec<Effect>) -> HashMap<i64, Vec<Effect>> {
    let mut out: HashMap<i64, Vec<Effect>> = HashMap::new();
    for effect in effects {
        out.entry(effect.contact_id).or_default().push(effect);
    }
    out
}
