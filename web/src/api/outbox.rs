//! `/outbox` and `/jobs/{id}/email`: the messages queued and handed off (admins), and a
//! sending job's numbers (sent, failed, skipped, opened, clicked, unsubscribed); before a
//! run, `/actions/preview` (what an action answers for one contact) and
//! `/actions/test-message` (a sending action's message to the caller's own address).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kartoteka_core::mail::OutboxItem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::ErrorBody;
use super::json::{ApiJson, next_cursor, number_param, page_limit, param, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// A message in the outbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: i64,
    /// The job that sent it; `null` for a test send.
    pub job_id: Option<i64>,
    pub contact_id: i64,
    pub recipient: String,
    pub subject: String,
    /// queued, sent, failed or skipped.
    pub state: String,
    pub attempts: i32,
    /// The server's last answer, or why it failed or was skipped.
    pub answer: Option<String>,
    /// smtp or local, once handed off.
    pub transport: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub clicked_at: Option<DateTime<Utc>>,
}

impl From<OutboxItem> for MessageOut {
    fn from(m: OutboxItem) -> Self {
        MessageOut {
            id: m.id,
            job_id: m.job_id,
            contact_id: m.contact_id,
            recipient: m.recipient,
            subject: m.subject,
            state: m.state,
            attempts: m.attempts,
            answer: m.answer,
            transport: m.transport,
            created_at: m.created_at,
            next_attempt_at: m.next_attempt_at,
            sent_at: m.sent_at,
            opened_at: m.opened_at,
            clicked_at: m.clicked_at,
        }
    }
}

/// A page of messages, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageList {
    pub items: Vec<MessageOut>,
    /// The `before` of the next (older) page, or `null`.
    pub next: Option<String>,
}

/// A message as it goes out.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDetail {
    #[serde(flatten)]
    pub message: MessageOut,
    /// The headers, in order: `[name, value]`.
    pub headers: Vec<(String, String)>,
    pub html: String,
    pub text: String,
}

/// A sending job's numbers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignOut {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    /// Skipped at the handoff (unsubscribed or do-not-contact since the job started).
    pub skipped: i64,
    pub opened: i64,
    pub clicked: i64,
    pub unsubscribed: i64,
    pub timeline: Vec<CampaignPointOut>,
}

/// Sent, opened and clicked messages in one bucket of time.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignPointOut {
    pub at: DateTime<Utc>,
    pub sent: i64,
    pub opened: i64,
    pub clicked: i64,
}

/// The outbox, newest first (admins).
#[utoipa::path(get, path = "/api/v1/outbox",
    params(("state" = Option<String>, Query, description = "queued, sent, failed or skipped"),
           ("job_id" = Option<i64>, Query),
           ("limit" = Option<u64>, Query, description = "1-500, default 50"),
           ("before" = Option<i64>, Query, description = "the `next` of the previous page")),
    responses((status = 200, body = MessageList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<MessageList>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let limit = page_limit(&pairs)?;
    let wanted = match param(&pairs, "state").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) if ["queued", "sent", "failed", "skipped"].contains(&s) => Some(s),
        Some(s) => {
            return Err(ApiError::invalid(
                "state",
                format!("unknown state `{s}`; expected queued, sent, failed or skipped"),
            ));
        }
    };
    let items = state
        .core
        .mail()
        .list_outbox(
            &actor,
            wanted,
            number_param(&pairs, "job_id")?,
            number_param(&pairs, "before")?,
            limit,
        )
        .await?;
    let next = next_cursor(&items, limit, |m| m.id);
    Ok(Json(MessageList {
        items: items.into_iter().map(MessageOut::from).collect(),
        next,
    }))
}

/// One message as it goes out: headers, HTML and text (admins).
#[utoipa::path(get, path = "/api/v1/outbox/{id}",
    params(("id" = i64, Path)),
    responses((status = 200, body = MessageDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<MessageDetail>, ApiError> {
    let id = path_id(&id, "message")?;
    let m = state.core.mail().outbox_message(&actor, id).await?;
    Ok(Json(MessageDetail {
        message: m.item.into(),
        headers: m.headers,
        html: m.html,
        text: m.text,
    }))
}

/// A sending job's numbers: its messages by state, opens, clicks, unsubscribes, and
/// their timeline.
#[utoipa::path(get, path = "/api/v1/jobs/{id}/email",
    params(("id" = i64, Path)),
    responses((status = 200, body = CampaignOut), (status = 404, body = ErrorBody)))]
pub async fn campaign(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<CampaignOut>, ApiError> {
    let id = path_id(&id, "job")?;
    state.core.jobs().get_job(&actor, id).await?;
    let c = state.core.mail().campaign(id).await?;
    Ok(Json(CampaignOut {
        queued: c.queued,
        sent: c.sent,
        failed: c.failed,
        skipped: c.skipped,
        opened: c.opened,
        clicked: c.clicked,
        unsubscribed: c.unsubscribed,
        timeline: c
            .timeline
            .into_iter()
            .map(|(at, sent, opened, clicked)| CampaignPointOut {
                at,
                sent,
                opened,
                clicked,
            })
            .collect(),
    }))
}

/// An action tried on one contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionTryIn {
    /// `plugin.action`, e.g. `email.send_email`.
    pub action: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
    /// A contact the caller sees, to render for.
    pub contact_id: i64,
}

/// What the action answers for the contact, applying nothing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionPreviewOut {
    /// `{"kind": "send_email", "to", "subject", "html", "text"}`, ...
    #[schema(value_type = Vec<Object>)]
    pub effects: Vec<serde_json::Value>,
}

/// A queued test message.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestMessageOut {
    /// Its id in the outbox.
    pub message_id: i64,
    /// Where it goes: the caller's own address.
    pub to: String,
}

/// What an action answers for one contact, applying nothing (admins and managers).
#[utoipa::path(post, path = "/api/v1/actions/preview", request_body = ActionTryIn,
    responses((status = 200, body = ActionPreviewOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 502, body = ErrorBody, description = "the plugin failed; the message names it and says why")))]
pub async fn preview(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<ActionTryIn>,
) -> Result<Json<ActionPreviewOut>, ApiError> {
    let effects = state
        .core
        .jobs()
        .preview(&actor, &body.action, body.params.as_ref(), body.contact_id)
        .await?;
    Ok(Json(ActionPreviewOut {
        effects: effects
            .iter()
            .map(|e| serde_json::to_value(e).unwrap_or_default())
            .collect(),
    }))
}

/// A sending action's message rendered for one contact and queued to the caller's own
/// address, marked `[Test]` (admins and managers; 409 when the server can't send).
#[utoipa::path(post, path = "/api/v1/actions/test-message", request_body = ActionTryIn,
    responses((status = 202, body = TestMessageOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 502, body = ErrorBody, description = "the plugin failed; the message names it and says why")))]
pub async fn test_message(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<ActionTryIn>,
) -> Result<(StatusCode, Json<TestMessageOut>), ApiError> {
    let id = state
        .core
        .jobs()
        .send_test(&actor, &body.action, body.params.as_ref(), body.contact_id)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(TestMessageOut {
            message_id: id,
            to: actor.email.clone(),
        }),
    ))
}
