//! Contacts: the table, the card, the create and edit forms, logging an activity.

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use kartoteka_core::Error;
use kartoteka_core::activities::{self, Activity, KINDS, NewActivity};
use kartoteka_core::auth::Actor;
use kartoteka_core::contact_types::TypeTree;
use kartoteka_core::contacts::{Condition, Contact, ListQuery, Page, Sort, SortKey};
use kartoteka_core::error::Problems;
use kartoteka_core::fields::{FieldKind, value::parse_datetime};
use serde_json::{Map, Value};

use super::Nav;
use super::contact_filter::{self, FilterError};
use super::contact_history::{self, ShownEvent};
use super::contact_lists::{self, ListTools, TableSelect};
use super::contact_segments::{self, SegmentsSection};
use super::flash::{self, Flash};
use super::{company_picker, contact_form};
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The contact routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::CONTACTS, get(list).post(contact_form::create))
        .route(urls::NEW_CONTACT, get(contact_form::new_form))
        .route(urls::COMPANY_SEARCH, get(company_picker::search_json))
        .route("/contacts/{id}", get(card))
        .route(
            "/contacts/{id}/edit",
            get(contact_form::edit_form).post(contact_form::update),
        )
        .route("/contacts/{id}/delete", get(to_card).post(contact_form::delete))
        .route("/contacts/{id}/activities", get(to_card).post(log_activity))
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
    rows: Vec<Row>,
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
    /// What the last form did ("12 added to Newsletter").
    notice: Option<String>,
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
        let mut url = format!("{}?sort={}", self.base, self.sort.as_param());
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

    /// The links that sort the table, the current one marked.
    pub fn sort_links(&self) -> Vec<SortLink> {
        SORTS
            .into_iter()
            .map(|(label, key, descending)| {
                let sort = Sort { key, descending };
                SortLink {
                    label: label.to_owned(),
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
    let companies = state.core.contact_names(actor, &company_ids).await?;
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
    let pairs = query_pairs(query.as_deref());
    let (list, list_query) = ListState::from_query(urls::CONTACTS, &pairs)?;
    // What the list is narrowed to, as one condition: each criterion ANDs its part.
    let mut narrow = Condition::all();
    if let Some(search) = state.core.search_condition(&list.q)? {
        narrow = narrow.add(search);
    }
    // A bad filter is shown on the page, at the path of its bad node, over no rows.
    let (page, total, filter_error) = match contact_filter::prepare(&state, &list.filter).await {
        Ok(prepared) => (
            contact_filter::find(&state, &user.actor, prepared.as_ref(), narrow.clone(), &list_query).await?,
            contact_filter::count_matching(&state, &user.actor, prepared.as_ref(), narrow).await?,
            None,
        ),
        Err(e) => (
            Page {
                items: Vec::new(),
                next: None,
            },
            0,
            Some(FilterError::shown(e)?),
        ),
    };
    let rows = table_rows(&state, &user.actor, &page.items).await?;
    let next_url = page.next.map(|cursor| list.url(Some(&cursor)));
    let first_url = list_query.after.as_ref().map(|_| list.url(None));
    let list_tools = contact_lists::tools(&state, &user.actor, list.url(list_query.after.as_deref())).await?;
    let status = if filter_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let html = render(&ListPage {
        nav: Nav::new(&user, "contacts"),
        rows,
        total,
        sort_links: list.sort_links(),
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
        q: list.q,
        filter: list.filter,
        filter_error,
        table_select: list_tools.as_ref().map(ListTools::select),
        list_tools,
        notice: flash.message(),
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

/// One extra field on the card.
#[derive(Debug, Clone)]
pub struct ShownField {
    pub label: String,
    pub value: String,
    pub is_link: bool,
}

/// One activity on the card.
#[derive(Debug, Clone)]
pub struct ShownActivity {
    pub kind: String,
    pub at: String,
    pub amount: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "contacts/card.html")]
struct CardPage {
    nav: Nav,
    contact: Contact,
    type_label: String,
    company: Option<(String, String)>,
    members: Vec<(String, String)>,
    owner: String,
    fields: Vec<ShownField>,
    activities: Vec<ShownActivity>,
    history: Vec<ShownEvent>,
    last_contacted: String,
    can_write: bool,
    activity_kinds: Vec<&'static str>,
    activity: ActivityForm,
    /// What the last form did ("Created Anna.").
    notice: Option<String>,
    edit_url: String,
    delete_url: String,
    activity_url: String,
    segments: SegmentsSection,
    card_url: String,
}

impl CardPage {
    fn text(value: &Option<String>) -> &str {
        value.as_deref().unwrap_or("")
    }
}

fn show_json(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(show_json).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn shown_activity(a: &Activity) -> ShownActivity {
    ShownActivity {
        kind: kartoteka_core::activities::kind_label(&a.kind),
        at: a.occurred_at.format("%Y-%m-%d %H:%M").to_string(),
        amount: a.amount.map(|v| format!("{v:.2}")).unwrap_or_default(),
        details: a
            .properties
            .iter()
            .map(|(k, v)| format!("{k}: {}", show_json(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// The card's "log an activity" form: empty, or after a failed submit what was typed with
/// every problem next to its input.
#[derive(Debug, Clone)]
pub struct ActivityForm {
    pub kind: String,
    pub occurred_at: String,
    pub amount: String,
    pub properties: String,
    /// `(input, message)`; an empty input for a problem of the whole form.
    pub errors: Vec<(String, String)>,
}

impl Default for ActivityForm {
    fn default() -> Self {
        ActivityForm {
            kind: "note".into(),
            occurred_at: String::new(),
            amount: String::new(),
            properties: String::new(),
            errors: Vec::new(),
        }
    }
}

impl ActivityForm {
    const INPUTS: [&str; 4] = ["kind", "occurred_at", "amount", "properties"];

    /// The form as submitted, with `error`'s problems.
    fn submitted(form: &FormData, error: &Error) -> Self {
        ActivityForm {
            kind: form.text("kind"),
            occurred_at: form.text("occurred_at"),
            amount: form.text("amount"),
            properties: form.get("properties").unwrap_or_default().to_owned(),
            errors: error.problems().into_iter().map(|p| (p.path, p.message)).collect(),
        }
    }

    /// The messages at input `name`.
    pub fn error_for(&self, name: &str) -> Option<String> {
        self.errors
            .iter()
            .filter(|(input, _)| input == name)
            .map(|(_, m)| m.clone())
            .reduce(|a, b| format!("{a}; {b}"))
    }

    /// The problems not tied to an input.
    pub fn general_errors(&self) -> Vec<String> {
        self.errors
            .iter()
            .filter(|(input, _)| !Self::INPUTS.contains(&input.as_str()))
            .map(|(input, m)| {
                if input.is_empty() {
                    m.clone()
                } else {
                    format!("{input}: {m}")
                }
            })
            .collect()
    }
}

async fn card_page(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    activity: ActivityForm,
    explain: Option<i64>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let actor: &Actor = &user.actor;
    let contact = state.core.get_contact(actor, id).await?;
    let segments = contact_segments::section(state, actor, id, explain).await?;
    let schema = state.core.schema().current().await?;
    let company = match contact.company_id {
        Some(cid) => state
            .core
            .contact_names(actor, &[cid])
            .await?
            .remove(&cid)
            .map(|name| (urls::contact(cid), name)),
        None => None,
    };
    let members = if contact.kind == kartoteka_core::contacts::ContactKind::Company {
        state
            .core
            .company_members(actor, id)
            .await?
            .into_iter()
            .map(|(mid, name)| (urls::contact(mid), name))
            .collect()
    } else {
        vec![]
    };
    // Read once for the owner and the change log.
    let people = state.core.people(actor).await?;
    let owner = contact
        .owner_id
        .and_then(|oid| people.iter().find(|(id, _)| *id == oid))
        .map(|(_, label)| label.clone())
        .unwrap_or_default();
    let fields = schema
        .fields
        .iter()
        .filter_map(|d| {
            contact.fields.get(&d.key).map(|v| ShownField {
                label: d.label.clone(),
                value: contact_form::shown_value(d.kind, v),
                is_link: d.kind == FieldKind::Url,
            })
        })
        .collect();
    let activities = state
        .core
        .list_activities(actor, id, 100)
        .await?
        .iter()
        .map(shown_activity)
        .collect();
    let history = contact_history::shown(state, actor, &people, &state.core.contact_history(actor, id).await?).await?;
    let last_contacted = state
        .core
        .last_contacted(id)
        .await?
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "never".into());
    let can_write = state.core.can_write_contact(actor, id).await?;
    let status = if !activity.errors.is_empty() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = CardPage {
        nav: Nav::new(user, "contacts"),
        type_label: schema
            .types
            .by_key(&contact.type_key)
            .map(|t| t.label.clone())
            .unwrap_or_default(),
        company,
        members,
        owner,
        fields,
        activities,
        history,
        last_contacted,
        can_write,
        activity_kinds: KINDS.to_vec(),
        activity,
        notice,
        edit_url: urls::edit_contact(id),
        delete_url: urls::delete_contact(id),
        activity_url: urls::contact_activities(id),
        segments,
        card_url: urls::contact(id),
        contact,
    };
    Ok((status, render(&page)?).into_response())
}

async fn card(
    State(state): State<AppState>,
    user: SessionUser,
    flash: Flash,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let explain = contact_segments::explain_param(&query_pairs(query.as_deref()))?;
    let mut response = card_page(&state, &user, id, ActivityForm::default(), explain, flash.message()).await?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// Reads `key: value` lines into activity properties.
fn properties(text: &str) -> Map<String, Value> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() {
                return None;
            }
            Some(match line.split_once(':') {
                Some((k, v)) if !k.trim().is_empty() && !k.contains(' ') => {
                    (k.trim().to_owned(), Value::String(v.trim().to_owned()))
                }
                _ => ("text".to_owned(), Value::String(line.to_owned())),
            })
        })
        .collect()
}

async fn log_activity(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let mut problems = Problems::default();
    let occurred_at = form.opt("occurred_at").and_then(|v| {
        let at = parse_datetime(&v);
        if at.is_none() {
            problems.add("occurred_at", format!("`{v}` is not a date and time"));
        }
        at
    });
    let item = NewActivity {
        contact_id: id,
        kind: form.text("kind"),
        occurred_at,
        properties: properties(&form.text("properties")),
        amount: contact_form::decimal_input(&form, "amount", "amount", &mut problems),
    };
    let kind = item.kind.replace('_', " ");
    let result = if problems.is_empty() {
        state.core.record_activities(&user.actor, vec![item]).await.map(|_| ())
    } else {
        Err(contact_form::together(problems, activities::check(&item))?)
    };
    match result {
        Ok(()) => {
            let target = urls::contact(id);
            let mut response = Redirect::to(&target).into_response();
            flash::set(&state, &mut response, &format!("Logged a {kind}."), &target);
            Ok(response)
        }
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
            let activity = ActivityForm::submitted(&form, &e);
            card_page(&state, &user, id, activity, None, None).await
        }
        Err(e) => Err(e.into()),
    }
}
