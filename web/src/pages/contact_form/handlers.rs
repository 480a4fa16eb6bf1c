//! The handlers of the contact forms: show the new and edit forms, create, update and
//! delete; after a save, a redirect to the card (or the list) with a notice.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_core::Error;
use kartoteka_core::contacts::{Contact, ContactDraft, ContactPatch};
use kartoteka_core::error::Problems;

use super::read::{id_input, read_form, together};
use super::view::{FormContext, form_page};
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{CheckedForm, SessionUser};
use crate::error::PageError;
use crate::pages::contacts::parse_id;
use crate::pages::flash;
use crate::urls;

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
        state.core.contacts().create_contact(&user.actor, draft.clone()).await
    } else {
        let checked = state
            .core
            .contacts()
            .check_new_contact(&user.actor, draft.clone())
            .await;
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
    let contact = state.core.contacts().get_contact(&user.actor, id).await?;
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
    let current = state.core.contacts().get_contact(&user.actor, id).await?;
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
        state.core.contacts().update_contact(&user.actor, id, patch).await
    } else {
        let checked = state.core.contacts().check_contact_patch(&user.actor, id, &patch).await;
        Err(together(problems, checked)?)
    };
    match result {
        Ok(contact) => {
            // Handed to someone else, the contact may be out of the user's sight now.
            let target = if state.core.contacts().get_contact(&user.actor, id).await.is_ok() {
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
    let contact = state.core.contacts().get_contact(&user.actor, id).await?;
    state.core.contacts().delete_contact(&user.actor, id, version).await?;
    let mut response = Redirect::to(urls::CONTACTS).into_response();
    flash::set(
        &state,
        &mut response,
        &format!("Deleted {}.", contact.name),
        urls::CONTACTS,
    );
    Ok(response)
}
