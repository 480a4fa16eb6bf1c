//! What the pages tell people: every successful form answers with a redirect to a page
//! that says what happened (and a GET on a form's address is never a bare 405);
//! far-reaching buttons ask first and say what will follow; filters, the change log,
//! activity kinds and counts read in words, not keys; "Save as segment" from the
//! contacts page.

use kartoteka_tests::*;

fn f(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

/// Asserts a 303 to `to` and returns the page it leads to.
async fn followed(app: &TestApp, client: &reqwest::Client, reply: &Reply, to: &str) -> Reply {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location().as_deref(), Some(to));
    let page = app.page(client, to).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    page
}

/// The HTML from the element with `id` to the end of its section (nested lists and all).
fn section(html: &str, id: &str) -> String {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}: {html}"));
    let rest = &html[start..];
    rest[..rest.find("</section>").unwrap_or(rest.len())].to_owned()
}

/// The notice on a page, unescaped.
fn notice(page: &Reply) -> String {
    element_text(&page.text, "notice")
        .map(|t| unescape_html(&t))
        .unwrap_or_else(|| panic!("a notice on the page: {}", page.text))
}

both!(forms_answer_with_a_redirect_and_a_notice: forms_answer_with_a_redirect_and_a_notice_sqlite, forms_answer_with_a_redirect_and_a_notice_postgres);
async fn forms_answer_with_a_redirect_and_a_notice(app: TestApp) {
    let (admin, _) = app.admin().await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    let csrf = csrf.as_str();

    // Contact types: add, rename, remove (asking first).
    let added = app
        .submit(
            &client,
            "/contact-types",
            &[("csrf_token", csrf), ("key", "partner"), ("label", "Partner")],
        )
        .await;
    let page = followed(&app, &client, &added, "/contact-types").await;
    assert_eq!(notice(&page), "Added the type “Partner”.");
    let again = app.page(&client, "/contact-types").await;
    assert!(element_text(&again.text, "notice").is_none(), "the notice shows once");
    let renamed = app
        .submit(
            &client,
            "/contact-types/partner",
            &[("csrf_token", csrf), ("label", "Partners"), ("parent", "")],
        )
        .await;
    let page = followed(&app, &client, &renamed, "/contact-types").await;
    assert_eq!(notice(&page), "Saved the type “Partners”.");
    for path in ["/contact-types/partner", "/contact-types/partner/delete"] {
        let get = app.page(&client, path).await;
        assert_eq!(get.status, StatusCode::SEE_OTHER, "GET {path}: {}", get.text);
        assert_eq!(get.location().as_deref(), Some("/contact-types"));
    }
    assert!(page.text.contains("name=\"confirm\" required"), "removing asks first");
    let unconfirmed = app
        .submit(&client, "/contact-types/partner/delete", &[("csrf_token", csrf)])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(unconfirmed.text.contains("tick the box"), "{}", unconfirmed.text);
    assert!(
        app.core()
            .schema()
            .type_tree()
            .await
            .unwrap()
            .by_key("partner")
            .is_some()
    );
    let removed = app
        .submit(
            &client,
            "/contact-types/partner/delete",
            &[("csrf_token", csrf), ("confirm", "on")],
        )
        .await;
    let page = followed(&app, &client, &removed, "/contact-types").await;
    assert_eq!(notice(&page), "Removed the type “Partners”.");

    // Fields: add, save, remove (asking first).
    let added = app
        .submit(
            &client,
            "/fields",
            &[
                ("csrf_token", csrf),
                ("key", "size"),
                ("label", "Size"),
                ("kind", "text"),
            ],
        )
        .await;
    let page = followed(&app, &client, &added, "/fields").await;
    assert_eq!(notice(&page), "Added the field “Size”.");
    let saved = app
        .submit(
            &client,
            "/fields/size",
            &[("csrf_token", csrf), ("label", "Shoe size"), ("kind", "text")],
        )
        .await;
    let page = followed(&app, &client, &saved, "/fields/size").await;
    assert_eq!(notice(&page), "Saved the field “Shoe size”.");
    assert!(page.text.contains("name=\"confirm\" required"), "removing asks first");
    let get = app.page(&client, "/fields/size/delete").await;
    assert_eq!(get.status, StatusCode::SEE_OTHER);
    assert_eq!(get.location().as_deref(), Some("/fields/size"));
    let unconfirmed = app
        .submit(&client, "/fields/size/delete", &[("csrf_token", csrf)])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(
        app.core().schema().get_field("size").await.is_ok(),
        "not removed unasked"
    );
    let removed = app
        .submit(
            &client,
            "/fields/size/delete",
            &[("csrf_token", csrf), ("confirm", "on")],
        )
        .await;
    let page = followed(&app, &client, &removed, "/fields").await;
    assert_eq!(notice(&page), "Removed the field “Shoe size”.");

    // Segments: create, save, delete.
    let created = app
        .submit(
            &client,
            "/segments",
            &[
                ("csrf_token", csrf),
                ("name", "Kraków"),
                ("kind", "dynamic"),
                ("filter", r#"{"field": "city", "op": "eq", "value": "Kraków"}"#),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let url = created.location().unwrap();
    let page = followed(&app, &client, &created, &url).await;
    assert_eq!(notice(&page), "Created the segment “Kraków”.");
    let saved = app
        .submit(
            &client,
            &format!("{url}/edit"),
            &[
                ("csrf_token", csrf),
                ("name", "Kraków people"),
                ("filter", r#"{"field": "city", "op": "eq", "value": "Kraków"}"#),
            ],
        )
        .await;
    let page = followed(&app, &client, &saved, &url).await;
    assert_eq!(notice(&page), "Saved the segment “Kraków people”.");
    let get = app.page(&client, &format!("{url}/delete")).await;
    assert_eq!(get.status, StatusCode::SEE_OTHER);
    assert_eq!(get.location().as_deref(), Some(url.as_str()));
    let deleted = app
        .submit(
            &client,
            &format!("{url}/delete"),
            &[("csrf_token", csrf), ("confirm", "on")],
        )
        .await;
    let page = followed(&app, &client, &deleted, "/segments").await;
    assert_eq!(notice(&page), "Deleted the segment “Kraków people”.");

    // The list forms' addresses lead to the contacts.
    for path in ["/contacts/add-to-list", "/contacts/remove-from-list"] {
        let get = app.page(&client, path).await;
        assert_eq!(get.status, StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(get.location().as_deref(), Some("/contacts"));
    }

    // Signing out: a GET is no bare 405, the form leads to the sign-in page with a notice.
    let get = app.page(&client, "/logout").await;
    assert_eq!(get.status, StatusCode::SEE_OTHER);
    assert_eq!(get.location().as_deref(), Some("/"));
    let out = app.submit(&client, "/logout", &[("csrf_token", csrf)]).await;
    let page = followed(&app, &client, &out, "/login").await;
    assert_eq!(notice(&page), "You are signed out.");
}

both!(disabling_a_plugin_asks_first_and_names_the_segments: disabling_a_plugin_asks_first_and_names_the_segments_sqlite, disabling_a_plugin_asks_first_and_names_the_segments_postgres);
async fn disabling_a_plugin_asks_first_and_names_the_segments(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Big buyers", "kind": "dynamic",
                    "filter": f("activity.purchase", "behaviour.happened", json!({"min_amount": 500}))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;

    let list = app.page(&client, "/plugins").await;
    assert!(
        list.text.contains("href=\"/plugins/behaviour/disable\""),
        "Disable leads to the page that asks first"
    );
    let ask = app.page(&client, "/plugins/behaviour/disable").await;
    assert_eq!(ask.status, StatusCode::OK, "not a bare 405: {}", ask.text);
    let text = unescape_html(&ask.text);
    assert!(
        text.contains("1 segment uses this plugin and will need attention"),
        "{text}"
    );
    assert!(text.contains("Big buyers"), "{text}");
    assert!(
        app.core().plugins().get("behaviour").await.unwrap().enabled,
        "asking changes nothing"
    );
    let std_ask = app.page(&client, "/plugins/geo/disable").await;
    assert!(std_ask.text.contains("No segment uses it."), "{}", std_ask.text);

    // A post that didn't come from that page is led there and changes nothing.
    let unasked = app
        .submit(&client, "/plugins/behaviour/disable", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(unasked.status, StatusCode::SEE_OTHER);
    assert_eq!(unasked.location().as_deref(), Some("/plugins/behaviour/disable"));
    assert!(app.core().plugins().get("behaviour").await.unwrap().enabled);

    let disabled = app
        .submit(
            &client,
            "/plugins/behaviour/disable",
            &[("csrf_token", &csrf), ("confirm", "yes")],
        )
        .await;
    let page = followed(&app, &client, &disabled, "/plugins").await;
    assert_eq!(
        notice(&page),
        "Disabled behaviour. 1 segment that uses it needs attention."
    );
    assert!(!app.core().plugins().get("behaviour").await.unwrap().enabled);

    // Enable has nothing to ask; a GET on its address leads to the list.
    let get = app.page(&client, "/plugins/behaviour/enable").await;
    assert_eq!(get.status, StatusCode::SEE_OTHER);
    assert_eq!(get.location().as_deref(), Some("/plugins"));
    let enabled = app
        .submit(&client, "/plugins/behaviour/enable", &[("csrf_token", &csrf)])
        .await;
    let page = followed(&app, &client, &enabled, "/plugins").await;
    assert_eq!(notice(&page), "Enabled behaviour.");
}

both!(filters_read_as_sentences_with_labels: filters_read_as_sentences_with_labels_sqlite, filters_read_as_sentences_with_labels_postgres);
async fn filters_read_as_sentences_with_labels(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "industry", "label": "Industry", "kind": "select", "options": ["IT", "Retail"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let anna = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Anna", "city": "Kraków", "owner": admin.id,
                    "fields": {"industry": "IT"}}),
        )
        .await);
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!([{"contact_id": anna, "kind": "purchase", "amount": 700}]),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let filter = json!({"and": [
        f("city", "eq", json!("Kraków")),
        f("owner", "eq", json!(admin.email)),
        {"or": [
            f("fields.industry", "in_list", json!(["IT", "Retail"])),
            {"not": f("type", "membership.is", json!("client"))}
        ]},
        f("activity.purchase", "behaviour.happened", json!({"min_amount": 500}))
    ]});
    let (status, segment) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Kraków buyers", "kind": "dynamic", "filter": filter}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{segment}");
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;

    let page = app.page(&client, &format!("/segments/{}", id(&segment))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let sentence = unescape_html(&element_text(&page.text, "filter-sentence").expect("the filter in words"));
    assert_eq!(
        sentence,
        format!(
            "all of: City equals “Kraków”; Owner equals {}; any of (Industry is one of “IT”, “Retail”; not (Type is a Client)); \
             Purchase happened with an amount of at least 500",
            admin.name
        )
    );

    // The card's "why" reads the same way.
    let card = app
        .page(&client, &format!("/contacts/{anna}?explain={}", id(&segment)))
        .await;
    let why = unescape_html(&element_html(&card.text, "segments").expect("the segments section"));
    assert!(
        why.contains("Purchase happened with an amount of at least 500"),
        "{why}"
    );
    assert!(why.contains("Industry is one of “IT”, “Retail”"), "{why}");
    assert!(!why.contains("behaviour.happened"), "{why}");
    assert!(!why.contains("{&quot;") && !why.contains("{\""), "no raw JSON: {why}");
}

both!(the_change_log_and_counts_read_in_words: the_change_log_and_counts_read_in_words_sqlite, the_change_log_and_counts_read_in_words_postgres);
async fn the_change_log_and_counts_read_in_words(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (other, _) = app.user(Role::Manager).await;
    let acme = id(&app
        .create_contact(&token, &json!({"type": "client", "kind": "company", "name": "Acme"}))
        .await);
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    let dashboard = app.page(&client, "/").await;
    assert_eq!(
        element_text(&dashboard.text, "contact-count").as_deref(),
        Some("1"),
        "{}",
        dashboard.text
    );
    assert!(
        dashboard.text.contains("</strong> contact you can see."),
        "{}",
        dashboard.text
    );

    let anna = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Anna", "owner": admin.id, "company_id": acme}),
        )
        .await;
    let (status, body) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&anna)),
            &json!({"version": 1, "owner": other.id, "type": "lead"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!([{"contact_id": id(&anna), "kind": "page_visit", "properties": {"path": "/"}}]),
        )
        .await;
    assert!(status.is_success(), "{body}");

    let card = app.page(&client, &format!("/contacts/{}", id(&anna))).await;
    let changes = unescape_html(&section(&card.text, "changes"));
    assert!(changes.contains(&format!("Owner: {}", admin.name)), "{changes}");
    assert!(changes.contains(&other.name), "{changes}");
    assert!(changes.contains("Company: Acme"), "{changes}");
    assert!(changes.contains("Type: Client"), "{changes}");
    assert!(changes.contains("Lead"), "{changes}");
    assert!(!changes.contains("owner:"), "{changes}");
    assert!(!changes.contains("company_id"), "{changes}");
    assert!(changes.contains(&admin.name), "who changed it, by name: {changes}");
    let activities = unescape_html(&element_html(&card.text, "activities").expect("the activities"));
    assert!(activities.contains("Page visit"), "{activities}");
    assert!(
        !activities.contains("page_visit") && !activities.contains("page visit"),
        "{activities}"
    );
    assert!(
        card.text.contains("<option value=\"page_visit\">Page visit</option>"),
        "the activity form names kinds by label"
    );

    // One contact of a type reads in the singular.
    let refused = app
        .submit(
            &client,
            "/contact-types/client/delete",
            &[("csrf_token", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("1 contact has this type"), "{}", refused.text);

    // An unknown type says so for people.
    let (status, body) = app
        .post_json(&token, "/api/v1/contacts", &json!({"type": "nope", "name": "X"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["message"], "there is no contact type “nope”", "{body}");

    // A contact's form addresses lead to its card.
    for path in [
        format!("/contacts/{acme}/delete"),
        format!("/contacts/{acme}/activities"),
    ] {
        let get = app.page(&client, &path).await;
        assert_eq!(get.status, StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(get.location(), Some(format!("/contacts/{acme}")));
    }
}

both!(a_filter_on_the_contacts_page_saves_as_a_segment: a_filter_on_the_contacts_page_saves_as_a_segment_sqlite, a_filter_on_the_contacts_page_saves_as_a_segment_postgres);
async fn a_filter_on_the_contacts_page_saves_as_a_segment(app: TestApp) {
    let (admin, token) = app.admin().await;
    app.create_contact(&token, &json!({"type": "client", "name": "Anna", "city": "Kraków"}))
        .await;
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let filter = r#"{"field":"city","op":"eq","value":"Kraków"}"#;

    let plain = app.page(&client, "/contacts").await;
    assert!(
        !plain.text.contains("id=\"save-as-segment\""),
        "no filter, nothing to save"
    );
    let filtered = app
        .page(&client, &format!("/contacts?filter={}", urlencode(filter)))
        .await;
    assert_eq!(filtered.status, StatusCode::OK, "{}", filtered.text);
    let link = element_html(&filtered.text, "save-as-segment-bar").expect("Save as segment");
    let href = unescape_html(
        link.split("href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the link's address"),
    );
    assert!(href.starts_with("/segments/new?filter="), "{href}");
    let form = app.page(&client, &href).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let prefilled = form
        .text
        .split("data-filter=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(unescape_html)
        .expect("the builder's filter");
    assert_eq!(
        serde_json::from_str::<Value>(&prefilled).unwrap(),
        serde_json::from_str::<Value>(filter).unwrap()
    );
    let input = hidden_input(&form.text, "filter").expect("the filter input");
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        serde_json::from_str::<Value>(filter).unwrap()
    );

    // Agents can't make segments; they aren't offered the button.
    let (agent, _) = app.agent().await;
    let (agent_client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    let filtered = app
        .page(&agent_client, &format!("/contacts?filter={}", urlencode(filter)))
        .await;
    assert!(!filtered.text.contains("id=\"save-as-segment\""));
}
