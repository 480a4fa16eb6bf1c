//! The contact forms: new, edit and delete.
//!
//! - **Every problem at once, every value kept.** A submit is read whole: inputs the form
//!   can't read (a latitude `north`, an unknown company) become problems at their input,
//!   and the rest is still checked by `core` (`Core::check_new_contact`,
//!   `Core::check_contact_patch`), so the answer (400) shows each message next to its
//!   input. The form is re-rendered from what was submitted, never from a half-read draft:
//!   a bad latitude keeps the city and the owner as typed.
//! - **Extra fields by type.** Each field's box says which types it applies to
//!   (`data-types`); the server shows the boxes of the chosen type, and
//!   `assets/contact-form.js` switches them when the type select changes. A hidden box is
//!   also disabled, so its inputs are not sent. A box that holds a value stays visible
//!   whatever the type, marked "does not apply": its value is sent, and `core` refuses it
//!   with a message at the field rather than dropping it. Without the script the server
//!   still refuses a value that doesn't apply, and shows the right boxes again after a
//!   submit.
//! - **Numbers** are text inputs (`inputmode="decimal"`), not `type="number"`: a browser
//!   reads `1,5` in a number input by its own locale (some as 15); the server reads it
//!   with [`parse_decimal`], which takes `1,5` as 1.5 and refuses `1,500` as ambiguous.
//! - **Multiselects** are a group of checkboxes (with an empty hidden input so that
//!   "nothing ticked" is sent and clears the value).
//! - **The company picker**: [`company_picker`].
//! - **After a save** the form redirects (POST, redirect, GET) to the card, or after a
//!   delete to the list, with a notice of what happened ([`flash`]).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_core::Error;
use kartoteka_core::contacts::{CompanyChoice, Contact, ContactDraft, ContactPatch};
use kartoteka_core::error::{Problem, Problems};
use kartoteka_core::fields::value::{parse_datetime, parse_decimal};
use kartoteka_core::fields::{FieldDef, FieldKind, Schema};
use serde_json::{Map, Value, json};

use super::Nav;
use super::company_picker;
use super::contacts::{Choice, parse_id};
use super::flash;
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
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
                !CORE_INPUTS.contains(&input.as_str()) && !self.fields.iter().any(|f| &f.name == input)
            })
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

const CORE_INPUTS: [&str; 16] = [
    "kind",
    "type",
    "name",
    "email",
    "phone",
    "position",
    "company",
    "street",
    "city",
    "region",
    "country",
    "postal_code",
    "latitude",
    "longitude",
    "owner",
    "do_not_contact",
];

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

/// The extra-field values of a submitted form, for `core`: every field whose input was
/// sent (a hidden box's inputs are not), blank meaning "remove". Nothing is filtered by
/// type here: a value that doesn't apply is `core`'s to refuse.
fn field_values(defs: &[FieldDef], form: &FormData) -> Map<String, Value> {
    let mut out = Map::new();
    for d in defs {
        let name = format!("f.{}", d.key);
        let Some(first) = form.get(&name) else { continue };
        let value = match d.kind {
            FieldKind::Multiselect => json!(
                form.all(&name)
                    .into_iter()
                    .filter(|v| !v.trim().is_empty())
                    .collect::<Vec<_>>()
            ),
            FieldKind::Geo if first.is_empty() => Value::Null,
            FieldKind::Geo => match first.split_once(',') {
                Some((lat, lon)) => json!({"lat": lat.trim(), "lon": lon.trim()}),
                None => json!({"lat": first}),
            },
            _ => Value::String(first.to_owned()),
        };
        out.insert(d.key.clone(), value);
    }
    out
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
    let mut values: HashMap<String, String> = CORE_INPUTS.iter().map(|n| ((*n).to_owned(), form.text(n))).collect();
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

/// A number input: blank is `None`; anything else is read by [`parse_decimal`] or noted
/// as a problem at `path`.
pub fn decimal_input(form: &FormData, name: &str, path: &str, problems: &mut Problems) -> Option<f64> {
    let text = form.opt(name)?;
    match parse_decimal(&text) {
        Ok(n) => Some(n),
        Err(m) => {
            problems.add(path, m);
            None
        }
    }
}

/// An id input (`owner`, `version`): blank is `None`, anything else a whole number.
fn id_input(form: &FormData, name: &str, path: &str, problems: &mut Problems) -> Option<i64> {
    let text = form.opt(name)?;
    match text.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            problems.add(path, format!("`{text}` is not an id"));
            None
        }
    }
}

/// The draft a submitted form describes, with the problems of the inputs that could not
/// be read (those properties are left empty).
async fn read_form(
    state: &AppState,
    user: &SessionUser,
    schema: &Schema,
    form: &FormData,
) -> Result<(ContactDraft, Problems), Error> {
    let mut problems = Problems::default();
    let company_id = company_picker::read(&state.core, user, form, &mut problems).await?;
    let draft = ContactDraft {
        kind: form
            .get("kind")
            .filter(|k| !k.is_empty())
            .unwrap_or("person")
            .to_owned(),
        type_key: form.text("type"),
        name: form.text("name"),
        email: form.opt("email"),
        phone: form.opt("phone"),
        position: form.opt("position"),
        company_id,
        street: form.opt("street"),
        city: form.opt("city"),
        region: form.opt("region"),
        country: form.opt("country"),
        postal_code: form.opt("postal_code"),
        latitude: decimal_input(form, "latitude", "latitude", &mut problems),
        longitude: decimal_input(form, "longitude", "longitude", &mut problems),
        owner_id: id_input(form, "owner", "owner", &mut problems),
        do_not_contact: form.checked("do_not_contact"),
        fields: field_values(&schema.fields, form),
    };
    Ok((draft, problems))
}

/// The problems of the form's own reading and `core`'s check together; `core`'s at a path
/// the form already reported are left out (they follow from the unread input).
pub(super) fn together(own: Problems, checked: Result<(), Error>) -> Result<Error, Error> {
    let own = match own.into_result() {
        Ok(()) => Vec::new(),
        Err(e) => e.problems(),
    };
    let mut all = own.clone();
    match checked {
        Ok(()) => {}
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
            all.extend(
                e.problems()
                    .into_iter()
                    .filter(|p| !own.iter().any(|o| o.path == p.path)),
            );
        }
        Err(e) => return Err(e),
    }
    Error::from_problems(all).ok_or_else(|| Error::Internal("no problems to report".into()))
}

struct FormContext {
    title: String,
    action: String,
    cancel_url: String,
    version: Option<i64>,
}

/// The form page; with `submitted`, as it was sent, and `error`'s problems at their inputs.
async fn form_page(
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
        .people(actor)
        .await?
        .into_iter()
        .map(|(id, label)| (id.to_string(), label))
        .collect();
    let current_company = match start.company_id {
        Some(id) => state.core.company_choice(actor, id).await?,
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
        errors,
        company_search_url: urls::COMPANY_SEARCH,
    };
    Ok((status, render(&page)?).into_response())
}

fn new_context() -> FormContext {
    FormContext {
        title: "New contact".into(),
        action: urls::CONTACTS.into(),
        cancel_url: urls::CONTACTS.into(),
        version: None,
    }
}

/// The new-contact form (`?type=` and `?kind=` preselect).
pub async fn new_form(
    State(state): State<AppState>,
    user: SessionUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let pairs = query_pairs(query.as_deref());
    let draft = ContactDraft {
        kind: param(&pairs, "kind").unwrap_or("person").to_owned(),
        type_key: param(&pairs, "type").unwrap_or("").to_owned(),
        owner_id: Some(user.actor.user_id),
        ..Default::default()
    };
    form_page(&state, &user, new_context(), None, &draft, None, None).await
}

/// Creates a contact from the form; on success, its card with a notice.
pub async fn create(
    State(state): State<AppState>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let schema = state.core.schema().current().await?;
    let (draft, problems) = read_form(&state, &user, &schema, &form).await?;
    let result = if problems.is_empty() {
        state.core.create_contact(&user.actor, draft.clone()).await
    } else {
        let checked = state.core.check_new_contact(&user.actor, draft.clone()).await;
        Err(together(problems, checked)?)
    };
    match result {
        Ok(contact) => {
            let target = urls::contact(contact.id);
            let mut response = Redirect::to(&target).into_response();
            flash::set(&state, &mut response, &format!("Created {}.", contact.name), &target);
            Ok(response)
        }
        Err(e) => form_page(&state, &user, new_context(), None, &draft, Some(&form), Some(e)).await,
    }
}

fn edit_context(contact: &Contact, version: i64) -> FormContext {
    FormContext {
        title: format!("Edit {}", contact.name),
        action: urls::edit_contact(contact.id),
        cancel_url: urls::contact(contact.id),
        version: Some(version),
    }
}

/// The edit form.
pub async fn edit_form(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let contact = state.core.get_contact(&user.actor, id).await?;
    let ctx = edit_context(&contact, contact.version);
    form_page(&state, &user, ctx, Some(&contact), &contact.draft(), None, None).await
}

/// Saves the edit form; on success, the card with a notice.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let schema = state.core.schema().current().await?;
    let current = state.core.get_contact(&user.actor, id).await?;
    let (draft, mut problems) = read_form(&state, &user, &schema, &form).await?;
    let version = id_input(&form, "version", "version", &mut problems);
    let patch = ContactPatch {
        version: version.unwrap_or(current.version),
        kind: Some(draft.kind.clone()),
        type_key: Some(draft.type_key.clone()),
        name: Some(draft.name.clone()),
        email: Some(draft.email.clone()),
        phone: Some(draft.phone.clone()),
        position: Some(draft.position.clone()),
        company_id: Some(draft.company_id),
        street: Some(draft.street.clone()),
        city: Some(draft.city.clone()),
        region: Some(draft.region.clone()),
        country: Some(draft.country.clone()),
        postal_code: Some(draft.postal_code.clone()),
        latitude: Some(draft.latitude),
        longitude: Some(draft.longitude),
        owner_id: Some(draft.owner_id),
        do_not_contact: Some(draft.do_not_contact),
        fields: Some(draft.fields.clone()),
    };
    if version.is_none() && !problems.has("version") {
        problems.add("version", "is missing; reload the page");
    }
    let result = if problems.is_empty() {
        state.core.update_contact(&user.actor, id, patch).await
    } else {
        let checked = state.core.check_contact_patch(&user.actor, id, &patch).await;
        Err(together(problems, checked)?)
    };
    match result {
        Ok(contact) => {
            // Handed to someone else, the contact may be out of the user's sight now.
            let target = if state.core.get_contact(&user.actor, id).await.is_ok() {
                urls::contact(id)
            } else {
                urls::CONTACTS.to_owned()
            };
            let mut response = Redirect::to(&target).into_response();
            flash::set(&state, &mut response, &format!("Saved {}.", contact.name), &target);
            Ok(response)
        }
        Err(e) => {
            // On a stale write, keep what the user typed but let the next submit target the
            // version now stored, after they have seen the message.
            let version = if matches!(e, Error::Conflict { .. }) {
                current.version
            } else {
                version.unwrap_or(current.version)
            };
            let ctx = edit_context(&current, version);
            form_page(
                &state,
                &user,
                ctx,
                Some(&current),
                &current.draft(),
                Some(&form),
                Some(e),
            )
            .await
        }
    }
}

/// Deletes a contact (the box ticked, at the version shown); the list with a notice.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    if !form.checked("confirm") {
        return Err(PageError::Core(Error::invalid(
            "confirm",
            "tick the box to confirm the deletion",
        )));
    }
    let mut problems = Problems::default();
    let version = id_input(&form, "version", "version", &mut problems);
    problems.into_result()?;
    let contact = state.core.get_contact(&user.actor, id).await?;
    state.core.delete_contact(&user.actor, id, version).await?;
    let mut response = Redirect::to(urls::CONTACTS).into_response();
    flash::set(
        &state,
        &mut response,
        &format!("Deleted {}.", contact.name),
        urls::CONTACTS,
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
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
