//! Global search (`q=`): case- and accent-insensitive word prefixes over the contact's
//! text and its searchable fields, kept in step with every write, on both databases;
//! through the API and the contacts page.

use std::collections::HashSet;

use kartoteka_core::contacts::{Access, Grantee};
use kartoteka_tests::*;

/// Percent-encodes a query string value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The ids `GET /contacts?q=` answers with (one page of up to 500), as a set.
async fn search(app: &TestApp, token: &str, q: &str) -> HashSet<i64> {
    let path = format!("/api/v1/contacts?limit=500&q={}", encode(q));
    let (status, page) = app.get(token, &path).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {page}");
    assert!(page["next"].is_null(), "one page: {page}");
    ids(page["items"].as_array().unwrap()).into_iter().collect()
}

fn set(ids: &[i64]) -> HashSet<i64> {
    ids.iter().copied().collect()
}

both!(folds_case_and_accents_and_matches_prefixes: folds_case_and_accents_and_matches_prefixes_sqlite, folds_case_and_accents_and_matches_prefixes_postgres);
async fn folds_case_and_accents_and_matches_prefixes(app: TestApp) {
    let (_, token) = app.admin().await;
    let jan = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Jan Kowalski", "city": "Łódź"}),
        )
        .await);
    let olena = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Olena Шевченко", "city": "Київ"}),
        )
        .await);
    let stefan = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Ștefan Popescu", "city": "București"}),
        )
        .await);
    let anna = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Anna Nowak", "city": "Kraków", "email": "anna@straße.example"}),
        )
        .await);

    assert_eq!(search(&app, &token, "lodz").await, set(&[jan]), "lodz finds Łódź");
    assert_eq!(search(&app, &token, "ŁÓDŹ").await, set(&[jan]));
    assert_eq!(search(&app, &token, "КИЇВ").await, set(&[olena]), "КИЇВ finds Київ");
    assert_eq!(search(&app, &token, "шевч").await, set(&[olena]), "Cyrillic prefixes");
    assert_eq!(
        search(&app, &token, "kowal").await,
        set(&[jan]),
        "a prefix finds Kowalski"
    );
    assert_eq!(search(&app, &token, "KOWALSKI").await, set(&[jan]));
    assert_eq!(
        search(&app, &token, "owalski").await,
        set(&[]),
        "prefixes only, not infixes"
    );
    assert_eq!(search(&app, &token, "stefan").await, set(&[stefan]));
    assert_eq!(
        search(&app, &token, "Ştefan").await,
        set(&[stefan]),
        "cedilla for comma below"
    );
    assert_eq!(search(&app, &token, "bucuresti").await, set(&[stefan]));
    assert_eq!(
        search(&app, &token, "strasse").await,
        set(&[anna]),
        "ß is ss, in e-mails too"
    );

    // Every word must match, in any column and any order.
    assert_eq!(search(&app, &token, "jan lodz").await, set(&[jan]));
    assert_eq!(search(&app, &token, "lodz jan").await, set(&[jan]));
    assert_eq!(
        search(&app, &token, "jan krakow").await,
        set(&[]),
        "two words must both match"
    );
    assert_eq!(search(&app, &token, "anna krak").await, set(&[anna]));
    assert_eq!(
        search(&app, &token, "Kowalski, Jan!").await,
        set(&[jan]),
        "punctuation separates words"
    );
}

both!(searchable_fields_are_found_others_are_not: searchable_fields_are_found_others_are_not_sqlite, searchable_fields_are_found_others_are_not_postgres);
async fn searchable_fields_are_found_others_are_not(app: TestApp) {
    let (_, token) = app.admin().await;
    for (key, searchable) in [("nickname", true), ("secret", false)] {
        let (status, body) = app
            .post_json(
                &token,
                "/api/v1/fields",
                &json!({"key": key, "label": key, "kind": "text", "searchable": searchable}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "tags", "label": "Tags", "kind": "multiselect", "options": ["Żeglarstwo", "Golf"], "searchable": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let contact = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Marek Zieliński",
                    "fields": {"nickname": "Żaba", "secret": "Tajemnica", "tags": ["Żeglarstwo"]}}),
        )
        .await;
    let marek = id(&contact);
    let other = id(&app.person(&token, "Someone Else").await);

    assert_eq!(
        search(&app, &token, "zaba").await,
        set(&[marek]),
        "a searchable field is found"
    );
    assert_eq!(
        search(&app, &token, "zegl").await,
        set(&[marek]),
        "each option of a list"
    );
    assert_eq!(
        search(&app, &token, "tajemnica").await,
        set(&[]),
        "a non-searchable one isn't"
    );

    // Turning the field searchable makes the values already stored findable at once.
    let (status, body) = app
        .patch_json(&token, "/api/v1/fields/secret", &json!({"searchable": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(search(&app, &token, "tajemn").await, set(&[marek]));
    let (_, after) = app.get(&token, &format!("/api/v1/contacts/{marek}")).await;
    assert_eq!(
        after["version"], contact["version"],
        "reindexing is not a change of the contact"
    );

    // And back.
    let (status, body) = app
        .patch_json(&token, "/api/v1/fields/nickname", &json!({"searchable": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(search(&app, &token, "zaba").await, set(&[]));

    // A change of kind keeps what is searchable findable (text -> long_text).
    let (status, body) = app
        .patch_json(&token, "/api/v1/fields/secret", &json!({"kind": "long_text"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(search(&app, &token, "tajemnica").await, set(&[marek]));

    // Removing a field with its values removes its words.
    let (status, body) = app.delete(&token, "/api/v1/fields/secret?drop_values=true").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(search(&app, &token, "tajemnica").await, set(&[]));
    assert_eq!(search(&app, &token, "marek").await, set(&[marek]), "the rest stays");
    assert_eq!(search(&app, &token, "someone").await, set(&[other]));
}

both!(writes_change_what_is_found: writes_change_what_is_found_sqlite, writes_change_what_is_found_postgres);
async fn writes_change_what_is_found(app: TestApp) {
    let (_, token) = app.admin().await;
    let contact = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Jan Kowalski", "city": "Łódź"}),
        )
        .await;
    let jan = id(&contact);
    assert_eq!(search(&app, &token, "lodz").await, set(&[jan]));

    let (status, patched) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{jan}"),
            &json!({"version": contact["version"], "city": "Gdańsk", "name": "Jan Nowicki"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(search(&app, &token, "lodz").await, set(&[]), "the old city is gone");
    assert_eq!(search(&app, &token, "kowalski").await, set(&[]), "the old name is gone");
    assert_eq!(search(&app, &token, "gdansk").await, set(&[jan]));
    assert_eq!(search(&app, &token, "nowick").await, set(&[jan]));

    let (status, _) = app.delete(&token, &format!("/api/v1/contacts/{jan}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        search(&app, &token, "gdansk").await,
        set(&[]),
        "a deleted contact is gone"
    );
}

both!(agents_find_only_what_they_see: agents_find_only_what_they_see_sqlite, agents_find_only_what_they_see_postgres);
async fn agents_find_only_what_they_see(app: TestApp) {
    let (admin, admin_token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let hidden = id(&app.person(&admin_token, "Kowalski Ukryty").await);
    let own = id(&app.person(&agent_token, "Kowalski Własny").await);

    assert_eq!(
        search(&app, &agent_token, "kowalski").await,
        set(&[own]),
        "never the invisible one"
    );
    assert_eq!(search(&app, &agent_token, "ukryty").await, set(&[]));
    assert_eq!(search(&app, &admin_token, "kowalski").await, set(&[hidden, own]));

    app.core()
        .contacts()
        .grant_access(&admin.actor(), hidden, Grantee::User(agent.id), Access::Read)
        .await
        .unwrap();
    assert_eq!(
        search(&app, &agent_token, "kowalski").await,
        set(&[hidden, own]),
        "a grant shows it"
    );
}

both!(queries_without_words_or_with_syntax_are_harmless: queries_without_words_or_with_syntax_are_harmless_sqlite, queries_without_words_or_with_syntax_are_harmless_postgres);
async fn queries_without_words_or_with_syntax_are_harmless(app: TestApp) {
    let (_, token) = app.admin().await;
    let jan = id(&app.person(&token, "Jan Kowalski").await);
    let anna = id(&app.person(&token, "Anna O'Brien").await);
    let everyone = set(&[jan, anna]);

    for q in ["", "   ", "!!!", "*", "\"", "'", "--", "& | ! :*", "()", "%_"] {
        assert_eq!(
            search(&app, &token, q).await,
            everyone,
            "`{q}` has no words: no condition"
        );
    }
    let sql_ish = [
        ("'; DROP TABLE contacts; --", set(&[])),
        ("\" OR 1=1 --", set(&[])),
        ("kowalski\" OR \"anna", set(&[])),
        ("kowal*", set(&[jan])),
        ("NEAR(kowalski anna)", set(&[])),
        ("jan:* | anna", set(&[])),
        ("o'brien", set(&[anna])),
        ("\\kowalski\\", set(&[jan])),
        ("a AND NOT b", set(&[])),
        ("anna OR", set(&[])),
    ];
    for (q, expected) in sql_ish {
        assert_eq!(search(&app, &token, q).await, expected, "`{q}`");
    }
    assert_eq!(search(&app, &token, "").await, everyone, "the table is still there");

    let too_many = "a ".repeat(17);
    assert_invalid(
        &app.get(&token, &format!("/api/v1/contacts?q={}", encode(&too_many)))
            .await,
        "q",
    );
}

both!(search_pages_by_keyset_with_sort: search_pages_by_keyset_with_sort_sqlite, search_pages_by_keyset_with_sort_postgres);
async fn search_pages_by_keyset_with_sort(app: TestApp) {
    let (_, token) = app.admin().await;
    let mut matching = Vec::new();
    for i in 0..7 {
        matching.push(id(&app.person(&token, &format!("Łukasz {i:02}")).await));
        app.person(&token, &format!("Other {i:02}")).await;
    }
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/api/v1/contacts?limit=3&sort=-name&q=lukasz".to_owned();
        if let Some(cursor) = &after {
            path.push_str(&format!("&after={cursor}"));
        }
        let (status, page) = app.get(&token, &path).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {page}");
        seen.extend(ids(page["items"].as_array().unwrap()));
        pages += 1;
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    matching.reverse();
    assert_eq!(seen, matching, "every match once, newest name first, nothing else");
    assert_eq!(pages, 3);
}

both!(existing_rows_are_backfilled: existing_rows_are_backfilled_sqlite, existing_rows_are_backfilled_postgres);
async fn existing_rows_are_backfilled(app: TestApp) {
    let (_, token) = app.admin().await;
    let jan = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Jan Kowalski", "city": "Łódź"}),
        )
        .await);
    // As a row from before the folded columns existed looks.
    let db = app.core().db();
    sea_orm::ConnectionTrait::execute_unprepared(db, "UPDATE contacts SET name_folded = NULL, search_doc = ''")
        .await
        .unwrap();
    assert_eq!(search(&app, &token, "lodz").await, set(&[]));
    let filled = kartoteka_core::contacts::derived::backfill(db).await.unwrap();
    assert_eq!(filled, 1);
    assert_eq!(search(&app, &token, "lodz").await, set(&[jan]));
    assert_eq!(
        kartoteka_core::contacts::derived::backfill(db).await.unwrap(),
        0,
        "once"
    );
}

both!(contacts_page_searches_and_keeps_the_search: contacts_page_searches_and_keeps_the_search_sqlite, contacts_page_searches_and_keeps_the_search_postgres);
async fn contacts_page_searches_and_keeps_the_search(app: TestApp) {
    let (admin, token) = app.admin().await;
    let mut matching = HashSet::new();
    for i in 0..52 {
        matching.insert(id(&app
            .create_contact(
                &token,
                &json!({"type": "client", "name": format!("Osoba {i:02}"), "city": "Łódź"}),
            )
            .await));
    }
    let elsewhere = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Osoba Gdańska", "city": "Gdańsk"}),
        )
        .await);
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;

    let first = app.page(&client, "/contacts?q=LODZ").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert!(
        first.text.contains("type=\"search\" name=\"q\" value=\"LODZ\""),
        "the box shows the search"
    );
    assert!(
        element_text(&first.text, "contacts-total").is_some_and(|t| t.contains("52 found")),
        "{:?}",
        element_text(&first.text, "contacts-total")
    );
    let mut found: HashSet<i64> = row_ids(&first.text).into_iter().collect();
    assert_eq!(found.len(), 50);
    let html = unescape_html(&first.text);
    assert!(
        html.contains("/contacts?sort=-name&q=LODZ"),
        "sort links keep the search"
    );
    let next = html
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|u| u.contains("after="))
        .expect("a next page link")
        .to_owned();
    assert!(next.contains("q=LODZ"), "the next page keeps the search: {next}");

    let second = app.page(&client, &next).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    found.extend(row_ids(&second.text));
    assert_eq!(found, matching, "two pages: every match, and only matches");
    assert!(!found.contains(&elsewhere));

    let none = app.page(&client, "/contacts?q=nobody-here").await;
    assert_eq!(none.status, StatusCode::OK);
    assert!(none.text.contains("id=\"no-match\""), "says nothing matches");

    let all = app.page(&client, "/contacts?q=%21%21").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(element_text(&all.text, "contacts-total").is_some_and(|t| t.contains("53")));
}
