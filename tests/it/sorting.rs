//! The orders of the contacts table and the API: names and cities alphabetically by the
//! Unicode collation (CLDR root order) on both databases, by creation and change time,
//! each paged by keyset over its own index; the table's page size.

use kartoteka_core::contacts::{Condition, ListQuery, Sort, SortKey};
use kartoteka_tests::*;
use serde_json::{Value, json};

/// Names in the CLDR root order: accents and case only break ties between the same
/// letters (lowercase first), `Ł`, `Ș` and `Ż` sit with their base letters, Cyrillic
/// comes after Latin and `Є`, `І` sit in the Ukrainian alphabet, not before `А`.
/// By code point the order would be `Adam ... Zenon, anna, Émile, Łukasz, Ștefan, Żaneta,
/// Євген, Ігор, Ірина, Анна, Ярослава`.
const NAMES_IN_ORDER: [&str; 16] = [
    "Adam Nowak",
    "anna Zielińska",
    "Anna Zielińska",
    "Émile Durand",
    "Lukasz Nowak",
    "Łukasz Nowak",
    "Marek",
    "Stefan Popescu",
    "Ștefan Popescu",
    "Żaneta Wójcik",
    "Zenon Kowalski",
    "Анна Шевченко",
    "Євген Коваль",
    "Ігор Бондар",
    "Ірина Мельник",
    "Ярослава",
];

/// Creates the contacts of `NAMES_IN_ORDER` in a scrambled order; returns their ids in
/// name order.
async fn create_names(app: &TestApp, token: &str) -> Vec<i64> {
    let mut ids = vec![0; NAMES_IN_ORDER.len()];
    // A fixed permutation (7 is coprime with 16): neither the id order nor its reverse.
    for step in 0..NAMES_IN_ORDER.len() {
        let at = (step * 7 + 3) % NAMES_IN_ORDER.len();
        ids[at] = id(&app.person(token, NAMES_IN_ORDER[at]).await);
    }
    ids
}

fn names(items: &[Value]) -> Vec<String> {
    items.iter().map(|c| c["name"].as_str().unwrap().to_owned()).collect()
}

/// The ids of the table's rows on every page from `path`, following the next links.
async fn table_walk(app: &TestApp, client: &reqwest::Client, path: &str) -> (Vec<i64>, usize) {
    let mut ids = Vec::new();
    let mut next = Some(path.to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let page = app.page(client, &path).await;
        assert_eq!(page.status, reqwest::StatusCode::OK, "{path}");
        ids.extend(row_ids(&page.text));
        pages += 1;
        assert!(pages < 100, "paging does not end");
        next = next_link(&page.text);
    }
    (ids, pages)
}

/// The `href` of the `rel="next"` link, attribute-unescaped.
fn next_link(html: &str) -> Option<String> {
    let at = html.find("rel=\"next\"")?;
    let start = html[..at].rfind("<a ")?;
    let tag = &html[start..at];
    let href = tag.find("href=\"")? + 6;
    let end = tag[href..].find('"')? + href;
    Some(unescape_html(&tag[href..end]))
}

both!(names_sort_alphabetically_across_pages: names_sort_alphabetically_across_pages_sqlite, names_sort_alphabetically_across_pages_postgres);
async fn names_sort_alphabetically_across_pages(app: TestApp) {
    let (admin, token) = app.admin().await;
    let in_order = create_names(&app, &token).await;

    // The API, in pages of 3 (page boundaries inside the runs of equal letters) and in one.
    for limit in [3, 500] {
        let (items, _) = app.all_contacts(&token, "name", limit).await;
        assert_eq!(names(&items), NAMES_IN_ORDER, "sort=name, limit={limit}");
        assert_eq!(ids(&items), in_order);
        let (items, _) = app.all_contacts(&token, "-name", limit).await;
        let mut reversed = in_order.clone();
        reversed.reverse();
        assert_eq!(ids(&items), reversed, "sort=-name, limit={limit}: {:?}", names(&items));
    }
    // Equal names go by id, in the sort's direction, also across a page boundary.
    let twin = id(&app.person(&token, "Marek").await);
    let (items, _) = app.all_contacts(&token, "name", 7).await;
    let marek = in_order[6];
    let at = ids(&items).iter().position(|i| *i == marek).unwrap();
    assert_eq!(ids(&items)[at + 1], twin, "{:?}", names(&items));
    let (items, _) = app.all_contacts(&token, "-name", 9).await;
    let at = ids(&items).iter().position(|i| *i == twin).unwrap();
    assert_eq!(ids(&items)[at + 1], marek, "{:?}", names(&items));

    // The table, in pages of 5, both ways.
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let mut expected = in_order.clone();
    expected.insert(7, twin);
    let (rows, pages) = table_walk(&app, &client, "/contacts?sort=name&limit=5").await;
    assert_eq!(rows, expected);
    assert_eq!(pages, 4);
    let (rows, _) = table_walk(&app, &client, "/contacts?sort=-name&limit=5").await;
    expected.reverse();
    assert_eq!(rows, expected);
    // The default order is by name.
    let (rows, _) = table_walk(&app, &client, "/contacts").await;
    expected.reverse();
    assert_eq!(rows, expected);
}

both!(companies_are_offered_alphabetically: companies_are_offered_alphabetically_sqlite, companies_are_offered_alphabetically_postgres);
async fn companies_are_offered_alphabetically(app: TestApp) {
    let (_, token) = app.admin().await;
    for name in ["Żabka", "Orlen", "Allegro", "Łódzka Spółdzielnia", "Zara", "Київстар"] {
        app.create_contact(&token, &json!({"type": "client", "kind": "company", "name": name}))
            .await;
    }
    let admin = app
        .core()
        .contacts()
        .list_companies(&app.admin().await.0.actor(), 100)
        .await
        .unwrap();
    let names: Vec<&str> = admin.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(
        names,
        ["Allegro", "Łódzka Spółdzielnia", "Orlen", "Żabka", "Zara", "Київстар"]
    );
}

both!(cities_sort_alphabetically_with_none_last: cities_sort_alphabetically_with_none_last_sqlite, cities_sort_alphabetically_with_none_last_postgres);
async fn cities_sort_alphabetically_with_none_last(app: TestApp) {
    let (admin, token) = app.admin().await;
    let mut by_city = Vec::new();
    for (name, city) in [
        ("A", Some("Żyrardów")),
        ("B", None),
        ("C", Some("Київ")),
        ("D", Some("Kraków")),
        ("E", Some("Łódź")),
        ("F", None),
        ("G", Some("Zakopane")),
        ("H", Some("Białystok")),
        ("I", Some("Malbork")),
        ("J", Some("kraków")),
    ] {
        let contact = app
            .create_contact(&token, &json!({"type": "client", "name": name, "city": city}))
            .await;
        by_city.push((name, id(&contact)));
    }
    let order = |names: &str| -> Vec<i64> {
        names
            .chars()
            .map(|n| by_city.iter().find(|(m, _)| m.starts_with(n)).unwrap().1)
            .collect()
    };
    // Białystok, kraków, Kraków, Łódź, Malbork, Zakopane, Żyrardów, Київ, then no city.
    let ascending = order("HJDEIGACBF");
    let (items, pages) = app.all_contacts(&token, "city", 3).await;
    assert_eq!(ids(&items), ascending, "{items:?}");
    assert_eq!(pages, 4);
    let (items, _) = app.all_contacts(&token, "-city", 4).await;
    let mut descending = ascending.clone();
    descending.reverse();
    assert_eq!(ids(&items), descending);

    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let (rows, pages) = table_walk(&app, &client, "/contacts?sort=city&limit=4").await;
    assert_eq!(rows, ascending);
    assert_eq!(pages, 3);
    let page = app.page(&client, "/contacts?sort=-city").await;
    assert_eq!(row_ids(&page.text), descending);
    assert!(
        page.text.contains("<strong>City Z-A</strong>"),
        "the current order is marked"
    );

    // A changed city moves the contact.
    let (_, b) = app.get(&token, &format!("/api/v1/contacts/{}", order("B")[0])).await;
    let (status, body) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&b)),
            &json!({"version": b["version"], "city": "Łańcut"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let (items, _) = app.all_contacts(&token, "city", 5).await;
    assert_eq!(ids(&items), order("HJDBEIGACF"), "Łańcut before Łódź");
}

both!(manual_clock, contacts_sort_by_change_time: contacts_sort_by_change_time_sqlite, contacts_sort_by_change_time_postgres);
async fn contacts_sort_by_change_time(app: TestApp) {
    let (admin, token) = app.admin().await;
    let mut created = Vec::new();
    for name in ["First", "Second", "Third", "Fourth"] {
        created.push(app.person(&token, name).await);
        app.clock().advance(chrono::Duration::seconds(10));
    }
    // Second changes, then First: 10 s apart, after all were created.
    for at in [1, 0] {
        let c = &created[at];
        let (status, body) = app
            .patch_json(
                &token,
                &format!("/api/v1/contacts/{}", id(c)),
                &json!({"version": c["version"], "city": "Gdańsk"}),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        app.clock().advance(chrono::Duration::seconds(10));
    }
    let ordered = |order: [usize; 4]| -> Vec<i64> { order.iter().map(|i| id(&created[*i])).collect() };
    let (items, pages) = app.all_contacts(&token, "-updated_at", 1).await;
    assert_eq!(ids(&items), ordered([0, 1, 3, 2]));
    assert_eq!(pages, 4);
    let (items, _) = app.all_contacts(&token, "updated_at", 3).await;
    assert_eq!(ids(&items), ordered([2, 3, 1, 0]));
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let (rows, _) = table_walk(&app, &client, "/contacts?sort=-updated_at&limit=2").await;
    assert_eq!(rows, ordered([0, 1, 3, 2]));
    // The unknown orders are refused with the list of known ones.
    let (status, body) = app.get(&token, "/api/v1/contacts?sort=owner").await;
    assert_eq!(status, reqwest::StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["path"], "sort");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("-updated_at"),
        "{body}"
    );
}

both!(the_table_takes_a_page_size: the_table_takes_a_page_size_sqlite, the_table_takes_a_page_size_postgres);
async fn the_table_takes_a_page_size(app: TestApp) {
    let (admin, token) = app.admin().await;
    for n in 0..60 {
        app.person(&token, &format!("Osoba {n:02}")).await;
    }
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    // The default, 50.
    let page = app.page(&client, "/contacts").await;
    assert_eq!(row_ids(&page.text).len(), 50);
    let sizes = element_html(&page.text, "page-size").expect("the page-size links");
    assert!(sizes.contains("<strong>50</strong>"), "{sizes}");
    assert!(
        unescape_html(&sizes).contains("\"/contacts?sort=name&limit=25\""),
        "{sizes}"
    );

    // 25 a page: kept by the next link, the sort links and the search form.
    let page = app.page(&client, "/contacts?sort=-name&limit=25&q=osoba").await;
    assert_eq!(page.status, reqwest::StatusCode::OK);
    assert_eq!(row_ids(&page.text).len(), 25);
    let next = next_link(&page.text).expect("a next page");
    assert!(
        next.contains("limit=25") && next.contains("q=osoba") && next.contains("sort=-name"),
        "{next}"
    );
    assert_eq!(hidden_input(&page.text, "limit").as_deref(), Some("25"));
    let sizes = element_html(&page.text, "page-size").unwrap();
    assert!(sizes.contains("<strong>25</strong>"), "{sizes}");
    assert!(
        unescape_html(&page.text).contains("/contacts?sort=city&limit=25&q=osoba"),
        "the sort links keep the size and the search"
    );
    let (rows, pages) = table_walk(&app, &client, "/contacts?limit=25").await;
    assert_eq!((rows.len(), pages), (60, 3));
    let (rows, pages) = table_walk(&app, &client, "/contacts?limit=200").await;
    assert_eq!((rows.len(), pages), (60, 1));

    // A size that isn't one: 400 with the reason, never a silent default.
    for bad in ["0", "501", "ten", "-5"] {
        let page = app.page(&client, &format!("/contacts?limit={bad}")).await;
        assert_eq!(page.status, reqwest::StatusCode::BAD_REQUEST, "limit={bad}");
        assert!(page.text.contains("page size"), "limit={bad}");
    }
    // The API honours the same sizes.
    let (status, body) = app.get(&token, "/api/v1/contacts?limit=25").await;
    assert_eq!(status, reqwest::StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 25);
}

both!(contacts_from_before_the_keys_are_sorted_after_start: contacts_from_before_the_keys_are_sorted_after_start_sqlite, contacts_from_before_the_keys_are_sorted_after_start_postgres);
async fn contacts_from_before_the_keys_are_sorted_after_start(app: TestApp) {
    let (_, token) = app.admin().await;
    let in_order = create_names(&app, &token).await;
    // As rows from before the sort-key columns look.
    let db = app.core().db();
    sea_orm::ConnectionTrait::execute_unprepared(db, "UPDATE contacts SET name_sort = NULL, city_sort = NULL")
        .await
        .unwrap();
    let filled = kartoteka_core::contacts::derived::backfill(db).await.unwrap();
    assert_eq!(filled, NAMES_IN_ORDER.len() as u64);
    let (items, _) = app.all_contacts(&token, "name", 4).await;
    assert_eq!(ids(&items), in_order);
    let (items, _) = app.all_contacts(&token, "city", 4).await;
    assert_eq!(items.len(), NAMES_IN_ORDER.len(), "none lost without a city key");
    assert_eq!(
        kartoteka_core::contacts::derived::backfill(db).await.unwrap(),
        0,
        "once"
    );
}

both!(every_order_uses_its_index: every_order_uses_its_index_sqlite, every_order_uses_its_index_postgres);
async fn every_order_uses_its_index(app: TestApp) {
    use sea_orm::{ConnectionTrait, QueryTrait, TransactionTrait};
    let (admin, token) = app.admin().await;
    for name in ["Łukasz", "Anna", "Zenon"] {
        app.create_contact(&token, &json!({"type": "client", "name": name, "city": "Łódź"}))
            .await;
    }
    let core = app.core();
    let backend = core.db().get_database_backend();
    for (key, index) in [
        (SortKey::Name, "contacts_name_sort_id"),
        (SortKey::City, "contacts_city_sort_id"),
        (SortKey::CreatedAt, "contacts_created_id"),
        (SortKey::UpdatedAt, "contacts_updated_id"),
    ] {
        for descending in [false, true] {
            let sort = Sort { key, descending };
            let first = ListQuery {
                sort,
                limit: 1,
                after: None,
            };
            let page = core
                .contacts()
                .list_contacts_where(&admin.actor(), &first, Condition::all())
                .await
                .unwrap();
            let later = ListQuery {
                after: page.next.clone(),
                ..first.clone()
            };
            assert!(later.after.is_some());
            for query in [first, later] {
                let sql = core
                    .contacts()
                    .page_select(&admin.actor(), &query, Condition::all())
                    .unwrap()
                    .build(backend)
                    .to_string();
                let txn = core.db().begin().await.unwrap();
                let (explain, column) = match app.backend {
                    Backend::Sqlite => (format!("EXPLAIN QUERY PLAN {sql}"), "detail"),
                    Backend::Postgres => {
                        // A handful of rows would be scanned whatever the indexes; ask what
                        // the planner does when scanning isn't the cheap way out.
                        txn.execute_unprepared("SET LOCAL enable_seqscan = off").await.unwrap();
                        (format!("EXPLAIN {sql}"), "QUERY PLAN")
                    }
                };
                let rows = txn
                    .query_all_raw(sea_orm::Statement::from_string(backend, explain))
                    .await
                    .unwrap();
                let plan: Vec<String> = rows.iter().map(|r| r.try_get::<String>("", column).unwrap()).collect();
                let plan = plan.join("\n");
                let what = format!("{} after {:?}:\n{sql}\n{plan}", sort.as_param(), query.after);
                assert!(plan.contains(index), "{what}");
                assert!(!plan.contains("TEMP B-TREE"), "no sort step: {what}");
                assert!(
                    !plan
                        .lines()
                        .any(|l| l.trim_start().trim_start_matches("->").trim().starts_with("Sort")),
                    "no sort step: {what}"
                );
            }
        }
    }
}

both!(a_segments_members_sort_and_page_like_the_table: a_segments_members_sort_and_page_like_the_table_sqlite, a_segments_members_sort_and_page_like_the_table_postgres);
async fn a_segments_members_sort_and_page_like_the_table(app: TestApp) {
    let (admin, token) = app.admin().await;
    let in_order = create_names(&app, &token).await;
    let (status, list) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Wszyscy", "kind": "static"}),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{list}");
    let list = id(&list);
    let (status, body) = app
        .post_json(
            &token,
            &format!("/api/v1/segments/{list}/members"),
            &json!({"contact_ids": in_order}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    // The API's members list and the segment page, alphabetically, in pages.
    let (status, body) = app
        .get(&token, &format!("/api/v1/segments/{list}/members?sort=-name&limit=500"))
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let mut reversed = in_order.clone();
    reversed.reverse();
    assert_eq!(ids(body["items"].as_array().unwrap()), reversed);
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let (rows, pages) = table_walk(&app, &client, &format!("/segments/{list}?limit=5")).await;
    assert_eq!(rows, in_order);
    assert_eq!(pages, 4);
    let page = app.page(&client, &format!("/segments/{list}?limit=5&sort=-name")).await;
    assert_eq!(row_ids(&page.text), reversed[..5]);
    assert_eq!(hidden_input(&page.text, "limit").as_deref(), Some("5"));
    let sizes = element_html(&page.text, "page-size").expect("the page-size links");
    assert!(
        unescape_html(&sizes).contains(&format!("/segments/{list}?sort=-name&limit=25")),
        "{sizes}"
    );
}
