//! Exactly once, whatever crashes: the real `kartoteka serve` runs a `tasks.create_task`
//! job over 20,000 frozen targets and is killed with SIGKILL mid-run, twice, then
//! restarted; at the end there is exactly one task per target, none lost, none doubled.
//! On PostgreSQL, two servers share the database and run two jobs side by side; one of
//! them is killed, the other takes its job over once the lease runs out.
//!
//! And `kartoteka job run|list` as a user types them.
//!
//! Leases are 2 s here (`KARTOTEKA_JOB_LEASE_SECONDS`), so a restarted server takes its
//! own job over quickly.

use std::path::Path;
use std::time::Duration;

use kartoteka_tests::*;
use sea_orm::{ConnectionTrait, Statement};

use crate::cli::{Server, kartoteka, run_command, start_server};

const TARGETS: u64 = 20_000;

pub(crate) fn command(dir: &Path, database_url: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = kartoteka(dir, args);
    command
        .env("KARTOTEKA_DATABASE_URL", database_url)
        .env("KARTOTEKA_JOB_LEASE_SECONDS", "2");
    command
}

async fn serve(dir: &Path, database_url: &str) -> Server {
    start_server(command(dir, database_url, &["serve"])).await
}

/// A base of `people` people and an admin, made with the command line.
pub(crate) async fn base(dir: &Path, database_url: &str, people: u64) {
    let people = people.to_string();
    let (ok, out, err) = run_command(
        command(
            dir,
            database_url,
            &["demo", "--people", &people, "--companies", "0", "--activities", "0"],
        ),
        "",
    )
    .await;
    assert!(ok, "demo: {out} {err}");
    let (ok, out, err) = run_command(
        command(
            dir,
            database_url,
            &[
                "user",
                "add",
                "--email",
                "admin@example.com",
                "--role",
                "admin",
                "--password-stdin",
            ],
        ),
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(ok, "user add: {out} {err}");
}

pub(crate) async fn token(http: &reqwest::Client, server: &Server) -> String {
    let reply = http
        .post(format!("{}/api/v1/auth/token", server.address))
        .json(&json!({"email": "admin@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    reply.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Starts `tasks.create_task` on every contact.
async fn start_job(http: &reqwest::Client, server: &Server, token: &str, title: &str) -> i64 {
    let reply = http
        .post(format!("{}/api/v1/contacts/actions", server.address))
        .bearer_auth(token)
        .json(&json!({"action": "tasks.create_task", "params": {"title": title}, "filter": {}}))
        .send()
        .await
        .unwrap();
    let status = reply.status();
    let job: Value = reply.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["total"].as_u64(), Some(TARGETS), "{job}");
    id(&job)
}

async fn job(http: &reqwest::Client, address: &str, token: &str, id: i64) -> Value {
    let reply = http
        .get(format!("{address}/api/v1/jobs/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    reply.json().await.unwrap()
}

fn processed(job: &Value) -> u64 {
    ["done", "failed", "skipped"]
        .iter()
        .map(|k| job[k].as_u64().unwrap())
        .sum()
}

/// Waits until job `id` has processed at least `at_least` targets (and is not done).
async fn until_processed(http: &reqwest::Client, address: &str, token: &str, id: i64, at_least: u64) -> Value {
    for _ in 0..6_000 {
        let now = job(http, address, token, id).await;
        assert_ne!(now["state"], "done", "the job ended before the crash: {now}");
        if processed(&now) >= at_least {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} did not reach {at_least} targets within two minutes");
}

pub(crate) async fn until_done(http: &reqwest::Client, address: &str, token: &str, id: i64) -> Value {
    for _ in 0..1_200 {
        let now = job(http, address, token, id).await;
        if now["state"] == "done" {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} did not end within two minutes");
}

/// SIGKILL, and wait for the process to be gone.
pub(crate) async fn kill_9(mut server: Server) {
    server.child.start_kill().expect("kill -9");
    server.child.wait().await.expect("the killed server");
}

/// (tasks, distinct contacts) of job `id`, read from the database itself.
async fn tasks_of(database_url: &str, id: i64) -> (i64, i64) {
    let db = sea_orm::Database::connect(database_url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n, COUNT(DISTINCT contact_id) AS d FROM tasks WHERE job_id = {id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let counts = (
        row.try_get::<i64>("", "n").unwrap(),
        row.try_get::<i64>("", "d").unwrap(),
    );
    db.close().await.unwrap();
    counts
}

async fn killed_twice_then_exactly_once(dir: &Path, database_url: &str) {
    base(dir, database_url, TARGETS).await;
    let http = client_builder().build().unwrap();
    let server = serve(dir, database_url).await;
    let token = token(&http, &server).await;
    let id = start_job(&http, &server, &token, "Call {{ name }}").await;
    let mut server = server;
    for share in [10, 50] {
        let at = until_processed(&http, &server.address, &token, id, TARGETS * share / 100).await;
        kill_9(server).await;
        eprintln!("killed at {} of {TARGETS}", processed(&at));
        server = serve(dir, database_url).await;
    }
    let done = until_done(&http, &server.address, &token, id).await;
    assert_eq!(
        (done["done"].as_u64(), done["failed"].as_u64()),
        (Some(TARGETS), Some(0)),
        "{done}"
    );
    let target_count = i64::try_from(TARGETS).unwrap();
    assert_eq!(
        tasks_of(database_url, id).await,
        (target_count, target_count),
        "one task per target"
    );
    kill_9(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twice_then_exactly_once_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kartoteka.db?mode=rwc", dir.path().display());
    killed_twice_then_exactly_once(dir.path(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_twice_then_exactly_once_postgres() {
    let Some(admin_url) = postgres_url() else { return };
    let db = PgDatabase::create(&admin_url).await;
    let dir = tempfile::tempdir().unwrap();
    killed_twice_then_exactly_once(dir.path(), &db.url()).await;
}

/// Two servers on one PostgreSQL, two jobs: each server claims one (SKIP LOCKED); one
/// server is killed mid-run and the other finishes both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_side_by_side_postgres() {
    let Some(admin_url) = postgres_url() else { return };
    let db = PgDatabase::create(&admin_url).await;
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    base(dir.path(), &url, TARGETS).await;
    let http = client_builder().build().unwrap();
    let first = serve(dir.path(), &url).await;
    let second = serve(dir.path(), &url).await;
    let token = token(&http, &first).await;
    let a = start_job(&http, &first, &token, "A: call {{ name }}").await;
    let b = start_job(&http, &second, &token, "B: call {{ name }}").await;
    until_processed(&http, &second.address, &token, a, TARGETS / 10).await;
    until_processed(&http, &second.address, &token, b, 1).await;
    kill_9(first).await;
    for job_id in [a, b] {
        let done = until_done(&http, &second.address, &token, job_id).await;
        assert_eq!(done["done"].as_u64(), Some(TARGETS), "{done}");
    }
    let target_count = i64::try_from(TARGETS).unwrap();
    for job_id in [a, b] {
        assert_eq!(
            tasks_of(&url, job_id).await,
            (target_count, target_count),
            "job {job_id}"
        );
    }
    kill_9(second).await;
}

/// `kartoteka job run` from the command line: a dry run shows the effects and applies
/// none, a run creates one task per contact, errors name the options, `job list` shows
/// both jobs.
async fn job_run_from_the_command_line(dir: &Path, database_url: &str) {
    base(dir, database_url, 40).await;
    let ids: Vec<String> = (1..=40).map(|n| n.to_string()).collect();
    let ids = ids.join(",");
    let job_run = |extra: &[&str]| {
        let mut args = vec![
            "job",
            "run",
            "--contacts",
            &ids,
            "--action",
            "tasks.create_task",
            "--params",
            r#"{"title": "Call {{ name }}"}"#,
        ];
        args.extend_from_slice(extra);
        command(dir, database_url, &args)
    };
    let (ok, out, err) = run_command(job_run(&["--dry-run"]), "").await;
    assert!(ok, "{out} {err}");
    assert!(out.contains("done (dry run)\t40/40 done"), "{out}");
    assert!(out.contains("Would apply 40 effects: 40 create_task."), "{out}");
    assert!(out.contains("\"title\":\"Call "), "a sample of the effects: {out}");
    let (ok, out, err) = run_command(job_run(&[]), "").await;
    assert!(ok, "{out} {err}");
    assert!(out.contains("\tdone\t40/40 done, 0 failed"), "{out}");
    let db = sea_orm::Database::connect(database_url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, COUNT(DISTINCT contact_id) AS d FROM tasks".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            row.try_get::<i64>("", "n").unwrap(),
            row.try_get::<i64>("", "d").unwrap()
        ),
        (40, 40)
    );
    db.close().await.unwrap();

    let mut bad = command(
        dir,
        database_url,
        &[
            "job",
            "run",
            "--contacts",
            "1,999999",
            "--action",
            "tasks.nope",
            "--params",
            "{}",
        ],
    );
    bad.env("RUST_BACKTRACE", "0");
    let (ok, out, err) = run_command(bad, "").await;
    assert!(!ok, "{out}");
    assert!(err.contains("--action: no enabled action `tasks.nope`"), "{err}");
    assert!(
        err.contains("--contacts[1]: no contact 999999"),
        "every problem at once: {err}"
    );

    let (ok, out, err) = run_command(command(dir, database_url, &["job", "list"]), "").await;
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_run_from_the_command_line_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kartoteka.db?mode=rwc", dir.path().display());
    job_run_from_the_command_line(dir.path(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_run_from_the_command_line_postgres() {
    let Some(admin_url) = postgres_url() else { return };
    let db = PgDatabase::create(&admin_url).await;
    let dir = tempfile::tempdir().unwrap();
    job_run_from_the_command_line(dir.path(), &db.url()).await;
}
