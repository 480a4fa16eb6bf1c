//! The columns a view shows and the cells of a page of contacts under them.
//!
//! A column is named as the API and the URL carry it:
//!
//! | name | shows | sort |
//! |---|---|---|
//! | `name`, `city`, `created_at`, `updated_at` | the core column | by index (`contacts_*_sort_id`, `contacts_created_id`, `contacts_updated_id`) |
//! | `email`, `phone`, `position`, `street`, `region`, `country`, `postal_code`, `kind`, `do_not_contact`, `latitude`, `longitude` | the core column | none |
//! | `type`, `company`, `owner` | the type's label, the company's name, the owner's name | none |
//! | `fields.<key>` | an extra field's value | none |
//! | `score.<model key>` | a scoring model's score and band | yes, without an index (see `contacts::cursor`) |
//! | `last_activity` | the time of the contact's latest activity | none |
//!
//! The orders are the contacts' keyset orders (`contacts::cursor`): each pages by `(key,
//! id) > (?, ?)` over an index, so the table scrolls at the same cost on the first page and
//! the ten-thousandth of a million contacts. The other columns have no index that serves
//! an order: the text columns have no collation key stored, an extra field lives in the
//! contact's JSON (an order by it would sort every visible contact for each page), the
//! company's name, the owner and the type's label are on other rows, and the last activity
//! is an aggregate. The table shows them without a sort link and says why
//! ([`ViewColumn::sort_note`]); an index per extra field (as the filters get) would be the
//! way to add them.
//!
//! [`TableCells`] turns a page of contacts into typed [`Cell`]s: one query for the
//! companies' names, one for the scores, one for the last activities, whatever the page
//! size. The contacts page, the tiles, the API and both export formats read cells from
//! here, so a value reads the same everywhere.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::Value;

use crate::auth::Actor;
use crate::contacts::{Contact, ContactReader, CoreColumn, SortKey};
use crate::entities::{activities, contact_scores, scoring_models};
use crate::error::Problems;
use crate::fields::{FieldDef, FieldKind, Schema};
use crate::{Error, Result};

/// The columns of a view when it names none: those of the contacts table before views.
pub const DEFAULT_COLUMNS: [&str; 9] = [
    "name",
    "kind",
    "type",
    "company",
    "email",
    "phone",
    "city",
    "created_at",
    "updated_at",
];

/// The most columns a view may show.
pub const MAX_COLUMNS: usize = 40;

/// The core columns a view may show, in the order a column picker offers them. The
/// legacy single `score` and `score_band` are left out: each scoring model has its own.
pub const CORE: [CoreColumn; 18] = [
    CoreColumn::Name,
    CoreColumn::Kind,
    CoreColumn::Type,
    CoreColumn::Company,
    CoreColumn::Email,
    CoreColumn::Phone,
    CoreColumn::Position,
    CoreColumn::Street,
    CoreColumn::City,
    CoreColumn::Region,
    CoreColumn::Country,
    CoreColumn::PostalCode,
    CoreColumn::Owner,
    CoreColumn::DoNotContact,
    CoreColumn::Latitude,
    CoreColumn::Longitude,
    CoreColumn::CreatedAt,
    CoreColumn::UpdatedAt,
];

/// The name of the last-activity column.
pub const LAST_ACTIVITY: &str = "last_activity";

/// A scoring model as a column knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    pub id: i64,
    pub key: String,
    pub name: String,
}

/// A column of a view.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewColumn {
    Core(CoreColumn),
    Field(FieldDef),
    Score(ModelRef),
    LastActivity,
}

impl ViewColumn {
    /// The name in the API and the URL.
    pub fn name(&self) -> String {
        match self {
            ViewColumn::Core(c) => c.spec().path.to_owned(),
            ViewColumn::Field(f) => format!("fields.{}", f.key),
            ViewColumn::Score(m) => format!("score.{}", m.key),
            ViewColumn::LastActivity => LAST_ACTIVITY.to_owned(),
        }
    }

    /// What people read in the header.
    pub fn label(&self) -> String {
        match self {
            ViewColumn::Core(CoreColumn::Kind) => "Kind".to_owned(),
            ViewColumn::Core(CoreColumn::UpdatedAt) => "Changed".to_owned(),
            ViewColumn::Core(c) => c.spec().label.to_owned(),
            ViewColumn::Field(f) => f.label.clone(),
            ViewColumn::Score(m) => m.name.clone(),
            ViewColumn::LastActivity => "Last activity".to_owned(),
        }
    }

    /// The order this column sorts by, where an index (or, for a score, the scores'
    /// primary key) serves it.
    pub fn sort_key(&self) -> Option<SortKey> {
        match self {
            ViewColumn::Core(CoreColumn::Name) => Some(SortKey::Name),
            ViewColumn::Core(CoreColumn::City) => Some(SortKey::City),
            ViewColumn::Core(CoreColumn::CreatedAt) => Some(SortKey::CreatedAt),
            ViewColumn::Core(CoreColumn::UpdatedAt) => Some(SortKey::UpdatedAt),
            ViewColumn::Score(m) => Some(SortKey::Score(m.id)),
            _ => None,
        }
    }

    /// Why the column can't be sorted by (`None` when it can).
    pub fn sort_note(&self) -> Option<&'static str> {
        match (self.sort_key(), self) {
            (Some(_), _) => None,
            (None, ViewColumn::Field(_)) => Some("no index serves an order by an extra field"),
            (None, ViewColumn::LastActivity) => Some("no index serves an order by the last activity"),
            (None, ViewColumn::Core(CoreColumn::Type | CoreColumn::Company | CoreColumn::Owner)) => {
                Some("no index serves an order by a related record's name")
            }
            (None, _) => Some("no index serves an order by this column"),
        }
    }
}

/// Every column a view may show, in picker order: the core columns, the extra fields, the
/// scoring models, the last activity.
pub fn catalogue(schema: &Schema, models: &[ModelRef]) -> Vec<ViewColumn> {
    CORE.into_iter()
        .map(ViewColumn::Core)
        .chain(schema.fields.iter().cloned().map(ViewColumn::Field))
        .chain(models.iter().cloned().map(ViewColumn::Score))
        .chain(std::iter::once(ViewColumn::LastActivity))
        .collect()
}

/// The columns named `names`, checked: every unknown or repeated name at its path
/// (`columns[2]`).
pub fn resolve(names: &[String], schema: &Schema, models: &[ModelRef]) -> Result<Vec<ViewColumn>> {
    let all = catalogue(schema, models);
    let mut problems = Problems::default();
    if names.is_empty() {
        problems.add("columns", "must name at least one column");
    }
    if names.len() > MAX_COLUMNS {
        problems.add(
            "columns",
            format!("names {}; a view shows at most {MAX_COLUMNS}", names.len()),
        );
    }
    let mut out: Vec<ViewColumn> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let path = format!("columns[{i}]");
        match all.iter().find(|c| c.name() == *name) {
            None => problems.add(path, unknown(name)),
            Some(c) if out.contains(c) => problems.add(path, format!("`{name}` is already a column")),
            Some(c) => out.push(c.clone()),
        }
    }
    problems.into_result()?;
    Ok(out)
}

fn unknown(name: &str) -> String {
    let name: String = name.chars().take(100).collect();
    if let Some(key) = name.strip_prefix("fields.") {
        format!("no extra field `{key}`")
    } else if let Some(key) = name.strip_prefix("score.") {
        format!("no scoring model `{key}`")
    } else {
        format!(
            "no column `{name}`; use a core column ({}), `fields.<key>`, `score.<model key>` or `{LAST_ACTIVITY}`",
            CORE.iter().map(|c| c.spec().path).collect::<Vec<_>>().join(", ")
        )
    }
}

/// The scoring models, as columns know them.
pub async fn models(db: &impl ConnectionTrait) -> Result<Vec<ModelRef>> {
    let rows: Vec<(i64, String, String)> = scoring_models::Entity::find()
        .select_only()
        .column(scoring_models::Column::Id)
        .column(scoring_models::Column::Key)
        .column(scoring_models::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, key, name)| ModelRef { id, key, name })
        .collect())
}

/// A cell of a view, typed so that a spreadsheet gets numbers and times as such.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    Time(DateTime<Utc>),
    /// A score and its band.
    Score(f64, String),
}

impl Cell {
    /// The cell as text (times in UTC, `2026-12-06 09:30`; a score as `72 (Medium)`).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Number(n) => number_text(*n),
            Cell::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
            Cell::Time(t) => t.format("%Y-%m-%d %H:%M").to_string(),
            Cell::Score(s, band) if band.is_empty() => number_text(*s),
            Cell::Score(s, band) => format!("{} ({band})", number_text(*s)),
        }
    }
}

/// `n` in plain decimal notation: `5` for a stored `5.0`, at most two decimals otherwise.
fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        let text = format!("{n:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// An extra field's value as a cell.
fn field_cell(kind: FieldKind, value: Option<&Value>) -> Cell {
    match value {
        None | Some(Value::Null) => Cell::Empty,
        Some(Value::Number(n)) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Some(Value::Bool(b)) => Cell::Bool(*b),
        Some(Value::String(s)) if kind == FieldKind::Datetime => crate::fields::value::parse_datetime(s)
            .map(Cell::Time)
            .unwrap_or_else(|| Cell::Text(s.clone())),
        Some(Value::String(s)) => Cell::Text(s.clone()),
        Some(Value::Array(items)) => Cell::Text(
            items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Some(v @ Value::Object(map)) => match (map.get("lat"), map.get("lon")) {
            (Some(lat), Some(lon)) => Cell::Text(format!("{lat}, {lon}")),
            _ => Cell::Text(v.to_string()),
        },
    }
}

/// What the cells of a page need besides the contacts: read once per table (or export).
#[derive(Debug, Clone)]
pub struct TableCells {
    pub columns: Vec<ViewColumn>,
    /// Type labels by key.
    types: HashMap<String, String>,
    /// Users' names by id.
    owners: HashMap<i64, String>,
}

/// What one page adds: its companies, scores and last activities.
#[derive(Debug, Default)]
pub struct PageExtras {
    companies: HashMap<i64, String>,
    /// (model id, contact id) -> (score, band).
    scores: HashMap<(i64, i64), (f64, String)>,
    last_activity: HashMap<i64, DateTime<Utc>>,
}

impl PageExtras {
    /// The band of each of the contact's scores: (model id, band).
    pub fn bands(&self, contact: i64) -> impl Iterator<Item = (i64, &str)> {
        self.scores
            .iter()
            .filter(move |((_, c), _)| *c == contact)
            .map(|((m, _), (_, band))| (*m, band.as_str()))
    }
}

impl TableCells {
    /// The cells of `columns`, with the names `reader` shows. The type labels and the
    /// owners' names are read when a column shows them or `cards` (the list and the tiles
    /// show both whatever the columns); otherwise not at all, which saves a page two
    /// queries.
    pub async fn new(columns: Vec<ViewColumn>, reader: &ContactReader, actor: &Actor, cards: bool) -> Result<Self> {
        let shows = |c: CoreColumn| cards || columns.contains(&ViewColumn::Core(c));
        let types = if shows(CoreColumn::Type) {
            reader
                .schema
                .type_tree()
                .await?
                .all()
                .iter()
                .map(|t| (t.key.clone(), t.label.clone()))
                .collect()
        } else {
            HashMap::new()
        };
        let owners = if shows(CoreColumn::Owner) {
            reader.people(actor).await?.into_iter().collect()
        } else {
            HashMap::new()
        };
        Ok(TableCells { columns, types, owners })
    }

    /// Reads what the cells of `page` need beyond the contacts themselves: the names of
    /// their companies `actor` sees, and (when a column shows them) their scores and last
    /// activities. `all_scores` reads every model's score whatever the columns (the
    /// tiles show each contact's bands).
    pub async fn extras(
        &self,
        reader: &ContactReader,
        actor: &Actor,
        page: &[Contact],
        all_scores: bool,
    ) -> Result<PageExtras> {
        let db = &reader.base.db;
        let ids: Vec<i64> = page.iter().map(|c| c.id).collect();
        let mut extras = PageExtras::default();
        if ids.is_empty() {
            return Ok(extras);
        }
        if all_scores
            || self
                .columns
                .iter()
                .any(|c| matches!(c, ViewColumn::Core(CoreColumn::Company)))
        {
            let company_ids: Vec<i64> = page.iter().filter_map(|c| c.company_id).collect();
            extras.companies = reader.contact_names(actor, &company_ids).await?;
        }
        let models: Vec<i64> = self
            .columns
            .iter()
            .filter_map(|c| match c {
                ViewColumn::Score(m) => Some(m.id),
                _ => None,
            })
            .collect();
        if all_scores || !models.is_empty() {
            let mut select = contact_scores::Entity::find()
                .select_only()
                .column(contact_scores::Column::ModelId)
                .column(contact_scores::Column::ContactId)
                .column(contact_scores::Column::Score)
                .column(contact_scores::Column::Band)
                .filter(contact_scores::Column::ContactId.is_in(ids.clone()));
            if !all_scores {
                select = select.filter(contact_scores::Column::ModelId.is_in(models));
            }
            let rows: Vec<(i64, i64, f64, String)> = select.into_tuple().all(db).await?;
            extras.scores = rows.into_iter().map(|(m, c, s, b)| ((m, c), (s, b))).collect();
        }
        if self.columns.contains(&ViewColumn::LastActivity) {
            let rows: Vec<(i64, DateTime<Utc>)> = activities::Entity::find()
                .select_only()
                .column(activities::Column::ContactId)
                .expr(Func::max(Expr::col(activities::Column::OccurredAt)))
                .filter(activities::Column::ContactId.is_in(ids))
                .group_by(activities::Column::ContactId)
                .into_tuple()
                .all(db)
                .await?;
            extras.last_activity = rows.into_iter().collect();
        }
        Ok(extras)
    }

    /// The cells of contact `c`, one per column.
    pub fn row(&self, c: &Contact, extras: &PageExtras) -> Vec<Cell> {
        self.columns.iter().map(|column| self.cell(column, c, extras)).collect()
    }

    /// The type's label of contact `c` (its key when the type has no label).
    pub fn type_label(&self, c: &Contact) -> String {
        self.types
            .get(&c.type_key)
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| c.type_key.clone())
    }

    /// The owner's name of contact `c` (empty for none).
    pub fn owner(&self, c: &Contact) -> String {
        c.owner_id
            .and_then(|id| self.owners.get(&id).cloned())
            .unwrap_or_default()
    }

    /// The company's name of contact `c` (empty for none or one out of sight).
    pub fn company(&self, c: &Contact, extras: &PageExtras) -> String {
        c.company_id
            .and_then(|id| extras.companies.get(&id).cloned())
            .unwrap_or_default()
    }

    fn cell(&self, column: &ViewColumn, c: &Contact, extras: &PageExtras) -> Cell {
        let text = |t: String| if t.is_empty() { Cell::Empty } else { Cell::Text(t) };
        match column {
            ViewColumn::Core(CoreColumn::Type) => text(self.type_label(c)),
            ViewColumn::Core(CoreColumn::Company) => text(self.company(c, extras)),
            ViewColumn::Core(CoreColumn::Owner) => text(self.owner(c)),
            ViewColumn::Core(CoreColumn::CreatedAt) => Cell::Time(c.created_at),
            ViewColumn::Core(CoreColumn::UpdatedAt) => Cell::Time(c.updated_at),
            ViewColumn::Core(CoreColumn::Kind) => Cell::Text(c.kind.as_str().to_owned()),
            ViewColumn::Core(column) => match c.draft().value(*column) {
                Value::Null => Cell::Empty,
                Value::String(s) => text(s),
                Value::Bool(b) => Cell::Bool(b),
                Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
                other => Cell::Text(other.to_string()),
            },
            ViewColumn::Field(f) => field_cell(f.kind, c.fields.get(&f.key)),
            ViewColumn::Score(m) => extras
                .scores
                .get(&(m.id, c.id))
                .map_or(Cell::Empty, |(s, band)| Cell::Score(*s, band.clone())),
            ViewColumn::LastActivity => extras.last_activity.get(&c.id).map_or(Cell::Empty, |t| Cell::Time(*t)),
        }
    }
}

/// The error for a column list that is not a list of names.
pub fn not_a_list() -> Error {
    Error::invalid("columns", "must be a list of column names, like [\"name\", \"email\"]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact_types::TypeTree;

    fn schema() -> Schema {
        Schema {
            fields: vec![FieldDef {
                key: "nps".into(),
                label: "NPS".into(),
                kind: FieldKind::Integer,
                options: vec![],
                required: false,
                searchable: false,
                applies_to: vec![],
                position: 0,
            }],
            types: TypeTree::from_rows(vec![]),
        }
    }

    #[test]
    fn names_resolve_with_every_problem_at_its_path() {
        let models = [ModelRef {
            id: 7,
            key: "fit".into(),
            name: "Fit".into(),
        }];
        let names: Vec<String> = ["name", "fields.nps", "score.fit", "last_activity", "owner"]
            .map(str::to_owned)
            .to_vec();
        let columns = resolve(&names, &schema(), &models).unwrap();
        assert_eq!(columns.iter().map(ViewColumn::name).collect::<Vec<_>>(), names);
        assert_eq!(columns[2].sort_key(), Some(SortKey::Score(7)));
        assert!(columns[1].sort_note().is_some());
        let bad: Vec<String> = ["name", "fields.ghost", "name", "score", "score.nope"]
            .map(str::to_owned)
            .to_vec();
        let problems = resolve(&bad, &schema(), &models).unwrap_err().problems();
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["columns[1]", "columns[2]", "columns[3]", "columns[4]"]);
    }

    #[test]
    fn numbers_read_plainly() {
        assert_eq!(Cell::Number(5.0).text(), "5");
        assert_eq!(Cell::Number(2.5).text(), "2.5");
        assert_eq!(Cell::Score(72.456, "Medium".into()).text(), "72.46 (Medium)");
    }
}
