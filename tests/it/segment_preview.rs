//! A segment before saving and over time, through the API: `POST /segments/preview` (the
//! count of a filter, who would join and who would leave compared with the saved members,
//! through the reader's visibility, with filter errors at their path) and
//! `GET /segments/{id}/history` (the size at the end of each day, on a moved clock).

use kartoteka_tests::*;

fn f(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

async fn contact(app: &TestApp, token: &str, body: Value) -> Value {
    let mut body = body;
    body["type"] = json!("client");
    app.create_contact(token, &body).await
}

async fn segment(app: &TestApp, token: &str, body: Value) -> i64 {
    let (status, seg) = app.post_json(token, "/api/v1/segments", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}: {seg}");
    id(&seg)
}

async fn preview(app: &TestApp, token: &str, segment: Option<i64>, filter: Value) -> Value {
    let mut body = json!({"filter": filter});
    if let Some(segment) = segment {
        body["segment_id"] = json!(segment);
    }
    let (status, answer) = app.post_json(token, "/api/v1/segments/preview", &body).await;
    assert_eq!(status, StatusCode::OK, "{body}: {answer}");
    answer
}

/// `[{id, name}, ...]` of `(contact, name)` pairs, for comparing samples.
fn sample(items: &[(&Value, &str)]) -> Value {
    Value::Array(
        items
            .iter()
            .map(|(c, name)| json!({"id": id(c), "name": name}))
            .collect(),
    )
}

/// The names of the members of `segment` that `token` sees, in name order.
async fn member_names(app: &TestApp, token: &str, segment: i64) -> Vec<String> {
    app.item_names(token, &format!("/api/v1/segments/{segment}/members?limit=500"))
        .await
}

both!(preview_compares_with_the_saved_members: preview_compares_with_the_saved_members_sqlite, preview_compares_with_the_saved_members_postgres);
async fn preview_compares_with_the_saved_members(app: TestApp) {
    let (_, token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let anna = contact(&app, &token, json!({"name": "Anna", "city": "Kraków"})).await;
    let bartek = contact(&app, &token, json!({"name": "Bartek", "city": "Kraków"})).await;
    let celina = contact(
        &app,
        &token,
        json!({"name": "Celina", "city": "Łódź", "owner": agent.id}),
    )
    .await;
    let dorota = contact(&app, &token, json!({"name": "Dorota", "city": "Gdańsk"})).await;
    let krakow = f("city", "eq", json!("Kraków"));
    let lodz = f("city", "eq", json!("Łódź"));
    let sid = segment(
        &app,
        &token,
        json!({"name": "Cracovians", "kind": "dynamic", "filter": krakow}),
    )
    .await;

    // The saved filter itself: nobody moves.
    let same = preview(&app, &token, Some(sid), krakow.clone()).await;
    assert_eq!(
        same,
        json!({"count": 2, "joining": {"count": 0, "sample": []}, "leaving": {"count": 0, "sample": []}})
    );

    // Another filter: who joins, who leaves, by name.
    let moved = preview(&app, &token, Some(sid), lodz.clone()).await;
    assert_eq!(moved["count"], 1, "{moved}");
    assert_eq!(moved["joining"]["count"], 1, "{moved}");
    assert_eq!(moved["joining"]["sample"], sample(&[(&celina, "Celina")]));
    assert_eq!(moved["leaving"]["count"], 2, "{moved}");
    assert_eq!(
        moved["leaving"]["sample"],
        sample(&[(&anna, "Anna"), (&bartek, "Bartek")])
    );

    // A new segment: everyone it holds joins.
    let fresh = preview(&app, &token, None, f("city", "in_list", json!(["Kraków", "Gdańsk"]))).await;
    assert_eq!(fresh["count"], 3, "{fresh}");
    assert_eq!(fresh["joining"]["count"], 3, "{fresh}");
    assert_eq!(
        fresh["joining"]["sample"],
        sample(&[(&anna, "Anna"), (&bartek, "Bartek"), (&dorota, "Dorota")])
    );
    assert_eq!(fresh["leaving"], json!({"count": 0, "sample": []}));

    // A preview saves nothing.
    assert_eq!(member_names(&app, &token, sid).await, ["Anna", "Bartek"]);
    let (_, seg) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(seg["filter"], krakow);

    // Contacts change: Bartek moves to Łódź, Ewa arrives in Kraków. The saved members
    // follow (the write keeps memberships current); a preview compares with them.
    let (status, moved_out) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&bartek)),
            &json!({"city": "Łódź", "version": bartek["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved_out}");
    let ewa = contact(&app, &token, json!({"name": "Ewa", "city": "Kraków"})).await;
    assert_eq!(member_names(&app, &token, sid).await, ["Anna", "Ewa"]);
    let wider = preview(&app, &token, Some(sid), f("city", "in_list", json!(["Kraków", "Łódź"]))).await;
    assert_eq!(wider["count"], 4, "{wider}");
    assert_eq!(wider["joining"]["count"], 2, "{wider}");
    assert_eq!(
        wider["joining"]["sample"],
        sample(&[(&bartek, "Bartek"), (&celina, "Celina")])
    );
    assert_eq!(wider["leaving"], json!({"count": 0, "sample": []}));
    let swapped = preview(&app, &token, Some(sid), lodz.clone()).await;
    assert_eq!(swapped["count"], 2, "{swapped}");
    assert_eq!(
        swapped["joining"]["sample"],
        sample(&[(&bartek, "Bartek"), (&celina, "Celina")])
    );
    assert_eq!(swapped["leaving"]["count"], 2, "{swapped}");
    assert_eq!(swapped["leaving"]["sample"], sample(&[(&anna, "Anna"), (&ewa, "Ewa")]));

    // An agent sees only what they may: Celina is theirs, the rest isn't.
    let seen = preview(&app, &agent_token, Some(sid), lodz.clone()).await;
    assert_eq!(
        seen,
        json!({"count": 1, "joining": {"count": 1, "sample": sample(&[(&celina, "Celina")])},
               "leaving": {"count": 0, "sample": []}})
    );

    // A sample names the first ten by name; the count has them all.
    for i in 1..=12 {
        contact(&app, &token, json!({"name": format!("Zosia {i:02}"), "city": "Kraków"})).await;
    }
    let many = preview(&app, &token, Some(sid), lodz).await;
    assert_eq!(many["leaving"]["count"], 14, "{many}");
    let names: Vec<&str> = many["leaving"]["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "Anna", "Ewa", "Zosia 01", "Zosia 02", "Zosia 03", "Zosia 04", "Zosia 05", "Zosia 06", "Zosia 07",
            "Zosia 08"
        ]
    );
}

both!(preview_decides_residuals_by_their_plugin: preview_decides_residuals_by_their_plugin_sqlite, preview_decides_residuals_by_their_plugin_postgres);
async fn preview_decides_residuals_by_their_plugin(app: TestApp) {
    let (_, token) = app.admin().await;
    // Near Kraków, inside the bounding box of 60 km but farther than 60 km, far away.
    let near = contact(
        &app,
        &token,
        json!({"name": "Near", "latitude": 50.10, "longitude": 19.90}),
    )
    .await;
    let corner = contact(
        &app,
        &token,
        json!({"name": "Corner", "latitude": 50.55, "longitude": 20.65}),
    )
    .await;
    let far = contact(
        &app,
        &token,
        json!({"name": "Far", "latitude": 52.23, "longitude": 21.01}),
    )
    .await;
    let home = contact(
        &app,
        &token,
        json!({"name": "Home", "latitude": 50.06, "longitude": 19.94}),
    )
    .await;
    let within = |km: f64| {
        f(
            "location",
            "within_distance",
            json!({"lat": 50.06, "lon": 19.94, "km": km}),
        )
    };

    let fresh = preview(&app, &token, None, within(60.0)).await;
    assert_eq!(fresh["count"], 2, "{fresh}");
    assert_eq!(fresh["joining"]["sample"], sample(&[(&home, "Home"), (&near, "Near")]));

    // Saved: Near, Corner and Far. Within 60 km keeps Near, lets Home join, and drops
    // Corner (a candidate of the bounding box the plugin refuses) and Far (outside it).
    let sid = segment(
        &app,
        &token,
        json!({"name": "Three", "kind": "dynamic", "filter": f("name", "in_list", json!(["Near", "Corner", "Far"]))}),
    )
    .await;
    let moved = preview(&app, &token, Some(sid), within(60.0)).await;
    assert_eq!(moved["count"], 2, "{moved}");
    assert_eq!(
        moved["joining"],
        json!({"count": 1, "sample": sample(&[(&home, "Home")])})
    );
    assert_eq!(moved["leaving"]["count"], 2, "{moved}");
    assert_eq!(
        moved["leaving"]["sample"],
        sample(&[(&corner, "Corner"), (&far, "Far")])
    );
    // Wide enough for everyone: only Home joins.
    let wide = preview(&app, &token, Some(sid), within(400.0)).await;
    assert_eq!(wide["count"], 4, "{wide}");
    assert_eq!(wide["joining"]["count"], 1, "{wide}");
    assert_eq!(wide["leaving"]["count"], 0, "{wide}");
}

both!(preview_refuses_bad_input_at_its_path: preview_refuses_bad_input_at_its_path_sqlite, preview_refuses_bad_input_at_its_path_postgres);
async fn preview_refuses_bad_input_at_its_path(app: TestApp) {
    let (_, token) = app.admin().await;
    contact(&app, &token, json!({"name": "Anna", "city": "Kraków"})).await;
    let base = segment(
        &app,
        &token,
        json!({"name": "Base", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))}),
    )
    .await;
    let on_top = segment(
        &app,
        &token,
        json!({"name": "On top", "kind": "dynamic", "filter": f("segment", "in_segment", json!(base))}),
    )
    .await;
    let list = segment(&app, &token, json!({"name": "By hand", "kind": "static"})).await;
    let post = |body: Value| {
        let app = &app;
        let token = token.clone();
        async move { app.post_json(&token, "/api/v1/segments/preview", &body).await }
    };

    assert_invalid(
        &post(json!({"filter": {"and": [f("city", "eq", json!("X")), f("nope", "eq", json!(1))]}})).await,
        "filter.and[1].field",
    );
    assert_invalid(
        &post(json!({"filter": {"or": [f("created_at", "within_last", json!({"amount": 3, "unit": "weeks"}))]}})).await,
        "filter.or[0].value.unit",
    );
    // A segment that doesn't exist is a bad reference, not a server error.
    let missing = post(json!({"filter": {"and": [f("segment", "in_segment", json!(99_999))]}})).await;
    assert_invalid(&missing, "filter.and[0].value");
    // Saving this as Base's filter would make Base contain itself.
    let cycle = post(json!({"segment_id": base, "filter": f("segment", "in_segment", json!(on_top))})).await;
    assert_invalid(&cycle, "filter.value");
    assert!(
        cycle.1["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("contain itself")),
        "{}",
        cycle.1
    );
    assert_invalid(
        &post(json!({"segment_id": 99_999, "filter": f("city", "eq", json!("X"))})).await,
        "segment_id",
    );
    assert_invalid(
        &post(json!({"segment_id": list, "filter": f("city", "eq", json!("X"))})).await,
        "segment_id",
    );
    assert_invalid(&post(json!({"segment_id": base})).await, "filter");
    assert_invalid(
        &post(json!({"filter": f("city", "eq", json!("X")), "extra": 1})).await,
        "extra",
    );
    assert_invalid(&post(json!({"segment_id": "two", "filter": {}})).await, "segment_id");

    // An empty filter holds everyone.
    let everyone = post(json!({"filter": {}})).await;
    assert_eq!(everyone.0, StatusCode::OK, "{}", everyone.1);
    assert_eq!(everyone.1["count"], 1);
}

/// `(day, size, joined, left)` of each point of a history answer.
fn points(history: &Value) -> Vec<(String, u64, u64, u64)> {
    history["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {history}"))
        .iter()
        .map(|p| {
            (
                p["day"].as_str().unwrap().to_owned(),
                p["size"].as_u64().unwrap(),
                p["joined"].as_u64().unwrap(),
                p["left"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn day(d: &str, size: u64, joined: u64, left: u64) -> (String, u64, u64, u64) {
    (d.to_owned(), size, joined, left)
}

both!(manual_clock, history_follows_a_static_list: history_follows_a_static_list_sqlite, history_follows_a_static_list_postgres);
async fn history_follows_a_static_list(app: TestApp) {
    let (_, token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let mut people = Vec::new();
    for (name, owner) in [
        ("Anna", Some(agent.id)),
        ("Bartek", None),
        ("Celina", None),
        ("Dorota", Some(agent.id)),
        ("Ewa", None),
    ] {
        let mut body = json!({"name": name});
        if let Some(owner) = owner {
            body["owner"] = json!(owner);
        }
        people.push(id(&contact(&app, &token, body).await));
    }
    let [a, b, c, d, e] = people[..] else { unreachable!() };
    let sid = segment(&app, &token, json!({"name": "Fair", "kind": "static"})).await;
    let members = format!("/api/v1/segments/{sid}/members");
    let change = |add: bool, ids: Vec<i64>| {
        let (app, token, members) = (&app, token.clone(), members.clone());
        async move {
            let body = json!({"contact_ids": ids});
            let method = if add {
                reqwest::Method::POST
            } else {
                reqwest::Method::DELETE
            };
            let reply = app.send(method, Some(&token), &members, Some(&body)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        }
    };
    let history = |days: Option<&str>, token: String| {
        let app = &app;
        let path = match days {
            Some(d) => format!("/api/v1/segments/{sid}/history?days={d}"),
            None => format!("/api/v1/segments/{sid}/history"),
        };
        async move { app.get(&token, &path).await }
    };

    // 2026-11-23 (the clock's first day): Anna, Bartek, Celina.
    change(true, vec![a, b, c]).await;
    // The next day: Bartek leaves, Dorota joins; Celina again changes nothing.
    app.clock().advance(chrono::Duration::days(1));
    change(false, vec![b]).await;
    change(true, vec![d, c]).await;
    // Two days on: Bartek and Ewa join, Anna leaves.
    app.clock().advance(chrono::Duration::days(2));
    change(true, vec![b, e]).await;
    change(false, vec![a]).await;

    let (status, five) = history(Some("5"), token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{five}");
    assert_eq!(
        points(&five),
        [
            day("2026-11-22", 0, 0, 0),
            day("2026-11-23", 3, 3, 0),
            day("2026-11-24", 3, 1, 1),
            day("2026-11-25", 3, 0, 0),
            day("2026-11-26", 4, 2, 1),
        ]
    );
    let (_, seg) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(seg["count"], 4, "the last point is the count");

    // A shorter window starts from the size before it.
    let (_, two) = history(Some("2"), token.clone()).await;
    assert_eq!(points(&two), [day("2026-11-25", 3, 0, 0), day("2026-11-26", 4, 2, 1)]);
    // 30 days unless asked.
    let (_, month) = history(None, token.clone()).await;
    let month = points(&month);
    assert_eq!(month.len(), 30);
    assert_eq!(month[0], day("2026-10-28", 0, 0, 0));
    assert_eq!(month[29], day("2026-11-26", 4, 2, 1));

    // An agent's history counts the members they see: Anna and Dorota are theirs.
    let (status, theirs) = history(Some("5"), agent_token.clone()).await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert_eq!(
        points(&theirs),
        [
            day("2026-11-22", 0, 0, 0),
            day("2026-11-23", 1, 1, 0),
            day("2026-11-24", 2, 1, 0),
            day("2026-11-25", 2, 0, 0),
            day("2026-11-26", 1, 0, 1),
        ]
    );
    let (_, seen) = app.get(&agent_token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(seen["count"], 1);

    // Weeks later, nothing changed since: a flat line at 4.
    app.clock().advance(chrono::Duration::days(40));
    let (_, later) = history(Some("3"), token.clone()).await;
    assert_eq!(
        points(&later),
        [
            day("2027-01-03", 4, 0, 0),
            day("2027-01-04", 4, 0, 0),
            day("2027-01-05", 4, 0, 0),
        ]
    );

    // A deleted member is gone from the count and from the last point alike.
    let (status, _) = app.delete(&token, &format!("/api/v1/contacts/{c}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, seg) = app.get(&token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(seg["count"], 3);
    let (_, after) = history(Some("1"), token.clone()).await;
    assert_eq!(points(&after)[0].1, 3);

    // Bad input: a 400 at `days`; a segment that doesn't exist: 404.
    for bad in ["0", "367", "abc", "-1"] {
        assert_invalid(&history(Some(bad), token.clone()).await, "days");
    }
    let missing = app.get(&token, "/api/v1/segments/99999/history").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
}

both!(history_of_a_dynamic_segment_counts_its_rebuilds: history_of_a_dynamic_segment_counts_its_rebuilds_sqlite, history_of_a_dynamic_segment_counts_its_rebuilds_postgres);
async fn history_of_a_dynamic_segment_counts_its_rebuilds(app: TestApp) {
    let (_, token) = app.admin().await;
    for (name, city) in [("Anna", "Kraków"), ("Bartek", "Kraków"), ("Celina", "Łódź")] {
        contact(&app, &token, json!({"name": name, "city": city})).await;
    }
    let sid = segment(
        &app,
        &token,
        json!({"name": "Cracovians", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))}),
    )
    .await;
    let (status, seg) = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{sid}"),
            &json!({"filter": f("city", "eq", json!("Łódź"))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{seg}");
    let (status, history) = app.get(&token, &format!("/api/v1/segments/{sid}/history?days=1")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let today = points(&history);
    assert_eq!(today.len(), 1);
    // Two joined and left again, one joined: one member now.
    assert_eq!((today[0].1, today[0].2, today[0].3), (1, 3, 2));
    assert_eq!(seg["count"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_preview_and_history() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let doc = app
        .send(reqwest::Method::GET, None, "/api/v1/openapi.json", None)
        .await
        .json();
    let preview = &doc["paths"]["/api/v1/segments/preview"]["post"];
    assert_eq!(
        preview["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/PreviewIn",
        "{preview}"
    );
    assert!(preview["responses"]["400"].is_object(), "{preview}");
    let schemas = &doc["components"]["schemas"];
    for key in ["segment_id", "filter"] {
        assert!(schemas["PreviewIn"]["properties"][key].is_object(), "PreviewIn.{key}");
    }
    for key in ["count", "joining", "leaving"] {
        assert!(schemas["PreviewOut"]["properties"][key].is_object(), "PreviewOut.{key}");
    }
    let history = &doc["paths"]["/api/v1/segments/{id}/history"]["get"];
    let params: Vec<&str> = history["parameters"]
        .as_array()
        .unwrap_or_else(|| panic!("{history}"))
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, ["id", "days"]);
    for key in ["day", "size", "joined", "left"] {
        assert!(
            schemas["SizePointOut"]["properties"][key].is_object(),
            "SizePointOut.{key}"
        );
    }
}
