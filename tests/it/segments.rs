//! Segments through the API: a dynamic segment built from a filter, static lists kept by
//! hand, filter errors at their path, and members seen through the reader's visibility.

use kartoteka_tests::*;
use reqwest::Method;

fn f(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

async fn member_names(app: &TestApp, token: &str, id: i64) -> Vec<String> {
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/api/v1/segments/{id}/members?limit=2&after={}", urlencode(a)),
            None => format!("/api/v1/segments/{id}/members?limit=2"),
        };
        let (status, page) = app.get(token, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for c in page["items"].as_array().unwrap() {
            names.push(c["name"].as_str().unwrap().to_owned());
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => return names,
        }
    }
}

async fn city(app: &TestApp, token: &str, name: &str, city: &str, owner: Option<i64>) -> i64 {
    let mut body = json!({"type": "client", "name": name, "city": city});
    if let Some(owner) = owner {
        body["owner"] = json!(owner);
    }
    id(&app.create_contact(token, &body).await)
}

async fn dynamic_segment_follows_its_filter(app: TestApp) {
    let (_, token) = app.admin().await;
    for (name, c) in [
        ("Anna", "Kraków"),
        ("Bartek", "Kraków"),
        ("Celina", "Łódź"),
        ("Dorota", "Kraków"),
        ("Ewa", "Gdańsk"),
    ] {
        city(&app, &token, name, c, None).await;
    }
    let (status, seg) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Cracovians", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    assert_eq!(seg["kind"], "dynamic");
    assert_eq!(seg["count"], 3);
    assert_eq!(seg["status"], "ok");
    assert_eq!(seg["filter"]["field"], "city");
    let sid = id(&seg);
    assert_eq!(member_names(&app, &token, sid).await, ["Anna", "Bartek", "Dorota"]);

    // The same name twice is a conflict.
    let again = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Cracovians", "kind": "static"}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");

    // A new filter rebuilds it.
    let (status, seg) = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{sid}"),
            &json!({"filter": f("city", "in_list", json!(["Łódź", "Gdańsk"]))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{seg}");
    assert_eq!(seg["count"], 2);
    assert_eq!(member_names(&app, &token, sid).await, ["Celina", "Ewa"]);

    // Listed and read back.
    let (status, list) = app.get(&token, "/api/v1/segments").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"][0]["name"], "Cracovians");
    assert_eq!(list["items"][0]["count"], 2);
    let (status, one) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one["count"], 2);

    // A dynamic segment's members follow its filter, not requests.
    let add = app
        .post_json(
            &token,
            &format!("/api/v1/segments/{sid}/members"),
            &json!({"contact_ids": [1]}),
        )
        .await;
    assert_eq!(add.0, StatusCode::CONFLICT, "{}", add.1);

    // Deleted with its members.
    let (status, _) = app.delete(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
async fn residual_filters_are_decided_by_their_plugin(app: TestApp) {
    let (_, token) = app.admin().await;
    // Near Kraków, inside the bounding box of 60 km but not within 60 km, far away.
    for (name, lat, lon) in [("Near", 50.10, 19.90), ("Corner", 50.55, 20.65), ("Far", 52.23, 21.01)] {
        app.create_contact(
            &token,
            &json!({"type": "client", "name": name, "latitude": lat, "longitude": lon}),
        )
        .await;
    }
    let near = |km: f64| json!({"field": "location", "op": "within_distance", "value": {"lat": 50.06, "lon": 19.94, "km": km}});
    let (status, seg) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Near Kraków", "kind": "dynamic", "filter": near(60.0)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    let sid = id(&seg);
    assert_eq!(member_names(&app, &token, sid).await, ["Near"]);
    let (_, seg) = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{sid}"),
            &json!({"filter": near(400.0)}),
        )
        .await;
    assert_eq!(seg["count"], 3, "{seg}");
    let (_, seg) = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{sid}"),
            &json!({"filter": near(90.0), "name": "Around Kraków"}),
        )
        .await;
    assert_eq!(seg["name"], "Around Kraków");
    assert_eq!(member_names(&app, &token, sid).await, ["Corner", "Near"]);
}
both!(residual_filters_are_decided_by_their_plugin: residual_filters_are_decided_by_their_plugin_sqlite, residual_filters_are_decided_by_their_plugin_postgres);

both!(dynamic_segment_follows_its_filter: dynamic_segment_follows_its_filter_sqlite, dynamic_segment_follows_its_filter_postgres);

async fn static_list_is_kept_by_hand(app: TestApp) {
    let (_, token) = app.admin().await;
    let a = city(&app, &token, "Anna", "Kraków", None).await;
    let b = city(&app, &token, "Bartek", "Łódź", None).await;
    let c = city(&app, &token, "Celina", "Gdańsk", None).await;
    let (status, seg) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Trade fair", "kind": "static"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    assert_eq!(seg["count"], 0);
    assert!(seg["filter"].is_null());
    let sid = id(&seg);
    let members = format!("/api/v1/segments/{sid}/members");

    let (status, done) = app
        .post_json(&token, &members, &json!({"contact_ids": [a, c, a]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["joined"], 2);
    assert_eq!(done["count"], 2);
    // Adding again changes nothing.
    let (_, done) = app.post_json(&token, &members, &json!({"contact_ids": [a, b]})).await;
    assert_eq!(done["joined"], 1);
    assert_eq!(member_names(&app, &token, sid).await, ["Anna", "Bartek", "Celina"]);

    let reply = app
        .send(
            Method::DELETE,
            Some(&token),
            &members,
            Some(&json!({"contact_ids": [b]})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    assert_eq!(reply.json()["left"], 1);
    assert_eq!(member_names(&app, &token, sid).await, ["Anna", "Celina"]);

    // An id that is no contact is refused at its index, and nothing changes.
    let bad = app
        .post_json(&token, &members, &json!({"contact_ids": [b, 999_999]}))
        .await;
    assert_invalid(&bad, "contact_ids[1]");
    assert_eq!(member_names(&app, &token, sid).await, ["Anna", "Celina"]);

    // A static list takes no filter.
    let bad = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Odd", "kind": "static", "filter": f("city", "eq", json!("X"))}),
        )
        .await;
    assert_invalid(&bad, "filter");
}
both!(static_list_is_kept_by_hand: static_list_is_kept_by_hand_sqlite, static_list_is_kept_by_hand_postgres);

async fn bad_segment_input_is_a_400_at_its_path(app: TestApp) {
    let (_, token) = app.admin().await;
    let create = |body: Value| {
        let app = &app;
        let token = &token;
        async move { app.post_json(token, "/api/v1/segments", &body).await }
    };
    let bad = create(json!({"name": "Rich", "kind": "dynamic", "filter": {"and": [
        f("city", "eq", json!("Kraków")),
        f("score", "gt", json!("much")),
    ]}}))
    .await;
    assert_invalid(&bad, "filter.and[1].value");
    assert_invalid(
        &create(json!({"name": "Rich", "kind": "dynamic", "filter": f("nope", "eq", json!(1))})).await,
        "filter.field",
    );
    assert_invalid(&create(json!({"name": "Rich", "kind": "dynamic"})).await, "filter");
    assert_invalid(&create(json!({"name": "Rich", "kind": "sometimes"})).await, "kind");
    assert_invalid(&create(json!({"name": " ", "kind": "static"})).await, "name");
    let (_, list) = app.get(&token, "/api/v1/segments").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");

    // The same on update, and the segment is left as it was.
    let (_, seg) = create(json!({"name": "Rich", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))})).await;
    let sid = id(&seg);
    let bad = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{sid}"),
            &json!({"filter": {"or": [f("city", "eq", json!("X")), f("score", "between", json!([1, "lots"]))]}}),
        )
        .await;
    assert_invalid(&bad, "filter.or[1].value[1]");
    let (_, seg) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(seg["filter"]["value"], "Kraków");
    assert_eq!(seg["version"], 1);
}
both!(bad_segment_input_is_a_400_at_its_path: bad_segment_input_is_a_400_at_its_path_sqlite, bad_segment_input_is_a_400_at_its_path_postgres);

async fn members_follow_the_readers_visibility(app: TestApp) {
    let (_, admin) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    city(&app, &admin, "Anna", "Kraków", Some(agent.id)).await;
    city(&app, &admin, "Bartek", "Kraków", None).await;
    city(&app, &admin, "Celina", "Kraków", Some(agent.id)).await;
    city(&app, &admin, "Dorota", "Łódź", Some(agent.id)).await;
    let (status, seg) = app
        .post_json(
            &admin,
            "/api/v1/segments",
            &json!({"name": "Cracovians", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    let sid = id(&seg);
    // Membership is about the whole base; what a reader sees of it is not.
    assert_eq!(seg["count"], 3);
    assert_eq!(member_names(&app, &admin, sid).await, ["Anna", "Bartek", "Celina"]);
    let (_, seen) = app.get(&agent_token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(seen["count"], 2, "{seen}");
    assert_eq!(member_names(&app, &agent_token, sid).await, ["Anna", "Celina"]);

    // Agents read segments but don't change them.
    let denied = app
        .post_json(
            &agent_token,
            "/api/v1/segments",
            &json!({"name": "Mine", "kind": "static"}),
        )
        .await;
    assert_error(&denied, StatusCode::FORBIDDEN, "forbidden");
    let denied = app.delete(&agent_token, &format!("/api/v1/segments/{sid}")).await;
    assert_error(&denied, StatusCode::FORBIDDEN, "forbidden");
}
both!(members_follow_the_readers_visibility: members_follow_the_readers_visibility_sqlite, members_follow_the_readers_visibility_postgres);
