//! `/segments`: create, list, get (with count), update, delete; `/segments/{id}/members`:
//! the members (keyset paged like contacts), and adding or removing them on static lists
//! (by id, or a filter's whole result in one go); `/segments/{id}/members.csv`: the
//! members as a CSV file, streamed; `/contacts/{id}/segments`: a contact's segments, each
//! explained.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use kartoteka_core::filter::ContactQuery;
use kartoteka_core::segments::explain::{ExplainNode, SegmentExplanation};
use kartoteka_core::segments::export::SegmentCsv;
use kartoteka_core::segments::lists::{Added, Addition};
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
    /// While `rebuilding`: the candidates decided so far, of `progress_total`.
    pub progress_done: u64,
    pub progress_total: u64,
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
            progress_done: s.progress_done,
            progress_total: s.progress_total,
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

/// Contacts to remove from a static list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersChange {
    pub contact_ids: Vec<i64>,
}

/// Contacts to add to a static list: either `contact_ids`, or `filter` (with an optional
/// `q`) for every contact the caller sees that matches, in one go.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersAdd {
    /// These contacts; each must be one the caller sees (errors at `contact_ids[i]`).
    #[serde(default)]
    pub contact_ids: Option<Vec<i64>>,
    /// Instead of `contact_ids`: a filter (DESIGN §5; `{}` is every contact the caller
    /// sees); errors name the bad node (`filter.and[1].value`).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub filter: Option<serde_json::Value>,
    /// With `filter`: global search, as for `GET /contacts`.
    #[serde(default)]
    pub q: Option<String>,
}

impl MembersAdd {
    /// What to add; exactly one of `contact_ids` and `filter`, and `q` only with `filter`.
    fn addition(&self) -> Result<Addition<'_>, ApiError> {
        match (&self.contact_ids, &self.filter) {
            (Some(_), Some(_)) => Err(ApiError::invalid(
                "filter",
                "send either `contact_ids` or `filter`, not both",
            )),
            (None, None) => Err(ApiError::invalid(
                "contact_ids",
                "is required, unless `filter` (with an optional `q`) says which contacts to add",
            )),
            (Some(_), None) if self.q.is_some() => Err(ApiError::invalid(
                "q",
                "narrows a `filter`; it can't go with `contact_ids`",
            )),
            (Some(ids), None) => Ok(Addition::Ids(ids)),
            (None, Some(filter)) => Ok(Addition::Matching {
                filter,
                q: self.q.as_deref(),
            }),
        }
    }
}

/// What a change of members did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersChanged {
    pub joined: u64,
    pub left: u64,
    /// On an addition: the contacts asked for that were members already (they keep their
    /// join time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already: Option<u64>,
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
    let segment = state.core.segments().create_segment(&actor, draft).await?;
    Ok((StatusCode::CREATED, Json(segment.into())))
}

/// Every segment, by name.
#[utoipa::path(get, path = "/api/v1/segments",
    responses((status = 200, body = Items<SegmentOut>)))]
pub async fn list(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Items<SegmentOut>>, ApiError> {
    let all = state.core.segments().list_segments(&actor).await?;
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
    Ok(Json(state.core.segments().get_segment(&actor, id).await?.into()))
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
    Ok(Json(
        state.core.segments().update_segment(&actor, id, patch).await?.into(),
    ))
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
    state.core.segments().delete_segment(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The members the caller sees, a page at a time, like the contacts list.
#[utoipa::path(get, path = "/api/v1/segments/{id}/members",
    params(("id" = i64, Path),
           ("limit" = Option<u64>, Query, description = "1-500, default 50"),
           ("after" = Option<String>, Query, description = "the `next` of the previous page"),
           ("sort" = Option<String>, Query, description = "as for `GET /api/v1/contacts`: name (default), city, created_at, updated_at or score.<scoring model key>, `-` for descending"),
           ("q" = Option<String>, Query, description = "search names, e-mails, addresses and searchable fields")),
    responses((status = 200, body = ContactList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn members(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<ContactList>, ApiError> {
    let id = path_id(&id, "segment")?;
    let pairs = super::contacts::score_sort(&state, query_pairs(query.as_deref())).await?;
    let page = list_query(&pairs)?;
    let query = ContactQuery {
        search: super::contacts::search(&pairs)?,
        page,
        ..ContactQuery::default()
    };
    let page = state.core.segments().segment_members(&actor, id, &query).await?;
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
    already: Option<u64>,
) -> Result<Json<MembersChanged>, ApiError> {
    let count = state.core.segments().get_segment(actor, id).await?.count;
    Ok(Json(MembersChanged {
        joined: done.joined,
        left: done.left,
        already,
        count,
    }))
}

/// Adds contacts to a static list: `{contact_ids: [...]}`, or `{filter, q?}` for every
/// contact the caller sees that matches (in one go, whatever the number). Those already in
/// the list keep their join time. 409 for a dynamic segment, 403 for agents.
#[utoipa::path(post, path = "/api/v1/segments/{id}/members", params(("id" = i64, Path)), request_body = MembersAdd,
    responses((status = 200, body = MembersChanged), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_members(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<MembersAdd>,
) -> Result<Json<MembersChanged>, ApiError> {
    let id = path_id(&id, "segment")?;
    let Added { joined, already } = state.core.segments().add_to_list(&actor, id, body.addition()?).await?;
    let done = kartoteka_core::segments::Rebuilt { joined, left: 0 };
    members_changed(&state, &actor, id, done, Some(already)).await
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
    let done = state
        .core
        .segments()
        .remove_segment_members(&actor, id, &body.contact_ids)
        .await?;
    members_changed(&state, &actor, id, done, None).await
}

/// The members the caller sees as a CSV file (RFC 4180, UTF-8), in contact id order:
/// `id, kind, type, name, email, phone, position, company, city, region, country,
/// postal_code, owner, joined_at`, then `fields.<key>` per extra field. A text cell that
/// starts with `=`, `+`, `-`, `@` or a control character gets a `'` in front.
#[utoipa::path(get, path = "/api/v1/segments/{id}/members.csv", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String, description = "the CSV file, as an attachment"),
              (status = 404, body = ErrorBody)))]
pub async fn members_csv(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "segment")?;
    let export = state.core.segments().export_segment_csv(&actor, id).await?;
    Ok(csv_download(export).await?)
}

/// A segment's CSV export as a download (see [`super::download::streamed`]).
pub async fn csv_download(export: SegmentCsv) -> Result<Response, kartoteka_core::Error> {
    let file_name = export.file_name();
    let body = super::download::streamed(export).await?;
    Ok(super::download::attachment(body, "text/csv; charset=utf-8", &file_name))
}

/// One node of a dynamic segment's filter, evaluated for one contact: a group (`and`,
/// `or`, `not`) with its children, or a condition with the value it compared.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExplainNodeOut {
    /// Where the node sits in the filter (`and[1].or[0]`; `` for the root), as in filter
    /// errors.
    pub path: String,
    /// `and`, `or`, `not` or `condition`.
    #[serde(rename = "type")]
    pub node_type: String,
    pub matched: bool,
    /// A group's children.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub children: Option<Vec<ExplainNodeOut>>,
    /// A condition's field, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The field's label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A condition's operator, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// A condition's value, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>)]
    pub value: Option<serde_json::Value>,
    /// The contact's value the condition compared: the stored value of an extra field,
    /// the company's name, `{matching, total, needed}` for an activity, whether the
    /// contact is in the referenced segment for `segment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>)]
    pub actual: Option<serde_json::Value>,
    /// The comparison in words, where the value alone doesn't say it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl From<ExplainNode> for ExplainNodeOut {
    fn from(node: ExplainNode) -> Self {
        match node {
            ExplainNode::Group {
                path,
                logic,
                matched,
                children,
            } => ExplainNodeOut {
                path,
                node_type: logic.as_str().to_owned(),
                matched,
                children: Some(children.into_iter().map(ExplainNodeOut::from).collect()),
                field: None,
                label: None,
                op: None,
                value: None,
                actual: None,
                note: None,
            },
            ExplainNode::Condition(c) => ExplainNodeOut {
                path: c.path,
                node_type: "condition".to_owned(),
                matched: c.matched,
                children: None,
                field: Some(c.field),
                label: Some(c.label),
                op: Some(c.op),
                value: Some(c.value.unwrap_or(serde_json::Value::Null)),
                actual: Some(c.actual),
                note: c.note,
            },
        }
    }
}

/// A segment and one contact: whether the contact is a member, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentExplanationOut {
    /// The segment's id.
    pub id: i64,
    pub name: String,
    /// `dynamic` or `static`.
    pub kind: String,
    /// `ok`, `rebuilding` or `needs_attention`.
    pub status: String,
    pub status_message: Option<String>,
    /// Whether the contact is a stored member (what counts, member lists and bulk actions
    /// read; a dynamic segment's follows its filter at each rebuild).
    pub member: bool,
    /// Since when, for a member.
    pub joined_at: Option<DateTime<Utc>>,
    /// A static list's member was added by hand (at `joined_at`).
    pub added_by_hand: bool,
    /// Whether a dynamic segment's filter matches the contact now; `null` for a static
    /// list or a filter that can't be evaluated (see `reason`).
    pub matched: Option<bool>,
    /// The filter, node by node; `null` for a static list or when `reason` is set.
    pub explanation: Option<ExplainNodeOut>,
    /// Why a dynamic segment's filter can't be evaluated (it needs attention).
    pub reason: Option<String>,
}

impl From<SegmentExplanation> for SegmentExplanationOut {
    fn from(e: SegmentExplanation) -> Self {
        SegmentExplanationOut {
            added_by_hand: e.added_by_hand(),
            id: e.segment_id,
            name: e.name,
            kind: e.kind.as_str().to_owned(),
            status: e.status,
            status_message: e.status_message,
            member: e.member,
            joined_at: e.joined_at,
            matched: e.matched,
            explanation: e.tree.map(ExplainNodeOut::from),
            reason: e.reason,
        }
    }
}

/// Every segment with whether the contact is in it and why: for a dynamic segment, each
/// condition of its filter with whether it matched and the contact's value it compared;
/// for a static list, when the contact was added. 404 for a contact the caller can't see.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/segments", params(("id" = i64, Path)),
    responses((status = 200, body = Items<SegmentExplanationOut>), (status = 404, body = ErrorBody)))]
pub async fn for_contact(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<Items<SegmentExplanationOut>>, ApiError> {
    let id = path_id(&id, "contact")?;
    let all = state.core.segments().explain_contact_segments(&actor, id).await?;
    Ok(Json(Items::all(
        all.into_iter().map(SegmentExplanationOut::from).collect(),
    )))
}
