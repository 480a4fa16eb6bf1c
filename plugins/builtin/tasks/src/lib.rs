//! `tasks`: the built-in bulk action `tasks.create_task`, a follow-up task for every
//! contact of the batch.
//!
//! The title and the body are templates rendered for each contact, written in
//! [minijinja](https://docs.rs/minijinja), Jinja2's syntax, rather than text with
//! placeholders replaced: a real template engine gives conditionals
//! (`{% if fields.vip %}VIP: {% endif %}Call {{ name }}`), filters (`{{ name | upper }}`,
//! `{{ fields.city | default("your city") }}`), and a mistake refused with its line
//! (`params.title: syntax error: unexpected end of input, expected end of variable block
//! (line 1)`) before any task is made, where string replacement would quietly leave a
//! misspelt `{{ nme }}` in every task.
//!
//! A template sees the contact: `id`, `name`, `kind` (the contact type's key), `email`,
//! `phone`, `owner` (the owning user's id) and `fields` (its extra fields, `fields.city`).
//! Whatever a contact lacks renders empty: an absent e-mail, phone or owner, an extra
//! field that is absent or null, and anything under it (`fields.address.city` of a contact
//! without an address), so `default(..)` fills the gap. The templates are compiled once
//! per batch.
//!
//! The title is trimmed and cut to [`MAX_TITLE`] bytes; the assignee is the contact's
//! owner unless the parameters name a user; the due date is a number of days after the
//! job's time ([`now`]: the same for every batch of a job, its dry run and its retries)
//! or a calendar date.

use std::borrow::Cow;

use kartoteka_plugin_sdk::calendar::{self, DAY};
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::schemars::{Schema, SchemaGenerator, json_schema};
use kartoteka_plugin_sdk::templates::{contact_context, describe, render, truncate};
use minijinja::{Environment, Template, UndefinedBehavior, Value as Jinja};

/// The longest title a task gets, in bytes: what the server stores for a task's title. (A
/// plugin's answer may carry strings of up to 64 KiB, `MAX_STRING` in
/// `core/src/plugin/limits.rs`, but a title is a line, not a page.)
pub const MAX_TITLE: usize = 1000;

/// The longest body, in bytes: the host refuses an answer with a longer one (`MAX_BODY`
/// in `core/src/plugin/values/effects.rs`).
pub const MAX_BODY: usize = 1 << 20;

/// The most days `in_days` may put the due date after the job's time: ten years.
pub const MAX_DAYS: u16 = 3650;

/// The parameters of `create_task`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// The task's title, a template rendered for each contact: `Call {{ name }}`,
    /// `Visit {{ fields.city | default("them") }}`. Trimmed, and cut to 1000 bytes.
    pub title: String,
    /// The task's description, a template rendered for each contact; empty when absent.
    #[serde(default)]
    pub body: Option<String>,
    /// Who the task is for: `"owner"`, the contact's owner (no one when the contact has
    /// none), or `{"user": ID}`, that user. The contact's owner when absent.
    #[serde(default)]
    pub assignee: Assignee,
    /// When the task is due: `{"in_days": N}`, N days after the job's time (0 to 3650), or
    /// `{"on": "YYYY-MM-DD"}`, that day at 00:00 UTC. No due date when absent.
    #[serde(default)]
    pub due: Option<Due>,
}

/// Who a task is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// The contact's owner; no one when the contact has none.
    #[default]
    Owner,
    /// A user, by id.
    User(i64),
}

/// When a task is due.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// N days after the job's time, 0 to 3650.
    InDays(Days),
    /// A calendar date, `YYYY-MM-DD`: the task is due at its start, 00:00 UTC.
    On(Midnight),
}

/// A number of days, 0 to [`MAX_DAYS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "i64")]
pub struct Days(pub u16);

impl TryFrom<i64> for Days {
    type Error = String;

    fn try_from(days: i64) -> Result<Self, String> {
        u16::try_from(days)
            .ok()
            .filter(|days| *days <= MAX_DAYS)
            .map(Days)
            .ok_or_else(|| format!("expected a number of days from 0 to {MAX_DAYS}, found {days}"))
    }
}

impl JsonSchema for Days {
    fn schema_name() -> Cow<'static, str> {
        "Days".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 0, "maximum": MAX_DAYS})
    }
}

/// A `YYYY-MM-DD` date, as the instant it starts: seconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Midnight(pub i64);

impl TryFrom<String> for Midnight {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        calendar::parse_date(&text)
            .map(|date| Midnight(calendar::midnight(date)))
            .ok_or_else(|| format!("expected a date as YYYY-MM-DD, found {text:?}"))
    }
}

impl JsonSchema for Midnight {
    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "format": "date"})
    }
}

impl Due {
    /// Seconds since the Unix epoch, `now` being the job's time.
    pub fn at(self, now: i64) -> i64 {
        match self {
            Due::InDays(Days(days)) => now.saturating_add(i64::from(days) * DAY),
            Due::On(Midnight(midnight)) => midnight,
        }
    }
}

/// `tasks.create_task`: one task per contact of the batch.
#[derive(Default)]
pub struct CreateTaskAction;

impl Action for CreateTaskAction {
    const NAME: &'static str = "create_task";
    const LABEL: &'static str = "Create a task";
    const CAPABILITIES: &'static [Capability] = &[Capability::CreateTask];
    type Params = Params;

    fn run(&mut self, params: &Params, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError> {
        let env = environment();
        let title = compile(&env, "params.title", &params.title)?;
        let body = match &params.body {
            Some(source) => Some(compile(&env, "params.body", source)?),
            None => None,
        };
        let due = params.due.map(|due| due.at(now()));
        contacts
            .iter()
            .map(|contact| {
                let context = context(contact)?;
                let mut task_title = render(&title, "params.title", contact, &context)?.trim().to_owned();
                truncate(&mut task_title, MAX_TITLE);
                let task_body = match &body {
                    Some(body) => render(body, "params.body", contact, &context)?,
                    None => String::new(),
                };
                if task_body.len() > MAX_BODY {
                    return Err(PluginError::at(
                        "params.body",
                        format!(
                            "renders to {} bytes for contact {}; at most {MAX_BODY}",
                            task_body.len(),
                            contact.id
                        ),
                    ));
                }
                let assignee = match params.assignee {
                    Assignee::Owner => contact.owner,
                    Assignee::User(user) => Some(user),
                };
                let task = CreateTask {
                    title: task_title,
                    body: task_body,
                    assignee,
                    due,
                };
                Ok(Effect::create_task(contact, task))
            })
            .collect()
    }
}

/// The plugin.
pub struct Tasks;

plugin!(Tasks {
    name: "tasks",
    description: "Creates follow-up tasks for contacts.",
    actions: [CreateTaskAction],
});

/// The templates' environment: Jinja2's filters and tests, undefined values that render
/// empty however deep they are read, `none` rendered empty, no HTML escaping (a task is
/// text), the text kept as written to its last newline.
fn environment<'source>() -> Environment<'source> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_keep_trailing_newline(true);
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            Ok(())
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env
}

/// `source` compiled, or the syntax error at `path`, with its line.
fn compile<'env, 'source>(
    env: &'env Environment<'source>,
    path: &str,
    source: &'source str,
) -> Result<Template<'env, 'source>, PluginError> {
    env.template_from_str(source)
        .map_err(|error| PluginError::at(path, describe(&error)))
}

/// What a template sees of `contact`. The absent e-mail, phone and owner and the null
/// extra fields are left out, so they are undefined: empty, and filled by `default(..)`.
fn context(contact: &Contact) -> Result<Jinja, PluginError> {
    Ok(Jinja::from_iter(contact_context(contact)?))
}

#[cfg(test)]
mod tests;
