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
    /// `KARTOTEKA_SECRET`: reserved for signing; never printed.
    pub secret: Option<String>,
    /// `KARTOTEKA_JOB_LEASE_SECONDS`, default 60: how long a bulk-action job stays with an
    /// instance that stopped answering before another takes it over.
    pub job_lease_seconds: Option<u64>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind", &self.bind)
            .field("base_url", &self.base_url)
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("job_lease_seconds", &self.job_lease_seconds)
            .finish()
    }
}

impl Config {
    /// Reads the configuration from the environment.
    pub fn from_environment() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let bind = var("KARTOTEKA_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        Ok(Config {
            database_url: var("KARTOTEKA_DATABASE_URL")
                .unwrap_or_else(|| kartoteka_core::db::DEFAULT_DATABASE_URL.into()),
            bind: bind
                .parse()
                .with_context(|| format!("KARTOTEKA_BIND={bind} is not an address like 127.0.0.1:8080"))?,
            base_url: var("KARTOTEKA_BASE_URL").map(|u| u.trim_end_matches('/').to_owned()),
            secret: var("KARTOTEKA_SECRET"),
            job_lease_seconds: match var("KARTOTEKA_JOB_LEASE_SECONDS") {
                None => None,
                Some(v) => Some(
                    v.trim()
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (1..=86_400).contains(n))
                        .with_context(|| {
                            format!("KARTOTEKA_JOB_LEASE_SECONDS={v} is not a number of seconds from 1 to 86400")
                        })?,
                ),
            },
        })
    }

    /// Whether the server is reached over https, so cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
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
