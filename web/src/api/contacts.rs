//! `/contacts`: list (keyset), get, create, patch, delete.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use kartoteka_core::contacts::{ListQuery, SearchQuery, Sort};
use kartoteka_core::filter::ContactQuery;

use super::dto::{ContactCreate, ContactList, ContactOut, ContactUpdate, ErrorBody};
use super::json::{ApiJson, number_param, param, path_id, query_pairs};
use crate::app::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;

/// The default page size.
pub const DEFAULT_LIMIT: u64 = 50;

/// Lists the contacts the caller sees, a page at a time.
#[utoipa::path(get, path = "/api/v1/contacts",
    params(("limit" = Option<u64>, Query, description = "1-500, default 50"),
           ("after" = Option<String>, Query, description = "the `next` of the previous page"),
           ("sort" = Option<String>, Query, description = "name (default), city, created_at, updated_at or score.<scoring model key> (contacts without a score of that model sort as -1); a leading `-` reverses it (`-updated_at`: most recently changed first). Names and cities are in Unicode collation order (CLDR root: `Łukasz` next to `Lukasz`, Cyrillic after Latin); contacts without a city come last with `city`, first with `-city`. Ties go by id."),
           ("filter" = Option<String>, Query, description = "a filter as JSON (DESIGN §5): `{\"and\": [{\"field\": \"city\", \"op\": \"eq\", \"value\": \"Kraków\"}, ...]}`; errors name the bad node (`and[1].value`)"),
           ("q" = Option<String>, Query, description = "global search: every word must start a word of the contact's name, e-mail, phone, position, address or searchable fields; case and accents don't matter (`lodz` finds `Łódź`); at most 16 words, 500 characters"),
           ("view" = Option<i64>, Query, description = "a saved view (`/api/v1/views`): its filter, search and sort, each overridden by the parameter of the same name when given")),
    responses((status = 200, body = ContactList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such view")))]
pub async fn list(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<ContactList>, ApiError> {
    let pairs = score_sort(&state, query_pairs(query.as_deref())).await?;
    let page = list_query(&pairs)?;
    let query = if param(&pairs, "view").is_some_and(|v| !v.trim().is_empty()) {
        let resolved = super::views::resolve(&state, &actor, &pairs).await?;
        super::views::checked(&state, &resolved)
            .await?
            .query(page.limit, page.after)
    } else {
        ContactQuery {
            filter: prepared_filter(&state, &pairs).await?,
            search: search(&pairs)?,
            page,
        }
    };
    let page = state.core.filter().query_contacts(&actor, &query).await?;
    Ok(Json(ContactList {
        items: page.items.into_iter().map(ContactOut::from).collect(),
        next: page.next,
    }))
}

/// `limit`, `after` and `sort` of a contact list (the contacts, a segment's members).
pub fn list_query(pairs: &[(String, String)]) -> Result<ListQuery, ApiError> {
    let limit: u64 = number_param(pairs, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=kartoteka_core::contacts::MAX_PAGE).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("must be between 1 and {}", kartoteka_core::contacts::MAX_PAGE),
        ));
    }
    let sort = match param(pairs, "sort").filter(|s| !s.is_empty()) {
        Some(s) => Sort::parse(s)?,
        None => Sort::default(),
    };
    Ok(ListQuery {
        sort,
        limit,
        after: param(pairs, "after").map(str::to_owned),
    })
}

/// `sort=score.<key>` (or `-score.<key>`) with the scoring model's key turned into its id,
/// which the contacts' order takes (`kartoteka_core::contacts::cursor`); other sorts as
/// they are. An unknown key is left for the order's own error.
pub async fn score_sort(
    state: &AppState,
    mut pairs: Vec<(String, String)>,
) -> Result<Vec<(String, String)>, kartoteka_core::Error> {
    let Some(sort) = pairs.iter_mut().find(|(k, _)| k == "sort") else {
        return Ok(pairs);
    };
    let (minus, rest) = match sort.1.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", sort.1.as_str()),
    };
    let Some(key) = rest.strip_prefix("score.") else {
        return Ok(pairs);
    };
    if let Some(m) = state
        .core
        .scoring()
        .list_models()
        .await?
        .into_iter()
        .find(|m| m.key == key)
    {
        sort.1 = format!("{minus}score.{}", m.id);
    }
    Ok(pairs)
}

/// The `q` parameter, checked (`None` when absent or without words).
pub fn search(pairs: &[(String, String)]) -> Result<Option<SearchQuery>, ApiError> {
    Ok(SearchQuery::parse(param(pairs, "q").unwrap_or_default())?)
}

/// The `filter` parameter, checked and lowered; `None` when absent or empty.
async fn prepared_filter(
    state: &AppState,
    pairs: &[(String, String)],
) -> Result<Option<kartoteka_core::filter::Prepared>, ApiError> {
    match param(pairs, "filter").map(str::trim).filter(|f| !f.is_empty()) {
        Some(text) => {
            let json = kartoteka_core::filter::tree::parse_json(text)?;
            Ok(Some(state.core.filter().prepare_filter(&json).await?))
        }
        None => Ok(None),
    }
}

/// How many contacts the caller sees that match `filter` and `q`.
#[utoipa::path(get, path = "/api/v1/contacts/count",
    params(("filter" = Option<String>, Query, description = "a filter as JSON, as for the list"),
           ("q" = Option<String>, Query, description = "global search, as for the list")),
    responses((status = 200, body = CountOut), (status = 400, body = ErrorBody)))]
pub async fn count(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    RawQuery(query): RawQuery,
) -> Result<Json<CountOut>, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let search = search(&pairs)?;
    let query = ContactQuery {
        filter: prepared_filter(&state, &pairs).await?,
        search,
        ..ContactQuery::default()
    };
    let count = state.core.filter().count_query(&actor, &query).await?;
    Ok(Json(CountOut { count }))
}

/// A count.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct CountOut {
    pub count: u64,
}

/// What filters may use: every field with its kind, options and the operators that
/// apply to it (the filter builder reads this). The `owner` field lists users' e-mail
/// addresses to admins only.
#[utoipa::path(get, path = "/api/v1/filter-fields",
    responses((status = 200, description = "`{fields: [{path, label, kind, options, operators}]}`")))]
pub async fn filter_fields(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(state.core.filter().filter_catalog().await?.to_json_for(&actor)))
}

/// One contact.
#[utoipa::path(get, path = "/api/v1/contacts/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ContactOut), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ContactOut>, ApiError> {
    let id = path_id(&id, "contact")?;
    let contact = state.core.contacts().get_contact(&actor, id).await?;
    Ok(Json(with_scores(&state, contact.into()).await?))
}

/// `contact` with its scores by model (`scores`): what a single contact's answer carries,
/// read, created or changed (the write scored it before it answered).
async fn with_scores(state: &AppState, mut contact: ContactOut) -> Result<ContactOut, ApiError> {
    let scores = state.core.scoring().score_summary(contact.id).await?;
    contact.scores = Some(
        scores
            .into_iter()
            .map(|(key, score, band)| (key, super::dto::ScoreSummary { score, band }))
            .collect(),
    );
    Ok(contact)
}

/// Creates a contact.
#[utoipa::path(post, path = "/api/v1/contacts", request_body = ContactCreate,
    responses((status = 201, body = ContactOut), (status = 400, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    ApiJson(body): ApiJson<ContactCreate>,
) -> Result<(StatusCode, Json<ContactOut>), ApiError> {
    let contact = state.core.contacts().create_contact(&actor, body.into()).await?;
    Ok((StatusCode::CREATED, Json(with_scores(&state, contact.into()).await?)))
}

/// Changes a contact. `version` must be the version read; otherwise 409.
#[utoipa::path(patch, path = "/api/v1/contacts/{id}", params(("id" = i64, Path)), request_body = ContactUpdate,
    responses((status = 200, body = ContactOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ContactUpdate>,
) -> Result<Json<ContactOut>, ApiError> {
    let id = path_id(&id, "contact")?;
    let contact = state.core.contacts().update_contact(&actor, id, body.into()).await?;
    Ok(Json(with_scores(&state, contact.into()).await?))
}

/// Deletes a contact; with `?version=`, only if it is still at that version.
#[utoipa::path(delete, path = "/api/v1/contacts/{id}", params(("id" = i64, Path), ("version" = Option<i64>, Query)),
    responses((status = 204), (status = 400, body = ErrorBody, description = "`version` is not a whole number"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    ApiUser(actor): ApiUser,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "contact")?;
    let version = number_param(&query_pairs(query.as_deref()), "version")?;
    state.core.contacts().delete_contact(&actor, id, version).await?;
    Ok(StatusCode::NO_CONTENT)
}
