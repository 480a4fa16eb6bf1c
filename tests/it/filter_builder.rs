//! The filter of the contacts page without a browser: `/contacts?filter=` renders the
//! table filtered and keeps the filter in every link; a bad filter is shown on the page
//! at its bad node, never a 500; the builder's JSON reads (`/contacts/filter-fields`,
//! `/contacts/count`) answer for the page's session only. The builder itself runs in a
//! real browser in `browser.rs`.

use std::collections::HashSet;

use kartoteka_tests::*;

/// Three people in Kraków, one in Gdańsk, with a number field `revenue`; returns the ids
/// of the Kraków ones with revenue over 500, the other Kraków one, and the Gdańsk one.
async fn seed(app: &TestApp, token: &str) -> (Vec<i64>, i64, i64) {
    let (status, body) = app
        .post_json(
            token,
            "/api/v1/fields",
            &json!({"key": "revenue", "label": "Revenue", "kind": "number"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let person = |name: &str, city: &str, revenue: f64| json!({"type": "client", "name": name, "city": city, "fields": {"revenue": revenue}});
    let anna = id(&app.create_contact(token, &person("Anna Nowak", "Kraków", 1000.0)).await);
    let bogdan = id(&app
        .create_contact(token, &person("Bogdan Zając", "Kraków", 800.0))
        .await);
    let celina = id(&app.create_contact(token, &person("Celina Lis", "Kraków", 10.0)).await);
    let dariusz = id(&app
        .create_contact(token, &person("Dariusz Król", "Gdańsk", 5000.0))
        .await);
    (vec![anna, bogdan], celina, dariusz)
}

const RICH_IN_KRAKOW: &str = r#"{"and": [{"field": "city", "op": "eq", "value": "Kraków"}, {"field": "fields.revenue", "op": "std.gt", "value": 500}]}"#;

both!(contacts_page_filters_from_the_url: contacts_page_filters_from_the_url_sqlite, contacts_page_filters_from_the_url_postgres);
async fn contacts_page_filters_from_the_url(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (rich, poor, elsewhere) = seed(&app, &token).await;
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;

    let page = app
        .page(
            &client,
            &format!("/contacts?sort=name&filter={}", urlencode(RICH_IN_KRAKOW)),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(row_ids(&page.text), rich, "only the matches, in name order");
    assert!(
        element_text(&page.text, "contacts-total").is_some_and(|t| t.contains("2 found")),
        "{:?}",
        element_text(&page.text, "contacts-total")
    );
    let html = unescape_html(&page.text);
    let encoded = urlencode(RICH_IN_KRAKOW);
    assert!(
        html.contains(&format!("/contacts?sort=-name&filter={encoded}")),
        "sort links keep the filter"
    );
    assert!(
        html.contains(&format!("name=\"filter\" value=\"{RICH_IN_KRAKOW}\"")),
        "the search form keeps the filter"
    );
    assert!(
        html.contains(&format!(">{RICH_IN_KRAKOW}</textarea>")),
        "the JSON box holds the filter, for reading without JavaScript"
    );
    assert!(page.text.contains("id=\"filter-builder\""), "the builder's mount point");
    assert!(page.text.contains("/assets/filter-builder.js"), "the builder's script");

    // Search and filter narrow together.
    let both = app
        .page(
            &client,
            &format!("/contacts?q=anna&filter={}", urlencode(RICH_IN_KRAKOW)),
        )
        .await;
    assert_eq!(both.status, StatusCode::OK, "{}", both.text);
    assert_eq!(row_ids(&both.text), vec![rich[0]]);

    // Nothing matches: said so, not "no contacts yet".
    let none = app
        .page(
            &client,
            &format!(
                "/contacts?filter={}",
                urlencode(r#"{"field": "city", "op": "eq", "value": "Lublin"}"#)
            ),
        )
        .await;
    assert_eq!(none.status, StatusCode::OK, "{}", none.text);
    assert!(none.text.contains("id=\"no-match\""));
    assert!(row_ids(&none.text).is_empty());

    // An empty filter is no filter.
    let all = app.page(&client, "/contacts?filter=").await;
    assert_eq!(all.status, StatusCode::OK);
    let every: HashSet<i64> = row_ids(&all.text).into_iter().collect();
    assert_eq!(every, HashSet::from([rich[0], rich[1], poor, elsewhere]));
}

both!(contacts_page_filter_survives_paging: contacts_page_filter_survives_paging_sqlite, contacts_page_filter_survives_paging_postgres);
async fn contacts_page_filter_survives_paging(app: TestApp) {
    let (admin, token) = app.admin().await;
    let mut matching = HashSet::new();
    // 60 matches (more than a page of 50) between 20 that don't match.
    for i in 0..80 {
        let city = if i % 4 == 0 { "Gdańsk" } else { "Łódź" };
        let contact = app
            .create_contact(
                &token,
                &json!({"type": "client", "name": format!("Osoba {i:02}"), "city": city}),
            )
            .await;
        if i % 4 != 0 {
            matching.insert(id(&contact));
        }
    }
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let filter = r#"{"field": "city", "op": "in_list", "value": ["Łódź"]}"#;
    let mut found = HashSet::new();
    let mut path = format!("/contacts?filter={}", urlencode(filter));
    let mut pages = 0;
    loop {
        let page = app.page(&client, &path).await;
        assert_eq!(page.status, StatusCode::OK, "GET {path}: {}", page.text);
        found.extend(row_ids(&page.text));
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
        assert!(
            next.contains(&format!("filter={}", urlencode(filter))),
            "the next page keeps the filter: {next}"
        );
        path = next;
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(pages, 2);
    assert_eq!(found, matching, "every match over the pages, and only matches");
}

both!(contacts_page_shows_a_bad_filter: contacts_page_shows_a_bad_filter_sqlite, contacts_page_shows_a_bad_filter_postgres);
async fn contacts_page_shows_a_bad_filter(app: TestApp) {
    let (admin, token) = app.admin().await;
    seed(&app, &token).await;
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;

    let cases = [
        (r#"{"and": [{"field": "city""#, "filter", "not valid JSON"),
        (r#"[1, 2]"#, "", "expected an object"),
        (
            r#"{"and": [{"field": "city", "op": "eq", "value": "X"}, {"field": "nope", "op": "eq", "value": 1}]}"#,
            "and[1].field",
            "unknown field",
        ),
        (
            r#"{"and": [{"field": "city", "op": "eq", "value": "X"}, {"or": [{"field": "fields.revenue", "op": "gt", "value": "lots"}]}]}"#,
            "and[1].or[0].value",
            "number",
        ),
        (r#"{"field": "city", "op": "nosuch.op", "value": 1}"#, "op", "nosuch"),
        (
            r#"{"not": {"field": "created_at", "op": "within_last", "value": {"amount": 3, "unit": "weeks"}}}"#,
            "not.value.unit",
            "days",
        ),
    ];
    for (filter, path, words) in cases {
        let page = app
            .page(&client, &format!("/contacts?filter={}", urlencode(filter)))
            .await;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{filter}: the page with the error, not a 500: {}",
            page.text
        );
        let html = unescape_html(&page.text);
        assert!(
            html.contains(&format!("id=\"filter-error\" data-path=\"{path}\"")),
            "{filter}: the error names `{path}`: {}",
            element_html(&page.text, "filter-error").unwrap_or_default()
        );
        let shown = unescape_html(&element_html(&page.text, "filter-error").unwrap_or_default());
        assert!(shown.contains(words), "{filter}: {shown}");
        if !path.is_empty() {
            assert!(shown.contains(&format!("<code>{path}</code>")), "{filter}: {shown}");
        }
        assert!(row_ids(&page.text).is_empty(), "{filter}: no rows under a bad filter");
        assert!(
            html.contains(&format!(">{filter}</textarea>")),
            "{filter}: the filter is kept for fixing"
        );
        assert!(page.text.contains("<nav>"), "{filter}: the whole page, with its layout");
    }
}

both!(filter_builder_reads_need_the_session: filter_builder_reads_need_the_session_sqlite, filter_builder_reads_need_the_session_postgres);
async fn filter_builder_reads_need_the_session(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (rich, _, _) = seed(&app, &token).await;

    // Without a session: JSON 401s, not the sign-in page.
    let anonymous = app.web_client();
    for path in ["/contacts/filter-fields", "/contacts/count"] {
        let reply = app.page(&anonymous, path).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}: {}", reply.text);
        assert_eq!(reply.json()["error"]["code"], "unauthorized", "{path}: {}", reply.text);
    }
    // A bearer token is for the API, not for these.
    let (status, _) = app.get(&token, "/contacts/count").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let catalogue = app.page(&client, "/contacts/filter-fields").await;
    assert_eq!(catalogue.status, StatusCode::OK, "{}", catalogue.text);
    let catalogue = catalogue.json();
    let fields = catalogue["fields"].as_array().expect("fields");
    let field = |path: &str| {
        fields
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no field {path} in {catalogue}"))
    };
    assert_eq!(field("fields.revenue")["kind"], "number");
    assert_eq!(field("fields.revenue")["label"], "Revenue");
    let city_ops = field("city")["operators"].as_array().unwrap();
    assert!(city_ops.contains(&json!("std.eq")) && city_ops.contains(&json!("std.contains")));
    assert!(
        !city_ops.contains(&json!("time.before")),
        "operators apply to their kinds"
    );
    assert_eq!(field("activity.purchase")["operators"], json!(["behaviour.happened"]));
    assert!(field("type")["options"].as_array().is_some_and(|o| !o.is_empty()));
    // Each operator with its label and the schema of its value.
    let ops = &catalogue["operators"];
    assert_eq!(ops["std.eq"]["label"], "equals");
    assert_eq!(ops["std.eq"]["builtin"], true);
    assert_eq!(ops["std.is_empty"]["args_schema"]["type"], "null");
    assert_eq!(
        ops["time.within_last"]["args_schema"]["properties"]["unit"]["enum"],
        json!(["days", "months", "years"])
    );
    assert!(ops["geo.within_distance"]["args_schema"]["properties"]["km"].is_object());
    for f in fields {
        for op in f["operators"].as_array().unwrap() {
            assert!(
                ops[op.as_str().unwrap()].is_object(),
                "{op} of {} is described",
                f["path"]
            );
        }
    }

    // The count: the same answer as the list, with the search too.
    let count = |query: String| {
        let path = format!("/contacts/count?{query}");
        let (app, client) = (&app, &client);
        async move { app.page(client, &path).await }
    };
    let all = count(String::new()).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json(), json!({"count": 4}));
    let filtered = count(format!("filter={}", urlencode(RICH_IN_KRAKOW))).await;
    assert_eq!(filtered.json(), json!({"count": rich.len()}));
    let searched = count(format!("filter={}&q=bogdan", urlencode(RICH_IN_KRAKOW))).await;
    assert_eq!(searched.json(), json!({"count": 1}));
    let (_, listed) = app
        .get(
            &token,
            &format!("/api/v1/contacts?filter={}", urlencode(RICH_IN_KRAKOW)),
        )
        .await;
    assert_eq!(ids(listed["items"].as_array().unwrap()).len(), rich.len());

    // A bad filter: 400 with the path of the bad node.
    let bad = count(format!(
        "filter={}",
        urlencode(r#"{"and": [{"field": "city", "op": "eq", "value": "X"}, {"or": [{"not": {"field": "fields.revenue", "op": "gt", "value": "abc"}}]}]}"#)
    ))
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let error = &bad.json()["error"];
    assert_eq!(error["path"], "and[1].or[0].not.value", "{error}");
    assert!(
        error["message"].as_str().is_some_and(|m| m.contains("number")),
        "{error}"
    );
    let malformed = count("filter=%7B".into()).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.json()["error"]["path"], "filter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_builder_script_is_served() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let reply = app.page(&app.web_client(), "/assets/filter-builder.js").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/javascript")),
        "{:?}",
        reply.header("content-type")
    );
    assert!(reply.text.contains("filter-builder"));
}
