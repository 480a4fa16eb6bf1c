//! The Plugins page (admins): installed plugins with what they offer and ask for, their
//! status and recent log; upload (install or upgrade); approve, enable, disable, remove.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kartoteka_core::Error;
use kartoteka_core::plugin::limits::MAX_COMPONENT_SIZE;
use kartoteka_core::plugin::{Installed, Kind, PluginInfo};

use super::Nav;
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
        .route("/plugins/{name}/{action}", post(act))
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

async fn list(State(state): State<AppState>, user: SessionUser) -> Result<Response, PageError> {
    page(&state, &user, None, None).await
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
            page(&state, &user, Some(notice), None).await
        }
        Err(e) => page(&state, &user, None, Some(e)).await,
    }
}

/// Approve, enable, disable or remove.
async fn act(
    State(state): State<AppState>,
    Path((name, action)): Path<(String, String)>,
    CheckedForm { user, .. }: CheckedForm,
) -> Result<Response, PageError> {
    let admin = state.core.plugins().admin(&user.actor)?;
    let done = match action.as_str() {
        "approve" => admin
            .approve(&name)
            .await
            .map(|_| format!("Approved what {name} asks for.")),
        "enable" => admin.enable(&name).await.map(|_| format!("Enabled {name}.")),
        "disable" => admin.disable(&name).await.map(|_| format!("Disabled {name}.")),
        "remove" => admin.remove(&name).await.map(|_| format!("Removed {name}.")),
        _ => return Err(PageError::Core(Error::NotFound { what: "page" })),
    };
    match done {
        Ok(notice) => page(&state, &user, Some(notice), None).await,
        Err(e) => page(&state, &user, None, Some(e)).await,
    }
}
