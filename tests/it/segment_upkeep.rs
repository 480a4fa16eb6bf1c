//! Segments stay current: contact and activity writes move members in the same request,
//! definition changes rebuild in the background with progress, time-relative segments
//! are evaluated again on the schedule, a segment whose plugin goes away keeps its
//! members, and two instances writing at once leave the memberships right.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kartoteka_core::{Core, SystemClock};
use kartoteka_tests::*;

fn f(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

async fn create_segment(app: &TestApp, token: &str, name: &str, filter: Value) -> i64 {
    let (status, seg) = app
        .post_json(
            token,
            "/api/v1/segments",
            &json!({"name": name, "kind": "dynamic", "filter": filter}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    id(&seg)
}

async fn segment(app: &TestApp, token: &str, sid: i64) -> Value {
    let (status, seg) = app.get(token, &format!("/api/v1/segments/{sid}")).await;
    assert_eq!(status, StatusCode::OK, "{seg}");
    seg
}

/// Polls segment `sid` until `done` says so (the background worker ticks every second).
pub(crate) async fn wait_for(app: &TestApp, token: &str, sid: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let seg = segment(app, token, sid).await;
        if done(&seg) {
            return seg;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "segment {sid} never got to {what}: {seg}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn members(app: &TestApp, token: &str, sid: i64) -> BTreeSet<String> {
    let path = format!("/api/v1/segments/{sid}/members?limit=500");
    app.item_names(token, &path).await.into_iter().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// `joined`/`left` events of segment `sid`, oldest first, as `(contact, event)`.
async fn events(app: &TestApp, sid: i64) -> Vec<(i64, String)> {
    use kartoteka_core::entities::segment_events as e;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    e::Entity::find()
        .filter(e::Column::SegmentId.eq(sid))
        .order_by_asc(e::Column::Id)
        .all(app.core().db())
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.contact_id, m.event))
        .collect()
}

both!(contact_writes_move_members_in_the_same_request: contact_writes_move_members_in_the_same_request_sqlite, contact_writes_move_members_in_the_same_request_postgres);
async fn contact_writes_move_members_in_the_same_request(app: TestApp) {
    let (_, token) = app.admin().await;
    let krakow = create_segment(&app, &token, "Kraków", f("city", "eq", json!("Kraków"))).await;
    // Defined in terms of the first one.
    let krakow_pl = create_segment(
        &app,
        &token,
        "Kraków, PL",
        json!({"and": [f("segment", "in_segment", json!(krakow)), f("country", "eq", json!("PL"))]}),
    )
    .await;
    let acme_people = create_segment(&app, &token, "Acme people", f("company", "contains", json!("acme"))).await;
    let big_buyers = create_segment(
        &app,
        &token,
        "Big buyers",
        f("activity.purchase", "happened", json!({"min_amount": 500})),
    )
    .await;

    // Created: in both segments when the create answers.
    let anna = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Anna", "city": "Kraków", "country": "PL"}),
        )
        .await;
    let anna_id = id(&anna);
    assert_eq!(segment(&app, &token, krakow).await["count"], 1);
    assert_eq!(members(&app, &token, krakow_pl).await, set(&["Anna"]));

    // Edited out of the first: out of the dependent one in the same request.
    let (status, anna) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{anna_id}"),
            &json!({"city": "Gdańsk", "version": anna["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{anna}");
    assert_eq!(segment(&app, &token, krakow).await["count"], 0);
    assert_eq!(segment(&app, &token, krakow_pl).await["count"], 0);
    assert_eq!(
        events(&app, krakow).await,
        [(anna_id, "joined".to_owned()), (anna_id, "left".to_owned())]
    );

    // A company renamed: its people's `company` changes with it.
    let (status, company) = app
        .post_json(
            &token,
            "/api/v1/contacts",
            &json!({"kind": "company", "type": "client", "name": "Widgets Ltd"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{company}");
    let bob = app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Bob", "company_id": company["id"]}),
        )
        .await;
    assert_eq!(segment(&app, &token, acme_people).await["count"], 0);
    let (status, _) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", company["id"]),
            &json!({"name": "ACME Widgets", "version": company["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(members(&app, &token, acme_people).await, set(&["Bob"]));
    // Members can be searched like contacts.
    let (status, page) = app
        .get(&token, &format!("/api/v1/segments/{acme_people}/members?q=bob"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
    let (_, page) = app
        .get(&token, &format!("/api/v1/segments/{acme_people}/members?q=anna"))
        .await;
    assert_eq!(page["items"], json!([]), "{page}");

    // An activity recorded: joined when the activity is.
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!({"contact_id": id(&bob), "kind": "purchase", "amount": 120.0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(segment(&app, &token, big_buyers).await["count"], 0);
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!({"contact_id": id(&bob), "kind": "purchase", "amount": 640.0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(members(&app, &token, big_buyers).await, set(&["Bob"]));

    // Deleted: gone from every segment, and the history keeps the leave.
    let (status, _) = app.delete(&token, &format!("/api/v1/contacts/{}", id(&bob))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(segment(&app, &token, big_buyers).await["count"], 0);
    assert_eq!(segment(&app, &token, acme_people).await["count"], 0);
    assert_eq!(
        events(&app, big_buyers).await,
        [(id(&bob), "joined".to_owned()), (id(&bob), "left".to_owned())]
    );
}

both!(definition_changes_rebuild_in_the_background: definition_changes_rebuild_in_the_background_sqlite, definition_changes_rebuild_in_the_background_postgres);
async fn definition_changes_rebuild_in_the_background(app: TestApp) {
    let (_, token) = app.admin().await;
    for (name, city) in [("Anna", "Kraków"), ("Bartek", "Kraków"), ("Celina", "Łódź")] {
        app.create_contact(&token, &json!({"type": "client", "name": name, "city": city}))
            .await;
    }
    // Every definition goes to the worker, as on a large base.
    app.core().segments().segment_state().set_inline_limit(0);
    let (status, seg) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Kraków", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    assert!(seg["status"] == "rebuilding" || seg["status"] == "ok", "{seg}");
    let sid = id(&seg);
    let seg = wait_for(&app, &token, sid, "ok", |s| s["status"] == "ok").await;
    assert_eq!(seg["count"], 2, "{seg}");
    assert_eq!(seg["progress_done"], seg["progress_total"], "{seg}");
    // A segment defined in terms of it.
    let (status, outer) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "In Kraków, by reference", "kind": "dynamic", "filter": f("segment", "in_segment", json!(sid))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{outer}");
    let outer = id(&outer);
    wait_for(&app, &token, outer, "ok", |s| s["status"] == "ok").await;
    assert_eq!(members(&app, &token, outer).await, set(&["Anna", "Bartek"]));

    // A residual filter (the walk with progress), changed by PATCH.
    let (status, seg) = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{sid}"),
            &json!({"filter": f("name", "longer_than_none", json!(1))}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an unknown operator is refused at once: {seg}"
    );
    let (status, seg) = app
        .patch_json(
            &token,
            &format!("/api/v1/segments/{sid}"),
            &json!({"filter": f("location", "in_location", json!("lodz"))}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{seg}");
    let seg = wait_for(&app, &token, sid, "ok", |s| s["status"] == "ok").await;
    assert_eq!(members(&app, &token, sid).await, set(&["Celina"]), "{seg}");
    // Its members moved, so the segment built on it is rebuilt after it.
    wait_for(&app, &token, outer, "ok", |s| s["status"] == "ok" && s["count"] == 1).await;
    assert_eq!(members(&app, &token, outer).await, set(&["Celina"]));
}

both!(manual_clock, time_relative_segments_follow_the_clock: time_relative_segments_follow_the_clock_sqlite, time_relative_segments_follow_the_clock_postgres);
async fn time_relative_segments_follow_the_clock(app: TestApp) {
    let (_, token) = app.admin().await;
    let anna = app.person(&token, "Anna").await;
    let bob = app.person(&token, "Bob").await;
    let recent = create_segment(
        &app,
        &token,
        "Bought in the last 30 days",
        f(
            "activity.purchase",
            "happened",
            json!({"within": {"amount": 30, "unit": "days"}}),
        ),
    )
    .await;
    app.post_json(
        &token,
        "/api/v1/activities",
        &json!({"contact_id": id(&anna), "kind": "purchase", "amount": 10.0}),
    )
    .await;
    assert_eq!(members(&app, &token, recent).await, set(&["Anna"]));

    // Twenty days on, Bob buys; eleven more and Anna's purchase is 31 days old.
    app.clock().advance(chrono::Duration::days(20));
    app.post_json(
        &token,
        "/api/v1/activities",
        &json!({"contact_id": id(&bob), "kind": "purchase", "amount": 10.0}),
    )
    .await;
    assert_eq!(members(&app, &token, recent).await, set(&["Anna", "Bob"]));
    app.clock().advance(chrono::Duration::days(11));
    // Nobody edits anything: the schedule (every 5 minutes of the clock) moves Anna out.
    wait_for(&app, &token, recent, "count 1", |s| {
        s["count"] == 1 && s["status"] == "ok"
    })
    .await;
    assert_eq!(members(&app, &token, recent).await, set(&["Bob"]));
}

both!(a_segment_whose_plugin_goes_keeps_its_members: a_segment_whose_plugin_goes_keeps_its_members_sqlite, a_segment_whose_plugin_goes_keeps_its_members_postgres);
async fn a_segment_whose_plugin_goes_keeps_its_members(app: TestApp) {
    let (_, token) = app.admin().await;
    crate::plugins::enable_example(&app, &token).await;
    let long = app.person(&token, "Bartholomew").await;
    app.person(&token, "Al").await;
    let sid = create_segment(&app, &token, "Long names", f("name", "example.longer_than", json!(5))).await;
    assert_eq!(members(&app, &token, sid).await, set(&["Bartholomew"]));

    let (status, _) = app
        .post_json(&token, "/api/v1/plugins/example/disable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let seg = wait_for(&app, &token, sid, "needs_attention", |s| {
        s["status"] == "needs_attention"
    })
    .await;
    assert!(
        seg["status_message"].as_str().unwrap().contains("example"),
        "the message names what is missing: {seg}"
    );
    // A write that would have moved a member leaves it where it was.
    let (status, _) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&long)),
            &json!({"name": "Bo", "version": long["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(members(&app, &token, sid).await, set(&["Bo"]));

    // Back on: rebuilt, and Bo (2 letters) leaves.
    let (status, _) = app
        .post_json(&token, "/api/v1/plugins/example/enable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    wait_for(&app, &token, sid, "ok", |s| s["status"] == "ok").await;
    assert_eq!(members(&app, &token, sid).await, set(&[]));
}

both!(two_instances_keep_memberships_right: two_instances_keep_memberships_right_sqlite, two_instances_keep_memberships_right_postgres);
async fn two_instances_keep_memberships_right(app: TestApp) {
    // A base large enough that a rebuild takes a while, so writes land in the middle of it.
    let options = kartoteka_core::demo::DemoOptions {
        people: 4000,
        companies: 20,
        activities_per_contact: 0,
        ..Default::default()
    };
    app.core().load_demo(options, &|_, _| {}).await.unwrap();
    // A second server on the same database.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let other = Core::new(app.core().db().clone(), Arc::new(SystemClock));
    let config = kartoteka_web::Config {
        database_url: String::new(),
        bind: addr,
        base_url: None,
        secret: None,
        job_lease_seconds: None,
        mail_lease_seconds: None,
        smtp_url: None,
        mail_from: None,
        mail_rate: None,
    };
    let _running = kartoteka_web::serve(listener, other, config).unwrap();
    let http = client_builder().build().unwrap();
    let (_, token) = app.admin().await;

    let mut ids = Vec::new();
    for i in 0..8 {
        let c = app
            .create_contact(&token, &json!({"type": "client", "name": format!("C{i}"), "city": "A"}))
            .await;
        ids.push(id(&c));
    }
    // Each redefinition moves thousands of demo contacts and flips which of ours belong.
    let definition =
        |city: &str, country: &str| json!({"or": [f("city", "eq", json!(city)), f("country", "eq", json!(country))]});
    let sid = create_segment(&app, &token, "In B", definition("B", "Polska")).await;

    // Both instances move every contact back and forth while the segment is redefined
    // (and rebuilt) again and again.
    let flip = |base: String, cid: i64, start: usize| {
        let http = http.clone();
        let token = token.clone();
        async move {
            for round in start..start + 12 {
                let city = if round % 2 == 0 { "B" } else { "A" };
                loop {
                    let c: Value = http
                        .get(format!("{base}/api/v1/contacts/{cid}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let reply = http
                        .patch(format!("{base}/api/v1/contacts/{cid}"))
                        .bearer_auth(&token)
                        .json(&json!({"city": city, "version": c["version"]}))
                        .send()
                        .await
                        .unwrap();
                    match reply.status() {
                        StatusCode::OK => break,
                        StatusCode::CONFLICT => continue,
                        s => panic!("updating {cid}: {s} {}", reply.text().await.unwrap()),
                    }
                }
            }
        }
    };
    let other_base = format!("http://{addr}");
    let mut tasks = Vec::new();
    for (i, cid) in ids.iter().enumerate() {
        tasks.push(tokio::spawn(flip(app.url(""), *cid, i)));
        tasks.push(tokio::spawn(flip(other_base.clone(), *cid, i + 1)));
    }
    for round in 0..6 {
        let country = ["Україна", "Polska", "România"][round % 3];
        let filter = definition(["A", "B"][round % 2], country);
        let path = format!("/api/v1/segments/{sid}");
        let (status, seg) = if round % 2 == 0 {
            app.patch_json(&token, &path, &json!({"filter": filter})).await
        } else {
            let reply = http
                .patch(format!("{other_base}{path}"))
                .bearer_auth(&token)
                .json(&json!({"filter": filter}))
                .send()
                .await
                .unwrap();
            (reply.status(), reply.json::<Value>().await.unwrap())
        };
        assert_eq!(status, StatusCode::OK, "{seg}");
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seg = wait_for(&app, &token, sid, "ok", |s| s["status"] == "ok").await;

    // The stored members are exactly the contacts the filter finds now.
    let filter = seg["filter"].to_string();
    let (status, count) = app
        .get(&token, &format!("/api/v1/contacts/count?filter={}", urlencode(&filter)))
        .await;
    assert_eq!(status, StatusCode::OK, "{count}");
    assert_eq!(seg["count"], count["count"], "members vs the filter: {seg}");
    let city = seg["filter"]["or"][0]["value"].clone();
    let (status, page) = app
        .get(
            &token,
            &format!(
                "/api/v1/contacts?limit=500&filter={}",
                urlencode(&f("city", "eq", city).to_string())
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let in_b: BTreeSet<String> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    let ours: BTreeSet<String> = members_named(&app, &token, sid, "C").await;
    assert_eq!(ours, in_b);
    // And the events add up to the members: joins minus leaves per contact is 0 or 1.
    let mut balance = std::collections::BTreeMap::<i64, i64>::new();
    for (contact, event) in events(&app, sid).await {
        *balance.entry(contact).or_default() += if event == "joined" { 1 } else { -1 };
    }
    assert!(balance.values().all(|b| *b == 0 || *b == 1));
    assert_eq!(
        Some(balance.values().filter(|b| **b == 1).count() as u64),
        seg["count"].as_u64()
    );
}

/// The members of `sid` whose names start with `prefix` (a segment's members, searched).
async fn members_named(app: &TestApp, token: &str, sid: i64, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let path = match &after {
            Some(a) => format!("/api/v1/segments/{sid}/members?limit=500&after={}", urlencode(a)),
            None => format!("/api/v1/segments/{sid}/members?limit=500"),
        };
        let (status, page) = app.get(token, &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for c in page["items"].as_array().unwrap() {
            let name = c["name"].as_str().unwrap();
            if name.starts_with(prefix) && name[prefix.len()..].chars().all(|ch| ch.is_ascii_digit()) {
                out.insert(name.to_owned());
            }
        }
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => return out,
        }
    }
}

both!(values_a_field_change_removes_leave_the_segments: values_a_field_change_removes_leave_the_segments_sqlite, values_a_field_change_removes_leave_the_segments_postgres);
async fn values_a_field_change_removes_leave_the_segments(app: TestApp) {
    let (_, token) = app.admin().await;
    let (status, field) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "stage", "label": "Stage", "kind": "select", "options": ["new", "won", "lost"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{field}");
    for (name, stage) in [("Anna", "won"), ("Bartek", "lost"), ("Celina", "new")] {
        app.create_contact(
            &token,
            &json!({"type": "client", "name": name, "fields": {"stage": stage}}),
        )
        .await;
    }
    app.create_contact(&token, &json!({"type": "client", "name": "Dorota"}))
        .await;
    let staged = create_segment(
        &app,
        &token,
        "With a stage",
        json!({"not": {"field": "fields.stage", "op": "is_empty"}}),
    )
    .await;
    let unstaged = create_segment(
        &app,
        &token,
        "Without a stage",
        json!({"field": "fields.stage", "op": "is_empty"}),
    )
    .await;
    wait_for(&app, &token, staged, "ok", |s| s["status"] == "ok").await;
    wait_for(&app, &token, unstaged, "ok", |s| s["status"] == "ok").await;
    assert_eq!(members(&app, &token, staged).await, set(&["Anna", "Bartek", "Celina"]));
    assert_eq!(members(&app, &token, unstaged).await, set(&["Dorota"]));

    // Only the options change (the kind stays): "lost" goes, and with it Bartek's value.
    let (status, changed) = app
        .patch_json(
            &token,
            "/api/v1/fields/stage",
            &json!({"options": ["new", "won"], "drop_unconvertible": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        changed["conversion"]["failed"].as_array().map(Vec::len),
        Some(1),
        "{changed}"
    );
    wait_for(&app, &token, staged, "Bartek gone", |s| {
        s["status"] == "ok" && s["count"] == 2
    })
    .await;
    assert_eq!(members(&app, &token, staged).await, set(&["Anna", "Celina"]));
    wait_for(&app, &token, unstaged, "Bartek in", |s| {
        s["status"] == "ok" && s["count"] == 2
    })
    .await;
    assert_eq!(members(&app, &token, unstaged).await, set(&["Bartek", "Dorota"]));
}
