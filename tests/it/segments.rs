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

async fn names_matching(app: &TestApp, token: &str, filter: &Value) -> Vec<String> {
    let path = format!("/api/v1/contacts?filter={}", urlencode(&filter.to_string()));
    let (status, page) = app.get(token, &path).await;
    assert_eq!(status, StatusCode::OK, "{filter}: {page}");
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The same filter decided by the in-memory evaluator over every contact.
async fn names_in_memory(app: &TestApp, admin: &User, filter: &Value) -> Vec<String> {
    use kartoteka_core::contacts::{ListQuery, Sort};
    let core = app.core();
    let query = ListQuery {
        sort: Sort::default(),
        limit: 500,
        after: None,
    };
    let contacts = core
        .contacts()
        .list_contacts(&admin.actor(), &query)
        .await
        .unwrap()
        .items;
    let prepared = core.filter().prepare_filter(filter).await.unwrap();
    let records = core.filter().records_of(contacts, false).await.unwrap();
    let keep = core.filter().evaluate_in_memory(&prepared, &records).await.unwrap();
    records
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(r, _)| r.contact.name.clone())
        .collect()
}

async fn membership_filters_and_cycles(app: TestApp) {
    let (admin, token) = app.admin().await;
    let a = city(&app, &token, "Anna", "Kraków", None).await;
    city(&app, &token, "Bartek", "Kraków", None).await;
    let c = city(&app, &token, "Celina", "Łódź", None).await;
    city(&app, &token, "Dorota", "Kraków", None).await;
    let (_, vip) = app
        .post_json(&token, "/api/v1/segments", &json!({"name": "VIP", "kind": "static"}))
        .await;
    let vip = id(&vip);
    let (status, _) = app
        .post_json(
            &token,
            &format!("/api/v1/segments/{vip}/members"),
            &json!({"contact_ids": [a, c]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let in_vip = f("segment", "in_segment", json!(vip));
    let not_vip = f("segment", "not_in_segment", json!(vip));
    assert_eq!(names_matching(&app, &token, &in_vip).await, ["Anna", "Celina"]);
    assert_eq!(names_matching(&app, &token, &not_vip).await, ["Bartek", "Dorota"]);
    assert_eq!(names_in_memory(&app, &admin, &in_vip).await, ["Anna", "Celina"]);
    assert_eq!(names_in_memory(&app, &admin, &not_vip).await, ["Bartek", "Dorota"]);
    let count = app
        .get(
            &token,
            &format!("/api/v1/contacts/count?filter={}", urlencode(&not_vip.to_string())),
        )
        .await;
    assert_eq!(count.1["count"], 2, "{}", count.1);

    // A segment defined in terms of others.
    let (_, cracow) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Kraków", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))}),
        )
        .await;
    let cracow = id(&cracow);
    let (status, prospects) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Prospects", "kind": "dynamic", "filter": {"and": [
                f("segment", "in_segment", json!(cracow)),
                not_vip.clone(),
            ]}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{prospects}");
    let prospects = id(&prospects);
    assert_eq!(member_names(&app, &token, prospects).await, ["Bartek", "Dorota"]);

    // Cycles are refused with their path, and nothing changes.
    let cycle = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{cracow}"),
            &json!({"filter": {"or": [f("city", "eq", json!("Łódź")), f("segment", "in_segment", json!(prospects))]}}),
        )
        .await;
    assert_invalid(&cycle, "filter.or[1].value");
    let message = cycle.1["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("segment {cracow} -> segment {prospects} -> segment {cracow}")),
        "{message}"
    );
    let itself = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{cracow}"),
            &json!({"filter": {"not": f("segment", "in_segment", json!(cracow))}}),
        )
        .await;
    assert_invalid(&itself, "filter.not.value");
    assert!(
        itself.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("segment {cracow} -> segment {cracow}")),
        "{}",
        itself.1
    );
    let (_, seg) = app.get(&token, &format!("/api/v1/segments/{cracow}")).await;
    assert_eq!(seg["count"], 3);
    assert_eq!(seg["version"], 1);

    // A segment others are defined with stays until they change.
    let in_use = app.delete(&token, &format!("/api/v1/segments/{cracow}")).await;
    assert_error(&in_use, StatusCode::CONFLICT, "conflict");
    assert!(
        in_use.1["error"]["message"].as_str().unwrap().contains("Prospects"),
        "{}",
        in_use.1
    );
    let (status, _) = app.delete(&token, &format!("/api/v1/segments/{prospects}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.delete(&token, &format!("/api/v1/segments/{cracow}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // A segment that doesn't exist.
    let missing = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Ghost", "kind": "dynamic", "filter": f("segment", "in_segment", json!(987_654))}),
        )
        .await;
    assert_invalid(&missing, "filter.value");
}
both!(membership_filters_and_cycles: membership_filters_and_cycles_sqlite, membership_filters_and_cycles_postgres);

/// (joined, left) events recorded for segment `id`.
async fn events(app: &TestApp, id: i64) -> (u64, u64) {
    use kartoteka_core::entities::segment_events as e;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let count = |event: &'static str| async move {
        e::Entity::find()
            .filter(e::Column::SegmentId.eq(id))
            .filter(e::Column::Event.eq(event))
            .count(app.core().db())
            .await
            .unwrap()
    };
    (count("joined").await, count("left").await)
}

async fn membership_changes_are_recorded_once(app: TestApp) {
    let (_, token) = app.admin().await;
    let mut ids = Vec::new();
    for (name, c) in [
        ("Anna", "Kraków"),
        ("Bartek", "Kraków"),
        ("Celina", "Łódź"),
        ("Dorota", "Gdańsk"),
    ] {
        ids.push(city(&app, &token, name, c, None).await);
    }
    let (_, seg) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Cracovians", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))}),
        )
        .await;
    let dynamic = id(&seg);
    assert_eq!(events(&app, dynamic).await, (2, 0));
    app.patch_json(
        &token,
        &format!("/api/v1/segments/{dynamic}"),
        &json!({"filter": f("city", "in_list", json!(["Kraków", "Łódź"]))}),
    )
    .await;
    assert_eq!(events(&app, dynamic).await, (3, 0));
    app.patch_json(
        &token,
        &format!("/api/v1/segments/{dynamic}"),
        &json!({"filter": f("city", "eq", json!("Gdańsk"))}),
    )
    .await;
    assert_eq!(events(&app, dynamic).await, (4, 3));

    // The same contacts added by several requests at once join once.
    let (_, list) = app
        .post_json(&token, "/api/v1/segments", &json!({"name": "Fair", "kind": "static"}))
        .await;
    let list = id(&list);
    let path = format!("/api/v1/segments/{list}/members");
    let body = json!({"contact_ids": ids});
    let add = || app.post_json(&token, &path, &body);
    let (r1, r2, r3, r4) = tokio::join!(add(), add(), add(), add());
    let replies = [r1, r2, r3, r4];
    for (status, reply) in &replies {
        assert_eq!(*status, StatusCode::OK, "{reply}");
    }
    let joined: u64 = replies.iter().map(|(_, r)| r["joined"].as_u64().unwrap()).sum();
    assert_eq!(joined, 4);
    assert_eq!(events(&app, list).await, (4, 0));
    let (_, seg) = app.get(&token, &format!("/api/v1/segments/{list}")).await;
    assert_eq!(seg["count"], 4);
}
both!(membership_changes_are_recorded_once: membership_changes_are_recorded_once_sqlite, membership_changes_are_recorded_once_postgres);
