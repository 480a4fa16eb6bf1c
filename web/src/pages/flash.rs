//! A message for the next page after a redirect ("12 added to Newsletter"): a short-lived
//! cookie that the next page shows once and clears.
//!
//! A form handler that redirects calls [`set`] with the page it redirects to; a page that
//! shows messages takes a [`Flash`] and, when it had one, [`Flash::clear`]s it on its
//! answer. The cookie's `Path` is the target page's path, and its value names that path
//! too (a cookie set for `/fields` also reaches `/fields/size`), so the message shows on
//! that page and no other (a page that doesn't show messages lets it expire within a
//! minute). It
//! lives in the browser, so any server instance shows it; it is `HttpOnly` and shown
//! through the template's escaping like any other text.
//!
//! Every form that changes something answers this way (POST, redirect, GET): the address
//! bar then holds a page that can be reloaded and bookmarked, and [`redirect`] is the one
//! call a handler makes for it. A form with bad input is shown again instead, with the
//! values kept and the errors next to them.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::app::AppState;

use crate::urls;

/// The cookie's name.
pub const FLASH_COOKIE: &str = "kartoteka_flash";

/// How long a message waits for the next page, in seconds.
const MAX_AGE: i64 = 60;

/// The longest message kept, in characters.
const MAX_CHARS: usize = 400;

/// The path part of a local URL (`/contacts` of `/contacts?sort=name`), as a cookie
/// `Path`; `/` when it has characters a cookie attribute can't hold.
fn cookie_path(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    if path.starts_with('/') && !path.contains([';', ',', '"']) && path.is_ascii() {
        path
    } else {
        "/"
    }
}

fn set_cookie(state: &AppState, response: &mut Response, value: &str, path: &str, max_age: i64) {
    let secure = if state.config.secure_cookies() { "; Secure" } else { "" };
    let cookie = format!("{FLASH_COOKIE}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Leaves `message` for the page at `target` (a local URL) that `response` leads to.
pub fn set(state: &AppState, response: &mut Response, message: &str, target: &str) {
    let short: String = message.chars().take(MAX_CHARS).collect();
    let value = format!("{}{SEPARATOR}{}", urls::encode(page_path(target)), urls::encode(&short));
    set_cookie(state, response, &value, cookie_path(target), MAX_AGE);
}

/// Between the page's path and the message in the cookie's value (`urls::encode` escapes
/// it in both).
const SEPARATOR: char = '*';

/// The path part of a local URL, as the request for it carries it.
fn page_path(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or("/")
}

/// The answer to a form that did what it asked: a redirect (303 See Other) to the GET
/// page `target`, which shows `message` once. Reloading that page doesn't post again.
pub fn redirect(state: &AppState, target: &str, message: &str) -> Response {
    let mut response = Redirect::to(target).into_response();
    set(state, &mut response, message, target);
    response
}

/// The message left by the previous answer for this page, if any.
#[derive(Debug, Clone, Default)]
pub struct Flash {
    message: Option<String>,
    /// The page's path, where the cookie was set for.
    path: String,
}

impl Flash {
    /// The message, once decoded.
    pub fn message(&self) -> Option<String> {
        self.message.clone()
    }

    /// Removes the message from the browser, so it shows once.
    pub fn clear(&self, state: &AppState, response: &mut Response) {
        if self.message.is_some() {
            set_cookie(state, response, "", cookie_path(&self.path), 0);
        }
    }
}

impl FromRequestParts<AppState> for Flash {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        // A message left for a page whose path is a prefix of this one's (`/fields` for
        // `/fields/size`) reaches this request too: only the one left for this very page
        // is shown.
        let here = parts.uri.path();
        let decode = |v: &str| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("m={v}"))
                .ok()
                .and_then(|pairs| pairs.into_iter().next().map(|(_, m)| m))
        };
        let message = crate::auth::cookies(&parts.headers, FLASH_COOKIE)
            .into_iter()
            .filter_map(|v| {
                let (path, message) = v.split_once(SEPARATOR)?;
                (decode(path)? == decode(here)?).then(|| decode(message)).flatten()
            })
            .next()
            .map(|m| {
                m.chars()
                    .take(MAX_CHARS)
                    .filter(|c| !c.is_control())
                    .collect::<String>()
            })
            .filter(|m| !m.trim().is_empty());
        Ok(Flash {
            message,
            path: parts.uri.path().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::cookie_path;

    #[test]
    fn the_message_is_for_the_target_page_only() {
        assert_eq!(super::page_path("/fields/size?x=1"), "/fields/size");
        assert_eq!(cookie_path("/contacts?sort=name&q=a;b"), "/contacts");
        assert_eq!(cookie_path("/segments/3#members"), "/segments/3");
        assert_eq!(cookie_path("/odd;path"), "/");
        assert_eq!(cookie_path("/Łódź"), "/");
    }
}
