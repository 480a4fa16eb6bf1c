//! A message for the next page after a redirect ("12 added to Newsletter"): a short-lived
//! cookie that the next page shows once and clears.
//!
//! A form handler that redirects calls [`set`]; a page that shows messages takes a
//! [`Flash`] and, when it had one, [`Flash::clear`]s it on its answer. The cookie lives
//! in the browser, so any server instance shows it; it is `HttpOnly` and shown through
//! the template's escaping like any other text.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::Response;

use crate::app::AppState;
use crate::auth::{cookie, set_cookie};
use crate::urls;

/// The cookie's name.
pub const FLASH_COOKIE: &str = "kartoteka_flash";

/// How long a message waits for the next page, in seconds.
const MAX_AGE: i64 = 60;

/// The longest message kept, in characters.
const MAX_CHARS: usize = 400;

/// Leaves `message` for the next page `response` leads to.
pub fn set(state: &AppState, response: &mut Response, message: &str) {
    let short: String = message.chars().take(MAX_CHARS).collect();
    let value = set_cookie(
        FLASH_COOKIE,
        &urls::encode(&short),
        MAX_AGE,
        state.config.secure_cookies(),
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The message left by the previous answer, if any.
#[derive(Debug, Clone, Default)]
pub struct Flash(Option<String>);

impl Flash {
    /// The message, once decoded.
    pub fn message(&self) -> Option<String> {
        self.0.clone()
    }

    /// Removes the message from the browser, so it shows once.
    pub fn clear(&self, state: &AppState, response: &mut Response) {
        if self.0.is_none() {
            return;
        }
        let value = set_cookie(FLASH_COOKIE, "", 0, state.config.secure_cookies());
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

impl FromRequestParts<AppState> for Flash {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let message = cookie(&parts.headers, FLASH_COOKIE)
            .filter(|v| !v.is_empty())
            .and_then(|v| serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("m={v}")).ok())
            .and_then(|pairs| pairs.into_iter().next().map(|(_, m)| m))
            .map(|m| {
                m.chars()
                    .take(MAX_CHARS)
                    .filter(|c| !c.is_control())
                    .collect::<String>()
            })
            .filter(|m| !m.trim().is_empty());
        Ok(Flash(message))
    }
}
