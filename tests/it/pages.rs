//! The HTML pages, driven like a browser without JavaScript: the contacts table with its
//! pages, the new-contact and edit forms, the card with its activity form, deleting, the
//! contact-type and field admin pages, and escaping of what users typed.

use std::collections::HashSet;

use kartoteka_tests::*;

/// The `href` of the first link with `rel="REL"`, attribute-unescaped.
fn link_with_rel(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\""))?;
    let start = html[..at].rfind("<a ")?;
    let tag = &html[start..at];
    let href = tag.find("href=\"")? + 6;
    let end = tag[href..].find('"')? + href;
    Some(unescape_html(&tag[href..end]))
}

/// The `value`s of the `<option>`s of the `<select name="NAME">`.
fn select_options(html: &str, name: &str) -> Vec<String> {
    let Some(at) = html.find(&format!("<select name=\"{name}\"")) else {
        return vec![];
    };
    let end = at + html[at..].find("</select>").unwrap();
    html[at..end]
        .split("<option value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next().map(unescape_html))
        .collect()
}

fn has_input(html: &str, name: &str) -> bool {
    html.contains(&format!("name=\"{name}\""))
}

both!(contact_pages: contact_pages_sqlite, contact_pages_postgres);
async fn contact_pages(app: TestApp) {
    let (user, token) = app.admin().await;
    let (status, _) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "industry", "label": "Industry", "kind": "select", "options": ["IT", "Retail"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let company = app
        .create_contact(&token, &json!({"kind": "company", "type": "client", "name": "Acme"}))
        .await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;

    // The form has every input, and the type select offers every type by key.
    let form = app.page(&client, "/contacts/new").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("id=\"contact-form\""));
    for input in [
        "csrf_token",
        "kind",
        "type",
        "name",
        "email",
        "phone",
        "position",
        "company",
        "street",
        "city",
        "region",
        "country",
        "postal_code",
        "latitude",
        "longitude",
        "owner",
        "do_not_contact",
        "f.industry",
    ] {
        assert!(has_input(&form.text, input), "the new-contact form has `{input}`");
    }
    assert_eq!(select_options(&form.text, "kind"), ["person", "company"]);
    let types = select_options(&form.text, "type");
    for key in [
        "lead",
        "cold",
        "warm",
        "client",
        "employee",
        "remote",
        "supplier",
        "contractor",
    ] {
        assert!(types.iter().any(|t| t == key), "type option {key}: {types:?}");
    }
    let picked = app.page(&client, "/contacts/companies?q=acme").await;
    assert!(
        picked.text.contains(&format!("\"id\":{}", id(&company))),
        "{}",
        picked.text
    );
    assert!(select_options(&form.text, "owner").contains(&user.id.to_string()));

    // A validation error re-renders the form with the message and what was typed.
    let bad = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("kind", "person"),
                ("type", "warm"),
                ("name", "Anna Zielińska"),
                ("email", "anna-at-example"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("id=\"contact-form\""), "the form again");
    assert!(bad.text.contains("is not an email address"), "{}", bad.text);
    assert!(bad.text.contains("value=\"Anna Zielińska\""), "the name is kept");
    let nameless = app
        .submit(
            &client,
            "/contacts",
            &[("csrf_token", &csrf), ("type", "warm"), ("name", " ")],
        )
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    assert!(nameless.text.contains("is required"));
    let bad_field = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "client"),
                ("name", "X"),
                ("f.industry", "Mining"),
            ],
        )
        .await;
    assert_eq!(bad_field.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_field.text.contains("is not one of the options"),
        "{}",
        bad_field.text
    );
    let bad_number = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "client"),
                ("name", "X"),
                ("latitude", "north"),
                ("longitude", "1"),
            ],
        )
        .await;
    assert_eq!(bad_number.status, StatusCode::BAD_REQUEST);

    // A good one goes to its card.
    let created = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("kind", "person"),
                ("type", "warm"),
                ("name", "Anna Zielińska"),
                ("email", "Anna@Example.com"),
                ("phone", "+48 600 700 800"),
                ("position", "Buyer"),
                ("company_id", &id(&company).to_string()),
                ("city", "Łódź"),
                ("latitude", "51,7592"),
                ("longitude", "19.4560"),
                ("owner", &user.id.to_string()),
                ("do_not_contact", "on"),
                ("f.industry", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);
    let location = created.location().unwrap();
    let contact_id: i64 = location.strip_prefix("/contacts/").unwrap().parse().unwrap();
    let (_, stored) = app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(stored["name"], "Anna Zielińska");
    assert_eq!(stored["email"], "anna@example.com");
    assert_eq!(stored["company_id"], id(&company));
    assert_eq!(stored["latitude"], 51.7592);
    assert_eq!(stored["do_not_contact"], true);
    assert_eq!(stored["owner"], user.id);
    assert_eq!(stored["fields"], json!({}), "a blank select stores nothing");

    let card = app.page(&client, &location).await;
    assert_eq!(card.status, StatusCode::OK);
    assert_eq!(
        element_text(&card.text, "contact-name").as_deref(),
        Some("Anna Zielińska")
    );
    assert!(card.text.contains("id=\"activity-form\""));
    assert!(
        card.text
            .contains(&format!("action=\"/contacts/{contact_id}/activities\""))
    );
    assert!(card.text.contains("id=\"activities\""));
    let changes = element_html(&card.text, "changes").unwrap();
    assert!(changes.contains("created"), "{changes}");
    assert!(card.text.contains("do not contact"));
    assert!(
        card.text.contains(&format!("href=\"/contacts/{}\"", id(&company))),
        "a link to the company"
    );
    let company_card = app.page(&client, &format!("/contacts/{}", id(&company))).await;
    assert!(
        company_card.text.contains(&format!("href=\"/contacts/{contact_id}\"")),
        "its people"
    );

    // The table lists it, linked.
    let list = app.page(&client, "/contacts").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(row_ids(&list.text).contains(&contact_id));
    assert!(
        list.text
            .contains(&format!("<a href=\"/contacts/{contact_id}\">Anna Zielińska</a>"))
    );

    // Log an activity from the card.
    let logged = app
        .submit(
            &client,
            &format!("/contacts/{contact_id}/activities"),
            &[
                ("csrf_token", &csrf),
                ("kind", "call"),
                ("occurred_at", "2026-11-20T10:30"),
                ("amount", "12,50"),
                ("properties", "path: /pricing\nasked about discounts"),
            ],
        )
        .await;
    assert_eq!(logged.status, StatusCode::SEE_OTHER, "{}", logged.text);
    assert_eq!(logged.location(), Some(location.clone()));
    let (_, activities) = app
        .get(&token, &format!("/api/v1/contacts/{contact_id}/activities"))
        .await;
    assert_eq!(
        activities["items"][0]["properties"],
        json!({"path": "/pricing", "text": "asked about discounts"})
    );
    assert_eq!(activities["items"][0]["occurred_at"], "2026-11-20T10:30:00Z");
    assert_eq!(activities["items"][0]["amount"], 12.5);
    let card = app.page(&client, &location).await;
    let history = element_html(&card.text, "activities").unwrap();
    assert!(history.contains("<td>Call</td>"), "the kind by its label: {history}");
    assert!(history.contains("2026-11-20 10:30"), "{history}");
    assert!(history.contains("12.50"), "{history}");
    assert!(history.contains("path: /pricing"), "{history}");
    assert!(card.text.contains("2026-11-20"), "a call counts as being in touch");
    let bad_activity = app
        .submit(
            &client,
            &format!("/contacts/{contact_id}/activities"),
            &[("csrf_token", &csrf), ("kind", "dance")],
        )
        .await;
    assert_eq!(bad_activity.status, StatusCode::BAD_REQUEST);
    assert!(bad_activity.text.contains("unknown activity kind"));

    // Edit: the form carries the version; a stale one is refused with 409.
    let edit = app.page(&client, &format!("/contacts/{contact_id}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK);
    assert_eq!(hidden_input(&edit.text, "version").as_deref(), Some("1"));
    assert!(edit.text.contains("value=\"Anna Zielińska\""));
    let owner = user.id.to_string();
    let edit_form = |name: &'static str, version: &'static str| -> Vec<(&'static str, String)> {
        vec![
            ("csrf_token", csrf.clone()),
            ("version", version.to_owned()),
            ("kind", "person".to_owned()),
            ("type", "hot".to_owned()),
            ("name", name.to_owned()),
            ("email", "anna@example.com".to_owned()),
            ("owner", owner.clone()),
            ("f.industry", "IT".to_owned()),
        ]
    };
    let first = edit_form("Anna Z.", "1");
    let first_pairs: Vec<(&str, &str)> = first.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let saved = app
        .submit(&client, &format!("/contacts/{contact_id}/edit"), &first_pairs)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    assert_eq!(saved.location(), Some(location.clone()));
    let (_, after_edit) = app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(after_edit["name"], "Anna Z.");
    assert_eq!(after_edit["type"], "hot");
    assert_eq!(after_edit["version"], 2);
    assert_eq!(after_edit["fields"], json!({"industry": "IT"}));
    assert!(after_edit["phone"].is_null(), "an emptied input clears the property");

    let stale = edit_form("Someone Else", "1");
    let stale_pairs: Vec<(&str, &str)> = stale.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let conflict = app
        .submit(&client, &format!("/contacts/{contact_id}/edit"), &stale_pairs)
        .await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert!(conflict.text.contains("changed by someone else"), "{}", conflict.text);
    assert_eq!(
        hidden_input(&conflict.text, "version").as_deref(),
        Some("2"),
        "the form now targets the stored version"
    );
    let (_, unchanged) = app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await;
    assert_eq!(unchanged["name"], "Anna Z.");
    assert_eq!(unchanged["version"], 2);
    let card = app.page(&client, &location).await;
    let changes = element_html(&card.text, "changes").unwrap();
    assert!(
        changes.contains("<del>Anna Zielińska</del>"),
        "the change is on the card: {changes}"
    );

    // Delete needs the box ticked and the current version.
    let unconfirmed = app
        .submit(
            &client,
            &format!("/contacts/{contact_id}/delete"),
            &[("csrf_token", &csrf), ("version", "2")],
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    let stale_delete = app
        .submit(
            &client,
            &format!("/contacts/{contact_id}/delete"),
            &[("csrf_token", &csrf), ("version", "1"), ("confirm", "on")],
        )
        .await;
    assert_eq!(stale_delete.status, StatusCode::CONFLICT);
    let deleted = app
        .submit(
            &client,
            &format!("/contacts/{contact_id}/delete"),
            &[("csrf_token", &csrf), ("version", "2"), ("confirm", "on")],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    assert_eq!(deleted.location().as_deref(), Some("/contacts"));
    assert_eq!(app.page(&client, &location).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&token, &format!("/api/v1/contacts/{contact_id}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(!row_ids(&app.page(&client, "/contacts").await.text).contains(&contact_id));

    // Unknown pages and ids.
    for path in [
        "/contacts/999999",
        "/contacts/abc",
        "/contacts/999999/edit",
        "/no-such-page",
    ] {
        let page = app.page(&client, path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.text.contains("Not found"), "{path}");
    }
}

both!(the_contacts_table_pages: the_contacts_table_pages_sqlite, the_contacts_table_pages_postgres);
async fn the_contacts_table_pages(app: TestApp) {
    let (user, token) = app.admin().await;
    let mut all = HashSet::new();
    for n in 0..55 {
        let c = app.person(&token, &format!("Contact {n:02}")).await;
        all.insert(id(&c));
    }
    let (client, _) = app.signed_in_client(&user.email, PASSWORD).await;
    let first = app.page(&client, "/contacts").await;
    assert_eq!(first.status, StatusCode::OK);
    let first_rows = row_ids(&first.text);
    assert_eq!(first_rows.len(), 50);
    assert!(first.text.contains("Next page »") || first.text.contains("Next page &raquo;"));
    let next = link_with_rel(&first.text, "next").expect("a next link");
    assert!(next.starts_with("/contacts?sort=name&after="), "{next}");
    let second = app.page(&client, &next).await;
    assert_eq!(second.status, StatusCode::OK, "{next}");
    let second_rows = row_ids(&second.text);
    assert_eq!(second_rows.len(), 5);
    assert!(
        link_with_rel(&second.text, "next").is_none(),
        "no next after the last page"
    );
    let seen: HashSet<i64> = first_rows.iter().chain(&second_rows).copied().collect();
    assert_eq!(seen, all, "every contact once");
    assert!(second.text.contains("Contact 54"));

    // The other orders.
    let newest = app.page(&client, "/contacts?sort=-created_at").await;
    let newest_rows = row_ids(&newest.text);
    assert_eq!(newest_rows.len(), 50);
    let z_to_a = app.page(&client, "/contacts?sort=-name").await;
    assert!(z_to_a.text.find("Contact 54").unwrap() < z_to_a.text.find("Contact 53").unwrap());
    let bad = app.page(&client, "/contacts?sort=bogus").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let dashboard = app.page(&client, "/").await;
    assert_eq!(element_text(&dashboard.text, "contact-count").as_deref(), Some("55"));
}

const SCRIPT: &str = "<script>alert(1)</script>";
const ESCAPED: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

both!(what_users_type_is_escaped: what_users_type_is_escaped_sqlite, what_users_type_is_escaped_postgres);
async fn what_users_type_is_escaped(app: TestApp) {
    let (user, token) = app.admin().await;
    let (status, _) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "note", "label": SCRIPT, "kind": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let contact = app
        .create_contact(
            &token,
            &json!({"kind": "company", "type": "client", "name": SCRIPT, "city": SCRIPT, "fields": {"note": SCRIPT}}),
        )
        .await;
    assert_eq!(contact["name"], SCRIPT, "stored as typed");
    let (status, _) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!({"contact_id": id(&contact), "kind": "note", "properties": {"text": SCRIPT}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;
    let contact_id = id(&contact);
    for path in [
        format!("/contacts/{contact_id}"),
        format!("/contacts/{contact_id}/edit"),
        "/contacts".to_owned(),
        "/".to_owned(),
        "/contacts/new".to_owned(),
        "/fields".to_owned(),
    ] {
        let page = app.page(&client, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(
            named_entities(&page.text).contains(ESCAPED),
            "{path} shows the text escaped"
        );
        assert!(!page.text.contains(SCRIPT), "{path} has no raw script tag");
    }
    let card = app.page(&client, &format!("/contacts/{contact_id}")).await;
    let heading = element_text(&card.text, "contact-name").unwrap();
    assert_eq!(named_entities(&heading), ESCAPED, "the name on the card, as text");
    assert_eq!(unescape_html(&heading), SCRIPT);
    // A failed form echoes input escaped too.
    let echoed = app
        .submit(
            &client,
            "/contacts",
            &[
                ("csrf_token", &csrf),
                ("type", "client"),
                ("name", SCRIPT),
                ("email", SCRIPT),
            ],
        )
        .await;
    assert_eq!(echoed.status, StatusCode::BAD_REQUEST);
    assert!(!echoed.text.contains(SCRIPT), "{}", echoed.text);
    assert!(named_entities(&echoed.text).contains(ESCAPED));
    // And the error page of a type key.
    let types = app
        .submit(
            &client,
            "/contact-types",
            &[("csrf_token", &csrf), ("key", SCRIPT), ("label", SCRIPT)],
        )
        .await;
    assert_eq!(types.status, StatusCode::BAD_REQUEST);
    assert!(!types.text.contains(SCRIPT));
    // Every page says what it is and forbids framing and sniffing.
    let page = app.page(&client, "/contacts").await;
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(page.header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("default-src 'self'")
    );
}

both!(type_and_field_admin_pages: type_and_field_admin_pages_sqlite, type_and_field_admin_pages_postgres);
async fn type_and_field_admin_pages(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (agent, _) = app.agent().await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;

    // Contact types: the tree, add, rename and move, remove with a target.
    let page = app.page(&client, "/contact-types").await;
    assert_eq!(page.status, StatusCode::OK);
    for key in ["lead", "cold", "client", "employee", "contractor"] {
        assert!(page.text.contains(&format!("<code>{key}</code>")), "{key}");
    }
    let added = app
        .submit(
            &client,
            "/contact-types",
            &[
                ("csrf_token", &csrf),
                ("key", "partner"),
                ("label", "Partner"),
                ("parent", "client"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    assert_eq!(added.location().as_deref(), Some("/contact-types"));
    let (_, partner) = app.get(&token, "/api/v1/contact-types/partner").await;
    assert_eq!(
        partner,
        json!({"key": "partner", "label": "Partner", "parent": "client"})
    );
    let bad = app
        .submit(
            &client,
            "/contact-types",
            &[("csrf_token", &csrf), ("key", "Bad Key"), ("label", "X")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        bad.text.contains("key: must start with a lowercase letter"),
        "{}",
        bad.text
    );
    let renamed = app
        .submit(
            &client,
            "/contact-types/partner",
            &[("csrf_token", &csrf), ("label", "Partner firm"), ("parent", "")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.text);
    let (_, partner) = app.get(&token, "/api/v1/contact-types/partner").await;
    assert_eq!(
        partner,
        json!({"key": "partner", "label": "Partner firm", "parent": null})
    );
    let cycle = app
        .submit(
            &client,
            "/contact-types/lead",
            &[("csrf_token", &csrf), ("label", "Lead"), ("parent", "warm")],
        )
        .await;
    assert_eq!(cycle.status, StatusCode::BAD_REQUEST);
    let used = app.person(&token, "Partner Person").await;
    let (_, used) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&used)),
            &json!({"version": 1, "type": "partner"}),
        )
        .await;
    let in_use = app
        .submit(
            &client,
            "/contact-types/partner/delete",
            &[("csrf_token", &csrf), ("reassign_to", ""), ("confirm", "on")],
        )
        .await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert!(in_use.text.contains("1 contact has this type"), "{}", in_use.text);
    let removed = app
        .submit(
            &client,
            "/contact-types/partner/delete",
            &[("csrf_token", &csrf), ("reassign_to", "supplier"), ("confirm", "on")],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text);
    let (_, moved) = app.get(&token, &format!("/api/v1/contacts/{}", id(&used))).await;
    assert_eq!(moved["type"], "supplier");

    // Fields: add, see the conversion report, confirm the removal of bad values.
    let fields = app.page(&client, "/fields").await;
    assert_eq!(fields.status, StatusCode::OK);
    assert!(fields.text.contains("No extra fields yet."));
    let added = app
        .submit(
            &client,
            "/fields",
            &[
                ("csrf_token", &csrf),
                ("key", "size"),
                ("label", "Size"),
                ("kind", "select"),
                ("options", "small\nlarge\n"),
                ("applies_to", "client"),
                ("applies_to", "supplier"),
                ("searchable", "on"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let (_, size) = app.get(&token, "/api/v1/fields/size").await;
    assert_eq!(
        size,
        json!({"key": "size", "label": "Size", "kind": "select", "options": ["small", "large"],
               "required": false, "searchable": true, "applies_to": ["client", "supplier"]})
    );
    let no_options = app
        .submit(
            &client,
            "/fields",
            &[
                ("csrf_token", &csrf),
                ("key", "tier"),
                ("label", "Tier"),
                ("kind", "select"),
            ],
        )
        .await;
    assert_eq!(no_options.status, StatusCode::BAD_REQUEST);
    assert!(
        no_options
            .text
            .contains("options: a select field needs at least one option")
    );
    let holder = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Big", "fields": {"size": "large"}}),
        )
        .await;
    let edit = app.page(&client, "/fields/size").await;
    assert_eq!(edit.status, StatusCode::OK);
    let to_integer = [
        ("csrf_token", csrf.as_str()),
        ("label", "Size"),
        ("kind", "integer"),
        ("options", ""),
        ("applies_to", "client"),
    ];
    let refused = app.submit(&client, "/fields/size", &to_integer).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.text.contains(&format!("#{}", id(&holder))),
        "the report lists the contact"
    );
    assert!(
        refused.text.contains("name=\"drop_unconvertible\""),
        "and offers to drop"
    );
    let mut confirmed = to_integer.to_vec();
    confirmed.push(("drop_unconvertible", "on"));
    let converted = app.submit(&client, "/fields/size", &confirmed).await;
    assert_eq!(converted.status, StatusCode::SEE_OTHER, "{}", converted.text);
    assert_eq!(converted.location().as_deref(), Some("/fields/size"));
    let converted = app.page(&client, "/fields/size").await;
    assert!(
        converted.text.contains("0 of 1 stored value converted; 1 removed"),
        "{}",
        converted.text
    );
    let (_, holder) = app.get(&token, &format!("/api/v1/contacts/{}", id(&holder))).await;
    assert_eq!(holder["fields"], json!({}));

    // Agents see the admin pages but can't change anything.
    let (agent_client, agent_csrf) = app.signed_in_client(&agent.email, PASSWORD).await;
    let types = app.page(&agent_client, "/contact-types").await;
    assert_eq!(types.status, StatusCode::OK);
    assert!(!types.text.contains("Add a type"));
    let forbidden = app
        .submit(
            &agent_client,
            "/contact-types",
            &[("csrf_token", &agent_csrf), ("key", "mine"), ("label", "Mine")],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let forbidden = app
        .submit(
            &agent_client,
            "/fields",
            &[
                ("csrf_token", &agent_csrf),
                ("key", "mine"),
                ("label", "Mine"),
                ("kind", "text"),
            ],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&token, "/api/v1/fields/mine").await.0, StatusCode::NOT_FOUND);
}

// Saving the edit form unchanged doesn't change a datetime value: the seconds of a stored
// value survive a save that edited another property.
both!(
    editing_keeps_datetime_seconds: editing_keeps_datetime_seconds_sqlite, editing_keeps_datetime_seconds_postgres
);
async fn editing_keeps_datetime_seconds(app: TestApp) {
    let (user, token) = app.admin().await;
    let (status, _) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "seen", "label": "Seen", "kind": "datetime"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let contact = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Timed", "fields": {"seen": "2026-11-23T14:05:30Z"}}),
        )
        .await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;
    let path = format!("/contacts/{}/edit", id(&contact));
    let form = app.page(&client, &path).await;
    let shown = hidden_input(&form.text, "f.seen").expect("the datetime input");
    let saved = app
        .submit(
            &client,
            &path,
            &[
                ("csrf_token", csrf.as_str()),
                ("version", "1"),
                ("kind", "person"),
                ("type", "client"),
                ("name", "Timed, renamed"),
                ("owner", &user.id.to_string()),
                ("f.seen", &shown),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
    let (_, after) = app.get(&token, &format!("/api/v1/contacts/{}", id(&contact))).await;
    assert_eq!(after["name"], "Timed, renamed");
    assert_eq!(
        after["fields"]["seen"], "2026-11-23T14:05:30Z",
        "only the name was edited"
    );
}
