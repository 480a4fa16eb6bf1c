//! `kartoteka plugin new`, followed as a new author would: the scaffold of each kind
//! passes its own tests and builds; the operator's component is uploaded, approved,
//! enabled, tried and used in a filter through the real server, and the criterion and
//! the action install with what they ask for.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kartoteka_tests::{StatusCode, TestApp, Value, both, json, urlencode};

use crate::cli::kartoteka_binary;
use crate::plugins::{cargo_in, plugins_dir, upload};

/// The scaffolds of every kind, tested and built once per test process: the operator's,
/// the criterion's and the action's components.
fn scaffolds() -> &'static Result<[Vec<u8>; 3], String> {
    static BUILT: OnceLock<Result<[Vec<u8>; 3], String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let parent = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut components = Vec::new();
        for kind in ["operator", "criterion", "action"] {
            let name = format!("acme-{kind}");
            components.push(scaffold(parent.path(), &name, kind)?);
        }
        components.try_into().map_err(|_| "three components".to_owned())
    })
}

/// `kartoteka plugin new NAME --kind KIND`, then `cargo test`, `cargo clippy`, `cargo fmt
/// --check` and the release build in the new folder; the component's bytes.
fn scaffold(parent: &Path, name: &str, kind: &str) -> Result<Vec<u8>, String> {
    let run = |command: &mut std::process::Command, what: &str| -> Result<String, String> {
        let output = command.output().map_err(|e| format!("{what}: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() {
            Ok(text)
        } else {
            Err(format!("{what} failed:\n{text}"))
        }
    };
    let dir = parent.to_string_lossy().into_owned();
    let created = run(
        std::process::Command::new(kartoteka_binary()).args(["plugin", "new", name, "--kind", kind, "--dir", &dir]),
        "kartoteka plugin new",
    )?;
    let folder: PathBuf = parent.join(name);
    if !created.contains(&folder.display().to_string()) {
        return Err(format!("`plugin new` doesn't say where the crate is:\n{created}"));
    }
    for file in [
        "Cargo.toml",
        "rust-toolchain.toml",
        "Cargo.lock",
        "README.md",
        "src/lib.rs",
    ] {
        if !folder.join(file).is_file() {
            return Err(format!("the scaffold has no {file}"));
        }
    }
    let tested = run(cargo_in(&folder).args(["test"]), "cargo test")?;
    if !tested.contains("test result: ok") || tested.contains(" 0 passed") {
        return Err(format!("the scaffold's tests didn't run:\n{tested}"));
    }
    run(
        cargo_in(&folder).args(["clippy", "--all-targets", "--", "-D", "warnings"]),
        "cargo clippy",
    )?;
    run(cargo_in(&folder).args(["fmt", "--check"]), "cargo fmt --check")?;
    run(
        cargo_in(&folder).args(["build", "--target", "wasm32-wasip2", "--release"]),
        "cargo build",
    )?;
    let wasm = plugins_dir().join(format!("target/wasm32-wasip2/release/{}.wasm", name.replace('-', "_")));
    std::fs::read(&wasm).map_err(|e| format!("reading {}: {e}", wasm.display()))
}

async fn components() -> [Vec<u8>; 3] {
    match tokio::task::spawn_blocking(|| scaffolds().clone()).await.unwrap() {
        Ok(components) => components,
        Err(e) => panic!("{e}"),
    }
}

both!(a_scaffold_builds_uploads_and_filters: a_scaffold_builds_uploads_and_filters_sqlite, a_scaffold_builds_uploads_and_filters_postgres);
async fn a_scaffold_builds_uploads_and_filters(app: TestApp) {
    let [operator, criterion, action] = components().await;
    let (_, admin) = app.admin().await;

    // The operator: upload, approve (it asks for nothing), enable, try, filter.
    let (status, body) = upload(&app, &admin, operator, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["plugin"]["name"], "acme-operator", "{body}");
    assert_eq!(body["plugin"]["offers"][0]["name"], "more_words_than", "{body}");
    let (status, body) = app
        .post_json(&admin, "/api/v1/plugins/acme-operator/enable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, tried) = app
        .post_json(
            &admin,
            "/api/v1/plugins/acme-operator/try",
            &json!({
                "op": "more_words_than",
                "field": {"path": "name", "kind": "text"},
                "value": 1,
                "values": ["Ada", "Ada Lovelace", null],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    assert_eq!(tried["residuals"][0]["matches"], json!([false, true, false]), "{tried}");
    let (status, refused) = app
        .post_json(
            &admin,
            "/api/v1/plugins/acme-operator/try",
            &json!({"op": "more_words_than", "field": {"path": "name", "kind": "text"}, "value": "two"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"]["path"], "value", "{refused}");

    for name in ["Ada", "Ada Lovelace", "Grace Brewster Hopper"] {
        app.person(&admin, name).await;
    }
    let filter = json!({"field": "name", "op": "acme-operator.more_words_than", "value": 1});
    let path = format!("/api/v1/contacts?filter={}", urlencode(&filter.to_string()));
    let mut names = app.item_names(&admin, &path).await;
    names.sort_unstable();
    assert_eq!(names, ["Ada Lovelace", "Grace Brewster Hopper"]);

    // The criterion and the action install as their kinds, the action asking for tasks.
    let (status, body) = upload(&app, &admin, criterion, Some("segment-criterion")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["plugin"]["offers"][0]["name"], "points_when_set", "{body}");
    let (status, body) = upload(&app, &admin, action, Some("bulk-action")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let plugin: &Value = &body["plugin"];
    assert_eq!(plugin["offers"][0]["name"], "follow_up", "{body}");
    assert_eq!(plugin["capabilities"], json!(["create_task"]), "{body}");

    // Tried: the criterion scores sample values; the action runs on contacts read in one
    // query, and every id that isn't a contact is named at once.
    let (status, tried) = app
        .post_json(
            &admin,
            "/api/v1/plugins/acme-criterion/try",
            &json!({"op": "points_when_set", "field": {"path": "email", "kind": "email"},
                    "value": {"points": 10}, "values": ["a@b.c", null]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    assert_eq!(tried["scores"], json!([10.0, 0.0]), "{tried}");
    let (_, ada) = app
        .get(&admin, &format!("/api/v1/contacts?q={}", urlencode("Ada Lovelace")))
        .await;
    let ada = ada["items"][0]["id"].as_i64().unwrap();
    let action = |ids: Value| json!({"op": "follow_up", "value": {"title": "Call"}, "contact_ids": ids});
    let (status, tried) = app
        .post_json(&admin, "/api/v1/plugins/acme-action/try", &action(json!([ada])))
        .await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    assert_eq!(tried["effects"][0]["contact_id"], ada, "{tried}");
    assert_eq!(tried["effects"][0]["title"], "Call Ada Lovelace", "{tried}");
    let (status, refused) = app
        .post_json(
            &admin,
            "/api/v1/plugins/acme-action/try",
            &action(json!([ada, 999_999_001, 999_999_002])),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        kartoteka_tests::error_paths(&refused),
        ["contact_ids[1]", "contact_ids[2]"],
        "{refused}"
    );
}
