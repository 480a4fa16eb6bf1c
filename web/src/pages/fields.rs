//! Extra-field definitions: list, add, change (with the conversion report), remove.
//!
//! A form that succeeds redirects to a page with a notice of what happened; one with bad
//! input is shown again with what was typed. Removing asks first (a box to tick, checked
//! again here), and says how many contacts hold a value.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::fields::{FieldDef, FieldKind, FieldPatch, NewField};
use serde_json::Value;

use super::Nav;
use super::contacts::Choice;
use super::flash::{self, Flash};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The field routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::FIELDS, get(list).post(create))
        .route("/fields/{key}", get(edit).post(update))
        .route("/fields/{key}/delete", get(to_field).post(delete))
}

/// A field as a table row.
#[derive(Debug, Clone)]
pub struct FieldRow {
    pub key: String,
    pub label: String,
    pub kind: &'static str,
    pub options: String,
    pub required: bool,
    pub searchable: bool,
    pub applies_to: String,
    pub url: String,
}

/// The inputs of the field form.
#[derive(Debug, Clone, Default)]
pub struct FieldForm {
    pub key: String,
    pub label: String,
    pub kinds: Vec<Choice>,
    pub options: String,
    pub required: bool,
    pub searchable: bool,
    pub types: Vec<Choice>,
}

/// One value that a change could not convert.
#[derive(Debug, Clone)]
pub struct FailedValue {
    pub contact_url: String,
    pub contact_id: i64,
    pub value: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "fields/list.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<FieldRow>,
    form: FieldForm,
    error: Option<String>,
    /// What the last form did ("Added the field “Size”.").
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "fields/edit.html")]
struct EditPage {
    nav: Nav,
    form: FieldForm,
    action: String,
    delete_url: String,
    error: Option<String>,
    failed: Vec<FailedValue>,
    notice: Option<String>,
}

fn field_form(def: Option<&FieldDef>, types: &[(String, String)], submitted: Option<&FormData>) -> FieldForm {
    let kind = submitted
        .map(|f| f.text("kind"))
        .or_else(|| def.map(|d| d.kind.as_str().to_owned()))
        .unwrap_or_else(|| "text".into());
    let applies: Vec<String> = submitted
        .map(|f| f.all("applies_to"))
        .or_else(|| def.map(|d| d.applies_to.clone()))
        .unwrap_or_default();
    FieldForm {
        key: submitted
            .map(|f| f.text("key"))
            .or_else(|| def.map(|d| d.key.clone()))
            .unwrap_or_default(),
        label: submitted
            .map(|f| f.text("label"))
            .or_else(|| def.map(|d| d.label.clone()))
            .unwrap_or_default(),
        kinds: FieldKind::FIELDS
            .iter()
            .map(|k| Choice {
                value: k.as_str().into(),
                label: k.as_str().replace('_', " "),
                selected: k.as_str() == kind,
            })
            .collect(),
        options: submitted
            .map(|f| f.text("options"))
            .or_else(|| def.map(|d| d.options.join("\n")))
            .unwrap_or_default(),
        required: submitted
            .map(|f| f.checked("required"))
            .or(def.map(|d| d.required))
            .unwrap_or(false),
        searchable: submitted
            .map(|f| f.checked("searchable"))
            .or(def.map(|d| d.searchable))
            .unwrap_or(false),
        types: types
            .iter()
            .map(|(k, l)| Choice {
                value: k.clone(),
                label: l.clone(),
                selected: applies.contains(k),
            })
            .collect(),
    }
}

fn options_of(form: &FormData) -> Vec<String> {
    form.text("options")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn type_choices(state: &AppState) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .core
        .schema()
        .type_tree()
        .await?
        .all()
        .iter()
        .map(|t| (t.key.clone(), format!("{}{}", "\u{2003}".repeat(t.depth), t.label)))
        .collect())
}

fn message(e: &Error) -> Result<String, PageError> {
    match e {
        Error::Db(_) | Error::Internal(_) => Err(PageError::Core(Error::Internal(e.to_string()))),
        Error::Validation { path, message } => Ok(format!("{path}: {message}")),
        other => Ok(other.to_string()),
    }
}

async fn list_page(
    state: &AppState,
    user: &SessionUser,
    error: Option<Error>,
    submitted: Option<&FormData>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let defs = state.core.schema().list_fields().await?;
    let types = type_choices(state).await?;
    let rows = defs
        .iter()
        .map(|d| FieldRow {
            key: d.key.clone(),
            label: d.label.clone(),
            kind: d.kind.as_str(),
            options: d.options.join(", "),
            required: d.required,
            searchable: d.searchable,
            applies_to: if d.applies_to.is_empty() {
                "all types".into()
            } else {
                d.applies_to.join(", ")
            },
            url: urls::field(&d.key),
        })
        .collect();
    let status = error
        .as_ref()
        .map(|e| crate::error::classify(e).0)
        .unwrap_or(StatusCode::OK);
    let error = error.as_ref().map(message).transpose()?;
    let page = ListPage {
        nav: Nav::new(user, "fields"),
        rows,
        form: field_form(None, &types, submitted),
        error,
        notice,
    };
    Ok((status, render(&page)?).into_response())
}

async fn list(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    let mut response = list_page(&state, &user, None, None, flash.message()).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

async fn create(State(state): State<AppState>, CheckedForm { user, form }: CheckedForm) -> Result<Response, PageError> {
    let input = NewField {
        key: form.text("key"),
        label: form.text("label"),
        kind: form.text("kind"),
        options: options_of(&form),
        required: form.checked("required"),
        searchable: form.checked("searchable"),
        applies_to: form.all("applies_to"),
    };
    match state.core.create_field(&user.actor, input).await {
        Ok(def) => Ok(flash::redirect(
            &state,
            urls::FIELDS,
            &format!("Added the field “{}”.", def.label),
        )),
        Err(e) => list_page(&state, &user, Some(e), Some(&form), None).await,
    }
}

async fn edit_page(
    state: &AppState,
    user: &SessionUser,
    key: &str,
    submitted: Option<&FormData>,
    error: Option<Error>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let def = state.core.schema().get_field(key).await?;
    let types = type_choices(state).await?;
    let status = error
        .as_ref()
        .map(|e| crate::error::classify(e).0)
        .unwrap_or(StatusCode::OK);
    let failed = match &error {
        Some(Error::Conflict {
            details: Some(details), ..
        }) => details
            .get("failed")
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|f| {
                        let id = f.get("contact_id").and_then(Value::as_i64).unwrap_or_default();
                        FailedValue {
                            contact_url: urls::contact(id),
                            contact_id: id,
                            value: f.get("value").map(|v| v.to_string()).unwrap_or_default(),
                            reason: f.get("reason").and_then(Value::as_str).unwrap_or_default().to_owned(),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => vec![],
    };
    let error = error.as_ref().map(message).transpose()?;
    let page = EditPage {
        nav: Nav::new(user, "fields"),
        form: field_form(Some(&def), &types, submitted),
        action: urls::field(key),
        delete_url: format!("{}/delete", urls::field(key)),
        error,
        failed,
        notice,
    };
    Ok((status, render(&page)?).into_response())
}

async fn edit(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    Path(key): Path<String>,
) -> Result<Response, PageError> {
    let mut response = edit_page(&state, &user, &key, None, None, flash.message()).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// A GET on the remove form's address (a reload, Enter in the address bar): the field.
async fn to_field(Path(key): Path<String>) -> Redirect {
    Redirect::to(&urls::field(&key))
}

async fn update(
    State(state): State<AppState>,
    Path(key): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let patch = FieldPatch {
        label: Some(form.text("label")),
        kind: Some(form.text("kind")),
        options: Some(options_of(&form)),
        required: Some(form.checked("required")),
        searchable: Some(form.checked("searchable")),
        applies_to: Some(form.all("applies_to")),
        drop_unconvertible: form.checked("drop_unconvertible"),
    };
    match state.core.update_field(&user.actor, &key, patch).await {
        Ok((def, report)) => {
            let notice = if report.checked > 0 {
                format!(
                    "Saved the field “{}”. {} of {} stored {} converted; {} removed (kept in each contact's history).",
                    def.label,
                    report.converted,
                    report.checked,
                    if report.checked == 1 { "value" } else { "values" },
                    report.failed.len()
                )
            } else {
                format!("Saved the field “{}”.", def.label)
            };
            Ok(flash::redirect(&state, &urls::field(&key), &notice))
        }
        Err(e) => edit_page(&state, &user, &key, Some(&form), Some(e), None).await,
    }
}

async fn delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    if !form.checked("confirm") {
        let e = Error::invalid("confirm", "tick the box to confirm the removal");
        return edit_page(&state, &user, &key, None, Some(e), None).await;
    }
    let label = state.core.schema().get_field(&key).await?.label;
    match state
        .core
        .delete_field(&user.actor, &key, form.checked("drop_values"))
        .await
    {
        Ok(_) => Ok(flash::redirect(
            &state,
            urls::FIELDS,
            &format!("Removed the field “{label}”."),
        )),
        Err(e) => edit_page(&state, &user, &key, None, Some(e), None).await,
    }
}
