//! The HTTP path against the same work in process and by hand: what a request adds to an
//! index-served count.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-tests --bench http -- --contacts 200000
//! ```
//!
//! Options: `--contacts N` (default 100,000), `--activities A` (default 3), `--runs R`
//! (timed requests per figure, default 300), `--keep`.
//!
//! For SQLite and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL, it loads the demo
//! base as the core benchmarks do (`core/benches/support`), serves it with the server's own
//! router on 127.0.0.1 (`kartoteka_web::serve`), signs in for a bearer token, then times,
//! one request at a time (the median of `--runs` after a warm-up):
//!
//! - `GET /healthz`: the floor of a request (routing, the connection, no database);
//! - `GET /api/v1/contacts/count?filter=...` for a few filters the indexes serve;
//! - the same count in process (`core.filter().prepare_filter` + `count_query`, as the
//!   handler calls them) and the count written by hand, on the same database.
//!
//! The client is `reqwest` over one kept-alive connection; the server runs on the same
//! runtime, as it would on a 2-core machine.

#[path = "../../core/benches/support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::sync::Arc;
use std::time::Duration;

use kartoteka_core::SystemClock;
use kartoteka_core::auth::Actor;
use kartoteka_core::filter::ContactQuery;
use sea_orm::{ConnectionTrait, Value};
use serde_json::{Value as Json, json};

use support::{Res, Sql, arg, demo_size, flag, load_base, ms, on_each_database, ratio, time_it};

/// One count, three ways.
struct Case {
    label: &'static str,
    filter: Json,
    hand: Sql,
}

fn cases() -> Vec<Case> {
    let eq = |field: &str, value: Json| json!({"field": field, "op": "eq", "value": value});
    vec![
        Case {
            label: "city eq",
            filter: eq("city", json!("Kraków")),
            hand: Sql::new(
                "SELECT COUNT(*) FROM contacts WHERE city = ?",
                vec![Value::from("Kraków")],
            ),
        },
        Case {
            label: "country eq",
            filter: eq("country", json!("Polska")),
            hand: Sql::new(
                "SELECT COUNT(*) FROM contacts WHERE country = ?",
                vec![Value::from("Polska")],
            ),
        },
        Case {
            label: "matches nothing",
            filter: eq("city", json!("Atlantis")),
            hand: Sql::new(
                "SELECT COUNT(*) FROM contacts WHERE city = ?",
                vec![Value::from("Atlantis")],
            ),
        },
    ]
}

async fn hand_count(db: &sea_orm::DatabaseConnection, sql: &Sql) -> Res<i64> {
    let row = db
        .query_one_raw(sql.statement(db.get_database_backend()))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn run(label: &'static str, url: &str, people: usize, activities: usize, runs: usize) -> Res<()> {
    let base = load_base(label, url, Arc::new(SystemClock), people, activities).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = kartoteka_web::config::Config {
        database_url: url.to_owned(),
        bind: addr,
        base_url: None,
        secret: None,
    };
    let _server = kartoteka_web::serve(listener, base.core.clone(), config).map_err(|e| e.to_string())?;
    let root = format!("http://{addr}");
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
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let (people, activities) = demo_size();
    let runs = arg("--runs", 300).max(1);
    on_each_database("http", flag("--keep"), async |label, url| {
        run(label, &url, people, activities, runs).await
    })
    .await
}
