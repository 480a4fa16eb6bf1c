//! Sign in and sign out.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_core::Error;

use super::flash::{self, Flash};
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{
    CheckedForm, ClientAddr, FormData, LOGIN_CSRF_COOKIE, SESSION_COOKIE, constant_time_eq, cookie, set_cookie,
};
use crate::error::PageError;
use crate::urls;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    csrf_token: String,
    next: String,
    email: String,
    error: Option<String>,
    /// What the last form did ("You are signed out.").
    notice: Option<String>,
}

/// Only local paths are followed after sign-in, so the form can't be used to send people
/// elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.chars().all(|c| c.is_ascii_graphic()) =>
        {
            n.to_owned()
        }
        _ => urls::HOME.to_owned(),
    }
}

fn login_page(state: &AppState, status: StatusCode, next: String, email: String, error: Option<String>) -> Response {
    login_page_with_notice(state, status, next, email, error, None)
}

fn login_page_with_notice(
    state: &AppState,
    status: StatusCode,
    next: String,
    email: String,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let csrf_token = kartoteka_core::auth::random_token();
    let page = LoginPage {
        csrf_token: csrf_token.clone(),
        next,
        email,
        error,
        notice,
    };
    match page.render() {
        Ok(html) => {
            let mut response = (status, axum::response::Html(html)).into_response();
            let value = set_cookie(LOGIN_CSRF_COOKIE, &csrf_token, 3600, state.config.secure_cookies());
            if let Ok(v) = HeaderValue::from_str(&value) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => PageError::from(e).into_response(),
    }
}

/// The sign-in form.
pub async fn login_form(State(state): State<AppState>, flash: Flash, RawQuery(query): RawQuery) -> Response {
    let pairs = query_pairs(query.as_deref());
    let mut response = login_page_with_notice(
        &state,
        StatusCode::OK,
        safe_next(param(&pairs, "next")),
        String::new(),
        None,
        flash.message(),
    );
    flash.clear(&state, &mut response);
    response
}

/// Checks the credentials and opens a session.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormData::parse(&body);
    let next = safe_next(form.get("next"));
    let email = form.text("email");
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    let sent = form.text("csrf_token");
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), sent.as_bytes()) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            next,
            email,
            Some("The form expired. Please sign in again.".into()),
        );
    }
    let user = match state
        .core
        .users()
        .authenticate(&email, &form.text("password"), client)
        .await
    {
        Ok(user) => user,
        Err(e @ (Error::Unauthorized(_) | Error::RateLimited { .. } | Error::Forbidden(_))) => {
            // 401 wrong credentials, 429 too many tries, 403 a deactivated account.
            let status = crate::error::classify(&e).0;
            return login_page(&state, status, next, email, Some(crate::error::public_message(&e)));
        }
        Err(e) => return PageError::from(e).into_response(),
    };
    let session = match state.core.users().start_session(&user).await {
        Ok(s) => s,
        Err(e) => return PageError::from(e).into_response(),
    };
    let mut response = Redirect::to(&next).into_response();
    let secure = state.config.secure_cookies();
    let max_age = kartoteka_core::auth::SESSION_TTL.num_seconds();
    for value in [
        set_cookie(SESSION_COOKIE, &session.token, max_age, secure),
        set_cookie(LOGIN_CSRF_COOKIE, "", 0, secure),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

/// Ends the session.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: CheckedForm,
) -> Result<Response, PageError> {
    let _ = form;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.core.users().end_session(&token).await?;
    }
    let mut response = flash::redirect(&state, urls::LOGIN, "You are signed out.");
    if let Ok(v) = HeaderValue::from_str(&set_cookie(SESSION_COOKIE, "", 0, state.config.secure_cookies())) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// A GET on the sign-out form's address: signing out takes the form (a link must not
/// sign anyone out), so this leads home, or to the sign-in page when signed out.
pub async fn logout_page() -> Redirect {
    Redirect::to(urls::HOME)
}
