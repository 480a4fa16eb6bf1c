//! Importing contacts from a CSV file against a hand-written bulk insert of the same rows
//! on the same database, with the peak memory of each.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-core --bench imports -- --rows 1000000
//! ```
//!
//! Options: `--rows N` (default 100,000), `--postgres-only`, `--keep`.
//!
//! The file: a header and N people (first and last name, a unique e-mail, a phone, a city,
//! a select field and a number field), nine in ten at one of N / 100 companies named in a
//! column. For SQLite and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL:
//!
//! 1. **By hand**: the file read with `csv`, the distinct companies inserted first, then
//!    the people in multi-row `INSERT`s of 500 rows, 10 of them per transaction, each row
//!    with the same columns the import stores, the derived ones (folded text, search
//!    words, collation keys) computed by the same `contacts::derived`. No checks, no audit
//!    events, no matching against what is there.
//! 2. The tables emptied, then **the import** of the same file through
//!    `Imports::run` (what `kartoteka import contacts` and the page call), matching by
//!    e-mail: every row checked as a single write checks it, companies linked by name and
//!    created, a `created` event per contact, the upkeep per batch.
//!
//! Peak memory is the process's resident high-water mark (`VmHWM`), reset before each
//! part (`/proc/self/clear_refs`). Run against a release build; results are printed as
//! Markdown.

#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kartoteka_core::auth::Role;
use kartoteka_core::contacts::ContactDraft;
use kartoteka_core::contacts::derived::{Derived, FoldSchema, Source};
use kartoteka_core::entities::contacts;
use kartoteka_core::fields::NewField;
use kartoteka_core::imports::{FileRow, ImportSink, RowOutcome};
use kartoteka_core::{Core, SystemClock};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use serde_json::{Value, json};

use support::{Res, arg, flag, ms, on_each_database, peak_mib, ratio, reset_peak};

const FIRST: [&str; 12] = [
    "Anna",
    "Jan",
    "Zofia",
    "Piotr",
    "Olena",
    "Taras",
    "Ioana",
    "Mihai",
    "Ewa",
    "Marek",
    "Ірина",
    "Łucja",
];
const LAST: [&str; 12] = [
    "Kowalska",
    "Nowak",
    "Wójcik",
    "Lis",
    "Шевченко",
    "Бондар",
    "Popescu",
    "Ionescu",
    "Zięba",
    "Król",
    "Коваль",
    "Dąbrowski",
];
const CITIES: [&str; 8] = [
    "Łódź",
    "Kraków",
    "Київ",
    "Львів",
    "Cluj-Napoca",
    "Iași",
    "Gdańsk",
    "Warszawa",
];
const SOURCES: [&str; 3] = ["web", "fair", "ads"];

/// The `i`th of `list`, cycling.
fn pick(list: &[&'static str], i: usize) -> &'static str {
    list.get(i % list.len().max(1)).copied().unwrap_or_default()
}

/// Writes the file of `rows` people; its size in bytes.
fn write_file(path: &Path, rows: usize) -> Res<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "First name,Last name,Email,Phone,Company,City,Source,Budget")?;
    let companies = (rows / 100).max(1);
    for i in 0..rows {
        let company = if i % 10 == 9 {
            String::new()
        } else {
            format!("Company {}", i % companies)
        };
        writeln!(
            out,
            "{},{},p{i}@example.com,+48 600 {:03} {:03},{company},{},{},{}",
            pick(&FIRST, i),
            pick(&LAST, i / FIRST.len()),
            (i / 1000) % 1000,
            i % 1000,
            pick(&CITIES, i),
            pick(&SOURCES, i),
            i % 1000,
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The resident high-water mark in MiB, then reset.
struct Quiet;

impl ImportSink for Quiet {
    fn row(&mut self, _row: &FileRow, _outcome: &RowOutcome) -> kartoteka_core::Result<()> {
        Ok(())
    }
}

/// Rows per multi-row `INSERT` by hand, and statements per transaction.
const HAND_ROWS: usize = 500;
const HAND_STATEMENTS: usize = 10;

/// The hand-written load of the file: companies, then people.
async fn by_hand(db: &DatabaseConnection, file: &Path, owner: i64, type_id: i64) -> Res<u64> {
    let fold = FoldSchema::read(db).await?;
    let now = kartoteka_core::clock::stored(kartoteka_core::Clock::now(&SystemClock));
    let row = |draft: &ContactDraft| {
        let mut columns = contacts::ActiveModel {
            kind: Set(draft.kind.clone()),
            type_id: Set(type_id),
            name: Set(draft.name.clone()),
            email: Set(draft.email.clone()),
            phone: Set(draft.phone.clone()),
            position: Set(None),
            company_id: Set(draft.company_id),
            street: Set(None),
            city: Set(draft.city.clone()),
            region: Set(None),
            country: Set(None),
            postal_code: Set(None),
            latitude: Set(None),
            longitude: Set(None),
            owner_id: Set(Some(owner)),
            do_not_contact: Set(false),
            score: Set(None),
            score_band: Set(None),
            fields: Set(Value::Object(draft.fields.clone())),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            ..Default::default()
        };
        Derived::compute(&Source::of_draft(draft), &fold).set_on(&mut columns);
        columns
    };
    // The companies, in one pass over the file.
    let mut names: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for record in csv::Reader::from_path(file)?.records() {
        let record = record?;
        let company = record.get(4).unwrap_or_default();
        if !company.is_empty() && seen.insert(company.to_owned()) {
            names.push(company.to_owned());
        }
    }
    let mut ids: HashMap<String, i64> = HashMap::new();
    let mut inserted = 0u64;
    for chunk in names.chunks(HAND_ROWS) {
        let txn = db.begin().await?;
        let drafts: Vec<ContactDraft> = chunk
            .iter()
            .map(|name| ContactDraft {
                kind: "company".into(),
                name: name.clone(),
                ..ContactDraft::default()
            })
            .collect();
        let mut keys = contacts::Entity::insert_many(drafts.iter().map(row))
            .exec_with_returning_keys(&txn)
            .await?;
        keys.sort_unstable();
        for (name, id) in chunk.iter().zip(keys) {
            ids.insert(name.clone(), id);
        }
        txn.commit().await?;
        inserted += chunk.len() as u64;
    }
    // The people.
    let mut reader = csv::Reader::from_path(file)?;
    let mut records = reader.records();
    loop {
        let txn = db.begin().await?;
        let mut any = false;
        for _ in 0..HAND_STATEMENTS {
            let mut drafts = Vec::with_capacity(HAND_ROWS);
            for record in records.by_ref().take(HAND_ROWS) {
                let r = record?;
                let cell = |i: usize| r.get(i).unwrap_or_default().to_owned();
                let budget: f64 = cell(7).parse().unwrap_or(0.0);
                let mut fields = serde_json::Map::new();
                fields.insert("source".into(), json!(cell(6)));
                fields.insert("budget".into(), json!(budget));
                drafts.push(ContactDraft {
                    kind: "person".into(),
                    name: format!("{} {}", cell(0), cell(1)),
                    email: Some(cell(2)),
                    phone: Some(cell(3)),
                    company_id: ids.get(&cell(4)).copied(),
                    city: Some(cell(5)),
                    fields,
                    ..ContactDraft::default()
                });
            }
            if drafts.is_empty() {
                break;
            }
            any = true;
            inserted += drafts.len() as u64;
            contacts::Entity::insert_many(drafts.iter().map(row)).exec(&txn).await?;
        }
        txn.commit().await?;
        if !any {
            break;
        }
    }
    Ok(inserted)
}

async fn count(db: &DatabaseConnection, sql: &str) -> Res<i64> {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn run(label: &'static str, url: String, file: &Path, rows: usize, bytes: u64) -> Res<()> {
    let db = kartoteka_core::db::connect(&url).await?;
    kartoteka_core::db::migrate(&db).await?;
    let core = Core::new(db.clone(), Arc::new(SystemClock));
    let admin = core
        .users()
        .create_user("bench@example.com", "", "bench-password", Role::Admin)
        .await?;
    let actor = admin.actor();
    for (key, label, kind, options) in [
        ("source", "Source", "select", vec!["web", "fair", "ads"]),
        ("budget", "Budget", "number", vec![]),
    ] {
        core.schema()
            .create_field(
                &actor,
                NewField {
                    key: key.into(),
                    label: label.into(),
                    kind: kind.into(),
                    options: options.into_iter().map(str::to_owned).collect(),
                    ..NewField::default()
                },
            )
            .await?;
    }
    let type_id = count(&db, "SELECT id FROM contact_types WHERE key = 'lead'").await?;

    reset_peak();
    let started = Instant::now();
    let hand_rows = by_hand(&db, file, admin.id, type_id).await?;
    let hand = started.elapsed();
    let hand_peak = peak_mib();
    eprintln!("{label}: by hand {hand_rows} rows in {}", ms(hand));
    db.execute_unprepared("DELETE FROM contact_events").await?;
    db.execute_unprepared("DELETE FROM contacts").await?;
    support::analyze(&db).await?;

    let mapping = json!({
        "columns": {"First name": "first_name", "Last name": "last_name", "Email": "email", "Phone": "phone",
                    "Company": "company", "City": "city", "Source": "fields.source", "Budget": "fields.budget"},
        "match_by": "email", "on_match": "update", "type": "lead",
    });
    reset_peak();
    let started = Instant::now();
    let report = core
        .imports()
        .run(&actor, file, Some(&mapping), false, &mut Quiet)
        .await?;
    let import = started.elapsed();
    let import_peak = peak_mib();
    let stored = count(&db, "SELECT COUNT(*) FROM contacts").await?;
    if report.created != rows as u64 || report.refused != 0 || i64::try_from(hand_rows)? != stored {
        return Err(format!(
            "{label}: the import created {} of {rows} people ({} refused); {stored} contacts stored against {hand_rows} by hand",
            report.created, report.refused
        )
        .into());
    }
    let rate = |d: Duration| format!("{:.0}", rows as f64 / d.as_secs_f64());
    println!(
        "\n### {label}, {rows} rows ({:.1} MB), {} companies\n",
        bytes as f64 / 1e6,
        report.companies_created
    );
    println!("| load | time | people a second | peak memory (MiB) |");
    println!("|---|---:|---:|---:|");
    println!(
        "| by hand: multi-row inserts | {} | {} | {hand_peak:.0} |",
        ms(hand),
        rate(hand)
    );
    println!(
        "| import (`Imports::run`) | {} | {} | {import_peak:.0} |",
        ms(import),
        rate(import)
    );
    println!("\nImport / by hand: **{}**", ratio(import, hand));
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let rows = arg("--rows", 100_000);
    let keep = flag("--keep");
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("people.csv");
    let bytes = write_file(&file, rows)?;
    println!("## Import of {rows} people from CSV\n");
    on_each_database("imports", keep, async |label, url| {
        run(label, url, &file, rows, bytes).await
    })
    .await
}
