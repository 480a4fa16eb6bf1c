//! How this server sends mail: read once at start (`KARTOTEKA_SMTP_URL`,
//! `KARTOTEKA_MAIL_FROM`, `KARTOTEKA_MAIL_RATE`, `KARTOTEKA_MAIL_LEASE_SECONDS`,
//! `KARTOTEKA_SECRET`, `KARTOTEKA_BASE_URL`) and shared by the jobs (which refuse a real
//! send without a secret) and the delivery worker.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use lettre::message::Mailbox;
use tokio::sync::Notify;

/// The mail settings. `Debug` never shows the SMTP credentials nor the secret.
#[derive(Clone)]
pub struct MailConfig {
    /// `smtp://user:pass@host:587` (plain; `?tls=required` for STARTTLS) or
    /// `smtps://user:pass@host:465` (TLS), as lettre reads it; `None`: the local outbox.
    pub smtp_url: Option<String>,
    /// The sender of every message, `Name <address>` or an address (checked by
    /// [`MailConfig::check_from`]).
    pub from: String,
    /// At most this many messages per second from this instance; no limit when `None`.
    pub rate: Option<f64>,
    /// Signs the links in messages; without it nothing is sent.
    pub secret: Option<String>,
    /// Where the links in messages point: `https://crm.example.com`, no trailing slash.
    pub base_url: String,
    /// How long the first retry waits; each next one waits twice as long.
    pub retry_after: Duration,
    /// Attempts before a message that keeps failing for a passing reason fails for good.
    pub max_attempts: i32,
    /// SMTP connections kept open, and messages handed off at once.
    pub connections: u32,
    /// How long the messages of a claimed chunk stay with the instance that claimed them:
    /// once it runs out (that instance died before recording the outcomes), any instance
    /// claims them again. Keep it longer than a chunk's handoff takes, or a second
    /// instance may claim messages still being handed off.
    pub lease: Duration,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_url: None,
            from: "Kartoteka <kartoteka@localhost>".into(),
            rate: None,
            secret: None,
            base_url: "http://127.0.0.1:8080".into(),
            retry_after: Duration::from_secs(30),
            max_attempts: 8,
            connections: 4,
            lease: Duration::from_secs(120),
        }
    }
}

impl std::fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp", &self.smtp_url.as_deref().map(redacted))
            .field("from", &self.from)
            .field("rate", &self.rate)
            .field("secret", &self.secret.as_ref().map(|_| "(set)"))
            .field("base_url", &self.base_url)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

/// An SMTP URL without its credentials: `smtp://host:port`.
pub fn redacted(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{host}")
        }
        None => "(not a URL)".into(),
    }
}

impl MailConfig {
    /// Where mail goes, for people: `smtp://host:port` or "the local outbox".
    pub fn destination(&self) -> String {
        self.smtp_url
            .as_deref()
            .map_or_else(|| "the local outbox".into(), redacted)
    }

    /// Why a real send can't start on this server, if it can't.
    pub fn refusal(&self) -> Option<String> {
        self.secret.is_none().then(|| {
            "this server can't send e-mail: KARTOTEKA_SECRET is not set, and the unsubscribe, open and click links in every message are signed with it; set it (a long random string) and restart the server".to_owned()
        })
    }

    /// Checks a sender (`Name <address>` or an address): the problem, if any.
    pub fn check_from(from: &str) -> Result<Mailbox, String> {
        from.parse::<Mailbox>()
            .map_err(|e| format!("`{from}` is not a sender: {e}; write `Name <address@example.com>` or an address"))
    }

    /// Checks an SMTP URL as the transport will read it: the problem, if any (never
    /// repeating the URL, which may hold a password).
    pub fn check_smtp_url(url: &str) -> Result<(), String> {
        super::smtp::Transport::from_url(url, 1, Duration::from_secs(30)).map(|_| ())
    }
}

/// The mail settings as this process has them, and the bell that wakes its delivery
/// worker; cheap to clone, shared by the jobs and the worker.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    config: Arc<RwLock<Arc<MailConfig>>>,
    wake: Arc<Notify>,
}

impl Settings {
    /// The settings now.
    pub fn get(&self) -> Arc<MailConfig> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the settings (at start).
    pub fn set(&self, config: MailConfig) {
        let config = Arc::new(config);
        match self.config.write() {
            Ok(mut c) => *c = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
        self.wake();
    }

    /// Wakes the delivery worker: messages were queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }
}
