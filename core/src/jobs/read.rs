//! Reading jobs (progress, outcomes, the sampled effects) and changing their state
//! (cancel, resume). Admins see every job; managers the jobs they started.

use std::collections::BTreeMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryOrder, QuerySelect, sea_query::Condition};
use serde_json::Value as Json;

use super::{Job, JobState, Jobs};
use crate::auth::Actor;
use crate::clock::stored;
use crate::entities::{contacts, job_outcomes, job_samples, job_targets, jobs, outbox};
use crate::{Error, Result};

/// What happened to one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Its effects were applied (or, on a dry run, computed).
    Done,
    Failed,
    Skipped,
}

impl OutcomeKind {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeKind::Done => "done",
            OutcomeKind::Failed => "failed",
            OutcomeKind::Skipped => "skipped",
        }
    }

    /// Reads a sent name; `path` names it in the error.
    pub fn parse(s: &str, path: &str) -> Result<Self> {
        match s {
            "done" => Ok(OutcomeKind::Done),
            "failed" => Ok(OutcomeKind::Failed),
            "skipped" => Ok(OutcomeKind::Skipped),
            other => Err(Error::invalid(
                path,
                format!("unknown outcome `{other}`; expected done, failed or skipped"),
            )),
        }
    }
}

/// One target's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub contact_id: i64,
    /// The contact's name, when it still exists.
    pub contact_name: Option<String>,
    pub outcome: OutcomeKind,
    pub reason: Option<String>,
}

/// One effect a job computed, with its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub contact_id: i64,
    pub contact_name: Option<String>,
    pub effect_index: i32,
    /// `{"kind": "create_task", "title": ..., ...}`.
    pub effect: Json,
}

/// The most jobs and outcomes one list answers.
pub const MAX_LIST: u64 = 500;

fn to_job(row: jobs::Model) -> Result<Job> {
    Ok(Job {
        id: row.id,
        action: row.action,
        params: row.params,
        dry_run: row.dry_run,
        source: row.source,
        state: JobState::parse(&row.state)?,
        reason: row.reason,
        created_by: row.created_by,
        created_at: row.created_at,
        started_at: row.started_at,
        finished_at: row.finished_at,
        updated_at: row.updated_at,
        total: row.total,
        done: row.done,
        failed: row.failed,
        skipped: row.skipped,
        effects: row.effects,
        effect_counts: serde_json::from_value::<BTreeMap<String, i64>>(row.effect_counts).unwrap_or_default(),
    })
}

fn seen_by(actor: &Actor) -> Condition {
    if actor.is_admin() {
        Condition::all()
    } else {
        Condition::all().add(jobs::Column::CreatedBy.eq(actor.user_id))
    }
}

impl Jobs {
    async fn job_row(&self, actor: &Actor, id: i64) -> Result<jobs::Model> {
        if !actor.may_change_segments() {
            return Err(Error::NotFound { what: "job" });
        }
        jobs::Entity::find_by_id(id)
            .filter(seen_by(actor))
            .one(&self.base.db)
            .await?
            .ok_or(Error::NotFound { what: "job" })
    }

    /// One job `actor` sees.
    pub async fn get_job(&self, actor: &Actor, id: i64) -> Result<Job> {
        to_job(self.job_row(actor, id).await?)
    }

    /// The jobs `actor` sees, newest first, before job `before` when given.
    pub async fn list_jobs(&self, actor: &Actor, before: Option<i64>, limit: u64) -> Result<Vec<Job>> {
        if !actor.may_change_segments() {
            return Ok(Vec::new());
        }
        let mut select = jobs::Entity::find().filter(seen_by(actor));
        if let Some(before) = before {
            select = select.filter(jobs::Column::Id.lt(before));
        }
        select
            .order_by_desc(jobs::Column::Id)
            .limit(limit.clamp(1, MAX_LIST))
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(to_job)
            .collect()
    }

    /// Asks job `id` to stop: a queued or paused job is cancelled at once, a running one
    /// when its worker next commits (the batch in flight is dropped). A sending job's
    /// messages not yet handed off are skipped, also once the job itself has ended (its
    /// messages may still be going out); those in the hands of SMTP at that moment go.
    pub async fn cancel_job(&self, actor: &Actor, id: i64) -> Result<Job> {
        let job = self.job_row(actor, id).await?;
        let state = JobState::parse(&job.state)?;
        let now = stored(self.base.clock.now());
        let reason = format!("cancelled by {}", actor.email);
        let stopped = outbox::Entity::update_many()
            .col_expr(outbox::Column::State, Expr::value("skipped"))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Some(format!("the send was {reason}"))),
            )
            .filter(outbox::Column::JobId.eq(id))
            .filter(outbox::Column::State.eq("queued"))
            .exec(&self.base.db)
            .await?
            .rows_affected;
        if state.finished() {
            if stopped > 0 {
                return self.get_job(actor, id).await;
            }
            return Err(Error::conflict(format!(
                "job {id} has already ended ({})",
                state.as_str()
            )));
        }
        // Queued and paused jobs have no worker: they end here.
        jobs::Entity::update_many()
            .col_expr(jobs::Column::State, Expr::value(JobState::Cancelled.as_str()))
            .col_expr(jobs::Column::Reason, Expr::value(Some(reason.clone())))
            .col_expr(jobs::Column::FinishedAt, Expr::value(Some(now)))
            .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
            .filter(jobs::Column::Id.eq(id))
            .filter(jobs::Column::State.is_in(["queued", "paused"]))
            .exec(&self.base.db)
            .await?;
        jobs::Entity::update_many()
            .col_expr(jobs::Column::State, Expr::value(JobState::Cancelling.as_str()))
            .col_expr(jobs::Column::Reason, Expr::value(Some(reason)))
            .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
            .filter(jobs::Column::Id.eq(id))
            .filter(jobs::Column::State.eq("running"))
            .exec(&self.base.db)
            .await?;
        self.wake();
        self.get_job(actor, id).await
    }

    /// Queues a paused job again: it goes on from its checkpoint.
    pub async fn resume_job(&self, actor: &Actor, id: i64) -> Result<Job> {
        let job = self.job_row(actor, id).await?;
        if job.state != JobState::Paused.as_str() {
            return Err(Error::conflict(format!("job {id} is {}, not paused", job.state)));
        }
        self.action(actor, &job.action).await?;
        jobs::Entity::update_many()
            .col_expr(jobs::Column::State, Expr::value(JobState::Running.as_str()))
            .col_expr(jobs::Column::Reason, Expr::value(Option::<String>::None))
            .filter(jobs::Column::Id.eq(id))
            .filter(jobs::Column::State.eq("paused"))
            .exec(&self.base.db)
            .await?;
        self.wake();
        self.get_job(actor, id).await
    }

    /// The outcomes of job `id`'s targets of kind `kind`, by contact id after `after`.
    /// Failed and skipped targets carry their reason; a target is done once its batch
    /// committed without either.
    pub async fn job_outcomes(
        &self,
        actor: &Actor,
        id: i64,
        kind: OutcomeKind,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<Outcome>> {
        let job = self.job_row(actor, id).await?;
        let limit = limit.clamp(1, MAX_LIST);
        let after = after.unwrap_or(i64::MIN);
        if kind == OutcomeKind::Done {
            let rows: Vec<(i64, Option<String>)> = job_targets::Entity::find()
                .select_only()
                .column(job_targets::Column::ContactId)
                .column(contacts::Column::Name)
                .join(
                    JoinType::LeftJoin,
                    job_targets::Entity::belongs_to(job_outcomes::Entity)
                        .from(job_targets::Column::JobId)
                        .to(job_outcomes::Column::JobId)
                        .on_condition(|left, right| {
                            Condition::all().add(
                                Expr::col((left, job_targets::Column::ContactId))
                                    .equals((right, job_outcomes::Column::ContactId)),
                            )
                        })
                        .into(),
                )
                .join(
                    JoinType::LeftJoin,
                    job_targets::Entity::belongs_to(contacts::Entity)
                        .from(job_targets::Column::ContactId)
                        .to(contacts::Column::Id)
                        .into(),
                )
                .filter(job_targets::Column::JobId.eq(id))
                .filter(job_targets::Column::ContactId.lte(job.checkpoint))
                .filter(job_targets::Column::ContactId.gt(after))
                .filter(Expr::col((job_outcomes::Entity, job_outcomes::Column::ContactId)).is_null())
                .order_by_asc(job_targets::Column::ContactId)
                .limit(limit)
                .into_tuple()
                .all(&self.base.db)
                .await?;
            return Ok(rows
                .into_iter()
                .map(|(contact_id, contact_name)| Outcome {
                    contact_id,
                    contact_name,
                    outcome: OutcomeKind::Done,
                    reason: None,
                })
                .collect());
        }
        let rows: Vec<(i64, String, Option<String>)> = job_outcomes::Entity::find()
            .select_only()
            .column(job_outcomes::Column::ContactId)
            .column(job_outcomes::Column::Reason)
            .column(contacts::Column::Name)
            .join(JoinType::LeftJoin, outcome_contact())
            .filter(job_outcomes::Column::JobId.eq(id))
            .filter(job_outcomes::Column::Outcome.eq(kind.as_str()))
            .filter(job_outcomes::Column::ContactId.gt(after))
            .order_by_asc(job_outcomes::Column::ContactId)
            .limit(limit)
            .into_tuple()
            .all(&self.base.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(contact_id, reason, contact_name)| Outcome {
                contact_id,
                contact_name,
                outcome: kind,
                reason: Some(reason),
            })
            .collect())
    }

    /// How many targets of job `id` were skipped, by reason, most first (a sending
    /// job's dry run: "12 do not contact, 40 no e-mail address").
    pub async fn skipped_by_reason(&self, actor: &Actor, id: i64) -> Result<Vec<(String, i64)>> {
        self.get_job(actor, id).await?;
        let mut rows: Vec<(String, i64)> = job_outcomes::Entity::find()
            .select_only()
            .column(job_outcomes::Column::Reason)
            .column_as(job_outcomes::Column::ContactId.count(), "n")
            .filter(job_outcomes::Column::JobId.eq(id))
            .filter(job_outcomes::Column::Outcome.eq("skipped"))
            .group_by(job_outcomes::Column::Reason)
            .into_tuple()
            .all(&self.base.db)
            .await?;
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(rows)
    }

    /// The contact ids job `id` froze as its targets, in order: what "run it for real"
    /// after a dry run on ticked contacts runs on again.
    pub async fn job_target_ids(&self, actor: &Actor, id: i64) -> Result<Vec<i64>> {
        self.job_row(actor, id).await?;
        Ok(job_targets::Entity::find()
            .select_only()
            .column(job_targets::Column::ContactId)
            .filter(job_targets::Column::JobId.eq(id))
            .order_by_asc(job_targets::Column::ContactId)
            .into_tuple()
            .all(&self.base.db)
            .await?)
    }

    /// The first effects job `id` computed ([`super::SAMPLES`] at most), by contact.
    pub async fn job_samples(&self, actor: &Actor, id: i64) -> Result<Vec<Sample>> {
        self.job_row(actor, id).await?;
        let rows: Vec<(i64, i32, Json, Option<String>)> = job_samples::Entity::find()
            .select_only()
            .column(job_samples::Column::ContactId)
            .column(job_samples::Column::EffectIndex)
            .column(job_samples::Column::Effect)
            .column(contacts::Column::Name)
            .join(
                JoinType::LeftJoin,
                job_samples::Entity::belongs_to(contacts::Entity)
                    .from(job_samples::Column::ContactId)
                    .to(contacts::Column::Id)
                    .into(),
            )
            .filter(job_samples::Column::JobId.eq(id))
            .order_by_asc(job_samples::Column::ContactId)
            .order_by_asc(job_samples::Column::EffectIndex)
            .into_tuple()
            .all(&self.base.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(contact_id, effect_index, effect, contact_name)| Sample {
                contact_id,
                contact_name,
                effect_index,
                effect,
            })
            .collect())
    }
}

fn outcome_contact() -> sea_orm::RelationDef {
    job_outcomes::Entity::belongs_to(contacts::Entity)
        .from(job_outcomes::Column::ContactId)
        .to(contacts::Column::Id)
        .into()
}
