//! Trust in the contact forms and the API's checks: values shown as stored, extra fields by
//! type (a value that doesn't apply refused, never dropped), every problem at once with
//! every typed value kept. Numbers, checkboxes, the company picker and notices:
//! `forms_input.rs`; in a browser: `forms_browser.rs`.

use kartoteka_tests::*;

/// Defines the extra fields these tests use: `industry` and `nps` for clients only, the
/// rest for every type.
pub(crate) async fn define_fields(app: &TestApp, token: &str) {
    for field in [
        json!({"key": "industry", "label": "Industry", "kind": "select", "options": ["IT", "Retail", "Training"], "applies_to": ["client"]}),
        json!({"key": "nps", "label": "NPS", "kind": "integer", "applies_to": ["client"]}),
        json!({"key": "motto", "label": "Motto", "kind": "text"}),
        json!({"key": "score", "label": "Score", "kind": "number"}),
        json!({"key": "budget", "label": "Budget", "kind": "money"}),
        json!({"key": "met_at", "label": "Met at", "kind": "datetime"}),
        json!({"key": "tags", "label": "Tags", "kind": "multiselect", "options": ["CRM", "Cloud", "Tax"]}),
    ] {
        let (status, body) = app.post_json(token, "/api/v1/fields", &field).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

/// The opening tag of the extra field box for input `name` (`f.industry`).
fn field_box(html: &str, name: &str) -> String {
    let needle = format!("data-field=\"{name}\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("a box for {name} in the form"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    html[start..=end].to_owned()
}

/// The error message shown with input `name`: the first `<span class="error">` after it
/// within its label (an extra field's: within its box).
pub(crate) fn error_at(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let stop = if name.starts_with("f.") {
        "</fieldset>"
    } else {
        "</label>"
    };
    let scope = &rest[..rest.find(stop).unwrap_or(rest.len())];
    let start = scope.find("<span class=\"error\">")? + "<span class=\"error\">".len();
    let end = scope[start..].find("</span>")? + start;
    Some(unescape_html(&scope[start..end]))
}

fn problems(body: &Value) -> Vec<(String, String)> {
    body["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("details in {body}"))
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap().to_owned(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

both!(the_card_shows_values_as_stored: the_card_shows_values_as_stored_sqlite, the_card_shows_values_as_stored_postgres);
async fn the_card_shows_values_as_stored(app: TestApp) {
    let (user, token) = app.admin().await;
    define_fields(&app, &token).await;
    let contact = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Tina", "fields": {
                "industry": "IT", "motto": "Training Tuesday at TEDx",
                "met_at": "2026-11-23T14:05:00Z", "tags": ["CRM", "Tax"], "budget": 1500}}),
        )
        .await;
    let (client, _) = app.signed_in_client(&user.email, PASSWORD).await;
    let card = app.page(&client, &format!("/contacts/{}", id(&contact))).await;
    assert_eq!(card.status, StatusCode::OK);
    let fields = unescape_html(&element_html(&card.text, "extra-fields").unwrap());
    for shown in [
        "<dd>IT</dd>",
        "<dd>Training Tuesday at TEDx</dd>",
        "<dd>2026-11-23 14:05:00 UTC</dd>",
        "<dd>CRM, Tax</dd>",
        "<dd>1500.00</dd>",
    ] {
        assert!(fields.contains(shown), "{shown} in {fields}");
    }
}

both!(extra_fields_follow_the_type: extra_fields_follow_the_type_sqlite, extra_fields_follow_the_type_postgres);
async fn extra_fields_follow_the_type(app: TestApp) {
    let (user, token) = app.admin().await;
    define_fields(&app, &token).await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;

    // Without a type, only the fields of every type are shown; a client's are hidden and
    // disabled (not sent) until the type is a client.
    let blank = app.page(&client, "/contacts/new").await;
    assert_eq!(blank.status, StatusCode::OK);
    let industry = field_box(&blank.text, "f.industry");
    assert!(
        industry.contains(" hidden") && industry.contains(" disabled"),
        "{industry}"
    );
    assert!(industry.contains("data-types=\"client\""), "{industry}");
    let motto = field_box(&blank.text, "f.motto");
    assert!(
        !motto.contains("hidden") && motto.contains("data-types=\"*\""),
        "{motto}"
    );
    assert!(blank.text.contains("src=\"/assets/contact-form.js\""));
    let script = app.page(&client, "/assets/contact-form.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.text.contains("data-types"));
    let for_client = app.page(&client, "/contacts/new?type=client").await;
    assert!(!field_box(&for_client.text, "f.industry").contains("hidden"));
    let for_lead = app.page(&client, "/contacts/new?type=cold").await;
    assert!(field_box(&for_lead.text, "f.nps").contains("hidden"));

    // A lead with a client's values is refused at each value, not saved without them.
    let refused = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "cold"),
                ("name", "Lead With Extras"),
                ("f.nps", "9"),
                ("f.industry", "IT"),
                ("f.motto", "Hello"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    for name in ["f.nps", "f.industry"] {
        let message = error_at(&refused.text, name).unwrap_or_else(|| panic!("an error at {name}: {}", refused.text));
        assert!(message.contains("does not apply to contacts of type Cold"), "{message}");
        let shown = field_box(&refused.text, name);
        assert!(!shown.contains("hidden") && shown.contains("data-na"), "{shown}");
    }
    assert!(refused.text.contains("value=\"9\""), "the value is kept");
    assert!(
        refused.text.contains("<option selected>IT</option>"),
        "the choice is kept"
    );
    assert!(refused.text.contains("value=\"Hello\""));
    let (_, found) = app.get(&token, "/api/v1/contacts?q=Extras").await;
    assert_eq!(found["items"], json!([]), "nothing saved");

    // The API refuses the same, every value at its path.
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/contacts",
            &json!({"type": "cold", "name": "Lead", "fields": {"nps": 9, "industry": "IT"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut paths: Vec<String> = problems(&body).into_iter().map(|(p, _)| p).collect();
    paths.sort();
    assert_eq!(paths, ["fields.industry", "fields.nps"]);

    // For a client they are kept.
    let saved = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "client"),
                ("name", "Client With Extras"),
                ("f.nps", "9"),
                ("f.industry", "IT"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let location = saved.location().unwrap();
    let (_, stored) = app.get(&token, &format!("/api/v1{location}")).await;
    assert_eq!(stored["fields"], json!({"nps": 9, "industry": "IT"}));
}

both!(the_api_reports_every_problem: the_api_reports_every_problem_sqlite, the_api_reports_every_problem_postgres);
async fn the_api_reports_every_problem(app: TestApp) {
    let (_, token) = app.admin().await;
    define_fields(&app, &token).await;
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/contacts",
            &json!({"type": "nope", "name": " ", "email": "not-mail", "phone": "call me",
                    "latitude": 100.0, "longitude": 0.0, "owner": 999999,
                    "fields": {"score": "abc", "unknown": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    let all = problems(&body);
    let paths: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    for path in [
        "type",
        "name",
        "email",
        "phone",
        "latitude",
        "owner",
        "fields.score",
        "fields.unknown",
    ] {
        assert!(paths.contains(&path), "{path} in {paths:?}");
    }
    assert_eq!(body["error"]["path"], all[0].0.as_str(), "the first problem's path");
    assert_eq!(
        body["error"]["message"],
        all[0].1.as_str(),
        "the first problem's message"
    );

    // A patch too.
    let contact = app.person(&token, "Patched").await;
    let (status, body) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&contact)),
            &json!({"version": 1, "email": "x", "postal_code": "0123456789012345678901234", "fields": {"budget": "1.234"}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut paths: Vec<String> = problems(&body).into_iter().map(|(p, _)| p).collect();
    paths.sort();
    assert_eq!(paths, ["email", "fields.budget", "postal_code"]);

    // A batch of activities: every bad item, by index.
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!([
                {"contact_id": id(&contact), "kind": "dance"},
                {"contact_id": id(&contact), "kind": "call"},
                {"contact_id": id(&contact), "kind": "purchase", "amount": 1e20},
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let paths: Vec<String> = problems(&body).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["[0].kind", "[2].amount"]);
    assert_eq!(body["error"]["path"], "[0].kind");

    // The OpenAPI document says so.
    let doc = app
        .send(reqwest::Method::GET, None, "/api/v1/openapi.json", None)
        .await
        .json();
    let details = &doc["components"]["schemas"]["ErrorDetail"]["properties"]["details"];
    let shapes = details["oneOf"]
        .as_array()
        .unwrap_or_else(|| panic!("oneOf in {details}"));
    assert!(
        shapes
            .iter()
            .any(|s| s["type"] == "array" && s["items"]["required"] == json!(["path", "message"])),
        "{details}"
    );

    // A single problem has its details too.
    let (status, body) = app
        .post_json(&token, "/api/v1/contacts", &json!({"type": "warm", "name": ""}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problems(&body), [("name".to_owned(), "is required".to_owned())]);
}

both!(a_form_shows_every_problem_and_keeps_every_value: a_form_shows_every_problem_sqlite, a_form_shows_every_problem_postgres);
async fn a_form_shows_every_problem_and_keeps_every_value(app: TestApp) {
    let (user, token) = app.admin().await;
    let (agent, _) = app.agent().await;
    define_fields(&app, &token).await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;
    let agent_id = agent.id.to_string();
    let bad = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("kind", "person"),
                ("type", "warm"),
                ("name", "Ola Nowak"),
                ("email", "ola-at-example"),
                ("city", "Łódź"),
                ("postal_code", "0123456789012345678901234"),
                ("latitude", "north"),
                ("longitude", "19,45"),
                ("owner", &agent_id),
                ("f.score", "abc"),
                ("f.motto", "Keep me"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let html = &bad.text;
    assert!(html.contains("4 problems"), "a summary: {html}");
    for (name, says) in [
        ("email", "is not an email address"),
        ("postal_code", "at most 20 characters"),
        ("latitude", "`north` is not a number"),
        ("f.score", "`abc` is not a number"),
    ] {
        let message = error_at(html, name).unwrap_or_else(|| panic!("an error at {name}: {html}"));
        assert!(message.contains(says), "{name}: {message}");
    }
    // Every value as typed, the bad ones included.
    for kept in [
        "value=\"Ola Nowak\"",
        "value=\"ola-at-example\"",
        "value=\"Łódź\"",
        "value=\"north\"",
        "value=\"19,45\"",
        "value=\"abc\"",
        "value=\"Keep me\"",
    ] {
        assert!(html.contains(kept), "{kept} kept");
    }
    assert!(
        html.contains(&format!("<option value=\"{agent_id}\" selected>")),
        "the owner stays the one chosen"
    );
    assert!(html.contains("<option value=\"warm\" selected>"), "the type stays");

    // The edit form the same, and the stored contact is untouched.
    let contact = app
        .create_contact(&token, &json!({"type": "warm", "name": "Edited", "city": "Kraków"}))
        .await;
    let edit_url = format!("/contacts/{}/edit", id(&contact));
    let bad_edit = app
        .submit(
            &client,
            &edit_url,
            &[
                ("csrf_token", &csrf),
                ("version", "1"),
                ("type", "warm"),
                ("name", ""),
                ("city", "Gdańsk"),
                ("latitude", "1,500"),
                ("longitude", "2"),
            ],
        )
        .await;
    assert_eq!(bad_edit.status, StatusCode::BAD_REQUEST, "{}", bad_edit.text);
    assert!(error_at(&bad_edit.text, "name").is_some_and(|m| m.contains("is required")));
    assert!(error_at(&bad_edit.text, "latitude").is_some_and(|m| m.contains("ambiguous")));
    assert!(bad_edit.text.contains("value=\"Gdańsk\""));
    let (_, stored) = app.get(&token, &format!("/api/v1/contacts/{}", id(&contact))).await;
    assert_eq!(stored["city"], "Kraków");
    assert_eq!(stored["version"], 1);

    // The activity form keeps its kind, time, amount and details after an error.
    let activity = app
        .submit(
            &client,
            &format!("/contacts/{}/activities", id(&contact)),
            &[
                ("csrf_token", &csrf),
                ("kind", "call"),
                ("occurred_at", "yesterday"),
                ("amount", "12,345"),
                ("properties", "topic: pricing"),
            ],
        )
        .await;
    assert_eq!(activity.status, StatusCode::BAD_REQUEST, "{}", activity.text);
    let form = element_html(&activity.text, "activity-form").unwrap();
    assert!(form.contains("<option value=\"call\" selected>"), "{form}");
    assert!(form.contains("value=\"12,345\""), "{form}");
    assert!(form.contains("value=\"yesterday\""), "{form}");
    assert!(form.contains(">topic: pricing</textarea>"), "{form}");
    assert!(
        error_at(&form, "amount").is_some_and(|m| m.contains("ambiguous")),
        "{form}"
    );
    assert!(
        error_at(&form, "occurred_at").is_some_and(|m| m.contains("not a date")),
        "{form}"
    );
    let (_, logged) = app
        .get(&token, &format!("/api/v1/contacts/{}/activities", id(&contact)))
        .await;
    assert_eq!(logged["items"], json!([]), "nothing logged");
}
