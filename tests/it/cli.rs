//! The `kartoteka` command, run as a real process: `serve` in an empty directory creates
//! the database and says how to create the first admin; `user add` creates one, who can
//! then sign in.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use kartoteka_tests::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The `kartoteka` binary next to this test's build (`target/<profile>/kartoteka`): built
/// once per test process when it is missing or older than this test executable, which
/// links the same server code, so the command tested is the code tested.
pub(crate) fn kartoteka_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test executable");
        let deps = exe.parent().expect("the test executable's directory");
        let profile_dir = if deps.ends_with("deps") {
            deps.parent().expect("the profile directory")
        } else {
            deps
        };
        let binary = profile_dir.join(format!("kartoteka{}", std::env::consts::EXE_SUFFIX));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let stale = match (modified(&binary), modified(&exe)) {
            (Some(bin), Some(test)) => bin < test,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if stale {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = std::process::Command::new(cargo);
            // The whole workspace's binaries, so that dependencies are built with the same
            // features as the test run and are reused: `-p kartoteka-web` alone would
            // resolve features differently and recompile most of the tree.
            build.current_dir(workspace).args(["build", "--workspace", "--bins"]);
            if profile_dir.ends_with("release") {
                build.arg("--release");
            }
            let built = build.status().is_ok_and(|status| status.success());
            // A binary that exists but couldn't be rebuilt (sources changing under the
            // build) still tests the command; a missing one can't.
            assert!(built || binary.exists(), "cargo build --workspace --bins failed");
            if !built {
                eprintln!("warning: using {} as it was; rebuilding it failed", binary.display());
            }
        }
        assert!(binary.exists(), "no binary at {}", binary.display());
        binary
    })
}

/// `kartoteka ARGS` in `dir`, with none of the server's variables from our environment.
pub(crate) fn kartoteka(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(kartoteka_binary());
    command
        .args(args)
        .current_dir(dir)
        .env_remove("KARTOTEKA_DATABASE_URL")
        .env_remove("KARTOTEKA_BASE_URL")
        .env_remove("KARTOTEKA_SECRET")
        .env("KARTOTEKA_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A running `kartoteka serve` and what it printed up to the point it is ready.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) address: String,
    printed: Vec<String>,
    /// What it logged (standard error) so far.
    log: Arc<Mutex<Vec<String>>>,
}

/// Starts `kartoteka serve` in `dir` and reads its output until it has said where it runs
/// (and, on a new base, how to create the first admin).
async fn serve(dir: &Path) -> Server {
    start_server(kartoteka(dir, &["serve"])).await
}

/// Starts `command` (a `kartoteka serve`), as [`serve`] does.
pub(crate) async fn start_server(mut command: Command) -> Server {
    let mut child = command.spawn().expect("starting kartoteka serve");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let logged = log.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("kartoteka: {line}");
            logged.lock().unwrap().push(line);
        }
    });
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let mut address = None;
    let until_address = async {
        while address.is_none() {
            let line = lines
                .next_line()
                .await
                .expect("reading the server's output")
                .expect("kartoteka serve ended before saying where it runs");
            if let Some(rest) = line.strip_prefix("Kartoteka is running at ") {
                address = Some(rest.trim().trim_end_matches('/').to_owned());
            }
            printed.push(line);
        }
    };
    tokio::time::timeout(Duration::from_secs(60), until_address)
        .await
        .expect("kartoteka serve says where it runs within 60 s");
    // What follows at once: on a new base, how to create the first admin.
    while let Ok(Ok(Some(line))) = tokio::time::timeout(Duration::from_secs(1), lines.next_line()).await {
        let last = line.contains("cargo run");
        printed.push(line);
        if last {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let address = address.expect("the address");
    Server {
        child,
        address,
        printed,
        log,
    }
}

/// Runs `kartoteka ARGS` to the end with `stdin`; returns success, stdout and stderr.
async fn run(dir: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    run_command(kartoteka(dir, args), stdin).await
}

/// Runs `command` (a `kartoteka ...`) to the end with `stdin`, as [`run`] does.
pub(crate) async fn run_command(mut command: Command, stdin: &str) -> (bool, String, String) {
    command.stdin(Stdio::piped());
    let mut child = command.spawn().expect("starting kartoteka");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("kartoteka finishes within 60 s")
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_then_add_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path()).await;
    assert!(
        dir.path().join("kartoteka.db").exists(),
        "serve creates kartoteka.db in the current directory"
    );
    assert!(server.address.starts_with("http://127.0.0.1:"), "{}", server.address);
    let all = server.printed.join("\n");
    assert!(all.contains("No users yet"), "{all}");
    assert!(
        all.contains("kartoteka user add --email you@example.com --role admin"),
        "it says how to create the first admin: {all}"
    );

    let http = client_builder().build().unwrap();
    let health = http.get(format!("{}/healthz", server.address)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // The first admin, with the password on standard input, while the server runs.
    let (ok, stdout, stderr) = run(
        dir.path(),
        &[
            "user",
            "add",
            "--email",
            "Boss@Example.com",
            "--role",
            "admin",
            "--password-stdin",
            "--name",
            "Boss",
        ],
        "first admin password\n",
    )
    .await;
    assert!(ok, "user add failed: {stdout} {stderr}");
    assert!(
        stdout.contains("Created boss@example.com (admin) with id 1."),
        "{stdout}"
    );

    // Refusals: the same email again, a short password, no password, a bad role.
    for (args, stdin) in [
        (
            vec![
                "user",
                "add",
                "--email",
                "boss@example.com",
                "--role",
                "agent",
                "--password-stdin",
            ],
            "another password\n",
        ),
        (
            vec![
                "user",
                "add",
                "--email",
                "short@example.com",
                "--role",
                "agent",
                "--password-stdin",
            ],
            "short\n",
        ),
        (
            vec![
                "user",
                "add",
                "--email",
                "empty@example.com",
                "--role",
                "agent",
                "--password-stdin",
            ],
            "",
        ),
        (
            vec![
                "user",
                "add",
                "--email",
                "root@example.com",
                "--role",
                "root",
                "--password-stdin",
            ],
            "long enough password\n",
        ),
    ] {
        let (ok, stdout, stderr) = run(dir.path(), &args, stdin).await;
        assert!(!ok, "{args:?} should fail: {stdout} {stderr}");
    }
    let (ok, listed, _) = run(dir.path(), &["user", "list"], "").await;
    assert!(ok);
    assert_eq!(listed.trim(), "1\tadmin\tboss@example.com\tactive");

    // The new admin signs in: a token from the API, and a session from the sign-in page.
    let token = http
        .post(format!("{}/api/v1/auth/token", server.address))
        .json(&json!({"email": "boss@example.com", "password": "first admin password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK);
    let token: Value = token.json().await.unwrap();
    let token = token["token"].as_str().unwrap();
    let contacts = http
        .get(format!("{}/api/v1/contacts", server.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(contacts.status(), StatusCode::OK);
    let browser = client_builder().cookie_store(true).build().unwrap();
    let login = browser
        .get(format!("{}/login", server.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_input(&login, "csrf_token").unwrap();
    let signed_in = browser
        .post(format!("{}/login", server.address))
        .form(&[
            ("email", "boss@example.com"),
            ("password", "first admin password"),
            ("csrf_token", &csrf),
            ("next", "/contacts"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let page = browser
        .get(format!("{}/contacts", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("boss@example.com (admin)"));

    // Restarted on the same base, the server no longer asks for a first admin.
    server.child.kill().await.unwrap();
    let again = serve(dir.path()).await;
    let all = again.printed.join("\n");
    assert!(!all.contains("No users yet"), "{all}");
    let health = http.get(format!("{}/healthz", again.address)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// `text` without ANSI colour sequences.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// The README says every request is logged with its `x-request-id`: at the default level
// (no `RUST_LOG`), each answered request gives a line with its id, method, path, status
// and latency.
#[tokio::test]
async fn requests_are_logged_at_the_default_level() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = kartoteka(dir.path(), &["serve"]);
    command.env_remove("RUST_LOG");
    let server = start_server(command).await;
    let http = client_builder().build().unwrap();
    let health = http
        .get(format!("{}/healthz", server.address))
        .header("x-request-id", "health-check-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let missing = http
        .get(format!("{}/api/v1/no-such-thing", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let generated = missing.headers()["x-request-id"].to_str().unwrap().to_owned();

    let line_with = |id: &str| {
        server
            .log
            .lock()
            .unwrap()
            .iter()
            .map(|l| plain(l))
            .find(|l| l.contains(id))
    };
    for _ in 0..50 {
        if line_with(&generated).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let health_line = line_with("health-check-4711").expect("a log line for the health check");
    for part in ["INFO", "GET", "/healthz", "status=200", "latency="] {
        assert!(health_line.contains(part), "{part} in {health_line}");
    }
    let missing_line = line_with(&generated).expect("a log line with the generated request id");
    for part in ["/api/v1/no-such-thing", "status=404"] {
        assert!(missing_line.contains(part), "{part} in {missing_line}");
    }
}
