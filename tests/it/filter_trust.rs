//! Filters can't be used past the access rules or past the limits: a value with a control
//! character or over 64 KiB is refused at its path before any plugin or database sees it;
//! a condition on a related record (`company`) reads only what the user may see; the
//! filter catalogue shows users' e-mail addresses to admins only.

use kartoteka_core::contacts::{Access, Grantee};
use kartoteka_tests::*;

async fn count(app: &TestApp, token: &str, filter: &Value) -> (StatusCode, Value) {
    app.get(
        token,
        &format!("/api/v1/contacts/count?filter={}", urlencode(&filter.to_string())),
    )
    .await
}

async fn list(app: &TestApp, token: &str, filter: &Value) -> (StatusCode, Value) {
    app.get(
        token,
        &format!("/api/v1/contacts?filter={}", urlencode(&filter.to_string())),
    )
    .await
}

async fn segments(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app.get(token, "/api/v1/segments").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

// NUL (PostgreSQL refuses it, SQLite cuts the text at it) and other control characters
// in a value: 400 at the value's path on lists, counts, previews and saving a segment,
// and no segment is saved.
both!(control_characters_in_filter_values_are_refused: control_characters_in_filter_values_are_refused_sqlite, control_characters_in_filter_values_are_refused_postgres);
async fn control_characters_in_filter_values_are_refused(app: TestApp) {
    let (_, token) = app.admin().await;
    app.person(&token, "Anna Nowak").await;
    app.person(&token, "Jan Kowalski").await;
    for value in [
        json!("\u{0}"),
        json!("a\u{0}"),
        json!("\u{7}"),
        json!(["Anna", "\u{0}"]),
    ] {
        let op = if value.is_array() { "in_list" } else { "contains" };
        let filter = json!({"and": [{"field": "name", "op": op, "value": value}]});
        assert_invalid(&count(&app, &token, &filter).await, "and[0].value");
        assert_invalid(&list(&app, &token, &filter).await, "and[0].value");
        assert_invalid(
            &app.post_json(&token, "/api/v1/segments/preview", &json!({"filter": filter}))
                .await,
            "filter.and[0].value",
        );
        assert_invalid(
            &app.post_json(
                &token,
                "/api/v1/segments",
                &json!({"name": "With NUL", "kind": "dynamic", "filter": filter}),
            )
            .await,
            "filter.and[0].value",
        );
    }
    // Inside a `happened` value too, and at the top level of a filter.
    let nested = json!({"field": "activity.page_visit", "op": "happened", "value": {"where": {"path": "/a\u{0}"}}});
    assert_invalid(&count(&app, &token, &nested).await, "value");
    assert!(segments(&app, &token).await.is_empty(), "nothing was saved");
    // Tabs and newlines are text.
    let (status, body) = count(
        &app,
        &token,
        &json!({"field": "name", "op": "contains", "value": "a\tb"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 0);
}

// A value over 64 KiB is refused at its path with a 400, before lowering: not a 502 from
// the plugin it would have reached.
both!(oversized_filter_values_are_refused_at_their_path: oversized_filter_values_are_refused_at_their_path_sqlite, oversized_filter_values_are_refused_at_their_path_postgres);
async fn oversized_filter_values_are_refused_at_their_path(app: TestApp) {
    let (_, token) = app.admin().await;
    app.person(&token, "Anna Nowak").await;
    let long = "x".repeat(70 * 1024);
    let many: Vec<String> = (0..7_000).map(|i| format!("name{i:06}")).collect();
    for filter in [
        json!({"or": [{"field": "city", "op": "eq", "value": "Kraków"}, {"field": "name", "op": "contains", "value": long}]}),
        json!({"or": [{"field": "city", "op": "eq", "value": "Kraków"}, {"field": "name", "op": "in_list", "value": many}]}),
    ] {
        let preview = app
            .post_json(&token, "/api/v1/segments/preview", &json!({"filter": filter}))
            .await;
        assert_invalid(&preview, "filter.or[1].value");
        assert!(
            preview.1["error"]["message"].as_str().unwrap().contains("65536"),
            "says the limit: {}",
            preview.1
        );
        assert_invalid(
            &app.post_json(
                &token,
                "/api/v1/segments",
                &json!({"name": "Huge", "kind": "dynamic", "filter": filter}),
            )
            .await,
            "filter.or[1].value",
        );
    }
    assert!(segments(&app, &token).await.is_empty());
    // One text is limited to 16 KiB (a text match is a pattern in SQL).
    let text = |value: String| json!({"filter": {"and": [{"field": "name", "op": "contains", "value": value}]}});
    assert_invalid(
        &app.post_json(&token, "/api/v1/segments/preview", &text("y".repeat(16 * 1024 + 1)))
            .await,
        "filter.and[0].value",
    );
    // Just under the limits still runs, whatever the characters.
    for fits in [
        text("*".repeat(16 * 1024)),
        text("[%_?\\".repeat(16 * 1024 / 5)),
        json!({"filter": {"field": "name", "op": "in_list", "value": many[..5_000]}}),
    ] {
        let (status, body) = app.post_json(&token, "/api/v1/segments/preview", &fits).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["count"], 0);
    }
}

// An agent's contact works at a company the agent can't see: a filter on `company` finds
// it neither by that company's name nor counts it; a visible company is found as before;
// an admin sees both. The same for a manager's preview and for adding matches to a list.
both!(company_conditions_see_only_visible_companies: company_conditions_see_only_visible_companies_sqlite, company_conditions_see_only_visible_companies_postgres);
async fn company_conditions_see_only_visible_companies(app: TestApp) {
    let (admin, admin_token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let (manager, manager_token) = app.user(Role::Manager).await;
    let company = |name: &str| {
        let token = admin_token.clone();
        let name = name.to_owned();
        let app = &app;
        async move {
            id(&app
                .create_contact(&token, &json!({"kind": "company", "type": "client", "name": name}))
                .await)
        }
    };
    let hidden = company("Hiddencorp").await;
    let open = company("Opencorp").await;
    app.core()
        .contacts()
        .grant_access(&admin.actor(), open, Grantee::User(agent.id), Access::Read)
        .await
        .unwrap();
    app.core()
        .contacts()
        .grant_access(&admin.actor(), open, Grantee::User(manager.id), Access::Read)
        .await
        .unwrap();
    for (owner, name, at) in [
        (agent.id, "Agent At Hidden", hidden),
        (agent.id, "Agent At Open", open),
        (manager.id, "Manager At Hidden", hidden),
    ] {
        app.create_contact(
            &admin_token,
            &json!({"type": "warm", "name": name, "owner": owner, "company_id": at}),
        )
        .await;
    }
    let by = |op: &str, value: &str| json!({"and": [{"field": "company", "op": op, "value": value}]});
    for filter in [
        by("contains", "Hiddencorp"),
        by("contains", "hiddencorp"),
        by("eq", "Hiddencorp"),
        by("starts_with", "Hidden"),
    ] {
        let (status, body) = count(&app, &agent_token, &filter).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["count"], 0, "{filter}: no count by a hidden company's name");
        let (_, page) = list(&app, &agent_token, &filter).await;
        assert_eq!(page["items"], json!([]), "{filter}");
        let (_, all) = count(&app, &admin_token, &filter).await;
        assert_eq!(all["count"], 2, "{filter}: the admin sees both");
    }
    // Negations don't reveal it either: the hidden company reads as no company.
    let not_hidden = json!({"not": by("contains", "Hiddencorp")});
    let (_, body) = count(&app, &agent_token, &not_hidden).await;
    assert_eq!(body["count"], 3, "every contact the agent sees: {body}");
    let (_, body) = count(&app, &agent_token, &by("contains", "Opencorp")).await;
    assert_eq!(body["count"], 1, "a visible company is found");

    // A manager's preview and adding matches to a static list see what the manager sees.
    let (status, preview) = app
        .post_json(
            &manager_token,
            "/api/v1/segments/preview",
            &json!({"filter": by("contains", "Hiddencorp")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["count"], 0, "{preview}");
    assert_eq!(preview["joining"]["count"], 0, "{preview}");
    let (status, list_) = app
        .post_json(
            &manager_token,
            "/api/v1/segments",
            &json!({"name": "Picked", "kind": "static"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{list_}");
    let (status, added) = app
        .post_json(
            &manager_token,
            &format!("/api/v1/segments/{}/members", id(&list_)),
            &json!({"filter": by("contains", "Hiddencorp")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["joined"], 0, "{added}");
}

// `/filter-fields` lists owners' e-mail addresses to admins only.
both!(filter_fields_show_emails_to_admins_only: filter_fields_show_emails_to_admins_only_sqlite, filter_fields_show_emails_to_admins_only_postgres);
async fn filter_fields_show_emails_to_admins_only(app: TestApp) {
    let (admin, admin_token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let (_, manager_token) = app.user(Role::Manager).await;
    let owner_options = |catalog: &Value| -> Vec<String> {
        catalog["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == "owner")
            .expect("an owner field")["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o.as_str().unwrap().to_owned())
            .collect()
    };
    let (status, catalog) = app.get(&admin_token, "/api/v1/filter-fields").await;
    assert_eq!(status, StatusCode::OK);
    assert!(owner_options(&catalog).contains(&agent.email), "{catalog}");
    for token in [&agent_token, &manager_token] {
        let (status, catalog) = app.get(token, "/api/v1/filter-fields").await;
        assert_eq!(status, StatusCode::OK);
        let text = catalog.to_string();
        assert!(owner_options(&catalog).is_empty(), "{catalog}");
        assert!(!text.contains(&admin.email) && !text.contains("@example.com"), "{text}");
    }
    // The filter builder's catalogue on the pages, too.
    let (client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    let page = app.page(&client, "/contacts/filter-fields").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains("@example.com"), "{}", page.text);
}
