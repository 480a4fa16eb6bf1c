//! Loading and paging the contacts table at scale, against hand-written SQL.
//!
//! ```text
//! cargo bench -p kartoteka-core --bench contacts -- --contacts 1000000
//! ```
//!
//! For SQLite (a fresh file) and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL (a
//! fresh database), it loads the demo generator's people and companies, then times a deep
//! page of the contacts table three ways in the same run: through `Core::list_contacts`
//! (keyset), through a hand-written keyset query, and through `OFFSET` (what keyset
//! avoids). Prints a Markdown table.
//!
//! The hand-written queries read their rows into the same row structs the engine uses, so
//! both sides pay for decoding; the difference is what the engine adds on top.

#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kartoteka_core::auth::Role;
use kartoteka_core::contacts::{Cursor, ListQuery, Sort, SortKey};
use kartoteka_core::demo::DemoOptions;
use kartoteka_core::entities::contacts;
use kartoteka_core::{Core, SystemClock};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use support::{Res, arg, median};

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn time_it<F, Fut>(runs: usize, mut f: F) -> Res<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Res<usize>>,
{
    // One warm-up, then the median of `runs`.
    f().await?;
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let rows = f().await?;
        samples.push(start.elapsed());
        if rows == 0 {
            return Err("a timed query returned no rows".into());
        }
    }
    Ok(median(samples))
}

async fn run(label: &str, url: &str, people: usize) -> Res<()> {
    let db = kartoteka_core::db::connect(url).await?;
    kartoteka_core::db::migrate(&db).await?;
    let core = Core::new(db.clone(), Arc::new(SystemClock));
    let admin = core
        .users()
        .create_user("bench@example.com", "", "bench-password", Role::Admin)
        .await?;
    let actor = admin.actor();
    let options = DemoOptions {
        people,
        companies: people / 10,
        activities_per_contact: 0,
        seed: 7,
        owner_ids: vec![admin.id],
    };
    let started = Instant::now();
    let report = core.load_demo(options, &|_, _| {}).await?;
    let load = started.elapsed();
    let rows = report.people + report.companies;
    db.execute_unprepared("ANALYZE").await?;

    let backend = db.get_database_backend();
    let depth = (rows as usize) * 9 / 10;
    let runs = 15;
    println!("\n### {label}: {rows} contacts\n");
    println!(
        "Load (demo generator, no activities): {:.1} s, {:.0} contacts/s\n",
        load.as_secs_f64(),
        rows as f64 / load.as_secs_f64()
    );
    println!(
        "| deep page (50 rows at row {depth}) | Core::list_contacts | hand-written keyset SQL | ratio | OFFSET SQL |"
    );
    println!("|---|---|---|---|---|");
    for (sort, column, desc) in [
        (
            Sort {
                key: SortKey::Name,
                descending: false,
            },
            "name_sort",
            false,
        ),
        (
            Sort {
                key: SortKey::CreatedAt,
                descending: true,
            },
            "created_at",
            true,
        ),
    ] {
        let dir = if desc { "DESC" } else { "ASC" };
        // The row before the page, found once (not timed).
        let boundary = db
            .query_one_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT id, name_sort, created_at FROM contacts ORDER BY {column} {dir}, id {dir} LIMIT 1 OFFSET {}",
                    depth - 1
                ),
            ))
            .await?
            .ok_or("no boundary row")?;
        let id: i64 = boundary.try_get("", "id")?;
        let name_sort: Vec<u8> = boundary.try_get("", "name_sort")?;
        let created: chrono::DateTime<chrono::Utc> = boundary.try_get("", "created_at")?;
        let cursor = Cursor {
            sort: sort.key,
            descending: desc,
            key: (sort.key == SortKey::Name).then(|| URL_SAFE_NO_PAD.encode(&name_sort)),
            at: (sort.key == SortKey::CreatedAt).then_some(created),
            score: None,
            id,
        }
        .encode();
        let query = ListQuery {
            sort,
            limit: 50,
            after: Some(cursor),
        };
        let engine = time_it(runs, || async {
            Ok(core.contacts().list_contacts(&actor, &query).await?.items.len())
        })
        .await?;

        let op = if desc { "<" } else { ">" };
        let (p1, p2) = match backend {
            DbBackend::Postgres => ("$1", "$2"),
            _ => ("?", "?"),
        };
        let sql = format!(
            "SELECT * FROM contacts WHERE ({column}, id) {op} ({p1}, {p2}) ORDER BY {column} {dir}, id {dir} LIMIT 50"
        );
        let key: sea_orm::Value = if column == "name_sort" {
            name_sort.clone().into()
        } else {
            created.into()
        };
        let hand = time_it(runs, || {
            let stmt = Statement::from_sql_and_values(backend, &sql, [key.clone(), id.into()]);
            let db = db.clone();
            async move { Ok(contacts::Entity::find().from_raw_sql(stmt).all(&db).await?.len()) }
        })
        .await?;
        let offset_sql = format!("SELECT * FROM contacts ORDER BY {column} {dir}, id {dir} LIMIT 50 OFFSET {depth}");
        let offset = time_it(3, || {
            let stmt = Statement::from_string(backend, offset_sql.clone());
            let db = db.clone();
            async move { Ok(contacts::Entity::find().from_raw_sql(stmt).all(&db).await?.len()) }
        })
        .await?;
        println!(
            "| by {column} {dir} | {} | {} | {:.2}x | {} |",
            ms(engine),
            ms(hand),
            engine.as_secs_f64() / hand.as_secs_f64(),
            ms(offset)
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let people = arg("--contacts", 100_000) * 10 / 11;
    let dir = std::env::temp_dir().join(format!("kartoteka-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("bench.db");
    let result = run("SQLite", &format!("sqlite://{}?mode=rwc", file.display()), people).await;
    std::fs::remove_dir_all(&dir).ok();
    result?;
    match std::env::var("KARTOTEKA_TEST_POSTGRES_URL") {
        Ok(base) => {
            let name = format!("kt_bench_{}", std::process::id());
            let admin = kartoteka_core::db::connect(&base).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            let url = match base.rfind('/') {
                Some(i) => format!("{}/{name}", &base[..i]),
                None => return Err("KARTOTEKA_TEST_POSTGRES_URL has no database part".into()),
            };
            let result = run("PostgreSQL", &url, people).await;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await
                .ok();
            result?;
        }
        Err(_) => println!("\nPostgreSQL skipped: KARTOTEKA_TEST_POSTGRES_URL is not set"),
    }
    Ok(())
}
