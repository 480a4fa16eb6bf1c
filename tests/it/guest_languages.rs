//! Plugins written in other languages than Rust, through the real server: the Python
//! filter operator (`plugins/examples/python-regex`, componentize-py) and the JavaScript
//! bulk action (`plugins/examples/js-welcome`, componentize-js), built by
//! `plugins/examples/build-guests.sh`, uploaded, approved with the limits they need,
//! enabled, tried and used.

use std::sync::OnceLock;

use kartoteka_tests::{StatusCode, TestApp, both, json, urlencode};

use crate::plugins::{plugins_dir, upload};

/// The Python and the JavaScript component, or why they couldn't be built.
type Built = Result<(Vec<u8>, Vec<u8>), String>;

/// The two components, built once per test process.
fn guests() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let script = plugins_dir().join("examples/build-guests.sh");
        let output = std::process::Command::new("bash")
            .arg(&script)
            .output()
            .map_err(|e| format!("running {}: {e}", script.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} failed:\n{}{}",
                script.display(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let read = |name: &str| {
            let path = plugins_dir().join("target/guest").join(name);
            std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))
        };
        Ok((read("regex.wasm")?, read("js_welcome.wasm")?))
    })
}

/// The components, or `None` when they can't be built here (a failure under CI).
async fn components() -> Option<(Vec<u8>, Vec<u8>)> {
    match tokio::task::spawn_blocking(|| guests().clone()).await.unwrap() {
        Ok(components) => Some(components),
        Err(e) if std::env::var_os("CI").is_some_and(|v| v == "true") => panic!("{e}"),
        Err(e) => {
            eprintln!("skipped: the guest-language plugins can't be built here:\n{e}");
            None
        }
    }
}

both!(a_python_operator_filters: a_python_operator_filters_sqlite, a_python_operator_filters_postgres);
async fn a_python_operator_filters(app: TestApp) {
    let Some((python, _)) = components().await else { return };
    let (_, admin) = app.admin().await;
    let (status, body) = upload(&app, &admin, python, Some("filter-operator")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["plugin"]["name"], "regex", "{body}");
    let (status, body) = app.post_json(&admin, "/api/v1/plugins/regex/enable", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, tried) = app
        .post_json(
            &admin,
            "/api/v1/plugins/regex/try",
            &json!({
                "op": "matches_pattern",
                "field": {"path": "email", "kind": "email"},
                "value": r"^[a-z]+@example\.(com|org)$",
                "values": ["ada@example.com", "Ada@example.com", "grace@example.net", null],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    assert_eq!(
        tried["residuals"][0]["matches"],
        json!([true, false, false, false]),
        "{tried}"
    );
    let (status, refused) = app
        .post_json(
            &admin,
            "/api/v1/plugins/regex/try",
            &json!({"op": "matches_pattern", "field": {"path": "email", "kind": "email"}, "value": "(unclosed"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"]["path"], "value", "{refused}");

    for (name, email) in [
        ("Ada", "ada@example.com"),
        ("Grace", "grace@example.net"),
        ("Alan", "alan@example.org"),
    ] {
        app.create_contact(&admin, &json!({"type": "client", "name": name, "email": email}))
            .await;
    }
    let filter = json!({"field": "email", "op": "regex.matches_pattern", "value": r"@example\.(com|org)$"});
    let path = format!("/api/v1/contacts?filter={}", urlencode(&filter.to_string()));
    let mut names = app.item_names(&admin, &path).await;
    names.sort_unstable();
    assert_eq!(names, ["Ada", "Alan"]);
}

both!(a_javascript_action_runs_on_contacts: a_javascript_action_runs_on_contacts_sqlite, a_javascript_action_runs_on_contacts_postgres);
async fn a_javascript_action_runs_on_contacts(app: TestApp) {
    let Some((_, javascript)) = components().await else {
        return;
    };
    let (_, admin) = app.admin().await;
    let (status, body) = upload(&app, &admin, javascript, Some("bulk-action")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["plugin"]["name"], "js-welcome", "{body}");
    assert_eq!(body["plugin"]["capabilities"], json!(["create_task"]), "{body}");
    assert_eq!(body["plugin"]["offers"][0]["name"], "welcome_task", "{body}");
    let (status, body) = app
        .post_json(&admin, "/api/v1/plugins/js-welcome/enable", &json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "enabled before its capability was approved: {body}"
    );
    let (status, body) = app
        .post_json(&admin, "/api/v1/plugins/js-welcome/approve", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post_json(&admin, "/api/v1/plugins/js-welcome/enable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A dry run of one batch: the effects, none applied.
    let ada = app.person(&admin, "Ada Lovelace").await;
    let grace = app.person(&admin, "Grace Hopper").await;
    let ids = [ada["id"].as_i64().unwrap(), grace["id"].as_i64().unwrap()];
    let (status, tried) = app
        .post_json(
            &admin,
            "/api/v1/plugins/js-welcome/try",
            &json!({"op": "welcome_task", "value": {"title": "Welcome"}, "contact_ids": ids}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    let effects = tried["effects"].as_array().unwrap();
    assert_eq!(effects.len(), 2, "{tried}");
    for (effect, (id, name)) in effects.iter().zip([(ids[0], "Ada Lovelace"), (ids[1], "Grace Hopper")]) {
        assert_eq!(effect["contact_id"], id, "{tried}");
        assert_eq!(effect["kind"], "create_task", "{tried}");
        assert_eq!(effect["title"], format!("Welcome {name}"), "{tried}");
    }

    // Parameters it refuses: a 400 at the path the script names.
    let (status, refused) = app
        .post_json(
            &admin,
            "/api/v1/plugins/js-welcome/try",
            &json!({"op": "welcome_task", "value": {"title": ""}, "contact_ids": ids}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"]["path"], "params.title", "{refused}");
}
