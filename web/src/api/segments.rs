//! `/segments`: create, list, get (with count), update, delete; `/segments/{id}/members`:
//! the members (keyset paged like contacts), and adding or removing them on static lists.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kartoteka_core::segments::{Segment, SegmentDraft, SegmentPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::contacts::list_query;
use super::dto::{ContactList, ContactOut, ErrorBody, Items};
use super::json::{ApiJson, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// A segment.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentOut {
    pub id: i64,
    pub name: String,
    /// `dynamic` or `static`.
    pub kind: String,
    /// The filter of a dynamic segment (DESIGN §5); `null` for a static list.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// How many members the caller may see.
    pub count: u64,
    /// `ok`, `rebuilding` or `needs_attention`.
    pub status: String,
    pub status_message: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Segment> for SegmentOut {
    fn from(s: Segment) -> Self {
        SegmentOut {
            id: s.id,
            name: s.name,
            kind: s.kind.as_str().to_owned(),
            filter: s.filter,
            count: s.count,
            status: s.status,
            status_message: s.status_message,
            version: s.version,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A new segment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentCreate {
    pub name: String,
    /// `dynamic` or `static`.
    pub kind: String,
    /// Required for a dynamic segment; errors name the bad node (`filter.and[1].value`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
}

/// A change to a segment; a new filter rebuilds a dynamic segment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
}

/// Contacts to add to or remove from a static list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersChange {
    pub contact_ids: Vec<i64>,
}

/// What a change of members did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersChanged {
    pub joined: u64,
    pub left: u64,
    /// The count after the change.
    pub count: u64,
}

/// Creates a segment; a dynamic one is built before the answer.
#[utoipa::path(post, path = "/api/v1/segments", request_body = SegmentCreate,
    responses((status = 201, body = SegmentOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<SegmentCreate>,
) -> Result<(StatusCode, Json<SegmentOut>), ApiError> {
    let draft = SegmentDraft {
        name: body.name,
        kind: body.kind,
        filter: body.filter,
    };
    let segment = state.core.create_segment(&actor, draft).await?;
    Ok((StatusCode::CREATED, Json(segment.into())))
}

/// Every segment, by name.
#[utoipa::path(get, path = "/api/v1/segments",
    responses((status = 200, body = Items<SegmentOut>)))]
pub async fn list(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Items<SegmentOut>>, ApiError> {
    let all = state.core.list_segments(&actor).await?;
    Ok(Json(Items::all(all.into_iter().map(SegmentOut::from).collect())))
}

/// One segment with its count.
#[utoipa::path(get, path = "/api/v1/segments/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = SegmentOut), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<SegmentOut>, ApiError> {
    let id = path_id(&id, "segment")?;
    Ok(Json(state.core.get_segment(&actor, id).await?.into()))
}

/// Renames a segment or changes a dynamic segment's filter (rebuilding it).
#[utoipa::path(patch, path = "/api/v1/segments/{id}", params(("id" = i64, Path)), request_body = SegmentUpdate,
    responses((status = 200, body = SegmentOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SegmentUpdate>,
) -> Result<Json<SegmentOut>, ApiError> {
    let id = path_id(&id, "segment")?;
    let patch = SegmentPatch {
        name: body.name,
        filter: body.filter,
    };
    Ok(Json(state.core.update_segment(&actor, id, patch).await?.into()))
}

/// Deletes a segment with its members and history.
#[utoipa::path(delete, path = "/api/v1/segments/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "segment")?;
    state.core.delete_segment(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The members the caller sees, a page at a time, like the contacts list.
#[utoipa::path(get, path = "/api/v1/segments/{id}/members",
    params(("id" = i64, Path),
           ("limit" = Option<u64>, Query, description = "1-500, default 50"),
           ("after" = Option<String>, Query, description = "the `next` of the previous page"),
           ("sort" = Option<String>, Query, description = "name (default), -name, created_at, -created_at")),
    responses((status = 200, body = ContactList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ContactList>, ApiError> {
    let id = path_id(&id, "segment")?;
    let list_query = list_query(&query_pairs(query.as_deref()))?;
    let page = state.core.segment_members(&actor, id, &list_query).await?;
    Ok(Json(ContactList {
        items: page.items.into_iter().map(ContactOut::from).collect(),
        next: page.next,
    }))
}

/// What a change of a static list did, with the list's count after it.
async fn members_changed(
    state: &AppState,
    actor: &kartoteka_core::auth::Actor,
    id: i64,
    done: kartoteka_core::segments::Rebuilt,
) -> Result<Json<MembersChanged>, ApiError> {
    let count = state.core.get_segment(actor, id).await?.count;
    Ok(Json(MembersChanged {
        joined: done.joined,
        left: done.left,
        count,
    }))
}

/// Adds contacts to a static list (409 for a dynamic segment).
#[utoipa::path(post, path = "/api/v1/segments/{id}/members", params(("id" = i64, Path)), request_body = MembersChange,
    responses((status = 200, body = MembersChanged), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MembersChange>,
) -> Result<Json<MembersChanged>, ApiError> {
    let id = path_id(&id, "segment")?;
    let done = state.core.add_segment_members(&actor, id, &body.contact_ids).await?;
    members_changed(&state, &actor, id, done).await
}

/// Removes contacts from a static list (409 for a dynamic segment).
#[utoipa::path(delete, path = "/api/v1/segments/{id}/members", params(("id" = i64, Path)), request_body = MembersChange,
    responses((status = 200, body = MembersChanged), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_members(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MembersChange>,
) -> Result<Json<MembersChanged>, ApiError> {
    let id = path_id(&id, "segment")?;
    let done = state.core.remove_segment_members(&actor, id, &body.contact_ids).await?;
    members_changed(&state, &actor, id, done).await
}
