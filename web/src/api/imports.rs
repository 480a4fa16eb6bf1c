//! Imports of contacts: `POST /imports` (upload a CSV or `.xlsx` file: its shape, header,
//! first rows and suggested mapping), `POST /imports/{id}/runs` (a dry run or the import,
//! in the background), `GET /imports/{id}` (progress, then the report),
//! `GET /imports/{id}/outcomes` (the rows skipped and refused, or a dry run's every row,
//! as CSV). Every handler calls [`kartoteka_core::imports::Imports`].

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use kartoteka_core::imports::{CORE_TARGETS, MAX_FILE_BYTES, Preview, StoredImport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{ErrorBody, Items};
use super::json::{ApiJson, param, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// An import: its file, where its last run is, and that run's report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    pub id: i64,
    pub file_name: String,
    /// Bytes.
    pub size: i64,
    pub header: Vec<String>,
    /// `uploaded`, `running`, `interrupted` (its server stopped; start it again),
    /// `done`, `failed`.
    pub state: String,
    /// Whether the last run was a dry run.
    pub dry_run: bool,
    /// Data rows done by the last run so far.
    pub rows_done: i64,
    /// How far into the file the last run is (CSV; 0 for Excel).
    pub bytes_done: i64,
    /// The mapping of the last run.
    #[schema(value_type = Option<Object>)]
    pub mapping: Option<serde_json::Value>,
    /// The counts of the last run that ended: `rows`, `created`, `updated`, `unchanged`,
    /// `skipped`, `refused`, `companies_created`, `legacy_cells`, `dry_run`.
    #[schema(value_type = Option<Object>)]
    pub report: Option<serde_json::Value>,
    /// Why the last run failed.
    pub error: Option<String>,
    /// Whether `GET /imports/{id}/outcomes` has the last run's rows.
    pub has_outcomes: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<StoredImport> for ImportOut {
    fn from(i: StoredImport) -> Self {
        ImportOut {
            id: i.id,
            file_name: i.file_name,
            size: i.size,
            header: i.header,
            state: i.state.as_str().to_owned(),
            dry_run: i.dry_run,
            rows_done: i.rows_done,
            bytes_done: i.bytes_done,
            mapping: i.mapping,
            report: i.report,
            error: i.error,
            has_outcomes: i.has_outcomes,
            created_at: i.created_at,
            started_at: i.started_at,
            finished_at: i.finished_at,
        }
    }
}

/// An uploaded file, as read.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedOut {
    pub import: ImportOut,
    /// `CSV` or `Excel (.xlsx)`.
    pub format: String,
    /// `comma`, `semicolon` or `tab`.
    pub delimiter: String,
    /// `UTF-8`, `UTF-16LE`, `UTF-16BE` (cells in a Windows code page are read one by one).
    pub encoding: String,
    /// The first rows after the header.
    pub sample: Vec<Vec<String>>,
    /// The mapping suggested from the headers, in the form `POST /imports/{id}/runs` takes.
    #[schema(value_type = Object)]
    pub suggested_mapping: serde_json::Value,
    /// What a column may be mapped to: `skip`, the core columns, `fields.<key>`.
    pub targets: Vec<TargetOut>,
}

/// A column a file's column may go to.
#[derive(Debug, Serialize, ToSchema)]
pub struct TargetOut {
    pub name: String,
    pub label: String,
}

/// A run to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunIn {
    /// `{"columns": {<header>: <target>}, "match_by": "email"|"phone"|"none"|"fields.<key>",
    /// "on_match": "update"|"skip"|"create", "kind": "person"|"company", "type": <type key>}`;
    /// without it, the suggested mapping. Errors at `mapping.<path>`, all at once.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub mapping: Option<serde_json::Value>,
    /// Check every row and report what would happen, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The targets of a mapping, for a base with `fields`.
pub async fn targets(state: &AppState) -> Result<Vec<TargetOut>, kartoteka_core::Error> {
    let fields = state.core.schema().list_fields().await?;
    Ok(CORE_TARGETS
        .iter()
        .map(|(_, name, label)| TargetOut {
            name: (*name).to_owned(),
            label: (*label).to_owned(),
        })
        .chain(fields.into_iter().map(|f| TargetOut {
            name: format!("fields.{}", f.key),
            label: f.label,
        }))
        .collect())
}

/// The answer to an upload.
pub async fn uploaded(
    state: &AppState,
    import: StoredImport,
    preview: Preview,
) -> Result<UploadedOut, kartoteka_core::Error> {
    Ok(UploadedOut {
        suggested_mapping: preview.suggested.to_json(&preview.header),
        format: preview.shape.format.as_str().to_owned(),
        delimiter: preview.shape.delimiter_name().to_owned(),
        encoding: preview.shape.encoding.to_owned(),
        sample: preview.rows.into_iter().map(|r| r.cells).collect(),
        import: import.into(),
        targets: targets(state).await?,
    })
}

/// Uploads a file to import: CSV (`,` `;` or tab; UTF-8, UTF-16 or Windows-1250/1251) or
/// Excel `.xlsx`, its first row naming the columns, as the body. Answers how it was read
/// and the suggested mapping; nothing is imported until `POST /imports/{id}/runs`.
#[utoipa::path(post, path = "/api/v1/imports",
    params(("file_name" = Option<String>, Query, description = "the file's name, to show")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the file"),
    responses((status = 201, body = UploadedOut), (status = 400, body = ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
    body: Body,
) -> Result<(StatusCode, Json<UploadedOut>), ApiError> {
    let pairs = query_pairs(query.as_deref());
    let file_name = param(&pairs, "file_name").unwrap_or("import").to_owned();
    let bytes = axum::body::to_bytes(body, MAX_FILE_BYTES).await.map_err(|_| {
        ApiError::invalid(
            "file",
            format!("the upload is unreadable or larger than {MAX_FILE_BYTES} bytes"),
        )
    })?;
    let (import, preview) = state.core.imports().upload(&actor, &file_name, bytes.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(uploaded(&state, import, preview).await?)))
}

/// The caller's latest imports (an admin's: everyone's), newest first.
#[utoipa::path(get, path = "/api/v1/imports", responses((status = 200, body = Items<ImportOut>)))]
pub async fn list(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Items<ImportOut>>, ApiError> {
    let imports = state.core.imports().list(&actor, 100).await?;
    Ok(Json(Items::all(imports.into_iter().map(ImportOut::from).collect())))
}

/// One import: the progress of its run, then the report.
#[utoipa::path(get, path = "/api/v1/imports/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ImportOut), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ImportOut>, ApiError> {
    let id = path_id(&id, "import")?;
    Ok(Json(state.core.imports().get(&actor, id).await?.into()))
}

/// Starts a dry run or the import of an uploaded file, in the background (202); poll
/// `GET /imports/{id}`. The mapping is checked first (400, every problem at its path).
#[utoipa::path(post, path = "/api/v1/imports/{id}/runs", params(("id" = i64, Path)), request_body = RunIn,
    responses((status = 202, body = ImportOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "a run of this import is going on")))]
pub async fn start(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RunIn>,
) -> Result<(StatusCode, Json<ImportOut>), ApiError> {
    let id = path_id(&id, "import")?;
    let import = state
        .core
        .imports()
        .start(&actor, id, body.mapping.as_ref(), body.dry_run)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(import.into())))
}

/// The rows of the last run, as CSV with a UTF-8 byte order mark: the file's own cells,
/// then `Import line`, `Import outcome` and `Import reason`. After an import: the rows
/// skipped and refused; after a dry run: every row, with what would happen to it.
#[utoipa::path(get, path = "/api/v1/imports/{id}/outcomes", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = ErrorBody,
        description = "no such import, or no run of it has ended")))]
pub async fn outcomes(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "import")?;
    let csv = outcomes_csv(&state, &actor, id).await?;
    Ok(csv)
}

/// The outcomes download, for the API and the page.
pub async fn outcomes_csv(
    state: &AppState,
    actor: &kartoteka_core::auth::Actor,
    id: i64,
) -> Result<Response, kartoteka_core::Error> {
    let bytes = state
        .core
        .imports()
        .outcomes(actor, id)
        .await?
        .ok_or(kartoteka_core::Error::NotFound { what: "import outcome" })?;
    Ok(super::download::attachment(
        axum::body::Body::from(bytes),
        "text/csv; charset=utf-8",
        &format!("import-{id}-outcomes.csv"),
    ))
}
