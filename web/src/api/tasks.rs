//! `/tasks`: the follow-ups on contacts, by hand or from a bulk action; list (by assignee,
//! status, contact or job), create, read, change (mark done, reassign, move the due date).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kartoteka_core::tasks::{NewTask, Task, TaskPatch, TaskQuery, TaskStatus};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{ErrorBody, double_option};
use super::json::{ApiJson, next_cursor, number_param, page_limit, param, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// A task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: i64,
    pub contact_id: i64,
    pub contact_name: String,
    pub assignee_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub due_at: Option<DateTime<Utc>>,
    /// open or done.
    pub status: String,
    /// Open and past its due time.
    pub overdue: bool,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// The job that created it, if one did.
    pub job_id: Option<i64>,
}

impl TaskOut {
    fn new(t: Task, now: DateTime<Utc>) -> Self {
        TaskOut {
            overdue: t.overdue(now),
            id: t.id,
            contact_id: t.contact_id,
            contact_name: t.contact_name,
            assignee_id: t.assignee_id,
            title: t.title,
            body: t.body,
            due_at: t.due_at,
            status: t.status.as_str().to_owned(),
            created_by: t.created_by,
            created_at: t.created_at,
            done_at: t.done_at,
            job_id: t.job_id,
        }
    }
}

/// A page of tasks, by id.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub items: Vec<TaskOut>,
    /// The `after` of the next page, or `null`.
    pub next: Option<String>,
}

/// A new task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskCreate {
    /// A contact the caller may change.
    pub contact_id: i64,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub assignee_id: Option<i64>,
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
}

/// A change to a task: any subset; `null` clears `due_at` or `assignee_id`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdate {
    /// open or done.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub due_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub assignee_id: Option<Option<i64>>,
}

/// The tasks the caller sees (theirs, and those on contacts they see), by id.
#[utoipa::path(get, path = "/api/v1/tasks",
    params(("assignee" = Option<String>, Query, description = "`me` or a user id"),
           ("status" = Option<String>, Query, description = "open or done"),
           ("contact_id" = Option<i64>, Query),
           ("job_id" = Option<i64>, Query, description = "the tasks a job created"),
           ("limit" = Option<u64>, Query, description = "1-500, default 50"),
           ("after" = Option<i64>, Query, description = "the `next` of the previous page")),
    responses((status = 200, body = TaskList), (status = 400, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<TaskList>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let limit = page_limit(&pairs)?;
    let assignee_id = match param(&pairs, "assignee").filter(|v| !v.is_empty()) {
        None => None,
        Some("me") => Some(actor.user_id),
        Some(_) => number_param(&pairs, "assignee")?,
    };
    let status = match param(&pairs, "status").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(TaskStatus::parse(v, "status")?),
    };
    let query = TaskQuery {
        assignee_id,
        status,
        contact_id: number_param(&pairs, "contact_id")?,
        job_id: number_param(&pairs, "job_id")?,
        after: number_param(&pairs, "after")?,
        limit,
    };
    let items = state.core.tasks().list_tasks(&actor, &query).await?;
    let next = next_cursor(&items, limit, |t| t.id);
    let now = state.core.clock().now();
    Ok(Json(TaskList {
        items: items.into_iter().map(|t| TaskOut::new(t, now)).collect(),
        next,
    }))
}

/// Creates a task on a contact the caller may change.
#[utoipa::path(post, path = "/api/v1/tasks", request_body = TaskCreate,
    responses((status = 201, body = TaskOut), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<TaskCreate>,
) -> Result<(StatusCode, Json<TaskOut>), ApiError> {
    let new = NewTask {
        contact_id: body.contact_id,
        assignee_id: body.assignee_id,
        title: body.title,
        body: body.body.unwrap_or_default(),
        due_at: body.due_at,
    };
    let task = state.core.tasks().create_task(&actor, new).await?;
    Ok((StatusCode::CREATED, Json(TaskOut::new(task, state.core.clock().now()))))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/tasks/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = TaskOut), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<TaskOut>, ApiError> {
    let id = path_id(&id, "task")?;
    let task = state.core.tasks().get_task(&actor, id).await?;
    Ok(Json(TaskOut::new(task, state.core.clock().now())))
}

/// Changes a task (its assignee, an admin, or whoever may change its contact).
#[utoipa::path(patch, path = "/api/v1/tasks/{id}", params(("id" = i64, Path)), request_body = TaskUpdate,
    responses((status = 200, body = TaskOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TaskUpdate>,
) -> Result<Json<TaskOut>, ApiError> {
    let id = path_id(&id, "task")?;
    let status = body
        .status
        .as_deref()
        .map(|s| TaskStatus::parse(s, "status"))
        .transpose()?;
    let patch = TaskPatch {
        status,
        title: body.title,
        body: body.body,
        due_at: body.due_at,
        assignee_id: body.assignee_id,
    };
    let task = state.core.tasks().update_task(&actor, id, patch).await?;
    Ok(Json(TaskOut::new(task, state.core.clock().now())))
}
