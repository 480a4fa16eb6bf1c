//! A segment's page: its definition and status, its members in the contacts table (with
//! search, sort and keyset pages, and a static list's Remove buttons), its size over the
//! last [`HISTORY_DAYS`] days, the bulk actions to run on its members
//! ([`super::actions`]), and deleting it (a refused delete comes back on this page).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_core::Error;
use kartoteka_core::contacts::SearchQuery;
use kartoteka_core::filter::ContactQuery;
use kartoteka_core::segments::{Segment, SegmentKind};
use serde_json::json;

use super::Nav;
use super::contact_lists::TableRemove;
use super::contacts::{Choice, ListState, Row, SortLink, table_rows};
use super::flash::{self, Flash};
use super::segment_chart::Chart;
use super::segments::{parse_id, status_text};
use crate::api::json::query_pairs;
use crate::app::AppState;
use crate::auth::{CheckedForm, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The days of size history a segment's page shows.
const HISTORY_DAYS: u32 = 30;

#[derive(Template)]
#[template(path = "segments/show.html")]
struct ShowPage {
    nav: Nav,
    segment: Segment,
    status: String,
    /// The filter in words ("all of: City equals “Kraków”; ...").
    filter_text: String,
    filter_json: String,
    can_edit: bool,
    edit_url: String,
    delete_url: String,
    export_url: String,
    rows: Vec<Row>,
    /// How many members match the search (the count without one).
    found: u64,
    sort_links: Vec<SortLink>,
    /// The page-size links and the size for the search form (empty: the default).
    size_links: Vec<SortLink>,
    limit: String,
    next_url: Option<String>,
    first_url: Option<String>,
    q: String,
    sort: String,
    search_url: String,
    clear_url: String,
    chart: Chart,
    delete_error: Option<String>,
    /// A static list's Remove button on each member's row (admins and managers).
    table_remove: Option<TableRemove>,
    /// What the last form did ("1 removed from Fair").
    notice: Option<String>,
    /// The bulk actions the user may run on the members (admins and managers).
    actions: Vec<Choice>,
    actions_url: String,
}

pub(super) async fn show(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let mut response = show_page(&state, &user, id, query.as_deref(), None, flash.message()).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// A segment's page; `delete_error` when a delete was refused, `notice` after a change.
async fn show_page(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    query: Option<&str>,
    delete_error: Option<Error>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let actor = &user.actor;
    let segment = state.core.segments().get_segment(actor, id).await?;
    let pairs = crate::api::contacts::score_sort(state, query_pairs(query)).await?;
    let (list, list_query) = ListState::from_query(&urls::segment(id), &pairs)?;
    // The members are the contacts in the segment: the contacts table's query, with the
    // segment's stored members as its filter and the search as its narrowing.
    let members = state
        .core
        .filter()
        .prepare_filter(&json!({"field": "segment", "op": "in_segment", "value": id}))
        .await?;
    let query = ContactQuery {
        filter: Some(members),
        search: SearchQuery::parse(&list.q)?,
        page: list_query.clone(),
    };
    let page = state.core.filter().query_contacts(actor, &query).await?;
    let found = if query.search.is_some() {
        state.core.filter().count_query(actor, &query).await?
    } else {
        segment.count
    };
    let rows = table_rows(state, actor, &page.items).await?;
    let filter_text = match &segment.filter {
        Some(filter) => state.core.filter_describer(actor).await?.sentence(filter),
        None => String::new(),
    };
    let history = state.core.segments().segment_history(actor, id, HISTORY_DAYS).await?;
    let status = match &delete_error {
        Some(e) => crate::error::classify(e).0,
        None => StatusCode::OK,
    };
    let delete_error = match delete_error {
        Some(e @ (Error::Db(_) | Error::Internal(_))) => return Err(PageError::Core(e)),
        Some(e) => Some(crate::error::public_message(&e)),
        None => None,
    };
    let table_remove = (segment.kind == SegmentKind::Static && user.actor.may_change_segments())
        .then(|| TableRemove::new(id, list.url(list_query.after.as_deref())));
    let actions = state
        .core
        .jobs()
        .actions(actor)
        .await?
        .into_iter()
        .map(|a| Choice {
            value: a.name,
            label: a.label,
            selected: false,
        })
        .collect();
    let html = render(&ShowPage {
        nav: Nav::new(user, "segments"),
        status: status_text(&segment),
        filter_text,
        filter_json: segment
            .filter
            .as_ref()
            .and_then(|f| serde_json::to_string_pretty(f).ok())
            .unwrap_or_default(),
        can_edit: user.actor.may_change_segments(),
        edit_url: urls::edit_segment(id),
        delete_url: urls::delete_segment(id),
        export_url: urls::segment_export(id),
        rows,
        found,
        sort_links: list.sort_links(&super::contacts::score_sorts(state).await?),
        size_links: list.size_links(),
        limit: list.limit_param(),
        next_url: page.next.map(|cursor| list.url(Some(&cursor))),
        first_url: list_query.after.as_ref().map(|_| list.url(None)),
        sort: list.sort.as_param(),
        search_url: urls::segment(id),
        clear_url: list.without_q().url(None),
        q: list.q,
        chart: Chart::new(&history),
        delete_error,
        table_remove,
        notice,
        actions,
        actions_url: urls::segment_actions(id, None),
        segment,
    })?;
    Ok((status, html).into_response())
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_segment_editor()?;
    let id = parse_id(&id)?;
    let name = state.core.segments().get_segment(&user.actor, id).await?.name;
    let result = if form.checked("confirm") {
        state.core.segments().delete_segment(&user.actor, id).await
    } else {
        Err(Error::invalid("confirm", "tick the box to confirm the deletion"))
    };
    match result {
        Ok(()) => Ok(flash::redirect(
            &state,
            urls::SEGMENTS,
            &format!("Deleted the segment “{name}”."),
        )),
        Err(e @ (Error::Conflict { .. } | Error::Validation { .. })) => {
            show_page(&state, &user, id, None, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A GET on a form's address (a reload, Enter in the address bar): the segment's page.
pub(super) async fn to_segment(Path(id): Path<String>) -> Result<Redirect, PageError> {
    Ok(Redirect::to(&urls::segment(parse_id(&id)?)))
}
