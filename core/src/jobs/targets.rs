//! Starting a job: the checks, then the job row and its frozen targets in one transaction.
//!
//! Targets are frozen with one `INSERT ... SELECT` (no row at a time, no cap): a
//! segment's members joined to the contacts the starter sees, or the given ids that are
//! contacts the starter sees (after every id that isn't was reported at once).

use std::collections::BTreeSet;

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait};
use serde_json::json;

use super::{ActionRequest, Job, JobState, Jobs, Targets};
use crate::auth::Actor;
use crate::clock::stored;
use crate::contacts::{Access, visibility};
use crate::entities::{contacts, job_targets, jobs, segment_members};
use crate::error::{Problem, Problems};
use crate::filter::Walk;
use crate::plugin::CallContext;
use crate::plugin::values::Capability;
use crate::{Error, Result};

/// Ids are checked and frozen this many at a time.
const ID_CHUNK: usize = 5_000;

impl Jobs {
    /// Starts `request` as `actor` (an admin or manager): checks it whole, freezes the
    /// targets and queues the job for a worker.
    ///
    /// Errors: [`Error::Forbidden`] (an agent; a manager with an action that grants
    /// access); [`Error::Validation`] with every problem at once (`action`, `params.*`,
    /// `contact_ids[i]`); [`Error::NotFound`] (a segment the actor doesn't see).
    pub async fn start(&self, actor: &Actor, request: ActionRequest) -> Result<Job> {
        if !actor.may_change_segments() {
            return Err(Error::Forbidden("only admins and managers may run bulk actions".into()));
        }
        let mut problems = Problems::default();
        let action = problems.take(self.action(actor, &request.action).await)?;
        let now = self.base.clock.now();
        if let Some(action) = &action {
            if !request.dry_run
                && action.capabilities.contains(&Capability::SendEmail)
                && let Some(reason) = self.mail.get().refusal()
            {
                problems.add("dry_run", format!("`{}` sends e-mail, and {reason}", action.name));
            }
            if super::native::is_native(&action.name) {
                problems.take(super::native::check(&action.name, request.params.as_ref()))?;
            } else {
                // The plugin checks its parameters on an empty batch: a bad template or a
                // missing title is refused here, before anything is frozen.
                problems.take(
                    self.plugins
                        .run(
                            &action.plugin,
                            &action.action,
                            request.params.as_ref(),
                            Vec::new(),
                            now.timestamp(),
                            CallContext::Request,
                        )
                        .await
                        .map(|_| ()),
                )?;
            }
        }
        let mut matching = None;
        let (source, ids) = match &request.targets {
            Targets::Matching { filter, q } => {
                matching = problems.take(self.matching(actor, filter, q.as_deref()).await)?;
                (json!({"filter": filter, "q": q}), None)
            }
            Targets::Segment(id) => {
                let segment = self.segments.get_segment(actor, *id).await?;
                (json!({"segment": segment.id, "name": segment.name}), None)
            }
            Targets::Contacts(ids) => {
                let ids = problems.take(self.check_ids(actor, ids).await)?;
                (json!({"contact_ids": ids.as_ref().map_or(0, Vec::len)}), ids)
            }
        };
        problems.into_result()?;
        let action = action.ok_or_else(|| Error::Internal("an action without a problem".into()))?;

        let stamp = stored(now);
        let txn = self.base.db.begin().await?;
        let row = jobs::ActiveModel {
            action: Set(action.name.clone()),
            params: Set(request.params.clone()),
            dry_run: Set(request.dry_run),
            source: Set(source),
            state: Set(JobState::Queued.as_str().into()),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(stamp),
            updated_at: Set(stamp),
            run_at: Set(now.timestamp()),
            effect_counts: Set(json!({})),
            ..Default::default()
        };
        let job = jobs::Entity::insert(row).exec(&txn).await?.last_insert_id;
        let total = match (&request.targets, ids) {
            (Targets::Segment(segment), _) => freeze_segment(&txn, actor, job, *segment).await?,
            (Targets::Contacts(_), Some(ids)) => {
                let mut total = 0;
                for chunk in ids.chunks(ID_CHUNK) {
                    total += freeze_ids(&txn, job, chunk).await?;
                }
                total
            }
            (Targets::Matching { .. }, _) => match matching {
                Some(Matching::Exact(wanted)) => freeze_where(&txn, job, wanted).await?,
                Some(Matching::Decided(ids)) => {
                    let mut total = 0;
                    for chunk in ids.chunks(ID_CHUNK) {
                        total += freeze_ids(&txn, job, chunk).await?;
                    }
                    total
                }
                None => 0,
            },
            (Targets::Contacts(_), None) => 0,
        };
        jobs::Entity::update_many()
            .col_expr(jobs::Column::Total, Expr::value(total as i64))
            .filter(jobs::Column::Id.eq(job))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.wake();
        self.get_job(actor, job).await
    }

    /// The contacts `actor` sees that match `filter` and the search `q`: a condition when
    /// the filter is exact in SQL, else the ids its candidate walk decided in.
    async fn matching(&self, actor: &Actor, filter: &serde_json::Value, q: Option<&str>) -> Result<Matching> {
        let engine = &self.segments.filter;
        let prepared = engine
            .prepare_filter(filter)
            .await
            .map_err(|e| e.under("filter"))?
            .seen_by(actor);
        let backend = self.base.db.get_database_backend();
        let mut wanted = Condition::all()
            .add(visibility::condition(actor, Access::Read))
            .add(prepared.condition(backend));
        if let Some(search) = self.reader.search_condition(q.unwrap_or_default())? {
            wanted = wanted.add(search);
        }
        if !prepared.has_residual() {
            return Ok(Matching::Exact(wanted));
        }
        let mut ids = Vec::new();
        let mut walk = Walk::by_id(engine, &prepared, wanted).ids_only();
        while let Some(chunk) = walk.next().await? {
            ids.extend(chunk.matching_ids());
        }
        Ok(Matching::Decided(ids))
    }

    /// The distinct ids of `ids`, in order, after checking each is a contact `actor` sees
    /// (every one that isn't is reported, at `contact_ids[i]`).
    async fn check_ids(&self, actor: &Actor, ids: &[i64]) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Err(Error::invalid("contact_ids", "pick at least one contact"));
        }
        let wanted: BTreeSet<i64> = ids.iter().copied().collect();
        let wanted: Vec<i64> = wanted.into_iter().collect();
        let mut seen = BTreeSet::new();
        for chunk in wanted.chunks(ID_CHUNK) {
            let found: Vec<i64> = contacts::Entity::find()
                .select_only()
                .column(contacts::Column::Id)
                .filter(visibility::condition(actor, Access::Read))
                .filter(contacts::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.base.db)
                .await?;
            seen.extend(found);
        }
        let missing: Vec<Problem> = ids
            .iter()
            .enumerate()
            .filter(|(_, id)| !seen.contains(id))
            .map(|(at, id)| Problem {
                path: format!("contact_ids[{at}]"),
                message: format!("no contact {id}"),
            })
            .collect();
        match Error::from_problems(missing) {
            Some(error) => Err(error),
            None => Ok(wanted),
        }
    }
}

/// Freezes the members of `segment` that `actor` sees as `job`'s targets: their number.
async fn freeze_segment(db: &impl ConnectionTrait, actor: &Actor, job: i64, segment: i64) -> Result<u64> {
    let mut select = Query::select();
    select
        .expr(Expr::val(job))
        .column((segment_members::Entity, segment_members::Column::ContactId))
        .from(segment_members::Entity)
        .and_where(Expr::col((segment_members::Entity, segment_members::Column::SegmentId)).eq(segment));
    if !actor.is_admin() {
        select
            .inner_join(
                contacts::Entity,
                Expr::col((contacts::Entity, contacts::Column::Id))
                    .equals((segment_members::Entity, segment_members::Column::ContactId)),
            )
            .cond_where(visibility::condition(actor, Access::Read));
    }
    insert_targets(db, select).await
}

/// The contacts a filter's result is.
enum Matching {
    /// Those that satisfy the condition.
    Exact(Condition),
    /// These ids (a filter with residuals, decided by its walk).
    Decided(Vec<i64>),
}

/// Freezes the contacts that satisfy `wanted` as `job`'s targets: their number.
async fn freeze_where(db: &impl ConnectionTrait, job: i64, wanted: Condition) -> Result<u64> {
    let mut select = Query::select();
    select
        .expr(Expr::val(job))
        .column((contacts::Entity, contacts::Column::Id))
        .from(contacts::Entity)
        .cond_where(wanted);
    insert_targets(db, select).await
}

/// Freezes the contacts `ids` (checked) as `job`'s targets: their number.
async fn freeze_ids(db: &impl ConnectionTrait, job: i64, ids: &[i64]) -> Result<u64> {
    let mut select = Query::select();
    select
        .expr(Expr::val(job))
        .column((contacts::Entity, contacts::Column::Id))
        .from(contacts::Entity)
        .and_where(Expr::col((contacts::Entity, contacts::Column::Id)).is_in(ids.iter().copied()));
    insert_targets(db, select).await
}

async fn insert_targets(db: &impl ConnectionTrait, select: sea_orm::sea_query::SelectStatement) -> Result<u64> {
    let insert = Query::insert()
        .into_table(job_targets::Entity)
        .columns([job_targets::Column::JobId, job_targets::Column::ContactId])
        .select_from(select)
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_owned();
    Ok(db.execute(&insert).await?.rows_affected())
}
