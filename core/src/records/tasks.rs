//! Tasks: a follow-up on a contact for a user (call back, send the offer), with a due date,
//! open until someone marks it done.
//!
//! People create them by hand (`POST /api/v1/tasks`) and bulk actions create them by the
//! thousand (the `tasks.create_task` action; the job engine writes them through
//! [`insert_keyed`], each with its effect key). A user sees a task when it is assigned to
//! them or when they see its contact; they may change it when it is theirs, when they may
//! write its contact, or when they are an admin. Visibility is SQL, as for contacts.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use crate::auth::Actor;
use crate::clock::stored;
use crate::contacts::{Access, ContactReader, visibility};
use crate::entities::{contacts, tasks, users};
use crate::error::Problems;
use crate::{Error, Result};

/// Whether a task is still to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Open,
    Done,
}

impl TaskStatus {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
        }
    }

    /// Reads a stored or sent name; `path` names it in the error.
    pub fn parse(s: &str, path: &str) -> Result<Self> {
        match s {
            "open" => Ok(TaskStatus::Open),
            "done" => Ok(TaskStatus::Done),
            other => Err(Error::invalid(
                path,
                format!("unknown status `{other}`; expected open or done"),
            )),
        }
    }
}

/// A task as users see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub id: i64,
    pub contact_id: i64,
    pub contact_name: String,
    pub assignee_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub due_at: Option<DateTime<Utc>>,
    pub status: TaskStatus,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// The job that created it.
    pub job_id: Option<i64>,
}

impl Task {
    /// Whether it is open and past its due time at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.status == TaskStatus::Open && self.due_at.is_some_and(|due| due < now)
    }
}

/// Which tasks to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskQuery {
    /// Only those assigned to this user.
    pub assignee_id: Option<i64>,
    pub status: Option<TaskStatus>,
    pub contact_id: Option<i64>,
    pub job_id: Option<i64>,
    /// After this task id (the list is by id).
    pub after: Option<i64>,
    pub limit: u64,
}

/// A task to create by hand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewTask {
    pub contact_id: i64,
    pub assignee_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub due_at: Option<DateTime<Utc>>,
}

/// A change to a task: every field optional; `Some(None)` clears.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskPatch {
    pub status: Option<TaskStatus>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub due_at: Option<Option<DateTime<Utc>>>,
    pub assignee_id: Option<Option<i64>>,
}

/// A task a job creates, with its effect key `(job_id, contact_id, effect_index)`.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedTask {
    pub job_id: i64,
    pub contact_id: i64,
    pub effect_index: i32,
    pub assignee_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub due_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
}

/// The tasks service.
#[derive(Debug, Clone)]
pub struct Tasks {
    reader: ContactReader,
}

/// The longest title, in bytes.
pub const MAX_TITLE: usize = 1_000;

/// The longest body, in bytes.
pub const MAX_BODY: usize = 1 << 20;

/// The most tasks one list answers.
pub const MAX_LIST: u64 = 500;

/// Tasks `actor` sees: theirs, or on a contact they see.
fn seen_by(actor: &Actor) -> Condition {
    if actor.is_admin() {
        return Condition::all();
    }
    Condition::any()
        .add(tasks::Column::AssigneeId.eq(actor.user_id))
        .add(visibility::condition(actor, Access::Read))
}

/// A task row with its contact's name.
#[derive(Debug, FromQueryResult)]
struct TaskRow {
    id: i64,
    contact_id: i64,
    assignee_id: Option<i64>,
    title: String,
    body: String,
    due_at: Option<DateTime<Utc>>,
    status: String,
    created_by: Option<i64>,
    created_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
    job_id: Option<i64>,
    contact_name: String,
}

fn to_task(row: TaskRow) -> Result<Task> {
    Ok(Task {
        id: row.id,
        contact_id: row.contact_id,
        contact_name: row.contact_name,
        assignee_id: row.assignee_id,
        title: row.title,
        body: row.body,
        due_at: row.due_at,
        status: TaskStatus::parse(&row.status, "status")?,
        created_by: row.created_by,
        created_at: row.created_at,
        done_at: row.done_at,
        job_id: row.job_id,
    })
}

impl Tasks {
    pub fn new(reader: ContactReader) -> Self {
        Tasks { reader }
    }

    fn select(&self, actor: &Actor) -> sea_orm::Select<tasks::Entity> {
        tasks::Entity::find()
            .join(
                sea_orm::JoinType::InnerJoin,
                tasks::Entity::belongs_to(contacts::Entity)
                    .from(tasks::Column::ContactId)
                    .to(contacts::Column::Id)
                    .into(),
            )
            .filter(seen_by(actor))
    }

    async fn fetch(&self, select: sea_orm::Select<tasks::Entity>) -> Result<Vec<Task>> {
        let rows = select
            .column_as(contacts::Column::Name, "contact_name")
            .into_model::<TaskRow>()
            .all(&self.reader.base.db)
            .await?;
        rows.into_iter().map(to_task).collect()
    }

    /// Tasks `actor` sees, by id, `query.limit` at most ([`MAX_LIST`]).
    pub async fn list_tasks(&self, actor: &Actor, query: &TaskQuery) -> Result<Vec<Task>> {
        let mut select = self.select(actor);
        if let Some(user) = query.assignee_id {
            select = select.filter(tasks::Column::AssigneeId.eq(user));
        }
        if let Some(status) = query.status {
            select = select.filter(tasks::Column::Status.eq(status.as_str()));
        }
        if let Some(contact) = query.contact_id {
            select = select.filter(tasks::Column::ContactId.eq(contact));
        }
        if let Some(job) = query.job_id {
            select = select.filter(tasks::Column::JobId.eq(job));
        }
        if let Some(after) = query.after {
            select = select.filter(tasks::Column::Id.gt(after));
        }
        self.fetch(
            select
                .order_by_asc(tasks::Column::Id)
                .limit(query.limit.clamp(1, MAX_LIST)),
        )
        .await
    }

    /// The "My tasks" list: `actor`'s open tasks by due date (undated last), then the
    /// ones done most recently, [`MAX_LIST`] of each at most.
    pub async fn my_tasks(&self, actor: &Actor) -> Result<(Vec<Task>, Vec<Task>)> {
        let mine = || self.select(actor).filter(tasks::Column::AssigneeId.eq(actor.user_id));
        let open = self
            .fetch(
                mine()
                    .filter(tasks::Column::Status.eq("open"))
                    .order_by_asc(Expr::col((tasks::Entity, tasks::Column::DueAt)).is_null())
                    .order_by_asc(tasks::Column::DueAt)
                    .order_by_asc(tasks::Column::Id)
                    .limit(MAX_LIST),
            )
            .await?;
        let done = self
            .fetch(
                mine()
                    .filter(tasks::Column::Status.eq("done"))
                    .order_by_desc(tasks::Column::DoneAt)
                    .order_by_desc(tasks::Column::Id)
                    .limit(50),
            )
            .await?;
        Ok((open, done))
    }

    /// The tasks of contact `contact_id` that `actor` sees: open first, by due date.
    pub async fn contact_tasks(&self, actor: &Actor, contact_id: i64) -> Result<Vec<Task>> {
        self.fetch(
            self.select(actor)
                .filter(tasks::Column::ContactId.eq(contact_id))
                .order_by_desc(tasks::Column::Status.eq("open"))
                .order_by_asc(tasks::Column::DueAt)
                .order_by_desc(tasks::Column::Id)
                .limit(MAX_LIST),
        )
        .await
    }

    /// One task `actor` sees.
    pub async fn get_task(&self, actor: &Actor, id: i64) -> Result<Task> {
        self.fetch(self.select(actor).filter(tasks::Column::Id.eq(id)))
            .await?
            .pop()
            .ok_or(Error::NotFound { what: "task" })
    }

    async fn check_assignee(&self, problems: &mut Problems, path: &str, assignee: Option<i64>) -> Result<()> {
        if let Some(user) = assignee {
            match users::Entity::find_by_id(user).one(&self.reader.base.db).await? {
                None => problems.add(path, format!("no user with id {user}")),
                Some(u) if u.deactivated_at.is_some() => {
                    problems.add(path, crate::contacts::ownership::deactivated(&u));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Creates a task on a contact `actor` may write.
    pub async fn create_task(&self, actor: &Actor, new: NewTask) -> Result<Task> {
        let mut problems = Problems::default();
        check_text(&mut problems, "title", &new.title, MAX_TITLE, true);
        check_text(&mut problems, "body", &new.body, MAX_BODY, false);
        self.check_assignee(&mut problems, "assignee_id", new.assignee_id)
            .await?;
        if !self.reader.can_write_contact(actor, new.contact_id).await? {
            problems.add("contact_id", format!("no contact {} you may change", new.contact_id));
        }
        problems.into_result()?;
        let row = tasks::ActiveModel {
            contact_id: Set(new.contact_id),
            assignee_id: Set(new.assignee_id),
            title: Set(new.title.trim().to_owned()),
            body: Set(new.body),
            due_at: Set(new.due_at.map(stored)),
            status: Set("open".into()),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(stored(self.reader.base.clock.now())),
            ..Default::default()
        }
        .insert(&self.reader.base.db)
        .await?;
        self.get_task(actor, row.id).await
    }

    /// Changes a task: its assignee, an admin, or whoever may write its contact.
    pub async fn update_task(&self, actor: &Actor, id: i64, patch: TaskPatch) -> Result<Task> {
        let task = self.get_task(actor, id).await?;
        let may = actor.is_admin()
            || task.assignee_id == Some(actor.user_id)
            || self.reader.can_write_contact(actor, task.contact_id).await?;
        if !may {
            return Err(Error::Forbidden(
                "only the assignee, an admin or someone who may change the contact may change this task".into(),
            ));
        }
        let mut problems = Problems::default();
        if let Some(title) = &patch.title {
            check_text(&mut problems, "title", title, MAX_TITLE, true);
        }
        if let Some(body) = &patch.body {
            check_text(&mut problems, "body", body, MAX_BODY, false);
        }
        if let Some(assignee) = patch.assignee_id {
            self.check_assignee(&mut problems, "assignee_id", assignee).await?;
        }
        problems.into_result()?;
        let mut row: tasks::ActiveModel = tasks::ActiveModel {
            id: Set(id),
            ..Default::default()
        };
        if let Some(status) = patch.status {
            row.status = Set(status.as_str().into());
            row.done_at = Set(match status {
                TaskStatus::Done if task.status == TaskStatus::Done => task.done_at,
                TaskStatus::Done => Some(stored(self.reader.base.clock.now())),
                TaskStatus::Open => None,
            });
        }
        if let Some(title) = patch.title {
            row.title = Set(title.trim().to_owned());
        }
        if let Some(body) = patch.body {
            row.body = Set(body);
        }
        if let Some(due) = patch.due_at {
            row.due_at = Set(due.map(stored));
        }
        if let Some(assignee) = patch.assignee_id {
            row.assignee_id = Set(assignee);
        }
        if row.is_changed() {
            row.update(&self.reader.base.db).await?;
        }
        self.get_task(actor, id).await
    }
}

fn check_text(problems: &mut Problems, path: &str, text: &str, max: usize, required: bool) {
    if required && text.trim().is_empty() {
        problems.add(path, "is required");
    } else if text.len() > max {
        problems.add(path, format!("is {} bytes long; at most {max}", text.len()));
    } else if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
        problems.add(path, "holds a control character");
    }
}

/// Writes tasks a job created, skipping those whose effect key is already there (the batch
/// committed before): the number written.
pub async fn insert_keyed(conn: &impl ConnectionTrait, rows: Vec<KeyedTask>, now: DateTime<Utc>) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let now = stored(now);
    let models = rows.into_iter().map(|t| tasks::ActiveModel {
        contact_id: Set(t.contact_id),
        assignee_id: Set(t.assignee_id),
        title: Set(t.title),
        body: Set(t.body),
        due_at: Set(t.due_at.map(stored)),
        status: Set("open".into()),
        created_by: Set(t.created_by),
        created_at: Set(now),
        done_at: Set(None),
        job_id: Set(Some(t.job_id)),
        effect_index: Set(Some(t.effect_index)),
        ..Default::default()
    });
    let written = tasks::Entity::insert_many(models)
        .on_conflict(
            OnConflict::columns([
                tasks::Column::JobId,
                tasks::Column::ContactId,
                tasks::Column::EffectIndex,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(written)
}
