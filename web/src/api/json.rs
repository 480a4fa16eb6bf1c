//! Request bodies and query strings that fail with a 400 naming the bad path.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body; a malformed or mistyped one is a 400 whose `path` points at the problem
/// (`fields.birthday`, `[2].kind`).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// The largest JSON body accepted.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
        if !json {
            return Err(ApiError::invalid(
                "",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::invalid("", format!("the body is unreadable or larger than {MAX_BODY} bytes")))?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses JSON, reporting where it went wrong.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| located(e.path(), &e.inner().to_string()))?;
    de.end().map_err(|e| ApiError::invalid("", e.to_string()))?;
    Ok(value)
}

/// Reads an already parsed JSON value into `T`, reporting where it went wrong.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| located(e.path(), &e.inner().to_string()))
}

/// The error at `path`; a missing property is reported at its own path, not its parent's.
fn located(path: &serde_path_to_error::Path, message: &str) -> ApiError {
    let path = path.to_string();
    let mut path = if path == "." { String::new() } else { path };
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        path = if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return ApiError::invalid(path, "is required");
    }
    ApiError::invalid(path, message)
}

/// The `key=value` pairs of a query string.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| serde_urlencoded::from_str(q).unwrap_or_default())
        .unwrap_or_default()
}

/// The value of `name` in `pairs`.
pub fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Parses an optional numeric query parameter.
pub fn number_param<N: std::str::FromStr>(pairs: &[(String, String)], name: &str) -> Result<Option<N>, ApiError> {
    match param(pairs, name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(name, format!("expected a whole number, got `{v}`"))),
    }
}

/// The `limit` query parameter of a keyset-paged list: 1 to 500, 50 when absent.
pub fn page_limit(pairs: &[(String, String)]) -> Result<u64, ApiError> {
    let limit = number_param(pairs, "limit")?.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and 500, got {limit}"),
        ));
    }
    Ok(limit)
}

/// The cursor of the next page: the last item's key when the page is full, else `None`.
pub fn next_cursor<T>(items: &[T], limit: u64, key: impl Fn(&T) -> i64) -> Option<String> {
    if items.len() as u64 == limit {
        items.last().map(|item| key(item).to_string())
    } else {
        None
    }
}

/// Parses a boolean query parameter (`true`/`false`/`1`/`0`).
pub fn bool_param(pairs: &[(String, String)], name: &str) -> Result<bool, ApiError> {
    match param(pairs, name) {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(other) => Err(ApiError::invalid(
            name,
            format!("expected true or false, got `{other}`"),
        )),
    }
}

/// Reads an id from a path segment; anything else is simply not found.
pub fn path_id(segment: &str, what: &'static str) -> Result<i64, ApiError> {
    segment
        .parse()
        .map_err(|_| ApiError(kartoteka_core::Error::NotFound { what }))
}
