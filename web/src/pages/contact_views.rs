//! The contacts page's views: the tabs of saved views (with their counts), the list /
//! table / tiles switch, the column picker, the forms that save, update and delete a view,
//! the export links, and what each mode shows of a page of contacts. The rules are
//! `kartoteka_core::views`'; the URL's state is read by `crate::api::views::resolve`.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::contacts::{Contact, SortKey};
use kartoteka_core::fields::Schema;
use kartoteka_core::schema::layouts::LayoutBook;
use kartoteka_core::views::columns::{self, PageExtras, TableCells, ViewColumn};
use kartoteka_core::views::{CheckedSpec, Mode, View, ViewCatalogue, ViewSpec, sort_text};
use serde_json::{Value, json};

use super::contacts::{ListState, SortLink};
use super::flash;
use crate::api::json::query_pairs;
use crate::app::AppState;
use crate::auth::{CheckedForm, SessionUser};
use crate::error::PageError;
use crate::urls;

/// A tab above the table: a saved view (or all contacts) with its count.
#[derive(Debug, Clone)]
pub struct Tab {
    pub id: String,
    pub label: String,
    pub url: String,
    /// The count, or `?` for a view that no longer checks (a field it names was removed).
    pub count: String,
    pub current: bool,
    pub shared: bool,
}

/// A column header of the table.
#[derive(Debug, Clone)]
pub struct Header {
    pub label: String,
    /// The link that sorts by it (the other way when it is the current order).
    pub sort_url: Option<String>,
    /// `▲` or `▼` when the table is sorted by it.
    pub arrow: &'static str,
    /// Why it can't be sorted by.
    pub note: String,
}

/// A row of the table: the contact and its cells' text.
#[derive(Debug, Clone)]
pub struct TableRow {
    pub id: i64,
    pub url: String,
    pub name: String,
    /// The cells; the name column's is a link.
    pub cells: Vec<(bool, String)>,
}

/// A line of the list.
#[derive(Debug, Clone)]
pub struct Line {
    pub id: i64,
    pub url: String,
    pub name: String,
    pub type_label: String,
    pub company: String,
    pub email: String,
    pub city: String,
}

/// A tile: a card per contact.
#[derive(Debug, Clone)]
pub struct Tile {
    pub id: i64,
    pub url: String,
    pub name: String,
    pub kind: &'static str,
    pub type_label: String,
    /// `Fit: Ideal` per scoring model that scored it.
    pub bands: Vec<String>,
    pub owner: String,
    /// The first fields of its card layout that hold a value: label and value.
    pub fields: Vec<(String, String)>,
}

/// A column the picker offers.
#[derive(Debug, Clone)]
pub struct PickColumn {
    pub name: String,
    pub label: String,
    pub checked: bool,
}

/// Everything about views the contacts page shows.
#[derive(Debug, Clone)]
pub struct ViewBar {
    pub tabs: Vec<Tab>,
    /// The links to list, table and tiles: label, url, current.
    pub modes: Vec<SortLink>,
    pub mode: &'static str,
    pub picker: Vec<PickColumn>,
    /// The view open now (its id), if any.
    pub view_id: Option<i64>,
    pub view_name: String,
    /// Whether the user may change the open view (and share views).
    pub can_edit: bool,
    pub can_share: bool,
    /// The state the save and update forms send.
    pub state_mode: String,
    pub state_cols: String,
    pub state_sort: String,
    pub csv_url: String,
    pub xlsx_url: String,
}

/// How many fields a tile shows.
const TILE_FIELDS: usize = 3;

/// The view bar of the page in `list` state, showing `checked`.
pub async fn bar(
    state: &AppState,
    actor: &Actor,
    list: &ListState,
    view: Option<&View>,
    checked: &CheckedSpec,
    catalogue: &ViewCatalogue,
) -> Result<ViewBar, Error> {
    let views = state.core.views();
    let mut tabs = vec![Tab {
        id: "view-all".into(),
        label: "All contacts".into(),
        url: format!("{}?view=", urls::CONTACTS),
        count: state.core.contacts().count_contacts(actor).await?.to_string(),
        current: view.is_none(),
        shared: false,
    }];
    for v in views.list(actor).await? {
        // A view that no longer checks (a field removed) shows no count; opening it
        // says what is wrong.
        let count = match views.check_in(&v.spec, catalogue).await {
            Ok(c) => views.count(actor, &c).await?.to_string(),
            Err(Error::Validation { .. } | Error::Invalid(_)) => "?".to_owned(),
            Err(e) => return Err(e),
        };
        tabs.push(Tab {
            id: format!("view-{}", v.id),
            current: view.is_some_and(|open| open.id == v.id),
            url: format!("{}?view={}", urls::CONTACTS, v.id),
            label: v.name,
            count,
            shared: v.shared,
        });
    }
    let modes = Mode::ALL
        .into_iter()
        .map(|m| SortLink {
            label: m.as_str().to_owned(),
            url: ListState {
                mode: m.as_str().to_owned(),
                ..list.clone()
            }
            .url(None),
            current: m == checked.spec.mode,
        })
        .collect();
    let models = &catalogue.models;
    let picker = columns::catalogue(&catalogue.schema, models)
        .into_iter()
        .map(|c| PickColumn {
            checked: checked.columns.contains(&c),
            name: c.name(),
            label: c.label(),
        })
        .collect();
    let export = |format: &str| {
        let url = list.url(None);
        let query = url.split_once('?').map_or("", |(_, q)| q);
        format!("{}?format={format}&{query}", urls::CONTACTS_EXPORT)
    };
    Ok(ViewBar {
        tabs,
        modes,
        mode: checked.spec.mode.as_str(),
        picker,
        view_id: view.map(|v| v.id),
        view_name: view.map(|v| v.name.clone()).unwrap_or_default(),
        can_edit: view.is_some_and(|v| v.can_edit),
        can_share: matches!(
            actor.role,
            kartoteka_core::auth::Role::Admin | kartoteka_core::auth::Role::Manager
        ),
        state_mode: checked.spec.mode.as_str().to_owned(),
        state_cols: checked.spec.columns.join(","),
        state_sort: sort_text(checked.sort, models),
        csv_url: export("csv"),
        xlsx_url: export("xlsx"),
    })
}

/// `spec` without what `error` (its check) found wrong in its columns and its order: the
/// columns at the paths named dropped (all of them: the default columns), a bad order
/// replaced by the name order, a bad search removed.
pub fn without_problems(spec: &ViewSpec, error: &Error) -> ViewSpec {
    let problems = error.problems();
    let mut out = spec.clone();
    let bad: Vec<usize> = problems
        .iter()
        .filter_map(|p| p.path.strip_prefix("columns[")?.strip_suffix(']')?.parse().ok())
        .collect();
    out.columns = spec
        .columns
        .iter()
        .enumerate()
        .filter(|(i, _)| !bad.contains(i))
        .map(|(_, c)| c.clone())
        .collect();
    if out.columns.is_empty() || problems.iter().any(|p| p.path == "columns") {
        out.columns = ViewSpec::default().columns;
    }
    if problems.iter().any(|p| p.path == "sort") {
        out.sort = ViewSpec::default().sort;
    }
    if problems.iter().any(|p| p.path == "q") {
        out.q = String::new();
    }
    out
}

/// The table's headers: each column's label and, where an index serves it, the link
/// that sorts by it.
pub fn headers(list: &ListState, checked: &CheckedSpec) -> Vec<Header> {
    checked
        .columns
        .iter()
        .map(|c| {
            let key = c.sort_key();
            let current = key.is_some_and(|k| k == list.sort.key);
            let sort_url = key.map(|key| {
                let descending = if current {
                    !list.sort.descending
                } else {
                    default_descending(key)
                };
                ListState {
                    sort: kartoteka_core::contacts::Sort { key, descending },
                    ..list.clone()
                }
                .url(None)
            });
            Header {
                label: c.label(),
                sort_url,
                arrow: match (current, list.sort.descending) {
                    (false, _) => "",
                    (true, false) => "▲",
                    (true, true) => "▼",
                },
                note: c.sort_note().map(|n| format!("Not sortable: {n}")).unwrap_or_default(),
            }
        })
        .collect()
}

/// Times and scores sort newest and highest first on the first click; text A to Z.
fn default_descending(key: SortKey) -> bool {
    !matches!(key, SortKey::Name | SortKey::City)
}

/// The table rows of `page`.
pub fn table_rows(cells: &TableCells, page: &[Contact], extras: &PageExtras) -> Vec<TableRow> {
    page.iter()
        .map(|c| TableRow {
            id: c.id,
            url: urls::contact(c.id),
            name: c.name.clone(),
            cells: cells
                .columns
                .iter()
                .zip(cells.row(c, extras))
                .map(|(column, cell)| {
                    let is_name = *column == ViewColumn::Core(kartoteka_core::contacts::CoreColumn::Name);
                    (is_name, cell.text())
                })
                .collect(),
        })
        .collect()
}

/// The list lines of `page`.
pub fn lines(cells: &TableCells, page: &[Contact], extras: &PageExtras) -> Vec<Line> {
    page.iter()
        .map(|c| Line {
            id: c.id,
            url: urls::contact(c.id),
            name: c.name.clone(),
            type_label: cells.type_label(c),
            company: cells.company(c, extras),
            email: c.email.clone().unwrap_or_default(),
            city: c.city.clone().unwrap_or_default(),
        })
        .collect()
}

/// The tiles of `page`: each with the first fields of its type's card layout.
pub fn tiles(
    cells: &TableCells,
    page: &[Contact],
    extras: &PageExtras,
    schema: &Schema,
    layouts: &LayoutBook,
    models: &[(i64, String)],
) -> Vec<Tile> {
    page.iter()
        .map(|c| {
            let layout = layouts.resolve(schema, &c.type_key).layout;
            let fields = layout
                .placed()
                .filter_map(|key| {
                    let def = schema.field(key)?;
                    let value = c.fields.get(key).filter(|v| !v.is_null())?;
                    Some((def.label.clone(), super::contact_form::shown_value(def.kind, value)))
                })
                .take(TILE_FIELDS)
                .collect();
            let mut bands: Vec<String> = extras
                .bands(c.id)
                .filter_map(|(model, band)| {
                    let name = models.iter().find(|(id, _)| *id == model)?;
                    Some(format!("{}: {band}", name.1))
                })
                .collect();
            bands.sort();
            Tile {
                id: c.id,
                url: urls::contact(c.id),
                name: c.name.clone(),
                kind: c.kind.as_str(),
                type_label: cells.type_label(c),
                owner: cells.owner(c),
                bands,
                fields,
            }
        })
        .collect()
}

/// The body of a save or an update from the page's form: the state it carries.
fn form_body(form: &crate::auth::FormData, with_name: bool) -> Value {
    let mut body = json!({
        "mode": form.text("mode"),
        "columns": form.text("cols").split(',').map(str::trim).filter(|c| !c.is_empty()).collect::<Vec<_>>(),
        "sort": form.text("sort"),
        "q": form.text("q"),
        "filter": match form.text("filter").trim() {
            "" => Value::Null,
            text => serde_json::from_str(text).unwrap_or(Value::String(text.to_owned())),
        },
    });
    if with_name && let Some(map) = body.as_object_mut() {
        map.insert("name".into(), json!(form.text("name")));
        map.insert("shared".into(), json!(form.checked("shared")));
    }
    body
}

/// `POST /contacts/views`: saves the page's state as a new view, then opens it.
pub async fn save(
    State(state): State<AppState>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let saved = state.core.views().create(&user.actor, &form_body(&form, true)).await;
    answer(&state, &form, saved, ("Saved", "saved"))
}

/// `POST /contacts/views/{id}`: stores the page's state in view `id`.
pub async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    let id = view_id(&id)?;
    let updated = state
        .core
        .views()
        .update(&user.actor, id, &form_body(&form, false))
        .await;
    answer(&state, &form, updated, ("Updated", "updated"))
}

/// After a save or an update (`done`: the verb for a notice and for a refusal): the view
/// opened with a notice, or the page the form came from with every problem.
fn answer(
    state: &AppState,
    form: &crate::auth::FormData,
    result: Result<View, Error>,
    done: (&str, &str),
) -> Result<Response, PageError> {
    match result {
        Ok(view) => Ok(flash::redirect(
            state,
            &format!("{}?view={}", urls::CONTACTS, view.id),
            &format!("{} the view “{}”.", done.0, view.name),
        )),
        Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => Ok(flash::redirect(
            state,
            &form.opt("back").unwrap_or_else(|| urls::CONTACTS.to_owned()),
            &format!("The view was not {}: {}", done.1, e.describe()),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `POST /contacts/views/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form: _ }: CheckedForm,
) -> Result<Response, PageError> {
    let id = view_id(&id)?;
    let view = state.core.views().get(&user.actor, id).await?;
    state.core.views().delete(&user.actor, id).await?;
    Ok(flash::redirect(
        &state,
        &format!("{}?view=", urls::CONTACTS),
        &format!("Deleted the view “{}”.", view.name),
    ))
}

fn view_id(text: &str) -> Result<i64, PageError> {
    text.parse()
        .map_err(|_| PageError::Core(Error::NotFound { what: "view" }))
}

/// `GET /contacts/export?format=csv|xlsx&...`: the page's state as a file.
pub async fn export(
    State(state): State<AppState>,
    user: SessionUser,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let pairs = query_pairs(query.as_deref());
    Ok(crate::api::views::export_response(&state, &user.actor, &pairs).await?)
}

/// The page's extras for `mode`: tiles read every model's band.
pub async fn extras(
    state: &AppState,
    actor: &Actor,
    cells: &TableCells,
    page: &[Contact],
    mode: Mode,
) -> Result<PageExtras, Error> {
    cells
        .extras(state.core.views().reader(), actor, page, mode == Mode::Tiles)
        .await
}
