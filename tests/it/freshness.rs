//! What a request may trust for a moment: a signed-in session and the filter catalogue.
//! A change made by this instance shows at once; one made by another instance sharing the
//! database shows there within `kernel::generations::RECHECK` (one second), never later.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kartoteka_core::auth::TOKEN_RECHECK;
use kartoteka_core::{Core, SystemClock};
use kartoteka_tests::*;

/// Polls `ready` until it holds; how long that took. Fails after five seconds.
async fn within<F, Fut>(what: &str, ready: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !ready().await {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{what}: still not seen after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

both!(changes_show_at_once_here_and_within_a_second_elsewhere: changes_show_at_once_here_and_within_a_second_elsewhere_sqlite, changes_show_at_once_here_and_within_a_second_elsewhere_postgres);
async fn changes_show_at_once_here_and_within_a_second_elsewhere(app: TestApp) {
    let (admin, token) = app.admin().await;
    // A second instance on the same database, as a second process would be.
    let other = Core::new(app.core().db().clone(), Arc::new(SystemClock));
    let third = Core::new(app.core().db().clone(), Arc::new(SystemClock));
    let bound = TOKEN_RECHECK + Duration::from_millis(500);

    // A session both instances have resolved (and so keep), ended on this one.
    let session = app.core().users().start_session(&admin).await.unwrap();
    for core in [app.core(), &other] {
        assert!(core.users().resolve_session(&session.token).await.unwrap().is_some());
    }
    app.core().users().end_session(&session.token).await.unwrap();
    assert!(
        app.core()
            .users()
            .resolve_session(&session.token)
            .await
            .unwrap()
            .is_none(),
        "the instance that ended the session refuses it at once"
    );
    let took = within("the other instance refusing the ended session", || async {
        other.users().resolve_session(&session.token).await.unwrap().is_none()
    })
    .await;
    assert!(took <= bound, "the other instance took {took:?} to refuse it");

    // A field defined here, after both instances read the catalogue.
    for core in [app.core(), &other, &third] {
        assert!(
            core.filter()
                .filter_catalog()
                .await
                .unwrap()
                .field("fields.tier")
                .is_none()
        );
    }
    let (status, field) = app
        .post_json(
            &token,
            "/api/v1/fields",
            &json!({"key": "tier", "label": "Tier", "kind": "text"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{field}");
    // The segments' book and rebuilds read it as of now, on any instance.
    assert!(
        third
            .filter()
            .current_catalog()
            .await
            .unwrap()
            .field("fields.tier")
            .is_some(),
        "the catalogue as of now has the field on every instance"
    );
    assert!(
        app.core()
            .filter()
            .filter_catalog()
            .await
            .unwrap()
            .field("fields.tier")
            .is_some(),
        "the instance that defined the field filters on it at once"
    );
    let filter = json!({"field": "fields.tier", "op": "eq", "value": "gold"});
    let (status, body) = app
        .get(
            &token,
            &format!("/api/v1/contacts/count?filter={}", urlencode(&filter.to_string())),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let took = within("the other instance's catalogue having the new field", || async {
        other
            .filter()
            .filter_catalog()
            .await
            .unwrap()
            .field("fields.tier")
            .is_some()
    })
    .await;
    assert!(took <= bound, "the other instance took {took:?} to see the field");
}
