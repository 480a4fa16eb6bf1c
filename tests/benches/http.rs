//! The server from outside: what a request adds to an index-served count, how writers
//! fare when ten write at once, and how much memory the server holds.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-tests --bench http -- --contacts 200000
//! ```
//!
//! Options: `--contacts N` (default 100,000), `--activities A` (default 3), `--runs R`
//! (timed requests per figure, default 300), `--writes W` (PATCHes per writer and round,
//! default 200), `--segments S` (dynamic segments for the second round of writes, default
//! 50), `--keep`.
//!
//! For SQLite and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL, it loads the demo
//! base as the core benchmarks do (`core/benches/support`), then starts the server as a
//! process of its own: this benchmark's binary again, with `KARTOTEKA_BENCH_SERVE` set to
//! the database URL, running `kartoteka_web::start` as `kartoteka serve` does (migrations,
//! plugins, the segment worker), on 127.0.0.1. It signs in for a bearer token, then:
//!
//! 1. **Counts**, one request at a time (the median of `--runs` after a warm-up):
//!    `GET /healthz` (the floor of a request: routing, the connection, no database);
//!    `GET /api/v1/contacts/count?filter=...` for filters the indexes serve and a
//!    `within_distance`; the same count in this process (`prepare_filter` +
//!    `count_query`, as the handler calls them) and by hand, on the same database. The
//!    three counts must be equal.
//! 2. **Concurrent writers**: ten clients, each with its own connection, PATCH the city of
//!    contacts of their own (no two touch one contact), `--writes` each, as fast as the
//!    server answers; first with no segments, then with `--segments` dynamic segments
//!    (the segments benchmark's definitions, created before the round through the API,
//!    so the server builds them), whose membership every write
//!    keeps current. Latency per PATCH (p50, p99,
//!    max) and writes per second.
//! 3. **Memory**: the server's resident set after each part and its peak (`VmHWM` of
//!    `/proc/<pid>/status`).
//!
//! The client is `reqwest`, one kept-alive connection per client.

#[path = "../../core/benches/support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

#[path = "../../core/benches/segments/definitions.rs"]
#[allow(dead_code)] // the segments benchmark's definitions; this one creates a few
mod definitions;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kartoteka_core::SystemClock;
use kartoteka_core::auth::Actor;
use kartoteka_core::filter::ContactQuery;
use sea_orm::{ConnectionTrait, Value};
use serde_json::{Value as Json, json};

use support::geo::CIRCLE;
use support::{Res, Sql, arg, demo_size, flag, load_base, ms, on_each_database, ratio, time_it};

/// Set to a database URL, the benchmark's binary is the server instead (see the module
/// docs).
const SERVE: &str = "KARTOTEKA_BENCH_SERVE";

/// How many clients write at once.
const WRITERS: usize = 10;

/// How a count is written by hand.
enum Hand {
    Sql(Sql),
    Circle { lat: f64, lon: f64, km: f64 },
}

/// One count, three ways.
struct Case {
    label: &'static str,
    filter: Json,
    hand: Hand,
}

fn cases() -> Vec<Case> {
    let eq = |field: &str, value: Json| json!({"field": field, "op": "eq", "value": value});
    vec![
        Case {
            label: "city eq",
            filter: eq("city", json!("Kraków")),
            hand: Hand::Sql(Sql::new(
                "SELECT COUNT(*) FROM contacts WHERE city = ?",
                vec![Value::from("Kraków")],
            )),
        },
        Case {
            label: "country eq",
            filter: eq("country", json!("Polska")),
            hand: Hand::Sql(Sql::new(
                "SELECT COUNT(*) FROM contacts WHERE country = ?",
                vec![Value::from("Polska")],
            )),
        },
        Case {
            label: "matches nothing",
            filter: eq("city", json!("Atlantis")),
            hand: Hand::Sql(Sql::new(
                "SELECT COUNT(*) FROM contacts WHERE city = ?",
                vec![Value::from("Atlantis")],
            )),
        },
        Case {
            label: "within_distance",
            filter: json!({"field": "location", "op": "within_distance",
                "value": {"lat": CIRCLE.0, "lon": CIRCLE.1, "km": CIRCLE.2}}),
            hand: Hand::Circle {
                lat: CIRCLE.0,
                lon: CIRCLE.1,
                km: CIRCLE.2,
            },
        },
    ]
}

async fn hand_count(db: &sea_orm::DatabaseConnection, hand: &Hand) -> Res<i64> {
    match hand {
        Hand::Sql(sql) => {
            let row = db
                .query_one_raw(sql.statement(db.get_database_backend()))
                .await?
                .ok_or("no row")?;
            Ok(row.try_get_by_index::<i64>(0)?)
        }
        Hand::Circle { lat, lon, km } => Ok(i64::try_from(support::geo::circle_count(db, *lat, *lon, *km).await?)?),
    }
}

/// The server, a process of its own (see the module docs); killed when dropped.
struct Server {
    child: Child,
    root: String,
}

impl Server {
    /// Starts the benchmark's binary as the server on `url` and waits for its address.
    fn start(url: &str) -> Res<Server> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(SERVE, url)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("the server has no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .strip_prefix("listening ")
            .map(str::trim)
            .ok_or_else(|| format!("the server said {line:?} instead of its address"))?;
        Ok(Server {
            root: format!("http://{addr}"),
            child,
        })
    }

    /// A line of the server's `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
    fn memory(&self, key: &str) -> Res<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.trim().strip_suffix("kB"))
            .ok_or_else(|| format!("no {key} in /proc/<pid>/status"))?
            .trim()
            .parse::<u64>()?;
        Ok(kib * 1024)
    }

    /// "resident now / peak so far", in MB.
    fn rss(&self) -> Res<String> {
        Ok(format!(
            "{:.0} MB now, {:.0} MB peak",
            self.memory("VmRSS")? as f64 / 1e6,
            self.memory("VmHWM")? as f64 / 1e6
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The server side: `kartoteka_web::start` on `url`, on 127.0.0.1, until stdin closes.
async fn serve_child(url: String) -> Res<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let config = kartoteka_web::config::Config {
        database_url: url,
        bind: listener.local_addr()?,
        base_url: None,
        secret: None,
        job_lease_seconds: None,
        mail_lease_seconds: None,
        smtp_url: None,
        mail_from: None,
        mail_rate: None,
    };
    let running = kartoteka_web::start(config, Arc::new(SystemClock), Some(listener))
        .await
        .map_err(|e| e.to_string())?;
    println!("listening {}", running.addr);
    std::io::stdout().flush()?;
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new())).await??;
    running.stop();
    Ok(())
}

/// Where an API count's time goes, each part timed alone in this process (the median of
/// `runs`): the parts a `GET /api/v1/contacts/count` handler calls, in its order.
async fn parts(base: &support::Base, token: &str, actor: &Actor, runs: usize) -> Res<()> {
    let core = &base.core;
    let filter = json!({"field": "city", "op": "eq", "value": "Kraków"});
    let (round_trip, _) = time_it(runs, || async {
        hand_count(&base.db, &Hand::Sql(Sql::new("SELECT CAST(1 AS BIGINT)", Vec::new()))).await
    })
    .await?;
    let (token_at, _) = time_it(runs, || async {
        core.users()
            .resolve_api_token(token)
            .await?
            .ok_or_else(|| "the token is not live".into())
    })
    .await?;
    let (catalog_at, catalog) = time_it(runs, || async { Ok(core.filter().filter_catalog().await?) }).await?;
    let (current_at, _) = time_it(runs, || async { Ok(core.filter().current_catalog().await?) }).await?;
    let (lower_at, prepared) = time_it(runs, || async {
        Ok(core.filter().prepare_with(&filter, catalog.clone()).await?)
    })
    .await?;
    // Another value each time: no plan kept, the plugin's `lower` runs.
    let fresh = std::sync::atomic::AtomicUsize::new(0);
    let (lower_new_at, _) = time_it(runs, || async {
        let n = fresh.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let filter = json!({"field": "city", "op": "eq", "value": format!("Kraków {n}")});
        Ok(core.filter().prepare_with(&filter, catalog.clone()).await?)
    })
    .await?;
    let query = ContactQuery {
        filter: Some(prepared),
        ..ContactQuery::default()
    };
    let (count_at, _) = time_it(runs, || async { Ok(core.filter().count_query(actor, &query).await?) }).await?;
    println!("Where `city eq`'s time goes, each part alone in process (median of {runs}):\n");
    println!("| part | time |");
    println!("|---|---|");
    for (part, took) in [
        ("a database round trip (`SELECT 1`)", round_trip),
        ("the bearer token and its user (kept for a second)", token_at),
        ("the catalogue (kept; its generations read once a second)", catalog_at),
        (
            "the catalogue as of now (its generations read: segments, rebuilds)",
            current_at,
        ),
        ("parse, check, lower: the plan kept for the second", lower_at),
        (
            "parse, check, lower: another filter (the plugin's `lower`)",
            lower_new_at,
        ),
        ("the count (visibility, the condition, `COUNT(*)`)", count_at),
    ] {
        println!("| {part} | {} |", ms(took));
    }
    println!();
    Ok(())
}

/// Creates a dynamic segment through the API and waits until the server has built it.
async fn create_segment(client: &reqwest::Client, root: &str, token: &str, name: &str, filter: Json) -> Res<()> {
    let reply = client
        .post(format!("{root}/api/v1/segments"))
        .bearer_auth(token)
        .json(&json!({"name": name, "kind": "dynamic", "filter": filter}))
        .send()
        .await?;
    let status = reply.status();
    let mut segment: Json = reply.json().await?;
    let id = segment
        .get("id")
        .and_then(Json::as_i64)
        .ok_or_else(|| format!("creating {name}: {status} {segment}"))?;
    let waiting = Instant::now();
    while segment.get("status").and_then(Json::as_str) == Some("rebuilding") {
        if waiting.elapsed() > Duration::from_secs(600) {
            return Err(format!("{name} was not built in 10 minutes").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        segment = client
            .get(format!("{root}/api/v1/segments/{id}"))
            .bearer_auth(token)
            .send()
            .await?
            .json()
            .await?;
    }
    match segment.get("status").and_then(Json::as_str) {
        Some("ok") => Ok(()),
        other => Err(format!("{name}: status {other:?} after it was built: {segment}").into()),
    }
}

/// What a round of concurrent writes measured.
struct Writes {
    took: Vec<Duration>,
    wall: Duration,
}

impl Writes {
    /// `| what | writes | median | p90 | p99 | max | mean | writes/s |`.
    fn row(&self, what: &str) -> String {
        format!(
            "| {what} | {} | {:.0} |",
            support::latency_cells(&self.took),
            self.took.len() as f64 / self.wall.as_secs_f64(),
        )
    }
}

/// `WRITERS` clients, each PATCHing the city of its share of `contacts` (id, version) in
/// turn, `each` times; returns the contacts' versions after.
async fn write_round(
    root: &str,
    token: &str,
    contacts: Vec<(i64, i64)>,
    each: usize,
) -> Res<(Writes, Vec<(i64, i64)>)> {
    let cities: Vec<&'static str> = definitions::places().iter().map(|(c, _)| c.name).collect();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(WRITERS);
    for writer in 0..WRITERS {
        let mut mine: Vec<(i64, i64)> = contacts.iter().copied().skip(writer).step_by(WRITERS).collect();
        let root = root.to_owned();
        let token = token.to_owned();
        let cities = cities.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|e| e.to_string())?;
            let mut took = Vec::with_capacity(each);
            for n in 0..each {
                let slot = n % mine.len().max(1);
                let Some((id, version)) = mine.get(slot).copied() else {
                    return Err("a writer has no contacts".to_owned());
                };
                let city = cities.get((n * 7 + writer) % cities.len()).copied().unwrap_or("Kraków");
                let at = Instant::now();
                let reply = client
                    .patch(format!("{root}/api/v1/contacts/{id}"))
                    .bearer_auth(&token)
                    .json(&json!({"version": version, "city": city}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let status = reply.status();
                let body: Json = reply.json().await.map_err(|e| e.to_string())?;
                took.push(at.elapsed());
                let Some(version) = body.get("version").and_then(Json::as_i64) else {
                    return Err(format!("PATCH /contacts/{id}: {status} {body}"));
                };
                if let Some(entry) = mine.get_mut(slot) {
                    entry.1 = version;
                }
            }
            Ok((took, mine))
        }));
    }
    let mut took = Vec::with_capacity(WRITERS * each);
    let mut versions = Vec::with_capacity(contacts.len());
    for task in tasks {
        let (t, mine) = task.await??;
        took.extend(t);
        versions.extend(mine);
    }
    Ok((
        Writes {
            took,
            wall: started.elapsed(),
        },
        versions,
    ))
}

/// What one database's run is asked for.
struct Options {
    people: usize,
    activities: usize,
    runs: usize,
    writes: usize,
    segments: usize,
}

async fn run(label: &'static str, url: &str, options: &Options) -> Res<()> {
    let Options {
        people,
        activities,
        runs,
        writes,
        segments,
    } = *options;
    let base = load_base(label, url, Arc::new(SystemClock), people, activities).await?;
    let server = Server::start(url)?;
    let started_rss = server.rss()?;
    let root = server.root.clone();
    let client = reqwest::Client::builder().no_proxy().build()?;
    let token: Json = client
        .post(format!("{root}/api/v1/auth/token"))
        .json(&json!({"email": base.admin.email, "password": "bench-password"}))
        .send()
        .await?
        .json()
        .await?;
    let token = token.get("token").and_then(Json::as_str).ok_or("no token")?.to_owned();
    let actor = Actor {
        user_id: base.admin.id,
        email: base.admin.email.clone(),
        role: base.admin.role,
    };

    let (healthz, _) = time_it(runs, || async {
        let status = client.get(format!("{root}/healthz")).send().await?.status();
        if !status.is_success() {
            return Err(format!("/healthz answered {status}").into());
        }
        Ok(())
    })
    .await?;

    base.print_heading(label);
    println!("`GET /healthz`: {} (median of {runs}).\n", ms(healthz));
    println!(
        "| filter | count | HTTP | in process | hand-written | HTTP / hand | HTTP − /healthz | (HTTP − /healthz) / hand |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for case in cases() {
        let query = format!(
            "{root}/api/v1/contacts/count?filter={}",
            kartoteka_tests::urlencode(&case.filter.to_string())
        );
        let (http, counted) = time_it(runs, || async {
            let reply = client.get(&query).bearer_auth(&token).send().await?;
            let status = reply.status();
            let body: Json = reply.json().await?;
            body.get("count")
                .and_then(Json::as_i64)
                .ok_or_else(|| format!("{status}: {body}").into())
        })
        .await?;
        let (engine, engine_count) = time_it(runs, || async {
            let prepared = base.core.filter().prepare_filter(&case.filter).await?;
            let query = ContactQuery {
                filter: Some(prepared),
                ..ContactQuery::default()
            };
            Ok(base.core.filter().count_query(&actor, &query).await?)
        })
        .await?;
        let (hand, hand_count) = time_it(runs, || hand_count(&base.db, &case.hand)).await?;
        if u64::try_from(counted)? != engine_count || counted != hand_count {
            return Err(format!(
                "{}: HTTP counted {counted}, the engine {engine_count}, by hand {hand_count}",
                case.label
            )
            .into());
        }
        let over = http.saturating_sub(healthz);
        println!(
            "| {} | {counted} | {} | {} | {} | {} | {} | {} |",
            case.label,
            ms(http),
            ms(engine),
            ms(hand),
            ratio(http, hand),
            ms(over),
            ratio(over.max(Duration::from_nanos(1)), hand),
        );
    }
    println!();
    parts(&base, &token, &actor, runs).await?;
    let counted_rss = server.rss()?;

    // 2. Concurrent writers, without and with segments.
    let backend = base.db.get_database_backend();
    let rows = base
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            format!("SELECT id, version FROM contacts ORDER BY id LIMIT {}", WRITERS * 100),
        ))
        .await?;
    let mut contacts = Vec::with_capacity(rows.len());
    for row in rows {
        contacts.push((row.try_get_by_index::<i64>(0)?, row.try_get_by_index::<i64>(1)?));
    }
    eprintln!("{label}: {WRITERS} writers, no segments");
    let (warm, contacts) = write_round(&root, &token, contacts, 10).await?;
    drop(warm);
    let (alone, contacts) = write_round(&root, &token, contacts, writes).await?;
    let alone_rss = server.rss()?;
    eprintln!("{label}: creating {segments} segments through the API");
    let created = Instant::now();
    for def in definitions::definitions()?.into_iter().take(segments) {
        create_segment(&client, &root, &token, &def.name, def.filter).await?;
    }
    let created = created.elapsed();
    eprintln!("{label}: {WRITERS} writers, {segments} segments");
    let (warm, contacts) = write_round(&root, &token, contacts, 10).await?;
    drop(warm);
    let (with_segments, _) = write_round(&root, &token, contacts, writes).await?;
    let written_rss = server.rss()?;
    let peak = server.memory("VmHWM")?;

    println!(
        "{WRITERS} clients PATCHing the city of contacts of their own, {writes} each ({segments} segments created in {:.1} s between the rounds):\n",
        created.as_secs_f64()
    );
    println!("| segments | writes | median | p90 | p99 | max | mean | writes/s |");
    println!("|---|---|---|---|---|---|---|---|");
    println!("{}", alone.row("none"));
    println!("{}", with_segments.row(&segments.to_string()));
    println!();
    println!(
        "Server memory: {started_rss} after start-up; {counted_rss} after the counts; {alone_rss} after the writes without segments; {written_rss} after those with. **Peak {:.0} MB.**\n",
        peak as f64 / 1e6
    );
    Ok(())
}

fn main() -> Res<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    if let Ok(url) = std::env::var(SERVE) {
        return runtime.block_on(serve_child(url));
    }
    let (people, activities) = demo_size();
    let options = Options {
        people,
        activities,
        runs: arg("--runs", 300).max(1),
        writes: arg("--writes", 200).max(1),
        segments: arg("--segments", 50),
    };
    runtime.block_on(on_each_database("http", flag("--keep"), async |label, url| {
        run(label, &url, &options).await
    }))
}
