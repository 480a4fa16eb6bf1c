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
//! 5. **The time-relative segments on the schedule.** The engine's clock is the system
//!    clock moved forward on demand (`support::ShiftedClock`): five minutes, then the
//!    schedule's check of every time-relative segment (`recheck_time_relative_segments`,
//!    decided again where the boundary moved), then, at the same instant, a whole
//!    rebuild of each as a job (what the schedule did before), whose membership changes
//!    count what the check missed.
//!
//! Run against a release build; results are printed as Markdown tables.

#[path = "segments/concurrent.rs"]
mod concurrent;
#[path = "segments/definitions.rs"]
mod definitions;
#[path = "segments/parts.rs"]
mod parts;
#[path = "segments/rebuilds.rs"]
mod rebuilds;
#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;
#[path = "segments/time_checks.rs"]
mod time_checks;
#[path = "segments/updates.rs"]
mod updates;

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
use parts::*;
use rebuilds::*;
use support::{
    Base, Res, ShiftedClock, Sql, arg, demo_size, flag, index_expression, latency_cells, load_base, median, ms,
    on_each_database, quantile, ratio,
};
use time_checks::*;
use updates::*;

/// Untimed updates before each timed phase.
const WARM_UP: usize = 200;
/// Contacts for the timed parts of the upkeep.
const PARTS: usize = 500;

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

async fn run(label: &str, url: &str, people: usize, activities: usize, n_updates: usize, runs: usize) -> Res<()> {
    // The system clock until the time-relative checks move it on.
    let clock = Arc::new(ShiftedClock::default());
    let base = load_base(label, url, clock.clone(), people, activities).await?;
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

    // 5. The time-relative checks.
    eprintln!("{label}: time-relative checks");
    let timely = time_checks(&base, &clock, &actor, runs).await?;

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
    println!(
        "\n#### {label}: the {} time-relative segments ({} members) checked after 5 minutes of the clock, median of {runs}\n",
        timely.segments, timely.members
    );
    println!(
        "| the schedule's check: where the boundary moved | each rebuilt whole, as jobs | ratio | contacts decided again | memberships moved | memberships the whole rebuilds moved after it |"
    );
    println!("|---|---|---|---|---|---|");
    let (check, rebuild) = (median(timely.checks.clone()), median(timely.rebuilds.clone()));
    println!(
        "| {} | {} | {} | {} | {} | {} |\n",
        ms(check),
        ms(rebuild),
        ratio(check, rebuild),
        join(&timely.candidates),
        join(&timely.moved),
        join(&timely.missed),
    );
    Ok(())
}

/// `a / b / c`.
fn join<T: ToString>(values: &[T]) -> String {
    values.iter().map(ToString::to_string).collect::<Vec<_>>().join(" / ")
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
