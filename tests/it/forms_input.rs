//! The contact form's inputs: numbers with a comma (read, or refused when ambiguous, never
//! turned into another number), multiselects as checkboxes, the company picker that tells
//! companies of the same name apart, and a notice after each save.

use kartoteka_tests::*;

use crate::forms::{define_fields, error_at};

both!(numbers_with_a_comma: numbers_with_a_comma_sqlite, numbers_with_a_comma_postgres);
async fn numbers_with_a_comma(app: TestApp) {
    let (user, token) = app.admin().await;
    define_fields(&app, &token).await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;

    // The inputs are text, so the browser doesn't read the comma by its locale.
    let form = app.page(&client, "/contacts/new").await;
    let score_at = form.text.find("name=\"f.score\"").unwrap();
    let tag_start = form.text[..score_at].rfind('<').unwrap();
    let tag = &form.text[tag_start..score_at + form.text[score_at..].find('>').unwrap()];
    assert!(
        !tag.contains("type=\"number\"") && tag.contains("inputmode=\"decimal\""),
        "{tag}"
    );

    // 1,5 is 1.5.
    let saved = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "warm"),
                ("name", "Comma"),
                ("f.score", "1,5"),
                ("f.budget", "12,50"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let (_, stored) = app.get(&token, &format!("/api/v1{}", saved.location().unwrap())).await;
    assert_eq!(stored["fields"]["score"], 1.5);
    assert_eq!(stored["fields"]["budget"], 12.5);

    // 1,500 could be either: refused with a message, in the form and the API alike.
    let ambiguous = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "warm"),
                ("name", "Ambiguous"),
                ("f.budget", "1,500"),
            ],
        )
        .await;
    assert_eq!(ambiguous.status, StatusCode::BAD_REQUEST);
    let message = error_at(&ambiguous.text, "f.budget").unwrap();
    assert!(message.contains("ambiguous") && message.contains("1500"), "{message}");
    let reply = app
        .post_json(
            &token,
            "/api/v1/contacts",
            &json!({"type": "warm", "name": "Api", "fields": {"budget": "1,500"}}),
        )
        .await;
    assert_invalid(&reply, "fields.budget");
    let reply = app
        .post_json(
            &token,
            "/api/v1/contacts",
            &json!({"type": "warm", "name": "Spaced", "fields": {"score": "1 5"}}),
        )
        .await;
    assert_invalid(&reply, "fields.score");
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/contacts",
            &json!({"type": "warm", "name": "Api", "fields": {"score": "2,25", "budget": "1 500"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["fields"], json!({"score": 2.25, "budget": 1500.0}));
}

both!(pickers_and_notices: pickers_and_notices_sqlite, pickers_and_notices_postgres);
async fn pickers_and_notices(app: TestApp) {
    let (user, token) = app.admin().await;
    define_fields(&app, &token).await;
    let krakow = app
        .create_contact(
            &token,
            &json!({"kind": "company", "type": "client", "name": "Acme", "city": "Kraków"}),
        )
        .await;
    let gdansk = app
        .create_contact(
            &token,
            &json!({"kind": "company", "type": "client", "name": "Acme", "city": "Gdańsk"}),
        )
        .await;
    app.create_contact(&token, &json!({"kind": "company", "type": "client", "name": "Bolt"}))
        .await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;

    // The picker searches and tells the two Acmes apart.
    let found = app.page(&client, "/contacts/companies?q=acm").await;
    assert_eq!(found.status, StatusCode::OK);
    let items: Value = serde_json::from_str(&found.text).unwrap();
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels.len(), 2, "{labels:?}");
    let gdansk_label = format!("Acme (Gdańsk) #{}", id(&gdansk));
    assert!(labels.contains(&gdansk_label.as_str()), "{labels:?}");
    assert!(labels.contains(&format!("Acme (Kraków) #{}", id(&krakow)).as_str()));
    let form = app.page(&client, "/contacts/new").await;
    assert!(form.text.contains("name=\"company\" list=\"company-options\""));
    assert!(!form.text.contains("<select name=\"company_id\""), "no plain drop-down");

    // The multiselect is checkboxes.
    for option in ["CRM", "Cloud", "Tax"] {
        assert!(
            form.text
                .contains(&format!("type=\"checkbox\" name=\"f.tags\" value=\"{option}\"")),
            "{option}"
        );
    }
    assert!(
        !form.text.contains("<select name=\"f.tags\" multiple"),
        "no Ctrl-click list"
    );

    // A chosen label saves that company; the card then says what happened.
    let created = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "warm"),
                ("name", "Picked"),
                ("company", &gdansk_label),
                ("f.tags", ""),
                ("f.tags", "CRM"),
                ("f.tags", "Tax"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let location = created.location().unwrap();
    let (_, stored) = app.get(&token, &format!("/api/v1{location}")).await;
    assert_eq!(stored["company_id"], id(&gdansk));
    assert_eq!(stored["fields"]["tags"], json!(["CRM", "Tax"]));
    let card = app.page(&client, &location).await;
    assert_eq!(element_text(&card.text, "notice").as_deref(), Some("Created Picked."));
    let again = app.page(&client, &location).await;
    assert!(element_text(&again.text, "notice").is_none(), "shown once");

    // A bare name: taken when one company has it, refused with the candidates when several.
    let bolt = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "warm"),
                ("name", "At Bolt"),
                ("company", "bolt"),
            ],
        )
        .await;
    assert_eq!(bolt.status, StatusCode::SEE_OTHER, "{}", bolt.text);
    let two = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "warm"),
                ("name", "At Acme"),
                ("company", "Acme"),
            ],
        )
        .await;
    assert_eq!(two.status, StatusCode::BAD_REQUEST);
    let message = error_at(&two.text, "company").unwrap();
    assert!(
        message.contains("several companies") && message.contains(&gdansk_label),
        "{message}"
    );
    assert!(two.text.contains("value=\"Acme\""), "what was typed stays");

    // The edit form shows the company by its label; unticking every tag clears them; the
    // save is announced.
    let contact_id = location.strip_prefix("/contacts/").unwrap();
    let edit = app.page(&client, &format!("/contacts/{contact_id}/edit")).await;
    assert!(
        edit.text.contains(&format!("value=\"{gdansk_label}\"")),
        "the current company"
    );
    let saved = app
        .submit(
            &client,
            &format!("/contacts/{contact_id}/edit"),
            &[
                ("csrf_token", &csrf),
                ("version", "1"),
                ("type", "warm"),
                ("name", "Picked"),
                ("company", &gdansk_label),
                ("f.tags", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let (_, stored) = app.get(&token, &format!("/api/v1{location}")).await;
    assert!(stored["fields"].get("tags").is_none(), "{stored}");
    assert_eq!(stored["company_id"], id(&gdansk));
    let card = app.page(&client, &location).await;
    assert_eq!(element_text(&card.text, "notice").as_deref(), Some("Saved Picked."));

    // Logging an activity and deleting say so too.
    let logged = app
        .submit(
            &client,
            &format!("/contacts/{contact_id}/activities"),
            &[("csrf_token", &csrf), ("kind", "call")],
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER);
    let card = app.page(&client, &location).await;
    assert_eq!(element_text(&card.text, "notice").as_deref(), Some("Logged a call."));
    let deleted = app
        .submit(
            &client,
            &format!("/contacts/{contact_id}/delete"),
            &[("csrf_token", &csrf), ("version", "2"), ("confirm", "on")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    let list = app.page(&client, "/contacts").await;
    assert_eq!(element_text(&list.text, "notice").as_deref(), Some("Deleted Picked."));
}
