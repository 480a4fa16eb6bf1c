//! `/activities`: record one or a batch; list a contact's history.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use kartoteka_core::activities::NewActivity;

use super::dto::{ActivityBatch, ActivityIn, ActivityOut, ErrorBody, Items};
use super::json::{ApiJson, from_value, number_param, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The most activities one answer lists.
const MAX_LIMIT: u64 = 500;

fn to_new(a: ActivityIn) -> NewActivity {
    NewActivity {
        contact_id: a.contact_id,
        kind: a.kind,
        occurred_at: a.occurred_at,
        properties: a.properties,
        amount: a.amount,
    }
}

/// Records one activity (an object) or a batch (an array), all or nothing.
#[utoipa::path(post, path = "/api/v1/activities", request_body = ActivityBatch,
    responses((status = 201, body = Items<ActivityOut>), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<(StatusCode, Json<Items<ActivityOut>>), ApiError> {
    // Decided by the JSON's shape first, so that an error inside an item keeps its path
    // (`[1].kind`) instead of becoming "matches no variant".
    let items = if body.is_array() {
        let list: Vec<ActivityIn> = from_value(body)?;
        list.into_iter().map(to_new).collect()
    } else {
        vec![to_new(from_value::<ActivityIn>(body)?)]
    };
    let recorded = state.core.activities().record_activities(&actor, items).await?;
    Ok((
        StatusCode::CREATED,
        Json(Items::all(recorded.into_iter().map(ActivityOut::from).collect())),
    ))
}

/// A contact's activities, newest first (`?contact_id=&limit=`).
#[utoipa::path(get, path = "/api/v1/activities",
    params(("contact_id" = i64, Query), ("limit" = Option<u64>, Query, minimum = 1, maximum = 500, description = "1-500, default 100")),
    responses((status = 200, body = Items<ActivityOut>), (status = 400, body = ErrorBody, description = "`contact_id` missing or not a number, `limit` outside 1-500"),
        (status = 404, body = ErrorBody, description = "no such contact, or not one the caller may see")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<Items<ActivityOut>>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let contact_id: i64 =
        number_param(&pairs, "contact_id")?.ok_or_else(|| ApiError::invalid("contact_id", "is required"))?;
    let limit = number_param(&pairs, "limit")?.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}, got {limit}"),
        ));
    }
    let items = state
        .core
        .activities()
        .list_activities(&actor, contact_id, limit)
        .await?;
    Ok(Json(Items::all(items.into_iter().map(ActivityOut::from).collect())))
}

/// A contact's activities, newest first.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/activities", params(("id" = i64, Path)),
    responses((status = 200, body = Items<ActivityOut>), (status = 404, body = ErrorBody)))]
pub async fn list_for_contact(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Items<ActivityOut>>, ApiError> {
    let id = path_id(&id, "contact")?;
    let items = state.core.activities().list_activities(&actor, id, 100).await?;
    Ok(Json(Items::all(items.into_iter().map(ActivityOut::from).collect())))
}
