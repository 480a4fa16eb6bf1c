//! The filter engine: random filters over random contacts give the same contacts on
//! SQLite, on PostgreSQL and in the in-memory evaluator; no filter input makes the
//! server fail; the operators of the built-in plugins do what users mean.

use std::collections::BTreeSet;

use kartoteka_core::auth::Role;
use kartoteka_core::contacts::{ListQuery, Sort};
use kartoteka_tests::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestRng, TestRunner};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CITIES: [&str; 6] = ["Kraków", "Łódź", "Київ", "Warszawa", "Brașov", "Gdańsk"];
const NAMES: [&str; 8] = [
    "Łucja Wójcik",
    "Paweł Żak",
    "Олена Шевченко",
    "Ștefan Pop",
    "Anna Nowak",
    "Jan Kowalski",
    "Zoë Müller",
    "Ivan Petrenko",
];
const INDUSTRIES: [&str; 3] = ["IT", "Retail", "Energy"];
const TAGS: [&str; 3] = ["crm", "cloud", "vip"];
const PAGES: [&str; 3] = ["/pricing", "/blog", "/"];
const TYPES: [&str; 6] = ["lead", "cold", "warm", "client", "staff", "supplier"];
/// (lat, lon) near which contacts live.
const PLACES: [(f64, f64); 3] = [(50.06, 19.94), (52.23, 21.01), (50.45, 30.52)];

async fn define_fields(app: &TestApp, token: &str) {
    let fields = [
        json!({"key": "revenue", "label": "Revenue", "kind": "number"}),
        json!({"key": "employees", "label": "Employees", "kind": "integer"}),
        json!({"key": "deal", "label": "Deal", "kind": "money"}),
        json!({"key": "since", "label": "Client since", "kind": "date"}),
        json!({"key": "seen", "label": "Last seen", "kind": "datetime"}),
        json!({"key": "vip", "label": "VIP", "kind": "boolean"}),
        json!({"key": "industry", "label": "Industry", "kind": "select", "options": INDUSTRIES}),
        json!({"key": "tags", "label": "Tags", "kind": "multiselect", "options": TAGS}),
        json!({"key": "note", "label": "Note", "kind": "text", "searchable": true}),
    ];
    for field in fields {
        let (status, body) = app.post_json(token, "/api/v1/fields", &field).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// The same contacts and activities, from `seed`, on any app (ids and times line up
/// because both apps start empty with the same manual clock).
async fn seed(app: &TestApp, token: &str, seed: u64, count: usize) {
    define_fields(app, token).await;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut companies = Vec::new();
    for i in 0..count {
        let company = i % 5 == 0;
        let mut fields = serde_json::Map::new();
        if rng.random_bool(0.7) {
            fields.insert("revenue".into(), json!(f64::from(rng.random_range(0..400_u32)) * 2.5));
        }
        if rng.random_bool(0.7) {
            fields.insert("employees".into(), json!(rng.random_range(0..50_i64)));
        }
        if rng.random_bool(0.6) {
            fields.insert(
                "deal".into(),
                json!(f64::from(rng.random_range(0..100_000_u32)) / 100.0),
            );
        }
        if rng.random_bool(0.6) {
            fields.insert(
                "since".into(),
                json!(format!(
                    "2026-{:02}-{:02}",
                    rng.random_range(1..=11),
                    rng.random_range(1..=28)
                )),
            );
        }
        if rng.random_bool(0.6) {
            fields.insert(
                "seen".into(),
                json!(format!(
                    "2026-{:02}-{:02}T{:02}:00:00Z",
                    rng.random_range(9..=11),
                    rng.random_range(1..=28),
                    rng.random_range(0..24)
                )),
            );
        }
        if rng.random_bool(0.7) {
            fields.insert("vip".into(), json!(rng.random_bool(0.5)));
        }
        if rng.random_bool(0.7) {
            fields.insert("industry".into(), json!(pick(&mut rng, &INDUSTRIES)));
        }
        if rng.random_bool(0.7) {
            let tags: Vec<&str> = TAGS.iter().copied().filter(|_| rng.random_bool(0.4)).collect();
            fields.insert("tags".into(), json!(tags));
        }
        if rng.random_bool(0.5) {
            fields.insert("note".into(), json!(format!("met in {}", pick(&mut rng, &CITIES))));
        }
        let (lat, lon) = *pick(&mut rng, &PLACES);
        let mut body = json!({
            "kind": if company { "company" } else { "person" },
            "type": if company { "client" } else { pick(&mut rng, &TYPES) },
            "name": format!("{} {i}", pick(&mut rng, &NAMES)),
            "fields": fields,
        });
        if rng.random_bool(0.8) {
            body["city"] = json!(pick(&mut rng, &CITIES));
        }
        if rng.random_bool(0.7) {
            body["email"] = json!(format!("user{i}@example.com"));
        }
        if rng.random_bool(0.5) {
            body["country"] = json!(pick(&mut rng, &["PL", "UA", "RO"]));
        }
        if rng.random_bool(0.8) {
            body["latitude"] = json!(lat + f64::from(rng.random_range(-150..150_i32)) / 100.0);
            body["longitude"] = json!(lon + f64::from(rng.random_range(-150..150_i32)) / 100.0);
        }
        if !company && !companies.is_empty() && rng.random_bool(0.5) {
            body["company_id"] = json!(*pick(&mut rng, &companies));
        }
        let contact = app.create_contact(token, &body).await;
        let id = contact["id"].as_i64().unwrap();
        if company {
            companies.push(id);
        }
        let mut activities = Vec::new();
        for _ in 0..rng.random_range(0..5) {
            let days_ago = rng.random_range(0..120_i64);
            let at = manual_clock_start() - chrono::Duration::days(days_ago) - chrono::Duration::hours(1);
            let mut activity = json!({"contact_id": id, "occurred_at": at.to_rfc3339()});
            if rng.random_bool(0.5) {
                activity["kind"] = json!("page_visit");
                activity["properties"] = json!({"page": pick(&mut rng, &PAGES)});
            } else {
                activity["kind"] = json!("purchase");
                activity["amount"] = json!(f64::from(rng.random_range(1..1000_u32)));
            }
            activities.push(activity);
        }
        if !activities.is_empty() {
            let (status, body) = app.post_json(token, "/api/v1/activities", &json!(activities)).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
}

/// A random condition over the seeded fields.
fn condition() -> impl Strategy<Value = Value> {
    let text_field = prop::sample::select(vec!["name", "city", "email", "company", "fields.note", "country"]);
    let needle = prop::sample::select(vec!["lodz", "KRAK", "київ", "ste", "a", "ó", "PL", "met in", "0@ex"]);
    let text_op = prop::sample::select(vec!["contains", "not_contains", "starts_with", "ends_with"]);
    let number_field = prop::sample::select(vec!["fields.revenue", "fields.employees", "fields.deal"]);
    let cmp = prop::sample::select(vec!["eq", "ne", "gt", "lt", "gte", "lte"]);
    let unit = prop::sample::select(vec!["days", "months", "years"]);
    let date_field = prop::sample::select(vec!["fields.since", "fields.seen", "created_at"]);
    let any_field = prop::sample::select(vec![
        "email",
        "city",
        "company",
        "fields.revenue",
        "fields.since",
        "fields.seen",
        "fields.vip",
        "fields.industry",
        "fields.tags",
        "fields.note",
        "country",
    ]);
    prop_oneof![
        (text_field, text_op, needle).prop_map(|(f, op, n)| json!({"field": f, "op": op, "value": n})),
        (
            prop::sample::select(vec!["city", "country"]),
            prop::sample::select(CITIES.to_vec())
        )
            .prop_map(|(f, v)| json!({"field": f, "op": "eq", "value": v})),
        (cmp, number_field.clone(), 0..500_i64).prop_map(|(op, f, n)| json!({"field": f, "op": op, "value": n})),
        (number_field, 0..300_i64, 0..300_i64)
            .prop_map(|(f, a, b)| json!({"field": f, "op": "between", "value": [a.min(b), a.max(b)]})),
        (any_field.clone(), prop::bool::ANY).prop_map(|(f, empty)| json!({
            "field": f, "op": if empty { "is_empty" } else { "is_not_empty" }
        })),
        prop::sample::select(INDUSTRIES.to_vec())
            .prop_map(|v| json!({"field": "fields.industry", "op": "ne", "value": v})),
        (prop::sample::subsequence(INDUSTRIES.to_vec(), 0..3), prop::bool::ANY).prop_map(|(v, not)| json!({
            "field": "fields.industry", "op": if not { "not_in_list" } else { "in_list" }, "value": v
        })),
        prop::sample::subsequence(TAGS.to_vec(), 1..3)
            .prop_map(|v| json!({"field": "fields.tags", "op": "in_list", "value": v})),
        prop::bool::ANY.prop_map(|b| json!({"field": "fields.vip", "op": "eq", "value": b})),
        prop::sample::select(TYPES.to_vec()).prop_map(|t| json!({"field": "type", "op": "is", "value": t})),
        (
            date_field.clone(),
            prop::sample::select(vec!["before", "after", "on"]),
            1..=11_u32,
            1..=28_u32
        )
            .prop_map(|(f, op, m, d)| json!({"field": f, "op": op, "value": format!("2026-{m:02}-{d:02}")})),
        (
            date_field,
            prop::sample::select(vec!["within_last", "not_within_last"]),
            0..90_i64,
            unit.clone()
        )
            .prop_map(|(f, op, n, u)| json!({"field": f, "op": op, "value": {"amount": n, "unit": u}})),
        (
            prop::option::of(1..4_i64),
            prop::option::of(1..100_i64),
            prop::option::of(prop::sample::select(PAGES.to_vec()))
        )
            .prop_map(|(times, days, page)| {
                let mut v = json!({});
                if let Some(t) = times {
                    v["times"] = json!(t);
                }
                if let Some(d) = days {
                    v["within"] = json!({"amount": d, "unit": "days"});
                }
                if let Some(p) = page {
                    v["where"] = json!({"page": p});
                }
                json!({"field": "activity.page_visit", "op": "happened", "value": v})
            }),
        (prop::option::of(0..1000_i64), prop::option::of(1..3_i64)).prop_map(|(min, times)| {
            let mut v = json!({});
            if let Some(m) = min {
                v["min_amount"] = json!(m);
            }
            if let Some(t) = times {
                v["times"] = json!(t);
            }
            json!({"field": "activity.purchase", "op": "happened", "value": v})
        }),
        prop::sample::select(vec!["krakow", "ŁÓDŹ", "kyiv", "PL", "UA", "Київ"])
            .prop_map(|p| json!({"field": "location", "op": "in_location", "value": p})),
        (0..3_usize, 10..300_i64).prop_map(|(i, km)| {
            let (lat, lon) = PLACES[i];
            json!({"field": "location", "op": "within_distance", "value": {"lat": lat, "lon": lon, "km": km}})
        }),
    ]
}

/// A random filter: conditions under AND, OR and NOT, up to four levels.
fn filter() -> impl Strategy<Value = Value> {
    condition().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| json!({"and": items})),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|items| json!({"or": items})),
            inner.prop_map(|item| json!({"not": item})),
        ]
    })
}

/// The names the engine returns for `filter` (every page), and its count.
pub(crate) async fn engine_names(app: &TestApp, token: &str, filter: &Value) -> (BTreeSet<String>, u64) {
    let mut names = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/contacts?limit=7&filter={}", urlencode(&filter.to_string()));
        if let Some(a) = &after {
            path.push_str(&format!("&after={}", urlencode(a)));
        }
        let (status, body) = app.get(token, &path).await;
        assert_eq!(status, StatusCode::OK, "{filter}: {body}");
        for item in body["items"].as_array().unwrap() {
            assert!(
                names.insert(item["name"].as_str().unwrap().to_owned()),
                "a page repeated a contact"
            );
        }
        match body["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    let (status, body) = app
        .get(
            token,
            &format!("/api/v1/contacts/count?filter={}", urlencode(&filter.to_string())),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{filter}: {body}");
    (names, body["count"].as_u64().unwrap())
}

/// The names the in-memory evaluator picks among every contact.
async fn memory_names(app: &TestApp, filter: &Value) -> BTreeSet<String> {
    let core = app.core();
    let admin = core
        .users()
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.role == Role::Admin)
        .unwrap();
    let actor = kartoteka_core::auth::Actor {
        user_id: admin.id,
        email: admin.email,
        role: admin.role,
    };
    let mut contacts = Vec::new();
    let mut after = None;
    loop {
        let page = core
            .contacts()
            .list_contacts(
                &actor,
                &ListQuery {
                    sort: Sort::default(),
                    limit: 500,
                    after,
                },
            )
            .await
            .unwrap();
        contacts.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let prepared = core.filter().prepare_filter(filter).await.unwrap();
    let records = core.filter().records_of(contacts, true).await.unwrap();
    let keep = core.filter().evaluate_in_memory(&prepared, &records).await.unwrap();
    records
        .iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(r, _)| r.contact.name.clone())
        .collect()
}

/// Random filters over the same random base agree on SQLite, PostgreSQL and in memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_filters_agree_on_sqlite_postgres_and_in_memory() {
    let Some(sqlite) = TestApp::start_with_manual_clock(Backend::Sqlite).await else {
        return;
    };
    let Some(postgres) = TestApp::start_with_manual_clock(Backend::Postgres).await else {
        return;
    };
    let (_, sqlite_token) = sqlite.admin().await;
    let (_, postgres_token) = postgres.admin().await;
    let data_seed = 20261123;
    seed(&sqlite, &sqlite_token, data_seed, 80).await;
    seed(&postgres, &postgres_token, data_seed, 80).await;

    let cases: usize = std::env::var("KARTOTEKA_FILTER_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150);
    let mut runner = TestRunner::new_with_rng(
        RunnerConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = filter();
    let mut non_trivial = 0;
    for case in 0..cases {
        let filter = strategy.new_tree(&mut runner).unwrap().current();
        let (in_sqlite, sqlite_count) = engine_names(&sqlite, &sqlite_token, &filter).await;
        let (in_postgres, postgres_count) = engine_names(&postgres, &postgres_token, &filter).await;
        let in_memory = memory_names(&sqlite, &filter).await;
        assert_eq!(
            in_sqlite, in_memory,
            "case {case}: SQLite and the in-memory evaluator disagree on {filter}"
        );
        assert_eq!(
            in_postgres, in_memory,
            "case {case}: PostgreSQL and the in-memory evaluator disagree on {filter}"
        );
        assert_eq!(
            sqlite_count,
            in_sqlite.len() as u64,
            "case {case}: SQLite count of {filter}"
        );
        assert_eq!(
            postgres_count,
            in_postgres.len() as u64,
            "case {case}: PostgreSQL count of {filter}"
        );
        if !in_memory.is_empty() && in_memory.len() < 80 {
            non_trivial += 1;
        }
    }
    // The generator must exercise the engine: most filters select some but not all.
    assert!(
        non_trivial * 3 >= cases,
        "only {non_trivial} of {cases} filters selected a proper subset"
    );
}

/// Arbitrary JSON as a filter: a 200 or a 400 with a path, never a 500.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(json!(null)),
        any::<bool>().prop_map(|b| json!(b)),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "and",
            "or",
            "not",
            "field",
            "op",
            "value",
            "name",
            "eq",
            "std.eq",
            "is",
            "happened",
            "activity.purchase",
            "location",
            "fields.x",
            "type",
            "in_list",
            "within_last",
            "days",
            "within_distance",
            "",
            "Łódź",
            "' OR 1=1 --",
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "and",
                        "or",
                        "not",
                        "field",
                        "op",
                        "value",
                        "times",
                        "within",
                        "amount",
                        "unit",
                        "lat",
                        "lon",
                        "km",
                        "where",
                        "min_amount",
                        "x"
                    ]),
                    inner
                ),
                0..4
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

both!(no_filter_input_fails_the_server: no_filter_input_fails_the_server_sqlite, no_filter_input_fails_the_server_postgres);
async fn no_filter_input_fails_the_server(app: TestApp) {
    let (_, token) = app.admin().await;
    define_fields(&app, &token).await;
    app.person(&token, "Somebody").await;
    let mut runner = TestRunner::new_with_rng(
        RunnerConfig::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]),
    );
    let strategy = arbitrary_json();
    for _ in 0..200 {
        let filter = strategy.new_tree(&mut runner).unwrap().current();
        for text in [filter.to_string(), filter.to_string().chars().rev().collect()] {
            let (status, body) = app
                .get(&token, &format!("/api/v1/contacts/count?filter={}", urlencode(&text)))
                .await;
            assert!(
                status == StatusCode::OK || (status == StatusCode::BAD_REQUEST && body["error"]["path"].is_string()),
                "{text}: {status} {body}"
            );
        }
    }
}

async fn names(app: &TestApp, token: &str, filter: Value) -> Vec<String> {
    let (names, count) = engine_names(app, token, &filter).await;
    assert_eq!(count, names.len() as u64);
    names.into_iter().collect()
}

fn error_of(reply: &(StatusCode, Value)) -> (String, String) {
    assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{}", reply.1);
    (
        reply.1["error"]["path"].as_str().unwrap_or_default().to_owned(),
        reply.1["error"]["message"].as_str().unwrap_or_default().to_owned(),
    )
}

both!(manual_clock, operators_do_what_users_mean: operators_do_what_users_mean_sqlite, operators_do_what_users_mean_postgres);
async fn operators_do_what_users_mean(app: TestApp) {
    let (_, token) = app.admin().await;
    define_fields(&app, &token).await;
    let lodz = app
        .create_contact(
            &token,
            &json!({"kind": "person", "type": "warm", "name": "Łucja", "city": "Łódź", "latitude": 51.76, "longitude": 19.46,
                    "fields": {"revenue": 120.5, "since": "2026-11-01"}}),
        )
        .await;
    let kyiv = app
        .create_contact(
            &token,
            &json!({"kind": "person", "type": "client", "name": "Олена", "city": "Київ", "latitude": 50.45, "longitude": 30.52,
                    "fields": {"revenue": 80}}),
        )
        .await;
    let krakow = app
        .create_contact(
            &token,
            &json!({"kind": "person", "type": "cold", "name": "Jan", "city": "Kraków", "latitude": 50.06, "longitude": 19.94}),
        )
        .await;
    let now = manual_clock_start();
    let day = chrono::Duration::days(1);
    let visits: Vec<Value> = (0..3)
        .map(|i| {
            json!({"contact_id": krakow["id"], "kind": "page_visit", "occurred_at": (now - day * (i * 5 + 1)).to_rfc3339(),
                   "properties": {"page": "/pricing"}})
        })
        .chain([
            json!({"contact_id": lodz["id"], "kind": "page_visit", "occurred_at": (now - day * 40).to_rfc3339(),
                   "properties": {"page": "/pricing"}}),
            json!({"contact_id": lodz["id"], "kind": "purchase", "occurred_at": (now - day * 2).to_rfc3339(), "amount": 750}),
            json!({"contact_id": kyiv["id"], "kind": "purchase", "occurred_at": (now - day * 2).to_rfc3339(), "amount": 120}),
            json!({"contact_id": kyiv["id"], "kind": "link_click", "occurred_at": (now - day).to_rfc3339()}),
        ])
        .collect();
    let (status, body) = app.post_json(&token, "/api/v1/activities", &json!(visits)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let f = |field: &str, op: &str, value: Value| json!({"field": field, "op": op, "value": value});
    // Folded, Unicode-aware text.
    assert_eq!(
        names(&app, &token, f("city", "contains", json!("lodz"))).await,
        ["Łucja"]
    );
    assert_eq!(names(&app, &token, f("city", "eq", json!("Łódź"))).await, ["Łucja"]);
    assert_eq!(
        names(&app, &token, f("city", "starts_with", json!("КИЇВ"))).await,
        ["Олена"]
    );
    assert_eq!(
        names(&app, &token, f("city", "not_contains", json!("KRAK"))).await,
        ["Łucja", "Олена"]
    );
    // Types include their descendants: Warm and Cold are leads.
    assert_eq!(
        names(&app, &token, f("type", "is", json!("lead"))).await,
        ["Jan", "Łucja"]
    );
    // Behaviour.
    let pricing = json!({"times": 3, "within": {"amount": 30, "unit": "days"}, "where": {"page": "/pricing"}});
    assert_eq!(
        names(&app, &token, f("activity.page_visit", "happened", pricing)).await,
        ["Jan"]
    );
    assert_eq!(
        names(&app, &token, f("activity.link_click", "happened", json!(null))).await,
        ["Олена"]
    );
    assert_eq!(
        names(
            &app,
            &token,
            f("activity.purchase", "happened", json!({"min_amount": 500}))
        )
        .await,
        ["Łucja"]
    );
    // Geography: the box in SQL, the great-circle distance in the plugin. Kraków–Łódź is
    // about 190 km, Kraków–Kyiv about 750 km.
    let near = |km: i64| {
        f(
            "location",
            "within_distance",
            json!({"lat": 50.06, "lon": 19.94, "km": km}),
        )
    };
    assert_eq!(names(&app, &token, near(50)).await, ["Jan"]);
    assert_eq!(names(&app, &token, near(200)).await, ["Jan", "Łucja"]);
    assert_eq!(
        names(&app, &token, json!({"not": near(200)})).await,
        ["Олена"],
        "a residual under NOT is decided by the plugin, not dropped"
    );
    assert_eq!(
        names(&app, &token, f("location", "in_location", json!("KYIV"))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        names(&app, &token, f("location", "in_location", json!("київ"))).await,
        ["Олена"]
    );
    // Time, against the server's clock.
    let recent = f("fields.since", "within_last", json!({"amount": 30, "unit": "days"}));
    assert_eq!(names(&app, &token, recent.clone()).await, ["Łucja"]);
    app.clock().advance(day * 30);
    assert_eq!(
        names(&app, &token, recent).await,
        Vec::<String>::new(),
        "day 31: no longer within 30 days"
    );
    // Values, nested logic, a third-party operator next to built-in ones.
    let nested = json!({"and": [
        f("fields.revenue", "gte", json!(100)),
        {"or": [f("city", "eq", json!("Kraków")), {"not": f("type", "is", json!("client"))}]},
    ]});
    assert_eq!(names(&app, &token, nested).await, ["Łucja"]);

    // Errors point at the bad node.
    let bad = |filter: Value| {
        let path = format!("/api/v1/contacts?filter={}", urlencode(&filter.to_string()));
        let app = &app;
        let token = &token;
        async move { app.get(token, &path).await }
    };
    let (path, message) = error_of(
        &bad(json!({"and": [f("city", "eq", json!("X")), {"or": [f("fields.revenue", "gt", json!("much"))]}]})).await,
    );
    assert_eq!(path, "and[1].or[0].value");
    assert!(message.contains("number"), "{message}");
    assert_eq!(error_of(&bad(f("nope", "eq", json!(1))).await).0, "field");
    assert_eq!(error_of(&bad(f("city", "frobnicate", json!(1))).await).0, "op");
    assert_eq!(error_of(&bad(f("fields.vip", "contains", json!("x"))).await).0, "op");
    assert_eq!(
        error_of(&bad(f("fields.since", "within_last", json!({"amount": 3, "unit": "weeks"}))).await).0,
        "value.unit"
    );
    assert_eq!(
        error_of(&bad(json!({"or": [f("fields.revenue", "between", json!([1, "lots"]))]})).await).0,
        "or[0].value[1]"
    );
    assert_eq!(
        error_of(&app.get(&token, "/api/v1/contacts?filter=%7B%22and%22").await).0,
        "filter",
        "malformed JSON"
    );
}

/// The plan the database picks for the engine's statement of `filter`.
async fn plan_of(app: &TestApp, filter: Value) -> String {
    use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryTrait, TransactionTrait};
    let core = app.core();
    let backend = core.db().get_database_backend();
    let prepared = core.filter().prepare_filter(&filter).await.unwrap();
    let sql = kartoteka_core::entities::contacts::Entity::find()
        .filter(prepared.condition(backend))
        .build(backend)
        .to_string();
    let txn = core.db().begin().await.unwrap();
    let explain = match app.backend {
        Backend::Sqlite => {
            // EXPLAIN is compiled against the connection's cached schema without checking
            // it is current; a read first makes this pooled connection see the indexes
            // another connection just rebuilt.
            txn.execute_unprepared("SELECT count(*) FROM sqlite_master")
                .await
                .unwrap();
            format!("EXPLAIN QUERY PLAN {sql}")
        }
        Backend::Postgres => {
            // A handful of rows would be scanned whatever the indexes; ask what the
            // planner does when scanning isn't the cheap way out.
            txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.unwrap();
            format!("EXPLAIN {sql}")
        }
    };
    let rows = txn
        .query_all_raw(sea_orm::Statement::from_string(backend, explain))
        .await
        .unwrap();
    let lines: Vec<String> = rows
        .iter()
        .map(|r| {
            let column = if app.backend == Backend::Sqlite {
                "detail"
            } else {
                "QUERY PLAN"
            };
            r.try_get::<String>("", column).unwrap()
        })
        .collect();
    txn.rollback().await.unwrap();
    lines.join("\n")
}

both!(hot_filters_use_indexes: hot_filters_use_indexes_sqlite, hot_filters_use_indexes_postgres);
async fn hot_filters_use_indexes(app: TestApp) {
    let (_, token) = app.admin().await;
    define_fields(&app, &token).await;
    app.person(&token, "Somebody").await;
    let f = |field: &str, op: &str, value: Value| json!({"field": field, "op": op, "value": value});
    for (filter, index) in [
        (f("city", "eq", json!("Kraków")), "contacts_city"),
        (f("fields.revenue", "between", json!([10, 20])), "contacts_f_revenue"),
        (f("fields.since", "after", json!("2026-01-01")), "contacts_f_since"),
        (f("fields.industry", "eq", json!("IT")), "contacts_f_industry"),
        (f("type", "is", json!("lead")), "contacts_type"),
        (
            f("activity.purchase", "happened", json!({"min_amount": 10})),
            "activities_kind_contact_time",
        ),
        (
            f(
                "location",
                "within_distance",
                json!({"lat": 50.06, "lon": 19.94, "km": 30}),
            ),
            "contacts_lat_lon",
        ),
    ] {
        let plan = plan_of(&app, filter.clone()).await;
        assert!(plan.contains(index), "{filter} should use {index}:\n{plan}");
    }
    // The index follows the field: rebuilt on a kind change, dropped with the field.
    let (status, body) = app
        .patch_json(&token, "/api/v1/fields/employees", &json!({"kind": "text"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let plan = plan_of(&app, f("fields.employees", "eq", json!("12"))).await;
    assert!(plan.contains("contacts_f_employees"), "{plan}");
    let (status, body) = app.delete(&token, "/api/v1/fields/employees").await;
    assert!(status.is_success(), "{body}");
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "employees", "label": "E", "kind": "integer"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let plan = plan_of(&app, f("fields.employees", "gt", json!(3))).await;
    assert!(plan.contains("contacts_f_employees"), "{plan}");
}
