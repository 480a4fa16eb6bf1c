//! Sign-in limits under parallel and spread attacks: a burst checks at most the limit, the
//! right password inside a burst does not get in, the owner still signs in from another
//! address (and from a known one during a spread attack), and a locked account answers
//! like an unknown email.
//!
//! How many attempts reached the password check is read from the counters themselves
//! (`sign_in_limits`): an answer can't tell a checked guess that locked from a refused one.
//!
//! Other client addresses are other loopback addresses (`127.0.0.2`, ...): the server
//! listens on `127.0.0.1` and sees each client's own.

use std::net::IpAddr;

use kartoteka_tests::*;

/// A client whose connections come from `address`.
fn client_from(address: &str) -> reqwest::Client {
    let ip: IpAddr = address.parse().unwrap();
    client_builder().local_address(ip).build().unwrap()
}

async fn sign_in(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> Reply {
    let response = client
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    Reply::read(response).await
}

/// `attempts` sign-ins at once from `client`, each with its own email and password.
async fn burst(app: &TestApp, client: &reqwest::Client, attempts: Vec<(String, String)>) -> Vec<Reply> {
    let mut tasks = Vec::new();
    for (email, password) in attempts {
        let client = client.clone();
        let url = app.url("/api/v1/auth/token");
        tasks.push(tokio::spawn(async move {
            let response = client
                .post(url)
                .json(&json!({"email": email, "password": password}))
                .send()
                .await
                .unwrap();
            Reply::read(response).await
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

/// The attempts counter `key` holds (the places taken: attempts let through to the
/// password check that did not succeed).
async fn counter(app: &TestApp, key: &str) -> Option<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = app.core().db();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT failures FROM sign_in_limits WHERE key = $1",
            [key.into()],
        ))
        .await
        .unwrap()?;
    Some(row.try_get_by_index(0).unwrap())
}

fn count(replies: &[Reply], status: StatusCode) -> usize {
    replies.iter().filter(|r| r.status == status).count()
}

both!(a_parallel_burst_checks_at_most_the_limit: a_parallel_burst_checks_at_most_the_limit_sqlite, a_parallel_burst_checks_at_most_the_limit_postgres);
async fn a_parallel_burst_checks_at_most_the_limit(app: TestApp) {
    let (user, _) = app.agent().await;
    let attacker = client_from("127.0.0.2");

    // 40 wrong passwords at once on one account: five are checked (four say so, the last
    // locks), the rest are refused unchecked.
    let replies = burst(
        &app,
        &attacker,
        (0..40)
            .map(|i| (user.email.clone(), format!("guess number {i}")))
            .collect(),
    )
    .await;
    assert_eq!(
        count(&replies, StatusCode::UNAUTHORIZED) + count(&replies, StatusCode::TOO_MANY_REQUESTS),
        40,
        "{:?}",
        replies.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    let wrong = count(&replies, StatusCode::UNAUTHORIZED);
    assert!(wrong <= 4, "at most four wrong answers before the lock, got {wrong}");
    // Every attempt that was let through to the password check took a place in the
    // account's counter for that address: five, not forty.
    assert_eq!(counter(&app, &format!("pair:{} 127.0.0.2", user.email)).await, Some(5));
    assert_eq!(
        sign_in(&app, &attacker, &user.email, PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS,
        "locked for the attacker's address"
    );

    // 60 wrong sign-ins at once on 60 accounts from one address: at most 30 are checked.
    let spray = client_from("127.0.0.3");
    let replies = burst(
        &app,
        &spray,
        (0..60)
            .map(|i| (format!("someone{i}@example.com"), "a wrong password".to_owned()))
            .collect(),
    )
    .await;
    let wrong = count(&replies, StatusCode::UNAUTHORIZED);
    assert!(wrong <= 30, "at most 30 failures per address, got {wrong}");
    assert_eq!(count(&replies, StatusCode::TOO_MANY_REQUESTS), 60 - wrong);
    assert_eq!(counter(&app, "address:127.0.0.3").await, Some(30), "30 checked, not 60");
    // That address is throttled for everyone, even with the right password...
    let (other, _) = app.agent().await;
    assert_eq!(
        sign_in(&app, &spray, &other.email, PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ... and nobody else is.
    assert_eq!(
        sign_in(&app, &client_from("127.0.0.4"), &other.email, PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
}

both!(the_right_password_in_a_burst_does_not_get_in: the_right_password_in_a_burst_does_not_get_in_sqlite, the_right_password_in_a_burst_does_not_get_in_postgres);
async fn the_right_password_in_a_burst_does_not_get_in(app: TestApp) {
    let (user, _) = app.agent().await;
    let attacker = client_from("127.0.0.2");
    // Four failures: one guess is left before the lock.
    for _ in 0..4 {
        let reply = sign_in(&app, &attacker, &user.email, "a wrong password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text);
    }
    // 25 wrong guesses at once, and the right one just after them, while they are checked.
    let wrong = {
        let attacker = attacker.clone();
        let email = user.email.clone();
        let app_url = app.url("/api/v1/auth/token");
        tokio::spawn(async move {
            let mut tasks = Vec::new();
            for i in 0..25 {
                let (client, url, email) = (attacker.clone(), app_url.clone(), email.clone());
                tasks.push(tokio::spawn(async move {
                    client
                        .post(url)
                        .json(&json!({"email": email, "password": format!("guess {i}")}))
                        .send()
                        .await
                        .unwrap()
                        .status()
                }));
            }
            let mut statuses = Vec::new();
            for task in tasks {
                statuses.push(task.await.unwrap());
            }
            statuses
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let right = sign_in(&app, &attacker, &user.email, PASSWORD).await;
    let statuses = wrong.await.unwrap();
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "guess 26 is refused, right or not: {}",
        right.text
    );
    assert_eq!(right.json()["error"]["code"], "rate_limited");
    assert!(
        statuses.iter().all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "the fifth guess locks, the rest are refused: {statuses:?}"
    );
}

both!(manual_clock, the_owner_signs_in_from_another_address: the_owner_signs_in_from_another_address_sqlite, the_owner_signs_in_from_another_address_postgres);
async fn the_owner_signs_in_from_another_address(app: TestApp) {
    let (user, _) = app.agent().await;
    let attacker = client_from("127.0.0.2");
    let owner = client_from("127.0.0.3");
    let replies = burst(
        &app,
        &attacker,
        (0..20).map(|i| (user.email.clone(), format!("guess {i}"))).collect(),
    )
    .await;
    assert!(count(&replies, StatusCode::TOO_MANY_REQUESTS) >= 15);
    let locked = sign_in(&app, &attacker, &user.email, PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.header("retry-after").as_deref(), Some("900"));

    // The owner, elsewhere, is not locked out.
    let in_ = sign_in(&app, &owner, &user.email, PASSWORD).await;
    assert_eq!(in_.status, StatusCode::OK, "{}", in_.text);

    // The attacker's lock grows: 15 minutes, then 30.
    app.clock().advance(chrono::Duration::seconds(900));
    for attempt in 1..=4 {
        let reply = sign_in(&app, &attacker, &user.email, "still guessing").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let again = sign_in(&app, &attacker, &user.email, "still guessing").await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(again.header("retry-after").as_deref(), Some("1800"));
    assert_eq!(
        sign_in(&app, &owner, &user.email, PASSWORD).await.status,
        StatusCode::OK
    );
}

both!(a_spread_attack_leaves_known_addresses_in: a_spread_attack_leaves_known_addresses_in_sqlite, a_spread_attack_leaves_known_addresses_in_postgres);
async fn a_spread_attack_leaves_known_addresses_in(app: TestApp) {
    let (user, _) = app.agent().await;
    let home = client_from("127.0.0.2");
    assert_eq!(sign_in(&app, &home, &user.email, PASSWORD).await.status, StatusCode::OK);

    // Ten addresses, five guesses each: fifty failures on the account.
    for n in 0..10 {
        let attacker = client_from(&format!("127.0.1.{}", n + 1));
        let replies = burst(
            &app,
            &attacker,
            (0..5).map(|i| (user.email.clone(), format!("guess {n}.{i}"))).collect(),
        )
        .await;
        assert_eq!(
            count(&replies, StatusCode::UNAUTHORIZED) + count(&replies, StatusCode::TOO_MANY_REQUESTS),
            5
        );
    }
    // A new address is refused now, even with the right password...
    let stranger = sign_in(&app, &client_from("127.0.2.1"), &user.email, PASSWORD).await;
    assert_eq!(stranger.status, StatusCode::TOO_MANY_REQUESTS, "{}", stranger.text);
    // ... but the address the owner signed in from before still works.
    let known = sign_in(&app, &home, &user.email, PASSWORD).await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.text);
}

both!(manual_clock, a_locked_account_answers_like_an_unknown_email: a_locked_account_answers_like_an_unknown_email_sqlite, a_locked_account_answers_like_an_unknown_email_postgres);
async fn a_locked_account_answers_like_an_unknown_email(app: TestApp) {
    let (user, _) = app.agent().await;
    let client = client_from("127.0.0.2");
    let unknown = "nobody.at.all@example.com";
    for attempt in 1..=5 {
        let real = sign_in(&app, &client, &user.email, "a wrong password").await;
        let none = sign_in(&app, &client, unknown, "a wrong password").await;
        assert_eq!(real.status, none.status, "attempt {attempt}");
        assert_eq!(real.text, none.text, "attempt {attempt}");
        assert_eq!(
            real.header("retry-after"),
            none.header("retry-after"),
            "attempt {attempt}"
        );
        let expected = if attempt < 5 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(real.status, expected, "attempt {attempt}: {}", real.text);
    }
    let real = sign_in(&app, &client, &user.email, PASSWORD).await;
    let none = sign_in(&app, &client, unknown, PASSWORD).await;
    assert_eq!(real.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!((real.status, &real.text), (none.status, &none.text));
    assert_eq!(real.header("retry-after"), none.header("retry-after"));
}
