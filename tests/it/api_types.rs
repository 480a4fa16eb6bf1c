//! `/api/v1/contact-types`: the seeded tree, adding, renaming, moving and removing types.

use kartoteka_tests::*;

/// `(key, parent)` of every type, in the order listed.
async fn tree(app: &TestApp, token: &str) -> Vec<(String, Option<String>)> {
    let (status, body) = app.get(token, "/api/v1/contact-types").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["next"].is_null());
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["key"].as_str().unwrap().to_owned(),
                t["parent"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    items
        .iter()
        .map(|(k, p)| ((*k).to_owned(), p.map(str::to_owned)))
        .collect()
}

both!(the_seeded_tree: the_seeded_tree_sqlite, the_seeded_tree_postgres);
async fn the_seeded_tree(app: TestApp) {
    let (_, token) = app.agent().await;
    assert_eq!(
        tree(&app, &token).await,
        pairs(&[
            ("lead", None),
            ("cold", Some("lead")),
            ("warm", Some("lead")),
            ("hot", Some("lead")),
            ("refused", Some("lead")),
            ("client", None),
            ("employee", None),
            ("staff", Some("employee")),
            ("freelance", Some("employee")),
            ("temporary", Some("employee")),
            ("remote", Some("employee")),
            ("supplier", None),
            ("contractor", None),
        ])
    );
    let (status, warm) = app.get(&token, "/api/v1/contact-types/warm").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(warm, json!({"key": "warm", "label": "Warm", "parent": "lead"}));
    assert_error(
        &app.get(&token, "/api/v1/contact-types/nope").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

both!(add_rename_and_move_types: add_rename_and_move_types_sqlite, add_rename_and_move_types_postgres);
async fn add_rename_and_move_types(app: TestApp) {
    let (_, token) = app.admin().await;
    let (status, partner) = app
        .post_json(
            &token,
            "/api/v1/contact-types",
            &json!({"key": "partner", "label": "Partner"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{partner}");
    assert_eq!(partner, json!({"key": "partner", "label": "Partner", "parent": null}));
    let (status, reseller) = app
        .post_json(
            &token,
            "/api/v1/contact-types",
            &json!({"key": "reseller", "label": "Reseller", "parent": "partner"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reseller}");
    assert_eq!(reseller["parent"], "partner");
    let (status, gold) = app
        .post_json(
            &token,
            "/api/v1/contact-types",
            &json!({"key": "gold_reseller", "label": "Gold reseller", "parent": "reseller"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{gold}");

    // Refused: bad keys, duplicates, unknown parents, empty labels.
    for key in ["Bad Key", "1st", "", "ünïcode", "has-dash", &"k".repeat(64)] {
        assert_invalid(
            &app.post_json(&token, "/api/v1/contact-types", &json!({"key": key, "label": "X"}))
                .await,
            "key",
        );
    }
    for key in ["partner", "lead", "warm"] {
        assert_error(
            &app.post_json(&token, "/api/v1/contact-types", &json!({"key": key, "label": "Again"}))
                .await,
            StatusCode::CONFLICT,
            "conflict",
        );
    }
    assert_invalid(
        &app.post_json(
            &token,
            "/api/v1/contact-types",
            &json!({"key": "orphan", "label": "Orphan", "parent": "nowhere"}),
        )
        .await,
        "parent",
    );
    assert_invalid(
        &app.post_json(&token, "/api/v1/contact-types", &json!({"key": "blank", "label": "  "}))
            .await,
        "label",
    );

    // A new type is usable at once.
    let contact = app
        .create_contact(
            &token,
            &json!({"type": "gold_reseller", "name": "Reseller Ltd", "kind": "company"}),
        )
        .await;
    assert_eq!(contact["type"], "gold_reseller");

    // Rename.
    let (status, renamed) = app
        .patch_json(
            &token,
            "/api/v1/contact-types/partner",
            &json!({"label": "Business partner"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(
        renamed,
        json!({"key": "partner", "label": "Business partner", "parent": null})
    );

    // Move under another type, with its subtree, then back to the top (null).
    let (status, moved) = app
        .patch_json(&token, "/api/v1/contact-types/partner", &json!({"parent": "client"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["parent"], "client");
    assert_eq!(moved["label"], "Business partner", "a move keeps the label");
    let after_move = tree(&app, &token).await;
    let position = |key: &str| after_move.iter().position(|(k, _)| k == key).unwrap();
    assert!(
        position("client") < position("partner")
            && position("partner") < position("reseller")
            && position("reseller") < position("gold_reseller"),
        "the subtree is listed under its new parent: {after_move:?}"
    );
    assert!(
        after_move.contains(&("gold_reseller".to_owned(), Some("reseller".to_owned()))),
        "descendants move along: {after_move:?}"
    );
    let (status, to_root) = app
        .patch_json(&token, "/api/v1/contact-types/partner", &json!({"parent": null}))
        .await;
    assert_eq!(status, StatusCode::OK, "{to_root}");
    assert!(to_root["parent"].is_null());

    // No cycles: not under itself, not under a descendant at any depth.
    for target in ["partner", "reseller", "gold_reseller"] {
        assert_invalid(
            &app.patch_json(&token, "/api/v1/contact-types/partner", &json!({"parent": target}))
                .await,
            "parent",
        );
    }
    assert_invalid(
        &app.patch_json(&token, "/api/v1/contact-types/partner", &json!({"parent": "nowhere"}))
            .await,
        "parent",
    );
    assert_invalid(
        &app.patch_json(&token, "/api/v1/contact-types/partner", &json!({"label": ""}))
            .await,
        "label",
    );
    assert_error(
        &app.patch_json(&token, "/api/v1/contact-types/nowhere", &json!({"label": "X"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let unchanged = tree(&app, &token).await;
    assert!(unchanged.contains(&("partner".to_owned(), None)), "{unchanged:?}");
    assert!(unchanged.contains(&("reseller".to_owned(), Some("partner".to_owned()))));
}

both!(only_admins_shape_the_tree: only_admins_shape_the_tree_sqlite, only_admins_shape_the_tree_postgres);
async fn only_admins_shape_the_tree(app: TestApp) {
    let (_, admin) = app.admin().await;
    for role in [Role::Agent, Role::Manager] {
        let (_, token) = app.user(role).await;
        assert_error(
            &app.post_json(
                &token,
                "/api/v1/contact-types",
                &json!({"key": "mine", "label": "Mine"}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &app.patch_json(&token, "/api/v1/contact-types/client", &json!({"label": "Customer"}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &app.delete(&token, "/api/v1/contact-types/contractor").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    let (_, client) = app.get(&admin, "/api/v1/contact-types/client").await;
    assert_eq!(client["label"], "Client");
    assert_eq!(
        app.get(&admin, "/api/v1/contact-types/contractor").await.0,
        StatusCode::OK
    );
}

both!(removing_a_type: removing_a_type_sqlite, removing_a_type_postgres);
async fn removing_a_type(app: TestApp) {
    let (_, token) = app.admin().await;
    // A type with subtypes can't go.
    let with_subtypes = app.delete(&token, "/api/v1/contact-types/lead").await;
    assert_error(&with_subtypes, StatusCode::CONFLICT, "conflict");
    assert!(
        with_subtypes.1["error"]["message"].as_str().unwrap().contains("cold"),
        "the message names the subtypes: {}",
        with_subtypes.1
    );

    // An unused type goes at once.
    let (status, body) = app.delete(&token, "/api/v1/contact-types/contractor").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_error(
        &app.get(&token, "/api/v1/contact-types/contractor").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.delete(&token, "/api/v1/contact-types/contractor").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // A type in use needs a target for its contacts.
    let first = app
        .create_contact(&token, &json!({"type": "refused", "name": "No Thanks"}))
        .await;
    let second = app
        .create_contact(&token, &json!({"type": "refused", "name": "Never"}))
        .await;
    let bystander = app
        .create_contact(&token, &json!({"type": "cold", "name": "Cold"}))
        .await;
    let (status, patched) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&second)),
            &json!({"version": 1, "city": "Poznań"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");

    let in_use = app.delete(&token, "/api/v1/contact-types/refused").await;
    assert_error(&in_use, StatusCode::CONFLICT, "conflict");
    let message = in_use.1["error"]["message"].as_str().unwrap();
    assert!(message.contains("2 contacts"), "the message says how many: {message}");
    assert_eq!(in_use.1["error"]["details"]["contacts"], 2, "{}", in_use.1);
    for target in ["nowhere", "refused"] {
        assert_invalid(
            &app.delete(&token, &format!("/api/v1/contact-types/refused?reassign_to={target}"))
                .await,
            "reassign_to",
        );
    }
    let (_, still) = app.get(&token, &format!("/api/v1/contacts/{}", id(&first))).await;
    assert_eq!(still["type"], "refused", "a refused removal moves nothing");
    assert_eq!(still["version"], 1);

    let (status, body) = app
        .delete(&token, "/api/v1/contact-types/refused?reassign_to=cold")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(!tree(&app, &token).await.iter().any(|(k, _)| k == "refused"));
    let (_, moved_first) = app.get(&token, &format!("/api/v1/contacts/{}", id(&first))).await;
    let (_, moved_second) = app.get(&token, &format!("/api/v1/contacts/{}", id(&second))).await;
    assert_eq!(moved_first["type"], "cold");
    assert_eq!(moved_first["version"], 2, "a move is a change: {moved_first}");
    assert_eq!(moved_second["type"], "cold");
    assert_eq!(moved_second["version"], 3);
    assert_eq!(moved_second["city"], "Poznań");
    let (_, untouched) = app.get(&token, &format!("/api/v1/contacts/{}", id(&bystander))).await;
    assert_eq!(
        untouched["version"], 1,
        "other contacts of the target stay as they were"
    );

    // The moved contacts can be written with their new version.
    let (status, _) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&first)),
            &json!({"version": 2, "name": "Maybe Later"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // Once the subtypes are gone, the parent can go too.
    for sub in ["cold", "warm", "hot"] {
        let (status, body) = app
            .delete(&token, &format!("/api/v1/contact-types/{sub}?reassign_to=client"))
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{sub}: {body}");
    }
    let (status, body) = app.delete(&token, "/api/v1/contact-types/lead").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, all) = app.get(&token, "/api/v1/contacts?limit=500").await;
    assert!(
        all["items"].as_array().unwrap().iter().all(|c| c["type"] == "client"),
        "{all}"
    );
}

both!(removing_a_type_a_field_applies_to: removing_a_type_a_field_applies_to_sqlite, removing_a_type_a_field_applies_to_postgres);
async fn removing_a_type_a_field_applies_to(app: TestApp) {
    let (_, token) = app.admin().await;
    let (status, field) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "vat_id", "label": "VAT ID", "kind": "text", "applies_to": ["supplier"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{field}");
    let refused = app.delete(&token, "/api/v1/contact-types/supplier").await;
    assert_error(&refused, StatusCode::CONFLICT, "conflict");
    assert_eq!(refused.1["error"]["details"]["fields"], json!(["vat_id"]));
    let (status, _) = app
        .delete(&token, "/api/v1/contact-types/supplier?reassign_to=contractor")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, field) = app.get(&token, "/api/v1/fields/vat_id").await;
    assert_eq!(
        field["applies_to"],
        json!(["contractor"]),
        "the field follows its contacts"
    );
}
