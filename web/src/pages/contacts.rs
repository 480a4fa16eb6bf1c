//! Contacts: the table, the card, the create and edit forms, logging an activity.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kartoteka_core::Error;
use kartoteka_core::activities::{Activity, KINDS, NewActivity};
use kartoteka_core::auth::Actor;
use kartoteka_core::contact_types::TypeTree;
use kartoteka_core::contacts::{
    Condition, Contact, ContactDraft, ContactEvent, ContactPatch, ListQuery, Page, Sort, SortKey,
};
use kartoteka_core::fields::{FieldDef, FieldKind, value::parse_datetime};
use serde_json::{Map, Value, json};

use super::Nav;
use super::contact_filter::{self, FilterError};
use super::contact_lists::{self, ListTools, TableSelect};
use super::contact_segments::{self, SegmentsSection};
use super::flash::Flash;
use crate::api::json::{param, query_pairs};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The contact routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(urls::CONTACTS, get(list).post(create))
        .route(urls::NEW_CONTACT, get(new_form))
        .route("/contacts/{id}", get(card))
        .route("/contacts/{id}/edit", get(edit_form).post(update))
        .route("/contacts/{id}/delete", post(delete))
        .route("/contacts/{id}/activities", post(log_activity))
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
        }
    }
}

/// A link that sorts the table.
#[derive(Debug, Clone)]
pub struct SortLink {
    pub label: &'static str,
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

const PAGE_SIZE: u64 = 50;

/// What a contacts list URL carries besides the page: sort, search and filter. Every link
/// of the page (sort, next, first, clear) is made here, so none of them loses a criterion.
/// The same state drives every table of contacts (the contacts page, a segment's members).
#[derive(Debug, Clone)]
pub struct ListState {
    /// The page the table is on (`/contacts`, `/segments/3`).
    pub base: String,
    pub sort: Sort,
    /// The search as typed (empty: none).
    pub q: String,
    /// The filter JSON (DESIGN §5), as text.
    pub filter: String,
}

impl ListState {
    /// The state of the table on `base` from its URL's query, with the page it asks for
    /// (`sort`, `q`, `filter`, `after`).
    pub fn from_query(base: &str, pairs: &[(String, String)]) -> Result<(Self, ListQuery), Error> {
        let sort = match param(pairs, "sort").filter(|s| !s.is_empty()) {
            Some(s) => Sort::parse(s)?,
            None => Sort::default(),
        };
        let list = ListState {
            base: base.to_owned(),
            sort,
            q: param(pairs, "q").unwrap_or_default().trim().to_owned(),
            filter: param(pairs, "filter").unwrap_or_default().trim().to_owned(),
        };
        let query = ListQuery {
            sort,
            limit: PAGE_SIZE,
            after: param(pairs, "after").filter(|a| !a.is_empty()).map(str::to_owned),
        };
        Ok((list, query))
    }

    /// The list in this state, from its first page or after cursor `after`.
    pub fn url(&self, after: Option<&str>) -> String {
        let mut url = format!("{}?sort={}", self.base, self.sort.as_param());
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
        let sort = |key, descending| Sort { key, descending };
        [
            ("Name A-Z", sort(SortKey::Name, false)),
            ("Name Z-A", sort(SortKey::Name, true)),
            ("Newest", sort(SortKey::CreatedAt, true)),
            ("Oldest", sort(SortKey::CreatedAt, false)),
        ]
        .into_iter()
        .map(|(label, s)| SortLink {
            label,
            url: ListState {
                sort: s,
                ..self.clone()
            }
            .url(None),
            current: s == self.sort,
        })
        .collect()
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
    let tree = state.core.type_tree().await?;
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

/// An input of the contact form, for one extra field.
#[derive(Debug, Clone)]
pub struct FieldInput {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub input_type: &'static str,
    pub step: &'static str,
    pub required: bool,
    pub value: String,
    pub options: Vec<(String, bool)>,
    pub error: Option<String>,
}

/// An option of a `<select>`: value, label, selected.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "contacts/form.html")]
struct FormPage {
    nav: Nav,
    title: String,
    action: String,
    cancel_url: String,
    version: Option<i64>,
    values: HashMap<String, String>,
    kinds: Vec<Choice>,
    types: Vec<Choice>,
    companies: Vec<Choice>,
    owners: Vec<Choice>,
    fields: Vec<FieldInput>,
    error: Option<(String, String)>,
}

impl FormPage {
    /// The submitted or stored value of core input `name`.
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    /// The error message for input `name`, if the last submit failed there.
    fn error_for(&self, name: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|(path, _)| path == name)
            .map(|(_, m)| m.as_str())
    }

    /// An error not tied to one input.
    fn general_error(&self) -> Option<&str> {
        let known = CORE_INPUTS
            .iter()
            .any(|n| self.error.as_ref().is_some_and(|(p, _)| p == n))
            || self.fields.iter().any(|f| f.error.is_some());
        self.error.as_ref().filter(|_| !known).map(|(_, m)| m.as_str())
    }
}

const CORE_INPUTS: [&str; 17] = [
    "kind",
    "type",
    "name",
    "email",
    "phone",
    "position",
    "company_id",
    "street",
    "city",
    "region",
    "country",
    "postal_code",
    "latitude",
    "longitude",
    "owner",
    "do_not_contact",
    "version",
];

fn input_type(kind: FieldKind) -> (&'static str, &'static str) {
    match kind {
        FieldKind::Email => ("email", ""),
        FieldKind::Phone => ("tel", ""),
        FieldKind::Url => ("url", ""),
        FieldKind::Number => ("number", "any"),
        FieldKind::Money => ("number", "0.01"),
        FieldKind::Integer => ("number", "1"),
        FieldKind::Date => ("date", ""),
        // Whole seconds, as stored: saving a form must not truncate a value nobody touched.
        FieldKind::Datetime => ("datetime-local", "1"),
        _ => ("text", ""),
    }
}

/// The text an input shows for a stored value.
fn display_value(kind: FieldKind, value: &Value) -> String {
    match (kind, value) {
        (_, Value::Null) => String::new(),
        (FieldKind::Datetime, Value::String(s)) => parse_datetime(s)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%S").to_string())
            .unwrap_or_default(),
        (FieldKind::Geo, v) => match (v.get("lat"), v.get("lon")) {
            (Some(lat), Some(lon)) => format!("{lat}, {lon}"),
            _ => String::new(),
        },
        (FieldKind::Boolean, Value::Bool(b)) => {
            if *b {
                "true".into()
            } else {
                "false".into()
            }
        }
        (_, Value::String(s)) => s.clone(),
        (_, Value::Array(items)) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
        (_, other) => other.to_string(),
    }
}

/// The inputs for the extra fields that apply to `type_key` (all fields when it is empty).
fn field_inputs(
    defs: &[FieldDef],
    tree: &TypeTree,
    type_key: &str,
    stored: &Map<String, Value>,
    form: Option<&FormData>,
) -> Vec<FieldInput> {
    defs.iter()
        .filter(|d| type_key.is_empty() || d.applies_to_type(tree, type_key))
        .map(|d| {
            let name = format!("f.{}", d.key);
            let (input_type, step) = input_type(d.kind);
            let selected: Vec<String> = match form {
                Some(f) => f.all(&name),
                None => match stored.get(&d.key) {
                    Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                    Some(v) => vec![display_value(d.kind, v)],
                    None => vec![],
                },
            };
            let value = match form {
                Some(f) => f.text(&name),
                None => stored.get(&d.key).map(|v| display_value(d.kind, v)).unwrap_or_default(),
            };
            FieldInput {
                name,
                label: d.label.clone(),
                kind: d.kind.as_str(),
                input_type,
                step,
                required: d.required,
                value,
                options: d.options.iter().map(|o| (o.clone(), selected.contains(o))).collect(),
                error: None,
            }
        })
        .collect()
}

/// Reads the extra-field inputs of a form into values for `core` (blank removes a value).
fn field_values(defs: &[FieldDef], tree: &TypeTree, type_key: &str, form: &FormData) -> Map<String, Value> {
    let mut out = Map::new();
    for d in defs.iter().filter(|d| d.applies_to_type(tree, type_key)) {
        let name = format!("f.{}", d.key);
        let value = match d.kind {
            FieldKind::Multiselect => json!(
                form.all(&name)
                    .into_iter()
                    .filter(|v| !v.is_empty())
                    .collect::<Vec<_>>()
            ),
            FieldKind::Geo => match form.get(&name).filter(|v| !v.is_empty()) {
                None => Value::Null,
                Some(text) => match text.split_once(',') {
                    Some((lat, lon)) => json!({"lat": lat.trim(), "lon": lon.trim()}),
                    None => json!({"lat": text}),
                },
            },
            _ => form
                .get(&name)
                .map(|v| Value::String(v.to_owned()))
                .unwrap_or(Value::Null),
        };
        out.insert(d.key.clone(), value);
    }
    out
}

fn core_values(c: &ContactDraft) -> HashMap<String, String> {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    HashMap::from([
        ("kind".to_owned(), c.kind.clone()),
        ("type".to_owned(), c.type_key.clone()),
        ("name".to_owned(), c.name.clone()),
        ("email".to_owned(), opt(&c.email)),
        ("phone".to_owned(), opt(&c.phone)),
        ("position".to_owned(), opt(&c.position)),
        (
            "company_id".to_owned(),
            c.company_id.map(|i| i.to_string()).unwrap_or_default(),
        ),
        ("street".to_owned(), opt(&c.street)),
        ("city".to_owned(), opt(&c.city)),
        ("region".to_owned(), opt(&c.region)),
        ("country".to_owned(), opt(&c.country)),
        ("postal_code".to_owned(), opt(&c.postal_code)),
        (
            "latitude".to_owned(),
            c.latitude.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "longitude".to_owned(),
            c.longitude.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "owner".to_owned(),
            c.owner_id.map(|v| v.to_string()).unwrap_or_default(),
        ),
        (
            "do_not_contact".to_owned(),
            if c.do_not_contact { "on".into() } else { String::new() },
        ),
    ])
}

/// A number input: blank is `None`, anything else must parse.
fn number_input<N: std::str::FromStr>(form: &FormData, name: &str) -> Result<Option<N>, Error> {
    match form.opt(name) {
        None => Ok(None),
        Some(v) => v
            .replace(',', ".")
            .parse()
            .map(Some)
            .map_err(|_| Error::invalid(name, format!("`{v}` is not a number"))),
    }
}

/// The core properties of a form, as a draft (extra fields not included).
fn draft_from_form(form: &FormData) -> Result<ContactDraft, Error> {
    Ok(ContactDraft {
        kind: form
            .get("kind")
            .filter(|k| !k.is_empty())
            .unwrap_or("person")
            .to_owned(),
        type_key: form.text("type"),
        name: form.text("name"),
        email: form.opt("email"),
        phone: form.opt("phone"),
        position: form.opt("position"),
        company_id: number_input(form, "company_id")?,
        street: form.opt("street"),
        city: form.opt("city"),
        region: form.opt("region"),
        country: form.opt("country"),
        postal_code: form.opt("postal_code"),
        latitude: number_input(form, "latitude")?,
        longitude: number_input(form, "longitude")?,
        owner_id: number_input(form, "owner")?,
        do_not_contact: form.checked("do_not_contact"),
        fields: Map::new(),
    })
}

struct FormContext {
    title: String,
    action: String,
    cancel_url: String,
    version: Option<i64>,
}

async fn form_page(
    state: &AppState,
    user: &SessionUser,
    ctx: FormContext,
    draft: &ContactDraft,
    stored_fields: &Map<String, Value>,
    submitted: Option<&FormData>,
    error: Option<Error>,
) -> Result<Response, PageError> {
    let actor = &user.actor;
    let schema = state.core.schema().await?;
    let choices = |items: Vec<(String, String)>, current: &str| -> Vec<Choice> {
        items
            .into_iter()
            .map(|(value, label)| Choice {
                selected: value == current,
                value,
                label,
            })
            .collect()
    };
    let types = schema
        .types
        .all()
        .iter()
        .map(|t| (t.key.clone(), format!("{}{}", "\u{2003}".repeat(t.depth), t.label)))
        .collect();
    let companies = state
        .core
        .list_companies(actor, 1000)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    let owners = state
        .core
        .people(actor)
        .await?
        .into_iter()
        .map(|(id, label)| (id.to_string(), label))
        .collect();
    let values = core_values(draft);
    let mut companies: Vec<(String, String)> = companies;
    // A stored link to a company the user can't see stays selectable, so saving the form
    // doesn't silently unlink it.
    if let Some(id) = draft.company_id.map(|id| id.to_string())
        && !companies.iter().any(|(value, _)| *value == id)
    {
        companies.insert(0, (id.clone(), format!("company #{id} (not visible to you)")));
    }
    let mut fields = field_inputs(&schema.fields, &schema.types, &draft.type_key, stored_fields, submitted);
    let mut error_pair = None;
    let status = match &error {
        Some(e) => crate::error::classify(e).0,
        None => StatusCode::OK,
    };
    if let Some(e) = error {
        match e {
            Error::Validation { path, message } => {
                if let Some(key) = path.strip_prefix("fields.") {
                    let name = format!("f.{key}");
                    if let Some(f) = fields.iter_mut().find(|f| f.name == name) {
                        f.error = Some(message.clone());
                    }
                }
                let path = if path == "owner_id" { "owner".to_owned() } else { path };
                error_pair = Some((path, message));
            }
            Error::Db(_) | Error::Internal(_) => return Err(PageError::Core(e)),
            other => error_pair = Some((String::new(), crate::error::public_message(&other))),
        }
    }
    let page = FormPage {
        nav: Nav::new(user, "contacts"),
        title: ctx.title,
        action: ctx.action,
        cancel_url: ctx.cancel_url,
        version: ctx.version,
        kinds: choices(
            vec![("person".into(), "Person".into()), ("company".into(), "Company".into())],
            &draft.kind,
        ),
        types: choices(types, &draft.type_key),
        companies: choices(companies, &values.get("company_id").cloned().unwrap_or_default()),
        owners: choices(owners, &values.get("owner").cloned().unwrap_or_default()),
        values,
        fields,
        error: error_pair,
    };
    Ok((status, render(&page)?).into_response())
}

async fn new_form(
    State(state): State<AppState>,
    user: SessionUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let pairs = query_pairs(query.as_deref());
    let draft = ContactDraft {
        kind: param(&pairs, "kind").unwrap_or("person").to_owned(),
        type_key: param(&pairs, "type").unwrap_or("").to_owned(),
        owner_id: Some(user.actor.user_id),
        ..Default::default()
    };
    let ctx = FormContext {
        title: "New contact".into(),
        action: urls::CONTACTS.into(),
        cancel_url: urls::CONTACTS.into(),
        version: None,
    };
    form_page(&state, &user, ctx, &draft, &Map::new(), None, None).await
}

async fn create(State(state): State<AppState>, CheckedForm { user, form }: CheckedForm) -> Result<Response, PageError> {
    let schema = state.core.schema().await?;
    let result = async {
        let mut draft = draft_from_form(&form)?;
        draft.fields = field_values(&schema.fields, &schema.types, &draft.type_key, &form);
        state.core.create_contact(&user.actor, draft).await
    }
    .await;
    match result {
        Ok(contact) => Ok(Redirect::to(&urls::contact(contact.id)).into_response()),
        Err(e) => {
            let draft = draft_from_form(&form).unwrap_or_else(|_| ContactDraft {
                kind: form.text("kind"),
                type_key: form.text("type"),
                name: form.text("name"),
                ..Default::default()
            });
            let ctx = FormContext {
                title: "New contact".into(),
                action: urls::CONTACTS.into(),
                cancel_url: urls::CONTACTS.into(),
                version: None,
            };
            form_page(&state, &user, ctx, &draft, &Map::new(), Some(&form), Some(e)).await
        }
    }
}

fn parse_id(id: &str) -> Result<i64, PageError> {
    id.parse()
        .map_err(|_| PageError::Core(Error::NotFound { what: "contact" }))
}

async fn edit_form(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let contact = state.core.get_contact(&user.actor, id).await?;
    let ctx = FormContext {
        title: format!("Edit {}", contact.name),
        action: urls::edit_contact(id),
        cancel_url: urls::contact(id),
        version: Some(contact.version),
    };
    form_page(&state, &user, ctx, &contact.draft(), &contact.fields, None, None).await
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let schema = state.core.schema().await?;
    let current = state.core.get_contact(&user.actor, id).await?;
    let result = async {
        let draft = draft_from_form(&form)?;
        let version = number_input::<i64>(&form, "version")?
            .ok_or_else(|| Error::invalid("version", "is missing; reload the page"))?;
        let fields = field_values(&schema.fields, &schema.types, &draft.type_key, &form);
        let patch = ContactPatch {
            version,
            kind: Some(draft.kind),
            type_key: Some(draft.type_key),
            name: Some(draft.name),
            email: Some(draft.email),
            phone: Some(draft.phone),
            position: Some(draft.position),
            company_id: Some(draft.company_id),
            street: Some(draft.street),
            city: Some(draft.city),
            region: Some(draft.region),
            country: Some(draft.country),
            postal_code: Some(draft.postal_code),
            latitude: Some(draft.latitude),
            longitude: Some(draft.longitude),
            owner_id: Some(draft.owner_id),
            do_not_contact: Some(draft.do_not_contact),
            fields: Some(fields),
        };
        state.core.update_contact(&user.actor, id, patch).await
    }
    .await;
    match result {
        // Handed to someone else, the contact may be out of the user's sight now.
        Ok(_) if state.core.get_contact(&user.actor, id).await.is_err() => {
            Ok(Redirect::to(urls::CONTACTS).into_response())
        }
        Ok(_) => Ok(Redirect::to(&urls::contact(id)).into_response()),
        Err(e) => {
            let draft = draft_from_form(&form).unwrap_or_else(|_| current.draft());
            // On a stale write, keep what the user typed but let the next submit target the
            // version now stored, after they have seen the message.
            let version = if matches!(e, Error::Conflict { .. }) {
                current.version
            } else {
                number_input(&form, "version").ok().flatten().unwrap_or(current.version)
            };
            let ctx = FormContext {
                title: format!("Edit {}", current.name),
                action: urls::edit_contact(id),
                cancel_url: urls::contact(id),
                version: Some(version),
            };
            form_page(&state, &user, ctx, &draft, &current.fields, Some(&form), Some(e)).await
        }
    }
}

async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    if !form.checked("confirm") {
        return Err(PageError::Core(Error::invalid(
            "confirm",
            "tick the box to confirm the deletion",
        )));
    }
    let version = number_input::<i64>(&form, "version")?;
    state.core.delete_contact(&user.actor, id, version).await?;
    Ok(Redirect::to(urls::CONTACTS).into_response())
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

/// One audit entry on the card.
#[derive(Debug, Clone)]
pub struct ShownEvent {
    pub at: String,
    pub who: String,
    pub action: String,
    pub changes: Vec<(String, String, String)>,
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
    activity_error: Option<String>,
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
        kind: a.kind.replace('_', " "),
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

fn shown_event(e: &ContactEvent) -> ShownEvent {
    let changes = match &e.changes {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| match v.as_array().map(Vec::as_slice) {
                Some([old, new]) if e.action != "created" && e.action != "deleted" => {
                    (k.clone(), show_json(old), show_json(new))
                }
                _ => (k.clone(), String::new(), show_json(v)),
            })
            .collect(),
        _ => vec![],
    };
    ShownEvent {
        at: e.at.format("%Y-%m-%d %H:%M").to_string(),
        who: e.user_email.clone().unwrap_or_else(|| "system".into()),
        action: e.action.replace('_', " "),
        changes,
    }
}

async fn card_page(
    state: &AppState,
    user: &SessionUser,
    id: i64,
    activity_error: Option<Error>,
    explain: Option<i64>,
) -> Result<Response, PageError> {
    let actor: &Actor = &user.actor;
    let contact = state.core.get_contact(actor, id).await?;
    let segments = contact_segments::section(state, actor, id, explain).await?;
    let schema = state.core.schema().await?;
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
    let owner = match contact.owner_id {
        Some(oid) => state
            .core
            .people(actor)
            .await?
            .into_iter()
            .find(|(id, _)| *id == oid)
            .map(|(_, label)| label)
            .unwrap_or_default(),
        None => String::new(),
    };
    let fields = schema
        .fields
        .iter()
        .filter_map(|d| {
            contact.fields.get(&d.key).map(|v| ShownField {
                label: d.label.clone(),
                value: match (d.kind, v) {
                    (FieldKind::Boolean, Value::Bool(b)) => {
                        if *b {
                            "Yes".into()
                        } else {
                            "No".into()
                        }
                    }
                    (FieldKind::Money, Value::Number(n)) => n.as_f64().map(|f| format!("{f:.2}")).unwrap_or_default(),
                    _ => display_value(d.kind, v).replace('T', " "),
                },
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
    let history = state
        .core
        .contact_history(actor, id)
        .await?
        .iter()
        .map(shown_event)
        .collect();
    let last_contacted = state
        .core
        .last_contacted(id)
        .await?
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| "never".into());
    let can_write = state.core.can_write_contact(actor, id).await?;
    let status = if activity_error.is_some() {
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
        activity_error: activity_error.map(|e| e.to_string()),
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
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let id = parse_id(&id)?;
    let explain = contact_segments::explain_param(&query_pairs(query.as_deref()))?;
    card_page(&state, &user, id, None, explain).await
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
    let result = async {
        let occurred_at = match form.opt("occurred_at") {
            None => None,
            Some(v) => Some(
                parse_datetime(&v)
                    .ok_or_else(|| Error::invalid("occurred_at", format!("`{v}` is not a date and time")))?,
            ),
        };
        let item = NewActivity {
            contact_id: id,
            kind: form.text("kind"),
            occurred_at,
            properties: properties(&form.text("properties")),
            amount: number_input(&form, "amount")?,
        };
        state.core.record_activities(&user.actor, vec![item]).await
    }
    .await;
    match result {
        Ok(_) => Ok(Redirect::to(&urls::contact(id)).into_response()),
        Err(e @ Error::Validation { .. }) => card_page(&state, &user, id, Some(e), None).await,
        Err(e) => Err(e.into()),
    }
}
