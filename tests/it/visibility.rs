//! Who sees what: admins see every contact; managers and agents see the contacts they own
//! and those granted to them or to their role, in the API and on the pages alike.

use std::collections::HashSet;

use kartoteka_core::contacts::{Access, Grantee};
use kartoteka_tests::*;

struct World {
    admin_token: String,
    agent: User,
    agent_token: String,
    other_agent_token: String,
    manager_token: String,
    company: i64,
    admin_own: i64,
    agent_own: i64,
    agent_at_company: i64,
    granted_read: i64,
    granted_write: i64,
    role_read: i64,
    other_agents: i64,
    unowned: i64,
    manager_role: i64,
}

async fn world(app: &TestApp) -> World {
    let (admin, admin_token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let (other_agent, other_agent_token) = app.agent().await;
    let (_, manager_token) = app.user(Role::Manager).await;
    let create = |body: Value| {
        let token = admin_token.clone();
        async move { id(&app.create_contact(&token, &body).await) }
    };
    let company = create(json!({"kind": "company", "type": "client", "name": "Secret Holdings"})).await;
    let admin_own = create(json!({"type": "client", "name": "Admin Own"})).await;
    let agent_own = create(json!({"type": "warm", "name": "Agent Own", "owner": agent.id})).await;
    let agent_at_company =
        create(json!({"type": "warm", "name": "Agent At Company", "owner": agent.id, "company_id": company})).await;
    let granted_read = create(json!({"type": "client", "name": "Granted Read"})).await;
    let granted_write = create(json!({"type": "client", "name": "Granted Write"})).await;
    let role_read = create(json!({"type": "client", "name": "Role Read"})).await;
    let other_agents = create(json!({"type": "client", "name": "Other Agent's", "owner": other_agent.id})).await;
    let unowned = create(json!({"type": "client", "name": "Unowned"})).await;
    let manager_role = create(json!({"type": "client", "name": "Managers'"})).await;
    let (status, body) = app
        .patch_json(
            &admin_token,
            &format!("/api/v1/contacts/{unowned}"),
            &json!({"version": 1, "owner": null}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["owner"].is_null());

    let actor = admin.actor();
    let core = app.core();
    core.contacts()
        .grant_access(&actor, granted_read, Grantee::User(agent.id), Access::Read)
        .await
        .unwrap();
    core.contacts()
        .grant_access(&actor, granted_write, Grantee::User(agent.id), Access::Write)
        .await
        .unwrap();
    core.contacts()
        .grant_access(&actor, role_read, Grantee::Role(Role::Agent), Access::Read)
        .await
        .unwrap();
    core.contacts()
        .grant_access(&actor, manager_role, Grantee::Role(Role::Manager), Access::Read)
        .await
        .unwrap();
    // Only admins grant.
    assert!(
        core.contacts()
            .grant_access(&agent.actor(), agent_own, Grantee::User(other_agent.id), Access::Read)
            .await
            .is_err()
    );
    World {
        admin_token,
        agent,
        agent_token,
        other_agent_token,
        manager_token,
        company,
        admin_own,
        agent_own,
        agent_at_company,
        granted_read,
        granted_write,
        role_read,
        other_agents,
        unowned,
        manager_role,
    }
}

impl World {
    fn all(&self) -> HashSet<i64> {
        HashSet::from([
            self.company,
            self.admin_own,
            self.agent_own,
            self.agent_at_company,
            self.granted_read,
            self.granted_write,
            self.role_read,
            self.other_agents,
            self.unowned,
            self.manager_role,
        ])
    }

    fn agent_sees(&self) -> HashSet<i64> {
        HashSet::from([
            self.agent_own,
            self.agent_at_company,
            self.granted_read,
            self.granted_write,
            self.role_read,
        ])
    }
}

async fn listed(app: &TestApp, token: &str) -> HashSet<i64> {
    let mut seen = None;
    for sort in ["name", "-name", "created_at", "-created_at"] {
        let (items, _) = app.all_contacts(token, sort, 2).await;
        let list = ids(&items);
        let set: HashSet<i64> = list.iter().copied().collect();
        assert_eq!(set.len(), list.len(), "no contact twice ({sort})");
        if let Some(previous) = &seen {
            assert_eq!(previous, &set, "every order lists the same contacts");
        }
        seen = Some(set);
    }
    seen.unwrap()
}

both!(the_api_shows_each_user_what_it_may_see: the_api_shows_each_user_what_it_may_see_sqlite, the_api_shows_each_user_what_it_may_see_postgres);
async fn the_api_shows_each_user_what_it_may_see(app: TestApp) {
    let w = world(&app).await;
    assert_eq!(listed(&app, &w.admin_token).await, w.all(), "admins see everything");
    assert_eq!(listed(&app, &w.agent_token).await, w.agent_sees());
    assert_eq!(
        listed(&app, &w.other_agent_token).await,
        HashSet::from([w.other_agents, w.role_read]),
        "a role grant reaches every agent"
    );
    assert_eq!(
        listed(&app, &w.manager_token).await,
        HashSet::from([w.manager_role]),
        "an agents' grant doesn't reach managers"
    );

    // Reads: what isn't visible doesn't exist.
    for contact in w.all() {
        let (status, body) = app.get(&w.agent_token, &format!("/api/v1/contacts/{contact}")).await;
        if w.agent_sees().contains(&contact) {
            assert_eq!(status, StatusCode::OK, "{contact}: {body}");
        } else {
            assert_eq!(status, StatusCode::NOT_FOUND, "{contact} is hidden: {body}");
            assert_eq!(body["error"]["code"], "not_found");
        }
    }

    // Writes: own and write-granted contacts only; a read grant is not enough.
    for contact in [w.granted_read, w.role_read, w.admin_own, w.unowned] {
        assert_error(
            &app.patch_json(
                &w.agent_token,
                &format!("/api/v1/contacts/{contact}"),
                &json!({"version": 1, "name": "Taken Over"}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        assert_error(
            &app.delete(&w.agent_token, &format!("/api/v1/contacts/{contact}")).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    let (_, still) = app
        .get(&w.admin_token, &format!("/api/v1/contacts/{}", w.granted_read))
        .await;
    assert_eq!(still["name"], "Granted Read");
    assert_eq!(still["version"], 1);
    for contact in [w.agent_own, w.granted_write] {
        let (status, body) = app
            .patch_json(
                &w.agent_token,
                &format!("/api/v1/contacts/{contact}"),
                &json!({"version": 1, "city": "Wrocław"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{contact}: {body}");
    }

    // What an agent creates is its own; it can't point at a company it doesn't see.
    let mine = app.person(&w.agent_token, "Agent's New").await;
    assert_eq!(mine["owner"], w.agent.id);
    assert!(listed(&app, &w.agent_token).await.contains(&id(&mine)));
    assert!(!listed(&app, &w.other_agent_token).await.contains(&id(&mine)));
    assert_invalid(
        &app.post_json(
            &w.agent_token,
            "/api/v1/contacts",
            &json!({"type": "client", "name": "Employee", "company_id": w.company}),
        )
        .await,
        "company_id",
    );
    let (status, _) = app
        .delete(&w.agent_token, &format!("/api/v1/contacts/{}", w.granted_write))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "a write grant allows deleting");
}

both!(the_pages_show_the_same: the_pages_show_the_same_sqlite, the_pages_show_the_same_postgres);
async fn the_pages_show_the_same(app: TestApp) {
    let w = world(&app).await;
    let (client, csrf) = app.signed_in_client(&w.agent.email, PASSWORD).await;

    let table = app.page(&client, "/contacts").await;
    assert_eq!(table.status, StatusCode::OK);
    let rows: HashSet<i64> = row_ids(&table.text).into_iter().collect();
    assert_eq!(rows, w.agent_sees(), "the table lists what the API lists");
    assert!(!table.text.contains("Secret Holdings"), "not even as a company name");
    let dashboard = app.page(&client, "/").await;
    assert_eq!(element_text(&dashboard.text, "contact-count").as_deref(), Some("5"));
    let dashboard_rows: HashSet<i64> = row_ids(&dashboard.text).into_iter().collect();
    assert!(dashboard_rows.is_subset(&w.agent_sees()));

    for contact in w.all() {
        let card = app.page(&client, &format!("/contacts/{contact}")).await;
        let expected = if w.agent_sees().contains(&contact) {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(card.status, expected, "card of {contact}");
        if expected == StatusCode::NOT_FOUND {
            assert!(!card.text.contains("Secret Holdings") && !card.text.contains("Admin Own"));
        }
    }
    let own = app.page(&client, &format!("/contacts/{}", w.agent_at_company)).await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(
        !own.text.contains("Secret Holdings"),
        "an invisible company isn't named on a card"
    );
    let read_only = app.page(&client, &format!("/contacts/{}", w.granted_read)).await;
    assert!(!read_only.text.contains("/edit\""), "no edit link on a read-only card");
    assert!(!read_only.text.contains("Delete contact"));
    let writable = app.page(&client, &format!("/contacts/{}", w.granted_write)).await;
    assert!(writable.text.contains(&format!("/contacts/{}/edit", w.granted_write)));

    // Forms refuse what the API refuses.
    let new_form = app.page(&client, "/contacts/new").await;
    assert!(
        !new_form.text.contains("Secret Holdings"),
        "no invisible company to pick"
    );
    let edit = app
        .submit(
            &client,
            &format!("/contacts/{}/edit", w.granted_read),
            &[
                ("csrf_token", &csrf),
                ("version", "1"),
                ("type", "client"),
                ("name", "Taken Over"),
            ],
        )
        .await;
    assert_eq!(edit.status, StatusCode::NOT_FOUND, "{}", edit.text);
    let delete = app
        .submit(
            &client,
            &format!("/contacts/{}/delete", w.admin_own),
            &[("csrf_token", &csrf), ("version", "1"), ("confirm", "on")],
        )
        .await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
    let activity = app
        .submit(
            &client,
            &format!("/contacts/{}/activities", w.admin_own),
            &[("csrf_token", &csrf), ("kind", "note")],
        )
        .await;
    assert_eq!(
        activity.status,
        StatusCode::NOT_FOUND,
        "no activity on a hidden contact"
    );
    let (_, admin_view) = app
        .get(&w.admin_token, &format!("/api/v1/contacts/{}/activities", w.admin_own))
        .await;
    assert_eq!(admin_view["items"], json!([]));
    let (_, unchanged) = app
        .get(&w.admin_token, &format!("/api/v1/contacts/{}", w.granted_read))
        .await;
    assert_eq!(unchanged["name"], "Granted Read");

    // The admin's pages list everything.
    let (admin, _) = app.admin().await;
    let (admin_client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let all_rows: HashSet<i64> = row_ids(&app.page(&admin_client, "/contacts").await.text)
        .into_iter()
        .collect();
    assert_eq!(all_rows, w.all());
}

// An agent owns a contact whose company (set by an admin) it can't see. It can still
// change the contact, through the API and the edit page, and the link to the company
// stays.
both!(
    an_agent_edits_its_contact_at_an_invisible_company: an_agent_edits_its_contact_at_an_invisible_company_sqlite, an_agent_edits_its_contact_at_an_invisible_company_postgres
);
async fn an_agent_edits_its_contact_at_an_invisible_company(app: TestApp) {
    let w = world(&app).await;
    let (status, body) = app
        .patch_json(
            &w.agent_token,
            &format!("/api/v1/contacts/{}", w.agent_at_company),
            &json!({"version": 1, "city": "Wrocław"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["company_id"], w.company, "the company stays");
}
