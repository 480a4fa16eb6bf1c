//! The bulk-action pages on both databases: an action started from a segment's page (a
//! dry run, then "Run it for real"), its form with every problem at once and the values
//! kept, an action on ticked contacts whose job page lists the failed contact and why,
//! the Jobs page with its live progress and Cancel, and what an agent gets (no Jobs, no
//! Actions).

use kartoteka_tests::*;

use crate::jobs::ended;

/// The id in a `Location: /jobs/{id}`.
fn job_location(reply: &Reply) -> i64 {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text);
    reply
        .location()
        .and_then(|l| l.strip_prefix("/jobs/").and_then(|id| id.parse().ok()))
        .unwrap_or_else(|| panic!("a job's page, got {:?}", reply.location()))
}

async fn people(app: &TestApp, token: &str, names: &[&str]) -> Vec<i64> {
    let mut ids = Vec::new();
    for name in names {
        ids.push(id(&app.person(token, name).await));
    }
    ids
}

/// A static list of `ids`.
async fn list_of(app: &TestApp, token: &str, name: &str, ids: &[i64]) -> i64 {
    let (status, list) = app
        .post_json(token, "/api/v1/segments", &json!({"name": name, "kind": "static"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{list}");
    let list = id(&list);
    let (status, added) = app
        .post_json(
            token,
            &format!("/api/v1/segments/{list}/members"),
            &json!({"contact_ids": ids}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    list
}

/// The tasks job `job` created, through the API.
async fn job_tasks(app: &TestApp, token: &str, job: i64) -> Vec<Value> {
    let (status, body) = app.get(token, &format!("/api/v1/tasks?job_id={job}&limit=500")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

/// The `<input ...>` tag named `name` in `html`.
fn input_tag(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\"")).expect("the input");
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    html[start..=end].to_owned()
}

/// The text of the `<textarea name="NAME">` in `html`, decoded.
fn textarea(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("<textarea name=\"{name}\""))?;
    let open_end = at + html[at..].find('>')? + 1;
    let close = open_end + html[open_end..].find("</textarea>")?;
    Some(unescape_html(&html[open_end..close]))
}

async fn dry_run_from_the_segment_page_then_run_it_for_real(app: TestApp) {
    let (admin, token) = app.admin().await;
    let names = ["Ada", "Grace", "Hedy"];
    let ids = people(&app, &token, &names).await;
    let list = list_of(&app, &token, "Follow up", &ids).await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;

    let page = app.page(&client, &format!("/segments/{list}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let actions = element_html(&page.text, "segment-actions").expect("an Actions section");
    assert!(actions.contains("value=\"tasks.create_task\""), "{actions}");
    assert!(
        actions.contains(&format!("action=\"/segments/{list}/actions\"")),
        "{actions}"
    );

    let form = app
        .page(&client, &format!("/segments/{list}/actions?action=tasks.create_task"))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    for name in [
        "params.title",
        "params.assignee.user",
        "params.due.in_days",
        "params.due.on",
    ] {
        assert!(form.text.contains(&format!("name=\"{name}\"")), "an input {name}");
    }
    assert!(textarea(&form.text, "params.body").is_some(), "the body is a textarea");
    assert!(input_tag(&form.text, "params.title").contains(" required"));
    assert!(
        !input_tag(&form.text, "params.due.in_days").contains(" required"),
        "an alternative's input is required only when it is chosen"
    );
    assert!(form.text.contains("name=\"run\" value=\"dry\""));
    assert!(
        element_text(&form.text, "action-target").is_some_and(|t| t.contains("Follow up")),
        "the page says what the action runs on"
    );

    let fields = [
        ("csrf_token", csrf.as_str()),
        ("action", "tasks.create_task"),
        ("params.title", "Call {{ name }}"),
        ("params.body", ""),
        ("params.assignee", "owner"),
        ("params.due", "in_days"),
        ("params.due.in_days", "3"),
        ("params.due.on", ""),
    ];
    let mut dry = fields.to_vec();
    dry.push(("run", "dry"));
    let started = app.submit(&client, &format!("/segments/{list}/actions"), &dry).await;
    let dry_job = job_location(&started);
    let job = ended(&app, &token, dry_job).await;
    assert_eq!(
        (job["state"].as_str(), job["dry_run"].as_bool()),
        (Some("done"), Some(true)),
        "{job}"
    );
    assert_eq!(
        job["params"],
        json!({"title": "Call {{ name }}", "assignee": "owner", "due": {"in_days": 3}})
    );
    assert!(
        job_tasks(&app, &token, dry_job).await.is_empty(),
        "a dry run creates nothing"
    );

    let page = app.page(&client, &format!("/jobs/{dry_job}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("This is what the run would do"), "{}", page.text);
    let samples = element_html(&page.text, "samples").expect("the sampled effects");
    for (name, id) in names.iter().zip(&ids) {
        assert!(
            samples.contains(&format!("<a href=\"/contacts/{id}\">{name}</a>")),
            "{samples}"
        );
        assert!(samples.contains(&format!("Call {name}")), "{samples}");
    }
    assert!(
        element_text(&page.text, "job-state").is_some_and(|s| s == "done"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("hx-trigger"), "a finished job doesn't poll");
    assert!(
        page.text.contains(&format!("action=\"/jobs/{dry_job}/run\"")),
        "Run it for real"
    );

    // No token, no run.
    let forged = app.submit(&client, &format!("/jobs/{dry_job}/run"), &[]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let real = app
        .submit(&client, &format!("/jobs/{dry_job}/run"), &[("csrf_token", &csrf)])
        .await;
    let real_job = job_location(&real);
    assert_ne!(real_job, dry_job);
    let job = ended(&app, &token, real_job).await;
    assert_eq!(
        (job["state"].as_str(), job["dry_run"].as_bool()),
        (Some("done"), Some(false)),
        "{job}"
    );
    assert_eq!(job["source"]["segment"], list, "the same segment: {job}");
    let tasks = job_tasks(&app, &token, real_job).await;
    let mut per_contact: Vec<i64> = tasks.iter().map(|t| t["contact_id"].as_i64().unwrap()).collect();
    per_contact.sort_unstable();
    assert_eq!(per_contact, ids, "one task per member: {tasks:?}");
    assert!(tasks.iter().all(|t| t["title"].as_str().unwrap().starts_with("Call ")));
    let page = app.page(&client, &format!("/jobs/{real_job}")).await;
    assert!(
        page.text
            .contains(&format!("Started job {real_job} from the dry run {dry_job}"))
    );
    assert!(!page.text.contains("/run\""), "a real run is not run again");

    // The Jobs page lists both, newest first, with their progress.
    let jobs = app.page(&client, "/jobs").await;
    assert_eq!(jobs.status, StatusCode::OK, "{}", jobs.text);
    assert!(jobs.text.contains("<a href=\"/jobs\" aria-current=\"page\">Jobs</a>"));
    let table = element_html(&jobs.text, "jobs").unwrap();
    let order: Vec<i64> = table
        .split("data-job=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    assert_eq!(order, [real_job, dry_job]);
    assert!(table.contains("<progress max=\"3\" value=\"3\""), "{table}");
    assert!(table.contains("segment “Follow up”"), "{table}");
    assert!(table.contains("dry run"), "{table}");
    assert!(
        !jobs.text.contains("hx-trigger"),
        "nothing to poll when every job has ended"
    );
}
both!(dry_run_from_the_segment_page_then_run_it_for_real: dry_run_from_the_segment_page_then_run_it_for_real_sqlite, dry_run_from_the_segment_page_then_run_it_for_real_postgres);

async fn the_action_form_shows_every_problem_at_once(app: TestApp) {
    let (admin, token) = app.admin().await;
    let ids = people(&app, &token, &["Ada"]).await;
    let list = list_of(&app, &token, "One", &ids).await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    let path = format!("/segments/{list}/actions");

    let refused = app
        .submit(
            &client,
            &path,
            &[
                ("csrf_token", &csrf),
                ("action", "tasks.create_task"),
                ("params.title", " "),
                ("params.body", "Ask about <the offer>"),
                ("params.assignee", "user"),
                ("params.assignee.user", "Ada"),
                ("params.due", "in_days"),
                ("params.due.in_days", "4000"),
                ("run", "real"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    let html = &refused.text;
    assert_eq!(element_text(html, "error-params.title").as_deref(), Some("is required"));
    assert!(
        element_text(html, "error-params.assignee.user").is_some_and(|e| e.contains("whole number")),
        "{html}"
    );
    assert!(
        element_text(html, "error-params.due.in_days").is_some_and(|e| e.contains("3650")),
        "{html}"
    );
    assert_eq!(hidden_input(html, "params.assignee.user").as_deref(), Some("Ada"));
    assert_eq!(hidden_input(html, "params.due.in_days").as_deref(), Some("4000"));
    assert_eq!(textarea(html, "params.body").as_deref(), Some("Ask about <the offer>"));
    assert!(
        html.contains("id=\"choice-params.due-in_days\" checked"),
        "the chosen alternative stays chosen"
    );

    // The plugin's own check comes back next to its input too, with what was typed.
    let refused = app
        .submit(
            &client,
            &path,
            &[
                ("csrf_token", &csrf),
                ("action", "tasks.create_task"),
                ("params.title", "Call {{ name"),
                ("params.due", "on"),
                ("params.due.on", "2026-12-01"),
                ("run", "dry"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        element_text(&refused.text, "error-params.title").is_some_and(|e| e.contains("syntax")),
        "{}",
        refused.text
    );
    assert_eq!(
        hidden_input(&refused.text, "params.title").as_deref(),
        Some("Call {{ name")
    );
    assert_eq!(
        hidden_input(&refused.text, "params.due.on").as_deref(),
        Some("2026-12-01")
    );

    let (status, jobs) = app.get(&token, "/api/v1/jobs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jobs["items"], json!([]), "nothing was started");
}
both!(the_action_form_shows_every_problem_at_once: the_action_form_shows_every_problem_at_once_sqlite, the_action_form_shows_every_problem_at_once_postgres);

async fn the_job_page_lists_a_failed_contact_with_its_reason(app: TestApp) {
    let (admin, token) = app.admin().await;
    crate::plugins::install(&app, &token, "hostile_trap_action").await;
    let (status, body) = app.post_json(&token, "/api/v1/plugins/trap/approve", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post_json(&token, "/api/v1/plugins/trap/enable", &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids = people(&app, &token, &["a1", "trap one", "a2"]).await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;

    // The contacts table offers the actions beside the add-to-list form.
    let table = app.page(&client, "/contacts").await;
    assert!(table.text.contains("id=\"action-selected\""), "{}", table.text);
    assert!(table.text.contains("formaction=\"/contacts/actions\""));

    // Ticked rows (as the table's form posts them), then the action picked.
    let mut ticked: Vec<(&str, String)> = vec![
        ("csrf_token", csrf.clone()),
        ("back", "/contacts".into()),
        ("filter", String::new()),
        ("q", String::new()),
        ("scope", "selected".into()),
    ];
    ticked.extend(ids.iter().map(|id| ("contact_ids", id.to_string())));
    let form: Vec<(&str, &str)> = ticked.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let picker = app.submit(&client, "/contacts/actions", &form).await;
    assert_eq!(picker.status, StatusCode::OK, "{}", picker.text);
    let target = element_text(&picker.text, "action-target").unwrap();
    assert!(target.contains("3 contacts") && target.contains("trap one"), "{target}");
    assert!(picker.text.contains("value=\"trap.task_or_trap\""));

    let mut chosen = form.clone();
    chosen.push(("action", "trap.task_or_trap"));
    let page = app.submit(&client, "/contacts/actions", &chosen).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("id=\"action-form\""), "{}", page.text);
    assert_eq!(hidden_input(&page.text, "scope").as_deref(), Some("selected"));

    let mut run = chosen.clone();
    run.push(("run", "real"));
    run.push(("params", "{}"));
    let started = app.submit(&client, "/contacts/actions", &run).await;
    let job = job_location(&started);
    let body = ended(&app, &token, job).await;
    assert_eq!(
        (body["done"].as_i64(), body["failed"].as_i64()),
        (Some(2), Some(1)),
        "{body}"
    );

    let page = app.page(&client, &format!("/jobs/{job}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let failed = element_html(&page.text, "failed").expect("the failed targets");
    assert_eq!(row_ids(&failed), [ids[1]]);
    assert!(
        failed.contains(&format!("<a href=\"/contacts/{}\">trap one</a>", ids[1])),
        "{failed}"
    );
    let reason = failed.split("<td>").nth(2).unwrap_or_default();
    assert!(reason.contains("trap"), "the reason names the plugin: {failed}");
    assert!(page.text.contains("3 contacts"), "what it ran on");
    assert!(!page.text.contains("/run\""), "only a dry run can be run for real");

    // Nothing ticked: back to the table, with the reason.
    let nothing = app
        .submit(
            &client,
            "/contacts/actions",
            &[("csrf_token", &csrf), ("back", "/contacts"), ("scope", "selected")],
        )
        .await;
    assert_eq!(nothing.status, StatusCode::SEE_OTHER);
    assert_eq!(nothing.location().as_deref(), Some("/contacts"));
}
both!(the_job_page_lists_a_failed_contact_with_its_reason: the_job_page_lists_a_failed_contact_with_its_reason_sqlite, the_job_page_lists_a_failed_contact_with_its_reason_postgres);

async fn all_results_of_a_search_run_as_a_dry_run(app: TestApp) {
    let (admin, token) = app.admin().await;
    people(&app, &token, &["Anna Nowak", "Anna Kowal", "Bartek"]).await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    let form = [
        ("csrf_token", csrf.as_str()),
        ("back", "/contacts?q=Anna"),
        ("filter", ""),
        ("q", "Anna"),
        ("scope", "all"),
        ("action", "tasks.create_task"),
    ];
    let page = app.submit(&client, "/contacts/actions", &form).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let target = element_text(&page.text, "action-target").unwrap();
    assert!(target.contains("all 2 contacts") && target.contains("Anna"), "{target}");
    let mut run = form.to_vec();
    run.extend([("params.title", "Hello {{ name }}"), ("run", "dry")]);
    let job = job_location(&app.submit(&client, "/contacts/actions", &run).await);
    let body = ended(&app, &token, job).await;
    assert_eq!(
        (body["total"].as_i64(), body["done"].as_i64()),
        (Some(2), Some(2)),
        "{body}"
    );
    assert_eq!(body["source"]["q"], "Anna", "{body}");
    let real = job_location(
        &app.submit(&client, &format!("/jobs/{job}/run"), &[("csrf_token", &csrf)])
            .await,
    );
    let body = ended(&app, &token, real).await;
    assert_eq!(
        (body["dry_run"].as_bool(), body["done"].as_i64()),
        (Some(false), Some(2)),
        "{body}"
    );
    assert_eq!(job_tasks(&app, &token, real).await.len(), 2);
}
both!(all_results_of_a_search_run_as_a_dry_run: all_results_of_a_search_run_as_a_dry_run_sqlite, all_results_of_a_search_run_as_a_dry_run_postgres);

async fn cancel_from_the_jobs_page(app: TestApp) {
    let (admin, token) = app.admin().await;
    let names: Vec<String> = (0..120).map(|n| format!("P{n:03}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let ids = people(&app, &token, &names).await;
    let (client, csrf) = app.signed_in_client(&admin.email, PASSWORD).await;
    // One contact per plugin call: a long job in small steps.
    app.core().jobs().set_batch_size(1);
    let (status, job) = app
        .post_json(
            &token,
            "/api/v1/contacts/actions",
            &json!({"action": "tasks.create_task", "params": {"title": "Call {{ name }}"}, "contact_ids": ids}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job = id(&job);

    let page = app.page(&client, "/jobs").await;
    assert_eq!(page.status, StatusCode::OK);
    let live = element_html(&page.text, "jobs").unwrap();
    assert!(live.contains(&format!("action=\"/jobs/{job}/cancel\"")), "{live}");
    assert!(
        page.text.contains("hx-get=\"/jobs\" hx-trigger=\"every 1s\""),
        "it polls while the job runs"
    );
    // htmx asks for the table alone.
    let partial = Reply::read(
        client
            .get(app.url("/jobs"))
            .header("HX-Request", "true")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(partial.status, StatusCode::OK);
    assert!(
        partial.text.trim_start().starts_with("<div id=\"jobs-live\""),
        "{}",
        partial.text
    );
    assert!(!partial.text.contains("<html"), "the partial alone");

    let cancelled = app
        .submit(
            &client,
            &format!("/jobs/{job}/cancel"),
            &[("csrf_token", &csrf), ("back", "/jobs")],
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER, "{}", cancelled.text);
    assert_eq!(cancelled.location().as_deref(), Some("/jobs"));
    let body = ended(&app, &token, job).await;
    assert_eq!(body["state"], "cancelled", "{body}");
    assert!(body["done"].as_i64().unwrap() < 120, "{body}");

    let page = app.page(&client, "/jobs").await;
    assert!(page.text.contains("id=\"notice\""), "a message says what happened");
    let row = element_html(&page.text, "jobs").unwrap();
    assert!(row.contains("data-state=\"cancelled\""), "{row}");
    assert!(!row.contains("/cancel\""), "no Cancel once it ended");
    assert!(!page.text.contains("hx-trigger"), "nothing left to poll");
    let again = app
        .submit(&client, &format!("/jobs/{job}/cancel"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
}
both!(cancel_from_the_jobs_page: cancel_from_the_jobs_page_sqlite, cancel_from_the_jobs_page_postgres);

async fn agents_get_no_jobs_and_no_actions(app: TestApp) {
    let (_, token) = app.admin().await;
    let ids = people(&app, &token, &["Ada"]).await;
    let list = list_of(&app, &token, "Mine", &ids).await;
    let (status, job) = app
        .post_json(
            &token,
            "/api/v1/contacts/actions",
            &json!({"action": "tasks.create_task", "params": {"title": "x"}, "contact_ids": ids, "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{job}");
    let job = id(&job);

    let (agent, _) = app.agent().await;
    let (client, csrf) = app.signed_in_client(&agent.email, PASSWORD).await;
    let home = app.page(&client, "/").await;
    assert!(!home.text.contains("href=\"/jobs\""), "no Jobs in the navigation");
    assert!(home.text.contains("href=\"/tasks\""), "Tasks for everyone");
    assert_eq!(app.page(&client, "/jobs").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.page(&client, &format!("/jobs/{job}")).await.status,
        StatusCode::NOT_FOUND
    );
    let cancel = app
        .submit(&client, &format!("/jobs/{job}/cancel"), &[("csrf_token", &csrf)])
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND);
    let segment = app.page(&client, &format!("/segments/{list}")).await;
    assert_eq!(segment.status, StatusCode::OK);
    assert!(!segment.text.contains("segment-actions"), "no Actions for an agent");
    assert_eq!(
        app.page(&client, &format!("/segments/{list}/actions?action=tasks.create_task"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let start = app
        .submit(
            &client,
            "/contacts/actions",
            &[
                ("csrf_token", &csrf),
                ("scope", "selected"),
                ("contact_ids", &ids[0].to_string()),
                ("action", "tasks.create_task"),
                ("params.title", "x"),
                ("run", "real"),
            ],
        )
        .await;
    assert_eq!(start.status, StatusCode::FORBIDDEN);
    let contacts = app.page(&client, "/contacts").await;
    assert!(!contacts.text.contains("action-selected"));

    // A manager sees Jobs, and only their own.
    let (manager, _) = app.user(Role::Manager).await;
    let (client, _) = app.signed_in_client(&manager.email, PASSWORD).await;
    let jobs = app.page(&client, "/jobs").await;
    assert_eq!(jobs.status, StatusCode::OK);
    assert!(jobs.text.contains("id=\"no-jobs\""), "{}", jobs.text);
    assert_eq!(
        app.page(&client, &format!("/jobs/{job}")).await.status,
        StatusCode::NOT_FOUND
    );
}
both!(agents_get_no_jobs_and_no_actions: agents_get_no_jobs_and_no_actions_sqlite, agents_get_no_jobs_and_no_actions_postgres);
