//! `/api/v1/contacts`: create, read, change, delete, list with keyset paging; validation
//! errors with their paths; 409 on a stale write.

use std::collections::HashSet;

use kartoteka_tests::*;

both!(create_get_patch_delete: create_get_patch_delete_sqlite, create_get_patch_delete_postgres);
async fn create_get_patch_delete(app: TestApp) {
    let (admin, token) = app.admin().await;
    let company = app
        .create_contact(
            &token,
            &json!({"kind": "company", "type": "client", "name": "Acme Sp. z o.o."}),
        )
        .await;
    assert_eq!(company["kind"], "company");
    let company_id = id(&company);

    let created = app
        .create_contact(
            &token,
            &json!({
                "type": "warm", "name": "  Jan Kowalski  ", "email": "Jan.Kowalski@Example.COM",
                "phone": "+48 600 100 200", "position": "CTO", "company_id": company_id,
                "street": "ul. Długa 1", "city": "Gdańsk", "region": "pomorskie", "country": "PL",
                "postal_code": "80-001", "latitude": 54.35, "longitude": 18.65, "do_not_contact": true
            }),
        )
        .await;
    let contact_id = id(&created);
    assert_eq!(created["kind"], "person", "person is the default kind");
    assert_eq!(created["type"], "warm");
    assert_eq!(created["name"], "Jan Kowalski", "names are trimmed");
    assert_eq!(created["email"], "jan.kowalski@example.com", "emails are lowercased");
    assert_eq!(created["phone"], "+48 600 100 200");
    assert_eq!(created["position"], "CTO");
    assert_eq!(created["company_id"], company_id);
    assert_eq!(created["street"], "ul. Długa 1");
    assert_eq!(created["city"], "Gdańsk");
    assert_eq!(created["region"], "pomorskie");
    assert_eq!(created["country"], "PL");
    assert_eq!(created["postal_code"], "80-001");
    assert_eq!(created["latitude"], 54.35);
    assert_eq!(created["longitude"], 18.65);
    assert_eq!(created["do_not_contact"], true);
    assert_eq!(created["owner"], admin.id, "the caller owns what it creates");
    assert_eq!(created["version"], 1);
    assert_eq!(created["fields"], json!({}));
    assert!(created["score"].is_null() && created["score_band"].is_null());
    let created_at: DateTime<Utc> = serde_json::from_value(created["created_at"].clone()).unwrap();
    assert_eq!(created["created_at"], created["updated_at"]);
    assert_eq!(created_at.timestamp_subsec_nanos(), 0, "timestamps are whole seconds");

    let (status, read) = app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created, "a read returns what the create returned");

    // A change: one property set, one cleared, the rest left alone.
    let (status, patched) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{contact_id}"),
            &json!({"version": 1, "city": "Sopot", "phone": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["city"], "Sopot");
    assert!(patched["phone"].is_null(), "null clears: {patched}");
    assert_eq!(patched["email"], "jan.kowalski@example.com");
    assert_eq!(patched["company_id"], company_id);
    assert_eq!(patched["created_at"], created["created_at"]);

    // The same version again is stale: refused, with both versions, and nothing changes.
    let stale = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{contact_id}"),
            &json!({"version": 1, "city": "Gdynia", "name": "Someone Else"}),
        )
        .await;
    assert_error(&stale, StatusCode::CONFLICT, "conflict");
    assert_eq!(
        stale.1["error"]["details"],
        json!({"current_version": 2, "your_version": 1})
    );
    let (_, after_stale) = app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(after_stale, patched, "a refused write changes nothing");

    // A version from the future is just as stale.
    let future = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{contact_id}"),
            &json!({"version": 7, "city": "Gdynia"}),
        )
        .await;
    assert_error(&future, StatusCode::CONFLICT, "conflict");

    // Deleting with a stale version is refused too.
    let stale_delete = app
        .delete(&token, &format!("/api/v1/contacts/{contact_id}?version=1"))
        .await;
    assert_error(&stale_delete, StatusCode::CONFLICT, "conflict");
    assert_eq!(
        app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await.0,
        StatusCode::OK
    );

    // Deleting the company leaves its people, without a company.
    let (status, _) = app.delete(&token, &format!("/api/v1/contacts/{company_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, orphan) = app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await;
    assert!(orphan["company_id"].is_null(), "{orphan}");
    assert_eq!(orphan["version"], 3, "losing the company is a change");

    let (status, body) = app
        .delete(&token, &format!("/api/v1/contacts/{contact_id}?version=3"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_error(
        &app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.delete(&token, &format!("/api/v1/contacts/{contact_id}")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.patch_json(
            &token,
            &format!("/api/v1/contacts/{contact_id}"),
            &json!({"version": 4, "name": "Ghost"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

both!(missing_and_odd_ids_are_not_found: missing_and_odd_ids_are_not_found_sqlite, missing_and_odd_ids_are_not_found_postgres);
async fn missing_and_odd_ids_are_not_found(app: TestApp) {
    let (_, token) = app.admin().await;
    for path in [
        "/api/v1/contacts/999999",
        "/api/v1/contacts/abc",
        "/api/v1/contacts/1.5",
        "/api/v1/contacts/-1",
        "/api/v1/contacts/99999999999999999999999",
    ] {
        assert_error(&app.get(&token, path).await, StatusCode::NOT_FOUND, "not_found");
    }
}

both!(a_patch_without_changes_keeps_the_version: a_patch_without_changes_keeps_the_version_sqlite, a_patch_without_changes_keeps_the_version_postgres);
async fn a_patch_without_changes_keeps_the_version(app: TestApp) {
    let (_, token) = app.admin().await;
    let contact = app
        .create_contact(&token, &json!({"type": "client", "name": "Ewa", "city": "Kraków"}))
        .await;
    let (status, same) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&contact)),
            &json!({"version": 1, "city": "Kraków"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same["version"], 1, "nothing changed, so no new version: {same}");
}

both!(create_validation_errors_name_the_path: create_validation_errors_name_the_path_sqlite, create_validation_errors_name_the_path_postgres);
async fn create_validation_errors_name_the_path(app: TestApp) {
    let (_, token) = app.admin().await;
    let person = app.person(&token, "Piotr Nowak").await;
    let company = app
        .create_contact(
            &token,
            &json!({"kind": "company", "type": "supplier", "name": "Hurtownia"}),
        )
        .await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"type": "client", "name": "   "}), "name"),
        (json!({"type": "client", "name": 5}), "name"),
        (json!({"type": "client", "name": "x".repeat(201)}), "name"),
        (
            json!({"type": "client", "name": "Bad", "email": "not-an-email"}),
            "email",
        ),
        (json!({"type": "client", "name": "Bad", "email": "a@b"}), "email"),
        (json!({"type": "client", "name": "Bad", "phone": "call me"}), "phone"),
        (
            json!({"type": "client", "name": "Bad", "latitude": 91, "longitude": 0}),
            "latitude",
        ),
        (
            json!({"type": "client", "name": "Bad", "latitude": 0, "longitude": -181}),
            "longitude",
        ),
        (json!({"type": "client", "name": "Bad", "latitude": 10}), "longitude"),
        (
            json!({"type": "client", "name": "Bad", "latitude": "north", "longitude": 1}),
            "latitude",
        ),
        (json!({"type": "nonexistent", "name": "Bad"}), "type"),
        (json!({"type": "client", "name": "Bad", "kind": "robot"}), "kind"),
        (
            json!({"type": "client", "name": "Bad", "company_id": id(&person)}),
            "company_id",
        ),
        (
            json!({"type": "client", "name": "Bad", "company_id": 999999}),
            "company_id",
        ),
        (
            json!({"kind": "company", "type": "client", "name": "Bad", "company_id": id(&company)}),
            "company_id",
        ),
        (json!({"type": "client", "name": "Bad", "owner": 999999}), "owner"),
        (
            json!({"type": "client", "name": "Bad", "do_not_contact": "yes"}),
            "do_not_contact",
        ),
        (json!({"type": "client", "name": "Bad", "city": "a\u{0}b"}), "city"),
        (json!({"type": "client", "name": "Bad", "unknown": 1}), "unknown"),
        (
            json!({"type": "client", "name": "Bad", "fields": {"nope": 1}}),
            "fields.nope",
        ),
        (json!({"type": "client", "name": "Bad", "fields": []}), "fields"),
    ];
    for (body, path) in &cases {
        let reply = app.post_json(&token, "/api/v1/contacts", body).await;
        assert_invalid(&reply, path);
    }

    // Malformed JSON and a body that isn't JSON at all.
    let truncated = app
        .post_raw(&token, "/api/v1/contacts", "{\"type\": \"client\", \"name\": ")
        .await;
    assert_eq!(truncated.status, StatusCode::BAD_REQUEST, "{}", truncated.text);
    assert_eq!(truncated.json()["error"]["code"], "invalid");
    let trailing = app
        .post_raw(&token, "/api/v1/contacts", "{\"type\": \"client\", \"name\": \"A\"} {}")
        .await;
    assert_eq!(trailing.status, StatusCode::BAD_REQUEST, "{}", trailing.text);
    let not_json = app
        .send(reqwest::Method::POST, Some(&token), "/api/v1/contacts", None)
        .await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST, "{}", not_json.text);
    assert_eq!(not_json.json()["error"]["code"], "invalid");

    // None of it was stored.
    let (all, _) = app.all_contacts(&token, "name", 500).await;
    assert_eq!(ids(&all).len(), 2, "only the two valid contacts exist: {all:?}");
}

// A missing required property is reported at its own path, like an empty one is.
both!(
    missing_required_properties_name_their_path: missing_required_properties_name_their_path_sqlite, missing_required_properties_name_their_path_postgres);
async fn missing_required_properties_name_their_path(app: TestApp) {
    let (_, token) = app.admin().await;
    let missing_name = app
        .post_json(&token, "/api/v1/contacts", &json!({"type": "client"}))
        .await;
    assert_invalid(&missing_name, "name");
    // Without `type` a contact gets the base's default type; with none set, it's required.
    let cleared = app
        .send(
            reqwest::Method::PUT,
            Some(&token),
            "/api/v1/settings",
            Some(&json!({"default_contact_type": null})),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.text);
    let missing_type = app
        .post_json(&token, "/api/v1/contacts", &json!({"name": "No Type"}))
        .await;
    assert_invalid(&missing_type, "type");
    let contact = app.person(&token, "Versionless").await;
    let missing_version = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&contact)),
            &json!({"name": "X"}),
        )
        .await;
    assert_invalid(&missing_version, "version");
}

both!(patch_validation_changes_nothing: patch_validation_changes_nothing_sqlite, patch_validation_changes_nothing_postgres);
async fn patch_validation_changes_nothing(app: TestApp) {
    let (_, token) = app.admin().await;
    let contact = app
        .create_contact(
            &token,
            &json!({"type": "hot", "name": "Zofia", "email": "zofia@example.com"}),
        )
        .await;
    let path = format!("/api/v1/contacts/{}", id(&contact));
    assert_invalid(
        &app.patch_json(&token, &path, &json!({"version": 1, "email": "zofia"}))
            .await,
        "email",
    );
    assert_invalid(
        &app.patch_json(&token, &path, &json!({"version": 1, "name": ""})).await,
        "name",
    );
    assert_invalid(
        &app.patch_json(&token, &path, &json!({"version": 1, "type": "martian"}))
            .await,
        "type",
    );
    assert_invalid(
        &app.patch_json(&token, &path, &json!({"version": 1, "company_id": id(&contact)}))
            .await,
        "company_id",
    );
    assert_invalid(
        &app.patch_json(&token, &path, &json!({"version": "1"})).await,
        "version",
    );
    let (_, now) = app.get(&token, &path).await;
    assert_eq!(now, contact, "refused changes leave the contact as it was");
}

both!(list_parameters_are_checked: list_parameters_are_checked_sqlite, list_parameters_are_checked_postgres);
async fn list_parameters_are_checked(app: TestApp) {
    let (_, token) = app.admin().await;
    for n in 0..3 {
        app.person(&token, &format!("Person {n}")).await;
    }
    for limit in ["0", "501", "-1", "x", "2.5"] {
        assert_invalid(
            &app.get(&token, &format!("/api/v1/contacts?limit={limit}")).await,
            "limit",
        );
    }
    for after in ["garbage", "eyJub3QiOiJhIGN1cnNvciJ9", "%00"] {
        assert_invalid(
            &app.get(&token, &format!("/api/v1/contacts?after={after}")).await,
            "after",
        );
    }
    for sort in ["email", "+name", "--name", "id"] {
        assert_invalid(&app.get(&token, &format!("/api/v1/contacts?sort={sort}")).await, "sort");
    }
    // A cursor only fits the order it came from.
    let (status, page) = app.get(&token, "/api/v1/contacts?limit=1&sort=name").await;
    assert_eq!(status, StatusCode::OK);
    let cursor = page["next"].as_str().expect("a next cursor").to_owned();
    assert_invalid(
        &app.get(&token, &format!("/api/v1/contacts?limit=1&sort=-name&after={cursor}"))
            .await,
        "after",
    );
    assert_invalid(
        &app.get(
            &token,
            &format!("/api/v1/contacts?limit=1&sort=created_at&after={cursor}"),
        )
        .await,
        "after",
    );
    // The limits themselves are fine, and the default is the name order.
    assert_eq!(app.get(&token, "/api/v1/contacts?limit=1").await.0, StatusCode::OK);
    let (status, all) = app.get(&token, "/api/v1/contacts?limit=500").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    assert!(all["next"].is_null(), "no next page after the last: {all}");
    let (_, default) = app.get(&token, "/api/v1/contacts").await;
    let names: Vec<&str> = default["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Person 0", "Person 1", "Person 2"]);
}

/// Names with duplicates, diacritics, Cyrillic, mixed case and punctuation.
const NAMES: [&str; 25] = [
    "Anna Nowak",
    "anna nowak",
    "Anna Nowak",
    "Łukasz Wiśniewski",
    "Lukasz Wisniewski",
    "Żaneta Kowalczyk",
    "Zenon Kowalczyk",
    "Ólafur Arnalds",
    "Олександр Шевченко",
    "Ольга Іваненко",
    "Ольга Іваненко",
    "Дмитрий Петров",
    "Ştefan Popescu",
    "Stefan Popescu",
    "Ana-Maria Ionescu",
    "O'Brien",
    "Zoë Martin",
    "Émile Durand",
    "Anna Nowak",
    "Bartosz",
    "bartosz",
    "Ćwikła Sp. z o.o.",
    "Ǆemal",
    "Ярослава",
    "Ünal Demir",
];

both!(manual_clock, keyset_paging_returns_every_contact_once_in_order: keyset_paging_returns_every_contact_once_in_order_sqlite, keyset_paging_returns_every_contact_once_in_order_postgres);
async fn keyset_paging_returns_every_contact_once_in_order(app: TestApp) {
    let (_, token) = app.admin().await;
    // Creation times with ties and with steps back, so that neither order is the id order.
    let steps = [
        0, 0, 1, 0, 5, -3, 0, 2, -10, 0, 0, 7, 1, -1, 0, 3, 0, -2, 4, 0, 0, 1, -5, 0, 2,
    ];
    let mut created = Vec::new();
    for (name, step) in NAMES.iter().zip(steps) {
        app.clock().advance(chrono::Duration::seconds(step));
        created.push(app.person(&token, name).await);
    }
    let created_at = |c: &Value| -> DateTime<Utc> { serde_json::from_value(c["created_at"].clone()).unwrap() };

    let mut by_name = created.clone();
    // Alphabetically (the Unicode collation, CLDR root order), equal names by id.
    by_name.sort_by(|a, b| {
        kartoteka_core::collation::compare(a["name"].as_str().unwrap(), b["name"].as_str().unwrap())
            .then(id(a).cmp(&id(b)))
    });
    let mut by_created = created.clone();
    by_created.sort_by_key(|c| (created_at(c), id(c)));
    assert_ne!(
        ids(&by_created),
        ids(&created),
        "the test needs an order unlike the ids'"
    );

    let all_ids: HashSet<i64> = ids(&created).into_iter().collect();
    for sort in ["name", "-name", "created_at", "-created_at"] {
        let (paged, pages) = app.all_contacts(&token, sort, 7).await;
        assert_eq!(pages, 4, "25 contacts in pages of 7 ({sort})");
        let paged_ids = ids(&paged);
        let unique: HashSet<i64> = paged_ids.iter().copied().collect();
        assert_eq!(paged_ids.len(), 25, "every contact once ({sort}): {paged_ids:?}");
        assert_eq!(unique, all_ids, "every contact once ({sort})");

        // Pages joined are the whole list in one go.
        let (one_page, _) = app.all_contacts(&token, sort, 500).await;
        assert_eq!(paged_ids, ids(&one_page), "pages of 7 = one page of 500 ({sort})");

        let mut expected = match sort.trim_start_matches('-') {
            "name" => by_name.clone(),
            _ => by_created.clone(),
        };
        if sort.starts_with('-') {
            expected.reverse();
        }
        assert_eq!(paged_ids, ids(&expected), "the {sort} order");
    }

    // A page size of one walks the same list.
    let (single, pages) = app.all_contacts(&token, "-created_at", 1).await;
    assert_eq!(pages, 25);
    let mut newest_first = by_created.clone();
    newest_first.reverse();
    assert_eq!(ids(&single), ids(&newest_first));
}

both!(paging_survives_writes_between_pages: paging_survives_writes_between_pages_sqlite, paging_survives_writes_between_pages_postgres);
async fn paging_survives_writes_between_pages(app: TestApp) {
    let (_, token) = app.admin().await;
    for name in ["A1", "A2", "B1", "B2", "C1", "C2"] {
        app.person(&token, name).await;
    }
    let (status, first) = app.get(&token, "/api/v1/contacts?limit=2&sort=name").await;
    assert_eq!(status, StatusCode::OK);
    let cursor = first["next"].as_str().unwrap().to_owned();
    // A contact inserted before the cursor doesn't shift the next page; one after it shows.
    app.person(&token, "A0").await;
    app.person(&token, "B0").await;
    let (_, second) = app
        .get(&token, &format!("/api/v1/contacts?limit=3&sort=name&after={cursor}"))
        .await;
    let names: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["B0", "B1", "B2"]);
}

// A company with people can't be turned into a person (its people would point at a
// person, and every later change to them would be refused): 400 at `kind`.
both!(
    a_company_with_people_stays_a_company: a_company_with_people_stays_a_company_sqlite, a_company_with_people_stays_a_company_postgres
);
async fn a_company_with_people_stays_a_company(app: TestApp) {
    let (_, token) = app.admin().await;
    let company = app
        .create_contact(&token, &json!({"kind": "company", "type": "client", "name": "Acme"}))
        .await;
    let person = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Employee", "company_id": id(&company)}),
        )
        .await;
    let (status, _) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&company)),
            &json!({"version": 1, "kind": "person"}),
        )
        .await;
    let (_, person_now) = app.get(&token, &format!("/api/v1/contacts/{}", id(&person))).await;
    if status == StatusCode::OK {
        assert!(
            person_now["company_id"].is_null(),
            "a company that became a person has no people: {person_now}"
        );
    } else {
        assert!(
            matches!(status, StatusCode::BAD_REQUEST | StatusCode::CONFLICT),
            "either refused or the people unlinked, got {status}"
        );
    }
    let (status, body) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&person)),
            &json!({"version": person_now["version"], "city": "Kraków"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the person can still be changed: {body}");
}
