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
//! the derived columns `contacts::derived` computes on every write), runs the start-up
//! path again (`db::migrate`, which creates the extra fields' expression indexes through
//! `filter::indexes::ensure_all`) and gathers statistics. Then, for each filter:
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

#[path = "support/mod.rs"]
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
/// The centre of Warsaw, as the demo places its contacts. The demo scatters a city's
/// contacts over about ±5 km around its centre, so a 4 km circle cuts through them and
/// the residual (the exact distance) decides for about a fifth of the box.
const CIRCLE: (f64, f64, f64) = (52.2297, 21.0122, 4.0);
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

// The geo plugin's geometry (`plugins/builtin/geo/src/lib.rs`), for the hand-written side.
const EARTH_RADIUS_KM: f64 = 6371.0088;
const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// `(min_lat, max_lat, min_lon, max_lon)` around the circle (away from poles and the
/// antimeridian, which the benchmark's circle is).
fn bounding_box(lat: f64, lon: f64, km: f64) -> (f64, f64, f64, f64) {
    let reach = km / KM_PER_DEGREE * (1.0 + 1e-9);
    let (min_lat, max_lat) = (lat - reach, lat + reach);
    let reach_lon = reach / min_lat.abs().max(max_lat.abs()).to_radians().cos();
    (min_lat, max_lat, lon - reach_lon, lon + reach_lon)
}

fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let half_dphi = (phi2 - phi1) / 2.0;
    let half_dlambda = (lon2 - lon1).to_radians() / 2.0;
    let h = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
}

fn box_sql(lat: f64, lon: f64, km: f64) -> Sql {
    let (min_lat, max_lat, min_lon, max_lon) = bounding_box(lat, lon, km);
    Sql::new(
        "contacts.latitude BETWEEN ? AND ? AND contacts.longitude BETWEEN ? AND ?",
        vec![min_lat.into(), max_lat.into(), min_lon.into(), max_lon.into()],
    )
}

/// The page query by hand: the contacts and their type key, by name (its collation key).
fn page_sql(condition: &Sql, after: Option<(&[u8], i64)>, limit: u64) -> Sql {
    let mut values = condition.values.clone();
    let keyset = match after {
        Some((name_sort, id)) => {
            values.push(name_sort.to_vec().into());
            values.push(id.into());
            " AND (contacts.name_sort, contacts.id) > (?, ?)"
        }
        None => "",
    };
    Sql::new(
        format!(
            "SELECT contacts.*, contact_types.key AS type_key FROM contacts \
             JOIN contact_types ON contact_types.id = contacts.type_id \
             WHERE {}{keyset} ORDER BY contacts.name_sort, contacts.id LIMIT {limit}",
            condition.text
        ),
        values,
    )
}

/// Runs a hand-written page query: (id, name, latitude, longitude) of each row, every
/// column decoded into the row struct and the type key read.
async fn hand_rows(db: &DatabaseConnection, stmt: Statement) -> Res<Vec<(i64, Vec<u8>, Option<f64>, Option<f64>)>> {
    let rows = db.query_all_raw(stmt).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let model = contacts::Model::from_query_result(&row, "")?;
        let _type_key: String = row.try_get("", "type_key")?;
        out.push((
            model.id,
            model.name_sort.unwrap_or_default(),
            model.latitude,
            model.longitude,
        ));
    }
    Ok(out)
}

async fn hand_count(db: &DatabaseConnection, backend: DbBackend, hand: &Hand) -> Res<u64> {
    match hand {
        Hand::Sql { count, .. } => {
            let row = db
                .query_one_raw(count.statement(backend))
                .await?
                .ok_or("COUNT(*) returned no row")?;
            let n: i64 = row.try_get_by_index(0)?;
            Ok(u64::try_from(n)?)
        }
        Hand::Circle { lat, lon, km } => {
            let condition = box_sql(*lat, *lon, *km);
            let select = Sql::new(
                format!(
                    "SELECT contacts.latitude, contacts.longitude FROM contacts WHERE {}",
                    condition.text
                ),
                condition.values,
            );
            let rows = db.query_all_raw(select.statement(backend)).await?;
            let mut n = 0u64;
            for row in rows {
                let (la, lo): (f64, f64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
                if distance_km(*lat, *lon, la, lo) <= *km {
                    n += 1;
                }
            }
            Ok(n)
        }
    }
}

async fn hand_page(db: &DatabaseConnection, backend: DbBackend, hand: &Hand) -> Res<Vec<i64>> {
    match hand {
        Hand::Sql { page_where, .. } => {
            let rows = hand_rows(db, page_sql(page_where, None, PAGE).statement(backend)).await?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        }
        Hand::Circle { lat, lon, km } => {
            // Keyset over the box by name until the page is full (the circle holds π/4 of
            // the box, so the first 100 rows nearly always do).
            let condition = box_sql(*lat, *lon, *km);
            let mut ids = Vec::new();
            let mut after: Option<(Vec<u8>, i64)> = None;
            loop {
                let stmt = page_sql(&condition, after.as_ref().map(|(n, i)| (n.as_slice(), *i)), 2 * PAGE);
                let rows = hand_rows(db, stmt.statement(backend)).await?;
                let full = rows.len() as u64 == 2 * PAGE;
                for (id, name, la, lo) in rows {
                    if let (Some(la), Some(lo)) = (la, lo)
                        && distance_km(*lat, *lon, la, lo) <= *km
                    {
                        ids.push(id);
                        if ids.len() as u64 == PAGE {
                            return Ok(ids);
                        }
                    }
                    after = Some((name, id));
                }
                if !full {
                    return Ok(ids);
                }
            }
        }
    }
}

/// The statement `Core::count_query` runs for a filter without residuals (sea-orm's
/// `count` wraps the select in a subquery), or the first candidate chunk its walk reads
/// for one with residuals (ids and coordinates only when they are all on `location`).
/// Built with the calls `core/src/filter/{query,walk}.rs` make; the count of the first
/// kind is checked against the engine's.
fn engine_count_statement(backend: DbBackend, actor: &Actor, prepared: &Prepared) -> Statement {
    let base = contacts::Entity::find()
        .filter(visibility::condition(actor, Access::Read))
        .filter(prepared.condition(backend));
    if prepared.has_residual() {
        let first = contacts::Column::Id.gt(i64::MIN);
        let by_location = prepared
            .plan
            .predicate
            .residuals()
            .iter()
            .all(|r| r.field == "location");
        return if by_location {
            base.select_only()
                .column(contacts::Column::Id)
                .column(contacts::Column::Latitude)
                .column(contacts::Column::Longitude)
                .filter(first)
                .order_by_asc(contacts::Column::Id)
                .limit(20_000)
                .build(backend)
        } else {
            base.find_also_related(contact_types::Entity)
                .filter(first)
                .order_by_asc(contacts::Column::Id)
                .limit(2_000)
                .build(backend)
        };
    }
    let count = Query::select()
        .expr(Expr::cust("COUNT(*) AS num_items"))
        .from_subquery(base.into_query(), "sub_query")
        .to_owned();
    backend.build(&count)
}

/// The first statement of `Core::query_contacts`' first page by name (`list_contacts_where`).
fn engine_page_statement(backend: DbBackend, actor: &Actor, prepared: &Prepared) -> Statement {
    let limit = if prepared.has_residual() { 500 } else { PAGE };
    contacts::Entity::find()
        .find_also_related(contact_types::Entity)
        .filter(visibility::condition(actor, Access::Read))
        .filter(prepared.condition(backend))
        .order_by_asc(contacts::Column::NameSort)
        .order_by_asc(contacts::Column::Id)
        .limit(limit + 1)
        .build(backend)
}

/// The plan of `stmt`, one line per node.
async fn plan(db: &DatabaseConnection, stmt: &Statement) -> Res<Vec<String>> {
    let backend = db.get_database_backend();
    let prefix = if backend == DbBackend::Postgres {
        "EXPLAIN "
    } else {
        "EXPLAIN QUERY PLAN "
    };
    let explain = Statement::from_sql_and_values(
        backend,
        format!("{prefix}{}", stmt.sql),
        stmt.values.as_ref().map(|v| v.0.clone()).unwrap_or_default(),
    );
    let rows = db.query_all_raw(explain).await?;
    let mut lines = Vec::with_capacity(rows.len());
    if backend == DbBackend::Postgres {
        for row in rows {
            lines.push(row.try_get_by_index::<String>(0)?);
        }
    } else {
        // (id, parent, notused, detail): indent by depth.
        let mut depth: Vec<(i64, usize)> = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("", "id")?;
            let parent: i64 = row.try_get("", "parent")?;
            let detail: String = row.try_get("", "detail")?;
            let level = depth.iter().find(|(i, _)| *i == parent).map_or(0, |(_, l)| l + 1);
            depth.push((id, level));
            lines.push(format!("{}{detail}", "  ".repeat(level)));
        }
    }
    Ok(lines)
}

/// `sql` with the engine's long select list (every column, by name) shortened.
fn shortened(sql: &str) -> String {
    let start = "SELECT \"contacts\".\"id\"";
    let Some(from) = sql.find(start) else {
        return sql.to_owned();
    };
    let columns = from + "SELECT ".len();
    let Some(end) = sql.get(columns..).and_then(|rest| rest.find(" FROM \"contacts\"")) else {
        return sql.to_owned();
    };
    let list = sql.get(columns..columns + end).unwrap_or_default();
    if list.matches(", ").count() < 8 {
        return sql.to_owned();
    }
    let what = if list.contains("\"contact_types\".") {
        "<every column of contacts and contact_types>"
    } else {
        "<every column of contacts>"
    };
    format!(
        "{}{what}{}",
        sql.get(..columns).unwrap_or_default(),
        sql.get(columns + end..).unwrap_or_default()
    )
}

fn print_statement(title: &str, stmt: &Statement, lines: &[String]) {
    println!("{title}:\n");
    println!("```sql\n{}\n```\n", shortened(&stmt.sql));
    if let Some(values) = &stmt.values {
        let shown: Vec<String> = values.0.iter().map(|v| format!("{v:?}")).collect();
        println!("parameters: {}\n", shown.join(", "));
    }
    println!("```text\n{}\n```\n", lines.join("\n"));
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
                    "engine, count (the first chunk of candidates; the plugin decides the rest)"
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
