//! The harness of Kartoteka's black-box tests.
//!
//! Each test starts a real server ([`kartoteka_web::start`]) on `127.0.0.1:0` over a fresh
//! database of its own, then talks to it over HTTP only: the JSON API with bearer tokens
//! and the pages with a cookie session, like a browser would. Nothing is shared between
//! tests, so they run in parallel, each in its own process under nextest.
//!
//! - SQLite: a `kartoteka.db` file in a temporary directory that lives as long as the app.
//! - PostgreSQL: a database `kt_<random>` created through `KARTOTEKA_TEST_POSTGRES_URL` and
//!   dropped (best effort) when the app is dropped. Without the variable the PostgreSQL
//!   variant of a test says it was skipped; under `CI=true` it fails instead.
//!
//! Write a storage test once as `async fn name(app: TestApp)` and generate its two
//! `#[tokio::test]` functions with [`both!`].
//!
//! Tests that send mail hand it to a real SMTP server that records what it accepts and
//! fails on cue: [`smtp::SmtpSink`].

// Test support code: a setup step that fails should stop the test at once and say where,
// so unwrap/expect and indexing are the right tools here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod smtp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kartoteka_core::{Clock, Core, ManualClock, SystemClock};
use kartoteka_web::{Config, Running};
use reqwest::header::HeaderMap;
use reqwest::{Method, redirect};
use sea_orm::ConnectionTrait;
use tempfile::TempDir;

pub use chrono::{DateTime, Utc};
pub use kartoteka_core::auth::{Role, User};
pub use reqwest::StatusCode;
pub use serde_json::{Value, json};

/// The variable naming the PostgreSQL server the PostgreSQL variants use.
pub const POSTGRES_URL_VAR: &str = "KARTOTEKA_TEST_POSTGRES_URL";

/// The password of every user the harness creates.
pub const PASSWORD: &str = "correct horse battery staple";

/// Generates the SQLite and PostgreSQL variants of a storage test written once as
/// `async fn test(app: TestApp)`:
///
/// ```ignore
/// both!(creates_a_contact: creates_a_contact_sqlite, creates_a_contact_postgres);
/// // the same on a server whose clock stands still at a known instant and moves only
/// // when the test says so (`app.clock()`):
/// both!(manual_clock, lockout_lifts: lockout_lifts_sqlite, lockout_lifts_postgres);
/// // attributes (an `#[ignore = "why"]`) go first and apply to both
/// ```
#[macro_export]
macro_rules! both {
    ($(#[$meta:meta])* $test:ident : $sqlite:ident, $postgres:ident) => {
        $crate::both!(@emit $(#[$meta])* start, $test: $sqlite, $postgres);
    };
    ($(#[$meta:meta])* manual_clock, $test:ident : $sqlite:ident, $postgres:ident) => {
        $crate::both!(@emit $(#[$meta])* start_with_manual_clock, $test: $sqlite, $postgres);
    };
    (@emit $(#[$meta:meta])* $start:ident, $test:ident : $sqlite:ident, $postgres:ident) => {
        $(#[$meta])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            if let Some(app) = $crate::TestApp::$start($crate::Backend::Sqlite).await {
                $test(app).await;
            }
        }

        $(#[$meta])*
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            if let Some(app) = $crate::TestApp::$start($crate::Backend::Postgres).await {
                $test(app).await;
            }
        }
    };
}

/// The paths of an error answer's problems, in order (`{"error": {"details": [{"path"}]}}`).
pub fn error_paths(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .filter_map(|d| d["path"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether the suite runs under CI (`CI=true`), where a missing PostgreSQL or browser is a
/// failure rather than a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.trim().eq_ignore_ascii_case("true") || v.trim() == "1")
}

/// Says that a test is skipped because `reason`; under CI, fails it instead.
pub fn skip(reason: &str) {
    assert!(
        !in_ci(),
        "{reason}, and CI=true: under CI a missing dependency is a failure, not a skip"
    );
    println!("skipped: {reason}");
}

/// The PostgreSQL URL from the environment, or `None` after saying the test is skipped.
pub fn postgres_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().to_owned()),
        _ => {
            skip(&format!("{POSTGRES_URL_VAR} is not set"));
            None
        }
    }
}

/// `s` percent-encoded for a query parameter (everything but unreserved characters).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fresh random lowercase hex suffix for names.
pub fn random_suffix() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// `url` with its database (the path) replaced by `name`, query string kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[after_scheme..]
        .find('/')
        .map(|i| after_scheme + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A PostgreSQL database made for one test; dropped (best effort) with it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// A new, empty database on the server at `admin_url`.
    pub async fn create(admin_url: &str) -> Self {
        let name = format!("kt_{}", random_suffix());
        let db = connect_quietly(admin_url)
            .await
            .unwrap_or_else(|e| panic!("can't connect to {POSTGRES_URL_VAR}={admin_url}: {e}"));
        db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("can't create database {name}: {e}"));
        let _ = db.close().await;
        PgDatabase {
            admin_url: admin_url.to_owned(),
            name,
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        with_database(&self.admin_url, &self.name)
    }
}

async fn connect_quietly(url: &str) -> Result<sea_orm::DatabaseConnection, sea_orm::DbErr> {
    let mut options = sea_orm::ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    sea_orm::Database::connect(options).await
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which can't be blocked on; a thread with a
        // runtime of its own does the cleanup. FORCE ends the server's pooled connections.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                if let Ok(db) = connect_quietly(&admin_url).await {
                    let _ = db
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                    let _ = db.close().await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// An HTTP answer: status, headers and body.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    /// Reads a whole response.
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("reading the response body");
        Reply { status, headers, text }
    }

    /// The body as JSON: `null` when empty, a JSON string holding the text when it isn't
    /// JSON.
    pub fn json(&self) -> Value {
        if self.text.is_empty() {
            return Value::Null;
        }
        serde_json::from_str(&self.text).unwrap_or_else(|_| Value::String(self.text.clone()))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }

    /// Every value of a header (`Set-Cookie` comes several times).
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect()
    }

    /// Where a redirect points.
    pub fn location(&self) -> Option<String> {
        self.header("location")
    }
}

/// A server on a real socket over a fresh database, and clients for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub base_url: String,
    pub addr: SocketAddr,
    pub backend: Backend,
    /// The server's database, for another process to open.
    pub database_url: String,
    clock: Option<Arc<ManualClock>>,
    // Field order is drop order: the server stops before its database goes.
    running: Running,
    http: reqwest::Client,
    users: AtomicU64,
    _postgres: Option<PgDatabase>,
    _dir: TempDir,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("base_url", &self.base_url)
            .field("backend", &self.backend)
            .finish()
    }
}

/// The instant a manual clock starts at: a Monday morning, whole seconds.
pub fn manual_clock_start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T09:00:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc)
}

/// A client that follows no redirects (tests look at them) and uses no proxy.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(60))
}

impl TestApp {
    /// A server on `backend` with the real clock; `None` when the backend is unavailable
    /// and the test is skipped.
    pub async fn start(backend: Backend) -> Option<Self> {
        Self::start_with(backend, None).await
    }

    /// A server on `backend` whose clock stands at [`manual_clock_start`] until the test
    /// moves it with [`TestApp::clock`].
    pub async fn start_with_manual_clock(backend: Backend) -> Option<Self> {
        Self::start_with(backend, Some(Arc::new(ManualClock::new(manual_clock_start())))).await
    }

    async fn start_with(backend: Backend, clock: Option<Arc<ManualClock>>) -> Option<Self> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (database_url, postgres) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/kartoteka.db?mode=rwc", dir.path().display()), None),
            Backend::Postgres => {
                let admin_url = postgres_url()?;
                let db = PgDatabase::create(&admin_url).await;
                (db.url(), Some(db))
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding 127.0.0.1:0");
        let addr = listener.local_addr().expect("the bound address");
        let config = Config {
            database_url: database_url.clone(),
            bind: addr,
            base_url: None,
            secret: None,
            job_lease_seconds: None,
            mail_lease_seconds: None,
            smtp_url: None,
            mail_from: None,
            mail_rate: None,
        };
        let server_clock: Arc<dyn Clock> = match &clock {
            Some(c) => c.clone(),
            None => Arc::new(SystemClock),
        };
        let running = kartoteka_web::start(config, server_clock, Some(listener))
            .await
            .expect("starting the server");
        Some(TestApp {
            base_url: format!("http://{addr}"),
            addr,
            backend,
            database_url,
            clock,
            running,
            http: client_builder().build().expect("an HTTP client"),
            users: AtomicU64::new(0),
            _postgres: postgres,
            _dir: dir,
        })
    }

    /// The domain services behind the server, for setup the API doesn't offer (users,
    /// grants).
    pub fn core(&self) -> &Core {
        &self.running.core
    }

    /// The server's manual clock (only for apps started with one).
    pub fn clock(&self) -> &ManualClock {
        self.clock
            .as_deref()
            .expect("this app runs on the system clock; start it with `both!(manual_clock, ...)`")
    }

    /// Whether the database orders text by code point (SQLite always; PostgreSQL under the
    /// `C` collations), so that a test can predict the name order exactly.
    pub async fn name_order_is_bytewise(&self) -> bool {
        match self.backend {
            Backend::Sqlite => true,
            Backend::Postgres => {
                let row = self
                    .core()
                    .db()
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        "SELECT datcollate::text FROM pg_database WHERE datname = current_database()",
                    ))
                    .await
                    .expect("reading the database collation")
                    .expect("a row");
                let collation: String = row.try_get_by_index(0).expect("the collation");
                matches!(collation.as_str(), "C" | "POSIX" | "C.UTF-8" | "C.utf8")
            }
        }
    }

    /// The client the API helpers use, for requests they don't make (raw bodies).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.http
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Creates a user with `role` and a unique email; returns it with an API token.
    pub async fn user(&self, role: Role) -> (User, String) {
        let n = self.users.fetch_add(1, Ordering::Relaxed) + 1;
        let email = format!("{}{n}@example.com", role.as_str());
        let user = self
            .core()
            .users()
            .create_user(&email, &format!("{} {n}", role.as_str()), PASSWORD, role)
            .await
            .expect("creating a user");
        let token = self.api_token(&email, PASSWORD).await;
        (user, token)
    }

    /// A new admin and its API token.
    pub async fn admin(&self) -> (User, String) {
        self.user(Role::Admin).await
    }

    /// A new agent and its API token.
    pub async fn agent(&self) -> (User, String) {
        self.user(Role::Agent).await
    }

    /// A bearer token for `email` and `password`; fails the test unless the API gives one.
    pub async fn api_token(&self, email: &str, password: &str) -> String {
        let reply = self
            .send(
                Method::POST,
                None,
                "/api/v1/auth/token",
                Some(&json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "POST /auth/token: {}", reply.text);
        reply.json()["token"]
            .as_str()
            .expect("a token in the answer")
            .to_owned()
    }

    /// Sends a request to the API (`token` as bearer, `body` as JSON).
    pub async fn send(&self, method: Method, token: Option<&str>, path: &str, body: Option<&Value>) -> Reply {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::read(request.send().await.expect("sending a request")).await
    }

    /// Posts `body` as-is with `Content-Type: application/json` (for malformed JSON).
    pub async fn post_raw(&self, token: &str, path: &str, body: &str) -> Reply {
        let request = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_owned());
        Reply::read(request.send().await.expect("sending a request")).await
    }

    /// `GET path` with a bearer token.
    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self.send(Method::GET, Some(token), path, None).await;
        (r.status, r.json())
    }

    /// The `name` of each item of the one page `GET path` answers (a contacts or members
    /// list); fails the test unless it answers 200 with no further page.
    pub async fn item_names(&self, token: &str, path: &str) -> Vec<String> {
        let (status, page) = self.get(token, path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {page}");
        assert!(page["next"].is_null(), "GET {path}: more than one page: {page}");
        page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("GET {path}: no items: {page}"))
            .iter()
            .map(|c| c["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// `POST path` with a JSON body and a bearer token.
    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self.send(Method::POST, Some(token), path, Some(body)).await;
        (r.status, r.json())
    }

    /// `PATCH path` with a JSON body and a bearer token.
    pub async fn patch_json(&self, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self.send(Method::PATCH, Some(token), path, Some(body)).await;
        (r.status, r.json())
    }

    /// `DELETE path` with a bearer token.
    pub async fn delete(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let r = self.send(Method::DELETE, Some(token), path, None).await;
        (r.status, r.json())
    }

    /// Creates a contact through the API; fails the test unless it is created.
    pub async fn create_contact(&self, token: &str, body: &Value) -> Value {
        let (status, contact) = self.post_json(token, "/api/v1/contacts", body).await;
        assert_eq!(status, StatusCode::CREATED, "POST /contacts {body}: {contact}");
        contact
    }

    /// Creates a person of type `client` named `name`.
    pub async fn person(&self, token: &str, name: &str) -> Value {
        self.create_contact(token, &json!({"type": "client", "name": name}))
            .await
    }

    /// Every contact the token sees, walking the pages of `GET /contacts` with `sort` and
    /// `limit`; returns the contacts in order and how many pages it took.
    pub async fn all_contacts(&self, token: &str, sort: &str, limit: u32) -> (Vec<Value>, usize) {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let mut path = format!("/api/v1/contacts?limit={limit}&sort={sort}");
            if let Some(cursor) = &after {
                path.push_str(&format!("&after={cursor}"));
            }
            let (status, page) = self.get(token, &path).await;
            assert_eq!(status, StatusCode::OK, "GET {path}: {page}");
            pages += 1;
            let items = page["items"].as_array().expect("items").clone();
            assert!(
                items.len() <= limit as usize,
                "a page of {} items for limit {limit}",
                items.len()
            );
            out.extend(items);
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => break,
            }
            assert!(pages < 1000, "paging does not end");
        }
        (out, pages)
    }

    /// A client with a cookie jar that follows no redirects, like a browser tab whose
    /// redirects the test inspects.
    pub fn web_client(&self) -> reqwest::Client {
        client_builder().cookie_store(true).build().expect("an HTTP client")
    }

    /// `GET path` with a web client.
    pub async fn page(&self, client: &reqwest::Client, path: &str) -> Reply {
        Reply::read(client.get(self.url(path)).send().await.expect("loading a page")).await
    }

    /// Posts a form to `path` with a web client.
    pub async fn submit(&self, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> Reply {
        Reply::read(
            client
                .post(self.url(path))
                .form(form)
                .send()
                .await
                .expect("posting a form"),
        )
        .await
    }

    /// Signs in through the pages: reads the sign-in form's CSRF token, posts the form,
    /// then reads the session's CSRF token from a page. Returns the client (holding the
    /// session cookie) and that token.
    pub async fn signed_in_client(&self, email: &str, password: &str) -> (reqwest::Client, String) {
        let client = self.web_client();
        let login = self.page(&client, "/login").await;
        assert_eq!(login.status, StatusCode::OK);
        let login_csrf = hidden_input(&login.text, "csrf_token").expect("the sign-in form's csrf_token");
        let next = hidden_input(&login.text, "next").unwrap_or_else(|| "/".into());
        let signed_in = self
            .submit(
                &client,
                "/login",
                &[
                    ("email", email),
                    ("password", password),
                    ("csrf_token", &login_csrf),
                    ("next", &next),
                ],
            )
            .await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "signing in as {email}: {}",
            signed_in.text
        );
        let form = self.page(&client, "/contacts/new").await;
        assert_eq!(form.status, StatusCode::OK, "GET /contacts/new after signing in");
        let csrf = hidden_input(&form.text, "csrf_token").expect("the session's csrf_token");
        (client, csrf)
    }
}

/// The value of the first `<input ... name="NAME" ... value="...">` in `html`, decoded.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let needle = format!("name=\"{name}\"");
    let mut rest = html;
    while let Some(at) = rest.find(&needle) {
        let start = rest[..at].rfind('<').unwrap_or(0);
        let end = at + rest[at..].find('>').unwrap_or(rest.len() - at);
        let tag = &rest[start..end];
        if tag.starts_with("<input")
            && let Some(v) = tag.find("value=\"")
        {
            let value = &tag[v + 7..];
            return value.find('"').map(|q| unescape_html(&value[..q]));
        }
        rest = &rest[end..];
    }
    None
}

/// The inner text of the element with `id="ID"` (up to its first closing tag).
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let open_end = at + html[at..].find('>')? + 1;
    let close = open_end + html[open_end..].find("</")?;
    Some(html[open_end..close].to_owned())
}

/// The HTML of the element with `id="ID"` up to the closing `</TAG>` of the same kind,
/// (not nested); enough for the tables and lists the tests read.
pub fn element_html(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[..at].rfind('<')?;
    let tag: String = html[start + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let close = format!("</{tag}>");
    let end = start + html[start..].find(&close)? + close.len();
    Some(html[start..end].to_owned())
}

/// `html` with the numeric character references of the HTML-special characters written
/// as their named entities (`&#60;` as `&lt;`), so tests can look for escaped text in one
/// spelling whichever the template engine uses.
pub fn named_entities(html: &str) -> String {
    html.replace("&#60;", "&lt;")
        .replace("&#x3c;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#x3e;", "&gt;")
        .replace("&#38;", "&amp;")
        .replace("&#x26;", "&amp;")
        .replace("&#34;", "&quot;")
        .replace("&#x22;", "&quot;")
}

/// Text from HTML with its character references decoded (the ones templates produce).
pub fn unescape_html(text: &str) -> String {
    named_entities(text)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&amp;", "&")
}

/// The ids of the rows `<tr data-id="ID">` in `html`, in order.
pub fn row_ids(html: &str) -> Vec<i64> {
    html.split("<tr data-id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().and_then(|id| id.parse().ok()))
        .collect()
}

/// Asserts a 400 `invalid` error at `path`.
#[track_caller]
pub fn assert_invalid(reply: &(StatusCode, Value), path: &str) {
    let (status, body) = reply;
    assert_eq!(*status, StatusCode::BAD_REQUEST, "expected 400 at `{path}`, got {body}");
    assert_eq!(body["error"]["code"], "invalid", "{body}");
    assert_eq!(body["error"]["path"], path, "{body}");
    assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "a message: {body}"
    );
}

/// Asserts an error answer with `status` and `code`.
#[track_caller]
pub fn assert_error(reply: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(reply.0, status, "expected {status} {code}, got {}", reply.1);
    assert_eq!(reply.1["error"]["code"], code, "{}", reply.1);
}

/// The ids of a list of contacts (or anything with an `id`).
pub fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|c| c["id"].as_i64().expect("an id")).collect()
}

/// The id of a contact (or anything with an `id`).
pub fn id(item: &Value) -> i64 {
    item["id"].as_i64().expect("an id")
}
