//! Bulk changes leave the planner's statistics fresh: `kartoteka demo` run beside a running
//! server, on the server's database, leaves the demo's fields indexed and the loaded tables
//! analysed, with no restart of the server; a segment rebuild that moves many memberships
//! analyses the membership tables.

use std::process::Stdio;
use std::time::Duration;

use kartoteka_tests::*;
use sea_orm::{ConnectionTrait, Statement};

use crate::cli::kartoteka_binary;

/// Names of the rows `sql` answers (its first column, text).
async fn names(app: &TestApp, sql: &str) -> Vec<String> {
    let db = app.core().db();
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a text column"))
        .collect()
}

both!(a_demo_loaded_by_another_process_is_indexed_and_analysed: a_demo_loaded_by_another_process_is_indexed_and_analysed_sqlite, a_demo_loaded_by_another_process_is_indexed_and_analysed_postgres);
async fn a_demo_loaded_by_another_process_is_indexed_and_analysed(app: TestApp) {
    let (_, token) = app.admin().await;
    let output = tokio::process::Command::new(kartoteka_binary())
        .args(["demo", "--people", "60", "--companies", "6", "--activities", "2"])
        .env("KARTOTEKA_DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("kartoteka demo finishes within 120 s")
        .expect("running kartoteka demo");
    assert!(
        output.status.success(),
        "kartoteka demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The server, never restarted, lists the fields the other process defined...
    let (status, fields) = app.get(&token, "/api/v1/fields").await;
    assert_eq!(status, StatusCode::OK, "{fields}");
    let comparable: Vec<String> = fields["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|f| !matches!(f["kind"].as_str(), Some("multiselect" | "geo" | "long_text")))
        .map(|f| f["key"].as_str().expect("a key").to_owned())
        .collect();
    assert!(comparable.len() >= 3, "the demo defines comparable fields: {fields}");
    // ...and each comparable one has its expression index in the shared database.
    let indexes = names(
        &app,
        match app.backend {
            Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'contacts_f_%'",
            Backend::Postgres => "SELECT indexname::text FROM pg_indexes WHERE indexname LIKE 'contacts_f_%'",
        },
    )
    .await;
    for key in &comparable {
        let name = kartoteka_core::filter::indexes::index_name(key);
        assert!(indexes.contains(&name), "no index {name} for field {key}: {indexes:?}");
    }

    // The planner has statistics of the loaded tables.
    let analysed = analysed(&app).await;
    for table in ["contacts", "activities"] {
        assert!(
            analysed.iter().any(|t| t == table),
            "no statistics of {table}: {analysed:?}"
        );
    }
}

/// The tables the planner has statistics of.
async fn analysed(app: &TestApp) -> Vec<String> {
    // SQLite makes `sqlite_stat1` with the first ANALYZE.
    if app.backend == Backend::Sqlite
        && names(app, "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
            .await
            .is_empty()
    {
        return Vec::new();
    }
    names(
        app,
        match app.backend {
            Backend::Sqlite => "SELECT DISTINCT tbl FROM sqlite_stat1",
            Backend::Postgres => "SELECT DISTINCT tablename::text FROM pg_stats WHERE schemaname = current_schema()",
        },
    )
    .await
}

both!(a_large_rebuild_refreshes_the_membership_statistics: a_large_rebuild_refreshes_the_membership_statistics_sqlite, a_large_rebuild_refreshes_the_membership_statistics_postgres);
async fn a_large_rebuild_refreshes_the_membership_statistics(app: TestApp) {
    let (_, token) = app.admin().await;
    // "Large" scaled down to the test: a rebuild moving 20 memberships or more.
    app.core().segments().segment_state().set_statistics_after(20);
    for i in 0..24 {
        app.person(&token, &format!("Client {i}")).await;
    }
    let create = |name: &str, type_key: &str| {
        serde_json::json!({"name": name, "kind": "dynamic",
                           "filter": {"field": "type", "op": "is", "value": type_key}})
    };
    // A small rebuild (no lead here) leaves the statistics alone...
    let (status, body) = app
        .post_json(&token, "/api/v1/segments", &create("Leads", "lead"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["count"], 0, "{body}");
    let before = analysed(&app).await;
    assert!(!before.iter().any(|t| t == "segment_members"), "{before:?}");
    // ...a large one refreshes them.
    let (status, body) = app
        .post_json(&token, "/api/v1/segments", &create("Clients", "client"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["count"], 24, "{body}");
    let after = analysed(&app).await;
    for table in ["segment_members", "segment_events"] {
        assert!(after.iter().any(|t| t == table), "no statistics of {table}: {after:?}");
    }
    let counted = || async {
        kartoteka_core::filter::indexes::analysed_rows(app.core().db(), "segment_members")
            .await
            .unwrap()
    };
    assert_eq!(counted().await, Some(24));

    // Once counted, a rebuild must also move a tenth of what was counted: 2 of 24 don't...
    app.core().segments().segment_state().set_statistics_after(1);
    let named = |name: &str, names: Value| {
        serde_json::json!({"name": name, "kind": "dynamic",
                           "filter": {"field": "name", "op": "in_list", "value": names}})
    };
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &named("Two", json!(["Client 0", "Client 1"])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["count"], 2, "{body}");
    assert_eq!(
        counted().await,
        Some(24),
        "two memberships of 24 counted refresh nothing"
    );
    // ...and 3 do.
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &named("Three", json!(["Client 2", "Client 3", "Client 4"])),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["count"], 3, "{body}");
    assert_eq!(counted().await, Some(29));
}
