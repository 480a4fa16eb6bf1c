//! Contacts: the routes, and the table (list, search, filter, sort, page size, keyset
//! pages). The card and logging an activity are in [`super::contact_card`], the create
//! and edit forms in [`super::contact_form`].

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::contact_types::TypeTree;
use kartoteka_core::contacts::{Contact, ListQuery, Page, Sort, SortKey};
use kartoteka_core::views::Mode;

use super::Nav;
use super::contact_filter::{self, FilterError};
use super::contact_lists::{self, ListTools, TableSelect};
use super::flash::Flash;
use super::{company_picker, contact_card, contact_form, contact_views};
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::SessionUser;
use crate::error::{PageError, render};
use crate::urls;

/// The contact routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::CONTACTS, get(list).post(contact_form::create))
        .route(urls::NEW_CONTACT, get(contact_form::new_form))
        .route(urls::CONTACTS_EXPORT, get(contact_views::export))
        .route(urls::CONTACT_VIEWS, get(to_list).post(contact_views::save))
        .route("/contacts/views/{id}", get(to_list).post(contact_views::update))
        .route("/contacts/views/{id}/delete", get(to_list).post(contact_views::delete))
        .route(urls::COMPANY_SEARCH, get(company_picker::search_json))
        .route("/contacts/{id}", get(contact_card::card))
        .route(
            "/contacts/{id}/edit",
            get(contact_form::edit_form).post(contact_form::update),
        )
        .route("/contacts/{id}/delete", get(to_card).post(contact_form::delete))
        .route(
            "/contacts/{id}/activities",
            get(to_card).post(contact_card::log_activity),
        )
        .route("/contacts/{id}/tasks", get(to_card).post(contact_card::add_task))
}

/// A GET on a view form's address: the contacts page.
async fn to_list() -> Redirect {
    Redirect::to(urls::CONTACTS)
}

/// A GET on a form's address (a reload, the address typed back): the contact's card.
async fn to_card(Path(id): Path<String>) -> Result<Redirect, PageError> {
    Ok(Redirect::to(&urls::contact(parse_id(&id)?)))
}

/// A contact as a table row.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub url: String,
    pub name: String,
    pub kind: &'static str,
    pub type_label: String,
    pub email: String,
    pub phone: String,
    pub city: String,
    pub company: String,
    pub created: String,
    pub updated: String,
}

impl Row {
    /// The row of `c`.
    pub fn new(c: &Contact, tree: &TypeTree) -> Self {
        Row {
            id: c.id,
            url: urls::contact(c.id),
            name: c.name.clone(),
            kind: c.kind.as_str(),
            type_label: tree.by_key(&c.type_key).map(|t| t.label.clone()).unwrap_or_default(),
            email: c.email.clone().unwrap_or_default(),
            phone: c.phone.clone().unwrap_or_default(),
            city: c.city.clone().unwrap_or_default(),
            company: String::new(),
            created: c.created_at.format("%Y-%m-%d").to_string(),
            updated: c.updated_at.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A link that sorts the table (or sets its page size).
#[derive(Debug, Clone)]
pub struct SortLink {
    pub label: String,
    pub url: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "contacts/list.html")]
struct ListPage {
    nav: Nav,
    /// The ids of the page's contacts (for "select all on this page").
    ids: Vec<i64>,
    /// The table mode's rows, the list mode's lines, the tiles mode's cards.
    rows: Vec<contact_views::TableRow>,
    lines: Vec<contact_views::Line>,
    tiles: Vec<contact_views::Tile>,
    headers: Vec<contact_views::Header>,
    bar: contact_views::ViewBar,
    /// This page's address, for the forms to come back to.
    back: String,
    /// `view`, `mode` and `cols` as the URL gave them, for the forms' hidden inputs.
    view: String,
    mode_param: String,
    cols_param: String,
    total: u64,
    sort_links: Vec<SortLink>,
    /// The links that set the page size, the current one marked.
    size_links: Vec<SortLink>,
    /// The page size for the forms' hidden input (empty: the default).
    limit: String,
    next_url: Option<String>,
    first_url: Option<String>,
    /// The search as typed (empty: none).
    q: String,
    /// The current sort, for the search form.
    sort: String,
    /// The list without the search.
    clear_url: String,
    /// The filter JSON as given in the URL (empty: none).
    filter: String,
    /// Why the filter could not run (the table is then empty).
    filter_error: Option<FilterError>,
    /// The list without the filter.
    clear_filter_url: String,
    /// The add-to-list form (admins and managers).
    list_tools: Option<ListTools>,
    /// The table's checkbox column, with the add-to-list form.
    table_select: Option<TableSelect>,
    /// Whether the add-to-list form offers to run a bulk action too.
    has_actions: bool,
    /// What the last form did ("12 added to Newsletter").
    notice: Option<String>,
    /// What of the open view no longer applies.
    view_warning: Option<String>,
}

/// The page size of a table unless its URL says otherwise (`limit=`).
const PAGE_SIZE: u64 = 50;

/// The page sizes the table offers; `limit=` takes any size the API takes (1-500).
const PAGE_SIZES: [u64; 4] = [25, 50, 100, 200];

/// The orders the table offers, as labels and sorts (`sort=`, see
/// `kartoteka_core::contacts::cursor`).
const SORTS: [(&str, SortKey, bool); 8] = [
    ("Name A-Z", SortKey::Name, false),
    ("Name Z-A", SortKey::Name, true),
    ("City A-Z", SortKey::City, false),
    ("City Z-A", SortKey::City, true),
    ("Newest", SortKey::CreatedAt, true),
    ("Oldest", SortKey::CreatedAt, false),
    ("Recently changed", SortKey::UpdatedAt, true),
    ("Least recently changed", SortKey::UpdatedAt, false),
];

/// What a contacts list URL carries besides the page: sort, page size, search and filter.
/// Every link of the page (sort, size, next, first, clear) is made here, so none of them
/// loses a criterion. The same state drives every table of contacts (the contacts page, a
/// segment's members).
#[derive(Debug, Clone)]
pub struct ListState {
    /// The page the table is on (`/contacts`, `/segments/3`).
    pub base: String,
    pub sort: Sort,
    /// Rows per page (`limit=`, 1-500 as in the API; [`PAGE_SIZE`] when absent).
    pub limit: u64,
    /// The search as typed (empty: none).
    pub q: String,
    /// The filter JSON (DESIGN §5), as text.
    pub filter: String,
    /// The saved view the table shows (`view=`; the contacts page only).
    pub view: Option<i64>,
    /// The mode asked for (`mode=`; empty: the view's).
    pub mode: String,
    /// The columns asked for (`cols=`, comma-separated; empty: the view's).
    pub cols: String,
}

impl ListState {
    /// The state of the table on `base` from its URL's query, with the page it asks for
    /// (`sort`, `limit`, `q`, `filter`, `after`).
    pub fn from_query(base: &str, pairs: &[(String, String)]) -> Result<(Self, ListQuery), Error> {
        let sort = match param(pairs, "sort").filter(|s| !s.is_empty()) {
            Some(s) => Sort::parse(s)?,
            None => Sort::default(),
        };
        let limit = match param(pairs, "limit").map(str::trim).filter(|s| !s.is_empty()) {
            None => PAGE_SIZE,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=kartoteka_core::contacts::MAX_PAGE).contains(n))
                .ok_or_else(|| {
                    Error::invalid(
                        "limit",
                        format!(
                            "`{text}` is not a page size; use a whole number from 1 to {}",
                            kartoteka_core::contacts::MAX_PAGE
                        ),
                    )
                })?,
        };
        let list = ListState {
            base: base.to_owned(),
            sort,
            limit,
            q: param(pairs, "q").unwrap_or_default().trim().to_owned(),
            filter: param(pairs, "filter").unwrap_or_default().trim().to_owned(),
            view: param(pairs, "view").and_then(|v| v.trim().parse().ok()),
            mode: param(pairs, "mode").unwrap_or_default().trim().to_owned(),
            cols: pairs
                .iter()
                .filter(|(k, _)| k == "cols")
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
                .join(","),
        };
        let query = ListQuery {
            sort,
            limit,
            after: param(pairs, "after").filter(|a| !a.is_empty()).map(str::to_owned),
        };
        Ok((list, query))
    }

    /// The list in this state, from its first page or after cursor `after`.
    pub fn url(&self, after: Option<&str>) -> String {
        let mut url = self.base.clone();
        url.push('?');
        if let Some(view) = self.view {
            url.push_str(&format!("view={view}&"));
        }
        url.push_str(&format!("sort={}", self.sort.as_param()));
        if !self.mode.is_empty() {
            url.push_str("&mode=");
            url.push_str(&urls::encode(&self.mode));
        }
        if !self.cols.is_empty() {
            url.push_str("&cols=");
            url.push_str(&urls::encode(&self.cols));
        }
        if self.limit != PAGE_SIZE {
            url.push_str(&format!("&limit={}", self.limit));
        }
        if !self.q.trim().is_empty() {
            url.push_str("&q=");
            url.push_str(&urls::encode(&self.q));
        }
        if !self.filter.is_empty() {
            url.push_str("&filter=");
            url.push_str(&urls::encode(&self.filter));
        }
        if let Some(cursor) = after {
            url.push_str("&after=");
            url.push_str(&urls::encode(cursor));
        }
        url
    }

    /// The links that sort the table, the current one marked: the fixed orders, then each
    /// scoring model's score (`models`: id and name), highest first and lowest first.
    pub fn sort_links(&self, models: &[(i64, String)]) -> Vec<SortLink> {
        let by_score = models.iter().flat_map(|(id, name)| {
            [
                (format!("{name}: highest first"), SortKey::Score(*id), true),
                (format!("{name}: lowest first"), SortKey::Score(*id), false),
            ]
        });
        SORTS
            .into_iter()
            .map(|(label, key, descending)| (label.to_owned(), key, descending))
            .chain(by_score)
            .map(|(label, key, descending)| {
                let sort = Sort { key, descending };
                SortLink {
                    label,
                    url: ListState { sort, ..self.clone() }.url(None),
                    current: sort == self.sort,
                }
            })
            .collect()
    }

    /// The links that set the page size (from the first page), the current one marked.
    pub fn size_links(&self) -> Vec<SortLink> {
        PAGE_SIZES
            .into_iter()
            .map(|limit| SortLink {
                label: limit.to_string(),
                url: ListState { limit, ..self.clone() }.url(None),
                current: limit == self.limit,
            })
            .collect()
    }

    /// The page size as the forms carry it (empty: the default, which they leave out).
    pub fn limit_param(&self) -> String {
        if self.limit == PAGE_SIZE {
            String::new()
        } else {
            self.limit.to_string()
        }
    }

    /// This state without the search.
    pub fn without_q(&self) -> Self {
        ListState {
            q: String::new(),
            ..self.clone()
        }
    }
}

/// The table rows of `items`, with the names of their companies that `actor` sees.
pub async fn table_rows(state: &AppState, actor: &Actor, items: &[Contact]) -> Result<Vec<Row>, Error> {
    let tree = state.core.schema().type_tree().await?;
    let company_ids: Vec<i64> = items.iter().filter_map(|c| c.company_id).collect();
    let companies = state.core.contacts().contact_names(actor, &company_ids).await?;
    Ok(items
        .iter()
        .map(|c| {
            let mut row = Row::new(c, &tree);
            row.company = c
                .company_id
                .and_then(|id| companies.get(&id).cloned())
                .unwrap_or_default();
            row
        })
        .collect())
}

async fn list(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let actor = &user.actor;
    let pairs = query_pairs(query.as_deref());
    // A bare `/contacts` opens the view the user opened last; `view=` (empty) is all
    // contacts, and `view=ID` that view, each remembered.
    let resolved = if pairs.is_empty() {
        crate::api::views::with_overrides(state.core.views().last_used(actor).await?, &pairs)
    } else {
        let resolved = crate::api::views::resolve(&state, actor, &pairs).await?;
        if pairs.iter().any(|(k, _)| k == "view") {
            state
                .core
                .views()
                .mark_used(actor, resolved.view.as_ref().map(|v| v.id))
                .await?;
        }
        resolved
    };
    crate::api::views::check_mode(&pairs)?;
    let pairs = crate::api::contacts::score_sort(&state, pairs).await?;
    let (mut list, mut list_query) = ListState::from_query(urls::CONTACTS, &pairs)?;
    // The spec without its filter: a bad filter is shown on the page, at the path of its
    // bad node, over no rows; anything else wrong in the URL is the error page.
    // Read once for this page's check, its tabs' checks, the column picker and the tiles.
    let catalogue = state.core.views().catalogue().await?;
    let models: Vec<(i64, String)> = catalogue.models.iter().map(|m| (m.id, m.name.clone())).collect();
    let (mut checked, view_warning) = match state.core.views().check_in(&resolved.spec, &catalogue).await {
        Ok(checked) => (checked, None),
        // A saved view that no longer checks (a field or a model it names was removed)
        // opens with what still works, and says what was left out.
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) if resolved.view.is_some() => {
            let spec = contact_views::without_problems(&resolved.spec, &e);
            let warning = format!(
                "Part of this view no longer applies and is left out: {}. Update the view to save what is shown.",
                e.describe()
            );
            (state.core.views().check_in(&spec, &catalogue).await?, Some(warning))
        }
        Err(e) => return Err(e.into()),
    };
    list.view = resolved.view.as_ref().map(|v| v.id);
    list.sort = checked.sort;
    list.q = resolved.spec.q.clone();
    list.filter = resolved.filter.clone();
    list_query.sort = checked.sort;
    let (page, total, filter_error) = match contact_filter::prepare(&state, &list.filter).await {
        Ok(filter) => {
            checked.filter = filter;
            let query = checked.query(list_query.limit, list_query.after.clone());
            (
                state.core.filter().query_contacts(actor, &query).await?,
                state.core.filter().count_query(actor, &query).await?,
                None,
            )
        }
        Err(e) => (
            Page {
                items: Vec::new(),
                next: None,
            },
            0,
            Some(FilterError::shown(e)?),
        ),
    };
    let mode = checked.spec.mode;
    let cells = state.core.views().cells(actor, &checked, mode != Mode::Table).await?;
    let extras = contact_views::extras(&state, actor, &cells, &page.items, mode).await?;
    let (rows, lines, tiles) = match mode {
        Mode::Table => (contact_views::table_rows(&cells, &page.items, &extras), vec![], vec![]),
        Mode::List => (vec![], contact_views::lines(&cells, &page.items, &extras), vec![]),
        Mode::Tiles => {
            let layouts = state.core.schema().layout_book_in(&catalogue.schema.types).await?;
            let tiles = contact_views::tiles(&cells, &page.items, &extras, &catalogue.schema, &layouts, &models);
            (vec![], vec![], tiles)
        }
    };
    let headers = contact_views::headers(&list, &checked);
    let bar = contact_views::bar(&state, actor, &list, resolved.view.as_ref(), &checked, &catalogue).await?;
    let next_url = page.next.map(|cursor| list.url(Some(&cursor)));
    let first_url = list_query.after.as_ref().map(|_| list.url(None));
    let list_tools = contact_lists::tools(&state, actor, list.url(list_query.after.as_deref())).await?;
    let status = if filter_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let html = render(&ListPage {
        nav: Nav::new(&user, "contacts"),
        ids: page.items.iter().map(|c| c.id).collect(),
        rows,
        lines,
        tiles,
        headers,
        bar,
        back: list.url(list_query.after.as_deref()),
        total,
        sort_links: list.sort_links(&models),
        size_links: list.size_links(),
        limit: list.limit_param(),
        next_url,
        first_url,
        clear_url: list.without_q().url(None),
        clear_filter_url: ListState {
            filter: String::new(),
            ..list.clone()
        }
        .url(None),
        sort: list.sort.as_param(),
        view: list.view.map(|v| v.to_string()).unwrap_or_default(),
        mode_param: list.mode.clone(),
        cols_param: list.cols.clone(),
        q: list.q,
        filter: list.filter,
        filter_error,
        table_select: list_tools.as_ref().map(ListTools::select),
        has_actions: list_tools.is_some() && !state.core.jobs().actions(actor).await?.is_empty(),
        list_tools,
        notice: flash.message(),
        view_warning,
    })?;
    let mut response = (status, html).into_response();
    flash.clear(&state, &mut response);
    Ok(response)
}

/// An option of a `<select>`: value, label, selected.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The id in a contact address; a malformed one is a contact not found.
pub(super) fn parse_id(id: &str) -> Result<i64, PageError> {
    id.parse()
        .map_err(|_| PageError::Core(Error::NotFound { what: "contact" }))
}

/// The scoring models a table can sort by: id and name.
pub async fn score_sorts(state: &AppState) -> Result<Vec<(i64, String)>, Error> {
    Ok(state
        .core
        .scoring()
        .list_models()
        .await?
        .into_iter()
        .map(|m| (m.id, m.name))
        .collect())
}
