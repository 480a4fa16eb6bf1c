//! Saved views of the contacts: a name, a mode (list, table, tiles), the columns, the
//! sort, the filter and the search, kept per user or shared with everyone.
//!
//! - **Who sees what.** A user sees their own views and the shared ones. Only managers and
//!   admins share a view (a shared view is a tab on everyone's contacts page). A view is
//!   changed or deleted by the user who made it; an admin may also change or delete a
//!   shared view (someone has to tidy the team's tabs). A view someone can't see is not
//!   found; one they see but may not change is forbidden.
//! - **What a view holds** ([`ViewSpec`]) is checked as a whole, every problem at its path
//!   (`columns[2]`, `sort`, `filter.and[1].value`, `q`), by [`Views::check`]; the contacts
//!   page checks the state in its URL the same way. The filter is stored as its JSON and
//!   prepared again on each use, so a view follows the fields' changes like a segment
//!   does. A score column and a score order name the model by key (`score.fit`).
//! - **Last used.** Opening a view remembers it for the user (`view_last_used`), and the
//!   contacts page opens on it next time.
//! - **Running a view**: [`CheckedSpec::query`] gives the contacts query (the filter
//!   engine's keyset pages, so a view's table scrolls at a million contacts as the plain
//!   table does), and [`columns::TableCells`] the cells.
//! - **Export**: [`export`] writes a view's rows to CSV or XLSX, a page at a time.
//!
//! The alternative of storing a view as the contacts page's URL was set aside: the API
//! needs its parts (a view's columns drive the export and the tiles), and a URL would be
//! checked only when opened, not when saved.

pub mod columns;
pub mod export;

use std::collections::HashMap;

use sea_orm::sea_query::Condition;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait};
use serde_json::{Value, json};

use crate::auth::{Actor, Role};
use crate::clock::stored;
use crate::contacts::{ListQuery, SearchQuery, Sort};
use crate::entities::{view_last_used, views};
use crate::error::Problems;
use crate::filter::{ContactQuery, FilterEngine, Prepared};
use crate::{Error, Result};
use columns::{ModelRef, TableCells, ViewColumn};

/// The most characters of a view's name.
pub const MAX_NAME: usize = 100;

/// How a view shows contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// A line per contact: name, type, company, e-mail, city.
    List,
    /// The view's columns.
    #[default]
    Table,
    /// A card per contact: type, bands, owner, the first fields of its card layout.
    Tiles,
}

impl Mode {
    /// Every mode, in the order the page offers them.
    pub const ALL: [Mode; 3] = [Mode::List, Mode::Table, Mode::Tiles];

    /// `list`, `table`, `tiles`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::List => "list",
            Mode::Table => "table",
            Mode::Tiles => "tiles",
        }
    }

    /// The mode named `text`.
    pub fn parse(text: &str) -> Result<Self> {
        Mode::ALL.into_iter().find(|m| m.as_str() == text).ok_or_else(|| {
            Error::invalid(
                "mode",
                format!("`{}` is not a mode; use list, table or tiles", clip(text)),
            )
        })
    }
}

fn clip(text: &str) -> String {
    text.chars().take(100).collect()
}

/// What a view shows, unchecked: as stored, as the API sends it, as a URL carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewSpec {
    pub mode: Mode,
    /// Column names ([`columns`]).
    pub columns: Vec<String>,
    /// As `sort=` takes it, a score by model key (`-score.fit`).
    pub sort: String,
    /// The filter JSON (DESIGN §5); `None`: every contact.
    pub filter: Option<Value>,
    /// The search as typed.
    pub q: String,
}

impl Default for ViewSpec {
    fn default() -> Self {
        ViewSpec {
            mode: Mode::Table,
            columns: columns::DEFAULT_COLUMNS.map(str::to_owned).to_vec(),
            sort: "name".to_owned(),
            filter: None,
            q: String::new(),
        }
    }
}

/// What views are checked against: the schema and the scoring models
/// ([`Views::catalogue`]).
#[derive(Debug, Clone)]
pub struct ViewCatalogue {
    pub schema: crate::fields::Schema,
    pub models: Vec<ModelRef>,
}

/// A view spec checked and ready to run.
#[derive(Debug, Clone)]
pub struct CheckedSpec {
    pub spec: ViewSpec,
    pub columns: Vec<ViewColumn>,
    pub sort: Sort,
    pub filter: Option<Prepared>,
    pub search: Option<SearchQuery>,
}

impl CheckedSpec {
    /// The contacts query of the view: a page of `limit` after cursor `after`.
    pub fn query(&self, limit: u64, after: Option<String>) -> ContactQuery {
        ContactQuery {
            filter: self.filter.clone(),
            search: self.search.clone(),
            page: ListQuery {
                sort: self.sort,
                limit,
                after,
            },
        }
    }
}

/// A saved view, as its reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub id: i64,
    pub name: String,
    pub shared: bool,
    /// Who made it (their name).
    pub owner: String,
    pub user_id: i64,
    pub spec: ViewSpec,
    /// Whether the reader may change or delete it.
    pub can_edit: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl View {
    /// The view as the API gives it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "shared": self.shared,
            "owner": self.owner,
            "can_edit": self.can_edit,
            "mode": self.spec.mode.as_str(),
            "columns": self.spec.columns,
            "sort": self.spec.sort,
            "filter": self.spec.filter,
            "q": self.spec.q,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

/// Saved views: definitions, who sees them, the last one each user opened.
#[derive(Debug, Clone)]
pub struct Views {
    pub(crate) filter: FilterEngine,
}

/// What a create or a change sends, read from JSON; `None`: not sent.
#[derive(Debug, Default)]
struct Input {
    name: Option<String>,
    shared: Option<bool>,
    mode: Option<Mode>,
    columns: Option<Vec<String>>,
    sort: Option<String>,
    filter: Option<Option<Value>>,
    q: Option<String>,
}

impl Input {
    /// Reads `body`, noting every problem of shape (a number for a name, an unknown key).
    fn read(body: &Value, problems: &mut Problems) -> Self {
        let mut input = Input::default();
        let Some(obj) = body.as_object() else {
            problems.add(
                "",
                "must be a JSON object: {\"name\": ..., \"mode\": ..., \"columns\": [...], ...}",
            );
            return input;
        };
        for (key, value) in obj {
            let text = |problems: &mut Problems| match value {
                Value::String(s) => Some(s.clone()),
                _ => {
                    problems.add(key.clone(), "must be text");
                    None
                }
            };
            match key.as_str() {
                "name" => input.name = text(problems),
                "sort" => input.sort = text(problems),
                "q" => {
                    input.q = if value.is_null() {
                        Some(String::new())
                    } else {
                        text(problems)
                    };
                }
                "mode" => {
                    input.mode = text(problems).and_then(|m| problems.take(Mode::parse(&m)).ok().flatten());
                }
                "shared" => match value {
                    Value::Bool(b) => input.shared = Some(*b),
                    _ => problems.add("shared", "must be true or false"),
                },
                "columns" => match value.as_array() {
                    Some(items) if items.iter().all(Value::is_string) => {
                        input.columns = Some(items.iter().filter_map(Value::as_str).map(str::to_owned).collect());
                    }
                    _ => {
                        for p in columns::not_a_list().problems() {
                            problems.add(p.path, p.message);
                        }
                    }
                },
                "filter" => match value {
                    Value::Null => input.filter = Some(None),
                    Value::Object(_) => input.filter = Some(Some(value.clone())),
                    _ => problems.add("filter", "must be a filter (a JSON object) or null"),
                },
                // What a view answers with: sent back unchanged, it is not an error.
                "id" | "owner" | "can_edit" | "created_at" | "updated_at" => {}
                other => problems.add(
                    other.to_owned(),
                    "is not part of a view; send name, shared, mode, columns, sort, filter, q",
                ),
            }
        }
        input
    }
}

impl Views {
    /// The service over the filter engine (which holds the schema, the users and the
    /// contacts' reader).
    pub fn new(filter: FilterEngine) -> Self {
        Views { filter }
    }

    /// The scoring models, as columns and score orders name them.
    pub async fn models(&self) -> Result<Vec<ModelRef>> {
        columns::models(&self.filter.base.db).await
    }

    /// Checks `spec`: every problem at its path.
    pub async fn check(&self, spec: &ViewSpec) -> Result<CheckedSpec> {
        self.check_in(spec, &self.catalogue().await?).await
    }

    /// What a check reads: the fields, the types and the scoring models. A page that checks
    /// several views (the contacts page: its own and one per tab) reads it once.
    pub async fn catalogue(&self) -> Result<ViewCatalogue> {
        Ok(ViewCatalogue {
            schema: self.filter.schema.current().await?,
            models: self.models().await?,
        })
    }

    /// [`Views::check`] against a catalogue already read.
    pub async fn check_in(&self, spec: &ViewSpec, catalogue: &ViewCatalogue) -> Result<CheckedSpec> {
        let ViewCatalogue { schema, models } = catalogue;
        let mut problems = Problems::default();
        let columns = problems.take(columns::resolve(&spec.columns, schema, models))?;
        let sort = problems.take(resolve_sort(&spec.sort, models))?;
        let search = if spec.q.chars().any(char::is_control) {
            problems.add("q", "must not contain control characters");
            None
        } else {
            problems.take(SearchQuery::parse(&spec.q))?
        };
        let filter = match &spec.filter {
            None => Some(None),
            Some(json) => match self.filter.prepare_filter(json).await {
                Ok(prepared) => Some(Some(prepared)),
                Err(e @ (Error::Validation { .. } | Error::Invalid(_))) => {
                    for p in e.problems() {
                        let path = if p.path.is_empty() {
                            "filter".to_owned()
                        } else {
                            format!("filter.{}", p.path)
                        };
                        problems.add(path, p.message);
                    }
                    None
                }
                Err(e) => return Err(e),
            },
        };
        problems.into_result()?;
        match (columns, sort, search, filter) {
            (Some(columns), Some(sort), Some(search), Some(filter)) => Ok(CheckedSpec {
                spec: spec.clone(),
                columns,
                sort,
                filter,
                search,
            }),
            _ => Err(Error::Internal("a view check lost its problems".into())),
        }
    }

    /// The cells of `checked`'s columns for `actor`; `cards` for the list and the tiles,
    /// which show each contact's type and owner whatever the columns.
    pub async fn cells(&self, actor: &Actor, checked: &CheckedSpec, cards: bool) -> Result<TableCells> {
        TableCells::new(checked.columns.clone(), &self.filter.contacts, actor, cards).await
    }

    /// The contacts' reader (for a page's extras).
    pub fn reader(&self) -> &crate::contacts::ContactReader {
        &self.filter.contacts
    }

    /// How many contacts `actor` sees in `checked`.
    pub async fn count(&self, actor: &Actor, checked: &CheckedSpec) -> Result<u64> {
        self.filter.count_query(actor, &checked.query(1, None)).await
    }

    /// The views `actor` sees: their own, then the shared ones of others, each by name.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<View>> {
        let rows = views::Entity::find()
            .filter(
                Condition::any()
                    .add(views::Column::UserId.eq(actor.user_id))
                    .add(views::Column::Shared.eq(true)),
            )
            .all(&self.filter.base.db)
            .await?;
        let names = self.user_names().await?;
        let mut out: Vec<View> = rows
            .into_iter()
            .map(|r| to_view(r, actor, &names))
            .collect::<Result<_>>()?;
        out.sort_by_cached_key(|v| (v.user_id != actor.user_id, crate::text::fold(&v.name), v.id));
        Ok(out)
    }

    /// View `id`, if `actor` sees it.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<View> {
        let row = self.visible_row(actor, id).await?;
        to_view(row, actor, &self.user_names().await?)
    }

    async fn visible_row(&self, actor: &Actor, id: i64) -> Result<views::Model> {
        views::Entity::find_by_id(id)
            .one(&self.filter.base.db)
            .await?
            .filter(|v| v.shared || v.user_id == actor.user_id)
            .ok_or(Error::NotFound { what: "view" })
    }

    async fn user_names(&self) -> Result<HashMap<i64, String>> {
        Ok(self
            .filter
            .users
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect())
    }

    /// Saves a new view of `actor` from `body` (`{"name": ..., "shared": ..., "mode": ...,
    /// "columns": [...], "sort": ..., "filter": ..., "q": ...}`; all but the name may be left
    /// out: the plain table, by name).
    pub async fn create(&self, actor: &Actor, body: &Value) -> Result<View> {
        let mut problems = Problems::default();
        let input = Input::read(body, &mut problems);
        let defaults = ViewSpec::default();
        let spec = ViewSpec {
            mode: input.mode.unwrap_or(defaults.mode),
            columns: input.columns.unwrap_or(defaults.columns),
            sort: input.sort.unwrap_or(defaults.sort),
            filter: input.filter.unwrap_or(None),
            q: input.q.unwrap_or_default(),
        };
        let shared = input.shared.unwrap_or(false);
        let name = match &input.name {
            Some(name) => problems.take(self.check_name(actor, name, None).await)?,
            None => {
                problems.add("name", "is required: the name of the view's tab");
                None
            }
        };
        check_sharing(actor, shared, &mut problems);
        problems.take(self.check(&spec).await)?;
        problems.into_result()?;
        let now = stored(self.filter.base.now());
        let row = views::ActiveModel {
            user_id: Set(actor.user_id),
            name: Set(name.unwrap_or_default()),
            shared: Set(shared),
            mode: Set(spec.mode.as_str().to_owned()),
            columns: Set(json!(spec.columns)),
            sort: Set(spec.sort),
            filter: Set(spec.filter),
            q: Set(spec.q),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.filter.base.db)
        .await?;
        to_view(row, actor, &self.user_names().await?)
    }

    /// Changes view `id` with what `body` sends (the same keys as a create).
    pub async fn update(&self, actor: &Actor, id: i64, body: &Value) -> Result<View> {
        let row = self.editable_row(actor, id).await?;
        let mut problems = Problems::default();
        let input = Input::read(body, &mut problems);
        let current = spec_of(&row)?;
        let spec = ViewSpec {
            mode: input.mode.unwrap_or(current.mode),
            columns: input.columns.unwrap_or(current.columns),
            sort: input.sort.unwrap_or(current.sort),
            filter: input.filter.unwrap_or(current.filter),
            q: input.q.unwrap_or(current.q),
        };
        let name = match &input.name {
            Some(name) => problems.take(self.check_name(actor, name, Some(id)).await)?,
            None => Some(row.name.clone()),
        };
        let shared = input.shared.unwrap_or(row.shared);
        if shared != row.shared {
            check_sharing(actor, shared, &mut problems);
        }
        problems.take(self.check(&spec).await)?;
        problems.into_result()?;
        let mut active = row.into_active_model();
        active.name = Set(name.unwrap_or_default());
        active.shared = Set(shared);
        active.mode = Set(spec.mode.as_str().to_owned());
        active.columns = Set(json!(spec.columns));
        active.sort = Set(spec.sort);
        active.filter = Set(spec.filter);
        active.q = Set(spec.q);
        active.updated_at = Set(stored(self.filter.base.now()));
        let row = active.update(&self.filter.base.db).await?;
        to_view(row, actor, &self.user_names().await?)
    }

    /// Deletes view `id`; nobody opens on it any more.
    pub async fn delete(&self, actor: &Actor, id: i64) -> Result<()> {
        self.editable_row(actor, id).await?;
        let txn = self.filter.base.db.begin().await?;
        view_last_used::Entity::delete_many()
            .filter(view_last_used::Column::ViewId.eq(id))
            .exec(&txn)
            .await?;
        views::Entity::delete_by_id(id).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn editable_row(&self, actor: &Actor, id: i64) -> Result<views::Model> {
        let row = self.visible_row(actor, id).await?;
        if can_edit(actor, &row) {
            Ok(row)
        } else {
            Err(Error::Forbidden(
                "only the user who made this view, or an admin, may change it".into(),
            ))
        }
    }

    /// The name checked: not empty, not too long, not the name of another of the user's
    /// views.
    async fn check_name(&self, actor: &Actor, name: &str, except: Option<i64>) -> Result<String> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid("name", "must not be empty"));
        }
        if name.chars().any(char::is_control) {
            return Err(Error::invalid("name", "must not contain control characters"));
        }
        if name.chars().count() > MAX_NAME {
            return Err(Error::invalid("name", format!("must be at most {MAX_NAME} characters")));
        }
        let folded = crate::text::fold(name);
        let taken = views::Entity::find()
            .filter(views::Column::UserId.eq(actor.user_id))
            .all(&self.filter.base.db)
            .await?
            .into_iter()
            .any(|v| Some(v.id) != except && crate::text::fold(&v.name) == folded);
        if taken {
            return Err(Error::invalid(
                "name",
                format!("you already have a view named `{name}`"),
            ));
        }
        Ok(name.to_owned())
    }

    /// Remembers view `id` (`None`: the plain table) as the one `actor` opened last.
    pub async fn mark_used(&self, actor: &Actor, id: Option<i64>) -> Result<()> {
        let db = &self.filter.base.db;
        // Most page loads open the view already remembered: no write then.
        let current = view_last_used::Entity::find_by_id(actor.user_id).one(db).await?;
        if current.map(|r| r.view_id) == id {
            return Ok(());
        }
        view_last_used::Entity::delete_by_id(actor.user_id).exec(db).await?;
        if let Some(id) = id {
            view_last_used::ActiveModel {
                user_id: Set(actor.user_id),
                view_id: Set(id),
            }
            .insert(db)
            .await?;
        }
        Ok(())
    }

    /// The view `actor` opened last, if they still see it.
    pub async fn last_used(&self, actor: &Actor) -> Result<Option<View>> {
        let Some(row) = view_last_used::Entity::find_by_id(actor.user_id)
            .one(&self.filter.base.db)
            .await?
        else {
            return Ok(None);
        };
        match self.get(actor, row.view_id).await {
            Ok(view) => Ok(Some(view)),
            Err(Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn can_edit(actor: &Actor, row: &views::Model) -> bool {
    row.user_id == actor.user_id || (row.shared && actor.is_admin())
}

fn check_sharing(actor: &Actor, shared: bool, problems: &mut Problems) {
    if shared && !matches!(actor.role, Role::Admin | Role::Manager) {
        problems.add("shared", "only managers and admins share views; save it for yourself");
    }
}

/// `sort` with a score's model key turned into its id, parsed.
pub fn resolve_sort(sort: &str, models: &[ModelRef]) -> Result<Sort> {
    let sort = sort.trim();
    if sort.is_empty() {
        return Ok(Sort::default());
    }
    let (minus, rest) = match sort.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", sort),
    };
    match rest.strip_prefix("score.") {
        // By key as people write it, or by id as the contacts' order carries it.
        Some(key) => match models.iter().find(|m| m.key == key || m.id.to_string() == key) {
            Some(m) => Sort::parse(&format!("{minus}score.{}", m.id)),
            None => Err(Error::invalid("sort", format!("no scoring model `{}`", clip(key)))),
        },
        None => Sort::parse(sort),
    }
}

/// The sort as a view stores it: a score by model key.
pub fn sort_text(sort: Sort, models: &[ModelRef]) -> String {
    match sort.key {
        crate::contacts::SortKey::Score(id) => {
            let key = models
                .iter()
                .find(|m| m.id == id)
                .map_or_else(|| id.to_string(), |m| m.key.clone());
            format!("{}score.{key}", if sort.descending { "-" } else { "" })
        }
        _ => sort.as_param(),
    }
}

fn spec_of(row: &views::Model) -> Result<ViewSpec> {
    let columns = row
        .columns
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .ok_or_else(|| Error::Internal(format!("view {}: columns are not a list", row.id)))?;
    Ok(ViewSpec {
        mode: Mode::parse(&row.mode).map_err(|_| Error::Internal(format!("view {}: mode `{}`", row.id, row.mode)))?,
        columns,
        sort: row.sort.clone(),
        filter: row.filter.clone().filter(|f| !f.is_null()),
        q: row.q.clone(),
    })
}

fn to_view(row: views::Model, actor: &Actor, names: &HashMap<i64, String>) -> Result<View> {
    Ok(View {
        spec: spec_of(&row)?,
        can_edit: can_edit(actor, &row),
        owner: names.get(&row.user_id).cloned().unwrap_or_default(),
        id: row.id,
        name: row.name,
        shared: row.shared,
        user_id: row.user_id,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}
