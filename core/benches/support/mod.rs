//! What the benchmarks over the demo base share: their arguments, timing and printing,
//! hand-written SQL for either database, and a freshly loaded base on SQLite and, when
//! `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL.

pub mod geo;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kartoteka_core::auth::{Role, User};
use kartoteka_core::demo::{DemoOptions, DemoReport};
use kartoteka_core::{Clock, Core};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The number after `name` on the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The demo base the command line asks for: `--contacts N` (default 100,000, a tenth of
/// them companies) and `--activities A` (per person on average, default 3); returns the
/// people and the activities per person.
pub fn demo_size() -> (usize, usize) {
    (arg("--contacts", 100_000) * 10 / 11, arg("--activities", 3))
}

/// Whether `name` is on the command line.
pub fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The `p`-quantile of sorted samples (nearest rank).
pub fn quantile(sorted: &[Duration], p: f64) -> Duration {
    let n = sorted.len();
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n.max(1));
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// `| n | median | p90 | p99 | max | mean |` cells.
pub fn latency_cells(samples: &[Duration]) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let mean = if sorted.is_empty() {
        Duration::ZERO
    } else {
        sorted.iter().sum::<Duration>() / u32::try_from(sorted.len()).unwrap_or(u32::MAX)
    };
    format!(
        "{} | {} | {} | {} | {} | {}",
        sorted.len(),
        ms(quantile(&sorted, 0.5)),
        ms(quantile(&sorted, 0.9)),
        ms(quantile(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
        ms(mean),
    )
}

pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

pub fn ratio(a: Duration, b: Duration) -> String {
    format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64().max(1e-9))
}

/// One warm-up, then the median of `runs`; the answer of the last run.
pub async fn time_it<T, F, Fut>(runs: usize, mut f: F) -> Res<(Duration, T)>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Res<T>>,
{
    let mut answer = f().await?;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        answer = f().await?;
        samples.push(start.elapsed());
    }
    Ok((median(samples), answer))
}

/// SQL written with `?` placeholders, numbered `$1, $2, ...` for PostgreSQL.
#[derive(Debug, Clone)]
pub struct Sql {
    pub text: String,
    pub values: Vec<Value>,
}

impl Sql {
    pub fn new(text: impl Into<String>, values: Vec<Value>) -> Self {
        Sql {
            text: text.into(),
            values,
        }
    }

    pub fn statement(&self, backend: DbBackend) -> Statement {
        let text = if backend == DbBackend::Postgres {
            let mut out = String::with_capacity(self.text.len() + 8);
            let mut n = 0;
            for ch in self.text.chars() {
                if ch == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(ch);
                }
            }
            out
        } else {
            self.text.clone()
        };
        Statement::from_sql_and_values(backend, text, self.values.clone())
    }
}

/// The expression an extra field's index is built on, as the database holds it: a
/// condition on an extra field uses its index only if it repeats that expression.
pub async fn index_expression(db: &DatabaseConnection, key: &str) -> Res<String> {
    let name = kartoteka_core::filter::indexes::index_name(key);
    let backend = db.get_database_backend();
    let (sql, opening) = if backend == DbBackend::Postgres {
        ("SELECT indexdef FROM pg_indexes WHERE indexname = $1", "USING btree (")
    } else {
        (
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?",
            " ON \"contacts\" (",
        )
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [name.clone().into()]))
        .await?
        .ok_or_else(|| format!("no index {name}"))?;
    let definition: String = row.try_get_by_index(0)?;
    let start = definition.find(opening).map(|i| i + opening.len());
    let end = definition.rfind(')');
    match (start, end) {
        (Some(start), Some(end)) if start < end => Ok(definition.get(start..end).unwrap_or_default().to_owned()),
        _ => Err(format!("can't read the expression of {definition}").into()),
    }
}

/// Statistics. On PostgreSQL also the visibility map (VACUUM), as autovacuum would set
/// it soon after a bulk load: without it, index-only scans visit the heap, and
/// autovacuum starting in the middle of the measurements would disturb them.
pub async fn analyze(db: &DatabaseConnection) -> Res<Duration> {
    let started = Instant::now();
    db.execute_unprepared(if db.get_database_backend() == DbBackend::Postgres {
        "VACUUM ANALYZE"
    } else {
        "ANALYZE"
    })
    .await?;
    Ok(started.elapsed())
}

/// The system clock, moved forward on demand, or held still: the benchmarks' own timing
/// reads the system clock, and the engine's time-relative work sees time pass without
/// waiting.
#[derive(Debug, Default)]
pub struct ShiftedClock(std::sync::Mutex<(chrono::Duration, Option<chrono::DateTime<chrono::Utc>>)>);

impl ShiftedClock {
    pub fn advance(&self, by: chrono::Duration) {
        if let Ok(mut state) = self.0.lock() {
            state.0 += by;
        }
    }

    /// Stops the clock where it is until [`ShiftedClock::release`]; returns that instant.
    pub fn hold(&self) -> chrono::DateTime<chrono::Utc> {
        let now = self.now();
        if let Ok(mut state) = self.0.lock() {
            state.1 = Some(now);
        }
        now
    }

    /// Lets the clock run again from where it was held.
    pub fn release(&self) {
        if let Ok(mut state) = self.0.lock()
            && let Some(held) = state.1.take()
        {
            state.0 = held - kartoteka_core::SystemClock.now();
        }
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        let (shift, held) = self.0.lock().map(|s| *s).unwrap_or_default();
        held.unwrap_or_else(|| kartoteka_core::SystemClock.now() + shift)
    }
}

/// A demo base, loaded and ready.
pub struct Base {
    pub db: DatabaseConnection,
    pub core: Core,
    pub admin: User,
    pub report: DemoReport,
    /// `Core::load_demo`'s time: the rows, the extra fields' expression indexes, `ANALYZE`.
    pub load: Duration,
    /// `ANALYZE` (SQLite) or `VACUUM ANALYZE` (PostgreSQL).
    pub analyze: Duration,
}

impl Base {
    pub fn contacts(&self) -> u64 {
        self.report.people + self.report.companies
    }

    /// Prints the heading of `label`'s results: the base and how long it took to load.
    pub fn print_heading(&self, label: &str) {
        println!(
            "\n### {label}: {} contacts, {} activities\n",
            self.contacts(),
            self.report.activities
        );
        println!(
            "Load (demo generator, with the extra fields' indexes and ANALYZE): {:.1} s ({:.0} contacts/s with their activities); then {} {:.1} s.\n",
            self.load.as_secs_f64(),
            self.contacts() as f64 / self.load.as_secs_f64(),
            if self.db.get_database_backend() == DbBackend::Postgres {
                "VACUUM ANALYZE"
            } else {
                "ANALYZE"
            },
            self.analyze.as_secs_f64(),
        );
    }
}

/// Migrations, an admin, the demo generator's `people`, a tenth as many companies and
/// `activities` per person on average (`Core::load_demo`: multi-row `INSERT`s in
/// transactions, each row with the derived columns `contacts::derived` computes on every
/// write; then, in the same call, the extra fields' expression indexes and `ANALYZE`);
/// then statistics again (`VACUUM ANALYZE` on PostgreSQL, which also sets the visibility
/// map index-only scans rely on), and the plugins.
pub async fn load_base(label: &str, url: &str, clock: Arc<dyn Clock>, people: usize, activities: usize) -> Res<Base> {
    let db = kartoteka_core::db::connect(url).await?;
    kartoteka_core::db::migrate(&db).await?;
    let core = Core::new(db.clone(), clock);
    let admin = core
        .users()
        .create_user("bench@example.com", "", "bench-password", Role::Admin)
        .await?;
    let options = DemoOptions {
        people,
        companies: people / 10,
        activities_per_contact: activities,
        seed: 7,
        owner_ids: vec![admin.id],
    };
    let decile = AtomicU64::new(0);
    let started = Instant::now();
    let report = core
        .load_demo(options, &|done, total| {
            let tenth = done * 10 / total.max(1);
            if decile.fetch_max(tenth, Ordering::Relaxed) < tenth {
                eprintln!(
                    "{label}: loaded {}% ({:.0} s)",
                    tenth * 10,
                    started.elapsed().as_secs_f64()
                );
            }
        })
        .await?;
    let load = started.elapsed();
    let analyze = analyze(&db).await?;
    core.plugins().start().await?;
    Ok(Base {
        db,
        core,
        admin,
        report,
        load,
        analyze,
    })
}

/// Runs `run(label, url)` on a fresh SQLite file, then on a fresh PostgreSQL database
/// when `KARTOTEKA_TEST_POSTGRES_URL` is set; both are removed afterwards unless `keep`.
/// `--postgres-only` leaves SQLite out (for runs at a million, where each database takes
/// most of an hour).
pub async fn on_each_database(bench: &str, keep: bool, run: impl AsyncFn(&'static str, String) -> Res<()>) -> Res<()> {
    let pid = std::process::id();
    if !flag("--postgres-only") {
        let dir = std::env::temp_dir().join(format!("kartoteka-bench-{bench}-{pid}"));
        std::fs::create_dir_all(&dir)?;
        let file = dir.join("bench.db");
        let result = run("SQLite", format!("sqlite://{}?mode=rwc", file.display())).await;
        if keep {
            println!("\nSQLite file kept: {}", file.display());
        } else {
            std::fs::remove_dir_all(&dir).ok();
        }
        result?;
    }
    let Ok(base) = std::env::var("KARTOTEKA_TEST_POSTGRES_URL") else {
        println!("\nPostgreSQL skipped: KARTOTEKA_TEST_POSTGRES_URL is not set");
        return Ok(());
    };
    let name = format!("kt_bench_{bench}_{pid}");
    let admin = kartoteka_core::db::connect(&base).await?;
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
    let url = match base.rfind('/') {
        Some(i) => format!("{}/{name}", base.get(..i).unwrap_or_default()),
        None => return Err("KARTOTEKA_TEST_POSTGRES_URL has no database part".into()),
    };
    let result = run("PostgreSQL", url.clone()).await;
    if keep {
        println!("\nPostgreSQL database kept: {url}");
    } else {
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
    }
    result
}

/// The process's resident high-water mark (`VmHWM`), in MiB.
pub fn peak_mib() -> f64 {
    status_mib("VmHWM:")
}

/// The process's resident memory now (`VmRSS`), in MiB.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

fn status_mib(line: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix(line))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// Resets the high-water mark [`peak_mib`] reads.
pub fn reset_peak() {
    // "5" resets the peak resident set size (Linux 4.0+).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}
