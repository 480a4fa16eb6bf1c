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
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use serde_json::Value as Json;

use super::apply::{Batch, Committed, Decided};
use super::{JobState, Jobs};
use crate::clock::stored;
use crate::entities::{contact_types, contacts, job_targets, jobs};
use crate::outbox::{NoMail, no_mail};
use crate::plugin::CallContext;
use crate::plugin::values::{ActionContact, Capability};
use crate::{Error, Result};

/// Targets per batch: one plugin call each.
pub const BATCH: u64 = 500;

/// How long a claimed job is held without a sign of life.
pub const LEASE: Duration = Duration::seconds(60);

/// How long a failed batch waits before it is tried again.
pub const RETRY_AFTER: StdDuration = StdDuration::from_millis(250);

/// The states a worker takes a job in.
const CLAIMABLE: [&str; 3] = ["queued", "running", "cancelling"];

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
        let mut checked: Option<Instant> = None;
        let mut sends_mail = false;
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
            let began = Instant::now();
            let native = super::native::is_native(&job.action);
            // Whether the action can still run, asked again at most once a second (a
            // plugin disabled meanwhile is refused by the call itself too).
            if !native && checked.is_none_or(|at: Instant| at.elapsed() >= StdDuration::from_secs(1)) {
                checked = Some(Instant::now());
                let entry = self.plugins.actions().await?.into_iter().find(|a| a.name == job.action);
                sends_mail = entry
                    .as_ref()
                    .is_some_and(|a| a.capabilities.contains(&Capability::SendEmail));
                if entry.is_none() {
                    let reason = format!(
                        "the action `{}` can't run: its plugin `{plugin}` is disabled, not approved or removed; enable it and resume the job",
                        job.action
                    );
                    self.finish(&job, JobState::Paused, Some(reason)).await?;
                    return Ok(Walked::Ended);
                }
            }
            let limit = self.batch.load(std::sync::atomic::Ordering::Relaxed);
            let (ids, mut contacts, mut skipped) = self.next_batch(&job, limit).await?;
            let mut addresses = HashMap::new();
            if sends_mail {
                contacts = self.mailable(contacts, &mut skipped, &mut addresses).await?;
            }
            let Some(&last) = ids.last() else {
                self.finish(&job, JobState::Done, None).await?;
                return Ok(Walked::Ended);
            };
            let read = began.elapsed();
            let mut renewed = Instant::now();
            let decided = if native {
                let mut decided = Decided::default();
                let ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
                decided.effects(&ids, super::native::run(&job.action, job.params.as_ref(), &contacts)?);
                decided
            } else {
                self.decide(&job, plugin, action, contacts, &mut renewed).await?
            };
            let decide = began.elapsed() - read;
            let batch = Batch {
                last,
                decided,
                skipped,
                addresses,
            };
            let committed = self.commit(&job, batch).await?;
            tracing::debug!(
                job = job.id,
                targets = ids.len(),
                read_ms = read.as_secs_f64() * 1e3,
                run_ms = decide.as_secs_f64() * 1e3,
                commit_ms = (began.elapsed() - read - decide).as_secs_f64() * 1e3,
                "job batch"
            );
            match committed {
                Committed::Next(next) => job = next,
                Committed::Stopped(current) => job = current,
                Committed::LostLease => return Ok(Walked::LostLease),
            }
        }
    }

    /// The next `limit` targets after the checkpoint, read with what an action sees of
    /// their contacts in one query (the targets left-joined to the contacts and their
    /// types, only the columns the action gets): the ids, the contacts, and the targets
    /// whose contact is gone.
    #[allow(clippy::type_complexity)]
    async fn next_batch(
        &self,
        job: &jobs::Model,
        limit: u64,
    ) -> Result<(Vec<i64>, Vec<ActionContact>, Vec<(i64, String)>)> {
        let query = Query::select()
            .column((job_targets::Entity, job_targets::Column::ContactId))
            .column((contacts::Entity, contacts::Column::Id))
            .column((contact_types::Entity, contact_types::Column::Key))
            .columns([
                (contacts::Entity, contacts::Column::Name),
                (contacts::Entity, contacts::Column::Email),
                (contacts::Entity, contacts::Column::Phone),
                (contacts::Entity, contacts::Column::OwnerId),
                (contacts::Entity, contacts::Column::Fields),
            ])
            .from(job_targets::Entity)
            .left_join(
                contacts::Entity,
                Expr::col((contacts::Entity, contacts::Column::Id))
                    .equals((job_targets::Entity, job_targets::Column::ContactId)),
            )
            .left_join(
                contact_types::Entity,
                Expr::col((contact_types::Entity, contact_types::Column::Id))
                    .equals((contacts::Entity, contacts::Column::TypeId)),
            )
            .and_where(Expr::col((job_targets::Entity, job_targets::Column::JobId)).eq(job.id))
            .and_where(Expr::col((job_targets::Entity, job_targets::Column::ContactId)).gt(job.checkpoint))
            .order_by((job_targets::Entity, job_targets::Column::ContactId), Order::Asc)
            .limit(limit)
            .to_owned();
        let rows = self.base.db.query_all(&query).await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut contacts = Vec::with_capacity(rows.len());
        let mut deleted = Vec::new();
        for row in rows {
            let target: i64 = row.try_get_by_index(0)?;
            ids.push(target);
            let Some(id) = row.try_get_by_index::<Option<i64>>(1)? else {
                deleted.push((target, "the contact was deleted after the job started".to_owned()));
                continue;
            };
            let fields = match row.try_get_by_index::<Json>(7)? {
                Json::Object(map) => map,
                _ => Default::default(),
            };
            contacts.push(ActionContact {
                id,
                kind: row.try_get_by_index::<Option<String>>(2)?.unwrap_or_default(),
                name: row.try_get_by_index(3)?,
                email: row.try_get_by_index(4)?,
                phone: row.try_get_by_index(5)?,
                owner: row.try_get_by_index(6)?,
                fields,
            });
        }
        Ok((ids, contacts, deleted))
    }

    /// The contacts of a sending job's batch that may get mail now; the others are
    /// skipped with the reason (do not contact, unsubscribed, no address), and the
    /// addresses of those kept are noted (a message must go to its contact's address).
    async fn mailable(
        &self,
        contacts: Vec<ActionContact>,
        skipped: &mut Vec<(i64, String)>,
        addresses: &mut HashMap<i64, String>,
    ) -> Result<Vec<ActionContact>> {
        let ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
        let (dnc, unsubscribed) = no_mail(&self.base.db, &ids).await?;
        let mut kept = Vec::with_capacity(contacts.len());
        for contact in contacts {
            let address = contact.email.as_deref().map(str::trim).unwrap_or_default();
            let refused = if dnc.contains(&contact.id) {
                Some(NoMail::DoNotContact)
            } else if unsubscribed.contains(&contact.id) {
                Some(NoMail::Unsubscribed)
            } else if address.is_empty() {
                Some(NoMail::NoAddress)
            } else {
                None
            };
            match refused {
                Some(why) => skipped.push((contact.id, why.reason().to_owned())),
                None => {
                    addresses.insert(contact.id, address.to_owned());
                    kept.push(contact);
                }
            }
        }
        Ok(kept)
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
                    } else if let [only] = ids.as_slice() {
                        decided.failed(*only, e.to_string());
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
