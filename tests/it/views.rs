//! Saved views (per user and shared, through the API and the contacts page, with list /
//! table / tiles and the last one reopened), the export of a view to CSV and Excel, and
//! card layouts per contact type (inherited by subtypes, followed by the card and the
//! edit form, edited on their page).

use std::collections::HashSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use kartoteka_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Three contacts in two cities with an NPS, as `token`'s user; their ids by name.
async fn three_contacts(app: &TestApp, token: &str) -> (i64, i64, i64) {
    let (status, body) = app
        .post_json(
            token,
            "/api/v1/fields",
            &json!({"key": "nps", "label": "NPS", "kind": "integer"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let anna = app
        .create_contact(
            token,
            &json!({"type": "client", "name": "Anna Łęcka", "city": "Kraków", "fields": {"nps": 9}}),
        )
        .await;
    let bartek = app
        .create_contact(
            token,
            &json!({"type": "client", "name": "Bartek Nowak", "city": "Kraków", "fields": {"nps": 3}}),
        )
        .await;
    let celina = app
        .create_contact(
            token,
            &json!({"type": "client", "name": "Celina Wrona", "city": "Gdańsk"}),
        )
        .await;
    (id(&anna), id(&bartek), id(&celina))
}

/// A reply as the status and its JSON body (`null` for none).
fn pair(reply: Reply) -> (StatusCode, Value) {
    let body = serde_json::from_str(&reply.text).unwrap_or(Value::Null);
    (reply.status, body)
}

fn krakow() -> Value {
    json!({"field": "city", "op": "eq", "value": "Kraków"})
}

fn names(items: &Value) -> Vec<String> {
    items["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect()
}

both!(views_are_kept_per_user_and_shared: views_are_kept_per_user_and_shared_sqlite, views_are_kept_per_user_and_shared_postgres);
async fn views_are_kept_per_user_and_shared(app: TestApp) {
    let (_, admin) = app.admin().await;
    let (_, manager) = app.user(Role::Manager).await;
    let (_, agent1) = app.agent().await;
    let (_, agent2) = app.agent().await;
    three_contacts(&app, &admin).await;

    // A manager shares a view; it comes back as sent.
    let (status, shared) = app
        .post_json(
            &manager,
            "/api/v1/views",
            &json!({"name": "Kraków", "shared": true, "mode": "tiles", "columns": ["name", "city", "fields.nps", "last_activity"],
                    "sort": "-created_at", "filter": krakow()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{shared}");
    assert_eq!(shared["mode"], "tiles");
    assert_eq!(
        shared["columns"],
        json!(["name", "city", "fields.nps", "last_activity"])
    );
    assert_eq!(shared["filter"], krakow());
    assert_eq!(shared["can_edit"], true);
    let shared_id = id(&shared);

    // An agent's own view: the plain table by name unless told otherwise.
    let (status, mine) = app.post_json(&agent1, "/api/v1/views", &json!({"name": "Mine"})).await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    assert_eq!(mine["mode"], "table");
    assert_eq!(mine["sort"], "name");
    assert_eq!(mine["columns"][0], "name");
    let mine_id = id(&mine);

    // The other agent sees the shared view, not the first agent's.
    let (_, list) = app.get(&agent2, "/api/v1/views").await;
    let seen: Vec<i64> = ids(list["items"].as_array().unwrap());
    assert_eq!(seen, vec![shared_id]);
    assert_eq!(list["items"][0]["can_edit"], false);
    assert_eq!(
        app.get(&agent2, &format!("/api/v1/views/{mine_id}")).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, list) = app.get(&agent1, "/api/v1/views").await;
    assert_eq!(
        ids(list["items"].as_array().unwrap()),
        vec![mine_id, shared_id],
        "own first"
    );

    // Only managers and admins share; only the maker (or an admin) changes a shared view.
    let refused = app
        .post_json(&agent1, "/api/v1/views", &json!({"name": "Everyone", "shared": true}))
        .await;
    assert_invalid(&refused, "shared");
    let forbidden = app
        .patch_json(
            &agent2,
            &format!("/api/v1/views/{shared_id}"),
            &json!({"name": "Mine now"}),
        )
        .await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        app.delete(&agent2, &format!("/api/v1/views/{shared_id}")).await.0,
        StatusCode::FORBIDDEN
    );
    let renamed = app
        .patch_json(
            &admin,
            &format!("/api/v1/views/{shared_id}"),
            &json!({"name": "Kraków team"}),
        )
        .await;
    assert_eq!(renamed.0, StatusCode::OK, "{}", renamed.1);
    assert_eq!(renamed.1["name"], "Kraków team");
    assert_eq!(renamed.1["filter"], krakow(), "a change keeps what it doesn't send");

    // Every problem at once, each at its path.
    let (status, body) = app
        .post_json(
            &agent1,
            "/api/v1/views",
            &json!({"name": "  ", "mode": "grid", "columns": ["name", "fields.ghost", "name"], "sort": "-email",
                    "filter": {"field": "nope", "op": "eq", "value": 1}, "colour": "red"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let paths: HashSet<String> = error_paths(&body).into_iter().collect();
    for path in ["name", "mode", "columns[1]", "columns[2]", "sort", "colour"] {
        assert!(paths.contains(path), "{path} in {paths:?}");
    }
    assert!(
        paths.iter().any(|p| p.starts_with("filter")),
        "a filter path in {paths:?}"
    );
    let again = app.post_json(&agent1, "/api/v1/views", &json!({"name": "mine"})).await;
    assert_invalid(&again, "name");

    // The contacts of a view, in its order; a parameter overrides the view's.
    let (status, page) = app.get(&admin, &format!("/api/v1/contacts?view={shared_id}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(names(&page), ["Bartek Nowak", "Anna Łęcka"]);
    let (_, page) = app
        .get(&admin, &format!("/api/v1/contacts?view={shared_id}&sort=name"))
        .await;
    assert_eq!(names(&page), ["Anna Łęcka", "Bartek Nowak"]);
    assert_eq!(
        app.get(&agent1, &format!("/api/v1/contacts?view={}", mine_id + 1000))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // An agent opening the shared view sees only their own contacts in it.
    let (_, page) = app.get(&agent2, &format!("/api/v1/contacts?view={shared_id}")).await;
    assert_eq!(names(&page), Vec::<String>::new());

    // Deleting.
    assert_eq!(
        app.delete(&admin, &format!("/api/v1/views/{shared_id}")).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&manager, &format!("/api/v1/views/{shared_id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

both!(the_contacts_page_shows_and_saves_views: the_contacts_page_shows_and_saves_views_sqlite, the_contacts_page_shows_and_saves_views_postgres);
async fn the_contacts_page_shows_and_saves_views(app: TestApp) {
    let (user, token) = app.admin().await;
    let (anna, bartek, celina) = three_contacts(&app, &token).await;
    let (_, view) = app
        .post_json(
            &token,
            "/api/v1/views",
            &json!({"name": "Kraków", "mode": "tiles", "columns": ["name", "city", "fields.nps", "last_activity"],
                    "sort": "-created_at", "filter": krakow()}),
        )
        .await;
    let view_id = id(&view);
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;

    // Tiles, with the tab's count and the layout's first fields.
    let page = app.page(&client, &format!("/contacts?view={view_id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let tab = unescape_html(&element_html(&page.text, &format!("view-{view_id}")).unwrap());
    assert!(tab.contains("aria-current") && tab.contains(">2<"), "{tab}");
    let all = element_html(&page.text, "view-all").unwrap();
    assert!(all.contains(">3<"), "{all}");
    let tiles = unescape_html(&element_html(&page.text, "contact-tiles").unwrap());
    assert!(
        tiles.find("Bartek Nowak").unwrap() < tiles.find("Anna Łęcka").unwrap(),
        "{tiles}"
    );
    assert!(tiles.contains("<dt>NPS</dt><dd>9</dd>"), "{tiles}");
    assert!(!tiles.contains("Celina"), "{tiles}");

    // The same view as a list and as a table.
    let list = app.page(&client, &format!("/contacts?view={view_id}&mode=list")).await;
    let lines = unescape_html(&element_html(&list.text, "contact-lines").unwrap());
    assert!(lines.contains("Anna Łęcka") && lines.contains("Kraków"), "{lines}");
    let table = app.page(&client, &format!("/contacts?view={view_id}&mode=table")).await;
    let html = unescape_html(&element_html(&table.text, "view-table").unwrap());
    assert_eq!(row_ids(&html), vec![bartek, anna]);
    assert!(html.contains("<td>9</td>"), "{html}");
    // Name sorts (an index serves it); NPS and the last activity say why they don't.
    assert!(html.contains("sort=name"), "{html}");
    assert!(
        html.contains("title=\"Not sortable: no index serves an order by an extra field\">NPS"),
        "{html}"
    );
    assert!(html.contains(">Last activity</th>"), "{html}");
    let by_name = app
        .page(&client, &format!("/contacts?view={view_id}&mode=table&sort=name"))
        .await;
    assert_eq!(
        row_ids(&element_html(&by_name.text, "view-table").unwrap()),
        vec![anna, bartek]
    );

    // A bare /contacts opens the view used last; `view=` is all contacts, remembered too.
    let bare = app.page(&client, "/contacts").await;
    assert!(
        element_html(&bare.text, &format!("view-{view_id}"))
            .unwrap()
            .contains("aria-current"),
        "the last view reopens"
    );
    let all = app.page(&client, "/contacts?view=").await;
    assert_eq!(row_ids(&element_html(&all.text, "view-table").unwrap()).len(), 3);
    let bare = app.page(&client, "/contacts").await;
    assert!(element_html(&bare.text, "view-all").unwrap().contains("aria-current"));

    // Saving the page's state as a new view, then opening it.
    let gdansk = json!({"field": "city", "op": "eq", "value": "Gdańsk"}).to_string();
    let saved = app
        .submit(
            &client,
            "/contacts/views",
            &[
                ("csrf_token", &csrf),
                ("name", "Gdańsk"),
                ("mode", "list"),
                ("cols", "name,city"),
                ("sort", "name"),
                ("q", ""),
                ("filter", &gdansk),
                ("back", "/contacts"),
            ],
        )
        .await;
    assert_eq!(
        saved.status,
        StatusCode::SEE_OTHER,
        "{}",
        element_html(&saved.text, "main").unwrap_or(saved.text.clone())
    );
    let location = saved.location().unwrap();
    let opened = app.page(&client, &location).await;
    let lines = element_html(&opened.text, "contact-lines").unwrap();
    assert!(
        lines.contains(&format!("data-id=\"{celina}\"")) && !lines.contains("Anna"),
        "{lines}"
    );
    assert!(element_text(&opened.text, "notice").unwrap().contains("Saved the view"));
    let (_, views) = app.get(&token, "/api/v1/views").await;
    let gdansk_view = views["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "Gdańsk")
        .unwrap()
        .clone();
    assert_eq!(gdansk_view["mode"], "list");
    assert_eq!(gdansk_view["columns"], json!(["name", "city"]));

    // A bad save says what to fix and keeps nothing.
    let bad = app
        .submit(
            &client,
            "/contacts/views",
            &[
                ("csrf_token", &csrf),
                ("name", ""),
                ("mode", "table"),
                ("cols", "name,ghost"),
                ("sort", "name"),
                ("back", "/contacts"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::SEE_OTHER);
    let back = app.page(&client, &bad.location().unwrap()).await;
    let notice = unescape_html(&element_text(&back.text, "notice").unwrap());
    assert!(
        notice.contains("name: must not be empty") && notice.contains("columns[1]: no column `ghost`"),
        "{notice}"
    );
    let (_, views) = app.get(&token, "/api/v1/views").await;
    assert_eq!(views["items"].as_array().unwrap().len(), 2);

    // Updating the open view to what the page shows, then deleting it.
    let update = |sort: &'static str| {
        let (app, client, csrf) = (&app, &client, &csrf);
        async move {
            let form = [
                ("csrf_token", csrf.as_str()),
                ("mode", "table"),
                ("cols", "name,fields.nps"),
                ("sort", sort),
                ("q", ""),
                ("filter", ""),
            ];
            let updated = app.submit(client, &format!("/contacts/views/{view_id}"), &form).await;
            assert_eq!(updated.status, StatusCode::SEE_OTHER);
            let page = app.page(client, &updated.location().unwrap()).await;
            unescape_html(&element_text(&page.text, "notice").unwrap())
        }
    };
    let notice = update("-fields.nps").await;
    assert!(
        notice.contains("sort: can't sort by `fields.nps`"),
        "an order no index serves is refused: {notice}"
    );
    assert!(update("-updated_at").await.contains("Updated the view"));
    let (_, view) = app.get(&token, &format!("/api/v1/views/{view_id}")).await;
    assert_eq!(view["columns"], json!(["name", "fields.nps"]));
    assert_eq!(view["filter"], Value::Null);
    // A field the view shows is removed: the view opens without it and says so.
    let (status, _) = pair(
        app.send(
            reqwest::Method::DELETE,
            Some(&token),
            "/api/v1/fields/nps?drop_values=true",
            None,
        )
        .await,
    );
    assert_eq!(status, StatusCode::NO_CONTENT);
    let opened = app.page(&client, &format!("/contacts?view={view_id}")).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.text);
    let warning = unescape_html(&element_text(&opened.text, "view-warning").unwrap());
    assert!(warning.contains("columns[1]: no extra field `nps`"), "{warning}");
    assert_eq!(row_ids(&element_html(&opened.text, "view-table").unwrap()).len(), 3);
    let deleted = app
        .submit(
            &client,
            &format!("/contacts/views/{view_id}/delete"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get(&token, &format!("/api/v1/views/{view_id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

both!(a_view_exports_to_csv_and_excel: a_view_exports_to_csv_and_excel_sqlite, a_view_exports_to_csv_and_excel_postgres);
async fn a_view_exports_to_csv_and_excel(app: TestApp) {
    let (user, token) = app.admin().await;
    three_contacts(&app, &token).await;
    app.create_contact(
        &token,
        &json!({"type": "client", "name": "=HYPERLINK(\"http://x\")", "city": "Kraków", "fields": {"nps": 5}}),
    )
    .await;
    let (_, view) = app
        .post_json(
            &token,
            "/api/v1/views",
            &json!({"name": "Kraków NPS", "columns": ["name", "city", "fields.nps", "kind"], "sort": "name", "filter": krakow()}),
        )
        .await;
    let view_id = id(&view);

    let csv = app
        .http_client()
        .get(app.url(&format!("/api/v1/contacts/export?format=csv&view={view_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(
        csv.headers()["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"krakow-nps.csv\""
    );
    let text = csv.text().await.unwrap();
    assert_eq!(
        text,
        "\u{feff}Name,City,NPS,Kind\r\n\"'=HYPERLINK(\"\"http://x\"\")\",Kraków,5,person\r\nAnna Łęcka,Kraków,9,person\r\nBartek Nowak,Kraków,3,person\r\n"
    );

    // The page's link exports the same, with the page's overrides (here: the search).
    let (client, _) = app.signed_in_client(&user.email, PASSWORD).await;
    let page = app.page(&client, &format!("/contacts?view={view_id}&q=anna")).await;
    let link = unescape_html(&element_html(&page.text, "export-csv").unwrap());
    let href = link
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let from_page = app.page(&client, &href).await;
    assert_eq!(from_page.status, StatusCode::OK, "{href}");
    assert_eq!(
        from_page.text,
        "\u{feff}Name,City,NPS,Kind\r\nAnna Łęcka,Kraków,9,person\r\n"
    );

    // Excel: typed cells, the same rows.
    let xlsx = app
        .http_client()
        .get(app.url(&format!("/api/v1/contacts/export?format=xlsx&view={view_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("Contacts 1").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[0],
        vec![
            Data::String("Name".into()),
            Data::String("City".into()),
            Data::String("NPS".into()),
            Data::String("Kind".into())
        ]
    );
    assert_eq!(
        rows[1][0],
        Data::String("=HYPERLINK(\"http://x\")".into()),
        "a string cell, never a formula"
    );
    assert_eq!(rows[2][0], Data::String("Anna Łęcka".into()));
    assert_eq!(rows[2][2], Data::Float(9.0));

    // The command line writes the same file, and the workbook from the extension.
    let dir = tempfile::tempdir().unwrap();
    let export = |out: std::path::PathBuf, view: String| {
        let mut command = tokio::process::Command::new(crate::cli::kartoteka_binary());
        command
            .args(["export", "contacts", "--view", &view, "--out"])
            .arg(out)
            .args(["--as", &user.email])
            .env("KARTOTEKA_DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "warn");
        command.output()
    };
    let csv_file = dir.path().join("view.csv");
    let done = export(csv_file.clone(), view_id.to_string()).await.unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{stderr}");
    assert!(stderr.contains("3 contacts written to"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&csv_file).unwrap(), text);
    let xlsx_file = dir.path().join("view.xlsx");
    assert!(
        export(xlsx_file.clone(), view_id.to_string())
            .await
            .unwrap()
            .status
            .success()
    );
    let mut book: Xlsx<_> = calamine::open_workbook(&xlsx_file).unwrap();
    assert_eq!(book.worksheet_range("Contacts 1").unwrap().rows().count(), 4);
    let missing = export(dir.path().join("x.csv"), (view_id + 100).to_string())
        .await
        .unwrap();
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("view not found"));

    // A bad request says what to fix.
    let bad = app
        .get(&token, &format!("/api/v1/contacts/export?format=pdf&view={view_id}"))
        .await;
    assert_invalid(&bad, "format");
    let bad = app
        .get(&token, "/api/v1/contacts/export?format=csv&cols=name,ghost")
        .await;
    assert_invalid(&bad, "columns[1]");

    // An agent's export holds what the agent sees.
    let (_, agent) = app.agent().await;
    app.create_contact(
        &agent,
        &json!({"type": "client", "name": "Own Contact", "city": "Kraków"}),
    )
    .await;
    let text = app
        .http_client()
        .get(app.url("/api/v1/contacts/export?format=csv&cols=name"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "\u{feff}Name\r\nOwn Contact\r\n");
}

both!(card_layouts_are_inherited_and_keep_every_field: card_layouts_are_inherited_and_keep_every_field_sqlite, card_layouts_are_inherited_and_keep_every_field_postgres);
async fn card_layouts_are_inherited_and_keep_every_field(app: TestApp) {
    let (user, token) = app.admin().await;
    for field in [
        json!({"key": "budget", "label": "Budget", "kind": "money", "applies_to": ["lead"]}),
        json!({"key": "nps", "label": "NPS", "kind": "integer"}),
        json!({"key": "source", "label": "Source", "kind": "text"}),
    ] {
        let (status, body) = app.post_json(&token, "/api/v1/fields", &field).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = app.get(&token, "/api/v1/contact-types/hot/layout").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["source"], "default");
    assert_eq!(
        body["sections"],
        json!([{"title": "Fields", "fields": ["budget", "nps", "source"]}])
    );

    // Every problem of a layout at once.
    let (status, bad) = pair(app.send(
            reqwest::Method::PUT,
            Some(&token),
            "/api/v1/contact-types/lead/layout",
            Some(&json!({"sections": [{"title": "", "fields": ["budget", "ghost"]}, {"title": "Money", "fields": ["budget"]}]})),
        ).await);
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(
        error_paths(&bad),
        ["sections[0].title", "sections[0].fields[1]", "sections[1].fields[0]"]
    );
    let (_, agent) = app.agent().await;
    let layout = json!({"sections": [{"title": "Sales", "fields": ["budget", "nps"]}]});
    let (status, _) = pair(
        app.send(
            reqwest::Method::PUT,
            Some(&agent),
            "/api/v1/contact-types/lead/layout",
            Some(&layout),
        )
        .await,
    );
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Lead's layout, followed by Hot.
    let (status, body) = pair(
        app.send(
            reqwest::Method::PUT,
            Some(&token),
            "/api/v1/contact-types/lead/layout",
            Some(&layout),
        )
        .await,
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["source"], "own");
    let (_, hot) = app.get(&token, "/api/v1/contact-types/hot/layout").await;
    assert_eq!(hot["source"], "inherited");
    assert_eq!(hot["inherited_from"], "lead");
    assert_eq!(hot["other_fields"], json!(["source"]));

    // The card: the section in order, the field outside it under "Other fields".
    let contact = app
        .create_contact(
            &token,
            &json!({"type": "hot", "name": "Hot Lead", "fields": {"nps": 8, "budget": 1200, "source": "fair"}}),
        )
        .await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;
    let card = app.page(&client, &format!("/contacts/{}", id(&contact))).await;
    let fields = unescape_html(&element_html(&card.text, "extra-fields").unwrap());
    let sales = fields.find("<h3>Sales</h3>").expect("the Sales section");
    let budget = fields.find("<dt>Budget</dt>").unwrap();
    let nps = fields.find("<dt>NPS</dt>").unwrap();
    let other = fields.find("Other fields (1)").expect("Other fields");
    let source = fields.find("<dt>Source</dt><dd>fair</dd>").unwrap();
    assert!(
        sales < budget && budget < nps && nps < other && other < source,
        "{fields}"
    );

    // The edit form: the same sections, every field still there.
    let form = app.page(&client, &format!("/contacts/{}/edit", id(&contact))).await;
    let sales = form.text.find("data-section=\"Sales\"").unwrap();
    let budget = form.text.find("data-field=\"f.budget\"").unwrap();
    let nps = form.text.find("data-field=\"f.nps\"").unwrap();
    let other = form.text.find("data-section=\"Other fields\"").unwrap();
    let source = form.text.find("data-field=\"f.source\"").unwrap();
    assert!(sales < budget && budget < nps && nps < other && other < source);

    // The editor: add a section, place a field in it, move it up, save; Hot has its own.
    let editor = app.page(&client, "/contact-types/hot/layout").await;
    assert_eq!(editor.status, StatusCode::OK, "{}", editor.text);
    assert!(unescape_html(&editor.text).contains("inherited from Lead"));
    assert!(
        element_html(&editor.text, "layout-preview")
            .unwrap()
            .contains("Hot Lead"),
        "the preview shows a real contact"
    );
    let draft = hidden_input(&editor.text, "draft").unwrap();
    let step = |draft: String, op: &'static str, extra: Vec<(&'static str, &'static str)>| {
        let client = client.clone();
        let csrf = csrf.clone();
        let app = &app;
        async move {
            let mut form: Vec<(&str, &str)> = vec![("csrf_token", &csrf), ("draft", &draft), ("op", op)];
            form.extend(extra);
            app.submit(&client, "/contact-types/hot/layout", &form).await
        }
    };
    let added = step(draft, "add_section", vec![("new_title", "Profile")]).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    assert!(element_text(&added.text, "unsaved").is_some());
    let draft = hidden_input(&added.text, "draft").unwrap();
    let placed = step(draft, "place:source", vec![("to_source", "1")]).await;
    let draft = hidden_input(&placed.text, "draft").unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&draft).unwrap(),
        json!({"sections": [{"title": "Sales", "fields": ["budget", "nps"]}, {"title": "Profile", "fields": ["source"]}]})
    );
    let preview = unescape_html(&element_html(&placed.text, "layout-preview").unwrap());
    assert!(
        preview.contains("<h3>Profile</h3>") && preview.contains("<dt>Source</dt><dd>fair</dd>"),
        "{preview}"
    );
    let moved = step(draft, "down:0:1", vec![]).await;
    let draft = hidden_input(&moved.text, "draft").unwrap();
    let saved = step(draft, "save", vec![]).await;
    assert_eq!(
        saved.status,
        StatusCode::SEE_OTHER,
        "{}",
        element_html(&saved.text, "main").unwrap_or(saved.text.clone())
    );
    let (_, hot) = app.get(&token, "/api/v1/contact-types/hot/layout").await;
    assert_eq!(hot["source"], "own");
    assert_eq!(
        hot["sections"],
        json!([{"title": "Sales", "fields": ["budget"]}, {"title": "Profile", "fields": ["nps", "source"]}])
    );
    let (_, warm) = app.get(&token, "/api/v1/contact-types/warm/layout").await;
    assert_eq!(warm["inherited_from"], "lead", "a sibling keeps the parent's");

    // Back to the parent's.
    let (status, body) = pair(
        app.send(
            reqwest::Method::DELETE,
            Some(&token),
            "/api/v1/contact-types/hot/layout",
            None,
        )
        .await,
    );
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["source"], "inherited");
}
