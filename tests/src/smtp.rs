//! A real SMTP server for the mail tests: `tests/smtp/sink.py` (Python, aiosmtpd) run as a
//! child process on `127.0.0.1`, recording every message it accepts, and told to fail on
//! cue: a 4xx after some messages, a connection dropped without an answer, a recipient
//! that doesn't exist.
//!
//! The Python is `KARTOTEKA_TEST_PYTHON` when set, else `python3`; it needs aiosmtpd
//! (`pip install aiosmtpd`). Without it a test is skipped, and under CI it fails.
//!
//! ```ignore
//! let Some(sink) = SmtpSink::start(SinkOptions::default()).await else { return };
//! // ... send mail to sink.url() ...
//! let received = sink.wait_for(3, Duration::from_secs(10)).await;
//! assert_eq!(received[0].header("subject").as_deref(), Some("Hello"));
//! ```

use std::io::{Read as _, Seek as _, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::skip;

/// The variable naming the Python that runs the sink (default `python3`).
pub const PYTHON_VAR: &str = "KARTOTEKA_TEST_PYTHON";

/// How long the sink may take to start listening (a cold Python on a busy machine).
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The failures a sink injects. Counts are over all connections together.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// `(n, code, k)`: once `n` messages are accepted, the next `k` MAIL commands are
    /// answered `code Try again later`; then messages are accepted again. A 421 also
    /// closes the connection.
    pub fail_after: Option<(usize, u16, usize)>,
    /// Once this many messages are accepted, the next one is read to its end and the
    /// connection dropped without an answer (that message is not recorded); once.
    pub drop_after: Option<usize>,
    /// Recipients answered `550 5.1.1 No such user` at RCPT TO (any case).
    pub permanent: Vec<String>,
    /// Acknowledge what arrives at once (`TCP_QUICKACK`, Linux): without it every message
    /// waits 40 ms on each connection (lettre's data and closing `.` in two writes, Nagle,
    /// and the kernel's delayed ACK), as it does against an ordinary server. For tests
    /// that send thousands.
    pub quick_acks: bool,
}

/// A message the sink accepted: its envelope, the message as sent (CRLF line ends, dot
/// stuffing undone) and when (Unix time, seconds).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub data: String,
    pub at: f64,
}

impl Received {
    /// The value of the first header called `name` (any case), unfolded and trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = split_message(&self.data);
        let mut found: Option<String> = None;
        for line in head.lines() {
            let continued = line.starts_with([' ', '\t']);
            match &mut found {
                Some(value) if continued => value.push_str(line),
                Some(_) => break,
                None if continued => {}
                None => {
                    if let Some((field, value)) = line.split_once(':')
                        && field.trim_end().eq_ignore_ascii_case(name)
                    {
                        found = Some(value.to_owned());
                    }
                }
            }
        }
        found.map(|value| value.trim().to_owned())
    }

    /// The body as sent: everything after the blank line that ends the header block
    /// (empty when there is none).
    pub fn body(&self) -> String {
        split_message(&self.data).1.to_owned()
    }
}

/// A message split at the blank line after its header block (CRLF or bare LF).
fn split_message(data: &str) -> (&str, &str) {
    let mut at = 0;
    for line in data.split_inclusive('\n') {
        if line == "\r\n" || line == "\n" {
            return (&data[..at], &data[at + line.len()..]);
        }
        at += line.len();
    }
    (data, "")
}

/// A running sink; the process is killed when this is dropped.
pub struct SmtpSink {
    child: Child,
    port: u16,
    out: PathBuf,
    log: PathBuf,
    /// For [`SmtpSink::count`]: the bytes of `out` counted so far, and their lines.
    counted: Mutex<(u64, usize)>,
    _dir: TempDir,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("port", &self.port)
            .field("out", &self.out)
            .finish()
    }
}

/// The Python that runs the sink.
pub fn python() -> String {
    std::env::var(PYTHON_VAR)
        .ok()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// The sink's script.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("smtp").join("sink.py")
}

/// Why `python` can't run the sink, if it can't.
async fn unavailable(python: &str) -> Option<String> {
    let checked = Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdin(Stdio::null())
        .output()
        .await;
    match checked {
        Ok(output) if output.status.success() => None,
        Ok(_) => Some(format!(
            "aiosmtpd is not installed for {python} (pip install aiosmtpd, or set {PYTHON_VAR} to a Python that has it)"
        )),
        Err(e) => Some(format!(
            "can't run {python} ({e}); set {PYTHON_VAR} to a Python with aiosmtpd"
        )),
    }
}

impl SmtpSink {
    /// Starts a sink on a free port and waits until it listens; `None` after saying the
    /// test is skipped when no Python with aiosmtpd is available (under CI, a failure).
    pub async fn start(options: SinkOptions) -> Option<SmtpSink> {
        let python = python();
        if let Some(reason) = unavailable(&python).await {
            skip(&reason);
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let out = dir.path().join("received.jsonl");
        let log = dir.path().join("sink.log");
        let stderr = std::fs::File::create(&log).expect("creating the sink's log");
        let mut command = Command::new(&python);
        command
            .arg(script())
            .args(["--port", "0", "--out"])
            .arg(&out)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .kill_on_drop(true);
        if let Some((after, code, count)) = options.fail_after {
            command
                .args(["--fail-after", &after.to_string()])
                .args(["--fail-code", &code.to_string()])
                .args(["--fail-count", &count.to_string()]);
        }
        if let Some(after) = options.drop_after {
            command.args(["--drop-after", &after.to_string()]);
        }
        for address in &options.permanent {
            command.args(["--permanent-rcpt", address]);
        }
        if options.quick_acks {
            command.arg("--quick-acks");
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {python} {}: {e}", script().display()));
        let stdout = child.stdout.take().expect("the sink's stdout");
        let mut first = String::new();
        let read = tokio::time::timeout(START_TIMEOUT, BufReader::new(stdout).read_line(&mut first)).await;
        let port = first
            .trim()
            .strip_prefix("listening ")
            .and_then(|port| port.parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.start_kill();
            let outcome = match read {
                Err(_) => format!("no `listening PORT` within {START_TIMEOUT:?}"),
                Ok(Err(e)) => format!("reading its stdout: {e}"),
                Ok(Ok(_)) => format!("its first line was {first:?}"),
            };
            panic!(
                "the SMTP sink didn't start: {outcome}; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        Some(SmtpSink {
            child,
            port,
            out,
            log,
            counted: Mutex::new((0, 0)),
            _dir: dir,
        })
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Every message accepted so far, in the order they were accepted.
    pub fn messages(&self) -> Vec<Received> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        // Only whole lines: the last one may be in the middle of being written.
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("a sink record that isn't one ({e}): {line}"))
            })
            .collect()
    }

    /// How many messages were accepted so far (as many as [`SmtpSink::messages`] has),
    /// reading only what was added since the last call: cheap enough to poll while
    /// thousands arrive.
    pub fn count(&self) -> usize {
        let mut counted = self.counted.lock().unwrap_or_else(PoisonError::into_inner);
        let mut added = Vec::new();
        if let Ok(mut file) = std::fs::File::open(&self.out) {
            file.seek(SeekFrom::Start(counted.0))
                .and_then(|_| file.read_to_end(&mut added))
                .expect("reading the sink's records");
        }
        // Only whole lines: the last one may be in the middle of being written.
        if let Some(end) = added.iter().rposition(|b| *b == b'\n') {
            let whole = added.get(..=end).unwrap_or_default();
            counted.1 += whole
                .split(|b| *b == b'\n')
                .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
                .count();
            counted.0 += end as u64 + 1;
        }
        counted.1
    }

    /// The messages once there are at least `n`; fails the test with what there is when
    /// `timeout` passes first.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n {
                return messages;
            }
            if Instant::now() >= deadline {
                panic!(
                    "the SMTP sink got {} message(s) of the {n} awaited within {timeout:?}: {messages:#?}\nits log:\n{}",
                    messages.len(),
                    std::fs::read_to_string(&self.log).unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
