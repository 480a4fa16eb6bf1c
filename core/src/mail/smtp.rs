//! The connections to the SMTP server: lettre's SMTP client (EHLO, STARTTLS, AUTH,
//! MAIL/RCPT/DATA, reply codes and their classes) over sockets of our own with
//! `TCP_NODELAY` set, kept in a small pool.
//!
//! Why not lettre's pooled `AsyncSmtpTransport` for `smtp://`: lettre 0.11.23 writes a
//! message's data and its closing `.` in two writes on a socket with Nagle's algorithm
//! on, so the `.` waits for the server's acknowledgement of the data, which Linux delays
//! by 40 ms: every message costs 40 ms of nothing on its connection, 25 messages a second
//! at most (measured: 4 connections delivered about 75 a second; see BENCHMARKS.md).
//! lettre lets a connection start on a stream we give it
//! (`AsyncSmtpConnection::connect_with_transport`), so we connect, set `TCP_NODELAY`, and
//! let lettre speak SMTP over it, STARTTLS included. `smtps://` (TLS from the first
//! byte) keeps lettre's pooled transport: lettre opens that socket itself.
//!
//! The pool: a connection is taken for one message and put back unless it broke (lettre
//! drops a connection after any error reply); at most as many are open as messages are
//! handed off at once. A connection that was idle and fails before any reply (the server
//! closed it meanwhile) is replaced by a fresh one for the same message, at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Why a handoff failed.
#[derive(Debug)]
pub(super) enum SendError {
    /// A 5xx: the server refused the message for good.
    Permanent(String),
    /// A 4xx: try again later.
    Transient(String),
    /// No answer: the connection failed (refused, dropped, timed out, TLS).
    Connection(String),
}

fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::Permanent(e.to_string())
    } else if e.is_transient() {
        SendError::Transient(e.to_string())
    } else {
        SendError::Connection(e.to_string())
    }
}

/// STARTTLS on an `smtp://` connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StartTls {
    Never,
    Opportunistic,
    Required,
}

/// Where and how to connect for `smtp://`.
#[derive(Debug)]
struct Target {
    host: String,
    port: u16,
    tls: StartTls,
    credentials: Option<Credentials>,
    hello: ClientId,
    timeout: Duration,
}

/// The transport for an SMTP URL.
#[derive(Clone)]
pub(super) enum Transport {
    /// `smtp://`: our pool of `TCP_NODELAY` connections.
    Pool(Arc<Pool>),
    /// `smtps://`: lettre's pooled transport.
    Lettre(Arc<AsyncSmtpTransport<Tokio1Executor>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Pool(_) => "Transport::Pool",
            Transport::Lettre(_) => "Transport::Lettre",
        })
    }
}

/// Idle connections to one server.
pub(super) struct Pool {
    target: Target,
    idle: Mutex<Vec<AsyncSmtpConnection>>,
    max_idle: usize,
}

impl Transport {
    /// The transport for `url` with up to `connections` open at once; the reason when the
    /// URL can't be read (never repeating it: it may hold a password).
    pub(super) fn from_url(url: &str, connections: u32, timeout: Duration) -> Result<Transport, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
        match parsed.scheme() {
            "smtps" => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("can't be read: {e}"))?
                    .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(connections.max(1)))
                    .timeout(Some(timeout))
                    .build();
                Ok(Transport::Lettre(Arc::new(transport)))
            }
            "smtp" => {
                let host = parsed
                    .host_str()
                    .filter(|h| !h.is_empty())
                    .ok_or("names no host")?
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned();
                let mut tls = StartTls::Never;
                for (key, value) in parsed.query_pairs() {
                    match (key.as_ref(), value.as_ref()) {
                        ("tls", "required") => tls = StartTls::Required,
                        ("tls", "opportunistic") => tls = StartTls::Opportunistic,
                        ("tls", "none") => tls = StartTls::Never,
                        ("tls", other) => {
                            return Err(format!("has tls={other}; expected required, opportunistic or none"));
                        }
                        _ => {}
                    }
                }
                let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
                let credentials = (!parsed.username().is_empty()).then(|| {
                    Credentials::new(decode(parsed.username()), decode(parsed.password().unwrap_or_default()))
                });
                Ok(Transport::Pool(Arc::new(Pool {
                    target: Target {
                        port: parsed.port().unwrap_or(if tls == StartTls::Never { 25 } else { 587 }),
                        host,
                        tls,
                        credentials,
                        hello: ClientId::default(),
                        timeout,
                    },
                    idle: Mutex::new(Vec::new()),
                    max_idle: connections.max(1) as usize,
                })))
            }
            _ => Err("must start with smtp:// or smtps://".into()),
        }
    }

    /// Hands one message off: the server's answer.
    pub(super) async fn send(&self, envelope: &Envelope, bytes: &[u8]) -> Result<Response, SendError> {
        match self {
            Transport::Lettre(t) => t.send_raw(envelope, bytes).await.map_err(|e| classify(&e)),
            Transport::Pool(pool) => pool.send(envelope, bytes).await,
        }
    }
}

impl Pool {
    fn take(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = match self.idle.lock() {
            Ok(idle) => idle,
            Err(poisoned) => poisoned.into_inner(),
        };
        while let Some(conn) = idle.pop() {
            if !conn.has_broken() {
                return Some(conn);
            }
        }
        None
    }

    fn put_back(&self, conn: AsyncSmtpConnection) {
        if conn.has_broken() {
            return;
        }
        let mut idle = match self.idle.lock() {
            Ok(idle) => idle,
            Err(poisoned) => poisoned.into_inner(),
        };
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let t = &self.target;
        let connection =
            |e: std::io::Error| SendError::Connection(format!("can't connect to {}:{}: {e}", t.host, t.port));
        let tcp = tokio::time::timeout(t.timeout, tokio::net::TcpStream::connect((t.host.as_str(), t.port)))
            .await
            .map_err(|_| SendError::Connection(format!("{}:{} did not answer in time", t.host, t.port)))?
            .map_err(connection)?;
        tcp.set_nodelay(true).map_err(connection)?;
        let mut conn = tokio::time::timeout(
            t.timeout,
            AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &t.hello),
        )
        .await
        .map_err(|_| SendError::Connection("the server did not greet in time".into()))?
        .map_err(|e| classify(&e))?;
        let starttls = match t.tls {
            StartTls::Never => false,
            StartTls::Opportunistic => conn.can_starttls(),
            StartTls::Required => true,
        };
        if starttls {
            let parameters = TlsParameters::new(t.host.clone()).map_err(|e| SendError::Connection(e.to_string()))?;
            conn.starttls(parameters, &t.hello).await.map_err(|e| classify(&e))?;
        }
        if let Some(credentials) = &t.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(|e| classify(&e))?;
        }
        Ok(conn)
    }

    async fn send(&self, envelope: &Envelope, bytes: &[u8]) -> Result<Response, SendError> {
        let timeout = self.target.timeout;
        // An idle connection the server closed meanwhile fails before any reply: the
        // message goes again at once on a fresh one.
        for reused in [true, false] {
            let (mut conn, was_idle) = match reused.then(|| self.take()).flatten() {
                Some(conn) => (conn, true),
                None => (self.connect().await?, false),
            };
            let answer = tokio::time::timeout(timeout, conn.send(envelope, bytes)).await;
            match answer {
                Ok(Ok(response)) => {
                    self.put_back(conn);
                    return Ok(response);
                }
                Ok(Err(e)) => {
                    let error = classify(&e);
                    conn.abort().await;
                    if was_idle && matches!(error, SendError::Connection(_)) {
                        continue;
                    }
                    return Err(error);
                }
                Err(_) => {
                    conn.abort().await;
                    return Err(SendError::Connection("the server did not answer in time".into()));
                }
            }
        }
        Err(SendError::Connection("no connection to the server".into()))
    }
}
