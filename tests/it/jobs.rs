//! Bulk actions as jobs, through the API on both databases: a dry run applies nothing and
//! shows the effects; a run creates exactly one task per target; granting access shows
//! the contacts to an agent; a plugin that traps on some contacts fails those, not the
//! job; cancel stops within a batch; bad requests name every problem.

use std::collections::BTreeSet;
use std::time::Duration;

use kartoteka_tests::*;

/// `POST /segments/{id}/actions`.
async fn on_segment(app: &TestApp, token: &str, segment: i64, body: Value) -> (StatusCode, Value) {
    app.post_json(token, &format!("/api/v1/segments/{segment}/actions"), &body)
        .await
}

/// Starts `body` on contacts and fails the test unless a job is answered.
async fn start(app: &TestApp, token: &str, body: Value) -> i64 {
    let (status, job) = app.post_json(token, "/api/v1/contacts/actions", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}: {job}");
    id(&job)
}

/// The job once it has ended (60 s at most).
pub(crate) async fn ended(app: &TestApp, token: &str, job: i64) -> Value {
    for _ in 0..600 {
        let (status, body) = app.get(token, &format!("/api/v1/jobs/{job}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if ["done", "cancelled", "failed", "paused"].contains(&body["state"].as_str().unwrap()) {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {job} did not end within a minute");
}

/// The tasks job `job` created, as `token` sees them.
async fn job_tasks(app: &TestApp, token: &str, job: i64) -> Vec<Value> {
    let (status, body) = app.get(token, &format!("/api/v1/tasks?job_id={job}&limit=500")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

async fn people(app: &TestApp, token: &str, names: &[&str]) -> Vec<i64> {
    let mut ids = Vec::new();
    for name in names {
        let contact = app
            .create_contact(
                token,
                &json!({"type": "client", "name": name, "fields": {}, "city": format!("{name}ville")}),
            )
            .await;
        ids.push(id(&contact));
    }
    ids
}

async fn dry_run_then_run(app: TestApp) {
    let (admin, token) = app.admin().await;
    let names = ["Ada", "Grace", "Hedy", "Katherine", "Margaret"];
    let ids = people(&app, &token, &names).await;
    let (status, list) = app
        .post_json(
            &token,
            "/api/v1/segments",
            &json!({"name": "Follow up", "kind": "static"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{list}");
    let list = id(&list);
    let (status, added) = app
        .post_json(
            &token,
            &format!("/api/v1/segments/{list}/members"),
            &json!({"contact_ids": ids}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");

    let (status, actions) = app.get(&token, "/api/v1/actions").await;
    assert_eq!(status, StatusCode::OK);
    let names_offered: Vec<&str> = actions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(names_offered.contains(&"tasks.create_task"), "{actions}");
    assert!(names_offered.contains(&"access.grant_access"), "{actions}");

    let params = json!({
        "title": "Call {{ name }}",
        "body": "{{ name | upper }} at {{ email | default('no e-mail') }}",
        "due": {"in_days": 3},
    });
    let (status, dry) = on_segment(
        &app,
        &token,
        list,
        json!({"action": "tasks.create_task", "params": params, "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{dry}");
    assert_eq!(dry["total"], 5, "{dry}");
    assert_eq!(dry["source"]["segment"], list, "{dry}");
    let dry = ended(&app, &token, id(&dry)).await;
    assert_eq!(dry["state"], "done", "{dry}");
    assert_eq!(
        (dry["done"].as_i64(), dry["failed"].as_i64()),
        (Some(5), Some(0)),
        "{dry}"
    );
    assert_eq!(dry["effect_counts"], json!({"create_task": 5}), "{dry}");
    assert!(
        job_tasks(&app, &token, id(&dry)).await.is_empty(),
        "a dry run applies nothing"
    );
    let (_, all) = app.get(&token, "/api/v1/tasks?limit=500").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 0, "{all}");
    let (status, effects) = app.get(&token, &format!("/api/v1/jobs/{}/effects", id(&dry))).await;
    assert_eq!(status, StatusCode::OK);
    let titles: BTreeSet<String> = effects["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["effect"]["title"].as_str().unwrap().to_owned())
        .collect();
    let expected: BTreeSet<String> = names.iter().map(|n| format!("Call {n}")).collect();
    assert_eq!(titles, expected, "{effects}");

    let (status, job) = on_segment(
        &app,
        &token,
        list,
        json!({"action": "tasks.create_task", "params": params}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job = ended(&app, &token, id(&job)).await;
    assert_eq!(
        (job["state"].as_str(), job["done"].as_i64()),
        (Some("done"), Some(5)),
        "{job}"
    );
    let tasks = job_tasks(&app, &token, id(&job)).await;
    let per_contact: BTreeSet<i64> = tasks.iter().map(|t| t["contact_id"].as_i64().unwrap()).collect();
    assert_eq!(tasks.len(), 5, "one task per target: {tasks:?}");
    assert_eq!(per_contact, ids.iter().copied().collect(), "{tasks:?}");
    let ada = tasks.iter().find(|t| t["contact_name"] == "Ada").unwrap();
    assert_eq!(ada["title"], "Call Ada");
    assert_eq!(ada["body"], "ADA at no e-mail");
    assert_eq!(ada["assignee_id"], admin.id, "the contact's owner by default: {ada}");
    assert_eq!(ada["status"], "open");
    let created = chrono::DateTime::parse_from_rfc3339(job["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(ada["due_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        (due - created).num_seconds(),
        3 * 86_400,
        "due in 3 days of the job's time: {ada}"
    );

    // "My tasks", and one done with a PATCH.
    let (_, mine) = app.get(&token, "/api/v1/tasks?assignee=me&status=open").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 5, "{mine}");
    let (status, done) = app
        .patch_json(
            &token,
            &format!("/api/v1/tasks/{}", id(ada)),
            &json!({"status": "done"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "done");
    assert!(done["done_at"].is_string(), "{done}");
    let (_, mine) = app.get(&token, "/api/v1/tasks?assignee=me&status=open").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 4, "{mine}");
    let (status, bad) = app
        .patch_json(
            &token,
            &format!("/api/v1/tasks/{}", id(ada)),
            &json!({"status": "later", "title": " "}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(error_paths(&bad), ["status"], "{bad}");
}
both!(dry_run_then_run: dry_run_then_run_sqlite, dry_run_then_run_postgres);

async fn bad_requests_name_every_problem(app: TestApp) {
    let (_, token) = app.admin().await;
    let ada = id(&app.person(&token, "Ada").await);
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/contacts/actions",
            &json!({"action": "nope.nothing", "contact_ids": [ada, 99_999_999, -4]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        error_paths(&body),
        ["action", "contact_ids[1]", "contact_ids[2]"],
        "{body}"
    );

    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/contacts/actions",
            &json!({"action": "tasks.create_task", "params": {"title": "Call {{ name"}, "contact_ids": [ada]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_paths(&body), ["params.title"], "{body}");

    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/contacts/actions",
            &json!({"action": "tasks.create_task", "params": {}, "contact_ids": [ada]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_paths(&body)[0].starts_with("params"), "{body}");

    let (_, agent) = app.agent().await;
    let (status, body) = app
        .post_json(
            &agent,
            "/api/v1/contacts/actions",
            &json!({"action": "tasks.create_task", "params": {"title": "x"}, "contact_ids": [ada]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, manager) = app.user(kartoteka_core::auth::Role::Manager).await;
    let (status, body) = app
        .post_json(
            &manager,
            "/api/v1/contacts/actions",
            &json!({"action": "access.grant_access", "params": {"principal": {"role": "agent"}, "level": "read"}, "contact_ids": [ada]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = app.get(&token, "/api/v1/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"], json!([]), "no job was started: {body}");
}
both!(bad_requests_name_every_problem: bad_requests_name_every_problem_sqlite, bad_requests_name_every_problem_postgres);

async fn granting_access_shows_the_contacts_to_an_agent(app: TestApp) {
    let (_, token) = app.admin().await;
    let (agent, agent_token) = app.agent().await;
    let ids = people(&app, &token, &["Ada", "Grace", "Hedy"]).await;
    assert_eq!(
        app.item_names(&agent_token, "/api/v1/contacts").await,
        Vec::<String>::new()
    );
    let job = start(
        &app,
        &token,
        json!({"action": "access.grant_access", "params": {"principal": {"user": agent.id}, "level": "read"}, "contact_ids": [ids[0], ids[2]]}),
    )
    .await;
    let job = ended(&app, &token, job).await;
    assert_eq!(
        (job["state"].as_str(), job["done"].as_i64()),
        (Some("done"), Some(2)),
        "{job}"
    );
    assert_eq!(
        app.item_names(&agent_token, "/api/v1/contacts?sort=name").await,
        ["Ada", "Hedy"]
    );
    let (status, _) = app.get(&agent_token, &format!("/api/v1/contacts/{}", ids[1])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, count) = app.get(&agent_token, "/api/v1/contacts/count").await;
    assert_eq!(count["count"], 2, "{count}");
    assert_eq!(app.item_names(&agent_token, "/api/v1/contacts?q=hedy").await, ["Hedy"]);
    // Read, not write.
    let (status, _) = app
        .patch_json(
            &agent_token,
            &format!("/api/v1/contacts/{}", ids[0]),
            &json!({"version": 1, "city": "X"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Revoked the same way: from the next request on, the agent sees none of them.
    let (_, actions) = app.get(&token, "/api/v1/actions").await;
    assert!(
        actions["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "access.revoke_access"),
        "{actions}"
    );
    let revoke = start(
        &app,
        &token,
        json!({"action": "access.revoke_access", "params": {"principal": {"user": agent.id}}, "contact_ids": [ids[0]]}),
    )
    .await;
    let revoke = ended(&app, &token, revoke).await;
    assert_eq!(
        (revoke["state"].as_str(), revoke["done"].as_i64()),
        (Some("done"), Some(1)),
        "{revoke}"
    );
    assert_eq!(
        app.item_names(&agent_token, "/api/v1/contacts?sort=name").await,
        ["Hedy"]
    );
    let (_, count) = app.get(&agent_token, "/api/v1/contacts/count").await;
    assert_eq!(count["count"], 1, "{count}");
    let (status, bad) = app
        .post_json(
            &token,
            "/api/v1/contacts/actions",
            &json!({"action": "access.revoke_access", "params": {"principal": {"role": "boss"}}, "contact_ids": [ids[0]]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(error_paths(&bad), ["params.principal.role"], "{bad}");
}
both!(granting_access_shows_the_contacts_to_an_agent: granting_access_shows_the_contacts_to_an_agent_sqlite, granting_access_shows_the_contacts_to_an_agent_postgres);

async fn a_plugin_that_traps_on_some_contacts_fails_those_not_the_job(app: TestApp) {
    let (_, token) = app.admin().await;
    crate::plugins::install(&app, &token, "hostile_trap_action").await;
    let (status, body) = app.post_json(&token, "/api/v1/plugins/trap/approve", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post_json(&token, "/api/v1/plugins/trap/enable", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names = ["a1", "a2", "trap one", "a3", "a4", "a5", "a6", "trap two", "a7", "a8"];
    let ids = people(&app, &token, &names).await;
    let job = start(&app, &token, json!({"action": "trap.task_or_trap", "contact_ids": ids})).await;
    let job = ended(&app, &token, job).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(
        (job["done"].as_i64(), job["failed"].as_i64()),
        (Some(8), Some(2)),
        "{job}"
    );
    let (_, failed) = app.get(&token, &format!("/api/v1/jobs/{}/outcomes", id(&job))).await;
    let failed = failed["items"].as_array().unwrap().clone();
    let failed_names: Vec<&str> = failed.iter().map(|o| o["contact_name"].as_str().unwrap()).collect();
    assert_eq!(failed_names, ["trap one", "trap two"], "{failed:?}");
    assert!(
        failed[0]["reason"].as_str().unwrap().contains("trap"),
        "the reason names the plugin: {failed:?}"
    );
    let (_, done) = app
        .get(&token, &format!("/api/v1/jobs/{}/outcomes?outcome=done", id(&job)))
        .await;
    assert_eq!(done["items"].as_array().unwrap().len(), 8, "{done}");
    let tasks = job_tasks(&app, &token, id(&job)).await;
    assert_eq!(tasks.len(), 8, "{tasks:?}");
}
both!(a_plugin_that_traps_on_some_contacts_fails_those_not_the_job: a_plugin_that_traps_on_some_contacts_fails_those_not_the_job_sqlite, a_plugin_that_traps_on_some_contacts_fails_those_not_the_job_postgres);

async fn cancel_stops_within_a_batch(app: TestApp) {
    let (_, token) = app.admin().await;
    let names: Vec<String> = (0..120).map(|n| format!("P{n:03}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ids = people(&app, &token, &names).await;
    // One contact per plugin call: a long job in small steps.
    app.core().jobs().set_batch_size(1);
    let job = start(
        &app,
        &token,
        json!({"action": "tasks.create_task", "params": {"title": "Call {{ name }}"}, "contact_ids": ids}),
    )
    .await;
    let (status, cancelled) = app
        .post_json(&token, &format!("/api/v1/jobs/{job}/cancel"), &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert!(
        ["cancelling", "cancelled"].contains(&cancelled["state"].as_str().unwrap()),
        "{cancelled}"
    );
    let job = ended(&app, &token, job).await;
    assert_eq!(job["state"], "cancelled", "{job}");
    assert!(job["done"].as_i64().unwrap() < 120, "it stopped before the end: {job}");
    let tasks = job_tasks(&app, &token, id(&job)).await.len();
    assert_eq!(tasks as i64, job["done"].as_i64().unwrap(), "{job}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        job_tasks(&app, &token, id(&job)).await.len(),
        tasks,
        "nothing after the cancel"
    );
    let (status, again) = app
        .post_json(&token, &format!("/api/v1/jobs/{}/cancel", id(&job)), &json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
}
both!(cancel_stops_within_a_batch: cancel_stops_within_a_batch_sqlite, cancel_stops_within_a_batch_postgres);

async fn an_effect_key_is_applied_once(app: TestApp) {
    use kartoteka_core::tasks::{KeyedTask, insert_keyed};
    let (admin, token) = app.admin().await;
    let ada = id(&app.person(&token, "Ada").await);
    let job = start(
        &app,
        &token,
        json!({"action": "tasks.create_task", "params": {"title": "Call {{ name }}"}, "contact_ids": [ada], "dry_run": true}),
    )
    .await;
    ended(&app, &token, job).await;
    let task = |title: &str| KeyedTask {
        job_id: job,
        contact_id: ada,
        effect_index: 0,
        assignee_id: Some(admin.id),
        title: title.into(),
        body: String::new(),
        due_at: None,
        created_by: Some(admin.id),
    };
    let db = app.core().db();
    let now = app.core().clock().now();
    assert_eq!(insert_keyed(db, vec![task("first")], now).await.unwrap(), 1);
    assert_eq!(insert_keyed(db, vec![task("again")], now).await.unwrap(), 0);
    let tasks = job_tasks(&app, &token, job).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["title"], "first");
}
both!(an_effect_key_is_applied_once: an_effect_key_is_applied_once_sqlite, an_effect_key_is_applied_once_postgres);

async fn the_welcome_plugin_runs_through_the_same_path(app: TestApp) {
    let (_, token) = app.admin().await;
    crate::plugins::install(&app, &token, "kartoteka_example_welcome_email").await;
    let (status, body) = app
        .post_json(&token, "/api/v1/plugins/welcome/approve", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post_json(&token, "/api/v1/plugins/welcome/enable", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ada = id(&app
        .create_contact(
            &token,
            &json!({"type": "client", "name": "Ada", "email": "ada@example.com"}),
        )
        .await);
    let grace = id(&app.person(&token, "Grace").await);
    let request = json!({"action": "welcome.send_welcome", "params": {"subject": "Hello"}, "contact_ids": [ada, grace], "dry_run": true});
    let job = ended(&app, &token, start(&app, &token, request).await).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(
        (job["done"].as_i64(), job["skipped"].as_i64()),
        (Some(1), Some(1)),
        "{job}"
    );
    assert_eq!(job["effect_counts"], json!({"send_email": 1}), "{job}");
    let (_, effects) = app.get(&token, &format!("/api/v1/jobs/{}/effects", id(&job))).await;
    assert_eq!(effects["items"][0]["effect"]["to"], "ada@example.com", "{effects}");
    assert_eq!(effects["items"][0]["effect"]["subject"], "Hello", "{effects}");
    let (_, skipped) = app
        .get(&token, &format!("/api/v1/jobs/{}/outcomes?outcome=skipped", id(&job)))
        .await;
    assert_eq!(skipped["items"][0]["contact_name"], "Grace", "{skipped}");
    // A sending action never sees a contact without an address: skipped, and why.
    assert_eq!(skipped["items"][0]["reason"], "no e-mail address", "{skipped}");
    // Sending for real needs the secret that signs the links: this server has none, so
    // the start is refused and says why, never silently dropped.
    let (status, body) = app
        .post_json(
            &token,
            "/api/v1/contacts/actions",
            &json!({"action": "welcome.send_welcome", "contact_ids": [ada]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_paths(&body), ["dry_run"], "{body}");
    assert!(body.to_string().contains("KARTOTEKA_SECRET"), "{body}");
}
both!(the_welcome_plugin_runs_through_the_same_path: the_welcome_plugin_runs_through_the_same_path_sqlite, the_welcome_plugin_runs_through_the_same_path_postgres);
