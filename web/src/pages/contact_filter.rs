//! The filter of the contacts page: reading it from the URL, running it, and the two JSON
//! reads the filter builder (`assets/filter-builder.js`) makes with the page's session.
//!
//! - `GET /contacts/filter-fields`: the filter catalogue (`{fields: [{path, label, kind,
//!   options, operators}]}`) plus `operators: {"std.eq": {label, plugin, op, builtin,
//!   args_schema}}`, so the builder offers exactly the operators of the enabled plugins.
//! - `GET /contacts/count?filter=&q=`: `{"count": n}`, or a 400 `{"error": {code,
//!   message, path}}` naming the bad node (`and[1].or[0].value`).
//!
//! Both are reads, so they take no CSRF token; without a session they answer 401 as JSON
//! rather than the sign-in redirect a page gets. They call the same `core` services as
//! `GET /api/v1/contacts` and `/api/v1/contacts/count`.

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use kartoteka_core::Error;
use kartoteka_core::contacts::SearchQuery;
use kartoteka_core::filter::tree::parse_json;
use kartoteka_core::filter::{ContactQuery, Prepared};
use serde_json::{Map, Value, json};

use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::SessionUser;
use crate::error::{ApiError, PageError};
use crate::urls;

/// The builder's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::CONTACT_FILTER_FIELDS, get(filter_fields))
        .route(urls::CONTACT_COUNT, get(count))
}

/// A filter the page could not run, shown above the table.
#[derive(Debug, Clone)]
pub struct FilterError {
    /// The bad node (`and[1].or[0].value`); empty for the filter as a whole.
    pub path: String,
    pub message: String,
}

impl FilterError {
    /// The error to show for `error`, when it is the filter's fault (a bad node, a plugin
    /// refusing or failing); any other error is handed back to fail the request.
    pub fn shown(error: Error) -> Result<Self, Error> {
        match error {
            Error::Validation { path, message } => Ok(FilterError { path, message }),
            e @ Error::Plugin { .. } => Ok(FilterError {
                path: String::new(),
                message: e.to_string(),
            }),
            other => Err(other),
        }
    }
}

/// Filter text (a query parameter), checked and lowered; `None` when blank.
pub async fn prepare(state: &AppState, text: &str) -> Result<Option<Prepared>, Error> {
    match parse_json(text)? {
        Value::Null => Ok(None),
        json => Ok(Some(state.core.filter().prepare_filter(&json).await?)),
    }
}

/// The session's user, or a JSON 401 (a script reads these routes, not a person).
pub fn session(user: Result<SessionUser, PageError>) -> Result<SessionUser, ApiError> {
    user.map_err(|_| {
        ApiError(Error::Unauthorized(
            "the session has expired; reload the page and sign in again".into(),
        ))
    })
}

async fn filter_fields(
    State(state): State<AppState>,
    user: Result<SessionUser, PageError>,
) -> Result<Json<Value>, ApiError> {
    let user = session(user)?;
    let catalog = state.core.filter().filter_catalog().await?.to_json_for(&user.actor);
    let builtins: Vec<String> = state
        .core
        .plugins()
        .list()
        .await?
        .into_iter()
        .filter(|p| p.builtin)
        .map(|p| p.name)
        .collect();
    let operators: Map<String, Value> = state
        .core
        .plugins()
        .operators()
        .await?
        .into_iter()
        .map(|o| {
            let entry = json!({
                "label": o.label,
                "plugin": o.plugin,
                "op": o.op,
                "builtin": builtins.contains(&o.plugin),
                "args_schema": o.args_schema,
            });
            (o.name, entry)
        })
        .collect();
    Ok(Json(json!({ "fields": catalog.get("fields"), "operators": operators })))
}

async fn count(
    State(state): State<AppState>,
    user: Result<SessionUser, PageError>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let user = session(user)?;
    let pairs = query_pairs(query.as_deref());
    let search = SearchQuery::parse(param(&pairs, "q").unwrap_or_default())?;
    let query = ContactQuery {
        filter: prepare(&state, param(&pairs, "filter").unwrap_or_default()).await?,
        search,
        ..ContactQuery::default()
    };
    let count = state.core.filter().count_query(&user.actor, &query).await?;
    Ok(Json(json!({ "count": count })))
}
