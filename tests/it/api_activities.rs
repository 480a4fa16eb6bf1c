//! `/api/v1/activities`: one or a batch (all or nothing), listed newest first.

use kartoteka_tests::*;

async fn history(app: &TestApp, token: &str, contact_id: i64) -> Vec<Value> {
    let (status, by_query) = app
        .get(token, &format!("/api/v1/activities?contact_id={contact_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{by_query}");
    let (status, by_contact) = app
        .get(token, &format!("/api/v1/contacts/{contact_id}/activities"))
        .await;
    assert_eq!(status, StatusCode::OK, "{by_contact}");
    assert_eq!(by_query, by_contact, "both lists say the same");
    by_query["items"].as_array().unwrap().clone()
}

both!(single_and_batch: single_and_batch_sqlite, single_and_batch_postgres);
async fn single_and_batch(app: TestApp) {
    let (_, token) = app.admin().await;
    let contact = app.person(&token, "Customer").await;
    let other = app.person(&token, "Other").await;
    let contact_id = id(&contact);

    let (status, one) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!({"contact_id": contact_id, "kind": "page_visit", "occurred_at": "2026-11-20T10:00:00.500+01:00",
                    "properties": {"path": "/pricing", "referrer": null, "depth": 3}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{one}");
    let items = one["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["contact_id"], contact_id);
    assert_eq!(items[0]["kind"], "page_visit");
    assert_eq!(
        items[0]["occurred_at"], "2026-11-20T09:00:00Z",
        "stored in UTC, whole seconds"
    );
    assert_eq!(
        items[0]["properties"],
        json!({"path": "/pricing", "referrer": null, "depth": 3})
    );
    assert!(items[0]["amount"].is_null());

    let (status, batch) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!([
                {"contact_id": contact_id, "kind": "purchase", "occurred_at": "2026-11-22T12:00:00Z", "amount": 249.99},
                {"contact_id": contact_id, "kind": "call", "occurred_at": "2026-11-21T08:30:00Z"},
                {"contact_id": id(&other), "kind": "email_sent", "occurred_at": "2026-11-21T08:30:00Z"},
                {"contact_id": contact_id, "kind": "note", "properties": {"text": "called back"}}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{batch}");
    let recorded = batch["items"].as_array().unwrap();
    assert_eq!(recorded.len(), 4);
    assert_eq!(recorded[0]["amount"], 249.99);
    let recorded_ids: Vec<i64> = ids(recorded);
    assert!(recorded_ids.windows(2).all(|w| w[0] < w[1]), "recorded in order");
    // Without `occurred_at` an activity happened now.
    let note_at: DateTime<Utc> = serde_json::from_value(recorded[3]["occurred_at"].clone()).unwrap();
    let age = chrono::Duration::seconds(120);
    let now = chrono::DateTime::parse_from_rfc2822(
        &app.send(reqwest::Method::GET, None, "/healthz", None)
            .await
            .header("date")
            .expect("a Date header"),
    )
    .unwrap()
    .with_timezone(&Utc);
    assert!((now - note_at).abs() < age, "{note_at} is now ({now})");

    // Newest first.
    let listed = history(&app, &token, contact_id).await;
    let kinds: Vec<&str> = listed.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["note", "purchase", "call", "page_visit"]);
    let others = history(&app, &token, id(&other)).await;
    assert_eq!(others.len(), 1);
    assert_eq!(others[0]["kind"], "email_sent");

    // Every known kind is accepted.
    let all_kinds = [
        "page_visit",
        "link_click",
        "purchase",
        "email_sent",
        "email_open",
        "email_click",
        "sms",
        "call",
        "meeting",
        "support_request",
        "note",
    ];
    let every: Vec<Value> = all_kinds
        .iter()
        .map(|k| json!({"contact_id": id(&other), "kind": k}))
        .collect();
    let (status, body) = app.post_json(&token, "/api/v1/activities", &json!(every)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(history(&app, &token, id(&other)).await.len(), 12);
}

both!(a_bad_batch_stores_nothing: a_bad_batch_stores_nothing_sqlite, a_bad_batch_stores_nothing_postgres);
async fn a_bad_batch_stores_nothing(app: TestApp) {
    let (_, token) = app.admin().await;
    let contact = app.person(&token, "Customer").await;
    let c = id(&contact);

    assert_invalid(
        &app.post_json(
            &token,
            "/api/v1/activities",
            &json!([{"contact_id": c, "kind": "call"}, {"contact_id": c, "kind": "dance"}]),
        )
        .await,
        "[1].kind",
    );
    assert_invalid(
        &app.post_json(
            &token,
            "/api/v1/activities",
            &json!([{"contact_id": c, "kind": "call"}, {"contact_id": c, "kind": "sms"}, {"contact_id": 999999, "kind": "sms"}]),
        )
        .await,
        "[2].contact_id",
    );
    assert_invalid(
        &app.post_json(
            &token,
            "/api/v1/activities",
            &json!([{"contact_id": c, "kind": "purchase", "amount": 1e14}, {"contact_id": c, "kind": "call"}]),
        )
        .await,
        "[0].amount",
    );
    assert_invalid(
        &app.post_json(
            &token,
            "/api/v1/activities",
            &json!([{"contact_id": c, "kind": "call"}, {"contact_id": c, "kind": "note", "properties": {"text": "a\u{0}b"}}]),
        )
        .await,
        "[1].properties",
    );
    // Alone, an item's errors have no index.
    assert_invalid(
        &app.post_json(&token, "/api/v1/activities", &json!({"contact_id": c, "kind": "dance"}))
            .await,
        "kind",
    );
    assert_invalid(
        &app.post_json(
            &token,
            "/api/v1/activities",
            &json!({"contact_id": 999999, "kind": "call"}),
        )
        .await,
        "contact_id",
    );
    assert_invalid(&app.post_json(&token, "/api/v1/activities", &json!([])).await, "");
    assert!(
        history(&app, &token, c).await.is_empty(),
        "nothing of a refused batch is stored"
    );

    assert_invalid(&app.get(&token, "/api/v1/activities").await, "contact_id");
    assert_invalid(
        &app.get(&token, "/api/v1/activities?contact_id=abc").await,
        "contact_id",
    );
    assert_error(
        &app.get(&token, "/api/v1/activities?contact_id=999999").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&token, "/api/v1/contacts/999999/activities").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

// A batch item with a missing or mistyped property is reported at its index, like a bad
// kind is, and nothing of the batch is stored.
both!(
    a_malformed_batch_item_names_its_index: a_malformed_batch_item_names_its_index_sqlite, a_malformed_batch_item_names_its_index_postgres
);
async fn a_malformed_batch_item_names_its_index(app: TestApp) {
    let (_, token) = app.admin().await;
    let c = id(&app.person(&token, "Customer").await);
    assert_invalid(
        &app.post_json(
            &token,
            "/api/v1/activities",
            &json!([{"contact_id": c, "kind": "call"}, {"contact_id": c, "kind": 5}]),
        )
        .await,
        "[1].kind",
    );
}

both!(activities_follow_visibility: activities_follow_visibility_sqlite, activities_follow_visibility_postgres);
async fn activities_follow_visibility(app: TestApp) {
    let (_, admin) = app.admin().await;
    let (_, agent) = app.agent().await;
    let hidden = app.person(&admin, "Admin's Own").await;
    let own = app.person(&agent, "Agent's Own").await;
    let (status, body) = app
        .post_json(
            &admin,
            "/api/v1/activities",
            &json!({"contact_id": id(&hidden), "kind": "call"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // An agent can't record on, or read the history of, a contact it doesn't see.
    assert_invalid(
        &app.post_json(
            &agent,
            "/api/v1/activities",
            &json!({"contact_id": id(&hidden), "kind": "note"}),
        )
        .await,
        "contact_id",
    );
    assert_invalid(
        &app.post_json(
            &agent,
            "/api/v1/activities",
            &json!([{"contact_id": id(&own), "kind": "note"}, {"contact_id": id(&hidden), "kind": "note"}]),
        )
        .await,
        "[1].contact_id",
    );
    assert_error(
        &app.get(&agent, &format!("/api/v1/activities?contact_id={}", id(&hidden)))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&agent, &format!("/api/v1/contacts/{}/activities", id(&hidden)))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert!(
        history(&app, &agent, id(&own)).await.is_empty(),
        "the refused batch stored nothing"
    );
    assert_eq!(history(&app, &admin, id(&hidden)).await.len(), 1);
}
