//! `/fields`: the extra-field definitions.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use kartoteka_core::fields::FieldPatch;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::{ErrorBody, FieldDto, FieldUpdate, Items};
use super::json::{ApiJson, bool_param, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// Every field definition.
#[utoipa::path(get, path = "/api/v1/fields", responses((status = 200, body = Items<FieldDto>)))]
pub async fn list(State(state): State<AppState>, ApiUser(_): ApiUser) -> Result<Json<Items<FieldDto>>, ApiError> {
    Ok(Json(Items::all(
        state
            .core
            .schema()
            .list_fields()
            .await?
            .into_iter()
            .map(FieldDto::from)
            .collect(),
    )))
}

/// One field definition.
#[utoipa::path(get, path = "/api/v1/fields/{key}", params(("key" = String, Path)),
    responses((status = 200, body = FieldDto), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(_): ApiUser,
    Path(key): Path<String>,
) -> Result<Json<FieldDto>, ApiError> {
    Ok(Json(state.core.schema().get_field(&key).await?.into()))
}

/// Defines a field (admins).
#[utoipa::path(post, path = "/api/v1/fields", request_body = FieldDto,
    responses((status = 201, body = FieldDto), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<FieldDto>,
) -> Result<(StatusCode, Json<FieldDto>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.core.create_field(&actor, body.into()).await?.into()),
    ))
}

/// The answer to a field change: the field (as [`FieldDto`]) and what happened to its
/// stored values. Its own type, not `FieldDto` flattened: that one refuses unknown
/// properties as a request, and its schema says so.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldUpdated {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub options: Vec<String>,
    pub required: bool,
    pub searchable: bool,
    pub applies_to: Vec<String>,
    pub conversion: ConversionOut,
}

/// What a field change did to the stored values.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionOut {
    /// Values looked at.
    pub checked: u64,
    /// Values rewritten to the new kind.
    pub converted: u64,
    /// Whether the failed values were removed (only with `drop_unconvertible`).
    pub dropped: bool,
    /// Values that could not be converted.
    pub failed: Vec<ConversionFailure>,
}

/// A value that could not be converted.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversionFailure {
    pub contact_id: i64,
    #[schema(value_type = Value)]
    pub value: Value,
    pub reason: String,
}

/// Changes a field (admins). The answer is the field plus `conversion`: what happened to
/// the stored values.
#[utoipa::path(patch, path = "/api/v1/fields/{key}", params(("key" = String, Path)), request_body = FieldUpdate,
    responses((status = 200, body = FieldUpdated), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "no field with this key"),
        (status = 409, body = ErrorBody, description = "values can't be converted; `details` lists them")))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<FieldUpdate>,
) -> Result<Json<FieldUpdated>, ApiError> {
    let patch = FieldPatch {
        label: body.label,
        kind: body.kind,
        options: body.options,
        required: body.required,
        searchable: body.searchable,
        applies_to: body.applies_to,
        drop_unconvertible: body.drop_unconvertible,
    };
    let (field, report) = state.core.update_field(&actor, &key, patch).await?;
    let field = FieldDto::from(field);
    Ok(Json(FieldUpdated {
        key: field.key,
        label: field.label,
        kind: field.kind,
        options: field.options,
        required: field.required,
        searchable: field.searchable,
        applies_to: field.applies_to,
        conversion: ConversionOut {
            checked: report.checked,
            converted: report.converted,
            dropped: report.dropped,
            failed: report
                .failed
                .into_iter()
                .map(|f| ConversionFailure {
                    contact_id: f.contact_id,
                    value: f.value,
                    reason: f.reason,
                })
                .collect(),
        },
    }))
}

/// Removes a field (admins). With values stored, `?drop_values=true` is required.
#[utoipa::path(delete, path = "/api/v1/fields/{key}", params(("key" = String, Path), ("drop_values" = Option<bool>, Query)),
    responses((status = 204), (status = 400, body = ErrorBody, description = "`drop_values` is not true or false"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let drop_values = bool_param(&query_pairs(query.as_deref()), "drop_values")?;
    state.core.delete_field(&actor, &key, drop_values).await?;
    Ok(StatusCode::NO_CONTENT)
}
