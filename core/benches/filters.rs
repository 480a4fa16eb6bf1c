//! The filter engine over contacts with activities, against hand-written SQL.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-core --bench filters -- --contacts 1000000
//! ```
//!
//! Options: `--contacts N` (default 100,000), `--activities A` (the demo's average per
//! person, default 3), `--runs R` (timed runs per measurement, default 7), `--keep` (leave
//! the SQLite file and the PostgreSQL database in place and print where they are).
//!
//! For SQLite (a fresh file) and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL (a
//! fresh database, dropped afterwards), it loads the demo generator's people, companies
//! and activities (`Core::load_demo`: multi-row `INSERT`s in transactions, each row with
//! the derived columns `contacts::derived` computes on every write; then the extra fields'
//! expression indexes through `filter::indexes::ensure_all`, and `ANALYZE`) and gathers
//! statistics again. Then, for each filter:
//!
//! - **engine, count**: `Core::prepare_filter` + `Core::count_query`, what a segment
//!   count or `GET /api/v1/contacts/count?filter=` does;
//! - **hand-written, count**: the best SQL for the same question, written by hand against
//!   the same indexes, on the same database in the same run. An extra field's condition
//!   repeats the expression of the field's index as the database holds it (else no index
//!   applies); `within_distance` reads the points in the circle's bounding box through
//!   `contacts_lat_lon` and keeps those within the distance in Rust, with the geo
//!   plugin's haversine;
//! - **engine, first page**: `Core::prepare_filter` + `Core::query_contacts`, 50 contacts
//!   by name, against the hand-written `... ORDER BY name_sort, id LIMIT 50` (rows and their
//!   type key decoded on both sides).
//!
//! One warm-up, then the median of `--runs`. The counts of both sides must be equal and
//! the pages must hold the same contacts, or the run fails. The query plans of the
//! engine's statements (built with the same calls the engine makes, and checked to give
//! the engine's count) and of the hand-written ones are printed after each table.
//!
//! The clock stands still at the load time, so "within 30 days" means the same instant
//! for the engine, the hand-written SQL and the generated activities.

#[path = "filters/hand.rs"]
mod hand;
#[path = "filters/plans.rs"]
mod plans;
#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kartoteka_core::auth::Actor;
use kartoteka_core::clock::stored;
use kartoteka_core::contacts::visibility::{self, Access};
use kartoteka_core::contacts::{ListQuery, Sort, SortKey};
use kartoteka_core::entities::{contact_types, contacts};
use kartoteka_core::filter::{ContactQuery, Prepared};
use kartoteka_core::{Clock, ManualClock, SystemClock};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement, Value,
};
use serde_json::json;

use hand::*;
use plans::*;
use support::geo::CIRCLE;
use support::{Res, Sql, arg, demo_size, flag, index_expression, load_base, ms, on_each_database, ratio, time_it};

/// Contacts per page, as the contacts table shows them.
const PAGE: u64 = 50;

/// How the hand-written side answers a filter.
enum Hand {
    /// `SELECT COUNT(*) ...`, and the condition on `contacts` of the page query.
    Sql { count: Sql, page_where: Sql },
    /// The circle's bounding box in SQL (the `contacts_lat_lon` index), the great-circle
    /// distance of each point in the box computed in Rust, with the plugin's formula.
    Circle { lat: f64, lon: f64, km: f64 },
}

struct Case {
    label: &'static str,
    filter: serde_json::Value,
    hand: Hand,
}

/// Where the filters look, chosen from the demo data (`core/src/demo/names.rs`).
const CITY: &str = "Kraków";
const COUNTRY: &str = "Polska";
const NEEDLE: &str = "kowal";
const REVENUE: (f64, f64) = (1_000_000.0, 10_000_000.0);
const BIRTHDAYS: (&str, &str) = ("1980-01-01", "1989-12-31");
const PAGE_VISITS: (i64, i64, &str) = (3, 30, "/pricing");
const MIN_AMOUNT: f64 = 500.0;

async fn cases(db: &DatabaseConnection, now: DateTime<Utc>) -> Res<Vec<Case>> {
    let pg = db.get_database_backend() == DbBackend::Postgres;
    let text = |s: &str| Value::from(s.to_owned());
    let revenue = index_expression(db, "annual_revenue").await?;
    let birthday = index_expression(db, "birthday").await?;
    // A substring of folded text: no B-tree helps; the cheapest test per row.
    let contains = if pg {
        "strpos(contacts.name_folded, ?) > 0"
    } else {
        "instr(contacts.name_folded, ?) > 0"
    };
    let path = if pg {
        "properties ->> 'path'"
    } else {
        "json_extract(properties, '$.path')"
    };
    let (times, days, page) = PAGE_VISITS;
    let since = now - chrono::Duration::days(days);
    let visits = format!(
        "SELECT contact_id FROM activities WHERE kind = 'page_visit' AND occurred_at >= ? AND {path} = ? \
         GROUP BY contact_id HAVING COUNT(*) >= ?"
    );
    let purchases = "SELECT contact_id FROM activities WHERE kind = 'purchase' AND amount >= ?";
    // Of the two ways to write it, the faster on each backend (measured on 1,000,000
    // contacts): SQLite probes one list of ids; PostgreSQL does better with two hashed
    // subplans over a scan of the contacts than with a nested loop from the ids.
    let behaviour = if pg {
        format!("contacts.country = ? AND (contacts.id IN ({visits}) OR contacts.id IN ({purchases}))")
    } else {
        format!("contacts.country = ? AND contacts.id IN ({visits} UNION ALL {purchases})")
    };
    let behaviour_values = vec![
        text(COUNTRY),
        Value::from(since),
        text(page),
        Value::from(times),
        Value::from(MIN_AMOUNT),
    ];
    let sql = |condition: &str, values: Vec<Value>| Hand::Sql {
        count: Sql::new(
            format!("SELECT COUNT(*) FROM contacts WHERE {condition}"),
            values.clone(),
        ),
        page_where: Sql::new(condition, values),
    };
    Ok(vec![
        Case {
            label: "city eq",
            filter: json!({"field": "city", "op": "eq", "value": CITY}),
            hand: sql("contacts.city = ?", vec![text(CITY)]),
        },
        Case {
            label: "money range",
            filter: json!({"field": "fields.annual_revenue", "op": "between", "value": [REVENUE.0, REVENUE.1]}),
            hand: sql(
                &format!("{revenue} BETWEEN ? AND ?"),
                vec![Value::from(REVENUE.0), Value::from(REVENUE.1)],
            ),
        },
        Case {
            label: "date range",
            filter: json!({"field": "fields.birthday", "op": "between", "value": [BIRTHDAYS.0, BIRTHDAYS.1]}),
            hand: sql(
                &format!("{birthday} BETWEEN ? AND ?"),
                vec![text(BIRTHDAYS.0), text(BIRTHDAYS.1)],
            ),
        },
        Case {
            label: "folded text",
            filter: json!({"field": "name", "op": "contains", "value": NEEDLE}),
            hand: sql(contains, vec![text(NEEDLE)]),
        },
        Case {
            label: "nested AND/OR with behaviour",
            filter: json!({"and": [
                {"field": "country", "op": "eq", "value": COUNTRY},
                {"or": [
                    {"field": "activity.page_visit", "op": "happened", "value": {
                        "times": times, "within": {"amount": days, "unit": "days"}, "where": {"path": page}}},
                    {"field": "activity.purchase", "op": "happened", "value": {"min_amount": MIN_AMOUNT}},
                ]},
            ]}),
            hand: sql(&behaviour, behaviour_values),
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
    ])
}

struct Row {
    label: &'static str,
    count: u64,
    prepare: Duration,
    engine_count: Duration,
    hand_count: Duration,
    engine_page: Duration,
    hand_page: Duration,
}

async fn run(label: &str, url: &str, people: usize, activities: usize, runs: usize) -> Res<()> {
    let now = stored(SystemClock.now());
    let base = load_base(label, url, Arc::new(ManualClock::new(now)), people, activities).await?;
    let (db, core) = (&base.db, &base.core);
    let backend = db.get_database_backend();
    let actor = base.admin.actor();

    base.print_heading(label);

    let page_query = ListQuery {
        sort: Sort {
            key: SortKey::Name,
            descending: false,
        },
        limit: PAGE,
        after: None,
    };
    let mut rows = Vec::new();
    let mut plans = Vec::new();
    for case in cases(db, now).await? {
        eprintln!("{label}: {}", case.label);
        let (prepare, prepared) =
            time_it(runs, || async { Ok(core.filter().prepare_filter(&case.filter).await?) }).await?;
        let (engine_count, count) = time_it(runs, || async {
            let query = ContactQuery {
                filter: Some(core.filter().prepare_filter(&case.filter).await?),
                ..ContactQuery::default()
            };
            Ok(core.filter().count_query(&actor, &query).await?)
        })
        .await?;
        let (hand_count_time, hand) = time_it(runs, || hand_count(db, backend, &case.hand)).await?;
        if count != hand {
            return Err(format!(
                "{label}, {}: the engine counts {count}, the hand-written SQL {hand}",
                case.label
            )
            .into());
        }
        let (engine_page, page) = time_it(runs, || async {
            let query = ContactQuery {
                filter: Some(core.filter().prepare_filter(&case.filter).await?),
                search: None,
                page: page_query.clone(),
            };
            let page = core.filter().query_contacts(&actor, &query).await?;
            Ok(page.items.iter().map(|c| c.id).collect::<Vec<_>>())
        })
        .await?;
        let (hand_page_time, hand_ids) = time_it(runs, || hand_page(db, backend, &case.hand)).await?;
        if page != hand_ids {
            return Err(format!(
                "{label}, {}: the engine's first page differs from the hand-written one ({:?}... vs {:?}...)",
                case.label,
                page.get(..3),
                hand_ids.get(..3)
            )
            .into());
        }
        let expected = (count as usize).min(PAGE as usize);
        if page.len() != expected {
            return Err(format!("{label}, {}: a page of {} for {count} matches", case.label, page.len()).into());
        }

        // The statements behind the figures, and their plans.
        let engine_count_stmt = engine_count_statement(backend, &actor, &prepared);
        if !prepared.has_residual() {
            let row = db
                .query_one_raw(engine_count_stmt.clone())
                .await?
                .ok_or("COUNT(*) returned no row")?;
            let rebuilt: i64 = row.try_get_by_index(0)?;
            if u64::try_from(rebuilt)? != count {
                return Err(format!(
                    "{label}, {}: the rebuilt engine statement counts {rebuilt}, the engine {count}",
                    case.label
                )
                .into());
            }
        }
        let engine_page_stmt = engine_page_statement(backend, &actor, &prepared);
        let (hand_count_stmt, hand_page_stmt) = match &case.hand {
            Hand::Sql { count, page_where } => (
                count.statement(backend),
                page_sql(page_where, None, PAGE).statement(backend),
            ),
            Hand::Circle { lat, lon, km } => {
                let condition = box_sql(*lat, *lon, *km);
                (
                    Sql::new(
                        format!(
                            "SELECT contacts.latitude, contacts.longitude FROM contacts WHERE {}",
                            condition.text
                        ),
                        condition.values.clone(),
                    )
                    .statement(backend),
                    page_sql(&condition, None, 2 * PAGE).statement(backend),
                )
            }
        };
        let mut text = Vec::new();
        for (title, stmt) in [
            (
                if prepared.has_residual() {
                    "engine, count (the candidates' statement; the plugin decides them)"
                } else {
                    "engine, count"
                },
                &engine_count_stmt,
            ),
            ("hand-written, count", &hand_count_stmt),
            ("engine, first page", &engine_page_stmt),
            ("hand-written, first page", &hand_page_stmt),
        ] {
            text.push((title, stmt.clone(), plan(db, stmt).await?));
        }
        plans.push((case.label, text));

        rows.push(Row {
            label: case.label,
            count,
            prepare,
            engine_count,
            hand_count: hand_count_time,
            engine_page,
            hand_page: hand_page_time,
        });
    }

    println!(
        "| filter | count | engine: prepare + count | hand-written count | ratio | engine: prepare + first page | hand-written page | ratio | prepare alone |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.label,
            r.count,
            ms(r.engine_count),
            ms(r.hand_count),
            ratio(r.engine_count, r.hand_count),
            ms(r.engine_page),
            ms(r.hand_page),
            ratio(r.engine_page, r.hand_page),
            ms(r.prepare),
        );
    }
    println!("\n#### {label}: statements and plans\n");
    for (case, statements) in plans {
        println!("##### {case}\n");
        for (title, stmt, lines) in statements {
            print_statement(title, &stmt, &lines);
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let (people, activities) = demo_size();
    let runs = arg("--runs", 7).max(1);
    on_each_database("filters", flag("--keep"), async |label, url| {
        run(label, &url, people, activities, runs).await
    })
    .await
}
