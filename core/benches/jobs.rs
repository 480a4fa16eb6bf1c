//! Bulk actions at scale: `tasks.create_task` over every contact of the demo base as a
//! job, against a hand-written `INSERT ... SELECT` of the same tasks on the same
//! database, and freezing the targets against a hand-written `INSERT ... SELECT`.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-core --bench jobs -- --contacts 1000000
//! ```
//!
//! Options: `--contacts N` (default 100,000; a tenth of them companies), `--keep`,
//! `--trace` (each batch's read, plugin run and commit times on standard error).
//!
//! For SQLite (a fresh file) and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL (a
//! fresh database), it loads the demo base without activities (`support::load_base`), then:
//!
//! 1. **Freezing.** `Jobs::start` with `{filter: {}}` (every contact): the action and its
//!    parameters checked (one `run` of the plugin on no contacts), the job row and one
//!    `INSERT INTO job_targets ... SELECT` in a transaction. Against the same `INSERT ...
//!    SELECT` written by hand for another job row.
//! 2. **The run.** `Jobs::work_once` on that job: claim, then per batch of 500 targets
//!    (keyset after the checkpoint) read the contacts, one `run` of the `tasks` plugin
//!    (minijinja renders `Call {{ name }}` per contact, in WebAssembly), check the effects,
//!    and commit the tasks (with their effect keys, `ON CONFLICT DO NOTHING`), the
//!    outcomes, the samples and the checkpoint in one transaction. The job's progress is
//!    read every second by a second task and printed as the rate against time.
//!    Against a hand-written `INSERT INTO tasks ... SELECT` of the same tasks (title
//!    `'Call ' || name`, the owner as assignee, the same due date, an effect key) for
//!    another job row, in one statement, into the same table with the same indexes.
//!
//! Each side's task count is checked against the number of contacts. Run against a
//! release build; results are printed as Markdown tables.

#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use kartoteka_core::SystemClock;
use kartoteka_core::jobs::{ActionRequest, Targets};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;
use support::{Res, arg, demo_size, flag, load_base, ms, on_each_database, ratio};

/// Executes `sql` (no placeholders) and answers the rows it changed.
async fn exec(db: &sea_orm::DatabaseConnection, sql: String) -> Res<u64> {
    Ok(db
        .execute_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?
        .rows_affected())
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> Res<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// A job row for a hand-written baseline to key its rows with.
async fn baseline_job(db: &sea_orm::DatabaseConnection) -> Res<i64> {
    let now = if db.get_database_backend() == DbBackend::Postgres {
        "now()"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    };
    exec(
        db,
        format!(
            "INSERT INTO jobs (action, dry_run, source, state, created_at, updated_at, run_at, effect_counts) \
             VALUES ('baseline', false, '{{}}', 'done', {now}, {now}, 0, '{{}}')"
        ),
    )
    .await?;
    count(db, "SELECT MAX(id) FROM jobs").await
}

async fn run(label: &'static str, url: String) -> Res<()> {
    let (people, _) = demo_size();
    let base = load_base(label, &url, Arc::new(SystemClock), people, 0).await?;
    base.print_heading(label);
    let db = &base.db;
    let contacts = count(db, "SELECT COUNT(*) FROM contacts").await?;
    let actor = base.admin.actor();
    let jobs = base.core.jobs();

    // 1. Freezing.
    let started = Instant::now();
    let job = jobs
        .start(
            &actor,
            ActionRequest {
                action: "tasks.create_task".into(),
                params: Some(json!({"title": "Call {{ name }}", "due": {"in_days": 7}})),
                dry_run: false,
                targets: Targets::Matching {
                    filter: json!({}),
                    q: None,
                },
            },
        )
        .await?;
    let freeze = started.elapsed();
    if job.total != contacts {
        return Err(format!("froze {} targets of {contacts} contacts", job.total).into());
    }
    let frozen_by_hand = baseline_job(db).await?;
    let started = Instant::now();
    let frozen = exec(
        db,
        format!("INSERT INTO job_targets (job_id, contact_id) SELECT {frozen_by_hand}, id FROM contacts"),
    )
    .await?;
    let freeze_sql = started.elapsed();
    if frozen != contacts as u64 {
        return Err("the hand-written freeze missed contacts".into());
    }

    // 2. The run, with its rate sampled every second.
    let progress = {
        let jobs = jobs.clone();
        let actor = actor.clone();
        let id = job.id;
        tokio::spawn(async move {
            let started = Instant::now();
            let mut samples = Vec::new();
            let mut last = 0i64;
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let Ok(now) = jobs.get_job(&actor, id).await else { break };
                let processed = now.processed();
                samples.push((started.elapsed().as_secs_f64(), processed, processed - last));
                last = processed;
                if now.state.finished() {
                    break;
                }
            }
            samples
        })
    };
    let started = Instant::now();
    jobs.work_once(Some(job.id)).await?;
    let engine = started.elapsed();
    let samples = progress.await?;
    let done = jobs.get_job(&actor, job.id).await?;
    let made = count(db, &format!("SELECT COUNT(*) FROM tasks WHERE job_id = {}", job.id)).await?;
    if made != contacts || done.done != contacts {
        return Err(format!("the job made {made} tasks for {contacts} contacts: {done:?}").into());
    }

    let by_hand = baseline_job(db).await?;
    let (concat, due) = if db.get_database_backend() == DbBackend::Postgres {
        ("'Call ' || name", "now() + interval '7 days'")
    } else {
        ("'Call ' || name", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+7 days')")
    };
    let now = if db.get_database_backend() == DbBackend::Postgres {
        "now()"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
    };
    let started = Instant::now();
    let inserted = exec(
        db,
        format!(
            "INSERT INTO tasks (contact_id, assignee_id, title, body, due_at, status, created_by, created_at, job_id, effect_index) \
             SELECT id, owner_id, {concat}, '', {due}, 'open', {admin}, {now}, {by_hand}, 0 FROM contacts",
            admin = base.admin.id
        ),
    )
    .await?;
    let sql = started.elapsed();
    if inserted != contacts as u64 {
        return Err("the hand-written insert missed contacts".into());
    }

    println!("| step | Kartoteka | hand-written SQL | ratio |");
    println!("|---|---:|---:|---:|");
    println!(
        "| freeze {contacts} targets | {} | {} | {} |",
        ms(freeze),
        ms(freeze_sql),
        ratio(freeze, freeze_sql)
    );
    println!(
        "| create {contacts} tasks | {} ({:.0} targets/s) | {} | {} |",
        ms(engine),
        contacts as f64 / engine.as_secs_f64(),
        ms(sql),
        ratio(engine, sql)
    );
    println!("\nRate against time (targets per second, sampled every second):\n");
    println!("| t (s) | processed | in that second |");
    println!("|---:|---:|---:|");
    for (t, processed, delta) in samples {
        println!("| {t:.0} | {processed} | {delta} |");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    if flag("--trace") {
        // Each batch's parts (read, plugin run, commit) on standard error.
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("kartoteka_core::jobs=debug"))
            .with_writer(std::io::stderr)
            .init();
    }
    let contacts = arg("--contacts", 100_000);
    println!("## Bulk actions: {contacts} contacts\n");
    on_each_database("jobs", flag("--keep"), run).await
}
