//! A contact's card: its fields, company or people, owner, tasks, activities, change log
//! (with band changes), segments (with the explanation of one) and scores (each
//! explained), and the forms that log an activity on it and add a task to it.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_core::Error;
use kartoteka_core::activities::{self, Activity, KINDS, NewActivity};
use kartoteka_core::auth::Actor;
use kartoteka_core::contacts::Contact;
use kartoteka_core::error::Problems;
use kartoteka_core::fields::{FieldKind, value::parse_datetime};
use serde_json::{Map, Value};

use super::Nav;
use super::contact_form;
use super::contact_history::{self, ShownEvent};
use super::contact_scores::{self, ShownScore};
use super::contact_segments::{self, SegmentsSection};
use super::contacts::parse_id;
use super::flash::{self, Flash};
use super::tasks::{self, TaskForm, TasksSection};
use crate::api::json::query_pairs;
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// One extra field on the card.
#[derive(Debug, Clone)]
pub struct ShownField {
    pub label: String,
    pub value: String,
    pub is_link: bool,
}

/// One activity on the card.
#[derive(Debug, Clone)]
pub struct ShownActivity {
    pub kind: String,
    pub at: String,
    pub amount: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "contacts/card.html")]
struct CardPage {
    nav: Nav,
    contact: Contact,
    type_label: String,
    company: Option<(String, String)>,
    members: Vec<(String, String)>,
    owner: String,
    /// The extra fields holding a value, in the sections of the type's card layout (empty
    /// sections left out).
    field_sections: Vec<(String, Vec<ShownField>)>,
    /// Those no section holds.
    other_fields: Vec<ShownField>,
    activities: Vec<ShownActivity>,
    history: Vec<ShownEvent>,
    last_contacted: String,
    can_write: bool,
    activity_kinds: Vec<&'static str>,
    activity: ActivityForm,
    /// What the last form did ("Created Anna.").
    notice: Option<String>,
    edit_url: String,
    delete_url: String,
    activity_url: String,
    segments: SegmentsSection,
    /// Its score under each scoring model of its kind, explained.
    scores: Vec<ShownScore>,
    tasks: TasksSection,
    card_url: String,
}

impl CardPage {
    fn text(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("")
    }
}

fn show_json(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(show_json).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn shown_activity(a: &Activity) -> ShownActivity {
    ShownActivity {
        kind: kartoteka_core::activities::kind_label(&a.kind),
        at: a.occurred_at.format("%Y-%m-%d %H:%M").to_string(),
        amount: a.amount.map(|v| format!("{v:.2}")).unwrap_or_default(),
        details: a
            .properties
            .iter()
            .map(|(k, v)| format!("{k}: {}", show_json(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The card's "log an activity" form: empty, or after a failed submit what was typed with
/// every problem next to its input.
#[derive(Debug, Clone)]
pub struct ActivityForm {
    pub kind: String,
    pub occurred_at: String,
    pub amount: String,
    pub properties: String,
    /// `(input, message)`; an empty input for a problem of the whole form.
    pub errors: Vec<(String, String)>,
}

impl Default for ActivityForm {
    fn default() -> Self {
        ActivityForm {
            kind: "note".into(),
            occurred_at: String::new(),
            amount: String::new(),
            properties: String::new(),
            errors: Vec::new(),
        }
    }
}

impl ActivityForm {
    const INPUTS: [&str; 4] = ["kind", "occurred_at", "amount", "properties"];

    /// The form as submitted, with `error`'s problems.
    fn submitted(form: &FormData, error: &Error) -> Self {
        ActivityForm {
            kind: form.text("kind"),
            occurred_at: form.text("occurred_at"),
            amount: form.text("amount"),
            properties: form.get("properties").unwrap_or_default().to_owned(),
            errors: error.problems().into_iter().map(|p| (p.path, p.message)).collect(),
        }
    }

    /// The messages at input `name`.
    pub fn error_for(&self, name: &str) -> Option<String> {
        super::form_errors::at(&self.errors, name)
    }

    /// The problems not tied to an input.
    pub fn general_errors(&self) -> Vec<String> {
        super::form_errors::elsewhere(&self.errors, &Self::INPUTS)
    }
}

async fn card_page(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    forms: (ActivityForm, Option<TaskForm>),
    explain: Option<i64>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let (activity, task) = forms;
    let actor: &Actor = &user.actor;
    let contact = state.core.contacts().get_contact(actor, id).await?;
    let segments = contact_segments::section(state, actor, id, explain).await?;
    let schema = state.core.schema().current().await?;
    let company = match contact.company_id {
        Some(cid) => state
            .core
            .contacts()
            .contact_names(actor, &[cid])
            .await?
            .remove(&cid)
            .map(|name| (urls::contact(cid), name)),
        None => None,
    };
    let members = if contact.kind == kartoteka_core::contacts::ContactKind::Company {
        state
            .core
            .contacts()
            .company_members(actor, id)
            .await?
            .into_iter()
            .map(|(mid, name)| (urls::contact(mid), name))
            .collect()
    } else {
        vec![]
    };
    // Read once for the owner and the change log.
    let people = state.core.contacts().people(actor).await?;
    let owner = contact
        .owner_id
        .and_then(|oid| people.iter().find(|(id, _)| *id == oid))
        .map(|(_, label)| label.clone())
        .unwrap_or_default();
    let fields = schema
        .fields
        .iter()
        .filter_map(|d| {
            contact.fields.get(&d.key).map(|v| {
                let shown = ShownField {
                    label: d.label.clone(),
                    value: contact_form::shown_value(d.kind, v),
                    is_link: d.kind == FieldKind::Url,
                };
                (d.key.clone(), shown)
            })
        })
        .collect();
    let layout = state
        .core
        .schema()
        .layout_book()
        .await?
        .resolve(&schema, &contact.type_key);
    let arranged = layout.layout.arrange(fields);
    let field_sections = arranged.sections.into_iter().filter(|(_, f)| !f.is_empty()).collect();
    let activities = state
        .core
        .activities()
        .list_activities(actor, id, 100)
        .await?
        .iter()
        .map(shown_activity)
        .collect();
    let history = contact_history::shown(
        state,
        actor,
        &people,
        &state.core.contacts().contact_history(actor, id).await?,
    )
    .await?;
    let history = contact_scores::with_band_changes(state, actor, id, history).await?;
    let scores = contact_scores::section(state, actor, id).await?;
    let last_contacted = state
        .core
        .activities()
        .last_contacted(id)
        .await?
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "never".into());
    let can_write = state.core.contacts().can_write_contact(actor, id).await?;
    let task_refused = task.as_ref().is_some_and(|t| !t.errors.is_empty());
    let task = task.unwrap_or_else(|| TaskForm::for_user(actor));
    let tasks = tasks::section(state, user, id, &people, can_write, task).await?;
    let status = if !activity.errors.is_empty() || task_refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = CardPage {
        nav: Nav::new(user, "contacts"),
        type_label: schema
            .types
            .by_key(&contact.type_key)
            .map(|t| t.label.clone())
            .unwrap_or_default(),
        company,
        members,
        owner,
        field_sections,
        other_fields: arranged.other,
        activities,
        history,
        last_contacted,
        can_write,
        activity_kinds: KINDS.to_vec(),
        activity,
        notice,
        edit_url: urls::edit_contact(id),
        delete_url: urls::delete_contact(id),
        activity_url: urls::contact_activities(id),
        segments,
        scores,
        tasks,
        card_url: urls::contact(id),
        contact,
    };
    Ok((status, render(&page)?).into_response())
}

pub(super) async fn card(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let explain = contact_segments::explain_param(&query_pairs(query.as_deref()))?;
    let forms = (ActivityForm::default(), None);
    let mut response = card_page(&state, &user, id, forms, explain, flash.message()).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// Reads `key: value` lines into activity properties.
fn properties(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() {
                return None;
            }
            Some(match line.split_once(':') {
                Some((k, v)) if !k.trim().is_empty() && !k.contains(' ') => {
                    (k.trim().to_owned(), Value::String(v.trim().to_owned()))
                }
                _ => ("text".to_owned(), Value::String(line.to_owned())),
            })
        })
        .collect()
}

pub(super) async fn log_activity(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let mut problems = Problems::default();
    let occurred_at = form.opt("occurred_at").and_then(|v| {
        let at = parse_datetime(&v);
        if at.is_none() {
            problems.add("occurred_at", format!("`{v}` is not a date and time"));
        }
        at
    });
    let item = NewActivity {
        contact_id: id,
        kind: form.text("kind"),
        occurred_at,
        properties: properties(&form.text("properties")),
        amount: contact_form::decimal_input(&form, "amount", "amount", &mut problems),
    };
    let kind = item.kind.replace('_', " ");
    let result = if problems.is_empty() {
        state
            .core
            .activities()
            .record_activities(&user.actor, vec![item])
            .await
            .map(|_| ())
    } else {
        Err(contact_form::together(problems, activities::check(&item))?)
    };
    match result {
        Ok(()) => {
            let target = urls::contact(id);
            let mut response = Redirect::to(&target).into_response();
            flash::set(&state, &mut response, &format!("Logged a {kind}."), &target);
            Ok(response)
        }
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
            let activity = ActivityForm::submitted(&form, &e);
            card_page(&state, &user, id, (activity, None), None, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /contacts/{id}/tasks`: adds a task to the contact; back to the card, or the card
/// with the form's problems next to its inputs.
pub(super) async fn add_task(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    match tasks::create(&state, id, &user, &form).await? {
        Ok(message) => Ok(flash::redirect(&state, &urls::contact(id), &message)),
        Err(shown) => card_page(&state, &user, id, (ActivityForm::default(), Some(shown)), None, None).await,
    }
}
