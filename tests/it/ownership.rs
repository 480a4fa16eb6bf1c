//! Who may choose a contact's owner, and what a read-only grant allows: the owner is
//! changed by an admin or handed on by the owner, never taken by a grantee; managers and
//! agents create contacts for themselves only, and the answer for an owner they may not
//! choose doesn't tell which user ids exist; adding an activity is a write.

use kartoteka_core::contacts::{Access, Grantee};
use kartoteka_tests::*;

fn contact_path(id: i64) -> String {
    format!("/api/v1/contacts/{id}")
}

// A write grantee can change a contact but not make it theirs; after the grant is
// revoked... there is nothing to revoke, because the owner never changed.
both!(a_write_grant_does_not_allow_taking_the_contact: a_write_grant_does_not_allow_taking_the_contact_sqlite, a_write_grant_does_not_allow_taking_the_contact_postgres);
async fn a_write_grant_does_not_allow_taking_the_contact(app: TestApp) {
    let (owner, owner_token) = app.agent().await;
    let (grantee, grantee_token) = app.agent().await;
    let (admin, _) = app.admin().await;
    let contact = id(&app.person(&owner_token, "Shared Lead").await);
    app.core()
        .contacts()
        .grant_access(&admin.actor(), contact, Grantee::User(grantee.id), Access::Write)
        .await
        .unwrap();

    let taken = app
        .patch_json(
            &grantee_token,
            &contact_path(contact),
            &json!({"version": 1, "owner": grantee.id}),
        )
        .await;
    assert_invalid(&taken, "owner");
    let cleared = app
        .patch_json(
            &grantee_token,
            &contact_path(contact),
            &json!({"version": 1, "owner": null}),
        )
        .await;
    assert_invalid(&cleared, "owner");

    // Other changes, and sending the owner unchanged (as the edit form does), still work.
    let (status, body) = app
        .patch_json(
            &grantee_token,
            &contact_path(contact),
            &json!({"version": 1, "city": "Gdańsk", "owner": owner.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["owner"], owner.id);
    let (status, body) = app.get(&owner_token, &contact_path(contact)).await;
    assert_eq!(status, StatusCode::OK, "the owner still has it: {body}");
    assert_eq!(body["owner"], owner.id);

    // The pages name people without their e-mail addresses, to agents.
    let (client, _) = app.signed_in_client(&grantee.email, PASSWORD).await;
    let card = app.page(&client, &format!("/contacts/{contact}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(card.text.contains(&owner.name), "{}", card.text);
    assert!(!card.text.contains(&owner.email), "{}", card.text);
    let form = app.page(&client, "/contacts/new").await;
    let picker = form.text.split("<select name=\"owner\">").nth(1).unwrap();
    let picker = picker.split("</select>").next().unwrap();
    assert!(picker.contains(&owner.name) && !picker.contains('@'), "{picker}");
    let (admin_client, _) = app.signed_in_client(&admin.email, PASSWORD).await;
    let card = app.page(&admin_client, &format!("/contacts/{contact}")).await;
    assert!(card.text.contains(&owner.email), "admins see addresses");
}

// The owner hands their contact to someone: the answer is the state written, although
// the contact is now out of their sight; the new owner sees it.
both!(the_owner_hands_a_contact_on: the_owner_hands_a_contact_on_sqlite, the_owner_hands_a_contact_on_postgres);
async fn the_owner_hands_a_contact_on(app: TestApp) {
    let (_, owner_token) = app.agent().await;
    let (colleague, colleague_token) = app.agent().await;
    let contact = id(&app.person(&owner_token, "Passed On").await);
    let (status, body) = app
        .patch_json(
            &owner_token,
            &contact_path(contact),
            &json!({"version": 1, "owner": colleague.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["owner"], colleague.id);
    assert_eq!(body["version"], 2);
    assert_eq!(body["name"], "Passed On");
    assert_error(
        &app.get(&owner_token, &contact_path(contact)).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, body) = app.get(&colleague_token, &contact_path(contact)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["owner"], colleague.id);
}

// Agents and managers create contacts owned by themselves; an owner they may not choose
// answers the same whether that user exists or not. Admins assign anyone.
both!(only_admins_create_contacts_for_others: only_admins_create_contacts_for_others_sqlite, only_admins_create_contacts_for_others_postgres);
async fn only_admins_create_contacts_for_others(app: TestApp) {
    let (admin, admin_token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let (manager, manager_token) = app.user(Role::Manager).await;
    for (token, me, other) in [
        (&agent_token, agent.id, manager.id),
        (&manager_token, manager.id, agent.id),
    ] {
        let existing = app
            .post_json(
                token,
                "/api/v1/contacts",
                &json!({"type": "client", "name": "For Someone", "owner": other}),
            )
            .await;
        assert_invalid(&existing, "owner");
        let admin_owned = app
            .post_json(
                token,
                "/api/v1/contacts",
                &json!({"type": "client", "name": "For Someone", "owner": admin.id}),
            )
            .await;
        assert_invalid(&admin_owned, "owner");
        let missing = app
            .post_json(
                token,
                "/api/v1/contacts",
                &json!({"type": "client", "name": "For Someone", "owner": 999_999}),
            )
            .await;
        assert_invalid(&missing, "owner");
        assert_eq!(
            existing.1["error"]["message"], missing.1["error"]["message"],
            "no hint which user ids exist"
        );
        assert_eq!(admin_owned.1["error"]["message"], missing.1["error"]["message"]);
        let own = app
            .create_contact(token, &json!({"type": "client", "name": "Mine", "owner": me}))
            .await;
        assert_eq!(own["owner"], me);
    }
    let (_, agent_view) = app.get(&agent_token, "/api/v1/contacts?limit=500").await;
    assert_eq!(agent_view["items"].as_array().unwrap().len(), 1, "{agent_view}");

    let assigned = app
        .create_contact(
            &admin_token,
            &json!({"type": "client", "name": "Assigned", "owner": agent.id}),
        )
        .await;
    assert_eq!(assigned["owner"], agent.id);
    assert_invalid(
        &app.post_json(
            &admin_token,
            "/api/v1/contacts",
            &json!({"type": "client", "name": "Nobody's", "owner": 999_999}),
        )
        .await,
        "owner",
    );
    // An admin moves any contact to anyone.
    let (status, body) = app
        .patch_json(
            &admin_token,
            &contact_path(id(&assigned)),
            &json!({"version": 1, "owner": manager.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["owner"], manager.id);
}

// A read-only grant doesn't allow adding activities: the answer is the one for a contact
// the user can't see at all, and nothing is stored. A write grant allows it.
both!(a_read_grant_does_not_allow_adding_activities: a_read_grant_does_not_allow_adding_activities_sqlite, a_read_grant_does_not_allow_adding_activities_postgres);
async fn a_read_grant_does_not_allow_adding_activities(app: TestApp) {
    let (admin, admin_token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let read_only = id(&app.person(&admin_token, "Read Only").await);
    let writable = id(&app.person(&admin_token, "Writable").await);
    let hidden = id(&app.person(&admin_token, "Hidden").await);
    let core = app.core();
    core.contacts()
        .grant_access(&admin.actor(), read_only, Grantee::User(agent.id), Access::Read)
        .await
        .unwrap();
    core.contacts()
        .grant_access(&admin.actor(), writable, Grantee::Role(Role::Agent), Access::Write)
        .await
        .unwrap();
    let (status, _) = app.get(&agent_token, &contact_path(read_only)).await;
    assert_eq!(status, StatusCode::OK, "the agent sees it");

    let post = |contact: i64| {
        let token = agent_token.clone();
        let app = &app;
        async move {
            app.post_json(
                &token,
                "/api/v1/activities",
                &json!({"contact_id": contact, "kind": "call"}),
            )
            .await
        }
    };
    let refused = post(read_only).await;
    assert_invalid(&refused, "contact_id");
    let invisible = post(hidden).await;
    assert_invalid(&invisible, "contact_id");
    let message = |reply: &(StatusCode, Value), contact: i64| {
        reply.1["error"]["message"]
            .as_str()
            .unwrap()
            .replace(&contact.to_string(), "N")
    };
    assert_eq!(
        message(&refused, read_only),
        message(&invisible, hidden),
        "a read-only contact answers like an invisible one"
    );
    let (status, body) = post(writable).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (_, listed) = app
        .get(&admin_token, &format!("/api/v1/contacts/{read_only}/activities"))
        .await;
    assert_eq!(listed["items"], json!([]), "nothing was stored");

    // The card offers no activity form on a read-only contact.
    let (client, _) = app.signed_in_client(&agent.email, PASSWORD).await;
    let card = app.page(&client, &format!("/contacts/{read_only}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(!card.text.contains("activity-form"), "{}", card.text);
    let card = app.page(&client, &format!("/contacts/{writable}")).await;
    assert!(card.text.contains("activity-form"));
}
