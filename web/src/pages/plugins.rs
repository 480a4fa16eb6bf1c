//! The Plugins page (admins): installed plugins with what they offer and ask for, their
//! status and recent log; upload (install or upgrade); approve, enable, disable, remove.
//!
//! Every form that succeeds redirects back to the page with a notice. Disabling and
//! removing ask first: their buttons lead to `GET /plugins/{name}/{action}`, a page that
//! says what will follow (the segments whose filters use the plugin and will need
//! attention) and holds the confirming form. A post without `confirm` (no page sent it)
//! is led to that page too and changes nothing.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::plugin::limits::{Grant, MAX_COMPONENT_SIZE};
use kartoteka_core::plugin::{Installed, Kind, PluginInfo};

use super::Nav;
use super::flash::{self, Flash};
use crate::app::AppState;
use crate::auth::{CheckedForm, SessionUser, constant_time_eq};
use crate::error::{PageError, render};
use crate::urls;

/// Log lines shown per plugin.
const LOG_LINES: u64 = 8;

/// The plugin routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            urls::PLUGINS,
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(MAX_COMPONENT_SIZE + (64 << 10))),
        )
        .route("/plugins/{name}/{action}", get(confirm).post(act))
}

/// A plugin as a table row.
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub version: String,
    pub description: String,
    pub kind: &'static str,
    pub builtin: bool,
    pub enabled: bool,
    pub approved: bool,
    /// (name, label) of each operator, criterion or action.
    pub offers: Vec<(String, String)>,
    pub capabilities: String,
    pub problem: Option<String>,
    pub log: Vec<String>,
    /// The memory of every call, MiB, and the deadline of a batch call, ms.
    pub memory_mb: u64,
    pub time_ms: u128,
    /// Whether an admin granted more than the defaults.
    pub granted: bool,
    pub approve_url: String,
    pub enable_url: String,
    pub disable_url: String,
    pub remove_url: String,
}

#[derive(Template)]
#[template(path = "plugins/list.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<Row>,
    notice: Option<String>,
    error: Option<String>,
}

async fn row(state: &AppState, p: PluginInfo) -> Result<Row, PageError> {
    let log = state
        .core
        .plugins()
        .logs(&p.name, LOG_LINES)
        .await?
        .into_iter()
        .map(|l| format!("{} {:>6} {}", l.at.format("%Y-%m-%d %H:%M:%S"), l.stream, l.line))
        .collect();
    Ok(Row {
        approved: p.approved(),
        memory_mb: (p.grant.memory() >> 20) as u64,
        time_ms: p.grant.batch_deadline().as_millis(),
        granted: !p.grant.is_default(),
        approve_url: urls::plugin_action(&p.name, "approve"),
        enable_url: urls::plugin_action(&p.name, "enable"),
        disable_url: urls::plugin_action(&p.name, "disable"),
        remove_url: urls::plugin_action(&p.name, "remove"),
        kind: p.kind.as_str(),
        capabilities: p.capabilities.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
        offers: p.offers.into_iter().map(|o| (o.name, o.label)).collect(),
        name: p.name,
        version: p.version,
        description: p.description,
        builtin: p.builtin,
        enabled: p.enabled,
        problem: p.problem,
        log,
    })
}

fn message(e: &Error) -> Result<String, PageError> {
    match e {
        Error::Db(_) | Error::Internal(_) => Err(PageError::Core(Error::Internal(e.to_string()))),
        Error::Validation { message, .. } => Ok(message.clone()),
        other => Ok(other.to_string()),
    }
}

async fn page(
    state: &AppState,
    user: &SessionUser,
    notice: Option<String>,
    error: Option<Error>,
) -> Result<Response, PageError> {
    let admin = state.core.plugins().admin(&user.actor)?;
    let mut rows = Vec::new();
    for p in admin.list().await? {
        rows.push(row(state, p).await?);
    }
    let status = error
        .as_ref()
        .map(|e| crate::error::classify(e).0)
        .unwrap_or(StatusCode::OK);
    let error = error.as_ref().map(message).transpose()?;
    let page = ListPage {
        nav: Nav::new(user, "plugins"),
        rows,
        notice,
        error,
    };
    Ok((status, render(&page)?).into_response())
}

async fn list(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    let mut response = page(&state, &user, flash.message(), None).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// The upload form: a multipart body with `csrf_token`, `wasm` (the file) and `kind`.
async fn upload(State(state): State<AppState>, user: SessionUser, mut form: Multipart) -> Result<Response, PageError> {
    let admin = state.core.plugins().admin(&user.actor)?;
    let (mut csrf, mut wasm, mut kind) = (String::new(), Vec::new(), String::new());
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                let error = Error::invalid("wasm", format!("the upload can't be read: {e}"));
                return page(&state, &user, None, Some(error)).await;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => {
                let error = Error::invalid(
                    "wasm",
                    format!("the upload can't be read (at most {MAX_COMPONENT_SIZE} bytes): {e}"),
                );
                return page(&state, &user, None, Some(error)).await;
            }
        };
        match name.as_str() {
            "csrf_token" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "wasm" => wasm = bytes.to_vec(),
            "kind" => kind = String::from_utf8_lossy(&bytes).trim().to_owned(),
            _ => {}
        }
    }
    if csrf.is_empty() || !constant_time_eq(csrf.as_bytes(), user.csrf_token.as_bytes()) {
        return Err(PageError::Csrf);
    }
    let expected = Kind::parse(&kind);
    match admin.install(wasm, expected).await {
        Ok((info, installed)) => {
            let notice = match installed {
                Installed::New => format!(
                    "Installed {} {} ({}), disabled. Approve what it asks for and enable it when ready.",
                    info.name,
                    info.version,
                    info.kind.as_str()
                ),
                Installed::Upgraded => format!("Upgraded {} to {}.", info.name, info.version),
            };
            Ok(flash::redirect(&state, urls::PLUGINS, &notice))
        }
        Err(e) => page(&state, &user, None, Some(e)).await,
    }
}

/// Whether `action` asks first.
fn asks_first(action: &str) -> bool {
    matches!(action, "disable" | "remove")
}

/// The segments whose filters use plugin `name`, as "3 segments use this plugin ...".
fn consequence(count: usize, verb: &str) -> Option<String> {
    match count {
        0 => None,
        1 => Some(format!(
            "1 segment uses this plugin and will need attention once it is {verb}:"
        )),
        n => Some(format!(
            "{n} segments use this plugin and will need attention once it is {verb}:"
        )),
    }
}

#[derive(Template)]
#[template(path = "plugins/confirm.html")]
struct ConfirmPage {
    nav: Nav,
    name: String,
    /// `disable` or `remove`.
    action: String,
    /// "Disable", "Remove".
    verb: &'static str,
    action_url: String,
    /// What will follow, when segments use the plugin.
    consequence: Option<String>,
    /// (url, name) of each segment that will need attention.
    segments: Vec<(String, String)>,
}

/// `GET /plugins/{name}/{action}`: for disable and remove, the page that asks first and
/// says what will follow; anything else (a reload of a form's address) goes to the list.
async fn confirm(
    State(state): State<AppState>,
    user: SessionUser,
    Path((name, action)): Path<(String, String)>,
) -> Result<Response, PageError> {
    state.core.plugins().admin(&user.actor)?;
    if !asks_first(&action) {
        return Ok(Redirect::to(urls::PLUGINS).into_response());
    }
    let info = state.core.plugins().get(&name).await?;
    let segments = state
        .core
        .segments()
        .segments_using_plugin(&user.actor, &info.name)
        .await?;
    let (verb, done) = if action == "disable" {
        ("Disable", "disabled")
    } else {
        ("Remove", "removed")
    };
    let page = ConfirmPage {
        nav: Nav::new(&user, "plugins"),
        action_url: urls::plugin_action(&info.name, &action),
        consequence: consequence(segments.len(), done),
        segments: segments.into_iter().map(|s| (urls::segment(s.id), s.name)).collect(),
        name: info.name,
        action,
        verb,
    };
    Ok(render(&page)?.into_response())
}

/// The limits the approve form grants: `memory_mb` and `time_ms`, each optional; both
/// empty leave the plugin's limits as they are.
fn granted(form: &crate::auth::FormData) -> Result<Option<Grant>, Error> {
    let mut problems = Vec::new();
    let mut number = |key: &str| {
        let text = form.text(key);
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        match text.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(kartoteka_core::error::Problem {
                    path: key.to_owned(),
                    message: format!("expected a whole number, found {text:?}"),
                });
                None
            }
        }
    };
    let (memory_mb, time_ms) = (number("memory_mb"), number("time_ms"));
    if let Some(error) = Error::from_problems(problems) {
        return Err(error);
    }
    if memory_mb.is_none() && time_ms.is_none() {
        return Ok(None);
    }
    Grant::new(memory_mb, time_ms).map(Some)
}

/// Approve, enable, disable or remove; disable and remove only with `confirm` (sent by
/// the page that asks first).
async fn act(
    State(state): State<AppState>,
    Path((name, action)): Path<(String, String)>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let admin = state.core.plugins().admin(&user.actor)?;
    if asks_first(&action) && !form.checked("confirm") {
        return Ok(Redirect::to(&urls::plugin_action(&name, &action)).into_response());
    }
    let used = if asks_first(&action) {
        state
            .core
            .segments()
            .segments_using_plugin(&user.actor, &name)
            .await?
            .len()
    } else {
        0
    };
    let attention = match used {
        0 => String::new(),
        1 => " 1 segment that uses it needs attention.".to_owned(),
        n => format!(" {n} segments that use it need attention."),
    };
    let done = match action.as_str() {
        "approve" => match granted(&form) {
            Ok(grant) => admin.approve(&name, grant).await.map(|info| {
                format!(
                    "Approved what {name} asks for; its calls get {}.",
                    kartoteka_core::plugin::describe_grant(&info.grant)
                )
            }),
            Err(e) => Err(e),
        },
        "enable" => admin.enable(&name).await.map(|_| format!("Enabled {name}.")),
        "disable" => admin
            .disable(&name)
            .await
            .map(|_| format!("Disabled {name}.{attention}")),
        "remove" => admin.remove(&name).await.map(|_| format!("Removed {name}.{attention}")),
        _ => return Err(PageError::Core(Error::NotFound { what: "page" })),
    };
    match done {
        Ok(notice) => Ok(flash::redirect(&state, urls::PLUGINS, &notice)),
        Err(e) => page(&state, &user, None, Some(e)).await,
    }
}
