//! E-mail at scale: a bulk send (`email.send_email`) to every contact of the demo base
//! with an address, through the whole pipeline to an SMTP server, against lettre's pooled
//! transport pushing as many pre-rendered messages to the same server with no database.
//!
//! ```text
//! KARTOTEKA_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!   cargo bench -p kartoteka-core --bench mail -- --contacts 100000
//! ```
//!
//! Options: `--contacts N` (default 100,000; a tenth of them companies), `--connections
//! 4,8` (the SMTP connections of both sides, one measurement of each side per number;
//! default 4 and 8), `--delayed-acks` (the sink acknowledges like an ordinary server, see
//! below), `--keep`, `--trace` (each job batch's read, plugin run and commit times and
//! each mail chunk on standard error; `RUST_LOG` chooses other targets).
//!
//! For SQLite (a fresh file) and, when `KARTOTEKA_TEST_POSTGRES_URL` is set, PostgreSQL (a
//! fresh database), it loads the demo base without activities (`support::load_base`),
//! reads the recipients a send must reach (contacts with an address, not do-not-contact,
//! not unsubscribed), then for each number of connections:
//!
//! 1. **Raw lettre.** `AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous` on the
//!    sink's port with a pool of that many connections, sending one pre-rendered message
//!    per recipient (built beforehand with `Message::builder`: the same headers, a
//!    multipart text and HTML body with signed links of the same length, so about the
//!    size of the pipeline's) with that many sends in flight.
//! 2. **The pipeline.** `Jobs::start` of `email.send_email` on `{filter: {}}` (the action
//!    and its templates checked, the targets frozen), then `Jobs::work_once` (per batch of
//!    500: the targets with their contacts, the do-not-contact and unsubscribe checks, one
//!    `run` of the plugin in WebAssembly rendering the subject, the HTML with its link and
//!    the text for each contact, and one transaction with the outbox rows, the outcomes
//!    and the checkpoint) and, at the same time, `Mail::deliver_once` in a loop (claim a
//!    chunk of due messages with a lease, check their contacts again, build each message
//!    with its signed links, hand them to the SMTP server over the delivery's pooled
//!    connections, as many at once as it has connections, record the outcomes and an
//!    `email_sent` activity per message in one transaction) until the job is done and
//!    nothing is due. Timed from the start to the last message at the sink.
//!
//! Then once, with the first number of connections, the two halves one after the other:
//! a job run alone to a full outbox, then the delivery alone to an empty one.
//!
//! Each side's messages are counted at the sink (exactly one per recipient, by envelope
//! address), and the pipeline's outbox rows must all be `sent`. Each delivery chunk is
//! timed, and the most messages one `deliver_once` handled is printed (a claim takes at
//! most a chunk). Each side's CPU time per message is this process's (`/proc/self/stat`:
//! the sink's thread and SQLite included, a PostgreSQL server not). Run against a release
//! build; results are printed as Markdown tables.
//!
//! The SMTP sink is written here: a test peer on a Tokio listener, on its own thread
//! with its own runtime, that accepts every message and keeps count. It answers `220` on
//! connect, `250` to EHLO/HELO, MAIL, RCPT, RSET and NOOP, `354` to DATA and `250` once
//! the data's closing `.` line has come, `221` to QUIT; it offers no extension, so a
//! client sends one command at a time (no pipelining). lettre (0.11.23) writes a message's
//! data and its closing `.` line in two writes, and its pooled transport's sockets don't
//! set `TCP_NODELAY`: Nagle's algorithm holds the `.` until the data is acknowledged, and
//! a Linux server delays that acknowledgement by 40 ms, so against an ordinary server
//! every message waits 40 ms on its connection. The sink acknowledges message data at
//! once (`TCP_QUICKACK`, Linux), so that the raw side is measured without that wait; with
//! `--delayed-acks` it acknowledges like an ordinary server, and a client without
//! `TCP_NODELAY` shows the wait.

#[path = "support/mod.rs"]
#[allow(dead_code)] // shared by the benchmarks; each uses a part
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use kartoteka_core::SystemClock;
use kartoteka_core::jobs::{ActionRequest, Targets};
use kartoteka_core::mail::MailConfig;
use kartoteka_core::mail::links::{self, Purpose};
use lettre::address::Envelope;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::json;
use support::{Res, arg, demo_size, flag, latency_cells, load_base, ms, on_each_database};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The secret the links are signed with, on both sides.
const SECRET: &str = "bench-secret-not-for-production-0123456789";

/// Where the links point, on both sides (`MailConfig`'s default).
const BASE_URL: &str = "http://127.0.0.1:8080";

/// The link in every message.
const SHOP: &str = "https://shop.example.com/autumn?from=newsletter";

/// The job's templates.
const SUBJECT: &str = "Autumn news for {{ first_name }}";
const HTML: &str = "<html><body><p>Dear {{ name }},</p>\
    <p>Our autumn collection is in the shops and online, with a tenth off everything you order before the end of the month.</p>\
    <p><a href=\"https://shop.example.com/autumn?from=newsletter\">See the collection</a></p>\
    <p>Kind regards,<br>The Kartoteka team</p></body></html>";

/// What the sink has seen.
struct Stats {
    epoch: Instant,
    messages: AtomicU64,
    /// The data of every message, as sent (dot-stuffed, without the closing line).
    bytes: AtomicU64,
    /// When the last message was accepted, in nanoseconds after `epoch`.
    last: AtomicU64,
    /// Commands it did not expect (answered 5xx).
    refused: AtomicU64,
    /// The envelope recipients of every message accepted.
    recipients: Mutex<Vec<String>>,
}

impl Stats {
    fn accepted(&self, size: usize, recipients: &mut Vec<String>) {
        if let Ok(mut all) = self.recipients.lock() {
            all.append(recipients);
        }
        recipients.clear();
        self.bytes.fetch_add(size as u64, Ordering::Relaxed);
        let at = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last.fetch_max(at, Ordering::Relaxed);
        self.messages.fetch_add(1, Ordering::Release);
    }

    fn messages(&self) -> u64 {
        self.messages.load(Ordering::Acquire)
    }

    /// When the last message was accepted.
    fn last(&self) -> Instant {
        self.epoch + Duration::from_nanos(self.last.load(Ordering::Relaxed))
    }

    fn mean_size(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed) / self.messages().max(1)
    }

    /// The recipients, sorted.
    fn recipients(&self) -> Vec<String> {
        let mut all = self.recipients.lock().map(|r| r.clone()).unwrap_or_default();
        all.sort_unstable();
        all
    }
}

/// The SMTP sink: a listener on `127.0.0.1` served by its own thread until dropped.
struct Sink {
    port: u16,
    stats: Arc<Stats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sink {
    fn start(quick_acks: bool) -> Res<Sink> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let stats = Arc::new(Stats {
            epoch: Instant::now(),
            messages: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            last: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            recipients: Mutex::new(Vec::new()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = stats.clone();
        let thread = std::thread::Builder::new().name("smtp-sink".into()).spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                let mut stopped = stopped;
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            if let Ok((stream, _)) = accepted {
                                // A client that drops its connection ends it; nothing to report.
                                tokio::spawn(serve(stream, served.clone(), quick_acks));
                            }
                        }
                    }
                }
            });
        })?;
        Ok(Sink {
            port,
            stats,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        if let Some(thread) = self.thread.take() {
            thread.join().ok();
        }
    }
}

/// One SMTP session. With `quick_acks`, whenever the message data read so far is used up,
/// the pending TCP acknowledgement goes out at once (`TCP_QUICKACK`) instead of after
/// Linux's delayed-ACK timer (40 ms): lettre writes a message's data and its closing
/// `.` line in two writes without `TCP_NODELAY`, so Nagle holds the `.` until the data is
/// acknowledged, and an ordinary server's delayed ACK costs 40 ms per message.
async fn serve(stream: tokio::net::TcpStream, stats: Arc<Stats>, quick_acks: bool) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::with_capacity(64 * 1024, read);
    write.write_all(b"220 127.0.0.1 ESMTP sink\r\n").await?;
    let mut line = Vec::with_capacity(1024);
    let mut from = false;
    let mut recipients: Vec<String> = Vec::with_capacity(1);
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_slice() {
            b"EHLO" | b"HELO" => b"250 127.0.0.1\r\n",
            b"MAIL" => {
                from = true;
                recipients.clear();
                b"250 2.1.0 Ok\r\n"
            }
            b"RCPT" if from => {
                let text = String::from_utf8_lossy(&line);
                let address = text
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map_or("", |(address, _)| address);
                recipients.push(address.to_owned());
                b"250 2.1.5 Ok\r\n"
            }
            b"DATA" if !recipients.is_empty() => {
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut size = 0;
                loop {
                    if quick_acks && read.buffer().is_empty() {
                        read.get_ref().as_ref().set_quickack(true)?;
                    }
                    line.clear();
                    let n = read.read_until(b'\n', &mut line).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    if line == b".\r\n" {
                        break;
                    }
                    size += n;
                }
                from = false;
                stats.accepted(size, &mut recipients);
                b"250 2.0.0 Ok: queued\r\n"
            }
            b"RSET" => {
                from = false;
                recipients.clear();
                b"250 2.0.0 Ok\r\n"
            }
            b"NOOP" => b"250 2.0.0 Ok\r\n",
            b"QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => {
                stats.refused.fetch_add(1, Ordering::Relaxed);
                b"503 5.5.1 Not now\r\n"
            }
        };
        write.write_all(reply).await?;
    }
}

/// A recipient of the send: the contact's id, name and address.
struct Recipient {
    id: i64,
    name: String,
    email: String,
}

/// The contacts a send must reach: with an address, not do-not-contact, not unsubscribed.
async fn recipients(db: &DatabaseConnection) -> Res<Vec<Recipient>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id, name, email FROM contacts WHERE email IS NOT NULL AND NOT do_not_contact \
             AND id NOT IN (SELECT contact_id FROM email_unsubscribes) ORDER BY id",
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let email: String = row.try_get_by_index(2)?;
        let email = email.trim();
        if !email.is_empty() {
            out.push(Recipient {
                id: row.try_get_by_index(0)?,
                name: row.try_get_by_index(1)?,
                email: email.to_owned(),
            });
        }
    }
    Ok(out)
}

async fn count(db: &DatabaseConnection, sql: &str) -> Res<i64> {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await?
        .ok_or("no row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// Text safe inside HTML.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The raw side's messages, built before the clock starts: what the pipeline sends, the
/// same headers and bodies with links signed the same way.
fn prerender(recipients: &[Recipient]) -> Res<Vec<(Envelope, Vec<u8>)>> {
    let from: Mailbox = MailConfig::default().from.parse()?;
    let mut out = Vec::with_capacity(recipients.len());
    for r in recipients {
        let first = r.name.split_whitespace().next().unwrap_or_default();
        let click = format!(
            "{BASE_URL}/m/c/{}?u={}",
            links::token(SECRET, Purpose::Click, r.id, SHOP),
            links::encode_query(SHOP)
        );
        let unsubscribe = format!(
            "{BASE_URL}/m/u/{}",
            links::token(SECRET, Purpose::Unsubscribe, r.id, "")
        );
        let open = format!("{BASE_URL}/m/o/{}", links::token(SECRET, Purpose::Open, r.id, ""));
        let html = format!(
            "<html><body><p>Dear {name},</p>\
             <p>Our autumn collection is in the shops and online, with a tenth off everything you order before the end of the month.</p>\
             <p><a href=\"{click}\">See the collection</a></p>\
             <p>Kind regards,<br>The Kartoteka team</p>\
             <p style=\"font-size:12px;color:#666\">You get this message because you are in our contacts. <a href=\"{unsubscribe}\">Unsubscribe</a></p>\
             <img src=\"{open}\" width=\"1\" height=\"1\" alt=\"\"></body></html>",
            name = escape(&r.name),
        );
        let text = format!(
            "Dear {name},\n\nOur autumn collection is in the shops and online, with a tenth off everything you order before the end of the month.\n\n\
             [See the collection][1]\n\nKind regards,\nThe Kartoteka team\n\n[1]: {SHOP}\n\n-- \nTo stop getting these messages: {unsubscribe}\n",
            name = r.name,
        );
        let message = lettre::Message::builder()
            .from(from.clone())
            .to(r.email.parse()?)
            .subject(format!("Autumn news for {first}"))
            .message_id(Some(format!("<raw.{}@127.0.0.1>", r.id)))
            .date_now()
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{unsubscribe}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ))
            .multipart(MultiPart::alternative_plain_html(text, html))?;
        out.push((message.envelope().clone(), message.formatted()));
    }
    Ok(out)
}

/// One side's result.
struct Sent {
    time: Duration,
    messages: u64,
    mean_size: u64,
    /// The CPU time this process used meanwhile (the sink's thread included).
    cpu: Duration,
}

impl Sent {
    fn rate(&self) -> f64 {
        self.messages as f64 / self.time.as_secs_f64().max(1e-9)
    }

    /// CPU microseconds per message.
    fn cpu_per_message(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.messages.max(1) as f64
    }
}

/// The CPU time this process has used, user and system, all threads (Linux:
/// `/proc/self/stat`, in ticks of 10 ms); zero where that can't be read.
fn cpu_used() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat").ok().and_then(|stat| {
        // After the command name in parentheses: field 3 (state) first, so utime (14)
        // and stime (15) are the 12th and 13th.
        let fields: Vec<u64> = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|f| f.parse().ok())
            .collect::<Option<Vec<u64>>>()?;
        Some(fields.iter().sum::<u64>())
    });
    Duration::from_millis(ticks.unwrap_or(0) * 10)
}

/// Checks what the sink got against the recipients: exactly one message to each.
fn check(side: &str, sink: &Sink, expected: &[String]) -> Res<()> {
    let got = sink.stats.messages();
    if got != expected.len() as u64 {
        return Err(format!("{side}: the sink got {got} messages for {} recipients", expected.len()).into());
    }
    if sink.stats.recipients() != expected {
        return Err(format!("{side}: the sink's recipients are not one message per recipient").into());
    }
    let refused = sink.stats.refused.load(Ordering::Relaxed);
    if refused > 0 {
        return Err(format!("{side}: the sink refused {refused} commands").into());
    }
    Ok(())
}

/// Raw lettre: the pre-rendered messages through a pool of `connections`, that many in
/// flight, to a fresh sink.
async fn raw(messages: &[(Envelope, Vec<u8>)], connections: u32, expected: &[String]) -> Res<Sent> {
    let sink = Sink::start(quick_acks())?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port)
        .pool_config(PoolConfig::new().max_size(connections))
        .timeout(Some(Duration::from_secs(30)))
        .build();
    let cpu = cpu_used();
    let started = Instant::now();
    let failed = futures_util::stream::iter(messages)
        .map(|(envelope, bytes)| transport.send_raw(envelope, bytes))
        .buffer_unordered(connections as usize)
        .fold(0u64, |failed, sent| async move { failed + u64::from(sent.is_err()) })
        .await;
    let time = sink.stats.last() - started;
    let cpu = cpu_used().saturating_sub(cpu);
    transport.shutdown().await;
    if failed > 0 {
        return Err(format!("raw lettre: {failed} sends failed").into());
    }
    check("raw lettre", &sink, expected)?;
    Ok(Sent {
        time,
        messages: sink.stats.messages(),
        mean_size: sink.stats.mean_size(),
        cpu,
    })
}

/// Points the mail service at a fresh sink with `connections`.
fn configure(base: &support::Base, connections: u32) -> Res<Sink> {
    let sink = Sink::start(quick_acks())?;
    base.core.mail().configure(MailConfig {
        smtp_url: Some(format!("smtp://127.0.0.1:{}", sink.port)),
        secret: Some(SECRET.into()),
        base_url: BASE_URL.into(),
        connections,
        rate: None,
        ..Default::default()
    });
    Ok(sink)
}

/// Starts the send: the job, its targets frozen.
async fn start_job(base: &support::Base) -> Res<kartoteka_core::jobs::Job> {
    Ok(base
        .core
        .jobs()
        .start(
            &base.admin.actor(),
            ActionRequest {
                action: "email.send_email".into(),
                params: Some(json!({"subject": SUBJECT, "html": HTML})),
                dry_run: false,
                targets: Targets::Matching {
                    filter: json!({}),
                    q: None,
                },
            },
        )
        .await?)
}

/// What the delivery loop saw: each chunk's time and the most messages in one.
#[derive(Default)]
struct Chunks {
    times: Vec<Duration>,
    largest: usize,
}

/// Delivers until nothing is due once `done` (checked before each claim) says no more
/// will come.
async fn deliver(base: &support::Base, done: impl Fn() -> bool) -> Res<Chunks> {
    let mail = base.core.mail();
    let mut chunks = Chunks::default();
    loop {
        let finished = done();
        let began = Instant::now();
        let n = mail.deliver_once().await?;
        if n > 0 {
            chunks.times.push(began.elapsed());
            chunks.largest = chunks.largest.max(n);
            continue;
        }
        if finished {
            return Ok(chunks);
        }
        // The server's worker waits for the jobs' wake-up; a short pause does here.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Checks a sending job's end: done, and every outbox row of it `sent`.
async fn check_job(base: &support::Base, job: i64, expected: usize) -> Res<()> {
    let done = base.core.jobs().get_job(&base.admin.actor(), job).await?;
    if done.state != kartoteka_core::jobs::JobState::Done || done.failed > 0 {
        return Err(format!("the job did not end well: {done:?}").into());
    }
    let sent = count(
        &base.db,
        &format!("SELECT COUNT(*) FROM outbox WHERE job_id = {job} AND state = 'sent'"),
    )
    .await?;
    let all = count(&base.db, &format!("SELECT COUNT(*) FROM outbox WHERE job_id = {job}")).await?;
    if sent != expected as i64 || all != sent {
        return Err(format!("the job queued {all} messages and sent {sent} for {expected} recipients").into());
    }
    Ok(())
}

/// The pipeline, job and delivery at the same time: the result, when the job had queued
/// its last message (after the start), and the delivery's chunks.
async fn pipeline(base: &support::Base, connections: u32, expected: &[String]) -> Res<(Sent, Duration, Chunks)> {
    let sink = configure(base, connections)?;
    let cpu = cpu_used();
    let started = Instant::now();
    let job = start_job(base).await?;
    let worker = {
        let jobs = base.core.jobs().clone();
        let id = job.id;
        tokio::spawn(async move {
            let result = jobs.work_once(Some(id)).await;
            (result, started.elapsed())
        })
    };
    let chunks = deliver(base, || worker.is_finished()).await?;
    let (worked, queued) = worker.await?;
    worked?;
    let time = sink.stats.last() - started;
    let cpu = cpu_used().saturating_sub(cpu);
    check_job(base, job.id, expected.len()).await?;
    check("the pipeline", &sink, expected)?;
    Ok((
        Sent {
            time,
            messages: sink.stats.messages(),
            mean_size: sink.stats.mean_size(),
            cpu,
        },
        queued,
        chunks,
    ))
}

/// The two halves one after the other: the job to a full outbox (its time and CPU), then
/// the delivery.
async fn phases(
    base: &support::Base,
    connections: u32,
    expected: &[String],
) -> Res<((Duration, Duration), Sent, Chunks)> {
    let sink = configure(base, connections)?;
    let cpu = cpu_used();
    let started = Instant::now();
    let job = start_job(base).await?;
    base.core.jobs().work_once(Some(job.id)).await?;
    let queued = (started.elapsed(), cpu_used().saturating_sub(cpu));
    let cpu = cpu_used();
    let started = Instant::now();
    let chunks = deliver(base, || true).await?;
    let time = sink.stats.last() - started;
    let cpu = cpu_used().saturating_sub(cpu);
    check_job(base, job.id, expected.len()).await?;
    check("the delivery", &sink, expected)?;
    Ok((
        queued,
        Sent {
            time,
            messages: sink.stats.messages(),
            mean_size: sink.stats.mean_size(),
            cpu,
        },
        chunks,
    ))
}

/// Whether the sink acknowledges at once (not with `--delayed-acks`).
fn quick_acks() -> bool {
    !flag("--delayed-acks")
}

/// The numbers of connections to measure (`--connections 4,8`).
fn connections() -> Vec<u32> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--connections")
        .and_then(|i| args.get(i + 1))
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect::<Vec<u32>>()
        })
        .filter(|list| !list.is_empty())
        .unwrap_or_else(|| vec![4, 8])
}

async fn run(label: &'static str, url: String) -> Res<()> {
    let (people, _) = demo_size();
    let base = load_base(label, &url, Arc::new(SystemClock), people, 0).await?;
    base.print_heading(label);
    let contacts = count(&base.db, "SELECT COUNT(*) FROM contacts").await?;
    let recipients = recipients(&base.db).await?;
    let mut expected: Vec<String> = recipients.iter().map(|r| r.email.clone()).collect();
    expected.sort_unstable();
    let n = expected.len();
    println!(
        "Recipients: {n} of {contacts} contacts (the others have no address or are do-not-contact; the job skips them).\n"
    );
    let rendering = Instant::now();
    let messages = prerender(&recipients)?;
    eprintln!("{label}: {n} messages pre-rendered in {}", ms(rendering.elapsed()));

    println!(
        "| side | SMTP connections | messages at the sink | time | messages/s | of raw lettre | mean message | CPU of this process per message |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut details = Vec::new();
    let mut raw_rates = Vec::new();
    for &c in &connections() {
        let raw = raw(&messages, c, &expected)
            .await
            .map_err(|e| format!("{label}, raw lettre, {c} connections: {e}"))?;
        eprintln!("{label}: raw lettre, {c} connections: {}", ms(raw.time));
        println!(
            "| raw lettre, pre-rendered | {c} | {} | {} | {:.0} | | {} bytes | {:.0} µs |",
            raw.messages,
            ms(raw.time),
            raw.rate(),
            raw.mean_size,
            raw.cpu_per_message()
        );
        let (sent, queued, chunks) = pipeline(&base, c, &expected)
            .await
            .map_err(|e| format!("{label}, the pipeline, {c} connections: {e}"))?;
        eprintln!("{label}: the pipeline, {c} connections: {}", ms(sent.time));
        println!(
            "| Kartoteka: job, outbox, delivery | {c} | {} | {} | {:.0} | {:.0}% | {} bytes | {:.0} µs |",
            sent.messages,
            ms(sent.time),
            sent.rate(),
            sent.rate() * 100.0 / raw.rate(),
            sent.mean_size,
            sent.cpu_per_message()
        );
        raw_rates.push((c, raw.rate()));
        details.push((c, queued, chunks));
    }
    println!(
        "\nWithin the pipeline runs: when the job had queued its last message (from the start), and the delivery chunks of up to {} messages (claim, checks, build, handoff, record):\n",
        kartoteka_core::mail::CHUNK
    );
    println!(
        "| SMTP connections | job done at | chunks | median | p90 | p99 | max | mean | most messages in a chunk |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (c, queued, chunks) in details {
        println!(
            "| {c} | {} | {} | {} |",
            ms(queued),
            latency_cells(&chunks.times),
            chunks.largest
        );
    }

    if let Some(&(c, raw_rate)) = raw_rates.first() {
        let ((queued, job_cpu), delivered, chunks) = phases(&base, c, &expected)
            .await
            .map_err(|e| format!("{label}, the two halves, {c} connections: {e}"))?;
        println!("\nThe two halves one after the other ({c} SMTP connections):\n");
        println!("| phase | time | rate | of raw lettre | CPU of this process per message |");
        println!("|---|---:|---:|---:|---:|");
        println!(
            "| job to outbox: start, freeze, {contacts} targets in batches, {n} messages queued | {} | {:.0} messages/s | | {:.0} µs |",
            ms(queued),
            n as f64 / queued.as_secs_f64(),
            job_cpu.as_secs_f64() * 1e6 / n.max(1) as f64
        );
        println!(
            "| outbox to SMTP: `deliver_once` until nothing is due ({} chunks, at most {} messages in one) | {} | {:.0} messages/s | {:.0}% | {:.0} µs |",
            chunks.times.len(),
            chunks.largest,
            ms(delivered.time),
            delivered.rate(),
            delivered.rate() * 100.0 / raw_rate,
            delivered.cpu_per_message()
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    if flag("--trace") || std::env::var_os("RUST_LOG").is_some() {
        // Each job batch's parts (read, plugin run, commit) and each mail chunk on standard error.
        tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                    tracing_subscriber::EnvFilter::new("kartoteka_core::jobs=debug,kartoteka_core::mail=debug")
                }),
            )
            .with_writer(std::io::stderr)
            .init();
    }
    let contacts = arg("--contacts", 100_000);
    println!("## E-mail: a bulk send over {contacts} contacts against raw lettre\n");
    on_each_database("mail", flag("--keep"), run).await
}
