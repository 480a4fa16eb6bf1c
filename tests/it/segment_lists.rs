//! Static lists filled in one go (a filter's whole result through the API, the contacts
//! table's multi-select and "add all results" through the pages), and the CSV export of a
//! segment's members: quoting, neutralised cells, extra fields, visibility, paging.

use std::collections::HashMap;

use kartoteka_core::contacts::{Access, Grantee};
use kartoteka_tests::*;

fn f(field: &str, op: &str, value: Value) -> Value {
    json!({"field": field, "op": op, "value": value})
}

async fn contact(app: &TestApp, token: &str, body: Value) -> i64 {
    let mut body = body;
    if body.get("type").is_none() {
        body["type"] = json!("client");
    }
    id(&app.create_contact(token, &body).await)
}

async fn segment(app: &TestApp, token: &str, body: Value) -> i64 {
    let (status, seg) = app.post_json(token, "/api/v1/segments", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{seg}");
    id(&seg)
}

async fn static_list(app: &TestApp, token: &str, name: &str) -> i64 {
    segment(app, token, json!({"name": name, "kind": "static"})).await
}

/// `POST /segments/{id}/members` with `body`.
async fn add(app: &TestApp, token: &str, list: i64, body: Value) -> (StatusCode, Value) {
    app.post_json(token, &format!("/api/v1/segments/{list}/members"), &body)
        .await
}

/// The names of the members `token` sees, by name.
async fn member_names(app: &TestApp, token: &str, list: i64) -> Vec<String> {
    app.item_names(token, &format!("/api/v1/segments/{list}/members?limit=500"))
        .await
}

async fn count(app: &TestApp, token: &str, list: i64) -> u64 {
    let (status, seg) = app.get(token, &format!("/api/v1/segments/{list}")).await;
    assert_eq!(status, StatusCode::OK, "{seg}");
    seg["count"].as_u64().unwrap()
}

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

/// A CSV file read back: its header and rows.
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn parse(text: &str) -> Self {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut records = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect::<Vec<_>>());
        let header = records.next().expect("a header");
        let rows: Vec<Vec<String>> = records.collect();
        for row in &rows {
            assert_eq!(row.len(), header.len(), "{row:?}");
        }
        Csv { header, rows }
    }

    fn column(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.header))
    }

    /// The row of contact `id`, by column name.
    fn row(&self, id: i64) -> HashMap<String, String> {
        let row = self
            .rows
            .iter()
            .find(|r| r[0] == id.to_string())
            .unwrap_or_else(|| panic!("no row for contact {id}"));
        self.header.iter().cloned().zip(row.iter().cloned()).collect()
    }

    fn ids(&self) -> Vec<i64> {
        self.rows.iter().map(|r| r[0].parse().unwrap()).collect()
    }
}

/// `GET /api/v1/segments/{id}/members.csv`, checked to be a CSV download.
async fn export(app: &TestApp, token: &str, list: i64) -> (Reply, Csv) {
    let reply = app
        .send(
            reqwest::Method::GET,
            Some(token),
            &format!("/api/v1/segments/{list}/members.csv"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    let text = reply
        .text
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("the file starts with a UTF-8 byte order mark: {:?}", reply.text));
    let csv = Csv::parse(text);
    (reply, csv)
}

const CORE_COLUMNS: [&str; 14] = [
    "id",
    "kind",
    "type",
    "name",
    "email",
    "phone",
    "position",
    "company",
    "city",
    "region",
    "country",
    "postal_code",
    "owner",
    "joined_at",
];

both!(manual_clock, adds_a_filters_result_in_one_go: adds_a_filters_result_in_one_go_sqlite, adds_a_filters_result_in_one_go_postgres);
async fn adds_a_filters_result_in_one_go(app: TestApp) {
    let (_, token) = app.admin().await;
    let anna = contact(&app, &token, json!({"name": "Anna", "city": "Kraków"})).await;
    let bartek = contact(&app, &token, json!({"name": "Bartek", "city": "Kraków"})).await;
    contact(&app, &token, json!({"name": "Celina", "city": "Łódź"})).await;
    let dorota = contact(&app, &token, json!({"name": "Dorota", "city": "Kraków"})).await;
    contact(&app, &token, json!({"name": "Ewa", "city": "Gdańsk"})).await;
    let list = static_list(&app, &token, "Newsletter").await;

    let (status, done) = add(&app, &token, list, json!({"contact_ids": [anna]})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!((done["joined"].as_u64(), done["already"].as_u64()), (Some(1), Some(0)));
    let anna_joined = manual_clock_start();
    app.clock().advance(chrono::Duration::hours(1));

    // Every Cracovian in one go; Anna was in already and keeps her join time.
    let cracow = f("city", "eq", json!("Kraków"));
    let (status, done) = add(&app, &token, list, json!({"filter": cracow})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["joined"], 2, "{done}");
    assert_eq!(done["already"], 1, "{done}");
    assert_eq!(done["left"], 0, "{done}");
    assert_eq!(done["count"], 3, "{done}");
    assert_eq!(member_names(&app, &token, list).await, ["Anna", "Bartek", "Dorota"]);
    assert_eq!(events(&app, list).await, (3, 0));
    let (_, csv) = export(&app, &token, list).await;
    let joined_at = |id: i64| csv.row(id)["joined_at"].clone();
    let later = anna_joined + chrono::Duration::hours(1);
    assert_eq!(
        joined_at(anna),
        anna_joined.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(
        joined_at(bartek),
        later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(
        joined_at(dorota),
        later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );

    // The same again changes nothing and records nothing.
    let (_, done) = add(&app, &token, list, json!({"filter": cracow})).await;
    assert_eq!(
        (done["joined"].as_u64(), done["already"].as_u64()),
        (Some(0), Some(3)),
        "{done}"
    );
    assert_eq!(events(&app, list).await, (3, 0));

    // A search narrows the filter; `{}` is every contact.
    let (_, done) = add(&app, &token, list, json!({"filter": {}, "q": "lodz"})).await;
    assert_eq!(
        (done["joined"].as_u64(), done["count"].as_u64()),
        (Some(1), Some(4)),
        "{done}"
    );
    assert_eq!(
        member_names(&app, &token, list).await,
        ["Anna", "Bartek", "Celina", "Dorota"]
    );

    // A filter decided by its plugin after the database (a residual).
    for (name, lat, lon) in [("Near", 50.10, 19.90), ("Corner", 50.55, 20.65), ("Far", 52.23, 21.01)] {
        contact(&app, &token, json!({"name": name, "latitude": lat, "longitude": lon})).await;
    }
    let around = static_list(&app, &token, "Around Kraków").await;
    let near =
        |km: f64| json!({"filter": f("location", "within_distance", json!({"lat": 50.06, "lon": 19.94, "km": km}))});
    let (status, done) = add(&app, &token, around, near(60.0)).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        (done["joined"].as_u64(), done["already"].as_u64()),
        (Some(1), Some(0)),
        "{done}"
    );
    let (_, done) = add(&app, &token, around, near(90.0)).await;
    assert_eq!(
        (done["joined"].as_u64(), done["already"].as_u64()),
        (Some(1), Some(1)),
        "{done}"
    );
    assert_eq!(member_names(&app, &token, around).await, ["Corner", "Near"]);
    assert_eq!(events(&app, around).await, (2, 0));

    // Only static lists take members by hand; a list that doesn't exist is not found.
    let dynamic = segment(
        &app,
        &token,
        json!({"name": "Cracovians", "kind": "dynamic", "filter": cracow}),
    )
    .await;
    let refused = add(&app, &token, dynamic, json!({"filter": {}})).await;
    assert_error(&refused, StatusCode::CONFLICT, "conflict");
    let missing = add(&app, &token, 987_654, json!({"filter": {}})).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
}

both!(a_managers_addition_is_what_the_manager_sees: a_managers_addition_is_what_the_manager_sees_sqlite, a_managers_addition_is_what_the_manager_sees_postgres);
async fn a_managers_addition_is_what_the_manager_sees(app: TestApp) {
    let (admin, admin_token) = app.admin().await;
    let (manager, manager_token) = app.user(Role::Manager).await;
    let (_, agent_token) = app.agent().await;
    let kr = |name: &str, owner: Option<i64>| {
        let mut body = json!({"name": name, "city": "Kraków"});
        if let Some(owner) = owner {
            body["owner"] = json!(owner);
        }
        body
    };
    contact(&app, &admin_token, kr("Mine 1", Some(manager.id))).await;
    contact(&app, &admin_token, kr("Mine 2", Some(manager.id))).await;
    contact(&app, &admin_token, kr("Hidden 1", None)).await;
    let hidden = contact(&app, &admin_token, kr("Hidden 2", None)).await;
    let granted = contact(&app, &admin_token, kr("Granted", None)).await;
    app.core()
        .contacts()
        .grant_access(&admin.actor(), granted, Grantee::User(manager.id), Access::Read)
        .await
        .unwrap();
    let list = static_list(&app, &admin_token, "Fair").await;

    let cracow = json!({"filter": f("city", "eq", json!("Kraków"))});
    let (status, done) = add(&app, &manager_token, list, cracow.clone()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        (done["joined"].as_u64(), done["already"].as_u64()),
        (Some(3), Some(0)),
        "{done}"
    );
    assert_eq!(done["count"], 3, "{done}");
    // What the manager doesn't see stayed out, whoever looks.
    assert_eq!(
        member_names(&app, &admin_token, list).await,
        ["Granted", "Mine 1", "Mine 2"]
    );
    assert_eq!(count(&app, &admin_token, list).await, 3);

    // An admin's addition is the whole base.
    let (_, done) = add(&app, &admin_token, list, cracow.clone()).await;
    assert_eq!(
        (done["joined"].as_u64(), done["already"].as_u64()),
        (Some(2), Some(3)),
        "{done}"
    );

    // Agents don't change lists; a manager can't add a contact they don't see by id.
    let denied = add(&app, &agent_token, list, cracow).await;
    assert_error(&denied, StatusCode::FORBIDDEN, "forbidden");
    let other = static_list(&app, &admin_token, "Other").await;
    let unseen = add(&app, &manager_token, other, json!({"contact_ids": [hidden]})).await;
    assert_invalid(&unseen, "contact_ids[0]");
    assert_eq!(count(&app, &admin_token, other).await, 0);
    assert_eq!(count(&app, &admin_token, list).await, 5);
}

both!(bad_additions_are_400_at_their_path: bad_additions_are_400_at_their_path_sqlite, bad_additions_are_400_at_their_path_postgres);
async fn bad_additions_are_400_at_their_path(app: TestApp) {
    let (_, token) = app.admin().await;
    let a = contact(&app, &token, json!({"name": "Anna", "city": "Kraków"})).await;
    let list = static_list(&app, &token, "Newsletter").await;
    let cracow = f("city", "eq", json!("Kraków"));
    for (body, path) in [
        (json!({"contact_ids": [a], "filter": cracow}), "filter"),
        (json!({}), "contact_ids"),
        (json!({"filter": null}), "contact_ids"),
        (json!({"q": "anna"}), "contact_ids"),
        (json!({"contact_ids": [a], "q": "anna"}), "q"),
        (json!({"contact_ids": "all"}), "contact_ids"),
        (json!({"contact_ids": [a, "b"]}), "contact_ids[1]"),
        (json!({"filter": f("nope", "eq", json!(1))}), "filter.field"),
        (
            json!({"filter": {"and": [cracow, f("score", "gt", json!("much"))]}}),
            "filter.and[1].value",
        ),
        (json!({"filter": "city = Kraków"}), "filter"),
        (json!({"filter": cracow, "q": "x".repeat(501)}), "q"),
        (json!({"filter": cracow, "q": 7}), "q"),
    ] {
        let reply = add(&app, &token, list, body.clone()).await;
        assert_invalid(&reply, path);
        let _ = body;
    }
    let unknown = add(&app, &token, list, json!({"filter": cracow, "limit": 5})).await;
    assert_error(&unknown, StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(count(&app, &token, list).await, 0);
    assert_eq!(events(&app, list).await, (0, 0));
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

/// Follows a form's redirect and returns the notice the page shows.
async fn notice_after(app: &TestApp, client: &reqwest::Client, reply: &Reply) -> Option<String> {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    let back = reply.location().expect("a redirect");
    let page = app.page(client, &back).await;
    assert_eq!(page.status, StatusCode::OK, "{back}: {}", page.text);
    element_text(&page.text, "notice").map(|t| unescape_html(&t))
}

both!(the_contacts_table_adds_to_a_list: the_contacts_table_adds_to_a_list_sqlite, the_contacts_table_adds_to_a_list_postgres);
async fn the_contacts_table_adds_to_a_list(app: TestApp) {
    let (admin, token) = app.admin().await;
    let a = contact(&app, &token, json!({"name": "Anna", "city": "Kraków"})).await;
    let b = contact(&app, &token, json!({"name": "Bartek", "city": "Kraków"})).await;
    let c = contact(&app, &token, json!({"name": "Celina", "city": "Kraków"})).await;
    let d = contact(&app, &token, json!({"name": "Dorota", "city": "Łódź"})).await;
    let newsletter = static_list(&app, &token, "Newsletter").await;
    segment(
        &app,
        &token,
        json!({"name": "Cracovians", "kind": "dynamic", "filter": f("city", "eq", json!("Kraków"))}),
    )
    .await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;

    // A checkbox per row and one for the page, all inputs of the add form; only static
    // lists are offered.
    let page = app.page(&client, "/contacts?sort=name").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("<form id=\"list-add\""), "{}", page.text);
    for id in [a, b, c, d] {
        assert!(
            page.text
                .contains(&format!("name=\"contact_ids\" value=\"{id}\" form=\"list-add\"")),
            "a checkbox for {id}"
        );
        assert!(
            page.text
                .contains(&format!("name=\"page_ids\" value=\"{id}\" form=\"list-add\""))
        );
    }
    assert!(page.text.contains("name=\"all_on_page\""));
    assert_eq!(select_options(&page.text, "segment"), [newsletter.to_string()]);
    assert_eq!(hidden_input(&page.text, "back").as_deref(), Some("/contacts?sort=name"));
    assert!(page.text.contains("Add all 4 results to list"), "{}", page.text);

    let post = |form: Vec<(&'static str, String)>| {
        let app = &app;
        let client = &client;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.submit(client, "/contacts/add-to-list", &pairs).await
        }
    };
    let base = |scope: &str, list: i64| {
        vec![
            ("csrf_token", csrf.clone()),
            ("segment", list.to_string()),
            ("scope", scope.to_owned()),
            ("back", "/contacts?sort=name".to_owned()),
        ]
    };

    // The ticked rows join; the page comes back with a message, once.
    let mut form = base("selected", newsletter);
    form.extend([("contact_ids", a.to_string()), ("contact_ids", b.to_string())]);
    let reply = post(form).await;
    assert_eq!(reply.location().as_deref(), Some("/contacts?sort=name"));
    assert_eq!(
        notice_after(&app, &client, &reply).await.as_deref(),
        Some("2 added to Newsletter")
    );
    let again = app.page(&client, "/contacts?sort=name").await;
    assert!(element_text(&again.text, "notice").is_none(), "the message shows once");
    let mut form = base("selected", newsletter);
    form.extend([("contact_ids", a.to_string()), ("contact_ids", c.to_string())]);
    assert_eq!(
        notice_after(&app, &client, &post(form).await).await.as_deref(),
        Some("1 added to Newsletter, 1 was already in it")
    );
    assert_eq!(
        member_names(&app, &token, newsletter).await,
        ["Anna", "Bartek", "Celina"]
    );

    // Without the session's CSRF token nothing happens.
    for bad in [None, Some("forged")] {
        let mut form: Vec<(&str, String)> = base("selected", newsletter)
            .into_iter()
            .filter(|(k, _)| *k != "csrf_token")
            .collect();
        if let Some(token) = bad {
            form.push(("csrf_token", token.to_owned()));
        }
        form.push(("contact_ids", d.to_string()));
        let reply = post(form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    }
    assert_eq!(count(&app, &token, newsletter).await, 3);

    // "Select all on this page" adds the page, whatever the row boxes say.
    let everyone = static_list(&app, &token, "Everyone").await;
    let mut form = base("selected", everyone);
    form.push(("all_on_page", "1".to_owned()));
    for id in [a, b, c, d] {
        form.push(("page_ids", id.to_string()));
    }
    assert_eq!(
        notice_after(&app, &client, &post(form).await).await.as_deref(),
        Some("4 added to Everyone")
    );

    // "Add all results" posts the page's filter and search: the whole result joins.
    let lodz = static_list(&app, &token, "Łódź & co").await;
    let filter = f("city", "in_list", json!(["Łódź", "Kraków"])).to_string();
    let path = format!("/contacts?sort=name&q=celina&filter={}", urlencode(&filter));
    let page = app.page(&client, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Add the 1 result to list"), "{}", page.text);
    let back = hidden_input(&page.text, "back").unwrap();
    assert_eq!(back, path);
    let mut form = base("all", lodz);
    form.retain(|(k, _)| *k != "back");
    form.extend([
        ("back", back.clone()),
        ("filter", hidden_input(&page.text, "filter").unwrap()),
        ("q", hidden_input(&page.text, "q").unwrap()),
    ]);
    let reply = post(form).await;
    assert_eq!(reply.location(), Some(back));
    assert_eq!(
        notice_after(&app, &client, &reply).await.as_deref(),
        Some("1 added to Łódź & co")
    );
    assert_eq!(member_names(&app, &token, lodz).await, ["Celina"]);

    // Nothing ticked, or no list: a 400 saying what is missing; a foreign `back` is not
    // followed.
    let reply = post(base("selected", newsletter)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text.contains("contact_ids"), "{}", reply.text);
    let mut form = base("selected", newsletter);
    form.retain(|(k, _)| *k != "segment");
    form.push(("contact_ids", d.to_string()));
    let reply = post(form).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text.contains("segment"), "{}", reply.text);
    let mut form = base("selected", newsletter);
    form.retain(|(k, _)| *k != "back");
    form.extend([
        ("back", "https://evil.example/".to_owned()),
        ("contact_ids", d.to_string()),
    ]);
    let reply = post(form).await;
    assert_eq!(reply.location().as_deref(), Some("/contacts"));
    assert_eq!(
        notice_after(&app, &client, &reply).await.as_deref(),
        Some("1 added to Newsletter")
    );

    // A row's Remove button takes it out of the list the table shows.
    let reply = app
        .submit(
            &client,
            "/contacts/remove-from-list",
            &[
                ("csrf_token", csrf.as_str()),
                ("segment", &newsletter.to_string()),
                ("contact_ids", &a.to_string()),
                ("back", &format!("/segments/{newsletter}")),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location(), Some(format!("/segments/{newsletter}")));
    assert_eq!(
        member_names(&app, &token, newsletter).await,
        ["Bartek", "Celina", "Dorota"]
    );
    assert_eq!(events(&app, newsletter).await, (4, 1));
    // That message is for the segment's page, not the contacts page.
    let contacts = app.page(&client, "/contacts").await;
    assert!(element_text(&contacts.text, "notice").is_none(), "{}", contacts.text);

    // "Select all" ticks the boxes when scripts run; the page works without.
    assert!(
        page.text
            .contains("<script src=\"/assets/table-select.js\" defer></script>")
    );
    let script = app.page(&client, "/assets/table-select.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.header("content-type").unwrap().starts_with("text/javascript"));
    assert!(script.text.contains("data-select-all"));

    // Agents see no list controls and can't post them.
    let (agent, _) = app.agent().await;
    let (agent_client, agent_csrf) = app.signed_in_client(&agent.email, PASSWORD).await;
    contact(&app, &token, json!({"name": "Agent Smith", "owner": agent.id})).await;
    let page = app.page(&agent_client, "/contacts").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains("list-add"), "{}", page.text);
    assert!(!page.text.contains("name=\"contact_ids\""));
    assert!(!page.text.contains("table-select.js"));
    assert_eq!(row_ids(&page.text).len(), 1, "the agent's one contact");
    let reply = app
        .submit(
            &agent_client,
            "/contacts/add-to-list",
            &[
                ("csrf_token", agent_csrf.as_str()),
                ("segment", &newsletter.to_string()),
                ("scope", "all"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text);
    assert_eq!(count(&app, &token, newsletter).await, 3);
}

/// Sets a text column straight in the database: values the API refuses today (control
/// characters) may still come from older data or an import.
async fn set_raw(app: &TestApp, id: i64, column: kartoteka_core::entities::contacts::Column, value: &str) {
    use kartoteka_core::entities::contacts;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    contacts::Entity::update_many()
        .col_expr(column, Expr::value(value))
        .filter(contacts::Column::Id.eq(id))
        .exec(app.core().db())
        .await
        .unwrap();
}

both!(segment_csv_neutralises_and_quotes: segment_csv_neutralises_and_quotes_sqlite, segment_csv_neutralises_and_quotes_postgres);
async fn segment_csv_neutralises_and_quotes(app: TestApp) {
    use kartoteka_core::entities::contacts::Column;
    let (admin, token) = app.admin().await;
    for field in [
        json!({"key": "budget", "label": "Budget", "kind": "number"}),
        json!({"key": "tags", "label": "Tags", "kind": "multiselect", "options": ["a,b", "c", "=cmd"]}),
        json!({"key": "notes", "label": "Notes", "kind": "long_text"}),
    ] {
        let (status, body) = app.post_json(&token, "/api/v1/fields", &field).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let acme = contact(&app, &token, json!({"kind": "company", "name": "Acme, Inc. \"East\""})).await;
    let formula = contact(&app, &token, json!({"name": "=1+1", "city": "Łódź"})).await;
    let plus = contact(&app, &token, json!({"name": "+x", "phone": "+48 12 345 67 89"})).await;
    let minus = contact(&app, &token, json!({"name": "-x", "fields": {"budget": -5}})).await;
    let at = contact(&app, &token, json!({"name": "@x", "fields": {"tags": ["=cmd"]}})).await;
    let plain = contact(
        &app,
        &token,
        json!({
            "name": "Plain Person", "email": "plain@example.com", "position": "Quote \"me\", please",
            "company_id": acme, "city": "Kraków", "region": "małopolskie", "country": "PL",
            "postal_code": "30-001",
            "fields": {"budget": 12.5, "tags": ["a,b", "c"], "notes": "line 1\nline 2"}
        }),
    )
    .await;
    let tab = contact(&app, &token, json!({"name": "Tab"})).await;
    let cr = contact(&app, &token, json!({"name": "Carriage return"})).await;
    set_raw(&app, tab, Column::Position, "\tx").await;
    set_raw(&app, cr, Column::Position, "\rx").await;
    set_raw(&app, cr, Column::Region, "a\u{1}b\u{1b}c").await;
    let list = static_list(&app, &token, "VIP & co.").await;
    let (status, done) = add(
        &app,
        &token,
        list,
        json!({"filter": {"field": "kind", "op": "eq", "value": "person"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["joined"], 7);

    let (reply, csv) = export(&app, &token, list).await;
    assert_eq!(
        reply.header("content-disposition").as_deref(),
        Some("attachment; filename=\"vip-co.csv\"")
    );
    let mut header: Vec<&str> = CORE_COLUMNS.to_vec();
    header.extend(["fields.budget", "fields.tags", "fields.notes"]);
    assert_eq!(csv.header, header);
    assert!(
        reply.text.starts_with(&format!("\u{feff}{}\r\n", header.join(","))),
        "{}",
        reply.text
    );
    assert_eq!(csv.ids(), [formula, plus, minus, at, plain, tab, cr], "by contact id");

    // Cells a spreadsheet would run get a leading quote.
    assert_eq!(csv.row(formula)["name"], "'=1+1");
    assert_eq!(csv.row(formula)["city"], "Łódź");
    assert_eq!(csv.row(plus)["name"], "'+x");
    assert_eq!(csv.row(plus)["phone"], "'+48 12 345 67 89");
    assert_eq!(csv.row(minus)["name"], "'-x");
    assert_eq!(csv.row(at)["name"], "'@x");
    assert_eq!(csv.row(at)["fields.tags"], "'=cmd");
    assert_eq!(csv.row(tab)["position"], "'\tx");
    assert_eq!(csv.row(cr)["position"], "'\rx");
    // Other control characters are dropped; numbers stay numbers.
    assert_eq!(csv.row(cr)["region"], "abc");
    assert_eq!(csv.row(minus)["fields.budget"], "-5");

    // Quoting keeps commas, quotes and line breaks in their cells.
    let p = csv.row(plain);
    assert_eq!(p["position"], "Quote \"me\", please");
    assert!(reply.text.contains("\"Quote \"\"me\"\", please\""), "{}", reply.text);
    assert_eq!(p["company"], "Acme, Inc. \"East\"");
    assert_eq!(p["fields.notes"], "line 1\nline 2");
    assert_eq!(p["fields.tags"], "a,b; c");
    assert_eq!(p["fields.budget"], "12.5");
    assert_eq!(p["kind"], "person");
    assert_eq!(p["type"], "Client", "the type's label, not its key");
    assert_eq!(p["email"], "plain@example.com");
    assert_eq!(p["region"], "małopolskie");
    assert_eq!(p["country"], "PL");
    assert_eq!(p["postal_code"], "30-001");
    assert_eq!(p["owner"], admin.email);
    assert!(
        DateTime::parse_from_rfc3339(&p["joined_at"]).is_ok(),
        "{}",
        p["joined_at"]
    );
    let _ = csv.column("joined_at");

    // The page route gives the same file to the signed-in user.
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let page = app.page(&client, &format!("/segments/{list}/export.csv")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert_eq!(
        page.header("content-disposition").as_deref(),
        Some("attachment; filename=\"vip-co.csv\"")
    );
    assert_eq!(page.text, reply.text);

    // No such segment; no token; no session.
    let missing = app.get(&token, "/api/v1/segments/987654/members.csv").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    let anonymous = app
        .send(
            reqwest::Method::GET,
            None,
            &format!("/api/v1/segments/{list}/members.csv"),
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let signed_out = app
        .page(&app.web_client(), &format!("/segments/{list}/export.csv"))
        .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert!(signed_out.location().unwrap().starts_with("/login"));
}

both!(csv_export_pages_through_what_the_reader_sees: csv_export_pages_through_what_the_reader_sees_sqlite, csv_export_pages_through_what_the_reader_sees_postgres);
async fn csv_export_pages_through_what_the_reader_sees(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    // More members than three export chunks hold, owned by the admin and the agent.
    let options = kartoteka_core::demo::DemoOptions {
        people: 2_300,
        companies: 20,
        activities_per_contact: 0,
        seed: 7,
        owner_ids: vec![admin.id, agent.id],
    };
    kartoteka_core::demo::load(app.core().db(), manual_clock_start(), &options, &|_, _| {})
        .await
        .unwrap();
    let list = static_list(&app, &token, "Everyone").await;
    let (status, done) = add(&app, &token, list, json!({"filter": {}})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["joined"], 2_320);

    let (_, all) = export(&app, &token, list).await;
    let ids = all.ids();
    assert_eq!(ids.len(), 2_320);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order, each once");

    // The agent's file holds exactly their contacts.
    let seen = count(&app, &agent_token, list).await;
    assert!(seen > 0 && seen < 2_320, "{seen}");
    let (_, theirs) = export(&app, &agent_token, list).await;
    assert_eq!(theirs.rows.len() as u64, seen);
    let owner = theirs.column("owner");
    assert!(theirs.rows.iter().all(|r| r[owner] == agent.email));
    let (client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    let page = app.page(&client, &format!("/segments/{list}/export.csv")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(Csv::parse(&page.text).ids(), theirs.ids());
}
