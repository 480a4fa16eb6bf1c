//! `/scoring-models`: scoring models (create, list, get, change, delete), `/preview` (the
//! what-if of a draft over the whole base, nothing saved), `/{id}/rescore`;
//! `/scoring-criteria`: the criteria the enabled plugins offer; `/contacts/{id}/scores`:
//! a contact's scores explained, with its band changes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kartoteka_core::scoring::{
    ContactScore, ModelInput, ModelPatch, RunState, ScoreChange, ScoringModel, WhatIf, WhatIfRun,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{ErrorBody, Items};
use super::json::{ApiJson, path_id};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// A scoring model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoringModelOut {
    pub id: i64,
    /// Names the model in filters: `score.<key>`, `score_band.<key>`.
    pub key: String,
    pub name: String,
    /// `person` or `company`.
    pub kind: String,
    /// `{"parameters": [...], "bands": [...]}`.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    /// Send it back with a change; a change made against an old version is refused (409).
    pub version: i64,
    /// Its points change with time alone: rescored on a schedule.
    pub time_dependent: bool,
    /// `ready`, `rescoring` or `needs_attention`.
    pub status: String,
    pub status_message: Option<String>,
    /// While `rescoring`: the contacts scored so far, of `progress_total`.
    pub progress_done: i64,
    pub progress_total: i64,
    pub rescored_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ScoringModel> for ScoringModelOut {
    fn from(m: ScoringModel) -> Self {
        ScoringModelOut {
            id: m.id,
            key: m.key,
            name: m.name,
            kind: m.kind.as_str().to_owned(),
            definition: serde_json::to_value(&m.definition).unwrap_or_default(),
            version: m.version,
            time_dependent: m.time_dependent,
            status: m.status,
            status_message: m.status_message,
            progress_done: m.progress_done,
            progress_total: m.progress_total,
            rescored_at: m.rescored_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// A new scoring model; errors name the bad part (`definition.parameters[1].weight`,
/// `definition.bands[2].from`), every one at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringModelCreate {
    /// Lowercase letters, digits and `_`, starting with a letter.
    pub key: String,
    pub name: String,
    /// `person` or `company`.
    pub kind: String,
    /// Parameters (`source`: `{"field": "fields.revenue"}` or `{"activity": "purchase",
    /// "measure": "count" | "sum" | "days_since_last", "within_days": 90}`; `criterion`:
    /// `scoring.ranges`; `params`; `weight` 1-10; `enabled`) and bands (`name`, `from`,
    /// `to`) covering 0-100.
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
}

/// A change of a scoring model; a new definition rescores every contact of its kind.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringModelUpdate {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub definition: Option<serde_json::Value>,
    /// The version the change was made against.
    #[serde(default)]
    pub version: Option<i64>,
}

/// A draft to try: its definition, for contacts of `kind`, against saved model
/// `model_id` when given.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringPreviewIn {
    /// `person` or `company`; the saved model's when left out.
    #[serde(default)]
    pub kind: Option<String>,
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    #[serde(default)]
    pub model_id: Option<i64>,
}

/// A band's count under the saved model and under the draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct BandCountOut {
    pub band: String,
    pub saved: u64,
    pub draft: u64,
}

/// A contact named in a sample.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoredContactOut {
    pub id: i64,
    pub name: String,
}

/// Contacts that would move between bands.
#[derive(Debug, Serialize, ToSchema)]
pub struct BandMoveOut {
    /// `null` for contacts without a saved score.
    pub from: Option<String>,
    pub to: String,
    pub count: u64,
    pub sample: Vec<ScoredContactOut>,
}

/// The what-if of a draft.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoringPreviewOut {
    pub total: u64,
    pub scored_before: u64,
    pub bands: Vec<BandCountOut>,
    pub moves: Vec<BandMoveOut>,
    pub unchanged: u64,
    pub mean_draft: f64,
    pub elapsed_ms: u64,
}

impl From<WhatIf> for ScoringPreviewOut {
    fn from(w: WhatIf) -> Self {
        ScoringPreviewOut {
            total: w.total,
            scored_before: w.scored_before,
            bands: w
                .bands
                .into_iter()
                .map(|b| BandCountOut {
                    band: b.band,
                    saved: b.saved,
                    draft: b.draft,
                })
                .collect(),
            moves: w
                .moves
                .into_iter()
                .map(|m| BandMoveOut {
                    from: m.from,
                    to: m.to,
                    count: m.count,
                    sample: m
                        .sample
                        .into_iter()
                        .map(|(id, name)| ScoredContactOut { id, name })
                        .collect(),
                })
                .collect(),
            unchanged: w.unchanged,
            mean_draft: w.mean_draft,
            elapsed_ms: w.elapsed_ms,
        }
    }
}

/// A what-if running in the background: how far it got, and its answer once done.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoringPreviewRunOut {
    pub id: u64,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub model_id: Option<i64>,
    /// Contacts scored so far, of `total`.
    pub done: u64,
    pub total: u64,
    /// The answer, once `done`.
    pub answer: Option<ScoringPreviewOut>,
    /// Why it stopped, when `failed`.
    pub error: Option<String>,
}

impl From<WhatIfRun> for ScoringPreviewRunOut {
    fn from(r: WhatIfRun) -> Self {
        let (status, answer, error) = match r.state {
            RunState::Running => ("running", None, None),
            RunState::Done(w) => ("done", Some(w.into()), None),
            RunState::Failed(e) => ("failed", None, Some(e)),
        };
        ScoringPreviewRunOut {
            id: r.id,
            status: status.into(),
            model_id: r.model_id,
            done: r.done,
            total: r.total,
            answer,
            error,
        }
    }
}

/// A criterion a parameter can use.
#[derive(Debug, Serialize, ToSchema)]
pub struct CriterionOut {
    /// `scoring.ranges`.
    pub name: String,
    pub label: String,
    /// The field kinds it scores.
    pub applies_to: Vec<String>,
    /// JSON Schema of its `params`.
    #[schema(value_type = Object)]
    pub params_schema: serde_json::Value,
}

/// One parameter of a contact's score.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterPointsOut {
    pub label: String,
    pub criterion: String,
    /// The value as it reads now (empty when the contact has none).
    pub value: String,
    /// The points stored with the score (0-100; `null` when disabled).
    pub points: Option<f64>,
    pub weight: i64,
    pub enabled: bool,
    /// The weight's share of the enabled weights, in percent.
    pub share: f64,
    /// What it added to the score.
    pub contribution: f64,
}

/// A contact's score under one model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactScoreOut {
    pub model_id: i64,
    pub model_key: String,
    pub model_name: String,
    pub model_status: String,
    pub score: Option<f64>,
    pub band: Option<String>,
    pub computed_at: Option<DateTime<Utc>>,
    pub parameters: Vec<ParameterPointsOut>,
}

impl From<ContactScore> for ContactScoreOut {
    fn from(s: ContactScore) -> Self {
        ContactScoreOut {
            model_id: s.model_id,
            model_key: s.model_key,
            model_name: s.model_name,
            model_status: s.model_status,
            score: s.score,
            band: s.band,
            computed_at: s.computed_at,
            parameters: s
                .parameters
                .into_iter()
                .map(|p| ParameterPointsOut {
                    label: p.label,
                    criterion: p.criterion,
                    value: p.value,
                    points: p.points,
                    weight: p.weight,
                    enabled: p.enabled,
                    share: p.share,
                    contribution: p.contribution,
                })
                .collect(),
        }
    }
}

/// A band change.
#[derive(Debug, Serialize, ToSchema)]
pub struct BandChangeOut {
    pub model_id: i64,
    pub model_name: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub score: Option<f64>,
    pub at: DateTime<Utc>,
}

impl From<ScoreChange> for BandChangeOut {
    fn from(c: ScoreChange) -> Self {
        BandChangeOut {
            model_id: c.model_id,
            model_name: c.model_name,
            from: c.from,
            to: c.to,
            score: c.score,
            at: c.at,
        }
    }
}

/// A contact's scores and its latest band changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactScoresOut {
    pub items: Vec<ContactScoreOut>,
    /// Newest first, at most 50.
    pub changes: Vec<BandChangeOut>,
}

/// Every scoring model.
#[utoipa::path(get, path = "/api/v1/scoring-models",
    responses((status = 200, body = Items<ScoringModelOut>)))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
) -> Result<Json<Items<ScoringModelOut>>, ApiError> {
    let all = state.core.scoring().list_models().await?;
    Ok(Json(Items::all(all.into_iter().map(ScoringModelOut::from).collect())))
}

/// Creates a scoring model (admins); every contact of its kind is scored before the answer
/// when the base is small, otherwise in the background (`status` says `rescoring`).
#[utoipa::path(post, path = "/api/v1/scoring-models", request_body = ScoringModelCreate,
    responses((status = 201, body = ScoringModelOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<ScoringModelCreate>,
) -> Result<(StatusCode, Json<ScoringModelOut>), ApiError> {
    let input = ModelInput {
        key: body.key,
        name: body.name,
        kind: body.kind,
        definition: body.definition,
    };
    let model = state.core.scoring().create_model(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(model.into())))
}

/// One scoring model.
#[utoipa::path(get, path = "/api/v1/scoring-models/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ScoringModelOut), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ScoringModelOut>, ApiError> {
    let id = path_id(&id, "scoring model")?;
    Ok(Json(state.core.scoring().get_model(id).await?.into()))
}

/// Renames a scoring model or changes its definition (admins; a new definition rescores).
#[utoipa::path(patch, path = "/api/v1/scoring-models/{id}", params(("id" = i64, Path)), request_body = ScoringModelUpdate,
    responses((status = 200, body = ScoringModelOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ScoringModelUpdate>,
) -> Result<Json<ScoringModelOut>, ApiError> {
    let id = path_id(&id, "scoring model")?;
    let patch = ModelPatch {
        name: body.name,
        definition: body.definition,
        version: body.version,
    };
    Ok(Json(state.core.scoring().update_model(&actor, id, patch).await?.into()))
}

/// Deletes a scoring model with its scores (admins).
#[utoipa::path(delete, path = "/api/v1/scoring-models/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "scoring model")?;
    state.core.scoring().delete_model(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Rescores every contact of the model's kind (admins): in the answer for a small base,
/// otherwise in the background; also the way back for a model that needs attention.
#[utoipa::path(post, path = "/api/v1/scoring-models/{id}/rescore", params(("id" = i64, Path)),
    responses((status = 202, body = ScoringModelOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rescore(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<ScoringModelOut>), ApiError> {
    let id = path_id(&id, "scoring model")?;
    let model = state.core.scoring().request_rescore(&actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(model.into())))
}

/// The what-if (admins): a draft scored over the whole base against a saved model's
/// scores, nothing saved.
#[utoipa::path(post, path = "/api/v1/scoring-models/preview", request_body = ScoringPreviewIn,
    responses((status = 200, body = ScoringPreviewOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<ScoringPreviewIn>,
) -> Result<Json<ScoringPreviewOut>, ApiError> {
    let what_if = state
        .core
        .scoring()
        .what_if(
            &actor,
            body.kind.as_deref().unwrap_or_default(),
            &body.definition,
            body.model_id,
            &|_, _| {},
        )
        .await?;
    Ok(Json(what_if.into()))
}

/// Starts the what-if in the background (admins), for a base too large to wait for: the
/// draft is checked at once (400 with every problem), then `GET
/// /scoring-models/previews/{id}` shows its progress and, once done, its answer.
#[utoipa::path(post, path = "/api/v1/scoring-models/previews", request_body = ScoringPreviewIn,
    responses((status = 202, body = ScoringPreviewRunOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody)))]
pub async fn start_preview(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<ScoringPreviewIn>,
) -> Result<(StatusCode, Json<ScoringPreviewRunOut>), ApiError> {
    let run = state
        .core
        .scoring()
        .start_what_if(
            &actor,
            body.kind.as_deref().unwrap_or_default(),
            &body.definition,
            body.model_id,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(run.into())))
}

/// A background what-if's progress and, once done, its answer (its starter only; kept
/// for 30 minutes after it finishes, on the server that ran it).
#[utoipa::path(get, path = "/api/v1/scoring-models/previews/{id}", params(("id" = u64, Path)),
    responses((status = 200, body = ScoringPreviewRunOut), (status = 404, body = ErrorBody)))]
pub async fn preview_run(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ScoringPreviewRunOut>, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError(kartoteka_core::Error::NotFound { what: "what-if run" }))?;
    Ok(Json(state.core.scoring().what_if_run(&actor, id)?.into()))
}

/// The criteria of the enabled segment-criterion plugins.
#[utoipa::path(get, path = "/api/v1/scoring-criteria",
    responses((status = 200, body = Items<CriterionOut>)))]
pub async fn criteria(
    State(state): State<AppState>,
    ApiUser(_actor): ApiUser,
) -> Result<Json<Items<CriterionOut>>, ApiError> {
    let all = state.core.scoring().criteria().await?;
    Ok(Json(Items::all(
        all.into_iter()
            .map(|c| CriterionOut {
                name: c.name,
                label: c.label,
                applies_to: c.applies_to.iter().map(|k| k.as_str().to_owned()).collect(),
                params_schema: c.params_schema,
            })
            .collect(),
    )))
}

/// A contact's scores, each explained, and its latest band changes.
#[utoipa::path(get, path = "/api/v1/contacts/{id}/scores", params(("id" = i64, Path)),
    responses((status = 200, body = ContactScoresOut), (status = 404, body = ErrorBody)))]
pub async fn for_contact(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ContactScoresOut>, ApiError> {
    let id = path_id(&id, "contact")?;
    let scoring = state.core.scoring();
    let items = scoring.contact_scores(&actor, id).await?;
    let changes = scoring.score_history(&actor, id, 50).await?;
    Ok(Json(ContactScoresOut {
        items: items.into_iter().map(ContactScoreOut::from).collect(),
        changes: changes.into_iter().map(BandChangeOut::from).collect(),
    }))
}
