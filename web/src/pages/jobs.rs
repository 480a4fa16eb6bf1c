//! The Jobs pages (admins and managers): every job the user sees with its live progress,
//! the forms that cancel, resume and run a job for real, and what a job looks like as a
//! row. One job's page is [`super::job_page`].
//!
//! Progress is live through htmx: while a job is unfinished, the part of the page that
//! changes polls its own address every second (`hx-get`, `hx-trigger="every 1s"`), and
//! the handler answers that partial alone on `HX-Request`; once every job shown has
//! ended, the partial comes back without the trigger and the polling stops. Without
//! JavaScript a reload shows the same.
//!
//! "Run it for real" starts the dry run's action with its parameters on its targets as
//! the job recorded them: a segment runs on the segment (its members now), a filter on
//! the filter and search again, and ticked contacts on the very contacts the dry run
//! froze ([`kartoteka_core::jobs::Jobs::job_target_ids`]).

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::jobs::{ActionRequest, Job, JobState, Targets};
use serde_json::Value as Json;

use super::Nav;
use super::contact_lists::back_url;
use super::flash::{self, Flash};
use super::job_page;
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{CheckedForm, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// Jobs per page of the list.
const PAGE: u64 = 50;

/// The job routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::JOBS, get(list))
        .route("/jobs/{id}", get(job_page::show))
        .route("/jobs/{id}/{action}", get(to_job).post(act))
}

/// Whether the request is htmx's (it wants the partial).
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.get("hx-request").is_some_and(|v| v.as_bytes() == b"true")
}

/// `response`, marked as varying with `HX-Request` (a page or its partial).
pub fn varies(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request"));
    response
}

pub(super) fn parse_id(id: &str) -> Result<i64, PageError> {
    id.parse().map_err(|_| PageError::Core(Error::NotFound { what: "job" }))
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// A job as a row of the list (and the head of its page).
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub url: String,
    /// The action's label (its name when the plugin is gone).
    pub action: String,
    pub action_name: String,
    pub dry_run: bool,
    /// What it targeted, in words, and the segment's page when it was one.
    pub target: String,
    pub target_url: Option<String>,
    pub state: &'static str,
    pub reason: String,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    pub processed: i64,
    /// 0 to 100, whole.
    pub percent: String,
    /// Targets per second, or empty.
    pub rate: String,
    pub created: String,
    pub started: String,
    pub finished: String,
    pub unfinished: bool,
    pub can_cancel: bool,
    pub can_resume: bool,
    pub cancel_url: String,
    pub resume_url: String,
}

impl JobRow {
    fn new(job: &Job, labels: &HashMap<String, String>, target: (String, Option<String>)) -> Self {
        JobRow {
            id: job.id,
            url: urls::job(job.id),
            action: labels.get(&job.action).cloned().unwrap_or_else(|| job.action.clone()),
            action_name: job.action.clone(),
            dry_run: job.dry_run,
            target: target.0,
            target_url: target.1,
            state: job.state.as_str(),
            reason: job.reason.clone().unwrap_or_default(),
            total: job.total,
            done: job.done,
            failed: job.failed,
            skipped: job.skipped,
            processed: job.processed().min(job.total),
            percent: format!("{:.0}", job.percent().floor()),
            rate: job.rate().map(|r| format!("{r:.1}")).unwrap_or_default(),
            created: when(Some(job.created_at)),
            started: when(job.started_at),
            finished: when(job.finished_at),
            unfinished: !job.state.finished(),
            can_cancel: matches!(job.state, JobState::Queued | JobState::Running | JobState::Paused),
            can_resume: job.state == JobState::Paused,
            cancel_url: urls::job_action(job.id, "cancel"),
            resume_url: urls::job_action(job.id, "resume"),
        }
    }
}

/// The labels of the actions, by name.
async fn labels(state: &AppState) -> Result<HashMap<String, String>, Error> {
    Ok(state
        .core
        .plugins()
        .actions()
        .await?
        .into_iter()
        .map(|a| (a.name, a.label))
        .collect())
}

/// What `job` targeted, in words, with the segment's page when it was one; `describe`
/// puts a filter in words.
fn target(job: &Job, describe: &dyn Fn(&Json) -> String) -> (String, Option<String>) {
    let source = &job.source;
    if let Some(segment) = source.get("segment").and_then(Json::as_i64) {
        let name = source.get("name").and_then(Json::as_str).unwrap_or_default();
        return (format!("segment “{name}”"), Some(urls::segment(segment)));
    }
    if let Some(n) = source.get("contact_ids").and_then(Json::as_i64) {
        let text = if n == 1 {
            "1 contact".to_owned()
        } else {
            format!("{n} contacts")
        };
        return (text, None);
    }
    if let Some(filter) = source.get("filter") {
        let mut text = "contacts".to_owned();
        let empty = filter.is_null() || filter.as_object().is_some_and(|o| o.is_empty());
        if !empty {
            text.push_str(&format!(" matching “{}”", describe(filter)));
        }
        if let Some(q) = source.get("q").and_then(Json::as_str).filter(|q| !q.trim().is_empty()) {
            text.push_str(&format!(" found by “{q}”"));
        }
        if empty && !source.get("q").is_some_and(Json::is_string) {
            text = "all contacts".into();
        }
        return (text, None);
    }
    (source.to_string(), None)
}

pub(super) async fn rows(state: &AppState, actor: &Actor, jobs: &[Job]) -> Result<Vec<JobRow>, Error> {
    let labels = labels(state).await?;
    let describer = if jobs.iter().any(|j| j.source.get("filter").is_some()) {
        Some(state.core.filter_describer(actor).await?)
    } else {
        None
    };
    let describe = |f: &Json| describer.as_ref().map(|d| d.sentence(f)).unwrap_or_default();
    Ok(jobs
        .iter()
        .map(|j| JobRow::new(j, &labels, target(j, &describe)))
        .collect())
}

/// The jobs table, the live part of the list.
#[derive(Debug, Clone)]
pub struct JobsTable {
    pub rows: Vec<JobRow>,
    pub csrf_token: String,
    /// Whether it polls (some job shown is unfinished).
    pub live: bool,
    /// This page's address, which the polling asks again.
    pub url: String,
    pub older_url: Option<String>,
    pub newest_url: Option<String>,
}

#[derive(Template)]
#[template(path = "jobs/list.html")]
struct ListPage {
    nav: Nav,
    notice: Option<String>,
    table: JobsTable,
}

#[derive(Template)]
#[template(path = "jobs/_table.html")]
struct TablePartial {
    table: JobsTable,
}

/// `GET /jobs?before=`: the jobs, newest first; the table alone for htmx.
async fn list(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let pairs = query_pairs(query.as_deref());
    let before = param(&pairs, "before").and_then(|b| b.trim().parse::<i64>().ok());
    let jobs = state.core.jobs().list_jobs(&user.actor, before, PAGE).await?;
    let url = match before {
        Some(b) => format!("{}?before={b}", urls::JOBS),
        None => urls::JOBS.to_owned(),
    };
    let older_url = (jobs.len() as u64 == PAGE)
        .then(|| jobs.last().map(|j| format!("{}?before={}", urls::JOBS, j.id)))
        .flatten();
    let rows = rows(&state, &user.actor, &jobs).await?;
    let table = JobsTable {
        live: rows.iter().any(|r| r.unfinished),
        rows,
        csrf_token: user.csrf_token.clone(),
        url,
        older_url,
        newest_url: before.map(|_| urls::JOBS.to_owned()),
    };
    if is_htmx(&headers) {
        return Ok(varies(render(&TablePartial { table })?.into_response()));
    }
    let mut response = render(&ListPage {
        nav: Nav::new(&user, "jobs"),
        notice: flash.message(),
        table,
    })?
    .into_response();
    flash.clear(&state, &mut response);
    Ok(varies(response))
}

/// A GET on a job form's address (a reload): the job's page.
async fn to_job(Path((id, _)): Path<(String, String)>) -> Result<Redirect, PageError> {
    Ok(Redirect::to(&urls::job(parse_id(&id)?)))
}

/// What a dry run targeted, to run it for real: the segment, the filter and search, or
/// the contacts it froze.
async fn same_targets(state: &AppState, actor: &Actor, job: &Job) -> Result<Targets, Error> {
    let source = &job.source;
    if let Some(segment) = source.get("segment").and_then(Json::as_i64) {
        return Ok(Targets::Segment(segment));
    }
    if let Some(filter) = source.get("filter") {
        return Ok(Targets::Matching {
            filter: filter.clone(),
            q: source.get("q").and_then(Json::as_str).map(str::to_owned),
        });
    }
    Ok(Targets::Contacts(
        state.core.jobs().job_target_ids(actor, job.id).await?,
    ))
}

/// `POST /jobs/{id}/{cancel|resume|run}`.
async fn act(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let actor = &user.actor;
    let back = match form.get("back") {
        Some(_) => back_url(&form),
        None => urls::job(id),
    };
    let result = match action.as_str() {
        "cancel" => state.core.jobs().cancel_job(actor, id).await.map(|job| {
            let message = if job.state == JobState::Cancelling {
                format!("Job {id} is stopping: the batch in flight is dropped.")
            } else {
                format!("Cancelled job {id}.")
            };
            (back, message)
        }),
        "resume" => state
            .core
            .jobs()
            .resume_job(actor, id)
            .await
            .map(|_| (back, format!("Resumed job {id}."))),
        "run" => {
            let job = state.core.jobs().get_job(actor, id).await?;
            if !(job.dry_run && job.state == JobState::Done) {
                Err(Error::conflict(format!(
                    "job {id} is not a finished dry run; only those can be run for real"
                )))
            } else {
                match same_targets(&state, actor, &job).await {
                    Ok(targets) => {
                        let request = ActionRequest {
                            action: job.action.clone(),
                            params: job.params.clone(),
                            dry_run: false,
                            targets,
                        };
                        state.core.jobs().start(actor, request).await.map(|started| {
                            (
                                urls::job(started.id),
                                format!("Started job {} from the dry run {id}.", started.id),
                            )
                        })
                    }
                    Err(e) => Err(e),
                }
            }
        }
        _ => return Err(PageError::Core(Error::NotFound { what: "page" })),
    };
    match result {
        Ok((target, message)) => Ok(flash::redirect(&state, &target, &message)),
        Err(e @ (Error::Conflict { .. } | Error::Validation { .. } | Error::Invalid(_) | Error::Forbidden(_))) => {
            let cursors = job_page::Cursors {
                failed_after: None,
                skipped_after: None,
            };
            job_page::show_page(&state, &user, id, &cursors, None, Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}
