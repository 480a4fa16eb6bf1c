//! `/plugins` (admins: upload, list, approve, enable, disable, remove, try) and
//! `/operators` (everyone: the live catalogue of filter operators).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use chrono::{DateTime, Utc};
use kartoteka_core::auth::Actor;
use kartoteka_core::error::Problem;
use kartoteka_core::plugin::limits::{Grant, MAX_BATCH, MAX_COMPONENT_SIZE};
use kartoteka_core::plugin::{
    FieldKind, FieldRef, Installed, Kind, LogLine, OperatorEntry, PluginAdmin, PluginInfo, TryRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::{ErrorBody, Items};
use super::json::{ApiJson, param, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// Log lines returned with each plugin.
const LOG_LINES: u64 = 20;

/// One operator, criterion or action a plugin offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferOut {
    /// The name after the plugin's (`eq` in `std.eq`).
    pub name: String,
    pub label: String,
    /// Field kinds it applies to.
    pub applies_to: Vec<String>,
    /// JSON Schema of its value or parameters.
    #[schema(value_type = Object)]
    pub args_schema: Value,
}

/// A line of a plugin's log.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogLineOut {
    pub at: DateTime<Utc>,
    /// `stdout`, `stderr` or `host`.
    pub stream: String,
    pub line: String,
}

impl From<LogLine> for LogLineOut {
    fn from(l: LogLine) -> Self {
        LogLineOut {
            at: l.at,
            stream: l.stream,
            line: l.line,
        }
    }
}

/// An installed plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginOut {
    pub name: String,
    pub version: String,
    /// `filter-operator`, `segment-criterion` or `bulk-action`.
    pub kind: String,
    pub description: String,
    pub builtin: bool,
    pub enabled: bool,
    /// Whether every capability it asks for is approved.
    pub approved: bool,
    /// Capabilities it asks for (`send_email`, `create_task`, `grant_access`).
    pub capabilities: Vec<String>,
    pub approved_capabilities: Vec<String>,
    /// Its operators (criteria, actions).
    pub offers: Vec<OfferOut>,
    pub sha256: String,
    pub size: i64,
    pub installed_by: Option<String>,
    pub installed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why it can't run on this server, if it can't.
    pub problem: Option<String>,
    /// The limits its calls run with.
    pub limits: LimitsOut,
    /// The last lines of its log, oldest first.
    pub log: Vec<LogLineOut>,
}

/// The limits a plugin's calls run with: the defaults, or what an admin granted.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitsOut {
    /// Memory for every call, MiB.
    pub memory_mb: u64,
    /// The deadline of a batch call (`matches`, `score`, `run`), ms.
    pub time_ms: u64,
    /// Whether an admin granted more than the defaults.
    pub granted: bool,
}

impl PluginOut {
    fn new(p: PluginInfo, log: Vec<LogLine>) -> Self {
        PluginOut {
            limits: LimitsOut {
                memory_mb: (p.grant.memory() >> 20) as u64,
                time_ms: u64::try_from(p.grant.batch_deadline().as_millis()).unwrap_or(u64::MAX),
                granted: !p.grant.is_default(),
            },
            approved: p.approved(),
            kind: p.kind.as_str().to_owned(),
            capabilities: p.capabilities.iter().map(|c| c.as_str().to_owned()).collect(),
            approved_capabilities: p.approved_capabilities.iter().map(|c| c.as_str().to_owned()).collect(),
            offers: p
                .offers
                .into_iter()
                .map(|o| OfferOut {
                    name: o.name,
                    label: o.label,
                    applies_to: o.applies_to.iter().map(|k| k.as_str().to_owned()).collect(),
                    args_schema: o.schema,
                })
                .collect(),
            name: p.name,
            version: p.version,
            description: p.description,
            builtin: p.builtin,
            enabled: p.enabled,
            sha256: p.sha256,
            size: p.size,
            installed_by: p.installed_by,
            installed_at: p.installed_at,
            updated_at: p.updated_at,
            problem: p.problem,
            log: log.into_iter().map(LogLineOut::from).collect(),
        }
    }
}

/// An upload's answer: the plugin, and whether it was new or an upgrade.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadOut {
    /// `new` (installed disabled) or `upgraded`.
    pub installed: String,
    pub plugin: PluginOut,
}

/// An operator of an enabled filter-operator plugin.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorOut {
    /// What filters use: `std.eq`.
    pub name: String,
    pub plugin: String,
    pub op: String,
    pub label: String,
    /// The field kinds it applies to (`text`, `number`, ..., `activity`, `location`).
    pub applies_to: Vec<String>,
    /// JSON Schema of the filter node's `value`.
    #[schema(value_type = Object)]
    pub args_schema: Value,
}

impl From<OperatorEntry> for OperatorOut {
    fn from(o: OperatorEntry) -> Self {
        OperatorOut {
            name: o.name,
            plugin: o.plugin,
            op: o.op,
            label: o.label,
            applies_to: o.applies_to.iter().map(|k| k.as_str().to_owned()).collect(),
            args_schema: o.args_schema,
        }
    }
}

/// The field of a try.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TryField {
    /// `name`, `fields.industry`, `activity.purchase`, `location`, ...
    pub path: String,
    /// A field kind (`text`, `long_text`, `number`, `integer`, `money`, `date`,
    /// `datetime`, `boolean`, `select`, `multiselect`, `email`, `phone`, `url`, `geo`) or
    /// `activity`, `location`, `segment`, `contact_type`.
    pub kind: String,
    /// A select field's options.
    #[serde(default)]
    pub options: Vec<String>,
}

/// "Try your plugin". A filter operator: lower `value` for `field` with `op`, and
/// evaluate the residuals on `values`. A scoring criterion: `score(op, value)` on
/// `values` of a field of `field.kind`. A bulk action: `run(op, value)` on the contacts
/// `contact_ids`, showing the effects and applying none.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TryIn {
    /// The operator's (criterion's, action's) name in the plugin (`longer_than`, not
    /// `example.longer_than`).
    pub op: String,
    /// The field (operators and criteria).
    pub field: Option<TryField>,
    /// The filter node's value, or the criterion's or action's parameters (absent: none).
    #[schema(value_type = Option<Object>)]
    pub value: Option<Value>,
    /// Sample values of the field: strings for text kinds and dates, numbers, integers
    /// (Unix seconds for datetimes), booleans, `[lat, lon]` for geo; `null` for null.
    #[schema(value_type = Option<Vec<Object>>)]
    pub values: Option<Vec<Value>>,
    /// The query time `lower` sees (default now).
    pub now: Option<DateTime<Utc>>,
    /// `lower` (default: lower, then each residual's `matches` on `values`) or `matches`
    /// (call `matches(op, value)` on `values` directly).
    pub call: Option<String>,
    /// The contacts a bulk action runs on (at most 4,096).
    pub contact_ids: Option<Vec<i64>>,
}

/// A residual of the predicate and its answers on the sample values.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResidualOut {
    pub op: String,
    pub field: String,
    #[schema(value_type = Object)]
    pub args: Option<Value>,
    /// One answer per sample value.
    pub matches: Vec<bool>,
}

/// What a try gave.
#[derive(Debug, Serialize, ToSchema)]
pub struct TryOut {
    /// The checked predicate, one key per node kind (`{"and": [...]}`,
    /// `{"residual": {...}}`); `null` when only `matches` was called.
    #[schema(value_type = Object)]
    pub predicate: Value,
    pub residuals: Vec<ResidualOut>,
    /// A criterion's score of each sample value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<f64>>,
    /// A bulk action's effects, none applied: `{"contact_id", "kind": "send_email" |
    /// "create_task" | "grant_access", ...}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub effects: Option<Vec<Value>>,
    pub elapsed_ms: u64,
}

async fn plugin_out(state: &AppState, info: PluginInfo) -> Result<PluginOut, ApiError> {
    let log = state.core.plugins().logs(&info.name, LOG_LINES).await?;
    Ok(PluginOut::new(info, log))
}

/// Every installed plugin (admins).
#[utoipa::path(get, path = "/api/v1/plugins",
    responses((status = 200, body = Items<PluginOut>), (status = 403, body = ErrorBody)))]
pub async fn list(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Items<PluginOut>>, ApiError> {
    let admin = state.core.plugins().admin(&actor)?;
    let mut items = Vec::new();
    for info in admin.list().await? {
        items.push(plugin_out(&state, info).await?);
    }
    Ok(Json(Items::all(items)))
}

/// One installed plugin (admins).
#[utoipa::path(get, path = "/api/v1/plugins/{name}", params(("name" = String, Path)),
    responses((status = 200, body = PluginOut), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(name): Path<String>,
) -> Result<Json<PluginOut>, ApiError> {
    state.core.plugins().admin(&actor)?;
    let info = state.core.plugins().get(&name).await?;
    Ok(Json(plugin_out(&state, info).await?))
}

/// Uploads a plugin (admins): the body is the component (`.wasm`), sent with
/// `Content-Type: application/wasm`; `?kind=filter-operator` (or `segment-criterion`,
/// `bulk-action`) refuses a component of another kind. A new plugin is installed disabled (201); a newer
/// version of an installed one upgrades it (200). A file that isn't a valid plugin is
/// refused (400) with the reason: not a component, an import the host doesn't provide, no
/// plugin world, a failing or wrong `describe`.
#[utoipa::path(post, path = "/api/v1/plugins",
    params(("kind" = Option<String>, Query, description = "the kind the component must implement")),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "the component"),
    responses((status = 201, body = UploadOut), (status = 200, body = UploadOut, description = "upgraded"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<UploadOut>), ApiError> {
    let admin = state.core.plugins().admin(&actor)?;
    let expected =
        match param(&query_pairs(query.as_deref()), "kind").filter(|k| !k.is_empty()) {
            None => None,
            Some(k) => Some(Kind::parse(k).ok_or_else(|| {
                ApiError::invalid("kind", "expected filter-operator, segment-criterion or bulk-action")
            })?),
        };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(content_type.starts_with("application/wasm") || content_type.starts_with("application/octet-stream")) {
        return Err(ApiError::invalid(
            "",
            "send the component's bytes with `Content-Type: application/wasm`",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_COMPONENT_SIZE).await.map_err(|_| {
        ApiError::invalid(
            "wasm",
            format!("the upload is unreadable or larger than {MAX_COMPONENT_SIZE} bytes"),
        )
    })?;
    let (info, installed) = admin.install(bytes.to_vec(), expected).await?;
    let (status, installed) = match installed {
        Installed::New => (StatusCode::CREATED, "new"),
        Installed::Upgraded => (StatusCode::OK, "upgraded"),
    };
    Ok((
        status,
        Json(UploadOut {
            installed: installed.to_owned(),
            plugin: plugin_out(&state, info).await?,
        }),
    ))
}

/// What an admin grants at approval, beyond the default limits (both optional; an
/// empty body or `{}` approves the capabilities and leaves the limits as they are).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveIn {
    /// Memory for every call, in MiB: from the default 64 up to 512.
    pub memory_mb: Option<u64>,
    /// The deadline of every call, in ms: from the default 2,000 up to 10,000.
    pub time_ms: Option<u64>,
}

/// Approves every capability the plugin asks for (admins) and, with `memory_mb` or
/// `time_ms`, grants its calls more than the default limits (a plugin built on a
/// language runtime may need it). 400 lists every amount out of range.
#[utoipa::path(post, path = "/api/v1/plugins/{name}/approve", params(("name" = String, Path)),
    request_body(content = Option<ApproveIn>, content_type = "application/json"),
    responses((status = 200, body = PluginOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn approve(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<PluginOut>, ApiError> {
    let admin = state.core.plugins().admin(&actor)?;
    let body: ApproveIn = if body.iter().all(u8::is_ascii_whitespace) {
        ApproveIn::default()
    } else {
        super::json::parse(&body)?
    };
    let grant = match (body.memory_mb, body.time_ms) {
        (None, None) => None,
        (memory_mb, time_ms) => Some(Grant::new(memory_mb, time_ms)?),
    };
    let info = admin.approve(&name, grant).await?;
    Ok(Json(plugin_out(&state, info).await?))
}

/// Enables the plugin (admins); 409 while a capability it asks for is not approved.
#[utoipa::path(post, path = "/api/v1/plugins/{name}/enable", params(("name" = String, Path)),
    responses((status = 200, body = PluginOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn enable(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(name): Path<String>,
) -> Result<Json<PluginOut>, ApiError> {
    let info = state.core.plugins().admin(&actor)?.enable(&name).await?;
    Ok(Json(plugin_out(&state, info).await?))
}

/// Disables the plugin (admins).
#[utoipa::path(post, path = "/api/v1/plugins/{name}/disable", params(("name" = String, Path)),
    responses((status = 200, body = PluginOut), (status = 404, body = ErrorBody)))]
pub async fn disable(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(name): Path<String>,
) -> Result<Json<PluginOut>, ApiError> {
    let info = state.core.plugins().admin(&actor)?.disable(&name).await?;
    Ok(Json(plugin_out(&state, info).await?))
}

/// Removes a third-party plugin (admins); built-ins can only be disabled (409).
#[utoipa::path(delete, path = "/api/v1/plugins/{name}", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.core.plugins().admin(&actor)?.remove(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tries a plugin, installed and enabled or not (admins), under the production limits:
/// an operator's `lower` on the value, then each residual's `matches` on the sample
/// values; a criterion's `score` on the sample values; an action's `run` on some
/// contacts, answering the effects and applying none. A plugin that fails answers 502
/// `plugin` with its name and the reason (deadline, memory, trap, panic, malformed
/// answer); one that refuses its arguments answers 400 at `value` or `params`.
#[utoipa::path(post, path = "/api/v1/plugins/{name}/try", params(("name" = String, Path)), request_body = TryIn,
    responses((status = 200, body = TryOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody, description = "the plugin failed; the message names it and says why")))]
pub async fn try_operator(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<TryIn>,
) -> Result<Json<TryOut>, ApiError> {
    let admin = state.core.plugins().admin(&actor)?;
    let out = match state.core.plugins().get(&name).await?.kind {
        Kind::FilterOperator => try_filter(&admin, &name, body).await?,
        Kind::SegmentCriterion => try_criterion(&admin, &name, body).await?,
        Kind::BulkAction => try_action(&state, &actor, &admin, &name, body).await?,
    };
    Ok(Json(out))
}

/// `field.kind` of a try, as a field kind.
fn field_kind(field: &TryField) -> Result<FieldKind, ApiError> {
    FieldKind::parse(&field.kind)
        .ok_or_else(|| ApiError::invalid("field.kind", format!("unknown field kind `{}`", field.kind)))
}

fn elapsed_ms(elapsed: std::time::Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// An operator: `lower`, then each residual's `matches` on the sample values.
async fn try_filter(admin: &PluginAdmin<'_>, name: &str, body: TryIn) -> Result<TryOut, ApiError> {
    let field = body
        .field
        .ok_or_else(|| ApiError::invalid("field", "an operator is tried on a field: `path` and `kind`"))?;
    let kind = field_kind(&field)?;
    let matches_only = match body.call.as_deref() {
        None | Some("lower") => false,
        Some("matches") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                "call",
                format!("expected `lower` or `matches`, got `{other}`"),
            ));
        }
    };
    let request = TryRequest {
        op: body.op,
        field: FieldRef {
            path: field.path,
            kind,
            options: field.options,
        },
        value: body.value,
        values: body.values,
        now: body.now,
        matches_only,
    };
    let outcome = admin.try_operator(name, request).await?;
    Ok(TryOut {
        predicate: outcome.predicate.map(|p| p.to_json()).unwrap_or(Value::Null),
        residuals: outcome
            .residuals
            .into_iter()
            .map(|(r, matches)| ResidualOut {
                op: r.op,
                field: r.field,
                args: r.args,
                matches,
            })
            .collect(),
        scores: None,
        effects: None,
        elapsed_ms: elapsed_ms(outcome.elapsed),
    })
}

/// A criterion: `score` on the sample values of a field's kind.
async fn try_criterion(admin: &PluginAdmin<'_>, name: &str, body: TryIn) -> Result<TryOut, ApiError> {
    let field = body
        .field
        .as_ref()
        .ok_or_else(|| ApiError::invalid("field", "a criterion is tried on a field's `kind` and `values`"))?;
    let values = body
        .values
        .as_deref()
        .ok_or_else(|| ApiError::invalid("values", "a criterion is tried on sample values"))?;
    let (scores, elapsed) = admin
        .try_criterion(name, &body.op, body.value.as_ref(), field_kind(field)?, values)
        .await?;
    Ok(TryOut {
        predicate: Value::Null,
        residuals: Vec::new(),
        scores: Some(scores),
        effects: None,
        elapsed_ms: elapsed_ms(elapsed),
    })
}

/// An action: `run` on the contacts `contact_ids`, read in one query; the effects, none
/// applied. Every id the admin can't read is reported at once.
async fn try_action(
    state: &AppState,
    actor: &Actor,
    admin: &PluginAdmin<'_>,
    name: &str,
    body: TryIn,
) -> Result<TryOut, ApiError> {
    let ids = body
        .contact_ids
        .as_deref()
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| ApiError::invalid("contact_ids", "an action is tried on some contacts: their ids"))?;
    if ids.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "contact_ids",
            format!("at most {MAX_BATCH} contacts"),
        ));
    }
    let found = state.core.contacts().get_contacts(actor, ids).await?;
    let missing: Vec<Problem> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| found.binary_search_by_key(*id, |c| c.id).is_err())
        .map(|(at, id)| Problem {
            path: format!("contact_ids[{at}]"),
            message: format!("no contact {id}"),
        })
        .collect();
    if let Some(error) = kartoteka_core::Error::from_problems(missing) {
        return Err(ApiError(error));
    }
    let by_id: std::collections::HashMap<i64, _> = found.into_iter().map(|c| (c.id, c)).collect();
    let contacts = ids
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(kartoteka_core::jobs::action_contact)
        .collect();
    let (effects, elapsed) = admin.try_action(name, &body.op, body.value.as_ref(), contacts).await?;
    Ok(TryOut {
        predicate: Value::Null,
        residuals: Vec::new(),
        scores: None,
        effects: Some(
            effects
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
                .collect(),
        ),
        elapsed_ms: elapsed_ms(elapsed),
    })
}

/// The filter operators of every enabled filter-operator plugin: what builders and API
/// clients may put in a filter's `op`.
#[utoipa::path(get, path = "/api/v1/operators", responses((status = 200, body = Items<OperatorOut>)))]
pub async fn operators(
    State(state): State<AppState>,
    ApiUser(_): ApiUser,
) -> Result<Json<Items<OperatorOut>>, ApiError> {
    let items = state.core.plugins().operators().await?;
    Ok(Json(Items::all(items.into_iter().map(OperatorOut::from).collect())))
}
