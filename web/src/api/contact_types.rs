//! `/contact-types`: the type tree.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use kartoteka_core::contact_types::{ContactTypePatch, NewContactType};

use super::dto::{ContactTypeCreate, ContactTypeDto, ContactTypeUpdate, ErrorBody, Items};
use super::json::{ApiJson, param, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// Every type, depth first.
#[utoipa::path(get, path = "/api/v1/contact-types", responses((status = 200, body = Items<ContactTypeDto>)))]
pub async fn list(State(state): State<AppState>, ApiUser(_): ApiUser) -> Result<Json<Items<ContactTypeDto>>, ApiError> {
    let tree = state.core.schema().type_tree().await?;
    Ok(Json(Items::all(
        tree.all().iter().cloned().map(ContactTypeDto::from).collect(),
    )))
}

/// One type.
#[utoipa::path(get, path = "/api/v1/contact-types/{key}", params(("key" = String, Path)),
    responses((status = 200, body = ContactTypeDto), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(_): ApiUser,
    Path(key): Path<String>,
) -> Result<Json<ContactTypeDto>, ApiError> {
    let tree = state.core.schema().type_tree().await?;
    let found = tree
        .by_key(&key)
        .cloned()
        .ok_or(kartoteka_core::Error::NotFound { what: "contact type" })?;
    Ok(Json(found.into()))
}

/// Adds a type (admins).
#[utoipa::path(post, path = "/api/v1/contact-types", request_body = ContactTypeCreate,
    responses((status = 201, body = ContactTypeDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<ContactTypeCreate>,
) -> Result<(StatusCode, Json<ContactTypeDto>), ApiError> {
    let created = state
        .core
        .create_contact_type(
            &actor,
            NewContactType {
                key: body.key,
                label: body.label,
                parent: body.parent,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Renames or moves a type (admins).
#[utoipa::path(patch, path = "/api/v1/contact-types/{key}", params(("key" = String, Path)), request_body = ContactTypeUpdate,
    responses((status = 200, body = ContactTypeDto), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<ContactTypeUpdate>,
) -> Result<Json<ContactTypeDto>, ApiError> {
    let updated = state
        .core
        .update_contact_type(
            &actor,
            &key,
            ContactTypePatch {
                label: body.label,
                parent: body.parent,
            },
        )
        .await?;
    Ok(Json(updated.into()))
}

/// Removes a type (admins). A type in use needs `?reassign_to=<key>`: where its contacts go.
#[utoipa::path(delete, path = "/api/v1/contact-types/{key}", params(("key" = String, Path), ("reassign_to" = Option<String>, Query)),
    responses((status = 204), (status = 400, body = ErrorBody, description = "`reassign_to` names no type, or one that can not take the contacts"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let pairs = query_pairs(query.as_deref());
    state
        .core
        .delete_contact_type(&actor, &key, param(&pairs, "reassign_to"))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
