//! Signing in: API tokens, the sign-in page with its double-submit CSRF cookie, sessions,
//! CSRF on every form, signing out, and the lockout after failed sign-ins.

use kartoteka_tests::*;
use reqwest::Method;

/// The value `name` gets in a `Set-Cookie` header, if that header sets it.
fn set_cookie_value(header: &str, name: &str) -> Option<String> {
    header
        .split(';')
        .next()
        .and_then(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn cookie_header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|h| set_cookie_value(h, name).is_some())
}

async fn token_reply(app: &TestApp, email: &str, password: &str) -> Reply {
    app.send(
        Method::POST,
        None,
        "/api/v1/auth/token",
        Some(&json!({"email": email, "password": password})),
    )
    .await
}

/// A raw client (no cookie jar) for checking cookies by hand.
fn raw_client() -> reqwest::Client {
    client_builder().build().unwrap()
}

async fn raw_get(app: &TestApp, path: &str, cookies: &str) -> Reply {
    let mut request = raw_client().get(app.url(path));
    if !cookies.is_empty() {
        request = request.header("cookie", cookies);
    }
    Reply::read(request.send().await.unwrap()).await
}

async fn raw_post(app: &TestApp, path: &str, cookies: &str, form: &[(&str, &str)]) -> Reply {
    let mut request = raw_client().post(app.url(path)).form(form);
    if !cookies.is_empty() {
        request = request.header("cookie", cookies);
    }
    Reply::read(request.send().await.unwrap()).await
}

both!(api_tokens: api_tokens_sqlite, api_tokens_postgres);
async fn api_tokens(app: TestApp) {
    let (user, _) = app.admin().await;
    let ok = token_reply(&app, &user.email, PASSWORD).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let body = ok.json();
    assert_eq!(body["expires_in"], 90 * 24 * 3600);
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 32, "a long random token: {token}");
    assert_eq!(app.get(&token, "/api/v1/contacts").await.0, StatusCode::OK);

    // Emails are matched without regard to case or surrounding spaces.
    let shouty = token_reply(&app, &format!("  {}  ", user.email.to_uppercase()), PASSWORD).await;
    assert_eq!(shouty.status, StatusCode::OK, "{}", shouty.text);

    for (email, password) in [
        (user.email.as_str(), "wrong password"),
        (user.email.as_str(), ""),
        ("nobody@example.com", PASSWORD),
        ("not an email", PASSWORD),
    ] {
        let refused = token_reply(&app, email, password).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{email}: {}", refused.text);
        let body = refused.json();
        assert_eq!(body["error"]["code"], "unauthorized");
        assert_eq!(
            body["error"]["message"], "wrong email or password",
            "the same answer whether or not the account exists"
        );
        assert_eq!(refused.header("www-authenticate").as_deref(), Some("Bearer"));
    }
    let malformed = app
        .send(
            Method::POST,
            None,
            "/api/v1/auth/token",
            Some(&json!({"email": user.email})),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);

    // Bearer tokens: missing, unknown or of the wrong scheme are 401; the scheme's case is
    // forgiven.
    let no_token = app.send(Method::GET, None, "/api/v1/contacts", None).await;
    assert_eq!(no_token.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_token.json()["error"]["code"], "unauthorized");
    assert_eq!(no_token.header("www-authenticate").as_deref(), Some("Bearer"));
    let client = client_builder().build().unwrap();
    for header in [
        "Bearer nonsense".to_owned(),
        format!("Basic {token}"),
        format!("Bearer {token}x"),
        "Bearer ".to_owned(),
        token.clone(),
    ] {
        let response = client
            .get(app.url("/api/v1/contacts"))
            .header("authorization", &header)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "Authorization: {header}");
    }
    let lower = client
        .get(app.url("/api/v1/contacts"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), StatusCode::OK);
    // Every API resource wants a token.
    for path in [
        "/api/v1/contacts/1",
        "/api/v1/contact-types",
        "/api/v1/fields",
        "/api/v1/activities?contact_id=1",
    ] {
        let reply = app.send(Method::GET, None, path, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let post = app
        .send(
            Method::POST,
            None,
            "/api/v1/contacts",
            Some(&json!({"type": "client", "name": "Anonymous"})),
        )
        .await;
    assert_eq!(post.status, StatusCode::UNAUTHORIZED);
    let (all, _) = app.all_contacts(&token, "name", 10).await;
    assert!(all.is_empty());
}

both!(the_sign_in_page: the_sign_in_page_sqlite, the_sign_in_page_postgres);
async fn the_sign_in_page(app: TestApp) {
    let (user, _) = app.admin().await;

    // The form and its double-submit cookie.
    let form = raw_get(&app, "/login", "").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("id=\"login-form\""), "{}", form.text);
    assert!(form.text.contains("name=\"email\"") && form.text.contains("name=\"password\""));
    let csrf = hidden_input(&form.text, "csrf_token").expect("a csrf_token input");
    assert_eq!(hidden_input(&form.text, "next").as_deref(), Some("/"));
    let cookie = cookie_header(&form, "kartoteka_login_csrf").expect("the login CSRF cookie");
    assert_eq!(
        set_cookie_value(cookie, "kartoteka_login_csrf").as_deref(),
        Some(csrf.as_str())
    );
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"));
    let login_cookie = format!("kartoteka_login_csrf={csrf}");
    let with_next = raw_get(&app, "/login?next=%2Fcontacts%3Fsort%3D-name", "").await;
    assert_eq!(
        hidden_input(&with_next.text, "next").as_deref(),
        Some("/contacts?sort=-name")
    );
    // Another form has another token.
    let second = raw_get(&app, "/login", "").await;
    assert_ne!(hidden_input(&second.text, "csrf_token").unwrap(), csrf);

    // A wrong password: 401 and the message, no session.
    let wrong = raw_post(
        &app,
        "/login",
        &login_cookie,
        &[
            ("email", &user.email),
            ("password", "nope nope"),
            ("csrf_token", &csrf),
            ("next", "/"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.text.contains("wrong email or password"), "{}", wrong.text);
    assert!(cookie_header(&wrong, "kartoteka_session").is_none());
    assert!(
        wrong.text.contains(&format!("value=\"{}\"", user.email)),
        "the email is kept"
    );

    // A missing, wrong or cookieless CSRF token: 403, even with the right password.
    for (cookies, sent) in [
        (login_cookie.as_str(), ""),
        (login_cookie.as_str(), "forged"),
        ("", csrf.as_str()),
        ("kartoteka_login_csrf=", ""),
    ] {
        let refused = raw_post(
            &app,
            "/login",
            cookies,
            &[
                ("email", &user.email),
                ("password", PASSWORD),
                ("csrf_token", sent),
                ("next", "/"),
            ],
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "cookie {cookies:?}, token {sent:?}"
        );
        assert!(cookie_header(&refused, "kartoteka_session").is_none());
    }

    // The right password: a redirect to `next` and an HttpOnly, SameSite=Lax session
    // cookie, not Secure over plain http.
    let ok = raw_post(
        &app,
        "/login",
        &login_cookie,
        &[
            ("email", &user.email),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("next", "/"),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
    assert_eq!(ok.location().as_deref(), Some("/"));
    let session_cookie = cookie_header(&ok, "kartoteka_session").expect("a session cookie");
    assert!(session_cookie.contains("; Path=/"), "{session_cookie}");
    assert!(session_cookie.contains("; HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("; SameSite=Lax"), "{session_cookie}");
    assert!(
        !session_cookie.contains("Secure"),
        "no Secure over http: {session_cookie}"
    );
    let session = set_cookie_value(session_cookie, "kartoteka_session").unwrap();
    assert!(session.len() >= 32);
    let session_cookies = format!("kartoteka_session={session}");
    let home = raw_get(&app, "/", &session_cookies).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.text.contains(&user.email), "the page says who is signed in");

    // `next` is followed when it is a local path, and only then.
    for (next, target) in [
        ("/contacts?sort=-name", "/contacts?sort=-name"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
    ] {
        let form = raw_get(&app, "/login", "").await;
        let csrf = hidden_input(&form.text, "csrf_token").unwrap();
        let reply = raw_post(
            &app,
            "/login",
            &format!("kartoteka_login_csrf={csrf}"),
            &[
                ("email", &user.email),
                ("password", PASSWORD),
                ("csrf_token", &csrf),
                ("next", next),
            ],
        )
        .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "next={next}");
        assert_eq!(reply.location().as_deref(), Some(target), "next={next}");
    }

    // An API token is no session, and a session is no API token.
    let token = app.api_token(&user.email, PASSWORD).await;
    let with_token = raw_get(&app, "/contacts", &format!("kartoteka_session={token}")).await;
    assert_eq!(with_token.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&session, "/api/v1/contacts").await.0, StatusCode::UNAUTHORIZED);
}

both!(pages_need_a_session_and_forms_their_token: pages_need_a_session_and_forms_their_token_sqlite, pages_need_a_session_and_forms_their_token_postgres);
async fn pages_need_a_session_and_forms_their_token(app: TestApp) {
    let (user, token) = app.admin().await;

    // Without a session every page sends the browser to sign in, and back afterwards.
    for (path, next) in [
        ("/", "%2F"),
        ("/contacts", "%2Fcontacts"),
        ("/contacts?sort=-name", "%2Fcontacts%3Fsort%3D-name"),
        ("/contacts/new", "%2Fcontacts%2Fnew"),
        ("/contact-types", "%2Fcontact-types"),
        ("/fields", "%2Ffields"),
    ] {
        let reply = raw_get(&app, path, "").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(reply.location(), Some(format!("/login?next={next}")), "{path}");
    }
    let anonymous_post = raw_post(&app, "/contacts", "", &[("type", "client"), ("name", "Anon")]).await;
    assert_eq!(anonymous_post.status, StatusCode::SEE_OTHER);
    let bogus = raw_get(&app, "/contacts", "kartoteka_session=bogus").await;
    assert_eq!(bogus.status, StatusCode::SEE_OTHER);

    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;
    let (_, other_csrf) = app.signed_in_client(&user.email, PASSWORD).await;
    assert_ne!(csrf, other_csrf, "each session has its own CSRF token");

    // Every page has the sign-out form with the session's token.
    for path in ["/", "/contacts", "/contacts/new", "/contact-types", "/fields"] {
        let page = app.page(&client, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert!(page.text.contains("action=\"/logout\""), "{path}: a sign-out form");
        assert_eq!(
            hidden_input(&page.text, "csrf_token").as_deref(),
            Some(csrf.as_str()),
            "{path}"
        );
    }

    // A form without the session's token is refused, and does nothing.
    for sent in [None, Some(""), Some("forged"), Some(other_csrf.as_str())] {
        let mut form = vec![("type", "client"), ("name", "Forged")];
        if let Some(t) = sent {
            form.push(("csrf_token", t));
        }
        let refused = app.submit(&client, "/contacts", &form).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "csrf_token {sent:?}");
        assert!(refused.text.contains("Form expired"), "{}", refused.text);
    }
    let refused_logout = app.submit(&client, "/logout", &[("csrf_token", "forged")]).await;
    assert_eq!(refused_logout.status, StatusCode::FORBIDDEN);
    assert_eq!(app.page(&client, "/").await.status, StatusCode::OK, "still signed in");
    let (all, _) = app.all_contacts(&token, "name", 10).await;
    assert!(all.is_empty(), "no forged contact was created: {all:?}");

    // With it, the form works.
    let created = app
        .submit(
            &client,
            "/contacts",
            &[("csrf_token", &csrf), ("type", "client"), ("name", "Real")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.text);

    // Signing out ends the session for good.
    let out = app.submit(&client, "/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location().as_deref(), Some("/login"));
    let cleared = cookie_header(&out, "kartoteka_session").expect("the session cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = app.page(&client, "/").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location().as_deref(), Some("/login?next=%2F"));
    let replay = app
        .submit(
            &client,
            "/contacts",
            &[("csrf_token", &csrf), ("type", "client"), ("name", "After")],
        )
        .await;
    assert_eq!(replay.status, StatusCode::SEE_OTHER);
    assert!(replay.location().unwrap().starts_with("/login"));
}

/// Posts the sign-in form with a fresh CSRF token.
async fn sign_in_page(app: &TestApp, email: &str, password: &str) -> Reply {
    let form = raw_get(app, "/login", "").await;
    let csrf = hidden_input(&form.text, "csrf_token").unwrap();
    raw_post(
        app,
        "/login",
        &format!("kartoteka_login_csrf={csrf}"),
        &[
            ("email", email),
            ("password", password),
            ("csrf_token", &csrf),
            ("next", "/"),
        ],
    )
    .await
}

both!(manual_clock, failed_sign_ins_lock_the_account: failed_sign_ins_lock_the_account_sqlite, failed_sign_ins_lock_the_account_postgres);
async fn failed_sign_ins_lock_the_account(app: TestApp) {
    let (user, _) = app.agent().await;
    let (bystander, _) = app.agent().await;

    // Four failures are just failures; the fifth locks the account for 15 minutes. The
    // API and the sign-in page count together.
    for attempt in 1..=3 {
        let reply = token_reply(&app, &user.email, "wrong password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let fourth = sign_in_page(&app, &user.email, "wrong password").await;
    assert_eq!(fourth.status, StatusCode::UNAUTHORIZED);
    let fifth = token_reply(&app, &user.email, "wrong password").await;
    assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS, "{}", fifth.text);
    assert_eq!(fifth.json()["error"]["code"], "rate_limited");
    assert_eq!(fifth.header("retry-after").as_deref(), Some("900"));

    // Locked: even the right password is refused, on the API and on the page.
    app.clock().advance(chrono::Duration::seconds(60));
    let right = token_reply(&app, &user.email, PASSWORD).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "{}", right.text);
    assert_eq!(right.header("retry-after").as_deref(), Some("840"));
    let page = sign_in_page(&app, &user.email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.text.contains("too many failed sign-in attempts"), "{}", page.text);
    assert!(cookie_header(&page, "kartoteka_session").is_none());

    // Other accounts are not affected.
    assert_eq!(
        token_reply(&app, &bystander.email, PASSWORD).await.status,
        StatusCode::OK
    );

    // One second before the end it is still locked; after it, the right password works.
    app.clock().advance(chrono::Duration::seconds(839));
    let almost = token_reply(&app, &user.email, PASSWORD).await;
    assert_eq!(almost.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(almost.header("retry-after").as_deref(), Some("1"));
    app.clock().advance(chrono::Duration::seconds(1));
    let unlocked = token_reply(&app, &user.email, PASSWORD).await;
    assert_eq!(unlocked.status, StatusCode::OK, "{}", unlocked.text);

    // A success starts the count again: four more failures don't lock.
    for _ in 0..4 {
        assert_eq!(
            token_reply(&app, &user.email, "wrong password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(token_reply(&app, &user.email, PASSWORD).await.status, StatusCode::OK);
    for _ in 0..4 {
        assert_eq!(
            token_reply(&app, &user.email, "wrong password").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_page(&app, &user.email, "wrong password").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

both!(manual_clock, tokens_and_sessions_expire: tokens_and_sessions_expire_sqlite, tokens_and_sessions_expire_postgres);
async fn tokens_and_sessions_expire(app: TestApp) {
    let (user, token) = app.admin().await;
    let (client, _) = app.signed_in_client(&user.email, PASSWORD).await;
    app.clock()
        .advance(chrono::Duration::days(7) - chrono::Duration::seconds(1));
    assert_eq!(app.page(&client, "/").await.status, StatusCode::OK);
    app.clock().advance(chrono::Duration::seconds(1));
    let expired = app.page(&client, "/").await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER, "a session lasts 7 days");
    assert_eq!(app.get(&token, "/api/v1/contacts").await.0, StatusCode::OK);
    app.clock().advance(chrono::Duration::days(83));
    assert_error(
        &app.get(&token, "/api/v1/contacts").await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );
}

// A `next` with a control character is refused like any other unsafe target: sign-in
// goes to `/`.
both!(
    a_next_with_a_control_character_goes_home: a_next_with_a_control_character_goes_home_sqlite, a_next_with_a_control_character_goes_home_postgres
);
async fn a_next_with_a_control_character_goes_home(app: TestApp) {
    let (user, _) = app.admin().await;
    let form = raw_get(&app, "/login", "").await;
    let csrf = hidden_input(&form.text, "csrf_token").unwrap();
    let reply = raw_post(
        &app,
        "/login",
        &format!("kartoteka_login_csrf={csrf}"),
        &[
            ("email", &user.email),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("next", "/contacts\r\nX: y"),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    assert_eq!(reply.location().as_deref(), Some("/"));
}
