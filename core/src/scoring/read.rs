//! Reading contacts to score: the columns a model's parameters read, and no others.
//!
//! A contact's row is wide: besides what a user typed it holds the folded copies of every
//! text column, the folded extra fields (JSON), the search document and the sort keys,
//! kept for filters and sorts. Scoring reads a handful of them, but reading whole rows
//! (as `Contact`s) decoded and parsed all of them, and that was most of a rescore's time
//! on SQLite (BENCHMARKS.md "Scoring"). A [`Reads`] names what a model's parameters use
//! (columns, the type, the company's name, the owner, the extra fields), and
//! [`read_records`] selects those columns only, into records whose other properties are
//! left empty, which nothing under these parameters reads.
//!
//! Alternatives considered: pushing the values into the criteria straight from SQL
//! (`json_extract` of one extra field per parameter), faster still, but each database
//! spells it differently and the values would no longer be the filter catalogue's
//! ([`crate::filter::run::batch_of`]), which the filters and the segments also read.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use serde_json::{Map, Value as Json};

use super::model::{Checked, ModelKind, ValueSource};
use crate::Result;
use crate::contacts::{Contact, ContactKind, CoreColumn};
use crate::entities::{contact_types, contacts};
use crate::filter::Catalog;
use crate::filter::catalog::Source;
use crate::filter::memory::Record;

/// What the parameters of one or more models read of a contact (its id, kind and name
/// are always read).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Reads {
    columns: Vec<CoreColumn>,
    type_key: bool,
    company: bool,
    fields: bool,
}

impl Reads {
    /// What `model`'s enabled parameters read, as `catalog` describes their fields.
    pub fn of(model: &Checked, catalog: &Catalog) -> Reads {
        let mut reads = Reads::default();
        for p in model.parameters.iter().filter(|p| p.enabled) {
            let ValueSource::Field { field } = &p.source else {
                continue;
            };
            let Some(spec) = catalog.field(field) else { continue };
            match &spec.source {
                Source::Column(c) => reads.column(*c),
                Source::Type => reads.type_key = true,
                Source::Company => {
                    reads.company = true;
                    reads.column(CoreColumn::Company);
                }
                Source::Owner => reads.column(CoreColumn::Owner),
                Source::Extra { .. } => reads.fields = true,
                Source::Location => {
                    for c in [
                        CoreColumn::Latitude,
                        CoreColumn::Longitude,
                        CoreColumn::City,
                        CoreColumn::Region,
                        CoreColumn::Country,
                    ] {
                        reads.column(c);
                    }
                }
                // Read by the scorer itself (activities) or not a source of parameters.
                Source::Activity(_) | Source::Segment | Source::Score { .. } => {}
            }
        }
        reads
    }

    /// What either reads.
    pub fn union(mut self, other: &Reads) -> Reads {
        for c in &other.columns {
            self.column(*c);
        }
        self.type_key |= other.type_key;
        self.company |= other.company;
        self.fields |= other.fields;
        self
    }

    fn column(&mut self, c: CoreColumn) {
        if !matches!(c, CoreColumn::Name | CoreColumn::Kind) && !self.columns.contains(&c) {
            self.columns.push(c);
        }
    }
}

/// Which contacts to read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which<'a> {
    /// Of a kind, ids in `(after, last]`.
    Range { kind: ModelKind, after: i64, last: i64 },
    /// Of a kind, the first `limit` with ids after `after`.
    After { kind: ModelKind, after: i64, limit: u64 },
    /// These (at most a few hundred).
    Ids(&'a [i64]),
}

/// The table's column of a core column.
fn storage(c: CoreColumn) -> contacts::Column {
    use contacts::Column as C;
    match c {
        CoreColumn::Name => C::Name,
        CoreColumn::Email => C::Email,
        CoreColumn::Phone => C::Phone,
        CoreColumn::Position => C::Position,
        CoreColumn::Street => C::Street,
        CoreColumn::City => C::City,
        CoreColumn::Region => C::Region,
        CoreColumn::Country => C::Country,
        CoreColumn::PostalCode => C::PostalCode,
        CoreColumn::Kind => C::Kind,
        CoreColumn::DoNotContact => C::DoNotContact,
        CoreColumn::CreatedAt => C::CreatedAt,
        CoreColumn::UpdatedAt => C::UpdatedAt,
        CoreColumn::Score => C::Score,
        CoreColumn::ScoreBand => C::ScoreBand,
        CoreColumn::Type => C::TypeId,
        CoreColumn::Company => C::CompanyId,
        CoreColumn::Owner => C::OwnerId,
        CoreColumn::Latitude => C::Latitude,
        CoreColumn::Longitude => C::Longitude,
    }
}

/// The contacts `which` names, in id order, with what `reads` says filled in.
pub(crate) async fn read_records(db: &impl ConnectionTrait, reads: &Reads, which: Which<'_>) -> Result<Vec<Record>> {
    use contacts::Column as C;
    let mut q = contacts::Entity::find()
        .select_only()
        .column(C::Id)
        .column(C::Kind)
        .column(C::Name)
        .order_by_asc(C::Id);
    for c in &reads.columns {
        q = q.column(storage(*c));
    }
    if reads.type_key {
        q = q.column(C::TypeId);
    }
    if reads.fields {
        q = q.column(C::Fields);
    }
    q = match which {
        Which::Range { kind, after, last } => q
            .filter(C::Kind.eq(kind.as_str()))
            .filter(C::Id.gt(after))
            .filter(C::Id.lte(last)),
        Which::After { kind, after, limit } => q.filter(C::Kind.eq(kind.as_str())).filter(C::Id.gt(after)).limit(limit),
        Which::Ids(ids) => q.filter(C::Id.is_in(ids.iter().copied())),
    };
    let rows = db.query_all(&q.into_query()).await?;
    let types: HashMap<i64, String> = if reads.type_key {
        contact_types::Entity::find()
            .select_only()
            .column(contact_types::Column::Id)
            .column(contact_types::Column::Key)
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    let has = |c: CoreColumn| reads.columns.contains(&c);
    let text = |row, c| read::<String>(row, has(c), c);
    let number = |row, c| read::<f64>(row, has(c), c);
    let integer = |row, c| read::<i64>(row, has(c), c);
    let time =
        |row, c| Ok::<_, crate::Error>(read::<DateTime<Utc>>(row, has(c), c)?.unwrap_or(DateTime::<Utc>::UNIX_EPOCH));
    let mut found = Vec::with_capacity(rows.len());
    for row in &rows {
        let fields = if reads.fields {
            match row.try_get::<Json>("", "fields")? {
                Json::Object(map) => map,
                _ => Map::new(),
            }
        } else {
            Map::new()
        };
        found.push(Contact {
            id: row.try_get("", "id")?,
            kind: ContactKind::parse(&row.try_get::<String>("", "kind")?)?,
            type_key: if reads.type_key {
                let id: i64 = row.try_get("", "type_id")?;
                types.get(&id).cloned().unwrap_or_default()
            } else {
                String::new()
            },
            name: row.try_get("", "name")?,
            email: text(row, CoreColumn::Email)?,
            phone: text(row, CoreColumn::Phone)?,
            position: text(row, CoreColumn::Position)?,
            company_id: integer(row, CoreColumn::Company)?,
            street: text(row, CoreColumn::Street)?,
            city: text(row, CoreColumn::City)?,
            region: text(row, CoreColumn::Region)?,
            country: text(row, CoreColumn::Country)?,
            postal_code: text(row, CoreColumn::PostalCode)?,
            latitude: number(row, CoreColumn::Latitude)?,
            longitude: number(row, CoreColumn::Longitude)?,
            owner_id: integer(row, CoreColumn::Owner)?,
            do_not_contact: if has(CoreColumn::DoNotContact) {
                row.try_get("", "do_not_contact")?
            } else {
                false
            },
            score: number(row, CoreColumn::Score)?,
            score_band: text(row, CoreColumn::ScoreBand)?,
            fields,
            version: 0,
            created_at: time(row, CoreColumn::CreatedAt)?,
            updated_at: time(row, CoreColumn::UpdatedAt)?,
        });
    }
    if reads.company {
        crate::filter::run::records_for_values(db, found).await
    } else {
        Ok(found
            .into_iter()
            .map(|contact| Record {
                contact,
                company_name: None,
                activities: Vec::new(),
                segments: Vec::new(),
                scores: Vec::new(),
            })
            .collect())
    }
}

/// Column `c` of `row` when it was read, else `None`.
fn read<T: sea_orm::TryGetable>(row: &sea_orm::QueryResult, read: bool, c: CoreColumn) -> Result<Option<T>> {
    Ok(if read {
        row.try_get::<Option<T>>("", name(c))?
    } else {
        None
    })
}

/// The column's name in the table.
fn name(c: CoreColumn) -> &'static str {
    sea_orm::IdenStatic::as_str(&storage(c))
}
