//! A segment's size before saving and over time: `POST /segments/preview` (the count of a
//! filter and who would join and leave compared with the saved members) and
//! `GET /segments/{id}/history` (the size at the end of each day).

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use chrono::NaiveDate;
use kartoteka_core::segments::history::SizePoint;
use kartoteka_core::segments::preview::{Change, Named, Preview};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{ErrorBody, Items};
use super::json::{ApiJson, number_param, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The days of history a read gives when it doesn't say.
pub const DEFAULT_DAYS: u32 = 30;

/// A filter to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewIn {
    /// The dynamic segment the filter would replace the filter of; absent for a new one.
    #[serde(default)]
    pub segment_id: Option<i64>,
    /// The filter (DESIGN §5); errors name the bad node (`filter.and[1].value`).
    #[schema(value_type = Object)]
    pub filter: serde_json::Value,
}

/// A contact named in a preview.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedOut {
    pub id: i64,
    pub name: String,
}

/// Contacts that would join, or leave.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeOut {
    pub count: u64,
    /// The first few (at most 10), by name.
    pub sample: Vec<NamedOut>,
}

impl From<Change> for ChangeOut {
    fn from(c: Change) -> Self {
        ChangeOut {
            count: c.count,
            sample: c
                .sample
                .into_iter()
                .map(|Named { id, name }| NamedOut { id, name })
                .collect(),
        }
    }
}

/// What saving the filter would do, among the contacts the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    /// How many contacts the filter holds.
    pub count: u64,
    /// Held by the filter but not saved members (all of them, for a new segment).
    pub joining: ChangeOut,
    /// Saved members the filter no longer holds.
    pub leaving: ChangeOut,
}

impl From<Preview> for PreviewOut {
    fn from(p: Preview) -> Self {
        PreviewOut {
            count: p.count,
            joining: p.joining.into(),
            leaving: p.leaving.into(),
        }
    }
}

/// A segment's size at the end of a day.
#[derive(Debug, Serialize, ToSchema)]
pub struct SizePointOut {
    /// A UTC day, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub size: u64,
    /// Contacts that joined that day.
    pub joined: u64,
    /// Contacts that left that day.
    pub left: u64,
}

impl From<SizePoint> for SizePointOut {
    fn from(p: SizePoint) -> Self {
        SizePointOut {
            day: p.day,
            size: p.size,
            joined: p.joined,
            left: p.left,
        }
    }
}

/// The count of a filter and who would join and leave if it were saved as the filter of
/// `segment_id` (or of a new segment). Nothing is saved.
#[utoipa::path(post, path = "/api/v1/segments/preview", request_body = PreviewIn,
    responses((status = 200, body = PreviewOut), (status = 400, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<PreviewIn>,
) -> Result<Json<PreviewOut>, ApiError> {
    let preview = state
        .core
        .segments()
        .preview_segment(&actor, body.segment_id, &body.filter)
        .await?;
    Ok(Json(preview.into()))
}

/// The segment's size at the end of each of the last `days` UTC days, oldest first; the
/// last is today's, the current count.
#[utoipa::path(get, path = "/api/v1/segments/{id}/history",
    params(("id" = i64, Path), ("days" = Option<u32>, Query, description = "1-366, default 30")),
    responses((status = 200, body = Items<SizePointOut>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Items<SizePointOut>>, ApiError> {
    let id = path_id(&id, "segment")?;
    let days = number_param::<u32>(&query_pairs(query.as_deref()), "days")?.unwrap_or(DEFAULT_DAYS);
    let points = state.core.segments().segment_history(&actor, id, days).await?;
    Ok(Json(Items::all(points.into_iter().map(SizePointOut::from).collect())))
}
