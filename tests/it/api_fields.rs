//! `/api/v1/fields`: extra fields of every kind, validated on every write; changing a
//! field's kind converts the stored values with a report, refuses (409) when some can't be
//! converted, or drops them on request, leaving the old value in the contact's history.

use kartoteka_tests::*;

async fn define(app: &TestApp, token: &str, field: Value) -> Value {
    let (status, body) = app.post_json(token, "/api/v1/fields", &field).await;
    assert_eq!(status, StatusCode::CREATED, "POST /fields {field}: {body}");
    body
}

/// One field of each kind, with a value it accepts (and the stored form), and values it
/// refuses.
fn kinds() -> Vec<(&'static str, Value, Value, Value, Vec<Value>)> {
    vec![
        // (kind, extra definition, value sent, value stored, refused values)
        (
            "text",
            json!({}),
            json!("  Hello  "),
            json!("Hello"),
            vec![json!({"a": 1}), json!("x".repeat(1001))],
        ),
        (
            "long_text",
            json!({}),
            json!("line one\nline two"),
            json!("line one\nline two"),
            vec![json!({"a": 1}), json!("bell\u{7}")],
        ),
        (
            "number",
            json!({}),
            json!("12,5"),
            json!(12.5),
            vec![json!("twelve"), json!(true)],
        ),
        (
            "integer",
            json!({}),
            json!(" 42 "),
            json!(42),
            vec![json!(1.5), json!("4x")],
        ),
        (
            "money",
            json!({}),
            json!(19.99),
            json!(19.99),
            vec![json!(1.234), json!("cheap")],
        ),
        (
            "date",
            json!({}),
            json!("2026-11-23"),
            json!("2026-11-23"),
            vec![json!("23.11.2026"), json!("2026-02-30"), json!(20261123)],
        ),
        (
            "datetime",
            json!({}),
            json!("2026-11-23T16:05:30.789+02:00"),
            json!("2026-11-23T14:05:30Z"),
            vec![json!("yesterday"), json!("2026-13-01T00:00:00Z")],
        ),
        (
            "boolean",
            json!({}),
            json!("yes"),
            json!(true),
            vec![json!("maybe"), json!(2)],
        ),
        (
            "select",
            json!({"options": ["IT", "Retail"]}),
            json!("Retail"),
            json!("Retail"),
            vec![json!("Mining"), json!("it")],
        ),
        (
            "multiselect",
            json!({"options": ["IT", "Retail", "Finance"]}),
            json!(["Finance", "IT", "Finance"]),
            json!(["Finance", "IT"]),
            vec![json!(["IT", "Mining"]), json!(5)],
        ),
        (
            "email",
            json!({}),
            json!("Office@Example.com"),
            json!("Office@Example.com"),
            vec![json!("nobody"), json!("a b@example.com")],
        ),
        (
            "phone",
            json!({}),
            json!("+48 (22) 123-45-67"),
            json!("+48 (22) 123-45-67"),
            vec![json!("call me"), json!("123")],
        ),
        (
            "url",
            json!({}),
            json!("https://example.com/a?b=c"),
            json!("https://example.com/a?b=c"),
            vec![
                json!("javascript:alert(1)"),
                json!("ftp://example.com"),
                json!("https://"),
            ],
        ),
        (
            "geo",
            json!({}),
            json!({"lat": 52.2297, "lon": "21,0122"}),
            json!({"lat": 52.2297, "lon": 21.0122}),
            vec![
                json!({"lat": 91.0, "lon": 0.0}),
                json!({"lat": 1.5}),
                json!("52.2, 21.0"),
            ],
        ),
    ]
}

both!(every_kind_is_validated: every_kind_is_validated_sqlite, every_kind_is_validated_postgres);
async fn every_kind_is_validated(app: TestApp) {
    let (_, token) = app.admin().await;
    let mut sent = serde_json::Map::new();
    let mut stored = serde_json::Map::new();
    for (kind, extra, value, normal, _) in kinds() {
        let key = format!("f_{kind}");
        let mut definition = json!({"key": key, "label": format!("The {kind}"), "kind": kind});
        for (k, v) in extra.as_object().unwrap() {
            definition[k] = v.clone();
        }
        let field = define(&app, &token, definition).await;
        assert_eq!(field["kind"], kind);
        assert_eq!(field["required"], false);
        assert_eq!(field["applies_to"], json!([]));
        sent.insert(key.clone(), value);
        stored.insert(key, normal);
    }
    let (status, list) = app.get(&token, "/api/v1/fields").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 14, "one field of each of the 14 kinds: {listed:?}");

    // Every value accepted, in its stored form, on write and on read.
    let contact = app
        .create_contact(&token, &json!({"type": "client", "name": "All Kinds", "fields": sent}))
        .await;
    assert_eq!(contact["fields"], Value::Object(stored.clone()));
    let (_, read) = app.get(&token, &format!("/api/v1/contacts/{}", id(&contact))).await;
    assert_eq!(read["fields"], Value::Object(stored.clone()));

    // Every refused value, on create and on change, at its own path.
    for (kind, _, _, _, refused) in kinds() {
        let key = format!("f_{kind}");
        for bad in refused {
            let create = app
                .post_json(
                    &token,
                    "/api/v1/contacts",
                    &json!({"type": "client", "name": "Bad", "fields": {&key: bad}}),
                )
                .await;
            assert_invalid(&create, &format!("fields.{key}"));
            let patch = app
                .patch_json(
                    &token,
                    &format!("/api/v1/contacts/{}", id(&contact)),
                    &json!({"version": 1, "fields": {&key: bad}}),
                )
                .await;
            assert_invalid(&patch, &format!("fields.{key}"));
        }
    }
    let (_, after) = app.get(&token, &format!("/api/v1/contacts/{}", id(&contact))).await;
    assert_eq!(after["version"], 1, "refused values change nothing");
    let (all, _) = app.all_contacts(&token, "name", 500).await;
    assert_eq!(all.len(), 1, "refused contacts aren't stored");

    // Fields merge key by key; null and blank remove a value.
    let (status, merged) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&contact)),
            &json!({"version": 1, "fields": {"f_text": null, "f_long_text": "  ", "f_multiselect": [], "f_integer": 43}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    let mut expected = stored.clone();
    expected.remove("f_text");
    expected.remove("f_long_text");
    expected.remove("f_multiselect");
    expected.insert("f_integer".into(), json!(43));
    assert_eq!(merged["fields"], Value::Object(expected));
    assert_eq!(merged["version"], 2);
}

both!(field_definitions_are_checked: field_definitions_are_checked_sqlite, field_definitions_are_checked_postgres);
async fn field_definitions_are_checked(app: TestApp) {
    let (_, token) = app.admin().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"key": "k", "label": "K", "kind": "text", "bogus": 1}), "bogus"),
        (json!({"key": "Bad Key", "label": "K", "kind": "text"}), "key"),
        (json!({"key": "k", "label": "K", "kind": "colour"}), "kind"),
        (json!({"key": "k", "label": " ", "kind": "text"}), "label"),
        (json!({"key": "k", "label": "K", "kind": "select"}), "options"),
        (
            json!({"key": "k", "label": "K", "kind": "multiselect", "options": []}),
            "options",
        ),
        (
            json!({"key": "k", "label": "K", "kind": "text", "options": ["a"]}),
            "options",
        ),
        (
            json!({"key": "k", "label": "K", "kind": "select", "options": ["a", "a"]}),
            "options[1]",
        ),
        (
            json!({"key": "k", "label": "K", "kind": "select", "options": ["a", " "]}),
            "options[1]",
        ),
        (
            json!({"key": "k", "label": "K", "kind": "text", "applies_to": ["client", "nope"]}),
            "applies_to[1]",
        ),
        (
            json!({"key": "k", "label": "K", "kind": "text", "required": "yes"}),
            "required",
        ),
    ];
    for (body, path) in &cases {
        assert_invalid(&app.post_json(&token, "/api/v1/fields", body).await, path);
    }
    define(
        &app,
        &token,
        json!({"key": "industry", "label": "Industry", "kind": "select", "options": ["IT"]}),
    )
    .await;
    assert_error(
        &app.post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "industry", "label": "Again", "kind": "text"}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    let (status, one) = app.get(&token, "/api/v1/fields/industry").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        one,
        json!({"key": "industry", "label": "Industry", "kind": "select", "options": ["IT"],
               "required": false, "searchable": false, "applies_to": []})
    );
    assert_error(
        &app.get(&token, "/api/v1/fields/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_invalid(
        &app.patch_json(&token, "/api/v1/fields/industry", &json!({"options": []}))
            .await,
        "options",
    );
    assert_invalid(
        &app.patch_json(&token, "/api/v1/fields/industry", &json!({"kind": "colour"}))
            .await,
        "kind",
    );
    assert_invalid(
        &app.patch_json(&token, "/api/v1/fields/industry", &json!({"unknown": true}))
            .await,
        "unknown",
    );
    let (_, list) = app.get(&token, "/api/v1/fields").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");

    // Only admins define fields; everyone reads them.
    let (_, agent) = app.agent().await;
    assert_error(
        &app.post_json(
            &agent,
            "/api/v1/fields",
            &json!({"key": "mine", "label": "Mine", "kind": "text"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.patch_json(&agent, "/api/v1/fields/industry", &json!({"label": "Branch"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.delete(&agent, "/api/v1/fields/industry").await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_eq!(app.get(&agent, "/api/v1/fields").await.0, StatusCode::OK);
}

both!(applies_to_and_required: applies_to_and_required_sqlite, applies_to_and_required_postgres);
async fn applies_to_and_required(app: TestApp) {
    let (_, token) = app.admin().await;
    define(
        &app,
        &token,
        json!({"key": "contract_no", "label": "Contract", "kind": "text", "applies_to": ["client"]}),
    )
    .await;
    define(
        &app,
        &token,
        json!({"key": "source", "label": "Source", "kind": "select", "options": ["web", "fair"],
               "required": true, "applies_to": ["lead"]}),
    )
    .await;

    // A field for clients is refused on a warm lead.
    assert_invalid(
        &app.post_json(
            &token,
            "/api/v1/contacts",
            &json!({"type": "warm", "name": "W", "fields": {"contract_no": "C-1", "source": "web"}}),
        )
        .await,
        "fields.contract_no",
    );
    // A required field of leads is required on every subtype of lead...
    for lead_type in ["lead", "warm", "refused"] {
        assert_invalid(
            &app.post_json(&token, "/api/v1/contacts", &json!({"type": lead_type, "name": "W"}))
                .await,
            "fields.source",
        );
    }
    // ...and an applicable field is accepted there.
    let lead = app
        .create_contact(
            &token,
            &json!({"type": "hot", "name": "Hot Lead", "fields": {"source": "fair"}}),
        )
        .await;
    assert_eq!(lead["fields"], json!({"source": "fair"}));
    // It can't be removed from a lead, nor can the lead become something it doesn't fit.
    assert_invalid(
        &app.patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&lead)),
            &json!({"version": 1, "fields": {"source": null}}),
        )
        .await,
        "fields.source",
    );
    // A client needs neither, and takes the client field.
    let client = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Client", "fields": {"contract_no": "C-7"}}),
        )
        .await;
    assert_eq!(client["fields"], json!({"contract_no": "C-7"}));
    // Turning the client into a lead needs the required field.
    assert_invalid(
        &app.patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&client)),
            &json!({"version": 1, "type": "cold", "fields": {"contract_no": null}}),
        )
        .await,
        "fields.source",
    );
    let (status, converted) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&client)),
            &json!({"version": 1, "type": "cold", "fields": {"contract_no": null, "source": "web"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{converted}");
    assert_eq!(converted["fields"], json!({"source": "web"}));
}

/// A text field `code` and contacts holding `values` in it; returns the contacts.
async fn text_field_with(app: &TestApp, token: &str, values: &[&str]) -> Vec<Value> {
    define(app, token, json!({"key": "code", "label": "Code", "kind": "text"})).await;
    let mut out = Vec::new();
    for (n, value) in values.iter().enumerate() {
        out.push(
            app.create_contact(
                token,
                &json!({"type": "client", "name": format!("Holder {n}"), "fields": {"code": value}}),
            )
            .await,
        );
    }
    // One contact without a value: not part of any conversion.
    app.person(token, "No Code").await;
    out
}

async fn contact(app: &TestApp, token: &str, c: &Value) -> Value {
    let (status, body) = app.get(token, &format!("/api/v1/contacts/{}", id(c))).await;
    assert_eq!(status, StatusCode::OK);
    body
}

both!(a_change_of_kind_converts_the_values: a_change_of_kind_converts_the_values_sqlite, a_change_of_kind_converts_the_values_postgres);
async fn a_change_of_kind_converts_the_values(app: TestApp) {
    let (_, token) = app.admin().await;
    let holders = text_field_with(&app, &token, &["17", "042", "-5"]).await;
    let (status, changed) = app
        .patch_json(
            &token,
            "/api/v1/fields/code",
            &json!({"kind": "integer", "label": "Code no."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["kind"], "integer");
    assert_eq!(changed["label"], "Code no.");
    assert_eq!(
        changed["conversion"],
        json!({"checked": 3, "converted": 3, "dropped": false, "failed": []})
    );
    let values: Vec<Value> = {
        let mut v = Vec::new();
        for h in &holders {
            let c = contact(&app, &token, h).await;
            assert_eq!(c["version"], 2, "a converted value is a change: {c}");
            v.push(c["fields"]["code"].clone());
        }
        v
    };
    assert_eq!(values, [json!(17), json!(42), json!(-5)]);
    // New writes follow the new kind.
    assert_invalid(
        &app.patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&holders[0])),
            &json!({"version": 2, "fields": {"code": "seventeen"}}),
        )
        .await,
        "fields.code",
    );
    // And back to text: always possible.
    let (status, back) = app
        .patch_json(&token, "/api/v1/fields/code", &json!({"kind": "text"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["conversion"]["converted"], 3);
    assert_eq!(contact(&app, &token, &holders[1]).await["fields"]["code"], "42");
    // A change that doesn't touch values checks none.
    let (status, relabelled) = app
        .patch_json(
            &token,
            "/api/v1/fields/code",
            &json!({"label": "Code", "searchable": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(relabelled["searchable"], true);
    assert_eq!(relabelled["conversion"]["checked"], 0);
}

both!(an_unconvertible_change_is_refused_with_the_report: an_unconvertible_change_is_refused_with_the_report_sqlite, an_unconvertible_change_is_refused_with_the_report_postgres);
async fn an_unconvertible_change_is_refused_with_the_report(app: TestApp) {
    let (_, token) = app.admin().await;
    let holders = text_field_with(&app, &token, &["17", "seventeen", "42", "4.5"]).await;
    let refused = app
        .patch_json(&token, "/api/v1/fields/code", &json!({"kind": "integer"}))
        .await;
    assert_error(&refused, StatusCode::CONFLICT, "conflict");
    let details = &refused.1["error"]["details"];
    assert_eq!(details["checked"], 4, "{details}");
    assert_eq!(details["converted"], 2, "{details}");
    assert_eq!(details["dropped"], false);
    let failed = details["failed"].as_array().unwrap();
    let failed_ids: Vec<i64> = failed.iter().map(|f| f["contact_id"].as_i64().unwrap()).collect();
    assert_eq!(failed_ids, [id(&holders[1]), id(&holders[3])], "{details}");
    assert_eq!(failed[0]["value"], "seventeen");
    assert_eq!(failed[1]["value"], "4.5");
    assert!(
        failed
            .iter()
            .all(|f| f["reason"].as_str().is_some_and(|r| !r.is_empty()))
    );

    // Nothing changed: not the field, not a value, not a version.
    let (_, field) = app.get(&token, "/api/v1/fields/code").await;
    assert_eq!(field["kind"], "text");
    for (h, value) in holders.iter().zip(["17", "seventeen", "42", "4.5"]) {
        let c = contact(&app, &token, h).await;
        assert_eq!(c["fields"]["code"], value);
        assert_eq!(c["version"], 1);
    }

    // Other conversions that lose information are refused the same way.
    define(
        &app,
        &token,
        json!({"key": "tags", "label": "Tags", "kind": "multiselect", "options": ["a", "b"]}),
    )
    .await;
    define(
        &app,
        &token,
        json!({"key": "seen", "label": "Seen", "kind": "datetime"}),
    )
    .await;
    let holder = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Tagged", "fields": {"tags": ["a", "b"], "seen": "2026-01-02T10:30:00Z"}}),
        )
        .await;
    for (key, change) in [
        ("tags", json!({"kind": "select"})),
        ("tags", json!({"options": ["a", "c"]})),
        ("seen", json!({"kind": "date"})),
        ("seen", json!({"kind": "boolean"})),
    ] {
        let refused = app.patch_json(&token, &format!("/api/v1/fields/{key}"), &change).await;
        assert_error(&refused, StatusCode::CONFLICT, "conflict");
        assert_eq!(
            refused.1["error"]["details"]["failed"][0]["contact_id"],
            id(&holder),
            "{key} {change}: {}",
            refused.1
        );
    }
}

both!(dropping_unconvertible_values_keeps_them_in_history: dropping_unconvertible_values_keeps_them_in_history_sqlite, dropping_unconvertible_values_keeps_them_in_history_postgres);
async fn dropping_unconvertible_values_keeps_them_in_history(app: TestApp) {
    let (admin, token) = app.admin().await;
    let holders = text_field_with(&app, &token, &["17", "seventeen"]).await;
    let (status, changed) = app
        .patch_json(
            &token,
            "/api/v1/fields/code",
            &json!({"kind": "integer", "drop_unconvertible": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["kind"], "integer");
    let report = &changed["conversion"];
    assert_eq!(report["checked"], 2, "{report}");
    assert_eq!(report["converted"], 1, "{report}");
    assert_eq!(report["dropped"], true, "{report}");
    assert_eq!(report["failed"][0]["contact_id"], id(&holders[1]));
    assert_eq!(report["failed"][0]["value"], "seventeen");

    let kept = contact(&app, &token, &holders[0]).await;
    assert_eq!(kept["fields"], json!({"code": 17}));
    let dropped = contact(&app, &token, &holders[1]).await;
    assert_eq!(dropped["fields"], json!({}), "the bad value is gone: {dropped}");
    assert_eq!(dropped["version"], 2, "removing a value is a change");

    // The old value stays in the contact's history, on its card.
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let card = app.page(&client, &format!("/contacts/{}", id(&dropped))).await;
    assert_eq!(card.status, StatusCode::OK);
    let changes = element_html(&card.text, "changes").expect("the changes list");
    assert!(changes.contains("field value removed"), "{changes}");
    assert!(changes.contains("Code: "), "named by its label: {changes}");
    assert!(changes.contains("<del>seventeen</del>"), "the old value: {changes}");
    let card = app.page(&client, &format!("/contacts/{}", id(&kept))).await;
    let changes = element_html(&card.text, "changes").expect("the changes list");
    assert!(changes.contains("field converted"), "{changes}");
}

both!(removing_a_field: removing_a_field_sqlite, removing_a_field_postgres);
async fn removing_a_field(app: TestApp) {
    let (admin, token) = app.admin().await;
    define(
        &app,
        &token,
        json!({"key": "unused", "label": "Unused", "kind": "boolean"}),
    )
    .await;
    let (status, _) = app.delete(&token, "/api/v1/fields/unused").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "a field without values goes at once");
    assert_error(
        &app.get(&token, "/api/v1/fields/unused").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let holders = text_field_with(&app, &token, &["A-1", "B-2"]).await;
    let refused = app.delete(&token, "/api/v1/fields/code").await;
    assert_error(&refused, StatusCode::CONFLICT, "conflict");
    assert_eq!(refused.1["error"]["details"]["contacts"], 2, "{}", refused.1);
    assert_invalid(
        &app.delete(&token, "/api/v1/fields/code?drop_values=maybe").await,
        "drop_values",
    );
    assert_eq!(contact(&app, &token, &holders[0]).await["fields"]["code"], "A-1");

    let (status, body) = app.delete(&token, "/api/v1/fields/code?drop_values=true").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_error(
        &app.get(&token, "/api/v1/fields/code").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    for h in &holders {
        let c = contact(&app, &token, h).await;
        assert_eq!(c["fields"], json!({}), "{c}");
        assert_eq!(c["version"], 2);
    }
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let card = app.page(&client, &format!("/contacts/{}", id(&holders[1]))).await;
    let changes = element_html(&card.text, "changes").unwrap();
    assert!(changes.contains("<del>B-2</del>"), "{changes}");
    // The key is free again, and the old values don't come back.
    define(&app, &token, json!({"key": "code", "label": "Code", "kind": "integer"})).await;
    assert_eq!(contact(&app, &token, &holders[0]).await["fields"], json!({}));
    assert_error(
        &app.delete(&token, "/api/v1/fields/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}
