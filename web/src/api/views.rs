//! `/views`: saved views of the contacts; `/contacts/export`: a view (or the state given
//! in the query) to CSV or XLSX; `/contact-types/{key}/layout`: card layouts. The rules
//! (who sees and changes a view, what a view holds, how a layout is inherited) are
//! `kartoteka_core::views`' and `kartoteka_core::schema::layouts`'.
//!
//! A contacts URL names its view and overrides it: `view=3&sort=-city` is view 3 sorted by
//! city. [`resolve`] reads that for the contacts list, its export and the contacts page.

use axum::Json;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::schema::layouts::TypeLayout;
use kartoteka_core::views::export::{Format, ViewExport};
use kartoteka_core::views::{CheckedSpec, Mode, View, ViewSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::{ErrorBody, Items};
use super::json::{ApiJson, param, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// A saved view.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ViewOut {
    pub id: i64,
    pub name: String,
    /// Seen by every user (made by a manager or an admin), or by its owner alone.
    pub shared: bool,
    /// The name of the user who made it.
    pub owner: String,
    /// Whether the caller may change or delete it.
    pub can_edit: bool,
    /// list, table or tiles.
    pub mode: String,
    /// Core columns (`name`, `email`, `company`, `owner`, ...), `fields.<key>`,
    /// `score.<model key>`, `last_activity`.
    pub columns: Vec<String>,
    /// As the contacts list takes it: `name`, `-updated_at`, `-score.fit`.
    pub sort: String,
    /// A filter (DESIGN §5), or null.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    /// The global search.
    pub q: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<View> for ViewOut {
    fn from(v: View) -> Self {
        ViewOut {
            id: v.id,
            name: v.name,
            shared: v.shared,
            owner: v.owner,
            can_edit: v.can_edit,
            mode: v.spec.mode.as_str().to_owned(),
            columns: v.spec.columns,
            sort: v.spec.sort,
            filter: v.spec.filter,
            q: v.spec.q,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A view to save, or a change to one (any subset). A create needs the name; the rest
/// defaults to the plain table by name.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ViewWrite {
    pub name: Option<String>,
    /// Share with every user (managers and admins).
    pub shared: Option<bool>,
    /// list, table or tiles.
    pub mode: Option<String>,
    pub columns: Option<Vec<String>>,
    pub sort: Option<String>,
    /// A filter (DESIGN §5); null removes it.
    #[schema(value_type = Option<Object>)]
    pub filter: Option<Value>,
    pub q: Option<String>,
}

/// The views the caller sees: their own, then the shared ones, each by name.
#[utoipa::path(get, path = "/api/v1/views", responses((status = 200, body = Items<ViewOut>)))]
pub async fn list(State(state): State<AppState>, ApiUser(actor): ApiUser) -> Result<Json<Items<ViewOut>>, ApiError> {
    let views = state.core.views().list(&actor).await?;
    Ok(Json(Items::all(views.into_iter().map(ViewOut::from).collect())))
}

/// Saves a view.
#[utoipa::path(post, path = "/api/v1/views", request_body = ViewWrite,
    responses((status = 201, body = ViewOut), (status = 400, body = ErrorBody, description = "every problem of the view, each at its path (`columns[2]`, `filter.and[0].value`, `shared`)")))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<ViewOut>), ApiError> {
    let view = state.core.views().create(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// One view.
#[utoipa::path(get, path = "/api/v1/views/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ViewOut), (status = 404, body = ErrorBody, description = "no such view, or another user's own")))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ViewOut>, ApiError> {
    let id = path_id(&id, "view")?;
    Ok(Json(state.core.views().get(&actor, id).await?.into()))
}

/// Changes a view (its maker; an admin for a shared view).
#[utoipa::path(patch, path = "/api/v1/views/{id}", params(("id" = i64, Path)), request_body = ViewWrite,
    responses((status = 200, body = ViewOut), (status = 400, body = ErrorBody, description = "every problem of the change, each at its path"),
        (status = 403, body = ErrorBody, description = "a shared view of another user, and the caller is not an admin"),
        (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<ViewOut>, ApiError> {
    let id = path_id(&id, "view")?;
    Ok(Json(state.core.views().update(&actor, id, &body).await?.into()))
}

/// Deletes a view (its maker; an admin for a shared view).
#[utoipa::path(delete, path = "/api/v1/views/{id}", params(("id" = i64, Path)),
    responses((status = 204, description = "deleted"),
        (status = 403, body = ErrorBody, description = "a shared view of another user, and the caller is not an admin"),
        (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "view")?;
    state.core.views().delete(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a contacts URL asks for: its view (`view=ID`), and that view's spec with what the
/// URL overrides (`mode`, `cols`, `sort`, `q`, `filter`; `q` and `filter` override even
/// when empty, so a view's search can be cleared). The filter stays text: the page shows
/// a bad one in place, the API answers 400.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub view: Option<View>,
    /// The spec, its filter left out (see `filter`).
    pub spec: ViewSpec,
    /// The filter JSON as text (empty: none).
    pub filter: String,
}

/// Reads `view`, `mode`, `cols`, `sort`, `q` and `filter` from `pairs`.
pub async fn resolve(state: &AppState, actor: &Actor, pairs: &[(String, String)]) -> Result<Resolved, Error> {
    let view = match param(pairs, "view").map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => {
            let id = text
                .parse::<i64>()
                .map_err(|_| Error::invalid("view", format!("`{}` is not a view id", clip(text))))?;
            Some(state.core.views().get(actor, id).await?)
        }
    };
    Ok(with_overrides(view, pairs))
}

fn clip(text: &str) -> String {
    text.chars().take(50).collect()
}

/// `view`'s spec (or the plain table's) with what `pairs` overrides.
pub fn with_overrides(view: Option<View>, pairs: &[(String, String)]) -> Resolved {
    let mut spec = view.as_ref().map(|v| v.spec.clone()).unwrap_or_default();
    let mut filter = spec.filter.take().map(|f| f.to_string()).unwrap_or_default();
    if let Some(mode) = param(pairs, "mode").filter(|m| !m.is_empty()) {
        // A bad mode is the check's to report; keep what was asked.
        spec.mode = Mode::parse(mode).unwrap_or(spec.mode);
    }
    let cols: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "cols")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    if !cols.is_empty() {
        spec.columns = cols;
    }
    if let Some(sort) = param(pairs, "sort").filter(|s| !s.trim().is_empty()) {
        sort.trim().clone_into(&mut spec.sort);
    }
    if let Some(q) = param(pairs, "q") {
        q.trim().clone_into(&mut spec.q);
    }
    if let Some(f) = param(pairs, "filter") {
        f.trim().clone_into(&mut filter);
    }
    Resolved { view, spec, filter }
}

/// A bad `mode=` in `pairs`, as its error.
pub fn check_mode(pairs: &[(String, String)]) -> Result<(), Error> {
    match param(pairs, "mode").filter(|m| !m.is_empty()) {
        Some(mode) => Mode::parse(mode).map(|_| ()),
        None => Ok(()),
    }
}

/// `resolved` checked, its filter parsed and prepared (errors at `filter...`).
pub async fn checked(state: &AppState, resolved: &Resolved) -> Result<CheckedSpec, Error> {
    let mut spec = resolved.spec.clone();
    spec.filter = if resolved.filter.is_empty() {
        None
    } else {
        Some(kartoteka_core::filter::tree::parse_json(&resolved.filter)?)
    };
    state.core.views().check(&spec).await
}

/// Exports the contacts of a view, or of the state the query gives, with the view's
/// columns, filter, search and order. Streamed a page at a time.
#[utoipa::path(get, path = "/api/v1/contacts/export",
    params(("format" = String, Query, description = "csv (UTF-8 with a byte order mark, for Excel) or xlsx"),
           ("view" = Option<i64>, Query, description = "a saved view; the parameters below override it"),
           ("cols" = Option<String>, Query, description = "the columns, comma-separated: core columns, fields.<key>, score.<model key>, last_activity"),
           ("sort" = Option<String>, Query, description = "as for the contacts list"),
           ("filter" = Option<String>, Query, description = "a filter as JSON, as for the contacts list"),
           ("q" = Option<String>, Query, description = "global search, as for the contacts list")),
    responses((status = 200, description = "the file", content(
            (String = "text/csv"),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ErrorBody, description = "every problem of the view or the query, each at its path"),
        (status = 404, body = ErrorBody, description = "no such view")))]
pub async fn export(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    Ok(export_response(&state, &actor, &pairs).await?)
}

/// The export the query asks for (`format` and a view's state), as a download.
pub async fn export_response(state: &AppState, actor: &Actor, pairs: &[(String, String)]) -> Result<Response, Error> {
    let format = Format::parse(param(pairs, "format").unwrap_or_default().trim())?;
    check_mode(pairs)?;
    let resolved = resolve(state, actor, pairs).await?;
    let checked = checked(state, &resolved).await?;
    let name = resolved.view.as_ref().map_or("contacts", |v| v.name.as_str());
    let export = state.core.views().export(actor, checked, name).await?;
    download(export, format).await
}

/// A view's export as a download: the CSV streamed a page at a time (its header and first
/// page read before answering, see [`super::download::streamed`]), the workbook in pieces
/// once its sheet is written.
pub async fn download(export: ViewExport, format: Format) -> Result<Response, Error> {
    let file_name = export.file_name(format);
    let body = match format {
        Format::Csv => super::download::streamed(export).await?,
        Format::Xlsx => {
            let pieces = export.into_xlsx();
            let stream = futures_util::stream::unfold(pieces, |mut rx| async move {
                let piece = rx.recv().await?;
                if let Err(e) = &piece {
                    tracing::error!(error = %e, "the XLSX export of a view stopped");
                }
                Some((piece.map(Bytes::from), rx))
            });
            Body::from_stream(stream)
        }
    };
    Ok(super::download::attachment(body, format.media_type(), &file_name))
}

/// A type's card layout.
#[derive(Debug, Serialize, ToSchema)]
pub struct LayoutOut {
    /// The type.
    #[serde(rename = "type")]
    pub type_key: String,
    /// own, inherited or default.
    pub source: String,
    /// The type whose layout this is, for an inherited one.
    pub inherited_from: Option<String>,
    pub sections: Vec<SectionDto>,
    /// The fields that apply to the type and no section holds: shown under "Other fields".
    pub other_fields: Vec<String>,
}

/// A titled section of a card.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SectionDto {
    pub title: String,
    /// Extra field keys, in order.
    pub fields: Vec<String>,
}

/// A card layout to store.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct LayoutWrite {
    pub sections: Vec<SectionDto>,
}

async fn layout_out(state: &AppState, layout: TypeLayout) -> Result<LayoutOut, Error> {
    let schema = state.core.schema().current().await?;
    let placed: Vec<&str> = layout.layout.placed().collect();
    let other_fields = schema
        .fields
        .iter()
        .filter(|f| f.applies_to_type(&schema.types, &layout.type_key) && !placed.contains(&f.key.as_str()))
        .map(|f| f.key.clone())
        .collect();
    Ok(LayoutOut {
        source: layout.source.as_str().to_owned(),
        inherited_from: match &layout.source {
            kartoteka_core::schema::layouts::LayoutSource::Inherited(key) => Some(key.clone()),
            _ => None,
        },
        sections: layout
            .layout
            .sections
            .into_iter()
            .map(|s| SectionDto {
                title: s.title,
                fields: s.fields,
            })
            .collect(),
        other_fields,
        type_key: layout.type_key,
    })
}

/// The card layout of a type: its own, its nearest ancestor's, or the default.
#[utoipa::path(get, path = "/api/v1/contact-types/{key}/layout", params(("key" = String, Path)),
    responses((status = 200, body = LayoutOut), (status = 404, body = ErrorBody)))]
pub async fn get_layout(
    State(state): State<AppState>,
    ApiUser(_): ApiUser,
    Path(key): Path<String>,
) -> Result<Json<LayoutOut>, ApiError> {
    let layout = state.core.schema().card_layout(&key).await?;
    Ok(Json(layout_out(&state, layout).await?))
}

/// Stores a type's own card layout (admins); its subtypes without their own follow it.
#[utoipa::path(put, path = "/api/v1/contact-types/{key}/layout", params(("key" = String, Path)), request_body = LayoutWrite,
    responses((status = 200, body = LayoutOut), (status = 400, body = ErrorBody, description = "every problem of the layout, each at its path (`sections[1].fields[0]`)"),
        (status = 403, body = ErrorBody, description = "the caller is not an admin"), (status = 404, body = ErrorBody)))]
pub async fn put_layout(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<LayoutOut>, ApiError> {
    let layout = state.core.schema().set_card_layout(&actor, &key, &body).await?;
    Ok(Json(layout_out(&state, layout).await?))
}

/// Removes a type's own card layout (admins): it follows its parent's again.
#[utoipa::path(delete, path = "/api/v1/contact-types/{key}/layout", params(("key" = String, Path)),
    responses((status = 200, body = LayoutOut, description = "the layout that applies now"),
        (status = 403, body = ErrorBody, description = "the caller is not an admin"), (status = 404, body = ErrorBody)))]
pub async fn delete_layout(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(key): Path<String>,
) -> Result<Json<LayoutOut>, ApiError> {
    let layout = state.core.schema().remove_card_layout(&actor, &key).await?;
    Ok(Json(layout_out(&state, layout).await?))
}
