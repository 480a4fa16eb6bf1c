//! The base's default contact type: a contact created without `type` gets it; `lead` on a
//! new base; admins change or clear it through `PUT /api/v1/settings` or the contact
//! types page; removing the type moves or clears it.

use kartoteka_tests::*;
use reqwest::Method;

async fn put_settings(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let reply = app
        .send(Method::PUT, Some(token), "/api/v1/settings", Some(&body))
        .await;
    (reply.status, reply.json())
}

async fn default_type(app: &TestApp, token: &str) -> Value {
    let (status, settings) = app.get(token, "/api/v1/settings").await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    settings["default_contact_type"].clone()
}

both!(a_contact_without_a_type_gets_the_default: a_contact_without_a_type_gets_the_default_sqlite, a_contact_without_a_type_gets_the_default_postgres);
async fn a_contact_without_a_type_gets_the_default(app: TestApp) {
    let (_, admin_token) = app.admin().await;
    let (_, agent_token) = app.agent().await;
    assert_eq!(default_type(&app, &agent_token).await, "lead", "seeded as lead");
    let created = app.create_contact(&agent_token, &json!({"name": "Just A Name"})).await;
    assert_eq!(created["type"], "lead");
    assert_eq!(created["kind"], "person");

    // Only admins change it.
    assert_error(
        &put_settings(&app, &agent_token, json!({"default_contact_type": "client"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, body) = put_settings(&app, &admin_token, json!({"default_contact_type": "client"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["default_contact_type"], "client");
    let created = app.create_contact(&admin_token, &json!({"name": "Another Name"})).await;
    assert_eq!(created["type"], "client");
    // A type given is kept.
    let typed = app
        .create_contact(&admin_token, &json!({"name": "Typed", "type": "warm"}))
        .await;
    assert_eq!(typed["type"], "warm");

    // Bad settings are refused where they are wrong, and change nothing.
    assert_invalid(
        &put_settings(&app, &admin_token, json!({"default_contact_type": "martian"})).await,
        "default_contact_type",
    );
    assert_invalid(
        &put_settings(&app, &admin_token, json!({})).await,
        "default_contact_type",
    );
    assert_invalid(
        &put_settings(
            &app,
            &admin_token,
            json!({"default_contact_type": "lead", "colour": "red"}),
        )
        .await,
        "colour",
    );
    assert_eq!(default_type(&app, &admin_token).await, "client");

    // The API document says so.
    let doc = app.send(Method::GET, None, "/api/v1/openapi.json", None).await.json();
    let settings = &doc["paths"]["/api/v1/settings"];
    assert!(settings["get"].is_object() && settings["put"].is_object(), "{settings}");
    let required = &doc["components"]["schemas"]["ContactCreate"]["required"];
    assert!(required.as_array().unwrap().contains(&json!("name")), "{required}");
    assert!(!required.as_array().unwrap().contains(&json!("type")), "{required}");

    // Cleared: a type is required again.
    let (status, body) = put_settings(&app, &admin_token, json!({"default_contact_type": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["default_contact_type"].is_null());
    assert_invalid(
        &app.post_json(&admin_token, "/api/v1/contacts", &json!({"name": "No Type"}))
            .await,
        "type",
    );
}

// Removing the default type moves the default along with its contacts, or clears it.
both!(removing_the_default_type_moves_or_clears_it: removing_the_default_type_moves_or_clears_it_sqlite, removing_the_default_type_moves_or_clears_it_postgres);
async fn removing_the_default_type_moves_or_clears_it(app: TestApp) {
    let (_, token) = app.admin().await;
    put_settings(&app, &token, json!({"default_contact_type": "supplier"})).await;
    let supplied = app.create_contact(&token, &json!({"name": "Parts Ltd"})).await;
    assert_eq!(supplied["type"], "supplier");
    let (status, body) = app
        .delete(&token, "/api/v1/contact-types/supplier?reassign_to=contractor")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(
        default_type(&app, &token).await,
        "contractor",
        "moved with the contacts"
    );
    let (status, body) = app
        .delete(&token, "/api/v1/contact-types/contractor?reassign_to=client")
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(default_type(&app, &token).await, "client");

    put_settings(&app, &token, json!({"default_contact_type": "remote"})).await;
    let (status, body) = app.delete(&token, "/api/v1/contact-types/remote").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(
        default_type(&app, &token).await.is_null(),
        "an unused type goes, and the default with it"
    );
    assert_invalid(
        &app.post_json(&token, "/api/v1/contacts", &json!({"name": "No Type"}))
            .await,
        "type",
    );
}

// The contact types page shows the default and lets an admin change it.
both!(the_types_page_sets_the_default: the_types_page_sets_the_default_sqlite, the_types_page_sets_the_default_postgres);
async fn the_types_page_sets_the_default(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    let page = app.page(&client, "/contact-types").await;
    assert_eq!(page.status, StatusCode::OK);
    let form = element_html(&page.text, "default-type").expect("a default type form");
    assert!(form.contains("value=\"lead\" selected"), "{form}");

    let saved = app
        .submit(
            &client,
            "/contact-types/default-type",
            &[("csrf_token", &csrf), ("default_contact_type", "warm")],
        )
        .await;
    assert!(saved.status.is_redirection(), "{} {}", saved.status, saved.text);
    assert_eq!(default_type(&app, &token).await, "warm");
    let page = app.page(&client, "/contact-types").await;
    let form = element_html(&page.text, "default-type").unwrap();
    assert!(form.contains("value=\"warm\" selected"), "{form}");

    let cleared = app
        .submit(
            &client,
            "/contact-types/default-type",
            &[("csrf_token", &csrf), ("default_contact_type", "")],
        )
        .await;
    assert!(cleared.status.is_redirection(), "{}", cleared.status);
    assert!(default_type(&app, &token).await.is_null());

    // Agents see which type it is, with no form.
    let (agent, _) = app.agent().await;
    put_settings(&app, &token, json!({"default_contact_type": "client"})).await;
    let (agent_client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    let page = app.page(&agent_client, "/contact-types").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(element_html(&page.text, "default-type").is_none());
    assert!(page.text.contains("get <strong>Client</strong>"), "{}", page.text);
}
