//! E-mail in the pages: what a recipient's links reach (the unsubscribe page and its
//! one-click POST, the open pixel, the click redirect: no session, the signed token is
//! the permission, no CSRF token since no session is involved) and the Outbox for admins
//! (every message with its state, and one message as it went out: headers, HTML, text).

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use kartoteka_core::Error;
use kartoteka_core::mail::OutboxItem;

use super::Nav;
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::SessionUser;
use crate::error::{PageError, render};
use crate::urls;

/// Messages per Outbox page.
const PAGE: u64 = 100;

/// The mail routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/m/u/{token}", get(unsubscribe_page).post(unsubscribe))
        .route("/m/o/{token}", get(open_pixel))
        .route("/m/c/{token}", get(click))
        .route(urls::OUTBOX, get(outbox))
        .route("/outbox/{id}", get(message))
}

#[derive(Template)]
#[template(path = "mail/unsubscribe.html")]
struct UnsubscribePage {
    address: String,
    done: bool,
    action: String,
}

/// A GET of the unsubscribe link: asks, changes nothing (mail scanners follow links).
async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let page = state.core.mail().unsubscribe_page(&token).await?;
    let mut response = render(&UnsubscribePage {
        address: page.address,
        done: page.done,
        action: format!("/m/u/{}", urls::encode(&token)),
    })?
    .into_response();
    no_store(&mut response);
    Ok(response)
}

/// A POST of the unsubscribe link (a mail client's one-click button, RFC 8058, or the
/// page's button): unsubscribes at once.
async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    let page = state.core.mail().unsubscribe(&token).await?;
    let mut response = render(&UnsubscribePage {
        address: page.address,
        done: page.done,
        action: String::new(),
    })?
    .into_response();
    no_store(&mut response);
    Ok(response)
}

fn no_store(response: &mut Response) {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
}

/// A transparent 1×1 GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// The open pixel: records the open.
async fn open_pixel(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response, PageError> {
    state.core.mail().opened(&token).await?;
    Ok((
        [(header::CONTENT_TYPE, "image/gif"), (header::CACHE_CONTROL, "no-store")],
        PIXEL,
    )
        .into_response())
}

/// A clicked link: records the click and redirects to the URL the message had (the
/// token signs it; any other URL is refused as an unknown link).
async fn click(
    State(state): State<AppState>,
    Path(token): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let pairs = query_pairs(query.as_deref());
    let url = param(&pairs, "u").unwrap_or_default();
    let to = state.core.mail().clicked(&token, url).await?;
    Ok(Redirect::to(&to).into_response())
}

/// A message as a row.
pub struct ShownMessage {
    pub id: i64,
    pub url: String,
    pub recipient: String,
    pub subject: String,
    pub state: String,
    pub attempts: i32,
    pub sent: String,
    pub job: String,
    pub job_url: Option<String>,
    pub answer: String,
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

impl From<OutboxItem> for ShownMessage {
    fn from(m: OutboxItem) -> Self {
        ShownMessage {
            id: m.id,
            url: format!("{}/{}", urls::OUTBOX, m.id),
            recipient: m.recipient,
            subject: m.subject,
            answer: match m.state.as_str() {
                "queued" if m.attempts > 0 => format!(
                    "{} (next attempt {})",
                    m.answer.unwrap_or_default(),
                    when(Some(m.next_attempt_at))
                ),
                _ => m.answer.unwrap_or_default(),
            },
            state: m.state,
            attempts: m.attempts,
            sent: when(m.sent_at),
            job: m.job_id.map(|j| j.to_string()).unwrap_or_default(),
            job_url: m.job_id.map(urls::job),
        }
    }
}

#[derive(Template)]
#[template(path = "mail/outbox.html")]
struct OutboxPage {
    nav: Nav,
    destination: String,
    sendable: bool,
    refusal: String,
    /// (label, url, current)
    filters: Vec<(&'static str, String, bool)>,
    items: Vec<ShownMessage>,
    older_url: Option<String>,
}

/// The Outbox: every message, newest first; `?state=` narrows it. Admins only.
async fn outbox(
    State(state): State<AppState>,
    user: SessionUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let pairs = query_pairs(query.as_deref());
    let wanted = param(&pairs, "state").filter(|s| ["queued", "sent", "failed", "skipped"].contains(s));
    let before = param(&pairs, "before").and_then(|b| b.trim().parse::<i64>().ok());
    let items = state
        .core
        .mail()
        .list_outbox(&user.actor, wanted, None, before, PAGE)
        .await?;
    let link = |s: Option<&str>, before: Option<i64>| {
        let mut parts = Vec::new();
        if let Some(s) = s {
            parts.push(format!("state={s}"));
        }
        if let Some(b) = before {
            parts.push(format!("before={b}"));
        }
        if parts.is_empty() {
            urls::OUTBOX.to_owned()
        } else {
            format!("{}?{}", urls::OUTBOX, parts.join("&"))
        }
    };
    let older_url = (items.len() as u64 == PAGE)
        .then(|| items.last().map(|m| link(wanted, Some(m.id))))
        .flatten();
    let filters = [
        ("All", None),
        ("Queued", Some("queued")),
        ("Sent", Some("sent")),
        ("Failed", Some("failed")),
        ("Skipped", Some("skipped")),
    ]
    .into_iter()
    .map(|(label, s)| (label, link(s, None), s == wanted))
    .collect();
    let config = state.core.mail().settings().get();
    render(&OutboxPage {
        nav: Nav::new(&user, "outbox"),
        destination: config.destination(),
        sendable: config.refusal().is_none(),
        refusal: config.refusal().unwrap_or_default(),
        filters,
        items: items.into_iter().map(ShownMessage::from).collect(),
        older_url,
    })
    .map(IntoResponse::into_response)
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct MessagePage {
    nav: Nav,
    m: ShownMessage,
    headers: Vec<(String, String)>,
    html: String,
    text: String,
}

/// One message as it goes out. Admins only.
async fn message(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: i64 = id.trim().parse().map_err(|_| Error::NotFound { what: "message" })?;
    let message = state.core.mail().outbox_message(&user.actor, id).await?;
    render(&MessagePage {
        nav: Nav::new(&user, "outbox"),
        m: message.item.into(),
        headers: message.headers,
        html: message.html,
        text: message.text,
    })
    .map(IntoResponse::into_response)
}
