//! The contact form page as a view model: one input per core column and per extra field,
//! with the value to show (as stored, or as submitted after a failed save) and the
//! problems at each input; which extra-field boxes are shown for the chosen type.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kartoteka_core::Error;
use kartoteka_core::contacts::{CompanyChoice, Contact, ContactDraft, CoreColumn};
use kartoteka_core::error::Problem;
use kartoteka_core::fields::value::parse_datetime;
use kartoteka_core::fields::{FieldDef, FieldKind, Schema};
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::auth::{FormData, SessionUser};
use crate::error::{PageError, render};
use crate::pages::Nav;
use crate::pages::company_picker;
use crate::pages::contacts::Choice;
use crate::urls;

/// An input of the contact form, for one extra field.
#[derive(Debug, Clone)]
pub struct FieldInput {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub input_type: &'static str,
    pub inputmode: &'static str,
    pub step: &'static str,
    pub required: bool,
    pub value: String,
    pub options: Vec<(String, bool)>,
    pub error: Option<String>,
    /// The type keys the field applies to, space-separated; `*` for every type.
    pub types: String,
    /// Whether it applies to the type chosen now.
    pub applies: bool,
    /// Whether its box is shown (and its inputs sent): it applies, holds a value or has an
    /// error.
    pub shown: bool,
}

#[derive(Template)]
#[template(path = "contacts/form.html")]
struct FormPage {
    nav: Nav,
    title: String,
    action: String,
    cancel_url: String,
    version: Option<i64>,
    values: HashMap<String, String>,
    kinds: Vec<Choice>,
    types: Vec<Choice>,
    /// The picker's options to start with (the current company).
    companies: Vec<String>,
    owners: Vec<Choice>,
    fields: Vec<FieldInput>,
    /// The extra fields' inputs in the sections of the type's card layout, then "Other
    /// fields" (every input is in one of them; none is left out).
    sections: Vec<(String, Vec<FieldInput>)>,
    /// Every problem, by input name (`f.<key>` for an extra field).
    errors: Vec<(String, String)>,
    company_search_url: &'static str,
}

impl FormPage {
    /// The submitted or stored value of core input `name`.
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// The messages for input `name`, if the last submit failed there.
    fn error_for(&self, name: &str) -> Option<String> {
        let messages: Vec<&str> = self
            .errors
            .iter()
            .filter(|(input, _)| input == name)
            .map(|(_, m)| m.as_str())
            .collect();
        (!messages.is_empty()).then(|| messages.join("; "))
    }

    /// The problems not tied to one input.
    fn general_errors(&self) -> Vec<&str> {
        self.errors
            .iter()
            .filter(|(input, _)| {
                !core_inputs().any(|name| name == input) && !self.fields.iter().any(|f| &f.name == input)
            })
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

/// The form's inputs for the core columns: the written columns' paths (`company` and
/// `owner` carry the picked contact and user).
fn core_inputs() -> impl Iterator<Item = &'static str> {
    CoreColumn::WRITTEN.into_iter().map(|c| c.spec().path)
}

/// The input a problem at `path` (a `core` path) belongs to.
fn input_of(path: &str) -> String {
    match path {
        "owner_id" | "owner" => "owner".into(),
        "company_id" => "company".into(),
        _ => match path.strip_prefix("fields.") {
            Some(key) => format!("f.{key}"),
            None => path.to_owned(),
        },
    }
}

/// `(type, inputmode, step)` of the input for a field of `kind`.
fn input_type(kind: FieldKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        FieldKind::Email => ("email", "", ""),
        FieldKind::Phone => ("tel", "", ""),
        FieldKind::Url => ("url", "", ""),
        // Text, not `number`: the server reads the comma, not the browser's locale.
        FieldKind::Number | FieldKind::Money => ("text", "decimal", ""),
        FieldKind::Integer => ("text", "numeric", ""),
        FieldKind::Date => ("date", "", ""),
        // Whole seconds, as stored: saving a form must not truncate a value nobody touched.
        FieldKind::Datetime => ("datetime-local", "", "1"),
        _ => ("text", "", ""),
    }
}

/// The text an input shows for a stored value.
fn input_value(kind: FieldKind, value: &Value) -> String {
    match (kind, value) {
        (_, Value::Null) => String::new(),
        (FieldKind::Datetime, Value::String(s)) => parse_datetime(s)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default(),
        (FieldKind::Geo, v) => match (v.get("lat"), v.get("lon")) {
            (Some(lat), Some(lon)) => format!("{lat}, {lon}"),
            _ => String::new(),
        },
        (_, Value::String(s)) => s.clone(),
        (_, Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        (_, other) => other.to_string(),
    }
}

/// A stored value as the card shows it: as stored, dates and times by their kind.
pub fn shown_value(kind: FieldKind, value: &Value) -> String {
    match (kind, value) {
        (_, Value::Null) => String::new(),
        (FieldKind::Boolean, Value::Bool(b)) => if *b { "Yes" } else { "No" }.into(),
        (FieldKind::Money, Value::Number(n)) => n.as_f64().map(|f| format!("{f:.2}")).unwrap_or_default(),
        (FieldKind::Datetime, Value::String(s)) => parse_datetime(s)
            .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_else(|| s.clone()),
        (_, Value::String(s)) => s.clone(),
        (_, v) => input_value(kind, v),
    }
}

/// The type keys `def` applies to, for its box's `data-types`.
fn applies_to_keys(def: &FieldDef, schema: &Schema) -> String {
    if def.applies_to.is_empty() {
        return "*".into();
    }
    schema
        .types
        .all()
        .iter()
        .filter(|t| def.applies_to_type(&schema.types, &t.key))
        .map(|t| t.key.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The inputs for the extra fields, those of `type_key` shown (with no type: those of
/// every type), from the stored values or the submitted form.
fn field_inputs(
    schema: &Schema,
    type_key: &str,
    stored: &Map<String, Value>,
    form: Option<&FormData>,
    errors: &[(String, String)],
) -> Vec<FieldInput> {
    schema
        .fields
        .iter()
        .map(|d| {
            let name = format!("f.{}", d.key);
            let (input_type, inputmode, step) = input_type(d.kind);
            let selected: Vec<String> = match form {
                Some(f) => f.all(&name).into_iter().filter(|v| !v.is_empty()).collect(),
                None => match stored.get(&d.key) {
                    Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                    Some(v) => vec![input_value(d.kind, v)],
                    None => vec![],
                },
            };
            let value = match form {
                Some(f) => f.text(&name),
                None => stored.get(&d.key).map(|v| input_value(d.kind, v)).unwrap_or_default(),
            };
            let error = errors
                .iter()
                .filter(|(input, _)| *input == name)
                .map(|(_, m)| m.clone())
                .reduce(|a, b| format!("{a}; {b}"));
            let applies = if type_key.is_empty() {
                d.applies_to.is_empty()
            } else {
                d.applies_to_type(&schema.types, type_key)
            };
            let has_value = !value.is_empty() || !selected.is_empty();
            FieldInput {
                label: d.label.clone(),
                kind: d.kind.as_str(),
                input_type,
                inputmode,
                step,
                required: d.required,
                options: d.options.iter().map(|o| (o.clone(), selected.contains(o))).collect(),
                types: applies_to_keys(d, schema),
                shown: applies || has_value || error.is_some(),
                applies,
                error,
                value,
                name,
            }
        })
        .collect()
}

/// The form's core inputs as stored: what the edit form starts from.
fn stored_values(c: &ContactDraft, company: Option<&CompanyChoice>) -> HashMap<String, String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let company = match (c.company_id, company) {
        (_, Some(choice)) => company_picker::label(choice),
        (Some(id), None) => format!("a company not visible to you #{id}"),
        (None, None) => String::new(),
    };
    HashMap::from([
        ("kind".to_owned(), c.kind.clone()),
        ("type".to_owned(), c.type_key.clone()),
        ("name".to_owned(), c.name.clone()),
        ("email".to_owned(), opt(&c.email)),
        ("phone".to_owned(), opt(&c.phone)),
        ("position".to_owned(), opt(&c.position)),
        ("company".to_owned(), company),
        ("street".to_owned(), opt(&c.street)),
        ("city".to_owned(), opt(&c.city)),
        ("region".to_owned(), opt(&c.region)),
        ("country".to_owned(), opt(&c.country)),
        ("postal_code".to_owned(), opt(&c.postal_code)),
        (
            "latitude".to_owned(),
            c.latitude.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "longitude".to_owned(),
            c.longitude.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "owner".to_owned(),
            c.owner_id.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "do_not_contact".to_owned(),
            if c.do_not_contact { "on".into() } else { String::new() },
        ),
    ])
}

/// The form's core inputs as submitted, every one as typed.
fn submitted_values(form: &FormData) -> HashMap<String, String> {
    let mut values: HashMap<String, String> = core_inputs().map(|n| (n.to_owned(), form.text(n))).collect();
    if values.get("company").is_none_or(String::is_empty)
        && let Some(id) = form.opt("company_id")
    {
        values.insert("company".into(), format!("#{id}"));
    }
    if values.get("kind").is_none_or(String::is_empty) {
        values.insert("kind".into(), "person".into());
    }
    values
}

/// What differs between the new and the edit form.
pub(super) struct FormContext {
    pub(super) title: String,
    pub(super) action: String,
    pub(super) cancel_url: String,
    pub(super) version: Option<i64>,
}

/// The form page; with `submitted`, as it was sent, and `error`'s problems at their inputs.
pub(super) async fn form_page(
    state: &AppState,
    user: &SessionUser,
    ctx: FormContext,
    stored: Option<&Contact>,
    start: &ContactDraft,
    submitted: Option<&FormData>,
    error: Option<Error>,
) -> Result<Response, PageError> {
    let actor = &user.actor;
    let schema = state.core.schema().current().await?;
    let choices = |items: Vec<(String, String)>, current: &str| -> Vec<Choice> {
        items
            .into_iter()
            .map(|(value, label)| Choice {
                selected: value == current,
                value,
                label,
            })
            .collect()
    };
    let types = schema
        .types
        .all()
        .iter()
        .map(|t| (t.key.clone(), format!("{}{}", "\u{2003}".repeat(t.depth), t.label)))
        .collect();
    let owners = state
        .core
        .contacts()
        .choosable_people(actor, start.owner_id)
        .await?
        .into_iter()
        .map(|(id, label)| (id.to_string(), label))
        .collect();
    let current_company = match start.company_id {
        Some(id) => state.core.contacts().company_choice(actor, id).await?,
        None => None,
    };
    let values = match submitted {
        Some(form) => submitted_values(form),
        None => stored_values(start, current_company.as_ref()),
    };
    let (status, errors) = match error {
        None => (StatusCode::OK, Vec::new()),
        Some(e @ (Error::Db(_) | Error::Internal(_))) => return Err(PageError::Core(e)),
        Some(e @ (Error::Validation { .. } | Error::Invalid(_))) => (
            StatusCode::BAD_REQUEST,
            e.problems()
                .into_iter()
                .map(|Problem { path, message }| (input_of(&path), message))
                .collect(),
        ),
        Some(e) => (
            crate::error::classify(&e).0,
            vec![(String::new(), crate::error::public_message(&e))],
        ),
    };
    let type_key = values.get("type").cloned().unwrap_or_default();
    let empty = Map::new();
    let stored_fields = stored.map(|c| &c.fields).unwrap_or(&empty);
    let fields = field_inputs(&schema, &type_key, stored_fields, submitted, &errors);
    let sections = if fields.is_empty() {
        Vec::new()
    } else if schema.types.by_key(&type_key).is_none() {
        vec![("Extra fields".to_owned(), fields.clone())]
    } else {
        let layout = state
            .core
            .schema()
            .layout_book()
            .await?
            .resolve(&schema, &type_key)
            .layout;
        let keyed = fields
            .iter()
            .map(|f| (f.name.strip_prefix("f.").unwrap_or(&f.name).to_owned(), f.clone()))
            .collect();
        let arranged = layout.arrange(keyed);
        let mut sections: Vec<(String, Vec<FieldInput>)> =
            arranged.sections.into_iter().filter(|(_, f)| !f.is_empty()).collect();
        if !arranged.other.is_empty() {
            sections.push((kartoteka_core::schema::layouts::OTHER_FIELDS.to_owned(), arranged.other));
        }
        sections
    };
    let page = FormPage {
        nav: Nav::new(user, "contacts"),
        title: ctx.title,
        action: ctx.action,
        cancel_url: ctx.cancel_url,
        version: ctx.version,
        kinds: choices(
            vec![("person".into(), "Person".into()), ("company".into(), "Company".into())],
            values.get("kind").map(String::as_str).unwrap_or("person"),
        ),
        types: choices(types, &type_key),
        companies: current_company.iter().map(company_picker::label).collect(),
        owners: choices(owners, values.get("owner").map(String::as_str).unwrap_or("")),
        values,
        fields,
        sections,
        errors,
        company_search_url: urls::COMPANY_SEARCH,
    };
    Ok((status, render(&page)?).into_response())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_card_shows_values_as_stored() {
        assert_eq!(shown_value(FieldKind::Select, &json!("IT")), "IT");
        assert_eq!(
            shown_value(FieldKind::Text, &json!("Training Tuesday")),
            "Training Tuesday"
        );
        assert_eq!(
            shown_value(FieldKind::Datetime, &json!("2026-11-23T14:05:00Z")),
            "2026-11-23 14:05:00 UTC"
        );
        assert_eq!(shown_value(FieldKind::Date, &json!("2026-11-23")), "2026-11-23");
        assert_eq!(shown_value(FieldKind::Multiselect, &json!(["IT", "Tax"])), "IT, Tax");
    }
}
