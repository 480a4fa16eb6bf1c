//! "Ask why": `GET /contacts/{id}/segments` explains each segment for a contact, condition
//! by condition with the compared values, agrees with the filter engine, and shows on the
//! contact card.

use kartoteka_tests::*;
use reqwest::Method;

fn f(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

/// The explanation of segment `segment` among a contact's segments.
fn of(items: &Value, segment: i64) -> Value {
    items["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == segment)
        .unwrap_or_else(|| panic!("segment {segment} in {items}"))
        .clone()
}

/// The node at `path` of an explanation tree.
fn node<'a>(tree: &'a Value, path: &str) -> &'a Value {
    fn find<'a>(n: &'a Value, path: &str) -> Option<&'a Value> {
        if n["path"] == path {
            return Some(n);
        }
        n["children"].as_array()?.iter().find_map(|c| find(c, path))
    }
    find(tree, path).unwrap_or_else(|| panic!("no node at `{path}` in {tree}"))
}

async fn explain(app: &TestApp, token: &str, contact: i64) -> Value {
    let (status, body) = app.get(token, &format!("/api/v1/contacts/{contact}/segments")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The ids of the contacts `GET /contacts?filter=` returns.
async fn engine_ids(app: &TestApp, token: &str, filter: &Value) -> Vec<i64> {
    let path = format!("/api/v1/contacts?limit=500&filter={}", urlencode(&filter.to_string()));
    let (status, page) = app.get(token, &path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    ids(page["items"].as_array().unwrap())
}

struct Base {
    token: String,
    email: String,
    anna: i64,
    bartek: i64,
    celina: i64,
    vip: i64,
    hot: i64,
    hot_filter: Value,
}

/// Three people, a company, an extra field, page visits, a static list "VIP" and a
/// dynamic segment "Hot leads" over all of them.
async fn base(app: &TestApp) -> Base {
    let (admin, token) = app.admin().await;
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "industry", "label": "Industry", "kind": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let acme = id(&app
        .create_contact(
            &token,
            &json!({"kind": "company", "type": "client", "name": "Acme Sp. z o.o."}),
        )
        .await);
    let anna = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Anna", "city": "Kraków", "company_id": acme,
                    "fields": {"industry": "retail"}}),
        )
        .await);
    let bartek = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Bartek", "city": "Warszawa", "fields": {"industry": "software"}}),
        )
        .await);
    let celina = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Celina", "city": "Gdańsk", "company_id": acme}),
        )
        .await);
    let visit = |contact: i64, path: &str, at: &str| json!({"contact_id": contact, "kind": "page_visit", "occurred_at": at, "properties": {"path": path}});
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!([
                visit(anna, "/pricing", "2026-11-01T10:00:00Z"),
                visit(anna, "/pricing", "2026-11-02T10:00:00Z"),
                visit(anna, "/blog", "2026-11-03T10:00:00Z"),
                visit(bartek, "/pricing", "2026-11-01T10:00:00Z"),
                visit(celina, "/pricing", "2026-11-01T10:00:00Z"),
                visit(celina, "/pricing", "2026-11-02T10:00:00Z"),
                visit(celina, "/pricing", "2026-11-03T10:00:00Z"),
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, vip) = app
        .post_json(&token, "/api/v1/segments", &json!({"name": "VIP", "kind": "static"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{vip}");
    let vip = id(&vip);
    let (status, body) = app
        .post_json(
            &token,
            &format!("/api/v1/segments/{vip}/members"),
            &json!({"contact_ids": [anna]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let hot_filter = json!({"and": [
        {"or": [f("city", "eq", json!("Kraków")), f("company", "contains", json!("acme"))]},
        {"not": f("fields.industry", "eq", json!("software"))},
        f("activity.page_visit", "happened", json!({"times": 2, "where": {"path": "/pricing"}})),
        f("segment", "in_segment", json!(vip)),
    ]});
    let (status, hot) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Hot leads", "kind": "dynamic", "filter": hot_filter}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hot}");
    Base {
        token,
        email: admin.email,
        anna,
        bartek,
        celina,
        vip,
        hot: id(&hot),
        hot_filter,
    }
}

both!(explains_each_condition_with_the_compared_values: explains_each_condition_with_the_compared_values_sqlite, explains_each_condition_with_the_compared_values_postgres);
async fn explains_each_condition_with_the_compared_values(app: TestApp) {
    let b = base(&app).await;

    // Anna: every condition holds.
    let anna = explain(&app, &b.token, b.anna).await;
    let hot = of(&anna, b.hot);
    assert_eq!(hot["name"], "Hot leads");
    assert_eq!(hot["kind"], "dynamic");
    assert_eq!(hot["status"], "ok");
    assert_eq!(hot["member"], true, "{hot}");
    assert!(hot["joined_at"].is_string(), "{hot}");
    assert_eq!(hot["matched"], true, "{hot}");
    assert_eq!(hot["added_by_hand"], false);
    assert!(hot["reason"].is_null());
    let tree = &hot["explanation"];
    assert_eq!(tree["path"], "");
    assert_eq!(tree["type"], "and");
    assert_eq!(tree["matched"], true);
    assert_eq!(tree["children"].as_array().unwrap().len(), 4);
    let or = node(tree, "and[0]");
    assert_eq!((or["type"].as_str(), or["matched"].as_bool()), (Some("or"), Some(true)));
    let city = node(tree, "and[0].or[0]");
    assert_eq!(city["type"], "condition");
    assert_eq!(city["field"], "city");
    assert_eq!(city["op"], "eq");
    assert_eq!(city["value"], "Kraków");
    assert_eq!(city["matched"], true);
    assert_eq!(city["actual"], "Kraków");
    let company = node(tree, "and[0].or[1]");
    assert_eq!(company["matched"], true);
    assert_eq!(company["actual"], "Acme Sp. z o.o.", "the company's name: {company}");
    let not = node(tree, "and[1]");
    assert_eq!(
        (not["type"].as_str(), not["matched"].as_bool()),
        (Some("not"), Some(true))
    );
    let industry = node(tree, "and[1].not");
    assert_eq!(industry["field"], "fields.industry");
    assert_eq!(industry["matched"], false);
    assert_eq!(industry["actual"], "retail", "the stored value: {industry}");
    let visits = node(tree, "and[2]");
    assert_eq!(visits["matched"], true);
    assert_eq!(visits["value"], json!({"times": 2, "where": {"path": "/pricing"}}));
    assert_eq!(
        visits["actual"],
        json!({"matching": 2, "total": 3, "needed": 2}),
        "{visits}"
    );
    assert_eq!(visits["note"], "2 of 3 page visits qualify; at least 2 needed");
    let in_vip = node(tree, "and[3]");
    assert_eq!(in_vip["field"], "segment");
    assert_eq!(in_vip["value"], b.vip);
    assert_eq!(in_vip["matched"], true);
    assert_eq!(in_vip["actual"], true);
    assert!(in_vip["note"].as_str().unwrap().contains("VIP"), "{in_vip}");

    // Celina: everything but the list holds.
    let celina = explain(&app, &b.token, b.celina).await;
    let hot = of(&celina, b.hot);
    assert_eq!(hot["member"], false);
    assert!(hot["joined_at"].is_null());
    assert_eq!(hot["matched"], false);
    let tree = &hot["explanation"];
    assert_eq!(node(tree, "and[0].or[0]")["matched"], false);
    assert_eq!(node(tree, "and[0].or[0]")["actual"], "Gdańsk");
    assert_eq!(node(tree, "and[0].or[1]")["matched"], true);
    assert_eq!(node(tree, "and[0]")["matched"], true);
    assert_eq!(node(tree, "and[1].not")["actual"], Value::Null, "no stored value");
    assert_eq!(node(tree, "and[1]")["matched"], true);
    assert_eq!(node(tree, "and[2]")["matched"], true);
    assert_eq!(node(tree, "and[2]")["actual"]["matching"], 3);
    assert_eq!(node(tree, "and[3]")["matched"], false);
    assert_eq!(node(tree, "and[3]")["actual"], false);

    // Bartek: nothing holds.
    let bartek = explain(&app, &b.token, b.bartek).await;
    let tree = &of(&bartek, b.hot)["explanation"];
    assert_eq!(node(tree, "and[0]")["matched"], false);
    assert_eq!(node(tree, "and[0].or[1]")["actual"], Value::Null, "no company");
    assert_eq!(node(tree, "and[1].not")["matched"], true);
    assert_eq!(node(tree, "and[1].not")["actual"], "software");
    assert_eq!(node(tree, "and[1]")["matched"], false);
    assert_eq!(
        node(tree, "and[2]")["actual"],
        json!({"matching": 1, "total": 1, "needed": 2})
    );
    assert_eq!(node(tree, "and[2]")["matched"], false);

    // The static list: added by hand, and when; no tree.
    let vip = of(&anna, b.vip);
    assert_eq!(vip["kind"], "static");
    assert_eq!(vip["member"], true);
    assert_eq!(vip["added_by_hand"], true);
    assert!(vip["joined_at"].is_string(), "{vip}");
    assert!(vip["explanation"].is_null() && vip["matched"].is_null(), "{vip}");
    let vip = of(&bartek, b.vip);
    assert_eq!(
        (vip["member"].as_bool(), vip["added_by_hand"].as_bool()),
        (Some(false), Some(false))
    );

    // Segments are listed by name.
    let names: Vec<&str> = anna["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Hot leads", "VIP"]);
}

both!(agrees_with_the_filter_engine: agrees_with_the_filter_engine_sqlite, agrees_with_the_filter_engine_postgres);
async fn agrees_with_the_filter_engine(app: TestApp) {
    let b = base(&app).await;
    // More segments, among them one with a residual (the great-circle distance) and
    // groups nested under `not`.
    for (name, lat, lon) in [("Dorota", 50.07, 19.95), ("Ewa", 52.23, 21.01)] {
        app.create_contact(
            &b.token,
            &json!({"type": "client", "name": name, "latitude": lat, "longitude": lon}),
        )
        .await;
    }
    let filters = [
        b.hot_filter.clone(),
        json!({"or": [
            f("location", "within_distance", json!({"place": "Kraków", "km": 30})),
            {"not": {"or": [f("name", "starts_with", json!("a")), f("activity.page_visit", "happened", json!({}))]}},
        ]}),
        json!({"and": [
            {"not": f("segment", "in_segment", json!(b.vip))},
            {"or": [f("fields.industry", "is_empty", Value::Null), f("city", "in_list", json!(["Warszawa", "Gdańsk"]))]},
        ]}),
    ];
    let mut segment_ids = vec![b.hot];
    for (i, filter) in filters.iter().enumerate().skip(1) {
        let (status, s) = app
            .post_json(
                &b.token,
                "/api/v1/segments",
                &json!({"name": format!("Check {i}"), "kind": "dynamic", "filter": filter}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{s}");
        segment_ids.push(id(&s));
    }
    let (everyone, _) = app.all_contacts(&b.token, "name", 100).await;
    assert_eq!(everyone.len(), 6);
    for (filter, segment) in filters.iter().zip(&segment_ids) {
        let matching = engine_ids(&app, &b.token, filter).await;
        for contact in ids(&everyone) {
            let e = of(&explain(&app, &b.token, contact).await, *segment);
            let matched = e["matched"].as_bool().unwrap_or_else(|| panic!("{e}"));
            assert_eq!(
                matched,
                matching.contains(&contact),
                "contact {contact}, filter {filter}: the explanation says {e}, the engine {matching:?}"
            );
            assert_eq!(e["explanation"]["matched"], matched, "the root decides: {e}");
            assert_eq!(e["member"], matched, "the stored membership follows the filter: {e}");
        }
    }
    // The residual condition reports the point it measured.
    let dorota = everyone.iter().find(|c| c["name"] == "Dorota").unwrap();
    let e = of(&explain(&app, &b.token, id(dorota)).await, segment_ids[1]);
    let near = node(&e["explanation"], "or[0]");
    assert_eq!(near["matched"], true, "{near}");
    assert_eq!(near["actual"]["latitude"], 50.07);
}

both!(unexplainable_segments_say_why: unexplainable_segments_say_why_sqlite, unexplainable_segments_say_why_postgres);
async fn unexplainable_segments_say_why(app: TestApp) {
    let b = base(&app).await;
    let (status, near) = app
        .post_json(
            &b.token,
            "/api/v1/segments",
            &json!({"name": "Near Kraków", "kind": "dynamic",
                    "filter": f("location", "within_distance", json!({"place": "Kraków", "km": 30}))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{near}");
    let near = id(&near);
    let (status, body) = app.post_json(&b.token, "/api/v1/plugins/geo/disable", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let all = explain(&app, &b.token, b.anna).await;
    let e = of(&all, near);
    assert!(e["explanation"].is_null(), "{e}");
    assert!(e["matched"].is_null(), "{e}");
    assert!(
        e["reason"]
            .as_str()
            .is_some_and(|r| r.contains("geo") || r.contains("within_distance")),
        "the reason names the operator or its plugin: {e}"
    );
    // The other segments are still explained.
    assert_eq!(of(&all, b.hot)["matched"], true);

    // The card shows the reason instead of failing.
    let (client, _) = app.signed_in_client(&b.email, PASSWORD).await;
    let card = app
        .page(&client, &format!("/contacts/{}?explain={near}", b.bartek))
        .await;
    assert_eq!(card.status, StatusCode::OK, "{}", card.text);
    let why = element_html(&card.text, "why-not").expect("the explanation asked for");
    assert!(unescape_html(&why).contains("can't be evaluated"), "{why}");
}

both!(explanations_follow_visibility: explanations_follow_visibility_sqlite, explanations_follow_visibility_postgres);
async fn explanations_follow_visibility(app: TestApp) {
    let b = base(&app).await;
    let (_, agent) = app.agent().await;
    let hidden = app.get(&agent, &format!("/api/v1/contacts/{}/segments", b.anna)).await;
    assert_error(&hidden, StatusCode::NOT_FOUND, "not_found");
    let missing = app.get(&b.token, "/api/v1/contacts/999999/segments").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let garbage = app.get(&b.token, "/api/v1/contacts/abc/segments").await;
    assert_error(&garbage, StatusCode::NOT_FOUND, "not_found");
    let unsigned = app
        .send(
            Method::GET,
            None,
            &format!("/api/v1/contacts/{}/segments", b.anna),
            None,
        )
        .await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);

    // Their own contact is explained.
    let own = id(&app
        .create_contact(&agent, &json!({"type": "client", "name": "Zenon", "city": "Kraków"}))
        .await);
    let mine = explain(&app, &agent, own).await;
    let hot = of(&mine, b.hot);
    assert_eq!(hot["matched"], false);
    assert_eq!(node(&hot["explanation"], "and[0].or[0]")["matched"], true);

    // The route is in the OpenAPI document.
    let doc = app.send(Method::GET, None, "/api/v1/openapi.json", None).await.json();
    let route = &doc["paths"]["/api/v1/contacts/{id}/segments"]["get"];
    assert!(route.is_object(), "documented: {}", doc["paths"]);
    assert!(doc["components"]["schemas"]["SegmentExplanationOut"].is_object());
}

both!(the_card_lists_segments_with_why: the_card_lists_segments_with_why_sqlite, the_card_lists_segments_with_why_postgres);
async fn the_card_lists_segments_with_why(app: TestApp) {
    let b = base(&app).await;
    let (client, _) = app.signed_in_client(&b.email, PASSWORD).await;

    let card = app.page(&client, &format!("/contacts/{}", b.anna)).await;
    assert_eq!(card.status, StatusCode::OK);
    let section = element_html(&card.text, "segments").expect("the segments section");
    assert!(section.contains(&format!("href=\"/segments/{}\"", b.hot)), "{section}");
    assert!(section.contains(&format!("href=\"/segments/{}\"", b.vip)), "{section}");
    assert!(section.contains("Added to this list by hand on"), "{section}");
    assert!(
        section.contains("<details"),
        "a dynamic segment explains itself: {section}"
    );
    let text = unescape_html(&section);
    assert!(text.contains("City equals “Kraków”"), "{text}");
    assert!(text.contains("here: “Kraków”"), "{text}");
    assert!(text.contains("here: “retail”"), "{text}");
    assert!(text.contains("in “VIP”"), "{text}");
    assert!(
        section.contains("data-path=\"and[1].not\" class=\"miss\""),
        "the negated condition did not match: {section}"
    );
    assert!(section.contains("data-path=\"and[2]\" class=\"hit\""), "{section}");
    assert!(!card.text.contains("id=\"why-not-form\""), "nothing else to ask about");

    // Bartek is in nothing; he asks why not in "Hot leads".
    let card = app.page(&client, &format!("/contacts/{}", b.bartek)).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(card.text.contains("Not in any segment."));
    let form = element_html(&card.text, "why-not-form").expect("the why-not form");
    assert!(form.contains("method=\"get\""), "{form}");
    assert!(form.contains(&format!("<option value=\"{}\"", b.hot)), "{form}");
    let card = app
        .page(&client, &format!("/contacts/{}?explain={}", b.bartek, b.hot))
        .await;
    assert_eq!(card.status, StatusCode::OK);
    let why = element_html(&card.text, "why-not").expect("the explanation asked for");
    assert!(unescape_html(&why).contains("Doesn't match"), "{why}");
    assert!(why.contains("data-path=\"and[0]\" class=\"miss\""), "{why}");
    assert!(
        unescape_html(&why).contains("1 of 1 page visit qualifies; at least 2 needed"),
        "{why}"
    );

    // A bad or unknown segment id.
    let bad = app.page(&client, &format!("/contacts/{}?explain=abc", b.bartek)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = app
        .page(&client, &format!("/contacts/{}?explain=999999", b.bartek))
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(unknown.text.contains("There is no segment 999999."));

    // An agent can't open the card of a contact they don't see.
    let (agent, _) = app.agent().await;
    let (agent_client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    let hidden = app.page(&agent_client, &format!("/contacts/{}", b.anna)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
}
