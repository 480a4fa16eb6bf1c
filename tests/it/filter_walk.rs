//! The candidate walk over a residual: the location walk streams one statement and cuts it
//! into chunks, and every chunk boundary keeps each candidate exactly once; a page of the
//! table with a residual grows its rounds until the page is full, and pages and counts
//! agree with the walk.

use std::collections::{BTreeSet, HashMap};

use kartoteka_core::auth::Actor;
use kartoteka_core::filter::Walk;
use kartoteka_tests::*;

use crate::filter_engine::engine_names;
use serde_json::json;

/// Warsaw, and how far from it counts as near.
const CENTRE: (f64, f64) = (52.2297, 21.0122);
const KM: f64 = 30.0;

fn distance_km(lat: f64, lon: f64) -> f64 {
    let (p1, p2) = (CENTRE.0.to_radians(), lat.to_radians());
    let (dp, dl) = ((p2 - p1) / 2.0, (lon - CENTRE.1).to_radians() / 2.0);
    let h = dp.sin().powi(2) + p1.cos() * p2.cos() * dl.sin().powi(2);
    2.0 * 6371.0088 * h.clamp(0.0, 1.0).sqrt().asin()
}

both!(the_location_walk_keeps_every_candidate_across_chunks: the_location_walk_keeps_every_candidate_across_chunks_sqlite, the_location_walk_keeps_every_candidate_across_chunks_postgres);
async fn the_location_walk_keeps_every_candidate_across_chunks(app: TestApp) {
    let (admin, token) = app.admin().await;
    // 40 contacts on a line through Warsaw, from 0 to ~78 km east, every other one in
    // Kraków by city; two without coordinates.
    let mut name_of = HashMap::new();
    let mut near = BTreeSet::new();
    let mut near_or_krakow = BTreeSet::new();
    for i in 0..40 {
        let lon = CENTRE.1 + f64::from(i) * 0.03;
        let city = if i % 2 == 0 { "Kraków" } else { "Warszawa" };
        let contact = app
            .create_contact(
                &token,
                &json!({"type": "client", "name": format!("P{i:02}"), "city": city,
                        "latitude": CENTRE.0, "longitude": lon}),
            )
            .await;
        let id = contact["id"].as_i64().unwrap();
        name_of.insert(id, format!("P{i:02}"));
        let inside = distance_km(CENTRE.0, lon) <= KM;
        if inside {
            near.insert(id);
        }
        if inside || city == "Kraków" {
            near_or_krakow.insert(id);
        }
    }
    for name in ["No place", "Nowhere"] {
        let contact = app
            .create_contact(&token, &json!({"type": "client", "name": name, "city": "Kraków"}))
            .await;
        let id = contact["id"].as_i64().unwrap();
        name_of.insert(id, name.to_owned());
        near_or_krakow.insert(id);
    }
    assert!(
        near.len() > 5 && near.len() < 35,
        "the circle should split the line: {near:?}"
    );
    let within = json!({"field": "location", "op": "within_distance",
                        "value": {"lat": CENTRE.0, "lon": CENTRE.1, "km": KM}});
    let actor = Actor {
        user_id: admin.id,
        email: admin.email.clone(),
        role: admin.role,
    };
    let engine = app.core().filter();
    let backend = app.core().db().get_database_backend();
    for (filter, expected) in [
        (within.clone(), &near),
        (
            json!({"or": [within, {"field": "city", "op": "eq", "value": "Kraków"}]}),
            &near_or_krakow,
        ),
    ] {
        let prepared = engine.prepare_filter(&filter).await.unwrap().seen_by(&actor);
        assert!(prepared.has_residual(), "{filter}");
        // Chunks of 1 to 7 rows: boundaries everywhere, and the last chunk exactly full
        // for some of them.
        for chunk in 1..=7 {
            let mut walk = Walk::by_id(engine, &prepared, prepared.condition(backend))
                .ids_only()
                .chunk(chunk);
            let (mut seen, mut matched) = (BTreeSet::new(), BTreeSet::new());
            while let Some(decided) = walk.next().await.unwrap() {
                assert!(
                    decided.len() as u64 <= chunk,
                    "a chunk of {} for {chunk}",
                    decided.len()
                );
                for id in &decided.ids {
                    assert!(seen.insert(*id), "candidate {id} came twice (chunks of {chunk})");
                }
                matched.extend(decided.matching_ids());
            }
            assert_eq!(&matched, expected, "{filter}, chunks of {chunk}");
        }
        // The API's pages (of 7, so rounds of 15 and then 60 candidates) and count agree.
        let (paged, count) = engine_names(&app, &token, &filter).await;
        let want: BTreeSet<String> = expected.iter().map(|id| name_of[id].clone()).collect();
        assert_eq!(paged, want, "{filter}: the pages");
        assert_eq!(count, expected.len() as u64, "{filter}: the count");
    }
}

both!(many_location_counts_at_once_all_finish: many_location_counts_at_once_all_finish_sqlite, many_location_counts_at_once_all_finish_postgres);
async fn many_location_counts_at_once_all_finish(app: TestApp) {
    let (_, token) = app.admin().await;
    for i in 0..6 {
        app.create_contact(
            &token,
            &json!({"type": "client", "name": format!("Near {i}"), "city": "Warszawa",
                    "latitude": CENTRE.0, "longitude": CENTRE.1 + f64::from(i) * 0.01}),
        )
        .await;
    }
    // A residual beside a known subtree: deciding a chunk runs a query of its own while
    // the walk's statement is open. Twenty at once, more than any pool holds connections.
    let filter = json!({"or": [
        {"field": "location", "op": "within_distance",
         "value": {"lat": CENTRE.0, "lon": CENTRE.1, "km": KM}},
        {"field": "city", "op": "eq", "value": "Kraków"}]});
    let path = format!("/api/v1/contacts/count?filter={}", urlencode(&filter.to_string()));
    let counts = futures_util::future::join_all((0..20).map(|_| app.get(&token, &path)));
    let replies = tokio::time::timeout(std::time::Duration::from_secs(20), counts)
        .await
        .expect("twenty location counts at once finish within 20 s");
    for (status, body) in replies {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["count"], 6, "{body}");
    }
}
