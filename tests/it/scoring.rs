//! Scoring models: scores equal an independent computation for a model with every
//! criterion kind and every value source; bands follow contact and activity writes in the
//! same request, and a segment on a band follows too; a criterion that traps marks its
//! model as needing attention and never fails a write; a bad definition names every
//! problem; the what-if counts moves before saving; a large base rescores in the
//! background with progress.

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use kartoteka_tests::*;

use crate::plugins::install;

async fn field(app: &TestApp, token: &str, body: Value) {
    let (status, reply) = app.post_json(token, "/api/v1/fields", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
}

async fn activity(app: &TestApp, token: &str, contact: i64, at: DateTime<Utc>, amount: f64) {
    let (status, reply) = app
        .post_json(
            token,
            "/api/v1/activities",
            &json!({"contact_id": contact, "kind": "purchase", "occurred_at": at, "amount": amount}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
}

/// The contact's `(score, band)` under model `key`, as `GET /contacts/{id}` shows it.
async fn score_of(app: &TestApp, token: &str, contact: i64, key: &str) -> Option<(f64, String)> {
    let (status, c) = app.get(token, &format!("/api/v1/contacts/{contact}")).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    let s = &c["scores"][key];
    s.is_object().then(|| {
        (
            s["score"].as_f64().expect("a score"),
            s["band"].as_str().expect("a band").to_owned(),
        )
    })
}

async fn version(app: &TestApp, token: &str, contact: i64) -> i64 {
    let (_, c) = app.get(token, &format!("/api/v1/contacts/{contact}")).await;
    c["version"].as_i64().expect("a version")
}

async fn model(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, m) = app.get(token, &format!("/api/v1/scoring-models/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    m
}

async fn wait_for_model(app: &TestApp, token: &str, id: i64, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let m = model(app, token, id).await;
        if done(&m) {
            return m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "model {id} never got to {what}: {m}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn bands() -> Value {
    json!([
        {"name": "Standard", "from": 0, "to": 40},
        {"name": "Medium", "from": 40, "to": 70},
        {"name": "Ideal", "from": 70, "to": 100},
    ])
}

/// Every criterion of the built-in plugin, on every kind of source: a number, a select, a
/// multiselect, a core text column, a date (ranges and recency, which takes `now`), and
/// the three activity measures (a windowed count, a sum, days since the last one).
fn fit_definition() -> Value {
    json!({
        "parameters": [
            {"source": {"field": "fields.revenue"}, "criterion": "scoring.ranges", "weight": 5,
             "params": {"ranges": [{"from": 0, "to": 1000, "points": 10}, {"from": 1000, "to": 10000, "points": 50}, {"from": 10000, "points": 100}]}},
            {"source": {"field": "fields.tier"}, "criterion": "scoring.options", "weight": 3,
             "params": {"points": {"gold": 100, "silver": 60}, "otherwise": 10}},
            {"source": {"field": "fields.tags"}, "criterion": "scoring.options", "weight": 2,
             "params": {"points": {"a": 30, "b": 50, "c": 40}, "combine": "sum"}},
            {"source": {"field": "email"}, "criterion": "scoring.presence", "weight": 1,
             "params": {"present": 100}},
            {"source": {"field": "fields.signed"}, "criterion": "scoring.ranges", "weight": 2,
             "params": {"ranges": [{"from": "2026-01-01", "points": 100}], "otherwise": 20}},
            {"label": "Recent purchases", "source": {"activity": "purchase", "measure": "count", "within_days": 30},
             "criterion": "scoring.ranges", "weight": 4,
             "params": {"ranges": [{"from": 1, "to": 3, "points": 50}, {"from": 3, "points": 100}]}},
            {"source": {"activity": "purchase", "measure": "days_since_last"}, "criterion": "scoring.recency", "weight": 3,
             "params": {"half_life_days": 10}},
            {"source": {"activity": "purchase", "measure": "sum"}, "criterion": "scoring.ranges", "weight": 2,
             "params": {"ranges": [{"to": 100, "points": 20}, {"from": 100, "points": 80}]}},
            {"source": {"field": "fields.signed"}, "criterion": "scoring.recency", "weight": 1,
             "params": {"half_life_days": 365}},
            {"source": {"field": "city"}, "criterion": "scoring.presence", "weight": 10, "enabled": false,
             "params": {"present": 100}},
        ],
        "bands": bands(),
    })
}

/// What the test knows of a contact, to score it by hand.
struct Facts {
    revenue: Option<f64>,
    tier: Option<&'static str>,
    tags: &'static [&'static str],
    email: bool,
    signed: Option<&'static str>,
    /// Purchases: days ago and amount.
    purchases: Vec<(f64, f64)>,
}

/// The fit model's score, computed here from the definition's meaning.
fn expected(f: &Facts, now: DateTime<Utc>) -> f64 {
    let half = |days: f64, half_life: f64| 100.0 * 0.5f64.powf(days.max(0.0) / half_life);
    let revenue = match f.revenue {
        None => 0.0,
        Some(r) if r < 1000.0 => 10.0,
        Some(r) if r < 10000.0 => 50.0,
        Some(_) => 100.0,
    };
    let tier = match f.tier {
        None => 0.0,
        Some("gold") => 100.0,
        Some("silver") => 60.0,
        Some(_) => 10.0,
    };
    let tags: f64 = f
        .tags
        .iter()
        .map(|t| match *t {
            "a" => 30.0,
            "b" => 50.0,
            "c" => 40.0,
            _ => 0.0,
        })
        .sum::<f64>()
        .min(100.0);
    let email = if f.email { 100.0 } else { 0.0 };
    let midnight = |d: &str| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
    };
    let signed_range = match f.signed {
        None => 0.0,
        Some(d) if midnight(d) >= midnight("2026-01-01") => 100.0,
        Some(_) => 20.0,
    };
    let recent = f.purchases.iter().filter(|(ago, _)| *ago <= 30.0).count();
    let count = match recent {
        0 => 0.0,
        1 | 2 => 50.0,
        _ => 100.0,
    };
    let since = f
        .purchases
        .iter()
        .map(|(ago, _)| *ago)
        .reduce(f64::min)
        .map_or(0.0, |ago| half(ago.floor(), 10.0));
    let total: f64 = f.purchases.iter().map(|(_, amount)| amount).sum();
    let sum = if total < 100.0 { 20.0 } else { 80.0 };
    let signed_recency = f.signed.map_or(0.0, |d| {
        #[allow(clippy::cast_precision_loss)]
        let days = (now - midnight(d)).num_seconds() as f64 / 86400.0;
        half(days, 365.0)
    });
    let weighted = [
        (5.0, revenue),
        (3.0, tier),
        (2.0, tags),
        (1.0, email),
        (2.0, signed_range),
        (4.0, count),
        (3.0, since),
        (2.0, sum),
        (1.0, signed_recency),
    ];
    let weights: f64 = weighted.iter().map(|(w, _)| w).sum();
    weighted.iter().map(|(w, p)| w * p).sum::<f64>() / weights
}

fn band(score: f64) -> &'static str {
    if score >= 70.0 {
        "Ideal"
    } else if score >= 40.0 {
        "Medium"
    } else {
        "Standard"
    }
}

both!(manual_clock, scores_follow_every_write: scores_follow_every_write_sqlite, scores_follow_every_write_postgres);
async fn scores_follow_every_write(app: TestApp) {
    let (_, token) = app.admin().await;
    let now = manual_clock_start();
    field(
        &app,
        &token,
        json!({"key": "revenue", "label": "Revenue", "kind": "number"}),
    )
    .await;
    field(
        &app,
        &token,
        json!({"key": "tier", "label": "Tier", "kind": "select", "options": ["gold", "silver", "bronze"]}),
    )
    .await;
    field(
        &app,
        &token,
        json!({"key": "tags", "label": "Tags", "kind": "multiselect", "options": ["a", "b", "c"]}),
    )
    .await;
    field(
        &app,
        &token,
        json!({"key": "signed", "label": "Signed", "kind": "date"}),
    )
    .await;

    let ann = id(&app
        .create_contact(
            &token,
            &json!({"type": "warm", "name": "Ann", "email": "ann@example.com",
                    "fields": {"revenue": 12000, "tier": "gold", "tags": ["a", "b"], "signed": "2026-03-01"}}),
        )
        .await);
    let bob = id(&app
        .create_contact(
            &token,
            &json!({"type": "warm", "name": "Bob", "fields": {"revenue": 500, "tier": "silver", "tags": ["c"]}}),
        )
        .await);
    let cid = id(&app
        .create_contact(
            &token,
            &json!({"type": "warm", "name": "Cid", "email": "cid@example.com", "fields": {"signed": "2025-06-15"}}),
        )
        .await);
    let acme = id(&app
        .create_contact(&token, &json!({"kind": "company", "type": "client", "name": "Acme"}))
        .await);
    let day = chrono::Duration::days(1);
    for (ago, amount) in [(2, 50.0), (10, 70.0), (60, 200.0)] {
        activity(&app, &token, ann, now - day * ago, amount).await;
    }
    activity(&app, &token, cid, now - day * 40, 30.0).await;

    let (status, created) = app
        .post_json(
            &token,
            "/api/v1/scoring-models",
            &json!({"key": "fit", "name": "Fit", "kind": "person", "definition": fit_definition()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["status"], "ready",
        "a small base is scored in the request: {created}"
    );
    assert_eq!(created["time_dependent"], true, "{created}");
    let fit = id(&created);

    let mut facts = vec![
        (
            ann,
            Facts {
                revenue: Some(12000.0),
                tier: Some("gold"),
                tags: &["a", "b"],
                email: true,
                signed: Some("2026-03-01"),
                purchases: vec![(2.0, 50.0), (10.0, 70.0), (60.0, 200.0)],
            },
        ),
        (
            bob,
            Facts {
                revenue: Some(500.0),
                tier: Some("silver"),
                tags: &["c"],
                email: false,
                signed: None,
                purchases: vec![],
            },
        ),
        (
            cid,
            Facts {
                revenue: None,
                tier: None,
                tags: &[],
                email: true,
                signed: Some("2025-06-15"),
                purchases: vec![(40.0, 30.0)],
            },
        ),
    ];
    for (contact, f) in &facts {
        let want = expected(f, now);
        let (score, got_band) = score_of(&app, &token, *contact, "fit").await.expect("a score");
        assert!(
            (score - want).abs() < 0.011,
            "contact {contact}: stored {score}, computed {want}"
        );
        assert_eq!(got_band, band(want), "contact {contact} at {want}");
    }
    assert_eq!(
        score_of(&app, &token, acme, "fit").await,
        None,
        "a company has no person score"
    );

    // The explanation: every parameter with its value, points, weight and share; the
    // contributions add up to the score.
    let (status, explained) = app.get(&token, &format!("/api/v1/contacts/{ann}/scores")).await;
    assert_eq!(status, StatusCode::OK, "{explained}");
    let item = &explained["items"][0];
    assert_eq!(item["model_key"], "fit");
    let params = item["parameters"].as_array().unwrap();
    assert_eq!(params.len(), 10);
    assert_eq!(params[0]["value"], "12000");
    assert_eq!(params[0]["points"], 100.0);
    assert_eq!(params[5]["label"], "Recent purchases");
    assert_eq!(params[5]["value"], "2");
    assert_eq!(params[9]["enabled"], false);
    assert!(params[9]["points"].is_null());
    let total: f64 = params.iter().map(|p| p["contribution"].as_f64().unwrap()).sum();
    assert!((total - item["score"].as_f64().unwrap()).abs() < 0.1, "{item}");

    // A segment on a band, and one on the score.
    let (status, medium) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Medium fit", "kind": "dynamic",
                    "filter": {"field": "score_band.fit", "op": "in_band", "value": ["Medium"]}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{medium}");
    let medium = id(&medium);
    let (status, high) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Fit 70+", "kind": "dynamic",
                    "filter": {"field": "score.fit", "op": "gte", "value": 70}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{high}");
    let high = id(&high);
    let members = |sid: i64| {
        let app = &app;
        let token = &token;
        async move {
            let mut names = app
                .item_names(token, &format!("/api/v1/segments/{sid}/members?limit=100"))
                .await;
            names.sort();
            names
        }
    };
    assert_eq!(members(medium).await, Vec::<String>::new());
    assert_eq!(members(high).await, ["Ann"]);

    // An edit moves Bob to Medium in the same request, and into the segment.
    let (status, reply) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{bob}"),
            &json!({"email": "bob@example.com", "fields": {"revenue": 20000, "tier": "gold", "tags": ["c"]},
                    "version": version(&app, &token, bob).await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    facts[1].1.revenue = Some(20000.0);
    facts[1].1.tier = Some("gold");
    facts[1].1.email = true;
    let want = expected(&facts[1].1, now);
    assert_eq!(band(want), "Medium", "the test's own arithmetic: {want}");
    let (score, b) = score_of(&app, &token, bob, "fit").await.unwrap();
    assert!((score - want).abs() < 0.011, "{score} vs {want}");
    assert_eq!(b, "Medium");
    assert_eq!(members(medium).await, ["Bob"]);

    // Activities move him on to Ideal, and out of the Medium segment.
    for _ in 0..3 {
        activity(&app, &token, bob, now, 10.0).await;
    }
    facts[1].1.purchases = vec![(0.0, 10.0); 3];
    let want = expected(&facts[1].1, now);
    assert_eq!(band(want), "Ideal", "{want}");
    let (score, b) = score_of(&app, &token, bob, "fit").await.unwrap();
    assert!((score - want).abs() < 0.011, "{score} vs {want}");
    assert_eq!(b, "Ideal");
    assert_eq!(members(medium).await, Vec::<String>::new());
    assert_eq!(members(high).await, ["Ann", "Bob"]);

    // Filters read scores in SQL too.
    let (status, list) = app
        .get(
            &token,
            &format!(
                "/api/v1/contacts?filter={}",
                urlencode(&json!({"field": "score_band.fit", "op": "in_band", "value": "Standard"}).to_string())
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Cid"]);

    // The band changes are in the contact's history.
    let (_, explained) = app.get(&token, &format!("/api/v1/contacts/{bob}/scores")).await;
    let changes: Vec<(String, String)> = explained["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap().to_owned(),
                c["to"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("Medium".to_owned(), "Ideal".to_owned()),
            ("Standard".to_owned(), "Medium".to_owned())
        ]
    );

    // Time alone moves recency: 30 days later the scheduled rescore lowers Ann's score.
    let before = score_of(&app, &token, ann, "fit").await.unwrap().0;
    app.core().scoring().scoring_state().set_time_rescore_every(3600);
    app.clock().advance(chrono::Duration::days(30));
    wait_for_model(&app, &token, fit, "a scheduled rescore", |m| {
        m["status"] == "ready" && m["rescored_at"].as_str().is_some_and(|t| t.starts_with("2026-12-23"))
    })
    .await;
    let later = now + chrono::Duration::days(30);
    facts[0].1.purchases = vec![(32.0, 50.0), (40.0, 70.0), (90.0, 200.0)];
    let want = expected(&facts[0].1, later);
    let after = score_of(&app, &token, ann, "fit").await.unwrap().0;
    assert!(after < before, "{after} < {before}");
    assert!((after - want).abs() < 0.011, "{after} vs {want}");
}

both!(a_bad_definition_names_every_problem: a_bad_definition_names_every_problem_sqlite, a_bad_definition_names_every_problem_postgres);
async fn a_bad_definition_names_every_problem(app: TestApp) {
    let (_, token) = app.admin().await;
    let reply = app
        .post_json(
            &token,
            "/api/v1/scoring-models",
            &json!({"key": "Fit!", "name": " ", "kind": "robot", "definition": {
                "parameters": [
                    {"source": {"field": "fields.nope"}, "criterion": "scoring.ranges", "weight": 11, "params": {}},
                    {"source": {"field": "name"}, "criterion": "scoring.ranges", "weight": 1, "params": {}},
                    {"source": {"activity": "meeting", "measure": "count", "within_days": 0}, "criterion": "nope.nope", "weight": 1},
                ],
                "bands": [
                    {"name": "Low", "from": 0, "to": 40},
                    {"name": "High", "from": 50, "to": 90},
                ],
            }}),
        )
        .await;
    assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{}", reply.1);
    let paths = error_paths(&reply.1);
    for want in [
        "key",
        "name",
        "kind",
        "definition.parameters[0].source.field",
        "definition.parameters[0].weight",
        "definition.parameters[1].criterion",
        "definition.parameters[2].source.within_days",
        "definition.parameters[2].criterion",
        "definition.bands[1].from",
        "definition.bands[1].to",
    ] {
        assert!(
            paths.iter().any(|p| p == want),
            "{want} missing from {paths:?}: {}",
            reply.1
        );
    }
    // What a criterion refuses of its parameters is found before saving, at its path;
    // and control characters are refused before they reach the database.
    let reply = app
        .post_json(
            &token,
            "/api/v1/scoring-models",
            &json!({"key": "fit", "name": "Fit\u{0}", "kind": "person", "definition": {
                "parameters": [
                    {"source": {"field": "fields.nope"}, "criterion": "scoring.presence", "weight": 1, "params": {"present": 100}},
                ],
                "bands": [{"name": "All", "from": 0, "to": 100}],
            }}),
        )
        .await;
    assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{}", reply.1);
    assert!(error_paths(&reply.1).contains(&"name".to_owned()), "{}", reply.1);
    let reply = app
        .post_json(
            &token,
            "/api/v1/scoring-models",
            &json!({"key": "fit", "name": "Fit", "kind": "person", "definition": {
                "parameters": [
                    {"source": {"field": "created_at"}, "criterion": "scoring.ranges", "weight": 1,
                     "params": {"ranges": [{"from": 10, "to": 5, "points": 1}]}},
                ],
                "bands": [{"name": "All\u{0}", "from": 0, "to": 100}],
            }}),
        )
        .await;
    assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{}", reply.1);
    assert_eq!(error_paths(&reply.1), ["definition"], "{}", reply.1);
    let reply = app
        .post_json(
            &token,
            "/api/v1/scoring-models",
            &json!({"key": "fit", "name": "Fit", "kind": "person", "definition": {
                "parameters": [
                    {"source": {"field": "created_at"}, "criterion": "scoring.ranges", "weight": 1,
                     "params": {"ranges": [{"from": 10, "to": 5, "points": 1}]}},
                ],
                "bands": [{"name": "All", "from": 0, "to": 100}],
            }}),
        )
        .await;
    assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{}", reply.1);
    assert_eq!(
        error_paths(&reply.1),
        ["definition.parameters[0].params.ranges[0]"],
        "{}",
        reply.1
    );
    let (status, models) = app.get(&token, "/api/v1/scoring-models").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(models["items"], json!([]), "nothing was saved");

    // Agents don't change models.
    let (_, agent) = app.agent().await;
    let reply = app
        .post_json(
            &agent,
            "/api/v1/scoring-models",
            &json!({"key": "fit", "name": "Fit", "kind": "person", "definition": {"parameters": [], "bands": []}}),
        )
        .await;
    assert_eq!(reply.0, StatusCode::FORBIDDEN, "{}", reply.1);
}

fn presence_model(points: f64) -> Value {
    json!({
        "parameters": [{"source": {"field": "city"}, "criterion": "scoring.presence", "weight": 1,
                        "params": {"present": points}}],
        "bands": [{"name": "Low", "from": 0, "to": 50}, {"name": "High", "from": 50, "to": 100}],
    })
}

both!(a_trapping_criterion_never_fails_a_write: a_trapping_criterion_never_fails_a_write_sqlite, a_trapping_criterion_never_fails_a_write_postgres);
async fn a_trapping_criterion_never_fails_a_write(app: TestApp) {
    let (_, token) = app.admin().await;
    let plugin = install(&app, &token, "hostile_trap_criterion").await;
    let name = plugin["name"].as_str().unwrap().to_owned();
    let (status, reply) = app
        .post_json(&token, &format!("/api/v1/plugins/{name}/enable"), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    // A model scored on a working criterion...
    let (status, m) = app
        .post_json(
            &token,
            "/api/v1/scoring-models",
            &json!({"key": "fit", "name": "Fit", "kind": "person", "definition": presence_model(100.0)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let fit = id(&m);
    let ann = id(&app
        .create_contact(&token, &json!({"type": "warm", "name": "Ann", "city": "Kraków"}))
        .await);
    assert_eq!(
        score_of(&app, &token, ann, "fit").await,
        Some((100.0, "High".to_owned()))
    );

    // ... then one that traps: the rescore fails, the model needs attention and keeps
    // its scores.
    let mut trapping = presence_model(100.0);
    trapping["parameters"]
        .as_array_mut()
        .unwrap()
        .push(json!({"source": {"field": "name"}, "criterion": format!("{name}.points"), "weight": 1}));
    let (status, m) = app
        .patch_json(
            &token,
            &format!("/api/v1/scoring-models/{fit}"),
            &json!({"definition": trapping}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    let m = wait_for_model(&app, &token, fit, "needs_attention", |m| {
        m["status"] == "needs_attention"
    })
    .await;
    let message = m["status_message"].as_str().unwrap();
    assert!(message.contains(&name), "{message}");
    assert_eq!(
        score_of(&app, &token, ann, "fit").await,
        Some((100.0, "High".to_owned()))
    );

    // Writes go on: the model is left out of upkeep, the contact is saved.
    let (status, reply) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{ann}"),
            &json!({"city": null, "version": version(&app, &token, ann).await}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        score_of(&app, &token, ann, "fit").await,
        Some((100.0, "High".to_owned()))
    );

    // A model that starts trapping inside a write (no contact to score when saved): the
    // write succeeds and the model is marked.
    let (status, m) = app
        .post_json(
            &token,
            "/api/v1/scoring-models",
            &json!({"key": "firms", "name": "Firms", "kind": "company", "definition": {
                "parameters": [{"source": {"field": "name"}, "criterion": format!("{name}.points"), "weight": 1}],
                "bands": [{"name": "All", "from": 0, "to": 100}],
            }}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["status"], "ready", "no company to score yet: {m}");
    let firms = id(&m);
    let acme = app
        .create_contact(&token, &json!({"kind": "company", "type": "client", "name": "Acme"}))
        .await;
    assert_eq!(acme["name"], "Acme");
    wait_for_model(&app, &token, firms, "needs_attention", |m| {
        m["status"] == "needs_attention"
    })
    .await;

    // Back to a working definition, and a rescore brings the model back.
    let (status, m) = app
        .patch_json(
            &token,
            &format!("/api/v1/scoring-models/{fit}"),
            &json!({"definition": presence_model(100.0)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    let m = wait_for_model(&app, &token, fit, "ready", |m| m["status"] == "ready").await;
    assert!(m["status_message"].is_null(), "{m}");
    assert_eq!(score_of(&app, &token, ann, "fit").await, Some((0.0, "Low".to_owned())));
}

both!(the_what_if_counts_moves_and_a_large_base_rescores_in_the_background: the_what_if_counts_moves_and_a_large_base_rescores_in_the_background_sqlite, the_what_if_counts_moves_and_a_large_base_rescores_in_the_background_postgres);
async fn the_what_if_counts_moves_and_a_large_base_rescores_in_the_background(app: TestApp) {
    let (_, token) = app.admin().await;
    for i in 0..30 {
        let city = if i % 3 == 0 { json!("Kraków") } else { Value::Null };
        app.create_contact(
            &token,
            &json!({"type": "warm", "name": format!("P{i:02}"), "city": city}),
        )
        .await;
    }
    let (status, m) = app
        .post_json(
            &token,
            "/api/v1/scoring-models",
            &json!({"key": "fit", "name": "Fit", "kind": "person", "definition": presence_model(100.0)}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    let fit = id(&m);

    // The draft: a city is worth 40 points only: the ten with a city move High -> Low.
    let (status, what_if) = app
        .post_json(
            &token,
            "/api/v1/scoring-models/preview",
            &json!({"model_id": fit, "definition": presence_model(40.0)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{what_if}");
    assert_eq!(what_if["total"], 30);
    assert_eq!(what_if["scored_before"], 30);
    assert_eq!(
        what_if["bands"],
        json!([{"band": "Low", "saved": 20, "draft": 30}, {"band": "High", "saved": 10, "draft": 0}])
    );
    assert_eq!(what_if["unchanged"], 20);
    let moves = what_if["moves"].as_array().unwrap();
    assert_eq!(moves.len(), 1, "{what_if}");
    assert_eq!(
        (moves[0]["from"].as_str(), moves[0]["to"].as_str()),
        (Some("High"), Some("Low"))
    );
    assert_eq!(moves[0]["count"], 10);
    assert_eq!(moves[0]["sample"][0]["name"], "P00");

    // The same what-if in the background: progress, then the same answer.
    let (status, run) = app
        .post_json(
            &token,
            "/api/v1/scoring-models/previews",
            &json!({"model_id": fit, "definition": presence_model(40.0)}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{run}");
    let address = format!("/api/v1/scoring-models/previews/{}", run["id"]);
    let mut seen = run;
    for _ in 0..200 {
        if seen["status"] != "running" {
            break;
        }
        assert!(seen["done"].as_u64() <= seen["total"].as_u64(), "{seen}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let (status, now) = app.get(&token, &address).await;
        assert_eq!(status, StatusCode::OK, "{now}");
        seen = now;
    }
    assert_eq!(seen["status"], "done", "{seen}");
    assert_eq!((seen["done"].as_u64(), seen["total"].as_u64()), (Some(30), Some(30)));
    let (mut answer, mut at_once) = (seen["answer"].clone(), what_if.clone());
    answer["elapsed_ms"] = json!(0);
    at_once["elapsed_ms"] = json!(0);
    assert_eq!(answer, at_once);
    // A bad draft is refused before it starts, every problem at its path; another user
    // doesn't see the run.
    let (status, refused) = app
        .post_json(
            &token,
            "/api/v1/scoring-models/previews",
            &json!({"kind": "person", "definition": {"parameters": [], "bands": [{"name": "Low", "from": 0, "to": 40}]}}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(error_paths(&refused).len() >= 2, "{refused}");
    let (_, other) = app.admin().await;
    assert_eq!(app.get(&other, &address).await.0, StatusCode::NOT_FOUND);
    // Nothing was saved.
    assert_eq!(model(&app, &token, fit).await["version"], 1);

    // Saved over a base larger than the inline limit: the answer comes at once, the worker
    // rescores with progress.
    app.core().scoring().scoring_state().set_inline_limit(5);
    let (status, m) = app
        .patch_json(
            &token,
            &format!("/api/v1/scoring-models/{fit}"),
            &json!({"definition": presence_model(40.0), "version": 1}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["version"], 2);
    let m = wait_for_model(&app, &token, fit, "ready", |m| m["status"] == "ready").await;
    assert_eq!(
        (m["progress_done"].as_i64(), m["progress_total"].as_i64()),
        (Some(30), Some(30))
    );
    let (status, list) = app
        .get(
            &token,
            &format!(
                "/api/v1/contacts?filter={}",
                urlencode(&json!({"field": "score.fit", "op": "gt", "value": 0}).to_string())
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 10);
    assert!(list["items"].as_array().unwrap().iter().all(|c| c["city"] == "Kraków"));

    // The table sorts by a score, paging by keyset: highest first, ties by id, and a
    // company (no person score) last.
    app.create_contact(&token, &json!({"kind": "company", "type": "client", "name": "Acme"}))
        .await;
    let (sorted, pages) = app.all_contacts(&token, "-score.fit", 4).await;
    assert_eq!(pages, 8, "31 contacts in pages of 4");
    let names: Vec<&str> = sorted.iter().map(|c| c["name"].as_str().unwrap()).collect();
    // Descending by (score, id): the ten with a city first (the newest first among
    // equals), then the twenty without, then Acme with no score.
    let mut by_score: Vec<String> = (0..30)
        .filter(|i| i % 3 == 0)
        .rev()
        .map(|i| format!("P{i:02}"))
        .collect();
    by_score.extend((0..30).filter(|i| i % 3 != 0).rev().map(|i| format!("P{i:02}")));
    by_score.push("Acme".into());
    assert_eq!(names, by_score);
    let (ascending, _) = app.all_contacts(&token, "score.fit", 7).await;
    let names: Vec<&str> = ascending.iter().map(|c| c["name"].as_str().unwrap()).collect();
    by_score.reverse();
    assert_eq!(names, by_score);
    let (status, reply) = app.get(&token, "/api/v1/contacts?sort=score.nope").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(error_paths(&reply), ["sort"]);

    // A stale version is refused.
    let reply = app
        .patch_json(
            &token,
            &format!("/api/v1/scoring-models/{fit}"),
            &json!({"name": "Fit again", "version": 1}),
        )
        .await;
    assert_eq!(reply.0, StatusCode::CONFLICT, "{}", reply.1);
}
