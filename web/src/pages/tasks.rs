//! Tasks in the pages: "My tasks" (the user's open tasks by due date, overdue ones marked,
//! then the ones done lately), the Tasks section of a contact's card with its form to add
//! one, and the Done and Reopen buttons of both.
//!
//! A Done or Reopen button is a form that posts with the session's CSRF token; with htmx
//! it posts in the background and the answer is the task's row, swapped in place
//! (`tasks/_row.html`); without JavaScript the answer is a redirect back to the page
//! (the `back` input) with a message.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::error::Problems;
use kartoteka_core::tasks::{NewTask, Task, TaskPatch, TaskStatus};

use super::Nav;
use super::contact_lists::back_url;
use super::contacts::Choice;
use super::flash::{self, Flash};
use super::jobs::{is_htmx, varies};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The task routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::TASKS, get(my_tasks))
        .route("/tasks/{id}/{action}", get(to_tasks).post(change))
}

/// A GET on a task form's address (a reload): "My tasks".
async fn to_tasks() -> Redirect {
    Redirect::to(urls::TASKS)
}

/// Which page a task row is on: "My tasks" shows the contact, the card the assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Mine,
    Card,
}

impl View {
    fn parse(s: &str) -> Self {
        if s == "card" { View::Card } else { View::Mine }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            View::Mine => "mine",
            View::Card => "card",
        }
    }
}

/// A task as a row.
#[derive(Debug, Clone)]
pub struct ShownTask {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub contact_url: String,
    pub contact_name: String,
    pub assignee: String,
    /// The due date (and time, unless midnight UTC); empty when none.
    pub due: String,
    pub overdue: bool,
    pub done: bool,
    pub done_at: String,
    /// Whether the user may mark it done or reopen it.
    pub may_change: bool,
    pub done_url: String,
    pub reopen_url: String,
    pub view: View,
    /// The page the buttons come back to without JavaScript.
    pub back: String,
    pub csrf_token: String,
}

impl ShownTask {
    /// Whether the row shows the contact (on "My tasks") rather than the assignee.
    pub fn shows_contact(&self) -> bool {
        self.view == View::Mine
    }
}

fn due_text(due: DateTime<Utc>) -> String {
    if due.time() == NaiveTime::MIN {
        due.format("%Y-%m-%d").to_string()
    } else {
        due.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// What a page needs to show tasks as rows.
pub struct RowContext<'a> {
    pub user: &'a SessionUser,
    pub now: DateTime<Utc>,
    pub view: View,
    pub back: String,
    /// The users' labels, for the assignee.
    pub people: &'a [(i64, String)],
    /// Whether the user may change the contact's tasks (the card's contact).
    pub may_write: bool,
}

impl RowContext<'_> {
    /// The row of `task`.
    pub fn row(&self, task: &Task) -> ShownTask {
        let actor = &self.user.actor;
        ShownTask {
            id: task.id,
            title: task.title.clone(),
            body: task.body.clone(),
            contact_url: urls::contact(task.contact_id),
            contact_name: task.contact_name.clone(),
            assignee: task
                .assignee_id
                .map(|a| {
                    self.people
                        .iter()
                        .find(|(id, _)| *id == a)
                        .map(|(_, label)| label.clone())
                        .unwrap_or_else(|| format!("user {a}"))
                })
                .unwrap_or_default(),
            due: task.due_at.map(due_text).unwrap_or_default(),
            overdue: task.overdue(self.now),
            done: task.status == TaskStatus::Done,
            done_at: task.done_at.map(due_text).unwrap_or_default(),
            may_change: actor.is_admin() || task.assignee_id == Some(actor.user_id) || self.may_write,
            done_url: urls::task_action(task.id, "done"),
            reopen_url: urls::task_action(task.id, "reopen"),
            view: self.view,
            back: self.back.clone(),
            csrf_token: self.user.csrf_token.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "tasks/list.html")]
struct MyTasksPage {
    nav: Nav,
    notice: Option<String>,
    open: Vec<ShownTask>,
    done: Vec<ShownTask>,
    overdue: usize,
}

#[derive(Template)]
#[template(path = "tasks/_row.html")]
struct RowPartial {
    task: ShownTask,
}

/// `GET /tasks`: the user's open tasks by due date, then the ones done lately.
async fn my_tasks(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    let (open, done) = state.core.tasks().my_tasks(&user.actor).await?;
    let people = state.core.contacts().people(&user.actor).await?;
    let context = RowContext {
        user: &user,
        now: state.core.clock().now(),
        view: View::Mine,
        back: urls::TASKS.into(),
        people: &people,
        may_write: false,
    };
    let open: Vec<ShownTask> = open.iter().map(|t| context.row(t)).collect();
    let mut response = render(&MyTasksPage {
        nav: Nav::new(&user, "tasks"),
        notice: flash.message(),
        overdue: open.iter().filter(|t| t.overdue).count(),
        open,
        done: done.iter().map(|t| context.row(t)).collect(),
    })?
    .into_response();
    flash.clear(&state, &mut response);
    Ok(varies(response))
}

/// `POST /tasks/{id}/{done|reopen}`: the task's row for htmx, else back with a message.
async fn change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::Core(Error::NotFound { what: "task" }))?;
    let status = match action.as_str() {
        "done" => TaskStatus::Done,
        "reopen" => TaskStatus::Open,
        _ => return Err(PageError::Core(Error::NotFound { what: "page" })),
    };
    let patch = TaskPatch {
        status: Some(status),
        ..TaskPatch::default()
    };
    let task = state.core.tasks().update_task(&user.actor, id, patch).await?;
    let back = match form.get("back") {
        Some(_) => back_url(&form),
        None => urls::TASKS.to_owned(),
    };
    if is_htmx(&headers) {
        let view = View::parse(form.get("view").unwrap_or_default());
        let people = state.core.contacts().people(&user.actor).await?;
        let may_write = state
            .core
            .contacts()
            .can_write_contact(&user.actor, task.contact_id)
            .await?;
        let context = RowContext {
            user: &user,
            now: state.core.clock().now(),
            view,
            back,
            people: &people,
            may_write,
        };
        return Ok(varies(
            render(&RowPartial {
                task: context.row(&task),
            })?
            .into_response(),
        ));
    }
    let message = match status {
        TaskStatus::Done => format!("Done: “{}”.", task.title),
        TaskStatus::Open => format!("Reopened “{}”.", task.title),
    };
    Ok(flash::redirect(&state, &back, &message))
}

/// The card's "add a task" form: empty, or as posted with its problems.
#[derive(Debug, Clone, Default)]
pub struct TaskForm {
    pub title: String,
    pub body: String,
    pub due: String,
    /// The chosen assignee's id (empty: no one).
    pub assignee: String,
    /// `(input, message)`.
    pub errors: Vec<(String, String)>,
}

impl TaskForm {
    /// The empty form, assigned to `actor`.
    pub fn for_user(actor: &Actor) -> Self {
        TaskForm {
            assignee: actor.user_id.to_string(),
            ..TaskForm::default()
        }
    }

    fn posted(form: &FormData) -> Self {
        TaskForm {
            title: form.text("title"),
            body: form.get("body").unwrap_or_default().to_owned(),
            due: form.text("due"),
            assignee: form.text("assignee"),
            errors: Vec::new(),
        }
    }

    /// The messages at input `name`.
    pub fn error_for(&self, name: &str) -> Option<String> {
        super::form_errors::at(&self.errors, name)
    }

    /// The problems not tied to an input.
    pub fn general_errors(&self) -> Vec<String> {
        super::form_errors::elsewhere(&self.errors, &["title", "body", "due", "assignee"])
    }
}

/// The Tasks section of a contact's card.
#[derive(Debug, Clone)]
pub struct TasksSection {
    pub rows: Vec<ShownTask>,
    /// The form to add one (for users who may change the contact).
    pub can_add: bool,
    pub form: TaskForm,
    pub create_url: String,
    /// The assignee choices.
    pub users: Vec<Choice>,
}

/// The Tasks section of contact `id`'s card, with `form` as the add form.
pub async fn section(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    people: &[(i64, String)],
    can_write: bool,
    form: TaskForm,
) -> Result<TasksSection, Error> {
    let tasks = state.core.tasks().contact_tasks(&user.actor, id).await?;
    let context = RowContext {
        user,
        now: state.core.clock().now(),
        view: View::Card,
        back: urls::contact(id),
        people,
        may_write: can_write,
    };
    let users = state
        .core
        .contacts()
        .choosable_people(&user.actor, form.assignee.parse().ok())
        .await?
        .into_iter()
        .map(|(uid, label)| Choice {
            selected: uid.to_string() == form.assignee,
            value: uid.to_string(),
            label,
        })
        .collect();
    Ok(TasksSection {
        rows: tasks.iter().map(|t| context.row(t)).collect(),
        can_add: can_write,
        form,
        create_url: urls::contact_tasks(id),
        users,
    })
}

/// The task the card's form posted, or every problem with it.
fn new_task(contact_id: i64, form: &FormData) -> Result<NewTask, Error> {
    let mut problems = Problems::default();
    let due = form.text("due");
    let due_at = if due.is_empty() {
        None
    } else {
        match NaiveDate::parse_from_str(&due, "%Y-%m-%d") {
            Ok(date) => Some(date.and_time(NaiveTime::MIN).and_utc()),
            Err(_) => {
                problems.add("due", format!("expected a date as YYYY-MM-DD, found “{due}”"));
                None
            }
        }
    };
    let assignee = form.text("assignee");
    let assignee_id = if assignee.is_empty() {
        None
    } else {
        match assignee.parse::<i64>() {
            Ok(a) => Some(a),
            Err(_) => {
                problems.add("assignee", format!("`{assignee}` is not a user"));
                None
            }
        }
    };
    let title = form.text("title");
    if title.is_empty() {
        problems.add("title", "is required");
    }
    problems.into_result()?;
    Ok(NewTask {
        contact_id,
        assignee_id,
        title,
        body: form.get("body").unwrap_or_default().to_owned(),
        due_at,
    })
}

/// `POST /contacts/{id}/tasks`: adds a task; back to the card, with the form's problems
/// next to its inputs when refused.
pub async fn create(
    state: &AppState,
    id: i64,
    user: &SessionUser,
    form: &FormData,
) -> Result<Result<String, TaskForm>, Error> {
    let result = match new_task(id, form) {
        Ok(task) => state.core.tasks().create_task(&user.actor, task).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(task) => Ok(Ok(format!("Added the task “{}”.", task.title))),
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
            let mut shown = TaskForm::posted(form);
            shown.errors = e
                .problems()
                .into_iter()
                .map(|p| {
                    let input = match p.path.as_str() {
                        "assignee_id" => "assignee".to_owned(),
                        "due_at" => "due".to_owned(),
                        other => other.to_owned(),
                    };
                    (input, p.message)
                })
                .collect();
            Ok(Err(shown))
        }
        Err(e) => Err(e),
    }
}
