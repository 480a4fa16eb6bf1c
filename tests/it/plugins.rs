//! Plugins through the real server: the built-in catalogue, uploading, approving,
//! enabling and trying the example plugin, refusing components that aren't plugins, and
//! every hostile plugin failing its own call within its deadline while the server keeps
//! answering other requests. Components are the real ones built from `plugins/`.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use kartoteka_core::{Core, SystemClock};
use kartoteka_tests::{StatusCode, TestApp, Value, both, client_builder, json, urlencode};
use reqwest::Method;

/// The plugins' workspace.
pub(crate) fn plugins_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins")
}

/// Builds every component of `plugins/` once per test process (a no-op when they are up
/// to date), with an environment cleaned of the outer cargo's variables.
fn build_plugins() -> Result<(), String> {
    let mut command = cargo_in(&plugins_dir());
    command.args(["build", "--target", "wasm32-wasip2", "--release", "--workspace"]);
    let output = command.output().map_err(|e| format!("running cargo: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// `cargo` in `dir`, with an environment cleaned of the outer cargo's variables and the
/// plugins' target directory (so what the plugins' build compiled is reused).
pub(crate) fn cargo_in(dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new("cargo");
    command.current_dir(dir);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let keep = [
            "CARGO_HOME",
            "CARGO_NET_",
            "CARGO_HTTP_",
            "CARGO_REGISTRIES_",
            "CARGO_REGISTRY_",
        ]
        .iter()
        .any(|k| name.starts_with(k));
        if !keep && (name.starts_with("CARGO") || (name.starts_with("RUST") && name != "RUSTUP_HOME")) {
            command.env_remove(name);
        }
    }
    command.env("CARGO_TARGET_DIR", plugins_dir().join("target"));
    command
}

/// The component `target/wasm32-wasip2/release/<name>.wasm`.
async fn component(name: &str) -> Vec<u8> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = tokio::task::spawn_blocking(|| BUILT.get_or_init(build_plugins).clone())
        .await
        .unwrap();
    if let Err(e) = built {
        panic!("building the plugins failed:\n{e}");
    }
    let path = plugins_dir().join(format!("target/wasm32-wasip2/release/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Uploads `bytes` as a plugin (`?kind=` when given).
pub(crate) async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>, kind: Option<&str>) -> (StatusCode, Value) {
    let path = match kind {
        Some(k) => format!("/api/v1/plugins?kind={k}"),
        None => "/api/v1/plugins".to_owned(),
    };
    let reply = client_builder()
        .build()
        .unwrap()
        .post(app.url(&path))
        .bearer_auth(token)
        .header("content-type", "application/wasm")
        .body(bytes)
        // Compiling a large component (a JavaScript one carries its engine) takes tens of
        // seconds alone and more beside the crash tests' servers on a 2-core machine.
        .timeout(std::time::Duration::from_secs(300))
        .send()
        .await
        .unwrap();
    let status = reply.status();
    (status, reply.json().await.unwrap_or(Value::Null))
}

/// Installs, approves and enables the example plugin (`example.longer_than`).
pub(crate) async fn enable_example(app: &TestApp, token: &str) {
    install(app, token, "kartoteka_example_longer_than").await;
    app.post_json(token, "/api/v1/plugins/example/approve", &json!({}))
        .await;
    let (status, body) = app.post_json(token, "/api/v1/plugins/example/enable", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Uploads the component `file` and returns the plugin as answered.
pub(crate) async fn install(app: &TestApp, token: &str, file: &str) -> Value {
    let (status, body) = upload(app, token, component(file).await, None).await;
    assert_eq!(status, StatusCode::CREATED, "uploading {file}: {body}");
    assert_eq!(body["installed"], "new", "{body}");
    body["plugin"].clone()
}

fn operator_names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| o["name"].as_str().expect("a name").to_owned())
        .collect()
}

fn try_body(op: &str, value: Value, call: &str) -> Value {
    json!({
        "op": op,
        "field": {"path": "name", "kind": "text"},
        "value": value,
        "values": ["ab", "abcdef", null],
        "call": call,
    })
}

both!(builtin_operators_are_listed_from_the_start: builtin_operators_are_listed_from_the_start_sqlite, builtin_operators_are_listed_from_the_start_postgres);
async fn builtin_operators_are_listed_from_the_start(app: TestApp) {
    let (_, agent) = app.agent().await;
    let (status, body) = app.get(&agent, "/api/v1/operators").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names = operator_names(&body);
    for op in [
        "std.eq",
        "std.ne",
        "std.between",
        "std.contains",
        "std.starts_with",
        "std.in_list",
        "time.within_last",
        "behaviour.happened",
        "geo.within_distance",
        "membership.is",
        "membership.in_segment",
    ] {
        assert!(names.contains(&op.to_owned()), "{op} missing from {names:?}");
    }
    let eq = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "std.eq")
        .unwrap();
    assert_eq!(eq["plugin"], "std");
    assert_eq!(eq["op"], "eq");
    assert!(eq["label"].as_str().is_some_and(|l| !l.is_empty()), "{eq}");
    assert!(
        eq["applies_to"].as_array().is_some_and(|k| k.contains(&json!("text"))),
        "{eq}"
    );
    assert!(eq["args_schema"].is_object(), "{eq}");

    let (_, admin) = app.admin().await;
    let (status, plugins) = app.get(&admin, "/api/v1/plugins").await;
    assert_eq!(status, StatusCode::OK, "{plugins}");
    let builtins: Vec<&str> = plugins["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["builtin"] == true)
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        builtins,
        [
            "access",
            "behaviour",
            "email",
            "geo",
            "membership",
            "scoring",
            "std",
            "tasks",
            "time"
        ],
        "{plugins}"
    );
    let std = plugins["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "std")
        .unwrap();
    assert_eq!(std["name"], "std", "{plugins}");
    assert_eq!(std["builtin"], true);
    assert_eq!(std["enabled"], true);
    assert_eq!(std["kind"], "filter-operator");
    assert!(
        std["log"].as_array().is_some_and(|l| !l.is_empty()),
        "install logged: {std}"
    );

    // The built-in lowers through the same path as any plugin.
    let (status, tried) = app
        .post_json(
            &admin,
            "/api/v1/plugins/std/try",
            &json!({"op": "eq", "field": {"path": "city", "kind": "text"}, "value": "Kraków"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    assert!(tried["predicate"].is_object(), "{tried}");

    // Built-ins can be disabled but not removed.
    let (status, body) = app.delete(&admin, "/api/v1/plugins/std").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

both!(the_example_plugin_is_uploaded_approved_enabled_and_listed: the_example_plugin_is_uploaded_approved_enabled_and_listed_sqlite, the_example_plugin_is_uploaded_approved_enabled_and_listed_postgres);
async fn the_example_plugin_is_uploaded_approved_enabled_and_listed(app: TestApp) {
    let (_, admin) = app.admin().await;
    let (_, agent) = app.agent().await;
    let plugin = install(&app, &admin, "kartoteka_example_longer_than").await;
    assert_eq!(plugin["name"], "example", "{plugin}");
    assert_eq!(plugin["kind"], "filter-operator");
    assert_eq!(plugin["enabled"], false, "a new plugin starts disabled");
    assert_eq!(plugin["builtin"], false);
    assert_eq!(plugin["offers"][0]["name"], "longer_than", "{plugin}");

    // Disabled: not in the catalogue, but an admin can try it.
    let (_, ops) = app.get(&agent, "/api/v1/operators").await;
    assert!(!operator_names(&ops).contains(&"example.longer_than".to_owned()));
    let (status, tried) = app
        .post_json(
            &admin,
            "/api/v1/plugins/example/try",
            &try_body("longer_than", json!(3), "lower"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    let residual = &tried["residuals"][0];
    assert_eq!(residual["op"], "longer_than", "{tried}");
    assert_eq!(residual["matches"], json!([false, true, false]), "{tried}");
    assert!(tried["predicate"].to_string().contains("residual"), "{tried}");

    // A value the operator refuses is the caller's error, at `value`.
    let (status, refused) = app
        .post_json(
            &admin,
            "/api/v1/plugins/example/try",
            &try_body("longer_than", json!("three"), "lower"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("value")),
        "{refused}"
    );

    // Only admins manage plugins.
    let (status, _) = app.get(&agent, "/api/v1/plugins").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post_json(&agent, "/api/v1/plugins/example/enable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = upload(&app, &agent, component("kartoteka_example_longer_than").await, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, approved) = app
        .post_json(&admin, "/api/v1/plugins/example/approve", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["approved"], true);
    let (status, enabled) = app
        .post_json(&admin, "/api/v1/plugins/example/enable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["enabled"], true);

    let (_, ops) = app.get(&agent, "/api/v1/operators").await;
    let longer = ops["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "example.longer_than")
        .unwrap_or_else(|| panic!("example.longer_than missing: {ops}"));
    assert_eq!(longer["plugin"], "example");
    assert_eq!(longer["op"], "longer_than");
    assert!(longer["args_schema"].is_object(), "{longer}");

    // A third-party operator works in filters like a built-in: lowered by its plugin,
    // its residual decided in batches by its `matches`.
    for name in ["Al", "Łucja Wójcik", "Bogdan"] {
        app.person(&admin, name).await;
    }
    let filter = json!({"and": [
        {"field": "name", "op": "example.longer_than", "value": 3},
        {"not": {"field": "name", "op": "starts_with", "value": "b"}},
    ]});
    let path = format!("/api/v1/contacts?filter={}", urlencode(&filter.to_string()));
    let (status, body) = app.get(&agent, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.get(&admin, &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["Łucja Wójcik"], "{body}");

    // Ignoring case but not accents: a folded suffix in SQL, the exact test in the plugin.
    for (name, email) in [
        ("Ada", "Ada@GMAIL.com"),
        ("Accent", "accent@gmaíl.com"),
        ("Other", "x@gmail.co"),
    ] {
        app.create_contact(&admin, &json!({"type": "client", "name": name, "email": email}))
            .await;
    }
    let ignoring_case = json!({"field": "email", "op": "example.ends_with_ignoring_case", "value": "@gmail.com"});
    let ignoring_case = format!("/api/v1/contacts?filter={}", urlencode(&ignoring_case.to_string()));
    assert_eq!(app.item_names(&admin, &ignoring_case).await, ["Ada"]);

    // The same version again is not an upgrade.
    let (status, body) = upload(&app, &admin, component("kartoteka_example_longer_than").await, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Disable: gone from the catalogue at once; remove: gone.
    let (status, _) = app
        .post_json(&admin, "/api/v1/plugins/example/disable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, ops) = app.get(&agent, "/api/v1/operators").await;
    assert!(!operator_names(&ops).contains(&"example.longer_than".to_owned()));
    let (status, body) = app.get(&admin, &path).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a disabled plugin's operator is refused: {body}"
    );
    assert_eq!(body["error"]["path"], "and[0].op", "{body}");
    let (status, _) = app.delete(&admin, "/api/v1/plugins/example").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&admin, "/api/v1/plugins/example").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

both!(capabilities_need_approval_before_enable: capabilities_need_approval_before_enable_sqlite, capabilities_need_approval_before_enable_postgres);
async fn capabilities_need_approval_before_enable(app: TestApp) {
    let (_, admin) = app.admin().await;
    let (_, agent) = app.agent().await;
    let plugin = install(&app, &admin, "kartoteka_example_welcome_email").await;
    assert_eq!(plugin["name"], "welcome", "{plugin}");
    assert_eq!(plugin["kind"], "bulk-action", "{plugin}");
    assert_eq!(plugin["offers"][0]["name"], "send_welcome", "{plugin}");
    assert_eq!(plugin["offers"][0]["label"], "Send a welcome email", "{plugin}");

    // Listed: disabled, not approved, asking for `send_email`, none of it approved.
    let welcome = |plugins: &Value| {
        plugins["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|p| p["name"] == "welcome")
            .unwrap_or_else(|| panic!("welcome missing: {plugins}"))
            .clone()
    };
    let (status, plugins) = app.get(&admin, "/api/v1/plugins").await;
    assert_eq!(status, StatusCode::OK, "{plugins}");
    let listed = welcome(&plugins);
    assert_eq!(listed["enabled"], false, "{listed}");
    assert_eq!(listed["approved"], false, "{listed}");
    assert_eq!(listed["capabilities"], json!(["send_email"]), "{listed}");
    assert_eq!(listed["approved_capabilities"], json!([]), "{listed}");

    // Enabling before approval is refused, naming the capability.
    let (status, refused) = app
        .post_json(&admin, "/api/v1/plugins/welcome/enable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["error"]["code"], "conflict", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("send_email"),
        "the capability isn't named in `{message}`"
    );
    let (_, plugin) = app.get(&admin, "/api/v1/plugins/welcome").await;
    assert_eq!(plugin["enabled"], false, "a refused enable changes nothing: {plugin}");

    // Only admins approve.
    let (status, body) = app
        .post_json(&agent, "/api/v1/plugins/welcome/approve", &json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, plugin) = app.get(&admin, "/api/v1/plugins/welcome").await;
    assert_eq!(plugin["approved"], false, "{plugin}");

    let (status, approved) = app
        .post_json(&admin, "/api/v1/plugins/welcome/approve", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["approved"], true, "{approved}");
    assert_eq!(approved["approved_capabilities"], json!(["send_email"]), "{approved}");
    assert_eq!(approved["enabled"], false, "approving doesn't enable: {approved}");

    let (status, enabled) = app
        .post_json(&admin, "/api/v1/plugins/welcome/enable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(enabled["enabled"], true, "{enabled}");

    let (status, plugins) = app.get(&admin, "/api/v1/plugins").await;
    assert_eq!(status, StatusCode::OK, "{plugins}");
    let listed = welcome(&plugins);
    assert_eq!(listed["enabled"], true, "{listed}");
    assert_eq!(listed["approved"], true, "{listed}");
    assert!(
        listed["log"].to_string().contains("capabilities approved"),
        "the approval is logged: {listed}"
    );
}

both!(uploads_that_are_not_plugins_are_refused_with_the_reason: uploads_that_are_not_plugins_are_refused_with_the_reason_sqlite, uploads_that_are_not_plugins_are_refused_with_the_reason_postgres);
async fn uploads_that_are_not_plugins_are_refused_with_the_reason(app: TestApp) {
    let (_, admin) = app.admin().await;
    let refused = |reply: (StatusCode, Value), reason: &str| {
        assert_eq!(
            reply.0,
            StatusCode::BAD_REQUEST,
            "expected a 400 for {reason}: {}",
            reply.1
        );
        assert_eq!(reply.1["error"]["code"], "invalid", "{}", reply.1);
        let message = reply.1["error"]["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(reason), "`{reason}` not in `{message}`");
    };
    refused(
        upload(&app, &admin, component("hostile_unknown_import").await, None).await,
        "kartoteka:evil/net",
    );
    refused(
        upload(
            &app,
            &admin,
            component("hostile_wrong_world").await,
            Some("filter-operator"),
        )
        .await,
        "segment-criterion",
    );
    // A valid component that implements no plugin world (the empty component).
    refused(
        upload(&app, &admin, b"\0asm\x0d\x00\x01\x00".to_vec(), None).await,
        "none of the plugin worlds",
    );
    refused(
        upload(&app, &admin, b"\0asm\x01\x00\x00\x00".to_vec(), None).await,
        "not a component",
    );
    refused(
        upload(&app, &admin, b"MZ not wasm".to_vec(), None).await,
        "not a WebAssembly component",
    );
    refused(upload(&app, &admin, Vec::new(), None).await, "empty");
    let wrong_type = app
        .send(
            Method::POST,
            Some(&admin),
            "/api/v1/plugins",
            Some(&json!({"wasm": "no"})),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST, "{}", wrong_type.text);

    // Nothing of the refused uploads was installed.
    let (_, plugins) = app.get(&admin, "/api/v1/plugins").await;
    let names: Vec<&str> = plugins["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "access",
            "behaviour",
            "email",
            "geo",
            "membership",
            "scoring",
            "std",
            "tasks",
            "time"
        ],
        "{plugins}"
    );

    // Without an expected kind, the criterion is a plugin of its own kind: installed, but
    // never in the operator catalogue.
    let criterion = install(&app, &admin, "hostile_wrong_world").await;
    assert_eq!(criterion["kind"], "segment-criterion", "{criterion}");
    let name = criterion["name"].as_str().unwrap();
    app.post_json(&admin, &format!("/api/v1/plugins/{name}/enable"), &json!({}))
        .await;
    let (status, body) = app
        .post_json(
            &admin,
            &format!("/api/v1/plugins/{name}/try"),
            &try_body("flat", json!(1), "lower"),
        )
        .await;
    // Tried, it is scored as the criterion it is, on the sample values.
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scores"], json!([10.0, 10.0, 10.0]), "{body}");
    assert_eq!(body["predicate"], Value::Null, "{body}");
    let (_, ops) = app.get(&admin, "/api/v1/operators").await;
    assert!(operator_names(&ops).iter().all(|n| !n.starts_with(name)), "{ops}");
}

/// One hostile call and what its error must say.
struct Hostile {
    file: &'static str,
    op: &'static str,
    value: Value,
    call: &'static str,
    reason: &'static str,
}

fn hostile(file: &'static str, op: &'static str, value: Value, call: &'static str, reason: &'static str) -> Hostile {
    Hostile {
        file,
        op,
        value,
        call,
        reason,
    }
}

/// Runs each hostile call through `/try` while probing `/healthz` and `/api/v1/contacts`
/// every 50 ms; each hostile call must fail on its own (502, the plugin named, the reason
/// given) within `limit`, and every probe must answer quickly.
async fn run_hostile(app: &TestApp, cases: Vec<Hostile>, limit: Duration) {
    let (_, admin) = app.admin().await;
    let (_, agent) = app.agent().await;
    app.person(&agent, "Ada Lovelace").await;
    let mut names = std::collections::HashMap::new();
    for case in &cases {
        if !names.contains_key(case.file) {
            let plugin = install(app, &admin, case.file).await;
            names.insert(case.file, plugin["name"].as_str().unwrap().to_owned());
        }
    }
    for case in cases {
        let name = names[case.file].clone();
        let client = client_builder().build().unwrap();
        let url = app.url(&format!("/api/v1/plugins/{name}/try"));
        let body = try_body(case.op, case.value.clone(), case.call);
        let token = admin.clone();
        let started = Instant::now();
        let call = tokio::spawn(async move {
            let reply = client.post(url).bearer_auth(token).json(&body).send().await.unwrap();
            let status = reply.status();
            (
                status,
                reply.json::<Value>().await.unwrap_or(Value::Null),
                started.elapsed(),
            )
        });
        let mut probes = Vec::new();
        while !call.is_finished() {
            let probe = Instant::now();
            let (health, contacts) = tokio::join!(
                app.send(Method::GET, None, "/healthz", None),
                app.get(&agent, "/api/v1/contacts")
            );
            assert_eq!(health.status, StatusCode::OK, "healthz during {name}.{}", case.op);
            assert_eq!(contacts.0, StatusCode::OK, "contacts during {name}.{}", case.op);
            assert_eq!(contacts.1["items"].as_array().map(Vec::len), Some(1));
            probes.push(probe.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (status, body, elapsed) = call.await.unwrap();
        let what = format!("{name}.{} ({})", case.op, case.call);
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{what}: {body}");
        assert_eq!(body["error"]["code"], "plugin", "{what}: {body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("`{name}`")),
            "{what}: the plugin isn't named in `{message}`"
        );
        assert!(
            message.contains(case.reason),
            "{what}: `{}` not in `{message}`",
            case.reason
        );
        assert!(elapsed < limit, "{what} took {elapsed:?}, over {limit:?}");
        let slowest = probes.iter().max().copied().unwrap_or_default();
        assert!(
            slowest < Duration::from_millis(1500),
            "{what}: the server answered other requests slowly ({slowest:?}) during the call"
        );
        if elapsed > Duration::from_millis(900) {
            assert!(
                probes.len() >= 3,
                "{what}: only {} probes answered during a call of {elapsed:?}: {probes:?}",
                probes.len()
            );
        }
    }
    // Afterwards the server, and well-behaved plugins, still work.
    let (status, _) = app.get(&agent, "/api/v1/contacts").await;
    assert_eq!(status, StatusCode::OK);
    let (status, tried) = app
        .post_json(
            &admin,
            "/api/v1/plugins/std/try",
            &json!({"op": "contains", "field": {"path": "name", "kind": "text"}, "value": "ada"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tried}");
}

both!(runaway_plugins_are_stopped_at_their_deadline: runaway_plugins_are_stopped_at_their_deadline_sqlite, runaway_plugins_are_stopped_at_their_deadline_postgres);
async fn runaway_plugins_are_stopped_at_their_deadline(app: TestApp) {
    run_hostile(
        &app,
        vec![
            hostile("hostile_loop", "spin", json!(1), "lower", "deadline of 1000 ms"),
            hostile("hostile_loop", "spin", json!(1), "matches", "deadline of 2000 ms"),
        ],
        // The deadline, plus slack for a loaded two-core machine running a debug build.
        Duration::from_millis(4500),
    )
    .await;
    // The runaway's failures are in its log.
    let (_, admin) = app.admin().await;
    let (_, plugin) = app.get(&admin, "/api/v1/plugins/hostile-loop").await;
    let log = plugin["log"].to_string();
    assert!(log.contains("deadline"), "{plugin}");
}

both!(crashing_plugins_fail_their_own_call: crashing_plugins_fail_their_own_call_sqlite, crashing_plugins_fail_their_own_call_postgres);
async fn crashing_plugins_fail_their_own_call(app: TestApp) {
    run_hostile(
        &app,
        vec![
            hostile("hostile_memory_bomb", "hoard", json!(1), "lower", "out of memory"),
            hostile("hostile_memory_bomb", "hoard", json!(1), "matches", "out of memory"),
            hostile("hostile_recursion", "deeper", json!(1), "lower", "stack"),
            hostile(
                "hostile_recursion",
                "deeper_native",
                json!(1),
                "lower",
                "overflowed its stack",
            ),
            hostile("hostile_recursion", "deeper", json!(1), "matches", "stack"),
            hostile("hostile_panic", "explode", json!(1), "lower", "panicked"),
            hostile("hostile_panic", "explode", json!(1), "matches", "panicked"),
            hostile("hostile_trap", "unreachable", json!(1), "lower", "unreachable"),
            hostile("hostile_trap", "unreachable", json!(1), "matches", "unreachable"),
        ],
        Duration::from_millis(3000),
    )
    .await;
    // What the panicking plugin printed, and the failure, are in its log.
    let (_, admin) = app.admin().await;
    let (_, plugin) = app.get(&admin, "/api/v1/plugins/hostile-panic").await;
    let log = plugin["log"].as_array().unwrap();
    assert!(
        log.iter()
            .any(|l| l["stream"] == "stderr" && l["line"].as_str().unwrap().contains("on purpose")),
        "{plugin}"
    );
    assert!(
        log.iter()
            .any(|l| l["stream"] == "host" && l["line"].as_str().unwrap().contains("panicked")),
        "{plugin}"
    );
}

both!(oversized_and_malformed_answers_are_refused: oversized_and_malformed_answers_are_refused_sqlite, oversized_and_malformed_answers_are_refused_postgres);
async fn oversized_and_malformed_answers_are_refused(app: TestApp) {
    run_hostile(
        &app,
        vec![
            hostile("hostile_oversized", "many_nodes", json!(2000), "lower", "at most 1024"),
            hostile(
                "hostile_oversized",
                "many_nodes",
                json!(200_000),
                "lower",
                "more than 8 MiB",
            ),
            hostile(
                "hostile_oversized",
                "many_nodes",
                json!(10_000_000),
                "lower",
                "out of memory",
            ),
            hostile(
                "hostile_oversized",
                "huge_string",
                json!(100_000),
                "lower",
                "at most 65536",
            ),
            hostile(
                "hostile_oversized",
                "huge_string",
                json!(10_000_000),
                "lower",
                "more than 8 MiB",
            ),
            hostile(
                "hostile_oversized",
                "many_nodes",
                json!(10),
                "matches",
                "10 results for a batch of 3",
            ),
            hostile(
                "hostile_oversized",
                "many_nodes",
                json!(10_000_000),
                "matches",
                "more than 8 MiB",
            ),
            hostile(
                "hostile_malformed_ir",
                "bad_index",
                json!(1),
                "lower",
                "not an earlier node",
            ),
            hostile(
                "hostile_malformed_ir",
                "self_reference",
                json!(1),
                "lower",
                "refers to itself",
            ),
            hostile(
                "hostile_malformed_ir",
                "forward_reference",
                json!(1),
                "lower",
                "not an earlier node",
            ),
            hostile(
                "hostile_malformed_ir",
                "cycle",
                json!(1),
                "lower",
                "not an earlier node",
            ),
            hostile("hostile_malformed_ir", "empty", json!(1), "lower", "no nodes"),
            hostile(
                "hostile_malformed_ir",
                "bad_residual_args",
                json!(1),
                "lower",
                "refers to itself",
            ),
            hostile(
                "hostile_malformed_ir",
                "unknown_residual",
                json!(1),
                "lower",
                "not one of its operators",
            ),
            hostile(
                "hostile_malformed_ir",
                "bad_index",
                json!(1),
                "matches",
                "for a batch of 3",
            ),
        ],
        Duration::from_millis(3000),
    )
    .await;
}

both!(plugin_changes_reach_every_instance_without_a_restart: plugin_changes_reach_every_instance_without_a_restart_sqlite, plugin_changes_reach_every_instance_without_a_restart_postgres);
async fn plugin_changes_reach_every_instance_without_a_restart(app: TestApp) {
    // A second server on the same database, as a second process would be.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let other = Core::new(app.core().db().clone(), Arc::new(SystemClock));
    let config = kartoteka_web::Config {
        database_url: String::new(),
        bind: addr,
        base_url: None,
        secret: None,
        job_lease_seconds: None,
        mail_lease_seconds: None,
        smtp_url: None,
        mail_from: None,
        mail_rate: None,
    };
    let _running = kartoteka_web::serve(listener, other, config).unwrap();
    let other_url = |path: &str| format!("http://{addr}{path}");
    let http = client_builder().build().unwrap();
    let (_, admin) = app.admin().await;
    let other_operators = || async {
        let reply = http
            .get(other_url("/api/v1/operators"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        operator_names(&reply.json::<Value>().await.unwrap())
    };
    assert!(other_operators().await.contains(&"std.eq".to_owned()));

    enable_example(&app, &admin).await;
    assert!(other_operators().await.contains(&"example.longer_than".to_owned()));

    // The other instance runs the component it never saw uploaded (from the database).
    let tried = http
        .post(other_url("/api/v1/plugins/example/try"))
        .bearer_auth(&admin)
        .json(&try_body("longer_than", json!(3), "lower"))
        .send()
        .await
        .unwrap();
    assert_eq!(tried.status(), StatusCode::OK);
    let tried: Value = tried.json().await.unwrap();
    assert_eq!(tried["residuals"][0]["matches"], json!([false, true, false]), "{tried}");

    // Disabled on the other instance: gone here too.
    let disabled = http
        .post(other_url("/api/v1/plugins/example/disable"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), StatusCode::OK);
    let (_, ops) = app.get(&admin, "/api/v1/operators").await;
    assert!(
        !operator_names(&ops).contains(&"example.longer_than".to_owned()),
        "{ops}"
    );
}

both!(the_plugins_page_lists_uploads_and_manages: the_plugins_page_lists_uploads_and_manages_sqlite, the_plugins_page_lists_uploads_and_manages_postgres);
async fn the_plugins_page_lists_uploads_and_manages(app: TestApp) {
    let (admin, _) = app.admin().await;
    let (client, csrf) = app.signed_in_client(&admin.email, kartoteka_tests::PASSWORD).await;
    let page = app.page(&client, "/plugins").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("data-name=\"std\""), "{}", page.text);
    assert!(page.text.contains(">eq</code>"), "the operators are shown");
    assert!(page.text.contains("multipart/form-data"));

    // Upload through the form (multipart, with the session's CSRF token).
    let wasm = component("kartoteka_example_longer_than").await;
    let boundary = "kartoteka-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nfilter-operator\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"wasm\"; filename=\"example.wasm\"\r\nContent-Type: application/wasm\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&wasm);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let uploaded = client
        .post(app.url("/plugins"))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .await
        .unwrap();
    // The upload answers with a redirect to the list, which says what happened.
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        uploaded.headers().get("location").and_then(|l| l.to_str().ok()),
        Some("/plugins")
    );
    let html = app.page(&client, "/plugins").await.text;
    assert!(html.contains("Installed example"), "{html}");
    assert!(html.contains("data-name=\"example\""));

    let enabled = app
        .submit(&client, "/plugins/example/enable", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER, "{}", enabled.text);
    assert_eq!(enabled.location().as_deref(), Some("/plugins"));
    let enabled = app.page(&client, "/plugins").await;
    assert!(enabled.text.contains("Enabled example"), "{}", enabled.text);
    assert!(app.core().plugins().get("example").await.unwrap().enabled);

    // A post without the CSRF token changes nothing.
    let forged = app.submit(&client, "/plugins/example/disable", &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(app.core().plugins().get("example").await.unwrap().enabled);

    // Agents don't see the page.
    let (agent, _) = app.agent().await;
    let (agent_client, _) = app.signed_in_client(&agent.email, kartoteka_tests::PASSWORD).await;
    let page = app.page(&agent_client, "/plugins").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_openapi_document_describes_the_plugin_api() {
    let Some(app) = TestApp::start(kartoteka_tests::Backend::Sqlite).await else {
        return;
    };
    let reply = app.send(Method::GET, None, "/api/v1/openapi.json", None).await;
    let doc = reply.json();
    for path in ["/api/v1/plugins", "/api/v1/plugins/{name}/try", "/api/v1/operators"] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
}

both!(an_admin_grants_a_plugin_more_at_approval: an_admin_grants_a_plugin_more_at_approval_sqlite, an_admin_grants_a_plugin_more_at_approval_postgres);
async fn an_admin_grants_a_plugin_more_at_approval(app: TestApp) {
    let (admin_user, admin) = app.admin().await;
    let bomb = install(&app, &admin, "hostile_memory_bomb").await;
    assert_eq!(
        bomb["limits"],
        json!({"memory_mb": 64, "time_ms": 2000, "granted": false}),
        "{bomb}"
    );
    let spin = install(&app, &admin, "hostile_loop").await;
    let fail = |name: &str, op: &str| {
        let (app, admin, path) = (&app, &admin, format!("/api/v1/plugins/{name}/try"));
        let body = try_body(op, json!(1), "matches");
        async move {
            let started = Instant::now();
            let (status, body) = app.post_json(admin, &path, &body).await;
            assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
            (
                body["error"]["message"].as_str().unwrap_or_default().to_owned(),
                started.elapsed(),
            )
        }
    };

    // The defaults first, then what was granted.
    let (message, _) = fail("hostile-memory-bomb", "hoard").await;
    assert!(message.contains("the limit is 64 MiB"), "{message}");
    let (status, granted) = app
        .post_json(
            &admin,
            "/api/v1/plugins/hostile-memory-bomb/approve",
            &json!({"memory_mb": 128}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(
        granted["limits"],
        json!({"memory_mb": 128, "time_ms": 2000, "granted": true}),
        "{granted}"
    );
    let (message, _) = fail("hostile-memory-bomb", "hoard").await;
    assert!(message.contains("the limit is 128 MiB"), "{message}");

    let (status, body) = app
        .post_json(
            &admin,
            "/api/v1/plugins/hostile-loop/approve",
            &json!({"time_ms": 3000}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (message, elapsed) = fail("hostile-loop", "spin").await;
    assert!(message.contains("deadline of 3000 ms"), "{message}");
    assert!(elapsed >= Duration::from_millis(3000), "stopped after {elapsed:?}");
    assert_eq!(spin["name"], "hostile-loop");

    // The plugins page shows each plugin's limits.
    let (client, csrf) = app.signed_in_client(&admin_user.email, kartoteka_tests::PASSWORD).await;
    let page = app.page(&client, "/plugins").await.text;
    let row = page
        .split("<tr data-name=\"hostile-memory-bomb\">")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_default();
    assert!(row.contains("128 MiB, 2000 ms"), "{row}");
    assert!(row.contains("(granted)"), "{row}");

    // The page's form grants too, and says what is wrong with what was typed.
    let form = |memory: &'static str| {
        let (app, client, csrf) = (&app, &client, csrf.clone());
        async move {
            let fields = [
                ("csrf_token", csrf.as_str()),
                ("memory_mb", memory),
                ("time_ms", "2000"),
            ];
            app.submit(client, "/plugins/hostile-memory-bomb/approve", &fields)
                .await
        }
    };
    let done = form("96").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let (_, plugin) = app.get(&admin, "/api/v1/plugins/hostile-memory-bomb").await;
    assert_eq!(plugin["limits"]["memory_mb"], 96, "{plugin}");
    let refused = form("lots").await;
    assert!(
        refused.text.contains("memory_mb") && refused.text.contains("expected a whole number"),
        "{}",
        refused.text
    );
    let (_, plugin) = app.get(&admin, "/api/v1/plugins/hostile-memory-bomb").await;
    assert_eq!(plugin["limits"]["memory_mb"], 96, "{plugin}");
    let (status, _) = app
        .post_json(
            &admin,
            "/api/v1/plugins/hostile-memory-bomb/approve",
            &json!({"memory_mb": 128}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Out of range: every problem at once, nothing changed; the defaults take it back.
    let (status, refused) = app
        .post_json(
            &admin,
            "/api/v1/plugins/hostile-memory-bomb/approve",
            &json!({"memory_mb": 4096, "time_ms": 5}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        kartoteka_tests::error_paths(&refused),
        ["memory_mb", "time_ms"],
        "{refused}"
    );
    let (_, plugin) = app.get(&admin, "/api/v1/plugins/hostile-memory-bomb").await;
    assert_eq!(plugin["limits"]["memory_mb"], 128, "{plugin}");
    let (status, back) = app
        .post_json(
            &admin,
            "/api/v1/plugins/hostile-memory-bomb/approve",
            &json!({"memory_mb": 64, "time_ms": 2000}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["limits"]["granted"], false, "{back}");
}
