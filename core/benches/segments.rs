//! Segments on the demo base: 200 dynamic segments kept current on every contact write,
//! and the full rebuild of one segment against hand-written SQL.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-core --bench segments -- --contacts 1000000
//! ```
//!
//! Options: `--contacts N` (default 100,000), `--activities A` (the demo's average per
//! person, default 3), `--updates U` (timed updates per phase, default 2,000, each phase
//! after 200 untimed ones), `--runs R` (timed rebuilds per figure, default 5), `--keep`
//! (leave the SQLite file and the PostgreSQL database in place).
//!
//! For SQLite (a fresh file) and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL (a
//! fresh database), it loads the demo base as the filters benchmark does
//! (`support::load_base`), with the system clock, then:
//!
//! 1. **The write alone.** Updates of random contacts through `Core::update_contact` as an
//!    admin, while there is no dynamic segment: each moves the contact to another city
//!    (city, region, country and coordinates, a third of the time to another country),
//!    changes an extra number (`employees`, or `nps`, or for types neither applies to the
//!    `newsletter` flag) or changes its type. The contact is read (for its version and to
//!    choose a value it doesn't have) outside the clock.
//! 2. **Creating 200 dynamic segments** with `Core::create_segment`, each built in the
//!    call (set-based `INSERT ... SELECT` for an exact filter, a walk of the candidates for
//!    the three `within_distance` ones): cities, countries, types, extra fields, company,
//!    name, nested AND/OR/NOT, activities (`happened`, some within a period), creation
//!    date, distance, and segments of segments (`in_segment`). Then statistics again.
//! 3. **The write with membership upkeep.** The same kinds of updates, now maintaining
//!    the 200 segments in the write's transaction (`Core::maintain_memberships`); the
//!    membership changes per update are counted from `segment_events`. On SQLite, the
//!    wal-index (`-shm`) read before and after each update (outside the clock) tells the
//!    log pages it wrote, whether its commit ran the automatic checkpoint (every 1,000
//!    pages), which sets the tail of the latency there, and whether it started the log
//!    again (the write after a checkpoint). The updates that lower the time-relative
//!    plans again (the first write after they are `MAX_PLAN_AGE` old) are counted by
//!    the same rule from the outside. Then the upkeep's parts, timed apart on
//!    the same kinds of contacts: the book check (the stamp read inside the write),
//!    lowering the time-relative filters again, reading the written contact as a
//!    record (type, company name, activities, memberships), and evaluating the 200
//!    prepared filters against it.
//! 4. **Full rebuild of one segment**, for a large, a middling and a small one, from no
//!    members to all of them (their members are deleted before each run, outside the
//!    clock): the engine's rebuild job (`Core::run_pending_rebuilds` after a request:
//!    claim, prepare, lock, `left` events and deletions, `joined` events and `INSERT ...
//!    SELECT`, status), the whole `Core::rebuild_segment` in the request (adds the base's
//!    `COUNT(*)` that decides to build inline, and the segment's count), and by hand in
//!    one transaction: `INSERT INTO segment_events ... SELECT` and `INSERT INTO
//!    segment_members ... SELECT` with the condition written by hand. Each run's member
//!    count and id sum are checked against the condition's. Also the engine's rebuild
//!    when nothing changed (the diff alone).
//!
//! Run against a release build; results are printed as Markdown tables.

#[path = "segments/concurrent.rs"]
mod concurrent;
#[path = "segments/definitions.rs"]
mod definitions;
#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use kartoteka_core::auth::Actor;
use kartoteka_core::clock::stored;
use kartoteka_core::contacts::{Contact, ContactKind, ContactPatch};
use kartoteka_core::demo::names::City;
use kartoteka_core::entities::{catalog_generation, plugin_generation, segments};
use kartoteka_core::filter::Prepared;
use kartoteka_core::segments::SegmentDraft;
use kartoteka_core::segments::maintain::MAX_PLAN_AGE;
use kartoteka_core::{Clock, SystemClock};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, TransactionTrait, Value,
};
use serde_json::{Value as Json, json};

use definitions::{Round, SEGMENTS, chained, definitions, places, referring};
use support::{Base, Res, Sql, arg, demo_size, flag, index_expression, load_base, median, ms, on_each_database, ratio};

/// Untimed updates before each timed phase.
const WARM_UP: usize = 200;
/// Contacts for the timed parts of the upkeep.
const PARTS: usize = 500;

// ---------------------------------------------------------------------------------------------
// Updates
// ---------------------------------------------------------------------------------------------

const PERSON_TYPES: [&str; 11] = [
    "staff",
    "freelance",
    "temporary",
    "remote",
    "cold",
    "warm",
    "hot",
    "refused",
    "client",
    "contractor",
    "supplier",
];
const COMPANY_TYPES: [&str; 7] = ["client", "supplier", "contractor", "cold", "warm", "hot", "refused"];
/// The types `employees` applies to (`client`, `supplier`, `contractor`, `lead` and its
/// children).
const EMPLOYEES_TYPES: [&str; 8] = [
    "client",
    "supplier",
    "contractor",
    "lead",
    "cold",
    "warm",
    "hot",
    "refused",
];

/// A change of `contact` that moves it across segments, and is a change.
fn change(rng: &mut StdRng, places: &[(&'static City, &'static str)], contact: &Contact) -> Res<ContactPatch> {
    let mut patch = ContactPatch {
        version: contact.version,
        ..ContactPatch::default()
    };
    let roll = rng.random_range(0..10);
    if roll < 4 {
        // Another city, weighted by size as the demo places contacts.
        let total: u32 = places.iter().map(|(c, _)| c.weight).sum();
        let (city, country) = loop {
            let mut at = rng.random_range(0..total);
            let picked = places.iter().find(|(c, _)| {
                if at < c.weight {
                    true
                } else {
                    at -= c.weight;
                    false
                }
            });
            let (city, country) = picked.ok_or("no city")?;
            if contact.city.as_deref() != Some(city.name) {
                break (city, country);
            }
        };
        patch.city = Some(Some(city.name.to_owned()));
        patch.region = Some(Some(city.region.to_owned()));
        patch.country = Some(Some((*country).to_owned()));
        patch.latitude = Some(Some(city.lat + rng.random_range(-0.045..0.045)));
        patch.longitude = Some(Some(city.lon + rng.random_range(-0.07..0.07)));
    } else if roll < 7 {
        let mut fields = serde_json::Map::new();
        let current = |key: &str| contact.fields.get(key).and_then(Json::as_i64);
        if contact.type_key == "client" && rng.random_bool(0.5) {
            let now = current("nps");
            let nps = loop {
                let n = rng.random_range(0..=10i64);
                if Some(n) != now {
                    break n;
                }
            };
            fields.insert("nps".into(), json!(nps));
        } else if EMPLOYEES_TYPES.contains(&contact.type_key.as_str()) {
            let now = current("employees");
            let employees = loop {
                let n = (rng.random::<f64>() * 5000f64.ln()).exp().round() as i64;
                if Some(n.max(1)) != now {
                    break n.max(1);
                }
            };
            fields.insert("employees".into(), json!(employees));
        } else {
            let now = contact
                .fields
                .get("newsletter")
                .and_then(Json::as_bool)
                .unwrap_or(false);
            fields.insert("newsletter".into(), json!(!now));
        }
        patch.fields = Some(fields);
    } else {
        let types: &[&str] = if contact.kind == ContactKind::Company {
            &COMPANY_TYPES
        } else {
            &PERSON_TYPES
        };
        let choices: Vec<&&str> = types.iter().filter(|t| **t != contact.type_key).collect();
        let t = choices.choose(rng).ok_or("no other type")?;
        patch.type_key = Some((**t).to_owned());
    }
    Ok(patch)
}

async fn last_event(db: &DatabaseConnection) -> Res<i64> {
    let stmt = Statement::from_string(
        db.get_database_backend(),
        "SELECT COALESCE(MAX(id), 0) FROM segment_events",
    );
    let row = db.query_one_raw(stmt).await?.ok_or("MAX(id) returned no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// The state of SQLite's write-ahead log, from its wal-index (the `-shm` file; SQLite's
/// file format, "the WAL-index format"): the last frame in the log (`mxFrame`, offset
/// 16) and how many frames checkpoints have copied back into the database (`nBackfill`,
/// offset 96), native-endian `u32`s.
#[derive(Debug, Clone, Copy)]
struct Wal {
    frames: u32,
    backfilled: u32,
}

fn wal(shm: &Path) -> Res<Wal> {
    let mut index = [0u8; 100];
    std::fs::File::open(shm)?.read_exact(&mut index)?;
    let at = |i: usize| -> Res<u32> {
        let bytes = index.get(i..i + 4).ok_or("short wal-index")?;
        Ok(u32::from_ne_bytes(bytes.try_into()?))
    };
    Ok(Wal {
        frames: at(16)?,
        backfilled: at(96)?,
    })
}

/// What one write did to SQLite's log.
#[derive(Debug, Clone, Copy)]
struct Logged {
    pages: u32,
    /// Its commit ran the automatic checkpoint.
    checkpoint: bool,
    /// It started the log again from the beginning (the first write after a complete
    /// checkpoint).
    restart: bool,
}

/// One timed update: its time, the membership changes it made and, on SQLite, what it
/// did to the log.
struct Update {
    took: Duration,
    changes: u64,
    wal: Option<Logged>,
    /// Whether the write lowered the time-relative plans again.
    relowered: bool,
}

/// When the book's time-relative plans were lowered last, as the engine's rule
/// (`MAX_PLAN_AGE`) tells from the outside; `None` while there is no book.
type Lowered = Option<DateTime<Utc>>;

/// `n` updates of random contacts among `ids`; `shm` is SQLite's wal-index.
async fn updates(
    base: &Base,
    actor: &Actor,
    ids: &[i64],
    rng: &mut StdRng,
    n: usize,
    shm: Option<&Path>,
    lowered: &mut Lowered,
) -> Res<Vec<Update>> {
    let places = places();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let id = *ids.choose(rng).ok_or("no contacts")?;
        let contact = base.core.contacts().get_contact(actor, id).await?;
        let patch = change(rng, &places, &contact)?;
        let before = last_event(&base.db).await?;
        let log_before = shm.map(wal).transpose()?;
        let at = SystemClock.now();
        let relowered = match lowered {
            Some(last) if at - *last > MAX_PLAN_AGE => {
                *lowered = Some(at);
                true
            }
            _ => false,
        };
        let started = Instant::now();
        let written = base.core.contacts().update_contact(actor, id, patch).await?;
        let took = started.elapsed();
        if written.version == contact.version {
            return Err(format!("the update of contact {id} changed nothing").into());
        }
        let log = match (log_before, shm.map(wal).transpose()?) {
            // A write after a complete checkpoint starts the log again from its beginning.
            (Some(b), Some(a)) => Some(Logged {
                pages: if a.frames >= b.frames {
                    a.frames - b.frames
                } else {
                    a.frames
                },
                checkpoint: a.backfilled > b.backfilled,
                restart: a.frames < b.frames,
            }),
            _ => None,
        };
        let changes = u64::try_from(last_event(&base.db).await? - before)?;
        out.push(Update {
            took,
            changes,
            wal: log,
            relowered,
        });
    }
    Ok(out)
}

/// The machine's load average over the last minute (Linux), to tell a busy machine.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// The `p`-quantile of sorted samples (nearest rank).
fn quantile(sorted: &[Duration], p: f64) -> Duration {
    let n = sorted.len();
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n.max(1));
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// `| n | median | p90 | p99 | max | mean |` cells.
fn latency_cells(samples: &[Duration]) -> String {
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

// ---------------------------------------------------------------------------------------------
// Rebuilds
// ---------------------------------------------------------------------------------------------

/// A segment to rebuild, with its condition written by hand.
struct RebuildCase {
    label: &'static str,
    segment: &'static str,
    hand: Sql,
}

async fn rebuild_cases(db: &DatabaseConnection) -> Res<Vec<RebuildCase>> {
    let birthday = index_expression(db, "birthday").await?;
    let client = db
        .query_one_raw(
            Sql::new("SELECT id FROM contact_types WHERE key = ?", vec!["client".into()])
                .statement(db.get_database_backend()),
        )
        .await?
        .ok_or("no type client")?
        .try_get_by_index::<i64>(0)?;
    Ok(vec![
        RebuildCase {
            label: "large",
            segment: "Country: Україна",
            hand: Sql::new("contacts.country = ?", vec!["Україна".into()]),
        },
        RebuildCase {
            label: "middling (extra field)",
            segment: "Birthday: 1980s",
            hand: Sql::new(
                format!("{birthday} BETWEEN ? AND ?"),
                vec!["1980-01-01".into(), "1989-12-31".into()],
            ),
        },
        RebuildCase {
            label: "small",
            segment: "Clients in Lublin",
            hand: Sql::new(
                "contacts.type_id = ? AND contacts.city = ?",
                vec![client.into(), "Lublin".into()],
            ),
        },
    ])
}

/// `(count, sum of ids)` of a statement that selects them.
async fn tally(db: &DatabaseConnection, sql: Sql) -> Res<(i64, i64)> {
    let row = db
        .query_one_raw(sql.statement(db.get_database_backend()))
        .await?
        .ok_or("COUNT(*) returned no row")?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}

async fn members_tally(db: &DatabaseConnection, id: i64) -> Res<(i64, i64)> {
    tally(
        db,
        Sql::new(
            "SELECT COUNT(*), CAST(COALESCE(SUM(contact_id), 0) AS BIGINT) FROM segment_members WHERE segment_id = ?",
            vec![id.into()],
        ),
    )
    .await
}

/// Fails unless segment `id` holds `expected` (count, id sum).
async fn check(db: &DatabaseConnection, id: i64, expected: (i64, i64), segment: &str, what: &str) -> Res<()> {
    let now = members_tally(db, id).await?;
    if now == expected {
        Ok(())
    } else {
        Err(format!("{segment}, {what}: members {now:?}, expected {expected:?}").into())
    }
}

/// Empties segment `id` and drops the events after `mark`, outside the clock.
async fn empty(db: &DatabaseConnection, id: i64, mark: i64) -> Res<()> {
    let backend = db.get_database_backend();
    db.execute_raw(Sql::new("DELETE FROM segment_members WHERE segment_id = ?", vec![id.into()]).statement(backend))
        .await?;
    db.execute_raw(
        Sql::new(
            "DELETE FROM segment_events WHERE segment_id = ? AND id > ?",
            vec![id.into(), mark.into()],
        )
        .statement(backend),
    )
    .await?;
    Ok(())
}

/// The hand-written full build: the `joined` events and the members, in one transaction.
async fn hand_build(db: &DatabaseConnection, id: i64, condition: &Sql, now: DateTime<Utc>) -> Res<u64> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![id.into(), now.into()];
    values.extend(condition.values.iter().cloned());
    let txn = db.begin().await?;
    let events = Sql::new(
        format!(
            "INSERT INTO segment_events (segment_id, contact_id, event, at) \
             SELECT ?, contacts.id, 'joined', ? FROM contacts WHERE {}",
            condition.text
        ),
        values.clone(),
    );
    txn.execute_raw(events.statement(backend)).await?;
    let members = Sql::new(
        format!(
            "INSERT INTO segment_members (segment_id, contact_id, joined_at) \
             SELECT ?, contacts.id, ? FROM contacts WHERE {}",
            condition.text
        ),
        values,
    );
    let n = txn.execute_raw(members.statement(backend)).await?.rows_affected();
    txn.commit().await?;
    Ok(n)
}

struct RebuildRow {
    label: &'static str,
    segment: &'static str,
    members: i64,
    job: Duration,
    whole: Duration,
    hand: Duration,
    unchanged: Duration,
}

async fn rebuilds(base: &Base, actor: &Actor, ids: &HashMap<String, i64>, runs: usize) -> Res<Vec<RebuildRow>> {
    let (db, core) = (&base.db, &base.core);
    let mut rows = Vec::new();
    for case in rebuild_cases(db).await? {
        let id = *ids
            .get(case.segment)
            .ok_or_else(|| format!("no segment {}", case.segment))?;
        let expected = tally(
            db,
            Sql::new(
                format!(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(contacts.id), 0) AS BIGINT) FROM contacts WHERE {}",
                    case.hand.text
                ),
                case.hand.values.clone(),
            ),
        )
        .await?;
        // The upkeep kept it current through the updates.
        let kept = members_tally(db, id).await?;
        if kept != expected {
            return Err(format!(
                "{}: the segment holds (count, id sum) {kept:?} after the updates, its condition {expected:?}",
                case.segment
            )
            .into());
        }
        let mark = last_event(db).await?;
        let (mut job, mut whole, mut hand, mut unchanged) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // One round untimed, then `runs`.
        for round in 0..=runs {
            // The rebuild job alone: asked for outside the clock (not built in the call).
            empty(db, id, mark).await?;
            core.segments().segment_state().set_inline_limit(0);
            core.segments().rebuild_segment(actor, id).await?;
            let started = Instant::now();
            let ran = core.segments().run_pending_rebuilds().await?;
            let took = started.elapsed();
            if ran != 1 {
                return Err(format!("{}: {ran} rebuilds ran, expected 1", case.segment).into());
            }
            check(db, id, expected, case.segment, "rebuild job").await?;
            // Again with nothing to change.
            core.segments().rebuild_segment(actor, id).await?;
            let started = Instant::now();
            core.segments().run_pending_rebuilds().await?;
            let same = started.elapsed();
            check(db, id, expected, case.segment, "rebuild job, nothing to change").await?;
            // The whole request, built in it.
            empty(db, id, mark).await?;
            core.segments().segment_state().set_inline_limit(u64::MAX);
            let started = Instant::now();
            let segment = core.segments().rebuild_segment(actor, id).await?;
            let took_whole = started.elapsed();
            if i64::try_from(segment.count)? != expected.0 || segment.status != "ok" {
                return Err(format!(
                    "{}: rebuild_segment answered {} members, {}",
                    case.segment, segment.count, segment.status
                )
                .into());
            }
            check(db, id, expected, case.segment, "rebuild_segment").await?;
            // By hand.
            empty(db, id, mark).await?;
            let started = Instant::now();
            hand_build(db, id, &case.hand, stored(SystemClock.now())).await?;
            let took_hand = started.elapsed();
            check(db, id, expected, case.segment, "hand-written").await?;
            if round > 0 {
                job.push(took);
                unchanged.push(same);
                whole.push(took_whole);
                hand.push(took_hand);
            }
        }
        // Leave it as the engine builds it.
        empty(db, id, mark).await?;
        core.segments().rebuild_segment(actor, id).await?;
        check(db, id, expected, case.segment, "final rebuild").await?;
        rows.push(RebuildRow {
            label: case.label,
            segment: case.segment,
            members: expected.0,
            job: median(job),
            whole: median(whole),
            hand: median(hand),
            unchanged: median(unchanged),
        });
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// The upkeep's parts
// ---------------------------------------------------------------------------------------------

/// The stamp read a write makes inside its transaction (`read_stamp` in
/// `segments/maintain.rs`): the dynamic segments' versions, `FOR SHARE` on PostgreSQL,
/// and the two generations.
async fn stamp_read(db: &DatabaseConnection) -> Res<Duration> {
    let txn = db.begin().await?;
    let started = Instant::now();
    let mut rows = segments::Entity::find()
        .select_only()
        .column(segments::Column::Id)
        .column(segments::Column::Version)
        .column(segments::Column::Status)
        .filter(segments::Column::Kind.eq("dynamic"))
        .order_by_asc(segments::Column::Id);
    if db.get_database_backend() == DbBackend::Postgres {
        rows = rows.lock_shared();
    }
    let rows: Vec<(i64, i64, String)> = rows.into_tuple().all(&txn).await?;
    catalog_generation::Entity::find_by_id(1).one(&txn).await?;
    plugin_generation::Entity::find_by_id(1).one(&txn).await?;
    let took = started.elapsed();
    txn.rollback().await?;
    if rows.len() != SEGMENTS {
        return Err(format!("{} dynamic segments, expected {SEGMENTS}", rows.len()).into());
    }
    Ok(took)
}

struct Parts {
    stamp: Vec<Duration>,
    record: Vec<Duration>,
    evaluate: Vec<Duration>,
    /// Lowering the time-relative filters again, as a write does once their plans are
    /// older than `MAX_PLAN_AGE`.
    relower: Vec<Duration>,
    /// How many filters are time-relative.
    time_relative: usize,
}

async fn parts(base: &Base, actor: &Actor, ids: &[i64], rng: &mut StdRng, filters: &[Json]) -> Res<Parts> {
    let core = &base.core;
    let mut prepared: Vec<Prepared> = Vec::with_capacity(filters.len());
    for f in filters {
        prepared.push(core.filter().prepare_filter(f).await?);
    }
    // Time-relative as the book decides it: the plan differs when lowered a day later.
    let catalog = core.filter().filter_catalog().await?;
    let now = SystemClock.now();
    let mut time_relative = Vec::new();
    for (f, p) in filters.iter().zip(&prepared) {
        let later = core
            .filter()
            .prepare_at(f, catalog.clone(), now + chrono::Duration::days(1))
            .await?;
        if later.plan.predicate != p.plan.predicate {
            time_relative.push(f);
        }
    }
    let mut out = Parts {
        stamp: Vec::new(),
        record: Vec::new(),
        evaluate: Vec::new(),
        relower: Vec::new(),
        time_relative: time_relative.len(),
    };
    for _ in 0..PARTS {
        let started = Instant::now();
        let now = SystemClock.now();
        for f in &time_relative {
            core.filter().prepare_at(f, catalog.clone(), now).await?;
        }
        out.relower.push(started.elapsed());
        let id = *ids.choose(rng).ok_or("no contacts")?;
        out.stamp.push(stamp_read(&base.db).await?);
        let started = Instant::now();
        let contact = core.contacts().get_contact(actor, id).await?;
        let records = core.filter().records_of(vec![contact], true).await?;
        out.record.push(started.elapsed());
        let started = Instant::now();
        for p in &prepared {
            core.filter().evaluate_in_memory(p, &records).await?;
        }
        out.evaluate.push(started.elapsed());
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

async fn run(label: &str, url: &str, people: usize, activities: usize, n_updates: usize, runs: usize) -> Res<()> {
    let base = load_base(label, url, Arc::new(SystemClock), people, activities).await?;
    let (db, core) = (&base.db, &base.core);
    let actor = base.admin.actor();
    base.print_heading(label);
    let ids: Vec<i64> = kartoteka_core::entities::contacts::Entity::find()
        .select_only()
        .column(kartoteka_core::entities::contacts::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut rng = StdRng::seed_from_u64(11);
    let shm = url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .map(|file| PathBuf::from(format!("{file}-shm")));
    let shm = shm.as_deref();

    // 1. The write alone.
    eprintln!("{label}: updates without segments");
    let mut no_book: Lowered = None;
    updates(&base, &actor, &ids, &mut rng, WARM_UP, shm, &mut no_book).await?;
    let alone = updates(&base, &actor, &ids, &mut rng, n_updates, shm, &mut no_book).await?;
    let alone_load = load_average();

    // 2. The segments.
    eprintln!("{label}: creating {SEGMENTS} segments");
    core.segments().segment_state().set_inline_limit(u64::MAX);
    let mut created: HashMap<String, i64> = HashMap::new();
    let mut built: Vec<(&'static str, String, u64, Duration)> = Vec::new();
    let mut filters = Vec::new();
    let started_all = Instant::now();
    let rounds: [Round; 3] = [|_| definitions(), referring, chained];
    for round in rounds {
        for def in round(&created)? {
            let started = Instant::now();
            let segment = core
                .segments()
                .create_segment(
                    &actor,
                    SegmentDraft {
                        name: def.name.clone(),
                        kind: "dynamic".into(),
                        filter: Some(def.filter.clone()),
                    },
                )
                .await?;
            let took = started.elapsed();
            if segment.status != "ok" {
                return Err(format!("{}: status {} after creation", def.name, segment.status).into());
            }
            created.insert(def.name.clone(), segment.id);
            filters.push(def.filter);
            built.push((def.family, def.name, segment.count, took));
        }
    }
    if built.len() != SEGMENTS {
        return Err(format!("{} segments created, expected {SEGMENTS}", built.len()).into());
    }
    let create_all = started_all.elapsed();
    let statistics = support::analyze(db).await?;

    // 3. The write with upkeep.
    eprintln!("{label}: updates with {SEGMENTS} segments");
    // The first write compiles the book, lowering every filter.
    let mut lowered: Lowered = Some(SystemClock.now());
    let first = updates(&base, &actor, &ids, &mut rng, 1, shm, &mut no_book).await?;
    updates(&base, &actor, &ids, &mut rng, WARM_UP, shm, &mut lowered).await?;
    let upkeep = updates(&base, &actor, &ids, &mut rng, n_updates, shm, &mut lowered).await?;
    let upkeep_load = load_average();
    eprintln!("{label}: {} concurrent writers", concurrent::WRITERS);
    let each = (n_updates / concurrent::WRITERS).max(1);
    let sqlite = base.db.get_database_backend() == sea_orm::DbBackend::Sqlite;
    let mut crowds = Vec::new();
    for queued in if sqlite { vec![true, false] } else { vec![false] } {
        base.core.write_queue().set_enabled(queued);
        concurrent::round(&base, &actor, &ids, WARM_UP / concurrent::WRITERS, 11).await?;
        crowds.push((queued, concurrent::round(&base, &actor, &ids, each, 13).await?));
    }
    base.core.write_queue().set_enabled(sqlite);
    eprintln!("{label}: the upkeep's parts");
    let parts = parts(&base, &actor, &ids, &mut rng, &filters).await?;

    // 4. Rebuilds.
    eprintln!("{label}: rebuilds");
    let rebuilt = rebuilds(&base, &actor, &created, runs).await?;

    // The tables.
    println!("#### {label}: {SEGMENTS} dynamic segments created\n");
    println!("| family | segments | members (sum) | smallest | largest | build time (sum) | slowest |");
    println!("|---|---|---|---|---|---|---|");
    let mut families: Vec<&'static str> = Vec::new();
    for (family, ..) in &built {
        if !families.contains(family) {
            families.push(family);
        }
    }
    for family in families {
        let of: Vec<&(&str, String, u64, Duration)> = built.iter().filter(|b| b.0 == family).collect();
        let slowest = of.iter().max_by_key(|b| b.3).ok_or("empty family")?;
        println!(
            "| {family} | {} | {} | {} | {} | {} | {} ({}) |",
            of.len(),
            of.iter().map(|b| b.2).sum::<u64>(),
            of.iter().map(|b| b.2).min().unwrap_or_default(),
            of.iter().map(|b| b.2).max().unwrap_or_default(),
            ms(of.iter().map(|b| b.3).sum()),
            ms(slowest.3),
            slowest.1,
        );
    }
    println!(
        "| **all** | {} | {} | | | **{:.1} s** | |\n",
        built.len(),
        built.iter().map(|b| b.2).sum::<u64>(),
        create_all.as_secs_f64(),
    );
    let mut slowest: Vec<&(&str, String, u64, Duration)> = built.iter().collect();
    slowest.sort_by_key(|b| std::cmp::Reverse(b.3));
    let slowest: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|b| format!("{} ({} members) {}", b.1, b.2, ms(b.3)))
        .collect();
    println!("Slowest to create: {}.\n", slowest.join("; "));
    let empty: Vec<&str> = built.iter().filter(|b| b.2 == 0).map(|b| b.1.as_str()).collect();
    if !empty.is_empty() {
        println!("Empty at this size: {}.\n", empty.join(", "));
    }
    println!(
        "Statistics after creating them: {:.1} s. First write after the segments were created (compiles the book): {}.\n",
        statistics.as_secs_f64(),
        ms(first.first().map(|u| u.took).unwrap_or_default()),
    );

    println!("#### {label}: contact update latency (`Core::update_contact`, admin)\n");
    println!("| | updates | median | p90 | p99 | max | mean | membership changes per update |");
    println!("|---|---|---|---|---|---|---|---|");
    let took = |u: &[&Update]| u.iter().map(|u| u.took).collect::<Vec<_>>();
    let avg = |u: &[&Update]| u.iter().map(|u| u.changes).sum::<u64>() as f64 / u.len().max(1) as f64;
    let all: Vec<&Update> = upkeep.iter().collect();
    let alone_all: Vec<&Update> = alone.iter().collect();
    // (row, its updates, whether they kept segments).
    let mut rows: Vec<(String, Vec<&Update>, bool)> = vec![
        ("no dynamic segments (the write alone)".into(), alone_all.clone(), false),
        (
            format!("**{SEGMENTS} dynamic segments (write + upkeep)**"),
            all.clone(),
            true,
        ),
        (
            "with segments: updates that moved memberships".into(),
            upkeep.iter().filter(|u| u.changes > 0).collect(),
            true,
        ),
        (
            "with segments: updates that moved none".into(),
            upkeep.iter().filter(|u| u.changes == 0).collect(),
            true,
        ),
    ];
    let checkpointed = |u: &&Update| u.wal.is_some_and(|l| l.checkpoint);
    let restarted = |u: &&Update| u.wal.is_some_and(|l| l.restart && !l.checkpoint);
    if alone.iter().chain(&upkeep).any(|u| u.wal.is_some()) {
        for (what, of, kept) in [("the write alone", &alone_all, false), ("with segments", &all, true)] {
            rows.push((
                format!("{what}: updates whose commit ran the WAL checkpoint"),
                of.iter().copied().filter(checkpointed).collect(),
                kept,
            ));
            rows.push((
                format!("{what}: updates that started the WAL again (the next write)"),
                of.iter().copied().filter(restarted).collect(),
                kept,
            ));
            rows.push((
                format!("{what}: the other updates"),
                of.iter()
                    .copied()
                    .filter(|u| !checkpointed(u) && !restarted(u))
                    .collect(),
                kept,
            ));
        }
    }
    for (what, of, kept) in &rows {
        let changes = if *kept {
            format!("{:.2}", avg(of))
        } else {
            "-".to_owned()
        };
        println!("| {what} | {} | {changes} |", latency_cells(&took(of)));
    }
    println!(
        "\nMost membership changes in one update: {}. Load average (1 min) after the updates: {alone_load} alone, {upkeep_load} with segments.",
        upkeep.iter().map(|u| u.changes).max().unwrap_or_default()
    );
    for (what, of) in [("the write alone", &alone_all), ("with segments", &all)] {
        let pages: Vec<u32> = of.iter().filter_map(|u| u.wal.map(|l| l.pages)).collect();
        if !pages.is_empty() {
            println!(
                "WAL pages written per update, {what}: {:.1} on average; {} of {} updates ran the checkpoint.",
                f64::from(pages.iter().sum::<u32>()) / pages.len() as f64,
                of.iter().copied().filter(checkpointed).count(),
                of.len(),
            );
        }
    }
    println!();

    println!(
        "#### {label}: {} concurrent writers, {SEGMENTS} dynamic segments (write + upkeep)\n",
        concurrent::WRITERS
    );
    println!("| writers | updates | median | p90 | p99 | max | mean | updates/s |");
    println!("|---|---|---|---|---|---|---|---|");
    for (queued, crowd) in &crowds {
        let how = match (sqlite, queued) {
            (false, _) => "each in its transaction (row locks)",
            (true, true) => "queued in the process (`WriteQueue`)",
            (true, false) => "not queued (SQLite's busy handler)",
        };
        println!(
            "| {how} | {} | {:.0} |",
            latency_cells(&crowd.took),
            crowd.took.len() as f64 / crowd.wall.as_secs_f64()
        );
    }
    println!();
    println!("#### {label}: the upkeep's parts, timed apart ({PARTS} random contacts)\n");
    println!("| part | median | p90 | p99 | max | mean |");
    println!("|---|---|---|---|---|---|");
    let mean = |samples: &[Duration]| {
        samples.iter().sum::<Duration>() / u32::try_from(samples.len().max(1)).unwrap_or(u32::MAX)
    };
    let alone_mean = mean(&alone.iter().map(|u| u.took).collect::<Vec<_>>());
    let upkeep_mean = mean(&took(&all));
    let mut rest = upkeep_mean.saturating_sub(alone_mean);
    for (part, samples) in [
        (
            "book check: the stamp read in the write's transaction (200 segment rows, two generations)",
            &parts.stamp,
        ),
        (
            "record read: the contact with its type, company name, activities and memberships",
            &parts.record,
        ),
        (
            "evaluation: the 200 prepared filters in memory (3 with the geo plugin's `matches`)",
            &parts.evaluate,
        ),
    ] {
        let mut sorted = samples.clone();
        sorted.sort();
        rest = rest.saturating_sub(mean(&sorted));
        println!(
            "| {part} | {} | {} | {} | {} | {} |",
            ms(quantile(&sorted, 0.5)),
            ms(quantile(&sorted, 0.9)),
            ms(quantile(&sorted, 0.99)),
            ms(sorted.last().copied().unwrap_or_default()),
            ms(mean(&sorted)),
        );
    }
    let relowered = upkeep.iter().filter(|u| u.relowered).count();
    let mut sorted = parts.relower.clone();
    sorted.sort();
    // Per write, it weighs as often as writes do it.
    let share = mean(&sorted).mul_f64(relowered as f64 / upkeep.len().max(1) as f64);
    rest = rest.saturating_sub(share);
    println!(
        "| lowering the {} time-relative filters again (a write does it when their plans are over {} s old: {relowered} of {} updates here) | {} | {} | {} | {} | {} per update |",
        parts.time_relative,
        MAX_PLAN_AGE.num_seconds(),
        upkeep.len(),
        ms(quantile(&sorted, 0.5)),
        ms(quantile(&sorted, 0.9)),
        ms(quantile(&sorted, 0.99)),
        ms(sorted.last().copied().unwrap_or_default()),
        ms(share),
    );
    println!(
        "| the rest: membership writes with their events (mean with upkeep {} − mean alone {} − the parts) | | | | | {} |",
        ms(upkeep_mean),
        ms(alone_mean),
        ms(rest),
    );

    println!("\n#### {label}: full rebuild of one segment, median of {runs}\n");
    println!(
        "| segment | members | engine: rebuild job | hand-written events + `INSERT ... SELECT` | ratio | engine: `rebuild_segment` in the request | ratio | engine: rebuild with nothing to change |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &rebuilt {
        println!(
            "| {} ({}) | {} | {} | {} | {} | {} | {} | {} |",
            r.segment,
            r.label,
            r.members,
            ms(r.job),
            ms(r.hand),
            ratio(r.job, r.hand),
            ms(r.whole),
            ratio(r.whole, r.hand),
            ms(r.unchanged),
        );
    }
    println!();
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let (people, activities) = demo_size();
    let n_updates = arg("--updates", 2_000).max(1);
    let runs = arg("--runs", 5).max(1);
    on_each_database("segments", flag("--keep"), async |label, url| {
        run(label, &url, people, activities, n_updates, runs).await
    })
    .await
}
