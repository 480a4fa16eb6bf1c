//! The window a crash leaves in bulk e-mail, measured: the real `kartoteka serve` sends
//! `email.send_email` to a base of 5,000 people through a real SMTP server
//! (`tests/smtp/sink.py`, which records a message before it answers `250`; with quick
//! ACKs, so that the rate limit, 400 messages a second, is what paces the send) and is
//! killed with SIGKILL three times while messages arrive, after 500, 1,525 and 3,010 of
//! them (chunks are 50 messages, so at different points of a chunk), then restarted each
//! time. At the end:
//!
//! - every contact with an address who is not do-not-contact got the message, to that
//!   address (none lost), and nobody else got one;
//! - a recipient who got it twice got the same `Message-ID` (the effect key) both times,
//!   and the first copy was among the last chunk ([`CHUNK`]) the server handed off before
//!   a kill, the second came after it: the window `kartoteka_core::mail` describes, at most
//!   one chunk per kill, and never a message whose handoff was recorded;
//! - every message of the job is `sent` in the outbox, nothing is `queued`, and every
//!   recipient has exactly one `email_sent` activity of the job.
//!
//! The window measured (messages sent twice per kill) is printed (`--no-capture`) and
//! stated in BENCHMARKS.md.
//!
//! Leases are 2 s here (`KARTOTEKA_JOB_LEASE_SECONDS`, `KARTOTEKA_MAIL_LEASE_SECONDS`), so
//! a restarted server takes the job and the chunk a kill cut short over quickly.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use kartoteka_core::mail::CHUNK;
use kartoteka_tests::smtp::{SinkOptions, SmtpSink};
use kartoteka_tests::*;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::cli::{Server, start_server};
use crate::job_crash::{base, command, kill_9, token, until_done};

const PEOPLE: u64 = 5_000;

/// Messages accepted by the SMTP server when each kill lands.
const KILL_AT: [usize; 3] = [500, 1_525, 3_010];

/// `KARTOTEKA_MAIL_RATE`: slow enough that the send spans the kills.
const RATE: &str = "400";

/// `KARTOTEKA_BASE_URL`: the host in every `Message-ID`.
const BASE_URL: &str = "http://crm.example.test";

async fn serve(dir: &Path, database_url: &str, sink: &SmtpSink) -> Server {
    let mut command = command(dir, database_url, &["serve"]);
    command
        .env("KARTOTEKA_SMTP_URL", sink.url())
        .env("KARTOTEKA_SECRET", "test-secret")
        .env("KARTOTEKA_BASE_URL", BASE_URL)
        .env("KARTOTEKA_MAIL_RATE", RATE)
        .env("KARTOTEKA_MAIL_LEASE_SECONDS", "2")
        .env_remove("KARTOTEKA_MAIL_FROM");
    start_server(command).await
}

async fn query(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    query(db, sql).await[0].try_get_by_index::<i64>(0).unwrap()
}

/// The contacts who must get the message, read from the database: an address, and not
/// do-not-contact (nobody has unsubscribed yet). Contact id → address.
async fn recipients(db: &DatabaseConnection) -> BTreeMap<i64, String> {
    assert_eq!(count(db, "SELECT COUNT(*) FROM email_unsubscribes").await, 0);
    let rows = query(
        db,
        "SELECT id, TRIM(email) FROM contacts \
         WHERE do_not_contact = false AND email IS NOT NULL AND TRIM(email) <> ''",
    )
    .await;
    rows.iter()
        .map(|row| {
            (
                row.try_get_by_index::<i64>(0).unwrap(),
                row.try_get_by_index::<String>(1).unwrap(),
            )
        })
        .collect()
}

/// Starts `email.send_email` on every contact.
async fn start_send(http: &reqwest::Client, server: &Server, token: &str) -> i64 {
    let reply = http
        .post(format!("{}/api/v1/contacts/actions", server.address))
        .bearer_auth(token)
        .json(&json!({
            "action": "email.send_email",
            "params": {"subject": "Hello {{ first_name }}", "html": "<p>Dear {{ name }}</p>"},
            "dry_run": false,
            "filter": {},
        }))
        .send()
        .await
        .unwrap();
    let status = reply.status();
    let job: Value = reply.json().await.unwrap();
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    assert_eq!(job["total"].as_u64(), Some(PEOPLE), "{job}");
    id(&job)
}

/// Waits until the sink has accepted `n` messages.
async fn until_received(sink: &SmtpSink, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.count() < n {
        assert!(
            Instant::now() < deadline,
            "the SMTP server got {} of the {n} messages awaited within 60 s",
            sink.count()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The messages the sink accepted, once no more arrive: a message whose data was on its
/// way when the server died may still land.
async fn settled(sink: &SmtpSink) -> usize {
    let mut received = sink.count();
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = sink.count();
        if now == received {
            return now;
        }
        received = now;
    }
}

/// Waits until no message is queued in the outbox.
async fn until_nothing_queued(db: &DatabaseConnection) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let queued = count(db, "SELECT COUNT(*) FROM outbox WHERE state = 'queued'").await;
        if queued == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{queued} message(s) still queued after 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `Message-ID` of job `job`'s message to `contact` (its effect key).
fn message_id(job: i64, contact: i64) -> String {
    format!("<{job}.{contact}.0@crm.example.test>")
}

async fn killed_three_times_while_sending(dir: &Path, database_url: &str, label: &str) {
    let started = Instant::now();
    // The sink acknowledges like an ordinary Linux server (40 ms late): the delivery's
    // own connections set TCP_NODELAY, so that costs nothing (`core/src/mail/smtp.rs`).
    let Some(sink) = SmtpSink::start(SinkOptions::default()).await else {
        return;
    };
    base(dir, database_url, PEOPLE).await;
    let db = sea_orm::Database::connect(database_url).await.unwrap();
    let expected = recipients(&db).await;
    let people = usize::try_from(PEOPLE).unwrap();
    assert!(
        expected.len() > KILL_AT[2] + CHUNK && expected.len() < people,
        "the demo's people: most with an address, some do-not-contact or without one: {}",
        expected.len()
    );
    let contact_of: HashMap<&str, i64> = expected.iter().map(|(id, to)| (to.as_str(), *id)).collect();
    assert_eq!(contact_of.len(), expected.len(), "one contact per address");

    let http = client_builder().build().unwrap();
    let mut server = serve(dir, database_url, &sink).await;
    let token = token(&http, &server).await;
    let sending = Instant::now();
    let job = start_send(&http, &server, &token).await;
    // The messages the SMTP server had accepted when each kill landed.
    let mut kills = Vec::new();
    for at in KILL_AT {
        until_received(&sink, at).await;
        kill_9(server).await;
        let received = settled(&sink).await;
        assert!(
            received < expected.len(),
            "the send was over at kill {}",
            kills.len() + 1
        );
        kills.push(received);
        server = serve(dir, database_url, &sink).await;
    }
    let done = until_done(&http, &server.address, &token, job).await;
    let skipped = people - expected.len();
    assert_eq!(
        (done["done"].as_u64(), done["failed"].as_u64(), done["skipped"].as_u64()),
        (Some(expected.len() as u64), Some(0), Some(skipped as u64)),
        "{done}"
    );
    until_nothing_queued(&db).await;
    let send_time = sending.elapsed();
    kill_9(server).await;

    // At the SMTP server: each recipient's copies, in the order they arrived.
    let messages = sink.messages();
    let mut copies: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (at, message) in messages.iter().enumerate() {
        let [to] = message.rcpt_tos.as_slice() else {
            panic!("one recipient per message: {:?}", message.rcpt_tos)
        };
        let contact = *contact_of
            .get(to.as_str())
            .unwrap_or_else(|| panic!("a message to {to}, who must get none"));
        assert_eq!(
            message.header("message-id"),
            Some(message_id(job, contact)),
            "every copy to {to} carries the effect key"
        );
        copies.entry(contact).or_default().push(at);
    }
    let lost: Vec<&i64> = expected.keys().filter(|c| !copies.contains_key(c)).collect();
    assert!(lost.is_empty(), "{} recipient(s) got nothing: {lost:?}", lost.len());

    // Each message sent twice: its second copy came after a kill, its first among the
    // last chunk accepted before that kill.
    let mut twice = vec![0usize; kills.len()];
    for (contact, at) in &copies {
        for pair in at.windows(2) {
            let (first, again) = (pair[0], pair[1]);
            let kill = kills
                .iter()
                .rposition(|k| *k <= again)
                .unwrap_or_else(|| panic!("contact {contact} got the message twice with no kill in between"));
            assert!(
                first < kills[kill] && first + CHUNK >= kills[kill],
                "contact {contact}: the first copy ({first}) was not in the chunk kill {} cut short (at {})",
                kill + 1,
                kills[kill]
            );
            twice[kill] += 1;
        }
    }
    for (kill, n) in twice.iter().enumerate() {
        assert!(*n <= CHUNK, "kill {}: {n} messages sent twice", kill + 1);
    }
    let duplicates: usize = twice.iter().sum();
    assert_eq!(messages.len(), expected.len() + duplicates);

    // In the database: every message sent, recorded once.
    let states: Vec<(String, i64)> = query(
        &db,
        &format!("SELECT state, COUNT(*) FROM outbox WHERE job_id = {job} GROUP BY state"),
    )
    .await
    .iter()
    .map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()))
    .collect();
    assert_eq!(states, vec![("sent".to_owned(), expected.len() as i64)]);
    let of_job = match db.get_database_backend() {
        DbBackend::Postgres => "CAST(properties ->> 'job_id' AS BIGINT)",
        _ => "CAST(json_extract(properties, '$.job_id') AS INTEGER)",
    };
    let activities: BTreeMap<i64, i64> = query(
        &db,
        &format!(
            "SELECT contact_id, COUNT(*) FROM activities \
             WHERE kind = 'email_sent' AND {of_job} = {job} GROUP BY contact_id"
        ),
    )
    .await
    .iter()
    .map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()))
    .collect();
    assert_eq!(activities.len(), expected.len(), "an email_sent activity per recipient");
    assert!(
        activities
            .iter()
            .all(|(contact, n)| *n == 1 && expected.contains_key(contact)),
        "exactly one email_sent activity per recipient"
    );
    db.close().await.unwrap();

    let per_kill: Vec<String> = kills
        .iter()
        .zip(&twice)
        .map(|(at, n)| format!("{n} after {at}"))
        .collect();
    println!(
        "{label}: {} recipients, {} messages at the SMTP server; sent twice per kill -9 (after N accepted): {}; \
         {duplicates} in all (at most {CHUNK} per kill); the send took {:.1} s with 3 kills at {RATE}/s, the test {:.1} s",
        expected.len(),
        messages.len(),
        per_kill.join(", "),
        send_time.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_three_times_while_sending_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kartoteka.db?mode=rwc", dir.path().display());
    killed_three_times_while_sending(dir.path(), &url, "SQLite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_three_times_while_sending_postgres() {
    let Some(admin_url) = postgres_url() else { return };
    let db = PgDatabase::create(&admin_url).await;
    let dir = tempfile::tempdir().unwrap();
    killed_three_times_while_sending(dir.path(), &db.url(), "PostgreSQL").await;
}
