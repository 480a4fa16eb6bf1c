//! Time-relative segments are decided again only where their boundary moved: the check
//! looks at the contacts on the moving edge of the window and those written since the
//! last evaluation, leaves every other membership alone, and asks for a whole rebuild
//! when it can't compare (here: a field was defined since).

use std::collections::{BTreeSet, HashMap};

use kartoteka_core::segments::recheck::Recheck;
use kartoteka_tests::*;

/// Warsaw, and how far "near" reaches.
const CENTRE: (f64, f64) = (52.2297, 21.0122);
const KM: f64 = 30.0;

async fn members(app: &TestApp, token: &str, sid: i64) -> BTreeSet<String> {
    let path = format!("/api/v1/segments/{sid}/members?limit=500");
    app.item_names(token, &path).await.into_iter().collect()
}

/// The names the filter finds now, evaluated whole through the API.
async fn found(app: &TestApp, token: &str, filter: &Value) -> BTreeSet<String> {
    let path = format!("/api/v1/contacts?limit=500&filter={}", urlencode(&filter.to_string()));
    app.item_names(token, &path).await.into_iter().collect()
}

/// Buyers whose purchase was `day` days (less an hour) before the clock's start.
fn buyers(days: impl IntoIterator<Item = i64>, near: bool) -> BTreeSet<String> {
    days.into_iter()
        .filter(|d| near || d % 2 == 1)
        .map(|d| format!("Buyer {d:02}"))
        .collect()
}

/// Runs the schedule's check once; what it did with each segment, by id.
async fn recheck(app: &TestApp) -> HashMap<i64, Recheck> {
    let done = app.core().segments().recheck_time_relative_segments().await.unwrap();
    done.into_iter().map(|r| (r.segment(), r)).collect()
}

fn moved(sid: i64, candidates: u64, joined: u64, left: u64) -> Recheck {
    Recheck::Moved {
        segment: sid,
        candidates,
        joined,
        left,
    }
}

both!(manual_clock, a_time_check_decides_only_the_moved_boundary: a_time_check_decides_only_the_moved_boundary_sqlite, a_time_check_decides_only_the_moved_boundary_postgres);
async fn a_time_check_decides_only_the_moved_boundary(app: TestApp) {
    // The test runs the checks itself; the worker's own schedule would race it.
    app.core()
        .segments()
        .segment_state()
        .set_time_check_every(chrono::Duration::days(100_000));
    let (_, token) = app.admin().await;
    let start = manual_clock_start();
    // Forty buyers, one purchase each, 1 to 40 days (less an hour) back; the odd ones in
    // Warsaw, the even ones 150 km east. Five contacts never bought.
    let mut ids = HashMap::new();
    for day in 1..=40i64 {
        let lon = if day % 2 == 1 { CENTRE.1 } else { CENTRE.1 + 2.2 };
        let name = format!("Buyer {day:02}");
        let contact = app
            .create_contact(
                &token,
                &json!({"type": "client", "name": name, "latitude": CENTRE.0, "longitude": lon}),
            )
            .await;
        let at = start - chrono::Duration::days(day) + chrono::Duration::hours(1);
        let (status, body) = app
            .post_json(
                &token,
                "/api/v1/activities",
                &json!({"contact_id": id(&contact), "kind": "purchase", "amount": 10.0,
                        "occurred_at": at.to_rfc3339()}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.insert(name, contact);
    }
    for i in 0..5 {
        app.person(&token, &format!("Never {i}")).await;
    }
    let recent = json!({"field": "activity.purchase", "op": "happened",
                        "value": {"within": {"amount": 30, "unit": "days"}}});
    // The same window and a residual: the location's exact distance is the plugin's.
    let recent_near = json!({"and": [recent.clone(), {"field": "location", "op": "within_distance",
                        "value": {"lat": CENTRE.0, "lon": CENTRE.1, "km": KM}}]});
    let mut sids = Vec::new();
    for (name, filter) in [("Bought lately", &recent), ("Bought lately, near", &recent_near)] {
        let (status, seg) = app
            .post_json(
                &token,
                "/api/v1/segments",
                &json!({"name": name, "kind": "dynamic", "filter": filter}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{seg}");
        sids.push(id(&seg));
    }
    let (all, near) = (sids[0], sids[1]);
    assert_eq!(members(&app, &token, all).await, buyers(1..=30, true));
    assert_eq!(members(&app, &token, near).await, buyers(1..=30, false));

    // Nothing moved yet: nothing is decided again.
    let done = recheck(&app).await;
    assert_eq!(
        (&done[&all], &done[&near]),
        (&moved(all, 0, 0, 0), &moved(near, 0, 0, 0))
    );

    // Two days on, the purchases 29 and 30 days back have left the window: those two
    // are the only contacts decided again, and only the one near Warsaw was in `near`.
    app.clock().advance(chrono::Duration::days(2));
    let done = recheck(&app).await;
    assert_eq!(
        (&done[&all], &done[&near]),
        (&moved(all, 2, 0, 2), &moved(near, 2, 0, 1))
    );
    assert_eq!(members(&app, &token, all).await, buyers(1..=28, true));
    assert_eq!(members(&app, &token, near).await, buyers(1..=28, false));
    assert_eq!(found(&app, &token, &recent).await, buyers(1..=28, true));
    assert_eq!(found(&app, &token, &recent_near).await, buyers(1..=28, false));

    // Buyer 39 buys again (the write moves them in), Buyer 05 moves city (no move), and
    // a day later the purchase 28 days back leaves: three contacts are decided again.
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/activities",
            &json!({"contact_id": id(&ids["Buyer 39"]), "kind": "purchase", "amount": 10.0}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .patch_json(
            &token,
            &format!("/api/v1/contacts/{}", id(&ids["Buyer 05"])),
            &json!({"city": "Gdańsk", "version": ids["Buyer 05"]["version"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock().advance(chrono::Duration::days(1));
    let done = recheck(&app).await;
    assert_eq!(
        (&done[&all], &done[&near]),
        (&moved(all, 3, 0, 1), &moved(near, 3, 0, 0))
    );
    let mut expected = buyers(1..=27, true);
    expected.insert("Buyer 39".into());
    assert_eq!(members(&app, &token, all).await, expected);
    assert_eq!(found(&app, &token, &recent).await, expected);
    let mut expected_near = buyers(1..=27, false);
    expected_near.insert("Buyer 39".into());
    assert_eq!(members(&app, &token, near).await, expected_near);
    assert_eq!(found(&app, &token, &recent_near).await, expected_near);

    // A field defined since the last evaluation: the catalogue changed, so the check
    // can't trust the old lowering and asks for the whole filter again.
    let (status, field) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "tier", "label": "Tier", "kind": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{field}");
    app.clock().advance(chrono::Duration::days(1));
    let done = recheck(&app).await;
    assert!(
        matches!(done[&all], Recheck::Whole { .. }),
        "a changed catalogue rebuilds the whole segment: {done:?}"
    );
    let start_wait = std::time::Instant::now();
    loop {
        let (_, seg) = app.get(&token, &format!("/api/v1/segments/{all}")).await;
        if seg["status"] == "ok" {
            break;
        }
        assert!(start_wait.elapsed().as_secs() < 60, "never rebuilt: {seg}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut expected = buyers(1..=26, true);
    expected.insert("Buyer 39".into());
    assert_eq!(members(&app, &token, all).await, expected);
    // Once rebuilt, the next check is a small one again.
    assert_eq!(recheck(&app).await[&all], moved(all, 0, 0, 0));
}
