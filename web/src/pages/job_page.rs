//! One job's page: its progress (live while it runs, see [`super::jobs`]), its
//! parameters, its effects by kind, the effects it sampled (a dry run's "what the run would
//! do", with the contacts linked to their cards), its failed and skipped targets with their
//! reasons in pages of [`OUTCOMES`] by contact id, and "Run it for real" after a dry run.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::jobs::{JobState, Outcome, OutcomeKind, Sample};
use serde_json::Value as Json;

use super::Nav;
use super::flash::Flash;
use super::jobs::{JobRow, is_htmx, parse_id, rows, varies};
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::SessionUser;
use crate::error::{PageError, render};
use crate::urls;

/// Failed (or skipped) targets per page.
const OUTCOMES: u64 = 100;

/// An effect a job computed, to show.
#[derive(Debug, Clone)]
pub struct ShownEffect {
    pub contact_url: String,
    pub contact_name: String,
    pub kind: String,
    /// (what, value) of each of its parts.
    pub details: Vec<(String, String)>,
}

/// A failed or skipped target.
#[derive(Debug, Clone)]
pub struct ShownOutcome {
    pub contact_id: i64,
    pub contact_url: String,
    /// Empty when the contact was deleted since.
    pub contact_name: String,
    pub reason: String,
}

/// A page of failed or skipped targets.
#[derive(Debug, Clone, Default)]
pub struct OutcomePage {
    pub items: Vec<ShownOutcome>,
    pub next_url: Option<String>,
    pub first_url: Option<String>,
}

/// The live part of a job's page.
#[derive(Debug, Clone)]
pub struct JobDetail {
    pub row: JobRow,
    pub csrf_token: String,
    /// Whether it polls (the job is unfinished).
    pub live: bool,
    /// This page's address, which the polling asks again.
    pub url: String,
    /// The parameters as pretty JSON.
    pub params: String,
    pub effects: i64,
    /// (kind, count).
    pub effect_counts: Vec<(String, i64)>,
    pub samples: Vec<ShownEffect>,
    pub failed: OutcomePage,
    pub skipped: OutcomePage,
    /// "Run it for real", once a dry run is done.
    pub run_url: Option<String>,
    /// Skipped targets by reason, most first.
    pub skipped_reasons: Vec<(String, i64)>,
    /// A sending job's campaign: its messages' numbers and their timeline.
    pub campaign: Option<ShownCampaign>,
}

/// A sending job's messages: how many are queued, sent, failed, skipped at the handoff,
/// opened, clicked, and the unsubscribes, with sent / opened / clicked over time as bars
/// (an inline SVG drawn from these numbers; the same numbers are in the table under it).
#[derive(Debug, Clone)]
pub struct ShownCampaign {
    /// Messages not handed off yet ("Stop sending" skips them).
    pub queued: i64,
    pub counts: Vec<(&'static str, &'static str, i64)>,
    pub bars: Vec<CampaignBar>,
    pub width: u32,
    pub bar_width: String,
}

/// One bucket of the campaign's timeline, with where its bars are drawn.
#[derive(Debug, Clone)]
pub struct CampaignBar {
    pub at: String,
    pub sent: i64,
    pub opened: i64,
    pub clicked: i64,
    pub x: String,
    pub sent_y: String,
    pub sent_h: String,
    pub opened_x: String,
    pub opened_y: String,
    pub opened_h: String,
    pub clicked_x: String,
    pub clicked_y: String,
    pub clicked_h: String,
}

/// Chart height in pixels (the bars' room).
const CHART_HEIGHT: f64 = 120.0;

fn shown_campaign(c: kartoteka_core::mail::Campaign) -> ShownCampaign {
    let counts = vec![
        ("queued", "Queued", c.queued),
        ("sent", "Sent", c.sent),
        ("failed", "Failed", c.failed),
        ("skipped", "Skipped at sending", c.skipped),
        ("opened", "Opened", c.opened),
        ("clicked", "Clicked", c.clicked),
        ("unsubscribed", "Unsubscribed", c.unsubscribed),
    ];
    let points: Vec<_> = c.timeline.iter().rev().take(60).rev().collect();
    let max = points.iter().map(|p| p.1.max(p.2).max(p.3)).max().unwrap_or(0).max(1) as f64;
    let slot = 30.0_f64;
    let bar = slot / 3.0 - 1.0;
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, (at, sent, opened, clicked))| {
            let x = i as f64 * slot;
            let h = |n: i64| n as f64 / max * CHART_HEIGHT;
            CampaignBar {
                at: at.format("%Y-%m-%d %H:%M").to_string(),
                sent: *sent,
                opened: *opened,
                clicked: *clicked,
                x: format!("{x:.1}"),
                sent_y: format!("{:.1}", CHART_HEIGHT - h(*sent)),
                sent_h: format!("{:.1}", h(*sent)),
                opened_x: format!("{:.1}", x + bar + 1.0),
                opened_y: format!("{:.1}", CHART_HEIGHT - h(*opened)),
                opened_h: format!("{:.1}", h(*opened)),
                clicked_x: format!("{:.1}", x + 2.0 * (bar + 1.0)),
                clicked_y: format!("{:.1}", CHART_HEIGHT - h(*clicked)),
                clicked_h: format!("{:.1}", h(*clicked)),
            }
        })
        .collect::<Vec<_>>();
    ShownCampaign {
        queued: c.queued,
        counts,
        width: (bars.len().max(1) as f64 * slot) as u32,
        bar_width: format!("{bar:.1}"),
        bars,
    }
}

#[derive(Template)]
#[template(path = "jobs/show.html")]
struct ShowPage {
    nav: Nav,
    notice: Option<String>,
    /// Why "Run it for real" was refused.
    error: Option<String>,
    job: JobDetail,
}

#[derive(Template)]
#[template(path = "jobs/_job.html")]
struct JobPartial {
    job: JobDetail,
}

fn shown_value(key: &str, value: &Json, users: &HashMap<i64, String>) -> String {
    let user = |id: i64| users.get(&id).cloned().unwrap_or_else(|| format!("user {id}"));
    match (key, value) {
        (_, Json::Null) => "—".into(),
        (_, Json::String(s)) => s.clone(),
        ("assignee", Json::Number(n)) => n.as_i64().map(user).unwrap_or_else(|| n.to_string()),
        ("due" | "at" | "send_at", Json::Number(n)) => n
            .as_i64()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| n.to_string()),
        ("principal", Json::Object(o)) => match (o.get("user").and_then(Json::as_i64), o.get("role")) {
            (Some(id), _) => user(id),
            (None, Some(Json::String(role))) => format!("everyone with the role {role}"),
            _ => value.to_string(),
        },
        (_, other) => other.to_string(),
    }
}

fn shown_effect(sample: Sample, users: &HashMap<i64, String>) -> ShownEffect {
    let mut details = Vec::new();
    let mut kind = String::new();
    if let Json::Object(parts) = &sample.effect {
        for (key, value) in parts {
            match key.as_str() {
                "kind" => kind = value.as_str().unwrap_or_default().replace('_', " "),
                "contact_id" => {}
                _ if value.is_null() || value.as_str().is_some_and(str::is_empty) => {}
                _ => details.push((key.replace('_', " "), shown_value(key, value, users))),
            }
        }
    }
    ShownEffect {
        contact_url: urls::contact(sample.contact_id),
        contact_name: sample
            .contact_name
            .unwrap_or_else(|| format!("contact {} (deleted)", sample.contact_id)),
        kind,
        details,
    }
}

fn shown_outcome(o: Outcome) -> ShownOutcome {
    ShownOutcome {
        contact_id: o.contact_id,
        contact_url: urls::contact(o.contact_id),
        contact_name: o.contact_name.unwrap_or_default(),
        reason: o.reason.unwrap_or_default(),
    }
}

/// The page's query: where the failed and skipped lists start.
pub(super) struct Cursors {
    pub failed_after: Option<i64>,
    pub skipped_after: Option<i64>,
}

impl Cursors {
    fn url(&self, id: i64, failed: Option<i64>, skipped: Option<i64>) -> String {
        let mut parts = Vec::new();
        if let Some(f) = failed {
            parts.push(format!("failed_after={f}"));
        }
        if let Some(s) = skipped {
            parts.push(format!("skipped_after={s}"));
        }
        if parts.is_empty() {
            urls::job(id)
        } else {
            format!("{}?{}", urls::job(id), parts.join("&"))
        }
    }
}

async fn outcomes(
    state: &AppState,
    actor: &Actor,
    id: i64,
    kind: OutcomeKind,
    cursors: &Cursors,
) -> Result<OutcomePage, Error> {
    let after = match kind {
        OutcomeKind::Failed => cursors.failed_after,
        _ => cursors.skipped_after,
    };
    let items = state.core.jobs().job_outcomes(actor, id, kind, after, OUTCOMES).await?;
    let next = (items.len() as u64 == OUTCOMES)
        .then(|| items.last().map(|o| o.contact_id))
        .flatten();
    let link = |at: Option<i64>| match kind {
        OutcomeKind::Failed => cursors.url(id, at, cursors.skipped_after),
        _ => cursors.url(id, cursors.failed_after, at),
    };
    Ok(OutcomePage {
        next_url: next.map(|n| link(Some(n))),
        first_url: after.map(|_| link(None)),
        items: items.into_iter().map(shown_outcome).collect(),
    })
}

async fn detail(state: &AppState, user: &SessionUser, id: i64, cursors: &Cursors) -> Result<JobDetail, Error> {
    let actor = &user.actor;
    let job = state.core.jobs().get_job(actor, id).await?;
    let row = rows(state, actor, std::slice::from_ref(&job))
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound { what: "job" })?;
    let users: HashMap<i64, String> = state.core.contacts().people(actor).await?.into_iter().collect();
    let samples = state
        .core
        .jobs()
        .job_samples(actor, id)
        .await?
        .into_iter()
        .map(|s| shown_effect(s, &users))
        .collect();
    let campaign = if !job.dry_run && job.effect_counts.contains_key("send_email") {
        Some(shown_campaign(state.core.mail().campaign(id).await?))
    } else {
        None
    };
    Ok(JobDetail {
        // A sending job's page follows its messages until the last is handed off.
        live: row.unfinished || campaign.as_ref().is_some_and(|c| c.queued > 0),
        csrf_token: user.csrf_token.clone(),
        url: cursors.url(id, cursors.failed_after, cursors.skipped_after),
        params: job
            .params
            .as_ref()
            .and_then(|p| serde_json::to_string_pretty(p).ok())
            .unwrap_or_else(|| "none".into()),
        effects: job.effects,
        effect_counts: job
            .effect_counts
            .iter()
            .map(|(k, v)| (k.replace('_', " "), *v))
            .collect(),
        samples,
        failed: outcomes(state, actor, id, OutcomeKind::Failed, cursors).await?,
        skipped: outcomes(state, actor, id, OutcomeKind::Skipped, cursors).await?,
        run_url: (job.dry_run && job.state == JobState::Done).then(|| urls::job_action(id, "run")),
        skipped_reasons: state.core.jobs().skipped_by_reason(actor, id).await?,
        campaign,
        row,
    })
}

pub(super) async fn show_page(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    cursors: &Cursors,
    notice: Option<String>,
    error: Option<Error>,
) -> Result<Response, PageError> {
    let job = detail(state, user, id, cursors).await?;
    let status = error
        .as_ref()
        .map(|e| crate::error::classify(e).0)
        .unwrap_or(StatusCode::OK);
    let error = match error {
        Some(e @ (Error::Db(_) | Error::Internal(_))) => return Err(e.into()),
        Some(e) => Some(
            e.problems()
                .into_iter()
                .map(|p| {
                    if p.path.is_empty() {
                        p.message
                    } else {
                        format!("{}: {}", p.path, p.message)
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        )
        .filter(|m| !m.is_empty())
        .or_else(|| Some(crate::error::public_message(&e))),
        None => None,
    };
    let html = render(&ShowPage {
        nav: Nav::new(user, "jobs"),
        notice,
        error,
        job,
    })?;
    Ok((status, html).into_response())
}

/// `GET /jobs/{id}?failed_after=&skipped_after=`: the job; its live part alone for htmx.
pub(super) async fn show(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let pairs = query_pairs(query.as_deref());
    let cursor = |name: &str| param(&pairs, name).and_then(|v| v.trim().parse::<i64>().ok());
    let cursors = Cursors {
        failed_after: cursor("failed_after"),
        skipped_after: cursor("skipped_after"),
    };
    if is_htmx(&headers) {
        let job = detail(&state, &user, id, &cursors).await?;
        return Ok(varies(render(&JobPartial { job })?.into_response()));
    }
    let mut response = show_page(&state, &user, id, &cursors, flash.message(), None).await?;
    flash.clear(&state, &mut response);
    Ok(varies(response))
}
