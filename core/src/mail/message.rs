//! A queued message as it is handed off: the plugin's subject and bodies, the links
//! rewritten through the click redirect, the unsubscribe link and the open pixel added,
//! and the headers every message carries (lettre builds the MIME; we add what is ours).
//!
//! - `Message-ID: <JOB.CONTACT.INDEX@host>`: the effect key, so a message sent again after
//!   a crash has the same id as the first, and a receiving server or a person can tell
//!   the two are one (`<test.ID@host>` for a test send).
//! - `List-Unsubscribe: <https://.../m/u/TOKEN>` and `List-Unsubscribe-Post:
//!   List-Unsubscribe=One-Click` (RFC 8058): a mail client's unsubscribe button POSTs to
//!   the link and the contact is unsubscribed at once; a GET (a person, a link scanner)
//!   only shows a confirmation page.
//! - Links: every `href` to an `http(s)` URL in the HTML goes through
//!   `/m/c/TOKEN?u=URL`, which records the click and redirects to that URL only (the
//!   token signs it). The text body keeps its links as they are.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use super::config::MailConfig;
use super::links::{self, Purpose};
use crate::entities::outbox;

/// A message ready for the transport.
#[derive(Debug)]
pub struct Built {
    pub envelope: Envelope,
    pub bytes: Vec<u8>,
    pub message_id: String,
}

/// The links of one message.
#[derive(Debug, Clone)]
pub struct Links {
    pub unsubscribe: String,
    pub open: String,
}

/// The message's links under `secret`.
pub fn links(config: &MailConfig, secret: &str, id: i64) -> Links {
    let base = config.base_url.trim_end_matches('/');
    Links {
        unsubscribe: format!("{base}/m/u/{}", links::token(secret, Purpose::Unsubscribe, id, "")),
        open: format!("{base}/m/o/{}", links::token(secret, Purpose::Open, id, "")),
    }
}

/// The host part of the base URL, for Message-IDs.
fn host(config: &MailConfig) -> String {
    let rest = config
        .base_url
        .split_once("://")
        .map_or(config.base_url.as_str(), |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    if host.is_empty() {
        "kartoteka.invalid".into()
    } else {
        host.to_owned()
    }
}

/// The Message-ID of a queued message (with its angle brackets).
pub fn message_id(config: &MailConfig, row: &outbox::Model) -> String {
    let host = host(config);
    match row.job_id {
        Some(job) => format!("<{job}.{}.{}@{host}>", row.contact_id, row.effect_index),
        None => format!("<test.{}@{host}>", row.id),
    }
}

static HREF: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(r#"(?i)(<a\b[^>]*?\bhref\s*=\s*)(?:"(https?://[^"]*)"|'(https?://[^']*)')"#).ok()
});

/// HTML attribute text back to the URL it stands for (`&amp;` → `&`).
fn unescape_attribute(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `html` with every link to an `http(s)` URL going through the click redirect.
pub fn rewrite_links(config: &MailConfig, secret: &str, id: i64, html: &str) -> String {
    let Some(re) = HREF.as_ref() else {
        return html.to_owned();
    };
    let base = config.base_url.trim_end_matches('/');
    re.replace_all(html, |caps: &regex::Captures<'_>| {
        let prefix = caps.get(1).map_or("", |m| m.as_str());
        let raw = caps.get(2).or_else(|| caps.get(3)).map_or("", |m| m.as_str());
        let url = unescape_attribute(raw);
        let token = links::token(secret, Purpose::Click, id, &url);
        format!("{prefix}\"{base}/m/c/{token}?u={}\"", links::encode_query(&url))
    })
    .into_owned()
}

/// Text safe inside HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML body as sent: links rewritten, the unsubscribe footer and the open pixel
/// added before `</body>` (or at the end).
pub fn html_body(config: &MailConfig, secret: &str, row: &outbox::Model) -> String {
    let links = links(config, secret, row.id);
    let html = rewrite_links(config, secret, row.id, &row.html);
    let footer = format!(
        "<p style=\"font-size:12px;color:#666\">You get this message because you are in our contacts. <a href=\"{}\">Unsubscribe</a></p><img src=\"{}\" width=\"1\" height=\"1\" alt=\"\">",
        escape(&links.unsubscribe),
        escape(&links.open)
    );
    let lower = html.to_ascii_lowercase();
    match lower.rfind("</body>") {
        Some(at) if html.is_char_boundary(at) => format!("{}{footer}{}", &html[..at], &html[at..]),
        _ => format!("{html}{footer}"),
    }
}

/// The text body as sent: the plugin's text and the unsubscribe link.
pub fn text_body(config: &MailConfig, secret: &str, row: &outbox::Model) -> String {
    let links = links(config, secret, row.id);
    format!(
        "{}\n\n-- \nTo stop getting these messages: {}\n",
        row.plain.trim_end(),
        links.unsubscribe
    )
}

/// Builds the message for `row` as of `date`; the reason when it can't be (a recipient
/// that is no address, no secret).
pub fn build(config: &MailConfig, row: &outbox::Model, date: DateTime<Utc>) -> Result<Built, String> {
    let secret = config
        .secret
        .as_deref()
        .ok_or_else(|| "KARTOTEKA_SECRET is not set".to_owned())?;
    let from = MailConfig::check_from(&config.from)?;
    let to: Mailbox = row
        .recipient
        .trim()
        .parse()
        .map_err(|e| format!("`{}` is not an e-mail address: {e}", row.recipient))?;
    let links = links(config, secret, row.id);
    let message_id = message_id(config, row);
    let subject: String = row
        .subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let message = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(message_id.clone()))
        .date(date.into())
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{}>", links.unsubscribe),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ))
        .multipart(MultiPart::alternative_plain_html(
            text_body(config, secret, row),
            html_body(config, secret, row),
        ))
        .map_err(|e| format!("the message can't be built: {e}"))?;
    Ok(Built {
        envelope: message.envelope().clone(),
        bytes: message.formatted(),
        message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MailConfig {
        MailConfig {
            secret: Some("k".into()),
            base_url: "https://crm.example.com/".into(),
            ..MailConfig::default()
        }
    }

    #[test]
    fn links_go_through_the_signed_redirect() {
        let html =
            r#"<p><a class="x" href="https://shop.example/a?b=1&amp;c=2">Shop</a> <a href='mailto:x@y'>m</a></p>"#;
        let out = rewrite_links(&config(), "k", 7, html);
        assert!(
            out.contains(r#"<a class="x" href="https://crm.example.com/m/c/7."#),
            "{out}"
        );
        assert!(
            out.contains("?u=https%3A%2F%2Fshop.example%2Fa%3Fb%3D1%26c%3D2\""),
            "{out}"
        );
        assert!(out.contains("href='mailto:x@y'"), "{out}");
        let token = out.split("/m/c/").nth(1).unwrap().split('?').next().unwrap();
        assert_eq!(
            links::verify("k", Purpose::Click, token, "https://shop.example/a?b=1&c=2"),
            Some(7)
        );
    }
}
