//! The contact-type tree: add, rename, move, remove (admins).
//!
//! A form that succeeds redirects back to the tree with a notice of what happened;
//! removing asks first (a box to tick, checked again here).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::contact_types::{ContactType, ContactTypePatch, NewContactType};
use kartoteka_core::settings::SettingsPatch;

use super::Nav;
use super::contacts::Choice;
use super::flash::{self, Flash};
use crate::app::AppState;
use crate::auth::{CheckedForm, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The contact-type routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::CONTACT_TYPES, get(list).post(create))
        .route("/contact-types/{key}", get(to_types).post(update))
        .route("/contact-types/{key}/delete", get(to_types).post(delete))
        .route(urls::DEFAULT_CONTACT_TYPE, get(to_types).post(set_default))
}

/// A type as a row of the tree, with the choices its forms need.
#[derive(Debug, Clone)]
pub struct TypeRow {
    pub key: String,
    pub label: String,
    pub indent: String,
    pub update_url: String,
    pub delete_url: String,
    pub parents: Vec<Choice>,
    pub targets: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "types/list.html")]
struct TypesPage {
    nav: Nav,
    rows: Vec<TypeRow>,
    parents: Vec<Choice>,
    error: Option<String>,
    /// What the last form did ("Added the type “Partner”.").
    notice: Option<String>,
    form_key: String,
    form_label: String,
    /// The choices of the default type (`crate::api::settings`), the current one selected.
    default_types: Vec<Choice>,
    default_url: &'static str,
}

fn choice(t: &ContactType, selected: bool) -> Choice {
    Choice {
        value: t.key.clone(),
        label: format!("{}{}", "\u{2003}".repeat(t.depth), t.label),
        selected,
    }
}

async fn page(
    state: &AppState,
    user: &SessionUser,
    error: Option<Error>,
    form: Option<&crate::auth::FormData>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let tree = state.core.schema().type_tree().await?;
    let all = tree.all();
    let default_type = state.core.schema().settings().await?.default_contact_type;
    let rows = all
        .iter()
        .map(|t| TypeRow {
            key: t.key.clone(),
            label: t.label.clone(),
            indent: "\u{2003}".repeat(t.depth * 2),
            update_url: urls::contact_type(&t.key),
            delete_url: format!("{}/delete", urls::contact_type(&t.key)),
            parents: all
                .iter()
                .filter(|p| !tree.lineage(&p.key).contains(&t.key.as_str()))
                .map(|p| choice(p, t.parent.as_deref() == Some(p.key.as_str())))
                .collect(),
            targets: all
                .iter()
                .filter(|p| p.key != t.key)
                .map(|p| choice(p, false))
                .collect(),
        })
        .collect();
    let status = error
        .as_ref()
        .map(|e| crate::error::classify(e).0)
        .unwrap_or(StatusCode::OK);
    let error = match error {
        Some(e @ (Error::Db(_) | Error::Internal(_))) => return Err(PageError::Core(e)),
        Some(Error::Validation { path, message }) => Some(format!("{path}: {message}")),
        Some(e) => Some(e.to_string()),
        None => None,
    };
    let page = TypesPage {
        nav: Nav::new(user, "types"),
        rows,
        parents: all.iter().map(|p| choice(p, false)).collect(),
        error,
        notice,
        form_key: form.map(|f| f.text("key")).unwrap_or_default(),
        form_label: form.map(|f| f.text("label")).unwrap_or_default(),
        default_types: all
            .iter()
            .map(|t| choice(t, default_type.as_deref() == Some(t.key.as_str())))
            .collect(),
        default_url: urls::DEFAULT_CONTACT_TYPE,
    };
    Ok((status, render(&page)?).into_response())
}

async fn list(State(state): State<AppState>, user: SessionUser, flash: Flash) -> Result<Response, PageError> {
    let mut response = page(&state, &user, None, None, flash.message()).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// A GET on a form's address (a reload, Enter in the address bar): the tree.
async fn to_types() -> Redirect {
    Redirect::to(urls::CONTACT_TYPES)
}

async fn create(State(state): State<AppState>, CheckedForm { user, form }: CheckedForm) -> Result<Response, PageError> {
    let input = NewContactType {
        key: form.text("key"),
        label: form.text("label"),
        parent: form.opt("parent"),
    };
    match state.core.create_contact_type(&user.actor, input).await {
        Ok(t) => Ok(flash::redirect(
            &state,
            urls::CONTACT_TYPES,
            &format!("Added the type “{}”.", t.label),
        )),
        Err(e) => page(&state, &user, Some(e), Some(&form), None).await,
    }
}

async fn update(
    State(state): State<AppState>,
    Path(key): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let patch = ContactTypePatch {
        label: form.opt("label"),
        parent: Some(form.opt("parent")),
    };
    match state.core.update_contact_type(&user.actor, &key, patch).await {
        Ok(t) => Ok(flash::redirect(
            &state,
            urls::CONTACT_TYPES,
            &format!("Saved the type “{}”.", t.label),
        )),
        Err(e) => page(&state, &user, Some(e), None, None).await,
    }
}

async fn delete(
    State(state): State<AppState>,
    Path(key): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    if !form.checked("confirm") {
        let e = Error::invalid("confirm", "tick the box to confirm the removal");
        return page(&state, &user, Some(e), None, None).await;
    }
    let tree = state.core.schema().type_tree().await?;
    let label = tree.by_key(&key).map_or_else(|| key.clone(), |t| t.label.clone());
    let moved_to = form
        .get("reassign_to")
        .and_then(|t| tree.by_key(t))
        .map(|t| t.label.clone());
    match state
        .core
        .delete_contact_type(&user.actor, &key, form.get("reassign_to"))
        .await
    {
        Ok(()) => {
            let notice = match moved_to {
                Some(target) => format!("Removed the type “{label}”; its contacts are now “{target}”."),
                None => format!("Removed the type “{label}”."),
            };
            Ok(flash::redirect(&state, urls::CONTACT_TYPES, &notice))
        }
        Err(e) => page(&state, &user, Some(e), None, None).await,
    }
}

/// Sets (or, with an empty choice, clears) the type of contacts created without one.
async fn set_default(
    State(state): State<AppState>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let patch = SettingsPatch {
        default_contact_type: Some(form.opt("default_contact_type")),
    };
    match state.core.schema().update_settings(&user.actor, patch).await {
        Ok(settings) => {
            let notice = match settings.default_contact_type {
                Some(key) => format!("Contacts created without a type are now “{key}”."),
                None => "Contacts now need a type when they are created.".to_owned(),
            };
            Ok(flash::redirect(&state, urls::CONTACT_TYPES, &notice))
        }
        Err(e) => page(&state, &user, Some(e), None, None).await,
    }
}
