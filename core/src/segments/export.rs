//! The CSV export of a segment's members.
//!
//! One row per member the reader sees (the visibility condition is part of the query),
//! in contact id order, with a header:
//! `id, kind, type, name, email, phone, position, company, city, region, country,
//! postal_code, owner, joined_at`, then `fields.<key>` for every extra field in display
//! order. `type` is the type's label (what people see; the key when a type has none),
//! `company` the company's name when the reader sees the
//! company, `owner` the owner's e-mail, `joined_at` RFC 3339 in UTC. Multi-select values
//! are joined with `"; "`, a geo value is `lat, lon`.
//!
//! The file starts with a UTF-8 byte order mark, is quoted as RFC 4180, and every text cell
//! is neutralised against formula injection: see [`crate::sheet`], which the export of a
//! view shares.
//!
//! The file is made a chunk at a time ([`SegmentCsv::next_chunk`]): a keyset walk over
//! `segment_members` by contact id, [`EXPORT_CHUNK`] rows per query, each chunk written and
//! handed over before the next is read, so a million members never sit in memory at once
//! and the walk is an index range scan, not a growing `OFFSET`.
//!
//! Numbers and booleans of extra fields are written as they are: their text can't start a
//! formula that does anything (`-5` stays a number).

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::sea_query::JoinType;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, RelationDef};
use serde_json::Value;

use super::Segments;
use crate::Result;
use crate::auth::Actor;
use crate::contacts::visibility::{self, Access};
use crate::contacts::{Contact, CoreColumn, to_contact};
use crate::entities::{contact_types, contacts, segment_members};
use crate::fields::FieldDef;
use crate::sheet::{BOM, cell, file_slug, write};

/// How many members one query of the export reads.
pub const EXPORT_CHUNK: u64 = 1_000;

/// The columns every export starts with: the id, the contacts' exported core columns
/// ([`CoreColumn::EXPORTED`], by their paths: the company's name, the owner, the type's
/// label), the time the contact joined.
pub fn columns() -> Vec<&'static str> {
    let mut out = vec!["id"];
    out.extend(CoreColumn::EXPORTED.iter().map(|c| c.spec().path));
    out.push("joined_at");
    out
}

/// An extra field's value as a cell.
fn field_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        // Plain decimal notation, `-5` for a stored `-5.0`: what spreadsheets read as numbers.
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) => f.to_string(),
            (None, None) => n.to_string(),
        },
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::String(s)) => cell(s),
        Some(Value::Array(items)) => cell(
            &items
                .iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Some(v @ Value::Object(map)) => match (map.get("lat"), map.get("lon")) {
            (Some(lat), Some(lon)) => cell(&format!("{lat}, {lon}")),
            _ => cell(&v.to_string()),
        },
    }
}

/// Where an export is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    /// Rows after this contact id.
    After(i64),
    Done,
}

/// The CSV export of the members of one segment that one reader sees, made a chunk at a
/// time; from [`Segments::export_segment_csv`].
#[derive(Debug)]
pub struct SegmentCsv {
    segments: Segments,
    actor: Actor,
    segment: i64,
    name: String,
    fields: Vec<FieldDef>,
    owners: HashMap<i64, String>,
    /// Type labels by key.
    types: HashMap<String, String>,
    stage: Stage,
}

impl Segments {
    /// Starts the CSV export of segment `id` for `actor` (`NotFound` when there is no such
    /// segment). Nothing of the members is read until [`SegmentCsv::next_chunk`].
    pub async fn export_segment_csv(&self, actor: &Actor, id: i64) -> Result<SegmentCsv> {
        let segment = self.segment_row(id).await?;
        let fields = self.schema.list_fields().await?;
        let owners = self
            .users
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect();
        let types = contact_types::Entity::find()
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(|t| (t.key, t.label))
            .collect();
        Ok(SegmentCsv {
            segments: self.clone(),
            actor: actor.clone(),
            segment: id,
            name: segment.name,
            fields,
            owners,
            types,
            stage: Stage::Header,
        })
    }
}

impl SegmentCsv {
    /// The segment's name.
    pub fn segment_name(&self) -> &str {
        &self.name
    }

    /// A file name for the export: `<slug of the name>.csv`, ASCII only.
    pub fn file_name(&self) -> String {
        format!("{}.csv", file_slug(&self.name, &format!("segment-{}", self.segment)))
    }

    /// The next piece of the file: the byte order mark and the header line first, then up to [`EXPORT_CHUNK`]
    /// rows at a time; `None` once everything was handed out.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        let after = match self.stage {
            Stage::Done => return Ok(None),
            Stage::Header => {
                let mut header: Vec<String> = columns().into_iter().map(str::to_owned).collect();
                header.extend(self.fields.iter().map(|f| format!("fields.{}", f.key)));
                self.stage = Stage::After(i64::MIN);
                let mut bytes = BOM.as_bytes().to_vec();
                bytes.extend(write(std::iter::once(header))?);
                return Ok(Some(bytes));
            }
            Stage::After(after) => after,
        };
        let page = self.members_after(after).await?;
        let Some(&(last, _)) = page.last() else {
            self.stage = Stage::Done;
            return Ok(None);
        };
        self.stage = if (page.len() as u64) < EXPORT_CHUNK {
            Stage::Done
        } else {
            Stage::After(last)
        };
        let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
        let mut by_id: HashMap<i64, Contact> = contacts::Entity::find()
            .find_also_related(contact_types::Entity)
            .filter(contacts::Column::Id.is_in(ids))
            .all(&self.segments.base.db)
            .await?
            .into_iter()
            .map(|row| to_contact(row).map(|c| (c.id, c)))
            .collect::<Result<_>>()?;
        let company_ids: Vec<i64> = by_id.values().filter_map(|c| c.company_id).collect();
        let companies = self.segments.contacts.contact_names(&self.actor, &company_ids).await?;
        let rows = page.into_iter().filter_map(|(id, joined_at)| {
            let contact = by_id.remove(&id)?;
            Some(self.row(&contact, &companies, joined_at))
        });
        write(rows).map(Some)
    }

    /// (contact id, joined at) of the next members `actor` sees, after contact `after`.
    async fn members_after(&self, after: i64) -> Result<Vec<(i64, DateTime<Utc>)>> {
        use segment_members::Column as M;
        let join: RelationDef = segment_members::Entity::belongs_to(contacts::Entity)
            .from(M::ContactId)
            .to(contacts::Column::Id)
            .into();
        Ok(segment_members::Entity::find()
            .select_only()
            .column(M::ContactId)
            .column(M::JoinedAt)
            .join(JoinType::InnerJoin, join)
            .filter(M::SegmentId.eq(self.segment))
            .filter(M::ContactId.gt(after))
            .filter(visibility::condition(&self.actor, Access::Read))
            .order_by_asc(M::ContactId)
            .limit(EXPORT_CHUNK)
            .into_tuple()
            .all(&self.segments.base.db)
            .await?)
    }

    fn row(&self, c: &Contact, companies: &HashMap<i64, String>, joined_at: DateTime<Utc>) -> Vec<String> {
        let draft = c.draft();
        let mut row = vec![c.id.to_string()];
        row.extend(CoreColumn::EXPORTED.iter().map(|column| {
            match column {
                CoreColumn::Type => cell(
                    self.types
                        .get(&c.type_key)
                        .filter(|label| !label.trim().is_empty())
                        .unwrap_or(&c.type_key),
                ),
                CoreColumn::Company => c
                    .company_id
                    .and_then(|id| companies.get(&id))
                    .map(|n| cell(n))
                    .unwrap_or_default(),
                CoreColumn::Owner => c
                    .owner_id
                    .and_then(|id| self.owners.get(&id))
                    .map(|e| cell(e))
                    .unwrap_or_default(),
                other => match draft.value(*other) {
                    Value::String(text) => cell(&text),
                    Value::Null => String::new(),
                    value => value.to_string(),
                },
            }
        }));
        row.push(joined_at.to_rfc3339_opts(SecondsFormat::Secs, true));
        row.extend(self.fields.iter().map(|f| field_cell(c.fields.get(&f.key))));
        row
    }
}
