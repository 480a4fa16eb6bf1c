//! Signed links: the unsubscribe link, the open pixel and the click redirect of a message.
//!
//! Each link names the outbox message by id and carries an HMAC-SHA256 of what it does
//! (`u`nsubscribe, `o`pen, `c`lick and the target URL) under `KARTOTEKA_SECRET`, cut to
//! 16 bytes and written in URL-safe base64: nobody unsubscribes someone else by counting
//! ids, and a click link redirects only to the URL that was in the message (an open
//! redirect otherwise). The `hmac` and `sha2` crates do the cryptography; the comparison
//! is constant-time (`Mac::verify_truncated_left`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What a link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Unsubscribe,
    Open,
    Click,
}

impl Purpose {
    fn tag(self) -> &'static [u8] {
        match self {
            Purpose::Unsubscribe => b"u",
            Purpose::Open => b"o",
            Purpose::Click => b"c",
        }
    }
}

const TAG_BYTES: usize = 16;

/// HMAC takes keys of every length, so this is always `Some`.
fn mac(secret: &str, purpose: Purpose, id: i64, url: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(purpose.tag());
    mac.update(&id.to_be_bytes());
    mac.update(url.as_bytes());
    Some(mac)
}

/// The token of message `id` for `purpose` (and the click's `url`): `ID.SIGNATURE`.
pub fn token(secret: &str, purpose: Purpose, id: i64, url: &str) -> String {
    let signature = mac(secret, purpose, id, url)
        .map(|m| {
            let tag = m.finalize().into_bytes();
            URL_SAFE_NO_PAD.encode(tag.get(..TAG_BYTES).unwrap_or_default())
        })
        .unwrap_or_default();
    format!("{id}.{signature}")
}

/// The message id a token names, when its signature is right for `purpose` and `url`.
pub fn verify(secret: &str, purpose: Purpose, token: &str, url: &str) -> Option<i64> {
    let (id, signature) = token.split_once('.')?;
    let id: i64 = id.parse().ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    if signature.len() != TAG_BYTES {
        return None;
    }
    mac(secret, purpose, id, url)?
        .verify_truncated_left(&signature)
        .ok()
        .map(|()| id)
}

/// Percent-encodes `s` for a query parameter.
pub fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_for_its_purpose_and_url_only() {
        let t = token("s3cret", Purpose::Click, 42, "https://example.com/a");
        assert_eq!(verify("s3cret", Purpose::Click, &t, "https://example.com/a"), Some(42));
        assert_eq!(verify("s3cret", Purpose::Click, &t, "https://evil.example/"), None);
        assert_eq!(
            verify("s3cret", Purpose::Unsubscribe, &t, "https://example.com/a"),
            None
        );
        assert_eq!(verify("other", Purpose::Click, &t, "https://example.com/a"), None);
        let forged = t.replacen("42.", "43.", 1);
        assert_eq!(verify("s3cret", Purpose::Click, &forged, "https://example.com/a"), None);
        assert_eq!(verify("s3cret", Purpose::Click, "42", ""), None);
        assert_eq!(verify("s3cret", Purpose::Click, "x.y", ""), None);
    }
}
