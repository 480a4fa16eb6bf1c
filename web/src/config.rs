//! Configuration from `KARTOTEKA_*` environment variables.

use std::net::SocketAddr;

use anyhow::Context as _;

/// Server settings.
#[derive(Clone)]
pub struct Config {
    /// `KARTOTEKA_DATABASE_URL`, default `sqlite://kartoteka.db?mode=rwc`.
    pub database_url: String,
    /// `KARTOTEKA_BIND`, default `127.0.0.1:8080`.
    pub bind: SocketAddr,
    /// `KARTOTEKA_BASE_URL`: the public address; `https://...` makes cookies `Secure`.
    pub base_url: Option<String>,
    /// `KARTOTEKA_SECRET`: signs the unsubscribe, open and click links of e-mail;
    /// without it nothing is sent. Never printed.
    pub secret: Option<String>,
    /// `KARTOTEKA_SMTP_URL`: `smtp://user:pass@host:587` or `smtps://...`; without it,
    /// mail goes to the local outbox (the Outbox page). Never printed with its password.
    pub smtp_url: Option<String>,
    /// `KARTOTEKA_MAIL_FROM`: the sender, `Name <address>`; default
    /// `Kartoteka <kartoteka@localhost>`.
    pub mail_from: Option<String>,
    /// `KARTOTEKA_MAIL_RATE`: at most this many messages per second from this server;
    /// no limit when absent.
    pub mail_rate: Option<f64>,
    /// `KARTOTEKA_JOB_LEASE_SECONDS`, default 60: how long a bulk-action job stays with an
    /// instance that stopped answering before another takes it over.
    pub job_lease_seconds: Option<u64>,
    /// `KARTOTEKA_MAIL_LEASE_SECONDS`, default 120: how long the messages an instance
    /// claimed to send stay with it; if it dies before recording what became of them,
    /// they are sent again once this runs out.
    pub mail_lease_seconds: Option<u64>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("base_url", &self.base_url)
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("job_lease_seconds", &self.job_lease_seconds)
            .field("mail_lease_seconds", &self.mail_lease_seconds)
            .field(
                "smtp_url",
                &self.smtp_url.as_deref().map(kartoteka_core::mail::config::redacted),
            )
            .field("mail_from", &self.mail_from)
            .field("mail_rate", &self.mail_rate)
            .finish()
    }
}

impl Config {
    /// Reads the configuration from the environment.
    pub fn from_environment() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let bind = var("KARTOTEKA_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        // The mail settings are checked together: every problem at once.
        let mut problems = Vec::new();
        let smtp_url = var("KARTOTEKA_SMTP_URL");
        if let Some(url) = &smtp_url
            && let Err(e) = kartoteka_core::mail::MailConfig::check_smtp_url(url)
        {
            problems.push(format!("KARTOTEKA_SMTP_URL {e}"));
        }
        let mail_from = var("KARTOTEKA_MAIL_FROM");
        if let Some(from) = &mail_from
            && let Err(e) = kartoteka_core::mail::MailConfig::check_from(from)
        {
            problems.push(format!("KARTOTEKA_MAIL_FROM: {e}"));
        }
        let mail_rate = match var("KARTOTEKA_MAIL_RATE") {
            None => None,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 && r <= 1e6 => Some(r),
                _ => {
                    problems.push(format!(
                        "KARTOTEKA_MAIL_RATE={v} is not a number of messages per second above 0"
                    ));
                    None
                }
            },
        };
        if !problems.is_empty() {
            anyhow::bail!("{}", problems.join("\n"));
        }
        Ok(Config {
            smtp_url,
            mail_from,
            mail_rate,
            database_url: var("KARTOTEKA_DATABASE_URL")
                .unwrap_or_else(|| kartoteka_core::db::DEFAULT_DATABASE_URL.into()),
            bind: bind
                .parse()
                .with_context(|| format!("KARTOTEKA_BIND={bind} is not an address like 127.0.0.1:8080"))?,
            base_url: var("KARTOTEKA_BASE_URL").map(|u| u.trim_end_matches('/').to_owned()),
            secret: var("KARTOTEKA_SECRET"),
            job_lease_seconds: lease_seconds(var("KARTOTEKA_JOB_LEASE_SECONDS"), "KARTOTEKA_JOB_LEASE_SECONDS")?,
            mail_lease_seconds: lease_seconds(var("KARTOTEKA_MAIL_LEASE_SECONDS"), "KARTOTEKA_MAIL_LEASE_SECONDS")?,
        })
    }

    /// The mail settings this configuration says: links point at `KARTOTEKA_BASE_URL`
    /// (or the bound address).
    pub fn mail(&self) -> kartoteka_core::mail::MailConfig {
        let defaults = kartoteka_core::mail::MailConfig::default();
        kartoteka_core::mail::MailConfig {
            smtp_url: self.smtp_url.clone(),
            from: self.mail_from.clone().unwrap_or(defaults.from.clone()),
            rate: self.mail_rate,
            secret: self.secret.clone(),
            base_url: self.base_url.clone().unwrap_or_else(|| format!("http://{}", self.bind)),
            lease: self
                .mail_lease_seconds
                .map_or(defaults.lease, std::time::Duration::from_secs),
            ..defaults
        }
    }

    /// Whether the server is reached over https, so cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

/// A lease in seconds from the variable `name` (value `value`): 1 to 86400, or absent.
fn lease_seconds(value: Option<String>, name: &str) -> anyhow::Result<Option<u64>> {
    let Some(v) = value else { return Ok(None) };
    v.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (1..=86_400).contains(n))
        .map(Some)
        .with_context(|| format!("{name}={v} is not a number of seconds from 1 to 86400"))
}

/// The URL with any password replaced by `***`, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
