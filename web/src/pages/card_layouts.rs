//! The card layout editor of a contact type (admins): add, rename, move and remove
//! sections; move a field up and down, hide it (out of every section: it shows under
//! "Other fields") or place it; save; or go back to the parent's layout.
//!
//! Every change is a form post that carries the layout being edited (a draft, as JSON in a
//! hidden input) and answers the editor again with the change made and the preview of the
//! card redrawn on a real contact of the type. Nothing is stored until "Save layout". The
//! editor works without JavaScript; the rules (checks, inheritance) are
//! `kartoteka_core::schema::layouts`'.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::contacts::Contact;
use kartoteka_core::fields::Schema;
use kartoteka_core::filter::ContactQuery;
use kartoteka_core::schema::layouts::{CardLayout, LayoutSource, OTHER_FIELDS, Section};
use serde_json::json;

use super::Nav;
use super::flash::{self, Flash};
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The editor's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/contact-types/{key}/layout", get(show).post(change))
}

/// A field in the editor: key, label, and its value on the preview contact.
#[derive(Debug, Clone)]
pub struct EditorField {
    pub key: String,
    pub label: String,
    pub value: String,
}

/// A section in the editor.
#[derive(Debug, Clone)]
pub struct EditorSection {
    pub title: String,
    pub fields: Vec<EditorField>,
}

#[derive(Template)]
#[template(path = "types/layout.html")]
struct LayoutPage {
    nav: Nav,
    type_label: String,
    /// Where the stored layout comes from ("its own", "inherited from Lead", "the default").
    source: String,
    has_own: bool,
    /// The draft as JSON, for the hidden input.
    draft: String,
    sections: Vec<EditorSection>,
    /// The fields no section holds.
    other: Vec<EditorField>,
    other_title: &'static str,
    /// The contact the preview shows, if the type has one.
    preview_name: Option<String>,
    /// Whether the draft differs from what is stored.
    unsaved: bool,
    errors: Vec<String>,
    notice: Option<String>,
    action: String,
}

async fn show(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let stored = state.core.schema().card_layout(&key).await?;
    let contact = param(&query_pairs(query.as_deref()), "contact").and_then(|c| c.parse().ok());
    let mut response = page(
        &state,
        &user,
        &key,
        stored.layout.clone(),
        contact,
        Vec::new(),
        flash.message(),
    )
    .await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

async fn change(
    State(state): State<AppState>,
    Path(key): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let schema = state.core.schema().current().await?;
    let stored = state.core.schema().card_layout(&key).await?;
    let back = urls::type_layout(&key);
    let mut draft = match serde_json::from_str::<serde_json::Value>(&form.text("draft")) {
        Ok(json) => CardLayout::from_json(&json, &schema.fields).unwrap_or(stored.layout.clone()),
        Err(_) => stored.layout.clone(),
    };
    // The titles as typed in the form, whatever the button.
    for (i, section) in draft.sections.iter_mut().enumerate() {
        if let Some(title) = form.opt(&format!("title_{i}")) {
            section.title = title;
        }
    }
    let op = form.text("op");
    match op.as_str() {
        "save" => {
            let body = json!({"sections": draft.sections});
            return match state.core.schema().set_card_layout(&user.actor, &key, &body).await {
                Ok(_) => Ok(flash::redirect(&state, &back, "Saved the layout.")),
                Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
                    let errors = e
                        .problems()
                        .into_iter()
                        .map(|p| format!("{}: {}", p.path, p.message))
                        .collect();
                    page(&state, &user, &key, draft, None, errors, None).await
                }
                Err(e) => Err(e.into()),
            };
        }
        "inherit" => {
            let now = state.core.schema().remove_card_layout(&user.actor, &key).await?;
            let message = match now.source {
                LayoutSource::Inherited(parent) => format!("The type now uses the layout of `{parent}`."),
                _ => "The type now uses the default layout.".to_owned(),
            };
            return Ok(flash::redirect(&state, &back, &message));
        }
        _ => apply(&mut draft, &op, &form, &schema),
    }
    page(&state, &user, &key, draft, None, Vec::new(), None).await
}

/// Applies editor operation `op` to `draft`.
fn apply(draft: &mut CardLayout, op: &str, form: &FormData, schema: &Schema) {
    let mut parts = op.split(':');
    let name = parts.next().unwrap_or_default();
    let s: Option<usize> = parts.next().and_then(|p| p.parse().ok());
    let f: Option<usize> = parts.next().and_then(|p| p.parse().ok());
    let sections = &mut draft.sections;
    match (name, s, f) {
        ("add_section", _, _) => {
            let title = form.text("new_title");
            let title = if title.is_empty() {
                format!("Section {}", sections.len() + 1)
            } else {
                title
            };
            sections.push(Section {
                title,
                fields: Vec::new(),
            });
        }
        ("remove_section", Some(s), _) if s < sections.len() => {
            sections.remove(s);
        }
        ("section_up", Some(s), _) if s > 0 && s < sections.len() => sections.swap(s, s - 1),
        ("section_down", Some(s), _) if s + 1 < sections.len() => sections.swap(s, s + 1),
        ("up", Some(s), Some(f)) => {
            if f > 0 {
                if let Some(key) = take(sections, s, f) {
                    put(sections, s, f - 1, key);
                }
            } else if s > 0 {
                // Up from the top of a section: to the end of the one above.
                if let Some(key) = take(sections, s, 0) {
                    let end = len(sections, s - 1);
                    put(sections, s - 1, end, key);
                }
            }
        }
        ("down", Some(s), Some(f)) => {
            let n = len(sections, s);
            if f + 1 < n {
                if let Some(key) = take(sections, s, f) {
                    put(sections, s, f + 1, key);
                }
            } else if f + 1 == n && s + 1 < sections.len() {
                // Down from the bottom of a section: to the top of the one below.
                if let Some(key) = take(sections, s, f) {
                    put(sections, s + 1, 0, key);
                }
            }
        }
        ("hide", Some(s), Some(f)) => {
            take(sections, s, f);
        }
        ("place", _, _) => {
            // `place:<key>`: to the section its select names.
            let key = op.trim_start_matches("place:").to_owned();
            let target: usize = form.text(&format!("to_{key}")).parse().unwrap_or(0);
            let placed = sections.iter().any(|s| s.fields.contains(&key));
            if schema.field(&key).is_some() && !placed {
                if sections.is_empty() {
                    sections.push(Section {
                        title: "Fields".into(),
                        fields: Vec::new(),
                    });
                }
                let target = target.min(sections.len().saturating_sub(1));
                if let Some(section) = sections.get_mut(target) {
                    section.fields.push(key);
                }
            }
        }
        _ => {}
    }
}

/// Takes the field at `f` of section `s` out, if there is one.
fn take(sections: &mut [Section], s: usize, f: usize) -> Option<String> {
    let fields = &mut sections.get_mut(s)?.fields;
    (f < fields.len()).then(|| fields.remove(f))
}

/// Puts `key` at `f` of section `s` (at its end when `f` is past it).
fn put(sections: &mut [Section], s: usize, f: usize, key: String) {
    if let Some(section) = sections.get_mut(s) {
        let at = f.min(section.fields.len());
        section.fields.insert(at, key);
    }
}

/// How many fields section `s` holds.
fn len(sections: &[Section], s: usize) -> usize {
    sections.get(s).map_or(0, |section| section.fields.len())
}

/// The first contact of the type `actor` sees (or contact `id`), for the preview.
async fn preview_contact(
    state: &AppState,
    actor: &Actor,
    key: &str,
    id: Option<i64>,
) -> Result<Option<Contact>, Error> {
    if let Some(id) = id {
        let c = state.core.contacts().get_contact(actor, id).await?;
        return Ok((c.type_key == key).then_some(c));
    }
    let filter = state
        .core
        .filter()
        .prepare_filter(&json!({"field": "type", "op": "is", "value": key}))
        .await?;
    let mut query = ContactQuery {
        filter: Some(filter),
        ..ContactQuery::default()
    };
    query.page.limit = 20;
    let page = state.core.filter().query_contacts(actor, &query).await?;
    // The contact of this very type with the most values makes the best preview.
    Ok(page
        .items
        .into_iter()
        .filter(|c| c.type_key == key)
        .max_by_key(|c| (c.fields.len(), -c.id)))
}

async fn page(
    state: &AppState,
    user: &SessionUser,
    key: &str,
    draft: CardLayout,
    contact: Option<i64>,
    errors: Vec<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let schema = state.core.schema().current().await?;
    let stored = state.core.schema().card_layout(key).await?;
    let Some(t) = schema.types.by_key(key) else {
        return Err(Error::NotFound { what: "contact type" }.into());
    };
    let preview = preview_contact(state, &user.actor, key, contact).await?;
    let field = |k: &str| -> Option<EditorField> {
        let def = schema.field(k)?;
        let value = preview
            .as_ref()
            .and_then(|c| c.fields.get(k))
            .filter(|v| !v.is_null())
            .map(|v| super::contact_form::shown_value(def.kind, v))
            .unwrap_or_else(|| "—".into());
        Some(EditorField {
            key: k.to_owned(),
            label: def.label.clone(),
            value,
        })
    };
    let sections = draft
        .sections
        .iter()
        .map(|s| EditorSection {
            title: s.title.clone(),
            fields: s.fields.iter().filter_map(|k| field(k)).collect(),
        })
        .collect();
    let placed: Vec<&str> = draft.placed().collect();
    let other = schema
        .fields
        .iter()
        .filter(|f| !placed.contains(&f.key.as_str()))
        .filter(|f| {
            f.applies_to_type(&schema.types, key) || preview.as_ref().is_some_and(|c| c.fields.contains_key(&f.key))
        })
        .filter_map(|f| field(&f.key))
        .collect();
    let source = match &stored.source {
        LayoutSource::Own => "its own".to_owned(),
        LayoutSource::Inherited(parent) => format!(
            "inherited from {}",
            schema
                .types
                .by_key(parent)
                .map_or(parent.as_str(), |p| p.label.as_str())
        ),
        LayoutSource::Default => "the default (every field of the type, in one section)".to_owned(),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let html = render(&LayoutPage {
        nav: Nav::new(user, "types"),
        type_label: t.label.clone(),
        has_own: stored.source == LayoutSource::Own,
        unsaved: draft != stored.layout,
        draft: serde_json::to_string(&json!({"sections": draft.sections})).unwrap_or_default(),
        sections,
        other,
        other_title: OTHER_FIELDS,
        preview_name: preview.map(|c| c.name),
        source,
        errors,
        notice,
        action: urls::type_layout(key),
    })?;
    Ok((status, html).into_response())
}
