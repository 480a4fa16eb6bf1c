//! A saved view at scale against hand-written SQL on the same database: a page of its
//! table (the first and one nine tenths of the way down), and its export to CSV and to
//! Excel, with the peak memory of each.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-core --bench views -- --contacts 1000000
//! ```
//!
//! Options: `--contacts N` (default 100,000, a tenth of them companies), `--activities A`
//! (per person, default 3), `--postgres-only`, `--keep`.
//!
//! The view: the columns name, city, e-mail, company, owner, two extra fields (`lead_source`
//! a select, `nps` an integer) and the last activity, by name, over every contact (as an
//! admin). For SQLite and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL:
//!
//! 1. **A page of 50**: through `Views` (the filter engine's keyset page, then the cells
//!    with their companies, owners and last activities: what the contacts page does
//!    before HTML), against one hand-written statement per page: the keyset condition on
//!    `(name_sort, id)`, the company and the owner joined, the fields read from the JSON
//!    and the last activity in a correlated subquery. Median of 20 after a warm-up.
//! 2. **The export to CSV** of the whole view through `ViewExport::next_csv_chunk`,
//!    against the same hand-written statement walked by keyset in pages of 500, each row
//!    written with the `csv` crate. Bytes are counted, not kept.
//! 3. **The export to XLSX** through `ViewExport::into_xlsx`, against the hand-written pages
//!    written straight into `rust_xlsxwriter`'s constant-memory worksheet.
//!
//! Memory is the growth of the process's resident high-water mark (`VmHWM`, reset before
//! each part through `/proc/self/clear_refs`) over its resident memory when the part began:
//! after loading the base the allocator keeps well over 100 MiB, which would hide what an
//! export adds. Results are printed as Markdown.

#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kartoteka_core::SystemClock;
use kartoteka_core::auth::Actor;
use kartoteka_core::contacts::{Cursor, SortKey};
use kartoteka_core::views::columns::Cell;
use kartoteka_core::views::export::EXPORT_PAGE;
use kartoteka_core::views::{CheckedSpec, Mode, ViewSpec};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement};
use support::{Res, demo_size, flag, load_base, ms, on_each_database, peak_mib, ratio, reset_peak, rss_mib, time_it};

const COLUMNS: [&str; 8] = [
    "name",
    "city",
    "email",
    "company",
    "owner",
    "fields.lead_source",
    "fields.nps",
    "last_activity",
];

const PAGE: u64 = 50;

/// The hand-written page after `(name_sort, id)`: `limit` rows of the view's columns.
fn hand_sql(backend: DbBackend, after: Option<(&[u8], i64)>, limit: u64) -> Statement {
    let (source, nps, last) = if backend == DbBackend::Postgres {
        (
            "c.fields->>'lead_source'",
            "c.fields->>'nps'",
            "(SELECT MAX(a.occurred_at) FROM activities a WHERE a.contact_id = c.id)",
        )
    } else {
        (
            "json_extract(c.fields, '$.lead_source')",
            "CAST(json_extract(c.fields, '$.nps') AS TEXT)",
            "(SELECT MAX(a.occurred_at) FROM activities a WHERE a.contact_id = c.id)",
        )
    };
    let (condition, values) = match after {
        Some((key, id)) => (
            "WHERE (c.name_sort, c.id) > (?, ?) ",
            vec![sea_orm::Value::Bytes(Some(key.to_vec())), id.into()],
        ),
        None => ("", vec![]),
    };
    let text = format!(
        "SELECT c.id, c.name_sort, c.name, c.city, c.email, co.name, u.name, {source}, {nps}, {last} \
         FROM contacts c LEFT JOIN contacts co ON co.id = c.company_id LEFT JOIN users u ON u.id = c.owner_id \
         {condition}ORDER BY c.name_sort, c.id LIMIT {limit}"
    );
    support::Sql { text, values }.statement(backend)
}

/// A hand-written row: the cells as text, and its keyset position.
fn hand_row(backend: DbBackend, row: &QueryResult) -> Res<(Vec<String>, Vec<u8>, i64)> {
    let id: i64 = row.try_get_by_index(0)?;
    let key: Vec<u8> = row.try_get_by_index(1)?;
    let mut cells = Vec::with_capacity(COLUMNS.len());
    for i in 2..9 {
        cells.push(row.try_get_by_index::<Option<String>>(i)?.unwrap_or_default());
    }
    let last = if backend == DbBackend::Postgres {
        row.try_get_by_index::<Option<chrono::DateTime<chrono::Utc>>>(9)?
            .map(|t| t.to_rfc3339())
            .unwrap_or_default()
    } else {
        row.try_get_by_index::<Option<String>>(9)?.unwrap_or_default()
    };
    cells.push(last);
    Ok((cells, key, id))
}

async fn hand_page(
    db: &DatabaseConnection,
    after: Option<(&[u8], i64)>,
    limit: u64,
) -> Res<Vec<(Vec<String>, Vec<u8>, i64)>> {
    let backend = db.get_database_backend();
    db.query_all_raw(hand_sql(backend, after, limit))
        .await?
        .iter()
        .map(|r| hand_row(backend, r))
        .collect()
}

/// The view's page after `after` (a cursor), as cells.
async fn view_page(
    base: &support::Base,
    actor: &Actor,
    checked: &CheckedSpec,
    after: Option<String>,
) -> Res<Vec<Vec<Cell>>> {
    let views = base.core.views();
    let page = base
        .core
        .filter()
        .query_contacts(actor, &checked.query(PAGE, after))
        .await?;
    let cells = views.cells(actor, checked, false).await?;
    let extras = cells.extras(views.reader(), actor, &page.items, false).await?;
    Ok(page.items.iter().map(|c| cells.row(c, &extras)).collect())
}

/// Walks the hand-written statement over the whole base, handing each page's rows on.
async fn hand_walk(db: &DatabaseConnection, mut each: impl FnMut(Vec<Vec<String>>) -> Res<()>) -> Res<usize> {
    let mut after: Option<(Vec<u8>, i64)> = None;
    let mut rows = 0;
    loop {
        let page = hand_page(db, after.as_ref().map(|(k, id)| (k.as_slice(), *id)), EXPORT_PAGE).await?;
        let Some((_, key, id)) = page.last() else { break };
        after = Some((key.clone(), *id));
        let full = page.len() as u64 == EXPORT_PAGE;
        rows += page.len();
        each(page.into_iter().map(|(cells, _, _)| cells).collect())?;
        if !full {
            break;
        }
    }
    Ok(rows)
}

/// A writer that counts what goes through it.
#[derive(Default)]
struct Count(u64);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn run(label: &'static str, url: String) -> Res<()> {
    let (people, activities) = demo_size();
    let base = load_base(label, &url, Arc::new(SystemClock), people, activities).await?;
    base.print_heading(label);
    let db = &base.db;
    let actor = base.admin.actor();
    let spec = ViewSpec {
        mode: Mode::Table,
        columns: COLUMNS.map(str::to_owned).to_vec(),
        sort: "name".into(),
        filter: None,
        q: String::new(),
    };
    let checked = base.core.views().check(&spec).await?;
    let total = base.contacts();

    // The position nine tenths of the way down.
    let deep_sql = format!(
        "SELECT name_sort, id FROM contacts ORDER BY name_sort, id LIMIT 1 OFFSET {}",
        total * 9 / 10
    );
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), deep_sql))
        .await?
        .ok_or("no contact at nine tenths")?;
    let deep_key: Vec<u8> = row.try_get_by_index(0)?;
    let deep_id: i64 = row.try_get_by_index(1)?;
    let deep_cursor = Cursor {
        sort: SortKey::Name,
        descending: false,
        key: Some(URL_SAFE_NO_PAD.encode(&deep_key)),
        at: None,
        score: None,
        id: deep_id,
    }
    .encode();

    println!("| part | through the view | by hand | ratio | memory growth at peak: view / by hand |");
    println!("|---|---:|---:|---:|---:|");
    for (name, cursor) in [
        ("first page of 50", None),
        ("page of 50 at nine tenths", Some(deep_cursor.clone())),
    ] {
        let (view, rows) = time_it(20, || view_page(&base, &actor, &checked, cursor.clone())).await?;
        if rows.len() != PAGE as usize {
            return Err(format!("{name}: the view gave {} rows", rows.len()).into());
        }
        let after = cursor.as_ref().map(|_| (deep_key.as_slice(), deep_id));
        let (hand, rows) = time_it(20, || hand_page(db, after, PAGE)).await?;
        if rows.len() != PAGE as usize {
            return Err(format!("{name}: by hand gave {} rows", rows.len()).into());
        }
        println!("| {name} | {} | {} | {} | |", ms(view), ms(hand), ratio(view, hand));
    }

    // CSV. Memory is the peak's growth over what the process held when the part began
    // (the base's load leaves the allocator holding its pages).
    let base_rss = rss_mib();
    reset_peak();
    let started = Instant::now();
    let mut export = base.core.views().export(&actor, checked.clone(), "bench").await?;
    let mut view_bytes = 0u64;
    while let Some(chunk) = export.next_csv_chunk().await? {
        view_bytes += chunk.len() as u64;
    }
    let view_csv = started.elapsed();
    let view_peak = (peak_mib() - base_rss).max(0.0);
    let base_rss = rss_mib();
    reset_peak();
    let started = Instant::now();
    let mut out = csv::Writer::from_writer(Count::default());
    let rows = hand_walk(db, |page| {
        for row in page {
            out.write_record(&row)?;
        }
        Ok(())
    })
    .await?;
    out.flush()?;
    let hand_csv = started.elapsed();
    let hand_peak = (peak_mib() - base_rss).max(0.0);
    let hand_bytes = out.get_ref().0;
    if rows as u64 != total {
        return Err(format!("by hand exported {rows} of {total}").into());
    }
    println!(
        "| CSV of {total} rows ({:.0} / {:.0} MB) | {} | {} | {} | +{view_peak:.0} / +{hand_peak:.0} MiB |",
        view_bytes as f64 / 1e6,
        hand_bytes as f64 / 1e6,
        ms(view_csv),
        ms(hand_csv),
        ratio(view_csv, hand_csv)
    );

    // XLSX.
    let base_rss = rss_mib();
    reset_peak();
    let started = Instant::now();
    let export = base.core.views().export(&actor, checked.clone(), "bench").await?;
    let mut pieces = export.into_xlsx();
    let mut view_bytes = 0u64;
    while let Some(piece) = pieces.recv().await {
        view_bytes += piece?.len() as u64;
    }
    let view_xlsx = started.elapsed();
    let view_peak = (peak_mib() - base_rss).max(0.0);
    let base_rss = rss_mib();
    reset_peak();
    let started = Instant::now();
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let mut row_no: u32 = 1;
    {
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        for (col, label) in (0u16..).zip(COLUMNS) {
            sheet.write_string(0, col, label)?;
        }
    }
    hand_walk(db, |page| {
        let sheet = workbook.worksheet_from_index(0)?;
        for row in page {
            for (col, text) in (0u16..).zip(&row) {
                if !text.is_empty() {
                    sheet.write_string(row_no, col, text)?;
                }
            }
            row_no += 1;
        }
        Ok(())
    })
    .await?;
    let mut count = Count::default();
    workbook.save_to_writer(&mut count)?;
    let hand_xlsx = started.elapsed();
    let hand_peak = (peak_mib() - base_rss).max(0.0);
    println!(
        "| XLSX of {total} rows ({:.0} / {:.0} MB) | {} | {} | {} | +{view_peak:.0} / +{hand_peak:.0} MiB |",
        view_bytes as f64 / 1e6,
        count.0 as f64 / 1e6,
        ms(view_xlsx),
        ms(hand_xlsx),
        ratio(view_xlsx, hand_xlsx)
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    let (people, _) = demo_size();
    println!("## A saved view: its table and its export ({people} people and a tenth as many companies)\n");
    on_each_database("views", flag("--keep"), async |label, url| run(label, url).await).await
}
