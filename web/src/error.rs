//! How `core` errors reach people.
//!
//! - [`ApiError`] for `/api/v1`: a status and `{"error": {"code", "message", "path"?,
//!   "details"?}}`. Validation is 400 with every problem in `details` (`[{"path",
//!   "message"}, ...]`, in input order) and the first one's `path` and `message` at the
//!   top, for clients that read one; a stale or
//!   conflicting write 409, sign-in 401/403/429, a failing plugin 502 (`plugin`, the
//!   message names it), and anything of ours a generic 500 whose cause is logged, never
//!   shown.
//! - Pages use [`PageError`]: the same mapping rendered as an HTML page, and a redirect to
//!   the sign-in page when the session is missing.
//!
//! Use `?` on `kartoteka_core::Result` in handlers; both convert from `core::Error`.

use askama::Template;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use kartoteka_core::Error;
use serde_json::{Value, json};

/// The status and stable code for an error.
pub fn classify(error: &Error) -> (StatusCode, &'static str) {
    match error {
        Error::Validation { .. } | Error::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
        Error::NotFound { .. } => (StatusCode::NOT_FOUND, "not_found"),
        Error::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
        Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        // A plugin is an upstream component of the request: its failure is neither a bad
        // request nor a bug of ours, so 502 with the plugin's name in the message.
        Error::Plugin { .. } => (StatusCode::BAD_GATEWAY, "plugin"),
        Error::Db(_) | Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

/// The message a person may see: ours is generic, theirs is precise.
pub fn public_message(error: &Error) -> String {
    match error {
        Error::Db(_) | Error::Internal(_) => {
            tracing::error!(error = %error, "request failed");
            "something went wrong on our side; the error has been logged".into()
        }
        Error::Validation { message, .. } => message.clone(),
        Error::Invalid(problems) => problems.first().map(|p| p.message.clone()).unwrap_or_default(),
        other => other.to_string(),
    }
}

/// An error answered as JSON.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    /// A 400 at `path`.
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError(Error::invalid(path, message))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = classify(&self.0);
        let mut body = serde_json::Map::new();
        body.insert("code".into(), Value::from(code));
        body.insert("message".into(), Value::String(public_message(&self.0)));
        match &self.0 {
            Error::Validation { .. } | Error::Invalid(_) => {
                let problems = self.0.problems();
                let path = problems.first().map(|p| p.path.clone()).unwrap_or_default();
                body.insert("path".into(), Value::String(path));
                let details = problems
                    .into_iter()
                    .map(|p| json!({"path": p.path, "message": p.message}))
                    .collect();
                body.insert("details".into(), Value::Array(details));
            }
            Error::Conflict {
                details: Some(details), ..
            } => {
                body.insert("details".into(), details.clone());
            }
            _ => {}
        }
        let mut response = (status, Json(json!({ "error": body }))).into_response();
        if let Error::RateLimited { retry_after_secs } = self.0
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    message: String,
}

/// An error answered as an HTML page (or a redirect to sign in).
#[derive(Debug)]
pub enum PageError {
    /// A `core` error, rendered as a page.
    Core(Error),
    /// Not signed in: go to the sign-in page, then come back to `next`.
    SignIn { next: String },
    /// A form post without a valid CSRF token.
    Csrf,
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError::Core(e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        PageError::Core(Error::Internal(format!("template: {e}")))
    }
}

/// Renders a template, turning a render failure into a logged 500.
pub fn render(template: &impl Template) -> Result<Html<String>, PageError> {
    Ok(Html(template.render()?))
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            PageError::SignIn { next } => {
                let target = format!("/login?next={}", crate::urls::encode(&next));
                return Redirect::to(&target).into_response();
            }
            PageError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired".to_owned(),
                "The form was missing its security token or it had expired. Go back, reload the page and submit again."
                    .to_owned(),
            ),
            PageError::Core(e) => {
                let (status, _) = classify(&e);
                let title = match status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Not allowed",
                    StatusCode::CONFLICT => "Conflict",
                    StatusCode::BAD_REQUEST => "Invalid input",
                    StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
                    StatusCode::BAD_GATEWAY => "Plugin failed",
                    _ => "Error",
                };
                let message = match &e {
                    Error::Validation { .. } | Error::Invalid(_) => e.describe(),
                    _ => public_message(&e),
                };
                (status, title.to_owned(), message)
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, "error").into_response(),
        }
    }
}
