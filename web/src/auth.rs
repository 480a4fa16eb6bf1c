//! Who is asking: session cookies for pages, bearer tokens for the API, CSRF for forms.
//!
//! - Pages: the `kartoteka_session` cookie (`HttpOnly`, `SameSite=Lax`, `Secure` when the
//!   server is reached over https) names a session stored in the database, so any server
//!   instance resolves it. [`SessionUser`] extracts it, or sends the browser to sign in.
//! - Forms: every form carries the session's CSRF token in a hidden `csrf_token` field;
//!   [`FormData`] refuses a post without the right one. The sign-in form, which has no
//!   session yet, uses a double-submit cookie instead.
//! - API: `Authorization: Bearer <token>`; [`ApiUser`] extracts it or answers 401.
//! - Sign-in limits count per client address: [`ClientAddr`] is the TCP peer's address
//!   (the server is served with axum's `ConnectInfo`, see [`crate::listener`]).

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;

use crate::app::AppState;
use crate::error::{ApiError, PageError};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "kartoteka_session";
/// The sign-in form's double-submit cookie.
pub const LOGIN_CSRF_COOKIE: &str = "kartoteka_login_csrf";

/// The value of cookie `name` (the first, when a browser sends several).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookies(headers, name).into_iter().next()
}

/// Every value of cookie `name` (a browser sends one per path it was set for).
pub fn cookies(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .collect()
}

/// A `Set-Cookie` value with the attributes every Kartoteka cookie gets.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
}

/// The address of the client, as the sign-in limits count it: the TCP peer. A router
/// served without `ConnectInfo` (in-process tests) has `0.0.0.0` for everyone.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<crate::listener::Peer>>()
                .map(|ConnectInfo(peer)| peer.0.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

/// A signed-in user of the web pages.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub actor: Actor,
    /// The token the session's forms must carry.
    pub csrf_token: String,
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(PageError::SignIn { next });
        };
        match state.core.users().resolve_session(&token).await? {
            Some(session) => Ok(SessionUser {
                actor: session.actor,
                csrf_token: session.csrf_token,
            }),
            None => Err(PageError::SignIn { next }),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header (the scheme's case forgiven).
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let header = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())?;
    header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
}

/// A caller of the API.
#[derive(Debug, Clone)]
pub struct ApiUser(pub Actor);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = bearer_token(&parts.headers) else {
            return Err(ApiError(Error::Unauthorized(
                "send `Authorization: Bearer <token>`; get a token from POST /api/v1/auth/token".into(),
            )));
        };
        match state.core.users().resolve_api_token(token).await? {
            Some(actor) => Ok(ApiUser(actor)),
            None => Err(ApiError(Error::Unauthorized(
                "the token is unknown or expired; get a new one from POST /api/v1/auth/token".into(),
            ))),
        }
    }
}

/// The fields of a posted form, after its CSRF token was checked against the session.
#[derive(Debug, Clone, Default)]
pub struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    /// Parses a form body without any check; for the sign-in form.
    pub fn parse(body: &[u8]) -> Self {
        FormData {
            pairs: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }

    /// The first value of `name`, trimmed; `None` when absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim())
    }

    /// The first value of `name`, or empty.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    /// The non-empty value of `name`, if any.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.is_empty()).map(str::to_owned)
    }

    /// Every value of `name` (checkbox groups, multi-selects).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether a checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| matches!(v, "on" | "true" | "1" | "yes"))
    }

    /// Every pair, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }
}

/// A form posted by a signed-in user with the right CSRF token.
#[derive(Debug)]
pub struct CheckedForm {
    pub user: SessionUser,
    pub form: FormData,
}

impl FromRequest<AppState> for CheckedForm {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let user = SessionUser::from_request_parts(&mut parts, state).await?;
        let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024)
            .await
            .map_err(|_| PageError::Core(Error::invalid("", "the form is too large")))?;
        let form = FormData::parse(&bytes);
        let sent = form.get("csrf_token").unwrap_or("");
        if sent.is_empty() || !constant_time_eq(sent.as_bytes(), user.csrf_token.as_bytes()) {
            return Err(PageError::Csrf);
        }
        Ok(CheckedForm { user, form })
    }
}

/// Compares two secrets without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
