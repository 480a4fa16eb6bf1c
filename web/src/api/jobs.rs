//! Bulk actions and their jobs: `/actions` (what may be run), `POST
//! /segments/{id}/actions` and `POST /contacts/actions` (start one on a segment, on ticked
//! contacts or on a filter's whole result), `/jobs` (progress, cancel, resume, outcomes,
//! the effects computed). Every handler calls [`kartoteka_core::jobs::Jobs`].

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kartoteka_core::jobs::{ActionRequest, Job, Outcome, OutcomeKind, Sample, Targets};
use kartoteka_core::plugin::ActionEntry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{ErrorBody, Items};
use super::json::{ApiJson, next_cursor, number_param, page_limit, param, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// An action the caller may start.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionOut {
    /// `tasks.create_task`: what `action` takes.
    pub name: String,
    pub plugin: String,
    pub label: String,
    /// The kinds of effect it may have (`create-task`, `grant-access`, `send-email`).
    pub capabilities: Vec<String>,
    /// JSON Schema of `params`.
    #[schema(value_type = Object)]
    pub params_schema: serde_json::Value,
}

impl From<ActionEntry> for ActionOut {
    fn from(a: ActionEntry) -> Self {
        ActionOut {
            name: a.name,
            plugin: a.plugin,
            label: a.label,
            capabilities: a.capabilities.iter().map(|c| c.as_str().to_owned()).collect(),
            params_schema: a.params_schema,
        }
    }
}

/// An action to start on a segment's members.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentActionIn {
    /// `plugin.action`, from `GET /api/v1/actions`.
    pub action: String,
    /// The action's parameters (its `params_schema`); errors at `params.<path>`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    /// Compute the effects and keep a sample to show, applying none.
    #[serde(default)]
    pub dry_run: bool,
}

/// An action to start on contacts: `contact_ids`, or every contact that matches `filter`
/// (with an optional `q`), with no cap.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactsActionIn {
    pub action: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    #[serde(default)]
    pub dry_run: bool,
    /// These contacts; each must be one the caller sees (errors at `contact_ids[i]`).
    #[serde(default)]
    pub contact_ids: Option<Vec<i64>>,
    /// Instead of `contact_ids`: a filter (DESIGN §5; `{}` is every contact the caller sees).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// With `filter`: global search, as for `GET /contacts`.
    #[serde(default)]
    pub q: Option<String>,
}

/// A job: one action over a frozen set of targets.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    pub id: i64,
    pub action: String,
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    pub dry_run: bool,
    /// What was targeted: `{"segment", "name"}`, `{"contact_ids": n}` or `{"filter", "q"}`.
    #[schema(value_type = Object)]
    pub source: serde_json::Value,
    /// queued, running, paused, cancelling, cancelled, done or failed.
    pub state: String,
    /// Why it is paused, cancelled or failed.
    pub reason: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// Targets frozen when it started.
    pub total: i64,
    /// Targets whose effects were applied (computed, on a dry run).
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Effects applied (computed), and by kind.
    pub effects: i64,
    pub effect_counts: BTreeMap<String, i64>,
    /// Targets per second since it started.
    pub rate: Option<f64>,
    /// 0 to 100.
    pub percent: f64,
}

impl From<Job> for JobOut {
    fn from(j: Job) -> Self {
        let rate = j.rate();
        let percent = j.percent();
        JobOut {
            id: j.id,
            action: j.action,
            params: j.params,
            dry_run: j.dry_run,
            source: j.source,
            state: j.state.as_str().to_owned(),
            reason: j.reason,
            created_by: j.created_by,
            created_at: j.created_at,
            started_at: j.started_at,
            finished_at: j.finished_at,
            updated_at: j.updated_at,
            total: j.total,
            done: j.done,
            failed: j.failed,
            skipped: j.skipped,
            effects: j.effects,
            effect_counts: j.effect_counts,
            rate,
            percent,
        }
    }
}

/// A page of jobs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobList {
    pub items: Vec<JobOut>,
    /// The `before` of the next page, or `null`.
    pub next: Option<String>,
}

/// One target's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeOut {
    pub contact_id: i64,
    /// `null` when the contact was deleted since.
    pub contact_name: Option<String>,
    /// done, failed or skipped.
    pub outcome: String,
    pub reason: Option<String>,
}

impl From<Outcome> for OutcomeOut {
    fn from(o: Outcome) -> Self {
        OutcomeOut {
            contact_id: o.contact_id,
            contact_name: o.contact_name,
            outcome: o.outcome.as_str().to_owned(),
            reason: o.reason,
        }
    }
}

/// A page of outcomes, by contact id.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeList {
    pub items: Vec<OutcomeOut>,
    /// The `after` of the next page, or `null`.
    pub next: Option<String>,
}

/// An effect the job computed, with its key.
#[derive(Debug, Serialize, ToSchema)]
pub struct EffectOut {
    pub contact_id: i64,
    pub contact_name: Option<String>,
    pub effect_index: i32,
    /// `{"kind": "create_task", "title", "body", "assignee", "due"}`, ...
    #[schema(value_type = Object)]
    pub effect: serde_json::Value,
}

impl From<Sample> for EffectOut {
    fn from(s: Sample) -> Self {
        EffectOut {
            contact_id: s.contact_id,
            contact_name: s.contact_name,
            effect_index: s.effect_index,
            effect: s.effect,
        }
    }
}

/// The actions the caller may start (admins and managers; actions that grant access
/// for admins only).
#[utoipa::path(get, path = "/api/v1/actions", responses((status = 200, body = Items<ActionOut>)))]
pub async fn actions(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<Items<ActionOut>>, ApiError> {
    let all = state.core.jobs().actions(&actor).await?;
    Ok(Json(Items::all(all.into_iter().map(ActionOut::from).collect())))
}

/// Starts an action on the members of a segment the caller sees: the job, queued.
#[utoipa::path(post, path = "/api/v1/segments/{id}/actions", params(("id" = i64, Path)), request_body = SegmentActionIn,
    responses((status = 202, body = JobOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the action's plugin was disabled meanwhile"), (status = 502, body = ErrorBody, description = "the plugin failed checking the parameters")))]
pub async fn start_on_segment(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SegmentActionIn>,
) -> Result<(StatusCode, Json<JobOut>), ApiError> {
    let id = path_id(&id, "segment")?;
    let request = ActionRequest {
        action: body.action,
        params: body.params,
        dry_run: body.dry_run,
        targets: Targets::Segment(id),
    };
    let job = state.core.jobs().start(&actor, request).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// Starts an action on contacts: the ticked `contact_ids`, or every result of `filter`
/// and `q`.
#[utoipa::path(post, path = "/api/v1/contacts/actions", request_body = ContactsActionIn,
    responses((status = 202, body = JobOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the action's plugin was disabled meanwhile"), (status = 502, body = ErrorBody, description = "the plugin failed checking the parameters")))]
pub async fn start_on_contacts(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<ContactsActionIn>,
) -> Result<(StatusCode, Json<JobOut>), ApiError> {
    let targets = match (body.contact_ids, body.filter) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "filter",
                "send either `contact_ids` or `filter`, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "contact_ids",
                "is required, unless `filter` (with an optional `q`) says which contacts",
            ));
        }
        (Some(_), None) if body.q.is_some() => {
            return Err(ApiError::invalid(
                "q",
                "narrows a `filter`; it can't go with `contact_ids`",
            ));
        }
        (Some(ids), None) => Targets::Contacts(ids),
        (None, Some(filter)) => Targets::Matching { filter, q: body.q },
    };
    let request = ActionRequest {
        action: body.action,
        params: body.params,
        dry_run: body.dry_run,
        targets,
    };
    let job = state.core.jobs().start(&actor, request).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// The jobs the caller sees (admins: all; managers: theirs), newest first.
#[utoipa::path(get, path = "/api/v1/jobs",
    params(("limit" = Option<u64>, Query, description = "1-500, default 50"),
           ("before" = Option<i64>, Query, description = "the `next` of the previous page")),
    responses((status = 200, body = JobList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<JobList>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let limit = page_limit(&pairs)?;
    let before = number_param(&pairs, "before")?;
    let jobs = state.core.jobs().list_jobs(&actor, before, limit).await?;
    let next = next_cursor(&jobs, limit, |j| j.id);
    Ok(Json(JobList {
        items: jobs.into_iter().map(JobOut::from).collect(),
        next,
    }))
}

/// One job with its progress.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<JobOut>, ApiError> {
    let id = path_id(&id, "job")?;
    Ok(Json(state.core.jobs().get_job(&actor, id).await?.into()))
}

/// Cancels a job: at once when queued or paused, within the batch in flight when running
/// (that batch is not applied).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/cancel", params(("id" = i64, Path)),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<JobOut>, ApiError> {
    let id = path_id(&id, "job")?;
    Ok(Json(state.core.jobs().cancel_job(&actor, id).await?.into()))
}

/// Resumes a paused job from its checkpoint.
#[utoipa::path(post, path = "/api/v1/jobs/{id}/resume", params(("id" = i64, Path)),
    responses((status = 200, body = JobOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<JobOut>, ApiError> {
    let id = path_id(&id, "job")?;
    Ok(Json(state.core.jobs().resume_job(&actor, id).await?.into()))
}

/// The targets with outcome `outcome` (default `failed`), by contact id, with reasons.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/outcomes",
    params(("id" = i64, Path),
           ("outcome" = Option<String>, Query, description = "failed (default), skipped or done"),
           ("limit" = Option<u64>, Query, description = "1-500, default 50"),
           ("after" = Option<i64>, Query, description = "the `next` of the previous page")),
    responses((status = 200, body = OutcomeList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn outcomes(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<OutcomeList>, ApiError> {
    let id = path_id(&id, "job")?;
    let pairs = query_pairs(query.as_deref());
    let limit = page_limit(&pairs)?;
    let kind = match param(&pairs, "outcome").filter(|v| !v.is_empty()) {
        None => OutcomeKind::Failed,
        Some(v) => OutcomeKind::parse(v, "outcome")?,
    };
    let after = number_param(&pairs, "after")?;
    let items = state.core.jobs().job_outcomes(&actor, id, kind, after, limit).await?;
    let next = next_cursor(&items, limit, |o| o.contact_id);
    Ok(Json(OutcomeList {
        items: items.into_iter().map(OutcomeOut::from).collect(),
        next,
    }))
}

/// The first effects the job computed (100 at most): a dry run's preview.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/effects", params(("id" = i64, Path)),
    responses((status = 200, body = Items<EffectOut>), (status = 404, body = ErrorBody)))]
pub async fn effects(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Items<EffectOut>>, ApiError> {
    let id = path_id(&id, "job")?;
    let items = state.core.jobs().job_samples(&actor, id).await?;
    Ok(Json(Items::all(items.into_iter().map(EffectOut::from).collect())))
}
