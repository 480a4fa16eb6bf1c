//! Users and roles: admins add users (API and page), change roles (which changes what the
//! user may do on their next request), deactivate and reactivate (ending every session and
//! API token at once, refusing sign-in), reset passwords; everyone changes their own with
//! the current one; the last active admin stays; non-admins get 403.

use kartoteka_tests::*;
use reqwest::Method;

/// Posts the sign-in form for `email` with a fresh client; the answer and the client.
async fn page_sign_in(app: &TestApp, email: &str, password: &str) -> (Reply, reqwest::Client) {
    let client = app.web_client();
    let login = app.page(&client, "/login").await;
    let csrf = hidden_input(&login.text, "csrf_token").unwrap();
    let reply = app
        .submit(
            &client,
            "/login",
            &[
                ("email", email),
                ("password", password),
                ("csrf_token", &csrf),
                ("next", "/"),
            ],
        )
        .await;
    (reply, client)
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

/// Adds a user through the API as the admin holding `token`; its id.
async fn add_user(app: &TestApp, token: &str, email: &str, role: &str) -> i64 {
    let (status, body) = app
        .post_json(
            token,
            "/api/v1/users",
            &json!({"email": email, "name": "Added User", "role": role, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id(&body)
}

both!(admins_add_users_through_the_api: admins_add_users_through_the_api_sqlite, admins_add_users_through_the_api_postgres);
async fn admins_add_users_through_the_api(app: TestApp) {
    let (admin, token) = app.admin().await;
    let (status, added) = app
        .post_json(
            &token,
            "/api/v1/users",
            &json!({"email": " Nina@Example.com ", "name": " Nina Nowak ", "role": "manager", "password": "nina's password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["email"], "nina@example.com");
    assert_eq!(added["name"], "Nina Nowak");
    assert_eq!(added["role"], "manager");
    assert_eq!(added["active"], true);
    assert!(added["deactivated_at"].is_null());
    assert!(added["created_at"].as_str().is_some_and(|t| t.len() >= 20), "{added}");
    let nina = id(&added);

    // The new user signs in with the password the admin chose.
    let nina_token = app.api_token("nina@example.com", "nina's password").await;
    let (status, me) = app.get(&nina_token, &format!("/api/v1/users/{nina}")).await;
    assert_eq!(status, StatusCode::OK, "anyone reads their own account: {me}");
    assert_eq!(me["email"], "nina@example.com");

    let (status, list) = app.get(&token, "/api/v1/users").await;
    assert_eq!(status, StatusCode::OK);
    let emails: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, [admin.email.as_str(), "nina@example.com"]);
    assert!(list["next"].is_null());

    // The same email again, whatever its case.
    let again = app
        .post_json(
            &token,
            "/api/v1/users",
            &json!({"email": "NINA@example.com", "name": "Other", "role": "agent", "password": PASSWORD}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "conflict");

    // Every problem at once, each at its path.
    let bad = app
        .post_json(
            &token,
            "/api/v1/users",
            &json!({"email": "not an email", "name": "", "role": "boss", "password": "short"}),
        )
        .await;
    assert_invalid(&bad, "email");
    assert_eq!(error_paths(&bad.1), ["email", "name", "role", "password"], "{}", bad.1);
    let control = app
        .post_json(
            &token,
            "/api/v1/users",
            &json!({"email": "ctl@example.com", "name": "Nul\u{0}Name", "role": "agent", "password": PASSWORD}),
        )
        .await;
    assert_invalid(&control, "name");
    let unknown = app
        .post_json(
            &token,
            "/api/v1/users",
            &json!({"email": "x@example.com", "name": "X", "role": "agent", "password": PASSWORD, "is_admin": true}),
        )
        .await;
    assert_eq!(unknown.0, StatusCode::BAD_REQUEST, "{}", unknown.1);
    let (status, _) = app.get(&token, "/api/v1/users/999999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get(&token, "/api/v1/users/abc").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Non-admins: 403 on everything but their own account.
    let (_, agent_token) = app.agent().await;
    for token in [&agent_token, &nina_token] {
        assert_error(
            &app.get(token, "/api/v1/users").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        assert_error(
            &app.get(token, &format!("/api/v1/users/{}", admin.id)).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        let add = app
            .post_json(
                token,
                "/api/v1/users",
                &json!({"email": "sneaky@example.com", "name": "S", "role": "admin", "password": PASSWORD}),
            )
            .await;
        assert_error(&add, StatusCode::FORBIDDEN, "forbidden");
        let patch = app
            .patch_json(token, &format!("/api/v1/users/{nina}"), &json!({"role": "admin"}))
            .await;
        assert_error(&patch, StatusCode::FORBIDDEN, "forbidden");
        let reset = app
            .post_json(
                token,
                &format!("/api/v1/users/{}/password", admin.id),
                &json!({"password": "taken over!"}),
            )
            .await;
        assert_error(&reset, StatusCode::FORBIDDEN, "forbidden");
    }
    assert_eq!(
        token_reply(&app, "sneaky@example.com", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
}

both!(a_role_change_changes_what_the_user_may_do: a_role_change_changes_what_the_user_may_do_sqlite, a_role_change_changes_what_the_user_may_do_postgres);
async fn a_role_change_changes_what_the_user_may_do(app: TestApp) {
    let (_, admin_token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let (agent_client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    assert_eq!(app.get(&agent_token, "/api/v1/users").await.0, StatusCode::FORBIDDEN);
    assert_eq!(app.page(&agent_client, "/users").await.status, StatusCode::FORBIDDEN);
    let segment = json!({"name": "Mine", "kind": "static"});
    assert_eq!(
        app.post_json(&agent_token, "/api/v1/segments", &segment).await.0,
        StatusCode::FORBIDDEN,
        "agents don't make segments"
    );

    // Manager: segments yes, users no — on the very next request of the same token.
    let (status, changed) = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/users/{}", agent.id),
            &json!({"role": "manager"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["role"], "manager");
    let (status, created) = app.post_json(&agent_token, "/api/v1/segments", &segment).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(app.get(&agent_token, "/api/v1/users").await.0, StatusCode::FORBIDDEN);

    // Admin: the users resource and page open, the nav shows Users.
    let (status, _) = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/users/{}", agent.id),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.get(&agent_token, "/api/v1/users").await.0, StatusCode::OK);
    let page = app.page(&agent_client, "/users").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("href=\"/users\""));

    // And back: the session loses it too.
    let (status, changed) = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/users/{}", agent.id),
            &json!({"role": "agent", "name": "Renamed Agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["name"], "Renamed Agent");
    assert_eq!(app.get(&agent_token, "/api/v1/users").await.0, StatusCode::FORBIDDEN);
    let page = app.page(&agent_client, "/users").await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let home = app.page(&agent_client, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(!home.text.contains("href=\"/users\""), "no Users in an agent's nav");
    assert!(
        home.text.contains("href=\"/account/password\""),
        "everyone's nav links their password"
    );

    // Bad input, every problem at once.
    let bad = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/users/{}", agent.id),
            &json!({"role": "owner", "name": "  "}),
        )
        .await;
    assert_invalid(&bad, "name");
    assert_eq!(error_paths(&bad.1), ["name", "role"], "{}", bad.1);
    let (status, _) = app
        .patch_json(&admin_token, "/api/v1/users/999999", &json!({"role": "agent"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

both!(deactivation_ends_every_session_at_once: deactivation_ends_every_session_at_once_sqlite, deactivation_ends_every_session_at_once_postgres);
async fn deactivation_ends_every_session_at_once(app: TestApp) {
    let (_, admin_token) = app.admin().await;
    let email = "leaving@example.com";
    let user = add_user(&app, &admin_token, email, "agent").await;
    let token = app.api_token(email, PASSWORD).await;
    let (client, _) = app.signed_in_client(email, PASSWORD).await;
    assert_eq!(app.get(&token, "/api/v1/contacts").await.0, StatusCode::OK);
    assert_eq!(app.page(&client, "/contacts").await.status, StatusCode::OK);

    let (status, body) = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/users/{user}"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], false);
    assert!(body["deactivated_at"].is_string(), "{body}");

    // The very next request: the token is refused, the session sent to sign in.
    let (status, body) = app.get(&token, "/api/v1/contacts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let page = app.page(&client, "/contacts").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location().is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        page.location()
    );

    // Signing in again is refused with a clear message; a wrong password hears the usual.
    let refused = token_reply(&app, email, PASSWORD).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deactivated")
    );
    let wrong = token_reply(&app, email, "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json()["error"]["message"], "wrong email or password");
    let (page, _) = page_sign_in(&app, email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text.contains("deactivated"), "{}", page.text);

    // The list shows it; reactivating lets them sign in again, old credentials stay dead.
    let (_, list) = app.get(&admin_token, "/api/v1/users").await;
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == user)
        .unwrap()
        .clone();
    assert_eq!(row["active"], false);
    let (status, body) = app
        .patch_json(&admin_token, &format!("/api/v1/users/{user}"), &json!({"active": true}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["active"], true);
    assert!(body["deactivated_at"].is_null());
    assert_eq!(app.get(&token, "/api/v1/contacts").await.0, StatusCode::UNAUTHORIZED);
    let fresh = app.api_token(email, PASSWORD).await;
    assert_eq!(app.get(&fresh, "/api/v1/contacts").await.0, StatusCode::OK);
    let (page, client) = page_sign_in(&app, email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.text);
    assert_eq!(app.page(&client, "/contacts").await.status, StatusCode::OK);
}

both!(an_admin_resets_a_password: an_admin_resets_a_password_sqlite, an_admin_resets_a_password_postgres);
async fn an_admin_resets_a_password(app: TestApp) {
    let (_, admin_token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let (client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    let short = app
        .post_json(
            &admin_token,
            &format!("/api/v1/users/{}/password", agent.id),
            &json!({"password": "short"}),
        )
        .await;
    assert_invalid(&short, "password");
    assert_eq!(
        app.get(&agent_token, "/api/v1/contacts").await.0,
        StatusCode::OK,
        "a refused reset ends nothing"
    );

    let (status, body) = app
        .post_json(
            &admin_token,
            &format!("/api/v1/users/{}/password", agent.id),
            &json!({"password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sessions_ended"], 2, "the API token and the web session");
    assert_eq!(
        app.get(&agent_token, "/api/v1/contacts").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.page(&client, "/contacts").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        token_reply(&app, &agent.email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    app.api_token(&agent.email, "a brand new password").await;
    let (status, _) = app
        .post_json(
            &admin_token,
            "/api/v1/users/999999/password",
            &json!({"password": "a brand new password"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

both!(users_change_their_own_password: users_change_their_own_password_sqlite, users_change_their_own_password_postgres);
async fn users_change_their_own_password(app: TestApp) {
    let (agent, token) = app.agent().await;
    let other_token = app.api_token(&agent.email, PASSWORD).await;
    let (client, _) = app.signed_in_client(&agent.email, PASSWORD).await;

    // A wrong current password is refused, and reported with the new one's problem.
    let wrong = app
        .post_json(
            &token,
            "/api/v1/me/password",
            &json!({"current_password": "not it at all", "new_password": "long enough now"}),
        )
        .await;
    assert_invalid(&wrong, "current_password");
    let both = app
        .post_json(
            &token,
            "/api/v1/me/password",
            &json!({"current_password": "not it either", "new_password": "short"}),
        )
        .await;
    assert_eq!(error_paths(&both.1), ["current_password", "new_password"], "{}", both.1);
    assert_eq!(
        token_reply(&app, &agent.email, PASSWORD).await.status,
        StatusCode::OK,
        "unchanged"
    );

    // The right one: this token stays, the others end.
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/me/password",
            &json!({"current_password": PASSWORD, "new_password": "my own new password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["sessions_ended"].as_u64().unwrap() >= 3, "{body}");
    assert_eq!(app.get(&token, "/api/v1/contacts").await.0, StatusCode::OK);
    assert_eq!(
        app.get(&other_token, "/api/v1/contacts").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.page(&client, "/contacts").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        token_reply(&app, &agent.email, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Through the page: a wrong current password shows at its input; the right one keeps
    // this session and ends the API tokens.
    let (client, csrf) = app.signed_in_client(&agent.email, "my own new password").await;
    let form = app.page(&client, "/account/password").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.text.contains("id=\"password-form\""));
    let refused = app
        .submit(
            &client,
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "wrong wrong"),
                ("new_password", "third password"),
                ("new_password_again", "third password"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        element_text(&refused.text, "error-current_password").is_some(),
        "{}",
        refused.text
    );
    let mismatch = app
        .submit(
            &client,
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "my own new password"),
                ("new_password", "third password"),
                ("new_password_again", "third passwort"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert!(element_text(&mismatch.text, "error-new_password_again").is_some());
    let no_csrf = app
        .submit(
            &client,
            "/account/password",
            &[
                ("current_password", "my own new password"),
                ("new_password", "third password"),
                ("new_password_again", "third password"),
            ],
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let changed = app
        .submit(
            &client,
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "my own new password"),
                ("new_password", "third password"),
                ("new_password_again", "third password"),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.text);
    assert_eq!(changed.location().as_deref(), Some("/account/password"));
    let shown = app.page(&client, "/account/password").await;
    assert!(element_text(&shown.text, "notice").is_some_and(|n| n.contains("password is changed")));
    assert_eq!(app.get(&token, "/api/v1/contacts").await.0, StatusCode::UNAUTHORIZED);
    app.api_token(&agent.email, "third password").await;
}

both!(the_last_active_admin_stays: the_last_active_admin_stays_sqlite, the_last_active_admin_stays_postgres);
async fn the_last_active_admin_stays(app: TestApp) {
    let (first, first_token) = app.admin().await;
    let me = format!("/api/v1/users/{}", first.id);
    for change in [json!({"role": "manager"}), json!({"active": false})] {
        let refused = app.patch_json(&first_token, &me, &change).await;
        assert_error(&refused, StatusCode::CONFLICT, "conflict");
        assert!(
            refused.1["error"]["message"]
                .as_str()
                .unwrap()
                .contains("last active admin"),
            "{}",
            refused.1
        );
    }
    let (_, body) = app.get(&first_token, &me).await;
    assert_eq!(
        (body["role"].clone(), body["active"].clone()),
        (json!("admin"), json!(true))
    );

    // A deactivated admin doesn't count.
    let dormant = add_user(&app, &first_token, "dormant@example.com", "admin").await;
    let (status, _) = app
        .patch_json(
            &first_token,
            &format!("/api/v1/users/{dormant}"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_error(
        &app.patch_json(&first_token, &me, &json!({"role": "agent"})).await,
        StatusCode::CONFLICT,
        "conflict",
    );

    // With a second active admin, the first may step down, and then the second can't.
    let second = add_user(&app, &first_token, "second@example.com", "admin").await;
    let second_token = app.api_token("second@example.com", PASSWORD).await;
    let (status, body) = app.patch_json(&first_token, &me, &json!({"role": "manager"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(app.get(&first_token, "/api/v1/users").await.0, StatusCode::FORBIDDEN);
    assert_error(
        &app.patch_json(
            &second_token,
            &format!("/api/v1/users/{second}"),
            &json!({"active": false}),
        )
        .await,
        StatusCode::CONFLICT,
        "conflict",
    );
    // Reactivating the dormant admin makes room again.
    let (status, _) = app
        .patch_json(
            &second_token,
            &format!("/api/v1/users/{dormant}"),
            &json!({"active": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .patch_json(
            &second_token,
            &format!("/api/v1/users/{second}"),
            &json!({"role": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

both!(the_users_page: the_users_page_sqlite, the_users_page_postgres);
async fn the_users_page(app: TestApp) {
    let (admin, _) = app.admin().await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    let page = app.page(&client, "/users").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text.contains("aria-current=\"page\">Users</a>"),
        "the nav marks Users"
    );
    assert_eq!(row_ids(&page.text), [admin.id]);

    // Bad input: every problem at its input, the values kept, nothing added.
    let bad = app
        .submit(
            &client,
            "/users",
            &[
                ("csrf_token", &csrf),
                ("name", "Paula Page"),
                ("email", "paula at example"),
                ("role", "agent"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(element_text(&bad.text, "error-email").is_some(), "{}", bad.text);
    assert!(element_text(&bad.text, "error-password").is_some());
    assert!(bad.text.contains("value=\"Paula Page\""), "the name is kept");
    assert_eq!(row_ids(&bad.text).len(), 1);

    let added = app
        .submit(
            &client,
            "/users",
            &[
                ("csrf_token", &csrf),
                ("name", "Paula Page"),
                ("email", "paula@example.com"),
                ("role", "manager"),
                ("password", "paula's first password"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    let page = app.page(&client, "/users").await;
    assert!(element_text(&page.text, "notice").is_some_and(|n| n.contains("paula@example.com")));
    let ids = row_ids(&page.text);
    assert_eq!(ids.len(), 2);
    let paula = *ids.iter().find(|i| **i != admin.id).unwrap();
    let (paula_client, _) = app
        .signed_in_client("paula@example.com", "paula's first password")
        .await;

    // Role, status and password through the row forms.
    let role = app
        .submit(
            &client,
            &format!("/users/{paula}/role"),
            &[("csrf_token", &csrf), ("role", "agent")],
        )
        .await;
    assert_eq!(role.status, StatusCode::SEE_OTHER);
    let user = app.core().users().list_users().await.unwrap();
    assert_eq!(user.iter().find(|u| u.id == paula).unwrap().role.as_str(), "agent");
    let off = app
        .submit(
            &client,
            &format!("/users/{paula}/status"),
            &[("csrf_token", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.page(&paula_client, "/").await.status,
        StatusCode::SEE_OTHER,
        "signed out at once"
    );
    let page = app.page(&client, "/users").await;
    let row = element_html(&page.text, "users").unwrap();
    assert!(row.contains("deactivated"), "{row}");
    assert!(row.contains(">Reactivate</button>"));
    let on = app
        .submit(
            &client,
            &format!("/users/{paula}/status"),
            &[("csrf_token", &csrf), ("active", "true")],
        )
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER);
    let reset = app
        .submit(
            &client,
            &format!("/users/{paula}/password"),
            &[("csrf_token", &csrf), ("password", "reset by the admin")],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    app.api_token("paula@example.com", "reset by the admin").await;
    let short = app
        .submit(
            &client,
            &format!("/users/{paula}/password"),
            &[("csrf_token", &csrf), ("password", "short")],
        )
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        element_text(&short.text, &format!("error-{paula}")).is_some(),
        "{}",
        short.text
    );

    // The last active admin can't step down here either: the message is in their row.
    let alone = app
        .submit(
            &client,
            &format!("/users/{}/status", admin.id),
            &[("csrf_token", &csrf), ("active", "false")],
        )
        .await;
    assert_eq!(alone.status, StatusCode::CONFLICT);
    assert!(
        element_text(&alone.text, &format!("error-{}", admin.id)).is_some_and(|e| e.contains("last active admin")),
        "{}",
        alone.text
    );
    // Forms need the CSRF token.
    let forged = app
        .submit(&client, &format!("/users/{paula}/role"), &[("role", "admin")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    // Non-admins: 403 on the page and its forms.
    let (agent, _) = app.agent().await;
    let (agent_client, agent_csrf) = app.signed_in_client(&agent.email, PASSWORD).await;
    assert_eq!(app.page(&agent_client, "/users").await.status, StatusCode::FORBIDDEN);
    for (path, form) in [
        (
            "/users".to_owned(),
            vec![
                ("csrf_token", agent_csrf.as_str()),
                ("name", "Mole"),
                ("email", "mole@example.com"),
                ("role", "admin"),
                ("password", PASSWORD),
            ],
        ),
        (
            format!("/users/{}/role", agent.id),
            vec![("csrf_token", agent_csrf.as_str()), ("role", "admin")],
        ),
        (
            format!("/users/{}/status", admin.id),
            vec![("csrf_token", agent_csrf.as_str()), ("active", "false")],
        ),
    ] {
        let reply = app.submit(&agent_client, &path, &form).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    let users = app.core().users().list_users().await.unwrap();
    assert!(users.iter().all(|u| u.email != "mole@example.com"));
    assert_eq!(users.iter().find(|u| u.id == agent.id).unwrap().role.as_str(), "agent");
}

both!(the_document_describes_the_users_answers: the_document_describes_the_users_answers_sqlite, the_document_describes_the_users_answers_postgres);
async fn the_document_describes_the_users_answers(app: TestApp) {
    let doc = app.send(Method::GET, None, "/api/v1/openapi.json", None).await.json();
    let paths = &doc["paths"];
    for (path, method, statuses) in [
        ("/api/v1/users", "get", &["200", "401", "403"][..]),
        ("/api/v1/users", "post", &["201", "400", "401", "403", "409"][..]),
        ("/api/v1/users/{id}", "get", &["200", "401", "403", "404"][..]),
        (
            "/api/v1/users/{id}",
            "patch",
            &["200", "400", "401", "403", "404", "409"][..],
        ),
        (
            "/api/v1/users/{id}/password",
            "post",
            &["200", "400", "401", "403", "404"][..],
        ),
        ("/api/v1/me/password", "post", &["200", "400", "401", "429"][..]),
        ("/api/v1/auth/token", "post", &["200", "401", "403", "429"][..]),
    ] {
        let responses = &paths[path][method]["responses"];
        for status in statuses {
            assert!(
                responses[*status].is_object(),
                "{method} {path} documents {status}: {responses}"
            );
        }
    }
    for property in ["id", "email", "name", "role", "active", "created_at", "deactivated_at"] {
        assert!(
            doc["components"]["schemas"]["UserOut"]["properties"][property].is_object(),
            "UserOut.{property}"
        );
    }
}

both!(a_deactivated_user_gets_no_new_contacts_or_tasks: a_deactivated_user_gets_no_new_work_sqlite, a_deactivated_user_gets_no_new_work_postgres);
async fn a_deactivated_user_gets_no_new_contacts_or_tasks(app: TestApp) {
    let (admin, admin_token) = app.admin().await;
    let leaving = add_user(&app, &admin_token, "leaving@example.com", "agent").await;
    let staying = add_user(&app, &admin_token, "staying@example.com", "agent").await;
    let kept = app
        .create_contact(
            &admin_token,
            &json!({"type": "client", "name": "Kept Contact", "owner": leaving}),
        )
        .await;
    let (status, _) = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/users/{leaving}"),
            &json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // No new contact, owner change or task for them, each said plainly.
    let refused = app
        .post_json(
            &admin_token,
            "/api/v1/contacts",
            &json!({"type": "client", "name": "New One", "owner": leaving}),
        )
        .await;
    assert_invalid(&refused, "owner");
    assert!(
        refused.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("is deactivated"),
        "{}",
        refused.1
    );
    let other = app
        .create_contact(
            &admin_token,
            &json!({"type": "client", "name": "Other", "owner": staying}),
        )
        .await;
    let moved = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/contacts/{}", id(&other)),
            &json!({"version": 1, "owner": leaving}),
        )
        .await;
    assert_invalid(&moved, "owner");
    let task = app
        .post_json(
            &admin_token,
            "/api/v1/tasks",
            &json!({"contact_id": id(&kept), "title": "Call", "assignee_id": leaving}),
        )
        .await;
    assert_invalid(&task, "assignee_id");

    // What they own stays theirs and can still be changed otherwise.
    let renamed = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/contacts/{}", id(&kept)),
            &json!({"version": 1, "name": "Kept Contact Renamed"}),
        )
        .await;
    assert_eq!(renamed.0, StatusCode::OK, "{}", renamed.1);
    assert_eq!(renamed.1["owner"], leaving);

    // The pickers offer active users, and the stored owner on its own form.
    let (client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let new_form = app.page(&client, "/contacts/new").await;
    assert!(
        !new_form.text.contains(&format!("value=\"{leaving}\"")),
        "a new contact's owners"
    );
    assert!(new_form.text.contains(&format!("value=\"{staying}\"")));
    let edit_form = app.page(&client, &format!("/contacts/{}/edit", id(&kept))).await;
    assert!(
        edit_form.text.contains(&format!("value=\"{leaving}\" selected")),
        "the stored owner stays shown"
    );
    let card = app.page(&client, &format!("/contacts/{}", id(&other))).await;
    let tasks_form = element_html(&card.text, "tasks").unwrap_or(card.text.clone());
    assert!(
        !tasks_form.contains(&format!("<option value=\"{leaving}\"")),
        "the assignees"
    );
    assert!(tasks_form.contains(&format!("<option value=\"{staying}\"")));
}
