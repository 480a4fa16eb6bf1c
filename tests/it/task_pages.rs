//! The task pages on both databases: "My tasks" by due date with the overdue ones marked
//! as time passes, Done and Reopen with and without htmx, and the Tasks section of a
//! contact's card with its form.

use kartoteka_tests::*;

/// Creates a task through the API; its id.
async fn task(app: &TestApp, token: &str, body: Value) -> i64 {
    let (status, task) = app.post_json(token, "/api/v1/tasks", &body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}: {task}");
    id(&task)
}

/// The ids of the task rows (`data-task="ID"`) in `html`, in order.
fn task_ids(html: &str) -> Vec<i64> {
    html.split("data-task=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

/// The HTML of the row of task `id`.
fn row(html: &str, id: i64) -> String {
    element_html(html, &format!("task-{id}")).unwrap_or_else(|| panic!("no row for task {id} in {html}"))
}

async fn my_tasks_by_due_date_with_overdue_marked(app: TestApp) {
    let (user, token) = app.admin().await;
    let (other, _) = app.agent().await;
    let ada = id(&app.person(&token, "Ada").await);
    let grace = id(&app.person(&token, "Grace").await);
    let later = task(
        &app,
        &token,
        json!({"contact_id": ada, "title": "Send the offer", "assignee_id": user.id, "due_at": "2026-11-30T00:00:00Z"}),
    )
    .await;
    let soon = task(
        &app,
        &token,
        json!({"contact_id": grace, "title": "Call back", "body": "About <the> renewal", "assignee_id": user.id, "due_at": "2026-11-25T12:00:00Z"}),
    )
    .await;
    let undated = task(
        &app,
        &token,
        json!({"contact_id": ada, "title": "Say thanks", "assignee_id": user.id}),
    )
    .await;
    task(
        &app,
        &token,
        json!({"contact_id": ada, "title": "Someone else's", "assignee_id": other.id}),
    )
    .await;
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;

    let page = app.page(&client, "/tasks").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("<a href=\"/tasks\" aria-current=\"page\">Tasks</a>"));
    let open = element_html(&page.text, "open").unwrap();
    assert_eq!(task_ids(&open), [soon, later, undated], "by due date, undated last");
    assert!(!open.contains("overdue"), "nothing is overdue yet: {open}");
    let call = row(&open, soon);
    assert!(
        call.contains(&format!("<a href=\"/contacts/{grace}\">Grace</a>")),
        "{call}"
    );
    assert!(
        call.contains("2026-11-25 12:00") && call.contains("Call back"),
        "{call}"
    );
    assert!(unescape_html(&call).contains("About <the> renewal"), "{call}");
    assert!(
        row(&open, later).contains("2026-11-30"),
        "a midnight due time shows as a date"
    );

    // Three days on, the first is overdue.
    app.clock().advance(chrono::Duration::days(3));
    let page = app.page(&client, "/tasks").await;
    let open = element_html(&page.text, "open").unwrap();
    let call = row(&open, soon);
    assert!(call.contains("class=\"task overdue\""), "{call}");
    assert!(call.contains(">overdue<"), "the word: {call}");
    assert!(!row(&open, later).contains("overdue"));
    assert!(element_text(&page.text, "open-count").is_some_and(|t| t.contains("1 overdue")));

    // Done without JavaScript: back to the page, the task among the done ones.
    let forged = app
        .submit(&client, &format!("/tasks/{soon}/done"), &[("back", "/tasks")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let done = app
        .submit(
            &client,
            &format!("/tasks/{soon}/done"),
            &[("csrf_token", &csrf), ("back", "/tasks"), ("view", "mine")],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    assert_eq!(done.location().as_deref(), Some("/tasks"));
    let page = app.page(&client, "/tasks").await;
    assert_eq!(task_ids(&element_html(&page.text, "open").unwrap()), [later, undated]);
    let finished = element_html(&page.text, "done").unwrap();
    assert_eq!(task_ids(&finished), [soon]);
    assert!(
        finished.contains(&format!("action=\"/tasks/{soon}/reopen\"")),
        "{finished}"
    );
    assert!(page.text.contains("id=\"notice\""), "{}", page.text);

    // With htmx: the answer is the row, swapped in place.
    let swapped = Reply::read(
        client
            .post(app.url(&format!("/tasks/{later}/done")))
            .header("HX-Request", "true")
            .form(&[("csrf_token", csrf.as_str()), ("back", "/tasks"), ("view", "mine")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(swapped.status, StatusCode::OK, "{}", swapped.text);
    assert!(
        swapped
            .text
            .trim_start()
            .starts_with(&format!("<tr id=\"task-{later}\"")),
        "{}",
        swapped.text
    );
    assert!(
        swapped.text.contains("task done") && swapped.text.contains("Reopen"),
        "{}",
        swapped.text
    );
    assert!(!swapped.text.contains("<html"));
    let reopened = Reply::read(
        client
            .post(app.url(&format!("/tasks/{soon}/reopen")))
            .header("HX-Request", "true")
            .form(&[("csrf_token", csrf.as_str()), ("back", "/tasks"), ("view", "mine")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.text);
    assert!(
        reopened.text.contains(">overdue<") && reopened.text.contains(">Done<"),
        "{}",
        reopened.text
    );
    let (_, mine) = app.get(&token, "/api/v1/tasks?assignee=me&status=open").await;
    let open: Vec<i64> = ids(mine["items"].as_array().unwrap());
    assert_eq!(open.len(), 2, "{mine}");
    assert!(open.contains(&soon) && open.contains(&undated), "{mine}");
}
both!(manual_clock, my_tasks_by_due_date_with_overdue_marked: my_tasks_by_due_date_with_overdue_marked_sqlite, my_tasks_by_due_date_with_overdue_marked_postgres);

async fn tasks_on_the_contact_card(app: TestApp) {
    let (user, token) = app.admin().await;
    let (agent, _) = app.agent().await;
    let ada = id(&app.person(&token, "Ada").await);
    let (client, csrf) = app.signed_in_client(&user.email, PASSWORD).await;

    let card = app.page(&client, &format!("/contacts/{ada}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(card.text.contains("id=\"no-tasks\""), "{}", card.text);
    let form = element_html(&card.text, "task-form").expect("the add form");
    assert!(
        form.contains(&format!("<option value=\"{}\" selected>", user.id)),
        "for me by default: {form}"
    );
    assert!(
        form.contains(&format!("<option value=\"{}\"", agent.id)),
        "any user: {form}"
    );

    let path = format!("/contacts/{ada}/tasks");
    let refused = app
        .submit(
            &client,
            &path,
            &[
                ("csrf_token", &csrf),
                ("title", ""),
                ("body", "Keep this"),
                ("due", "soon"),
                ("assignee", &agent.id.to_string()),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(element_text(&refused.text, "task-title-error").is_some());
    assert!(element_text(&refused.text, "task-due-error").is_some_and(|e| e.contains("YYYY-MM-DD")));
    assert_eq!(hidden_input(&refused.text, "due").as_deref(), Some("soon"));
    assert!(refused.text.contains("Keep this"));

    let added = app
        .submit(
            &client,
            &path,
            &[
                ("csrf_token", &csrf),
                ("title", "Call Ada"),
                ("body", ""),
                ("due", "2026-11-20"),
                ("assignee", &agent.id.to_string()),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text);
    assert_eq!(added.location(), Some(format!("/contacts/{ada}")));
    let card = app.page(&client, &format!("/contacts/{ada}")).await;
    let tasks = element_html(&card.text, "contact-tasks").expect("the tasks");
    assert!(tasks.contains("Call Ada") && tasks.contains("2026-11-20"), "{tasks}");
    assert!(tasks.contains(">overdue<"), "due before the clock's today: {tasks}");
    assert!(tasks.contains(&agent.email), "the assignee: {tasks}");
    let (_, list) = app.get(&token, &format!("/api/v1/tasks?contact_id={ada}")).await;
    let task = id(&list["items"][0]);
    assert_eq!(list["items"][0]["assignee_id"], agent.id, "{list}");
    assert_eq!(list["items"][0]["due_at"], "2026-11-20T00:00:00Z", "{list}");
    assert!(tasks.contains(&format!("action=\"/tasks/{task}/done\"")), "{tasks}");

    // Done from the card comes back to the card.
    let done = app
        .submit(
            &client,
            &format!("/tasks/{task}/done"),
            &[
                ("csrf_token", &csrf),
                ("back", &format!("/contacts/{ada}")),
                ("view", "card"),
            ],
        )
        .await;
    assert_eq!(done.location(), Some(format!("/contacts/{ada}")));
    let card = app.page(&client, &format!("/contacts/{ada}")).await;
    let tasks = element_html(&card.text, "contact-tasks").unwrap();
    assert!(tasks.contains("task done") && !tasks.contains(">overdue<"), "{tasks}");
}
both!(manual_clock, tasks_on_the_contact_card: tasks_on_the_contact_card_sqlite, tasks_on_the_contact_card_postgres);
