//! The segment pages: the list, the new and edit forms (CSRF, errors next to their input
//! or condition), a segment's page (members in the contacts table with search, sort and
//! paging, the size over time, export and delete), the builder's preview reads, agents
//! reading only; and in a real browser, a dynamic segment built with the filter builder,
//! its live count and join/leave preview, saved, then edited.

use std::time::Duration;

use fantoccini::{Client, Locator};
use kartoteka_tests::*;

use crate::browser::{Browser, WAIT, click, err, part, set_condition, sign_in, table_ids, wait_for_text};

fn f(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

async fn person(app: &TestApp, token: &str, name: &str, city: &str, owner: Option<i64>) -> i64 {
    let mut body = json!({"type": "client", "name": name, "city": city});
    if let Some(owner) = owner {
        body["owner"] = json!(owner);
    }
    id(&app.create_contact(token, &body).await)
}

/// The id in a `Location: /segments/{id}`.
fn segment_location(reply: &Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    reply
        .location()
        .and_then(|l| l.strip_prefix("/segments/").and_then(|id| id.parse().ok()))
        .unwrap_or_else(|| panic!("a segment's page, got {:?}", reply.location()))
}

const KRAKOW: &str = r#"{"field": "city", "op": "eq", "value": "Kraków"}"#;

both!(segment_pages_create_show_edit_and_delete: segment_pages_create_show_edit_and_delete_sqlite, segment_pages_create_show_edit_and_delete_postgres);
async fn segment_pages_create_show_edit_and_delete(app: TestApp) {
    let (admin, token) = app.admin().await;
    let anna = person(&app, &token, "Anna", "Kraków", None).await;
    let bartek = person(&app, &token, "Bartek", "Kraków", None).await;
    let celina = person(&app, &token, "Celina", "Łódź", None).await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;

    let empty = app.page(&client, "/segments").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert!(empty.text.contains("No segments yet"));
    assert!(empty.text.contains("href=\"/segments/new\""), "a New segment button");
    assert!(
        empty
            .text
            .contains("<a href=\"/segments\" aria-current=\"page\">Segments</a>"),
        "the layout's navigation leads here"
    );

    let form = app.page(&client, "/segments/new").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert_eq!(hidden_input(&form.text, "csrf_token").as_deref(), Some(csrf.as_str()));
    assert!(
        form.text.contains("id=\"filter-builder\""),
        "the contacts page's builder"
    );
    assert!(form.text.contains("data-count-url=\"/segments/preview\""));
    assert!(form.text.contains("data-json-input=\"segment-filter\""));
    assert!(form.text.contains("/assets/filter-builder.js") && form.text.contains("/assets/segment-form.js"));
    assert!(form.text.contains("name=\"kind\" value=\"static\""));

    // No token, no segment.
    let forged = app
        .submit(
            &client,
            "/segments",
            &[("name", "Forged"), ("kind", "dynamic"), ("filter", KRAKOW)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Errors come back next to what caused them, with what was typed kept.
    let bad_filter =
        r#"{"and": [{"field": "city", "op": "eq", "value": "X"}, {"field": "nope", "op": "eq", "value": 1}]}"#;
    let refused = app
        .submit(
            &client,
            "/segments",
            &[
                ("csrf_token", &csrf),
                ("name", "Cracovians"),
                ("kind", "dynamic"),
                ("filter", bad_filter),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let shown = unescape_html(&refused.text);
    assert!(
        shown.contains("id=\"filter-error\" data-path=\"and[1].field\""),
        "{}",
        element_html(&refused.text, "filter-error").unwrap_or_default()
    );
    assert_eq!(hidden_input(&refused.text, "filter").as_deref(), Some(bad_filter));
    assert!(
        shown.contains(&format!("data-filter=\"{bad_filter}\"")),
        "the builder starts from it"
    );
    assert!(shown.contains("name=\"name\" value=\"Cracovians\""));
    let missing = app
        .submit(
            &client,
            "/segments",
            &[
                ("csrf_token", &csrf),
                ("name", "Nowhere"),
                ("kind", "dynamic"),
                ("filter", r#"{"field": "segment", "op": "in_segment", "value": 4242}"#),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    assert!(unescape_html(&missing.text).contains("id=\"filter-error\" data-path=\"value\""));
    let nameless = app
        .submit(
            &client,
            "/segments",
            &[
                ("csrf_token", &csrf),
                ("name", "  "),
                ("kind", "dynamic"),
                ("filter", KRAKOW),
            ],
        )
        .await;
    assert_eq!(nameless.status, StatusCode::BAD_REQUEST);
    assert!(element_text(&nameless.text, "name-error").is_some_and(|t| t.contains("name")));
    let filterless = app
        .submit(
            &client,
            "/segments",
            &[
                ("csrf_token", &csrf),
                ("name", "Empty"),
                ("kind", "dynamic"),
                ("filter", ""),
            ],
        )
        .await;
    assert_eq!(filterless.status, StatusCode::BAD_REQUEST);
    assert!(unescape_html(&filterless.text).contains("id=\"filter-error\" data-path=\"\""));

    // Saved: on to the segment's page.
    let created = app
        .submit(
            &client,
            "/segments",
            &[
                ("csrf_token", &csrf),
                ("name", "Cracovians"),
                ("kind", "dynamic"),
                ("filter", KRAKOW),
            ],
        )
        .await;
    let sid = segment_location(&created);
    let taken = app
        .submit(
            &client,
            "/segments",
            &[
                ("csrf_token", &csrf),
                ("name", "Cracovians"),
                ("kind", "static"),
                ("filter", ""),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert!(element_text(&taken.text, "form-error").is_some_and(|t| t.contains("already exists")));

    let page = app.page(&client, &format!("/segments/{sid}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(element_text(&page.text, "segment-name").as_deref(), Some("Cracovians"));
    assert_eq!(element_text(&page.text, "segment-count").as_deref(), Some("2"));
    assert_eq!(element_text(&page.text, "segment-status").as_deref(), Some("ok"));
    assert_eq!(row_ids(&page.text), [anna, bartek], "its members in the contacts table");
    assert!(page.text.contains("<table class=\"contacts\">"));
    assert!(page.text.contains(&format!("href=\"/segments/{sid}/export.csv\"")));
    assert!(page.text.contains(&format!("href=\"/segments/{sid}/edit\"")));
    assert!(page.text.contains(&format!("action=\"/segments/{sid}/delete\"")));
    // The size over time: a chart, and the same numbers readable as text.
    assert!(page.text.contains("<svg") && page.text.contains("<polyline"));
    let history = element_html(&page.text, "history-table").expect("the history table");
    assert_eq!(history.matches("<tr data-day=").count(), 30);
    let today = history.rsplit("<tr data-day=").next().expect("today's row").to_owned();
    assert!(today.contains("<td>2</td><td>2</td><td>0</td>"), "today: {today}");
    assert!(element_text(&page.text, "chart-caption").is_some_and(|t| t.contains("2 joined")));

    // The members table searches, sorts and keeps both in its links.
    let searched = app.page(&client, &format!("/segments/{sid}?q=bartek")).await;
    assert_eq!(row_ids(&searched.text), [bartek]);
    assert!(element_text(&searched.text, "members-total").is_some_and(|t| t.contains("1 found")));
    let none = app.page(&client, &format!("/segments/{sid}?q=zenon")).await;
    assert!(none.text.contains("id=\"no-match\""));
    let sorted = app.page(&client, &format!("/segments/{sid}?sort=-name&q=krakow")).await;
    assert_eq!(row_ids(&sorted.text), [bartek, anna]);
    assert!(unescape_html(&sorted.text).contains(&format!("/segments/{sid}?sort=name&q=krakow")));
    let bad_sort = app.page(&client, &format!("/segments/{sid}?sort=shoe")).await;
    assert_eq!(bad_sort.status, StatusCode::BAD_REQUEST);

    // The edit form starts from the saved filter and previews against the saved members.
    let edit = app.page(&client, &format!("/segments/{sid}/edit")).await;
    assert_eq!(edit.status, StatusCode::OK, "{}", edit.text);
    let saved_filter = hidden_input(&edit.text, "filter").expect("the filter input");
    assert_eq!(
        serde_json::from_str::<Value>(&saved_filter).unwrap(),
        serde_json::from_str::<Value>(KRAKOW).unwrap()
    );
    assert!(
        edit.text
            .contains(&format!("data-count-url=\"/segments/{sid}/preview\""))
    );
    let preview = app
        .page(
            &client,
            &format!(
                "/segments/{sid}/preview?filter={}",
                urlencode(&f("city", "eq", json!("Łódź")).to_string())
            ),
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.text);
    assert_eq!(
        preview.json(),
        json!({"count": 1,
               "joining": {"count": 1, "sample": [{"id": celina, "name": "Celina"}]},
               "leaving": {"count": 2, "sample": [{"id": anna, "name": "Anna"}, {"id": bartek, "name": "Bartek"}]}})
    );
    // Its errors are relative to the filter, as the builder's count reads them.
    let wrong = app
        .page(
            &client,
            &format!(
                "/segments/{sid}/preview?filter={}",
                urlencode(r#"{"and": [{"field": "nope", "op": "eq", "value": 1}]}"#)
            ),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json()["error"]["path"], "and[0].field");
    let malformed = app.page(&client, "/segments/preview?filter=%7B").await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"]["path"], "filter");
    let fresh = app
        .page(&client, &format!("/segments/preview?filter={}", urlencode(KRAKOW)))
        .await;
    assert_eq!(fresh.json()["joining"]["count"], 2, "{}", fresh.text);
    let anonymous = app.page(&app.web_client(), &format!("/segments/{sid}/preview")).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.json()["error"]["code"], "unauthorized");

    let unsafe_edit = app
        .submit(&client, &format!("/segments/{sid}/edit"), &[("name", "Renamed")])
        .await;
    assert_eq!(unsafe_edit.status, StatusCode::FORBIDDEN);
    let saved = app
        .submit(
            &client,
            &format!("/segments/{sid}/edit"),
            &[
                ("csrf_token", &csrf),
                ("name", "Łodzianie"),
                ("filter", r#"{"field": "city", "op": "eq", "value": "Łódź"}"#),
            ],
        )
        .await;
    assert_eq!(segment_location(&saved), sid);
    let page = app.page(&client, &format!("/segments/{sid}")).await;
    assert_eq!(element_text(&page.text, "segment-name").as_deref(), Some("Łodzianie"));
    assert_eq!(row_ids(&page.text), [celina]);
    let bad_edit = app
        .submit(
            &client,
            &format!("/segments/{sid}/edit"),
            &[
                ("csrf_token", &csrf),
                ("name", "Łodzianie"),
                ("filter", r#"{"field": "city", "op": "gt", "value": [1]}"#),
            ],
        )
        .await;
    assert_eq!(bad_edit.status, StatusCode::BAD_REQUEST, "{}", bad_edit.text);
    assert!(bad_edit.text.contains("id=\"filter-error\""));

    // The list shows it with its count and status.
    let list = app.page(&client, "/segments").await;
    let row = element_html(&list.text, "segments").unwrap();
    assert!(row.contains(&format!("<tr data-segment=\"{sid}\">")), "{row}");
    assert!(
        row.contains("Łodzianie") && row.contains("dynamic") && row.contains("<td class=\"num\">1</td>"),
        "{row}"
    );

    // Delete: refused while another segment is defined with it, and said so on its page.
    let (status, other) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Built on it", "kind": "dynamic", "filter": f("segment", "in_segment", json!(sid))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let unconfirmed = app
        .submit(&client, &format!("/segments/{sid}/delete"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(element_text(&unconfirmed.text, "delete-error").is_some_and(|t| t.contains("confirm")));
    let refused = app
        .submit(
            &client,
            &format!("/segments/{sid}/delete"),
            &[("csrf_token", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(
        element_text(&refused.text, "delete-error").is_some_and(|t| t.contains("Built on it")),
        "{:?}",
        element_text(&refused.text, "delete-error")
    );
    assert_eq!(row_ids(&refused.text), [celina], "the page is still whole");
    let forged = app
        .submit(
            &client,
            &format!("/segments/{}/delete", id(&other)),
            &[("confirm", "on")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let gone = app
        .submit(
            &client,
            &format!("/segments/{}/delete", id(&other)),
            &[("csrf_token", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(gone.location().as_deref(), Some("/segments"));
    assert_eq!(
        app.page(&client, &format!("/segments/{}", id(&other))).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.page(&client, "/segments/abc").await.status, StatusCode::NOT_FOUND);
}

both!(segment_page_pages_its_members: segment_page_pages_its_members_sqlite, segment_page_pages_its_members_postgres);
async fn segment_page_pages_its_members(app: TestApp) {
    let (admin, token) = app.admin().await;
    let mut ids = Vec::new();
    for i in 0..55 {
        ids.push(person(&app, &token, &format!("Osoba {i:02}"), "Gdańsk", None).await);
    }
    person(&app, &token, "Outsider", "Gdańsk", None).await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    let created = app
        .submit(
            &client,
            "/segments",
            &[
                ("csrf_token", &csrf),
                ("name", "Fair"),
                ("kind", "static"),
                ("filter", KRAKOW),
            ],
        )
        .await;
    let sid = segment_location(&created);
    let (status, seg) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seg["kind"], "static");
    assert!(seg["filter"].is_null(), "a static list keeps no filter: {seg}");
    let (status, added) = app
        .post_json(
            &token,
            &format!("/api/v1/segments/{sid}/members"),
            &json!({"contact_ids": ids}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");

    let mut seen = Vec::new();
    let mut path = format!("/segments/{sid}?sort=-name");
    let mut pages = 0;
    loop {
        let page = app.page(&client, &path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        seen.extend(row_ids(&page.text));
        pages += 1;
        let html = unescape_html(&page.text);
        let Some(next) = html
            .split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|u| u.contains("after="))
            .map(str::to_owned)
        else {
            break;
        };
        assert!(next.starts_with(&format!("/segments/{sid}?sort=-name")), "{next}");
        path = next;
        assert!(pages < 5, "paging does not end");
    }
    assert_eq!(pages, 2);
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected, "every member once, by name descending");
    let edit = app.page(&client, &format!("/segments/{sid}/edit")).await;
    assert!(
        !edit.text.contains("id=\"filter-builder\""),
        "a static list has no filter to build"
    );

    // A static list's rows each have a Remove button that comes back to the same page.
    let page = app.page(&client, &format!("/segments/{sid}?sort=-name")).await;
    let html = unescape_html(&page.text);
    assert!(page.text.contains("id=\"add-hint\""), "how to add members");
    assert_eq!(html.matches("class=\"inline remove-from-list\"").count(), 50);
    assert!(html.contains(&format!("name=\"back\" value=\"/segments/{sid}?sort=-name\"")));
    let removed = app
        .submit(
            &client,
            "/contacts/remove-from-list",
            &[
                ("csrf_token", &csrf),
                ("segment", &sid.to_string()),
                ("contact_ids", &ids[54].to_string()),
                ("back", &format!("/segments/{sid}?sort=-name")),
            ],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.text);
    let back = removed.location().expect("back to the list");
    assert_eq!(back, format!("/segments/{sid}?sort=-name"));
    let page = app.page(&client, &back).await;
    assert!(element_text(&page.text, "notice").is_some_and(|t| t.contains("1 removed from Fair")));
    assert_eq!(element_text(&page.text, "segment-count").as_deref(), Some("54"));
    assert_eq!(row_ids(&page.text).first(), Some(&ids[53]));
    let again = app.page(&client, &back).await;
    assert!(!again.text.contains("id=\"notice\""), "the notice is shown once");
}

both!(agents_read_segments_through_their_visibility: agents_read_segments_through_their_visibility_sqlite, agents_read_segments_through_their_visibility_postgres);
async fn agents_read_segments_through_their_visibility(app: TestApp) {
    let (_, token) = app.admin().await;
    let (agent, _) = app.agent().await;
    crate::plugins::enable_example(&app, &token).await;
    let anna = person(&app, &token, "Anna", "Kraków", Some(agent.id)).await;
    person(&app, &token, "Bartek", "Kraków", None).await;
    let filter = json!({"and": [f("city", "eq", json!("Kraków")), f("name", "example.longer_than", json!(1))]});
    let (status, seg) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Cracovians", "kind": "dynamic", "filter": filter}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    let sid = id(&seg);
    // The plugin goes: the worker's health check marks the segment, its members stay.
    let (status, _) = app
        .post_json(&token, "/api/v1/plugins/example/disable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    crate::segment_upkeep::wait_for(&app, &token, sid, "needs_attention", |s| {
        s["status"] == "needs_attention"
    })
    .await;
    let (client, csrf) = app.signed_in_client(&agent.email, PASSWORD).await;

    let list = app.page(&client, "/segments").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(!list.text.contains("href=\"/segments/new\""), "agents make no segments");
    let row = element_html(&list.text, "segments").unwrap();
    assert!(row.contains("<td class=\"num\">1</td>"), "the count they see: {row}");
    assert!(row.contains("needs attention") && row.contains("example"), "{row}");

    let page = app.page(&client, &format!("/segments/{sid}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(row_ids(&page.text), [anna]);
    assert_eq!(element_text(&page.text, "segment-count").as_deref(), Some("1"));
    assert_eq!(
        element_text(&page.text, "segment-status").as_deref(),
        Some("needs attention")
    );
    assert!(element_text(&page.text, "status-message").is_some_and(|t| t.contains("example")));
    assert!(!page.text.contains("id=\"edit-segment\"") && !page.text.contains("id=\"delete-form\""));
    let history = element_html(&page.text, "history-table").unwrap();
    let today = history.rsplit("<tr data-day=").next().unwrap().to_owned();
    assert!(
        today.contains("<td>1</td><td>1</td><td>0</td>"),
        "their history: {today}"
    );

    assert_eq!(app.page(&client, "/segments/new").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.page(&client, &format!("/segments/{sid}/edit")).await.status,
        StatusCode::FORBIDDEN
    );
    let create = app
        .submit(
            &client,
            "/segments",
            &[("csrf_token", &csrf), ("name", "Mine"), ("kind", "static")],
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    let delete = app
        .submit(
            &client,
            &format!("/segments/{sid}/delete"),
            &[("csrf_token", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN);
    let (status, _) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(status, StatusCode::OK, "still there");
    // Their preview counts what they see.
    let preview = app
        .page(&client, &format!("/segments/preview?filter={}", urlencode(KRAKOW)))
        .await;
    assert_eq!(preview.json()["count"], 1, "{}", preview.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_form_script_is_served() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let reply = app.page(&app.web_client(), "/assets/segment-form.js").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/javascript"))
    );
    assert!(reply.text.contains("filter-builder:counted"));
}

both!(segment_builder_in_a_browser: segment_builder_in_a_browser_sqlite, segment_builder_in_a_browser_postgres);
async fn segment_builder_in_a_browser(app: TestApp) {
    let (user, token) = app.admin().await;
    let mut ids = Vec::new();
    for (name, city) in [
        ("Anna Nowak", "Kraków"),
        ("Bogdan Zając", "Kraków"),
        ("Celina Lis", "Łódź"),
        ("Dariusz Król", "Gdańsk"),
    ] {
        ids.push(person(&app, &token, name, city, None).await);
    }
    let Some(browser) = Browser::open().await else {
        return;
    };
    let outcome = builder_scenario(&browser.client, &app, &user.email).await;
    browser.close().await;
    let (sid, shown_after_save, shown_after_edit) = outcome.unwrap_or_else(|e| panic!("in the browser: {e}"));
    assert_eq!(
        shown_after_save,
        [ids[0], ids[1]],
        "the segment's page lists its members"
    );
    assert_eq!(shown_after_edit, [ids[2]]);
    let (_, seg) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(seg["name"], "Cracovians");
    assert_eq!(
        seg["filter"],
        json!({"and": [{"field": "city", "op": "std.eq", "value": "Łódź"}]})
    );
}

/// Builds `city = Kraków` in the segment form, watches the count and the preview, saves,
/// reads the segment's page; then edits it to `city = Łódź` and watches who would join
/// and leave. Returns the segment's id and the rows its page showed after each save.
async fn builder_scenario(browser: &Client, app: &TestApp, email: &str) -> Result<(i64, Vec<i64>, Vec<i64>), String> {
    sign_in(browser, app, email).await?;
    // Wait for the sign-in to land before leaving the page.
    wait_for_text(browser, "#filter-count", |t| t.ends_with("match")).await?;
    browser
        .goto(&app.url("/segments/new"))
        .await
        .map_err(err("opening /segments/new"))?;
    let count = "#filter-count";
    wait_for_text(browser, count, |t| t == "4 contacts match").await?;
    browser
        .find(Locator::Css("#segment-form input[name='name']"))
        .await
        .map_err(err("the name input"))?
        .send_keys("Cracovians")
        .await
        .map_err(err("typing the name"))?;
    if browser.find(Locator::Id("filter-apply")).await.is_ok() {
        return Err("the segment form has no Apply: it saves".into());
    }
    click(browser, ".fb-root > .fb-actions .fb-add-cond").await?;
    set_condition(browser, 0, "city", "std.eq", Some("Kraków")).await?;
    wait_for_text(browser, count, |t| t == "2 contacts match").await?;
    wait_for_text(browser, "#joining-count", |t| t == "2 contacts").await?;
    let joining = wait_for_text(browser, "#joining-sample", |t| t.contains("Bogdan")).await?;
    if !joining.contains("Anna Nowak") || joining.contains("Celina") {
        return Err(format!("joining lists {joining:?}"));
    }
    let leaving_shown = browser
        .find(Locator::Id("leaving"))
        .await
        .map_err(err("the leaving column"))?
        .is_displayed()
        .await
        .map_err(err("whether leaving shows"))?;
    if leaving_shown {
        return Err("a new segment has nobody leaving, and shows no such column".into());
    }
    // The hidden input carries what will be saved.
    let saved = browser
        .find(Locator::Id("segment-filter"))
        .await
        .map_err(err("the filter input"))?
        .prop("value")
        .await
        .map_err(err("its value"))?
        .unwrap_or_default();
    let saved: Value = serde_json::from_str(&saved).map_err(|e| format!("the filter input holds {saved:?}: {e}"))?;
    if saved != json!({"and": [{"field": "city", "op": "std.eq", "value": "Kraków"}]}) {
        return Err(format!("the filter input holds {saved}"));
    }
    click(browser, "#segment-save").await?;

    let page = wait_for_page(browser).await?;
    let sid = page;
    wait_for_text(browser, "#segment-count", |t| t == "2").await?;
    let after_save = table_ids(browser).await?;

    // Edit: the builder starts from the saved filter; a new value previews the move.
    click(browser, "#edit-segment").await?;
    wait_for_text(browser, count, |t| t == "2 contacts match").await?;
    wait_for_text(browser, "#joining-count", |t| t == "0 contacts").await?;
    let value = part(browser, 0, ".fb-value-input").await?;
    value.clear().await.map_err(err("clearing the value"))?;
    value.send_keys("Łódź").await.map_err(err("typing Łódź"))?;
    wait_for_text(browser, count, |t| t == "1 contact matches").await?;
    wait_for_text(browser, "#joining-count", |t| t == "1 contact").await?;
    wait_for_text(browser, "#joining-sample", |t| t.contains("Celina Lis")).await?;
    wait_for_text(browser, "#leaving-count", |t| t == "2 contacts").await?;
    let leaving = wait_for_text(browser, "#leaving-sample", |t| t.contains("Anna Nowak")).await?;
    if !leaving.contains("Bogdan Zając") {
        return Err(format!("leaving lists {leaving:?}"));
    }
    // In terms of itself: refused on that condition, and no preview meanwhile.
    click(browser, ".fb-root > .fb-actions .fb-add-cond").await?;
    set_condition(browser, 1, "segment", "membership.in_segment", Some(&sid.to_string())).await?;
    let error = wait_for_text(browser, ".fb-cond.has-error > .fb-error", |t| !t.is_empty()).await?;
    if !error.contains("contain itself") {
        return Err(format!("the error says {error:?}"));
    }
    let bad = part(browser, 1, ".fb-field")
        .await?
        .prop("value")
        .await
        .map_err(err("the second condition's field"))?;
    let flagged = browser
        .find(Locator::Css(".fb-cond.has-error .fb-field"))
        .await
        .map_err(err("the condition with the error"))?
        .prop("value")
        .await
        .map_err(err("its field"))?;
    if flagged != bad {
        return Err(format!("the error is on the condition of {flagged:?}, not {bad:?}"));
    }
    let preview_hidden = !browser
        .find(Locator::Id("segment-preview"))
        .await
        .map_err(err("the preview"))?
        .is_displayed()
        .await
        .map_err(err("whether the preview shows"))?;
    if !preview_hidden {
        return Err(format!("the preview still shows under the error {error:?}"));
    }
    part(browser, 1, ".fb-remove")
        .await?
        .click()
        .await
        .map_err(err("removing the condition"))?;
    wait_for_text(browser, "#leaving-count", |t| t == "2 contacts").await?;
    click(browser, "#segment-save").await?;
    let again = wait_for_page(browser).await?;
    if again != sid {
        return Err(format!("saved to segment {again}, not {sid}"));
    }
    wait_for_text(browser, "#segment-count", |t| t == "1").await?;
    let after_edit = table_ids(browser).await?;
    Ok((sid, after_save, after_edit))
}

/// Waits until the browser is on a segment's page; returns its id.
async fn wait_for_page(browser: &Client) -> Result<i64, String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let url = browser.current_url().await.map_err(err("reading the URL"))?;
        if let Some(id) = url
            .path()
            .strip_prefix("/segments/")
            .and_then(|id| id.parse::<i64>().ok())
            && browser.find(Locator::Id("segment-name")).await.is_ok()
        {
            return Ok(id);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("saving did not lead to the segment's page; the URL is {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
