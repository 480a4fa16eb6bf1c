//! The derived columns of a contact: folded text, the words of global search, and the
//! collation keys of the sortable text columns.
//!
//! # What is stored
//!
//! Next to each core text column `c` (name, email, phone, position, street, city, region,
//! country, postal_code) the row keeps `c_folded`, [`fold`] of its value (NULL when the
//! value is NULL). `fields_folded` holds `{"<key>": "<folded>"}` for every extra field whose
//! kind [holds text](FieldKind::holds_text) (text, long_text, email, phone, url).
//! `search_doc` holds the [`search_words`] of the nine core text columns and of every
//! *searchable* extra field's value (a string, each item of a list, a number's digits;
//! booleans and points have no words), joined by single spaces, at most
//! [`MAX_SEARCH_DOC`] bytes. SQLite indexes `search_doc` with FTS5, PostgreSQL with a GIN
//! index on `to_tsvector('simple', search_doc)` (migration `m20261123_000010`; queries in
//! [`super::search`]).
//!
//! `name_sort` and `city_sort` hold the [`sort_key`] of the name and of the city
//! ([`ABSENT`](crate::collation::ABSENT) for no city): the contacts table orders by them
//! (see [`crate::collation`]).
//!
//! A filter on a text path compares folded with folded: `name` reads
//! `contacts.name_folded`, `fields.<key>` reads `fields_folded` at `<key>`
//! (`json_extract(fields_folded, '$."key"')` on SQLite, `fields_folded ->> 'key'` on
//! PostgreSQL), and the value it looks for goes through [`fold`] first.
//!
//! # How it is kept in step
//!
//! [`Derived::compute`] is the one function that makes every derived column from the core
//! columns, the `fields` JSON and the field definitions ([`FoldSchema`]). Every write of
//! `contacts` goes through it:
//!
//! - creating and changing a contact, and converting or dropping stored values when a
//!   field's kind or options change or it is removed with its values: all through the
//!   one writer of contacts ([`super::write::ContactWrite`]);
//! - a field whose kind or `searchable` flag changes: [`recompute`] rewrites the derived
//!   columns of every contact that holds a value of that field, in keyset batches of
//!   [`RECOMPUTE_BATCH`] by id, inside the same transaction as the definition change, so
//!   the search never sees the new definition with the old words. Only rows whose
//!   derived columns change are written, one `UPDATE ... FROM (VALUES ...)` per batch.
//!   The admin's request waits for it, and contact writes wait for the lock meanwhile:
//!   on the 100,000-contact demo base (SQLite, debug build, a busy 2-core machine)
//!   making `linkedin` searchable rewrote its 31,000 holders in 6 to 9 s, and toggling
//!   `newsletter` (66,000 holders, booleans have no words, nothing to write) took 8 to
//!   10 s of reading and recomputing. Version and `updated_at` are left alone: the
//!   contact did not change, its index did;
//! - the demo loader and so the benchmarks, whose multi-row `INSERT`s carry [`COLUMNS`];
//! - rows that exist when the columns are added: [`backfill`], run by `db::migrate`
//!   after the migrations. It is also the safety net for a row written by anything else
//!   (its `name_folded` is NULL; the partial index `contacts_unfolded` finds such rows
//!   without a scan; a row without `name_sort`, from before the collation keys, is found
//!   through the `(name_sort, id)` index, which holds NULLs too).
//!
//! Writes that don't touch a folded source column (a version bump, a company unlinked, a
//! type moved) leave the derived columns alone.
//!
//! Definitions and values must be read consistently: a contact written with the old
//! definitions after the recompute has passed it would keep the old words. So a field
//! change and a contact write serialize on one lock, taken first thing in their
//! transactions ([`super::write::begin_contact_write`], [`super::write::begin_schema_change`]): on PostgreSQL a
//! transaction-scoped advisory lock, shared by contact writes and exclusive for field
//! changes (several servers share the database, so an in-process lock would not do); on
//! SQLite `BEGIN IMMEDIATE`, which makes every writer wait for the one before it. The
//! definitions used for the derived columns are read inside that transaction.
//!
//! # Alternatives rejected
//!
//! - **Folding in SQL** (a stored generated column, an expression index): SQLite has no
//!   `unaccent` and its `lower()` folds ASCII only; PostgreSQL's `unaccent` is an
//!   extension that may be missing, is not immutable (so not indexable without a
//!   wrapper) and folds differently from anything SQLite could do. The two databases
//!   would disagree on "lodz" = "Łódź". A user-defined SQLite function would have to be
//!   registered on every connection and would make the file unreadable by any other tool.
//! - **Folding at query time** (`WHERE fold(name) LIKE ...` over all rows, or in Rust after
//!   reading them): no index can serve it, so every search reads the whole table.
//! - **A separate table of folded values**: one more write and one more join per contact,
//!   for nothing the columns don't give.

pub use super::recompute::backfill;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect, Set};
use serde_json::{Map, Value};

use crate::collation::{sort_key, sort_key_or_absent};
use crate::entities::{contacts, field_defs};
use crate::fields::{FieldDef, FieldKind};
use crate::text::{fold, words_of_folded};
use crate::{Error, Result};

/// The derived columns, in the order of [`Derived::into_values`].
pub const COLUMNS: [&str; 13] = [
    "name_folded",
    "email_folded",
    "phone_folded",
    "position_folded",
    "street_folded",
    "city_folded",
    "region_folded",
    "country_folded",
    "postal_code_folded",
    "fields_folded",
    "search_doc",
    "name_sort",
    "city_sort",
];

/// The most bytes of `search_doc`; words past it are not indexed. Far above any real
/// contact, it keeps PostgreSQL's `tsvector` (1 MB at most) from refusing a row that
/// has several long searchable texts.
pub const MAX_SEARCH_DOC: usize = 200_000;

/// Contacts read and rewritten per step of [`recompute`].
pub const RECOMPUTE_BATCH: u64 = 500;

/// What the derived columns need to know of an extra field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoldField {
    pub kind: FieldKind,
    pub searchable: bool,
}

/// The field definitions as far as the derived columns are concerned, by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoldSchema {
    fields: BTreeMap<String, FoldField>,
}

impl FoldSchema {
    /// The part of `defs` the derived columns use.
    pub fn from_defs(defs: &[FieldDef]) -> Self {
        FoldSchema {
            fields: defs
                .iter()
                .map(|d| {
                    (
                        d.key.clone(),
                        FoldField {
                            kind: d.kind,
                            searchable: d.searchable,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Reads the definitions through `db` (inside a write transaction, see the module
    /// documentation).
    pub async fn read(db: &impl ConnectionTrait) -> Result<Self> {
        let rows: Vec<(String, String, bool)> = field_defs::Entity::find()
            .select_only()
            .column(field_defs::Column::Key)
            .column(field_defs::Column::Kind)
            .column(field_defs::Column::Searchable)
            .into_tuple()
            .all(db)
            .await?;
        let mut fields = BTreeMap::new();
        for (key, kind, searchable) in rows {
            let kind = FieldKind::parse_field(&kind)
                .ok_or_else(|| Error::Internal(format!("field `{key}` has unknown kind `{kind}`")))?;
            fields.insert(key, FoldField { kind, searchable });
        }
        Ok(FoldSchema { fields })
    }

    /// The definition of `key`, if there is one.
    pub fn get(&self, key: &str) -> Option<FoldField> {
        self.fields.get(key).copied()
    }
}

/// The columns the derived ones are made from.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub position: Option<&'a str>,
    pub street: Option<&'a str>,
    pub city: Option<&'a str>,
    pub region: Option<&'a str>,
    pub country: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    /// The extra-field values, as stored in `contacts.fields`.
    pub fields: &'a Map<String, Value>,
}

static NO_FIELDS: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

impl<'a> Source<'a> {
    /// The source columns of a stored row.
    pub fn of_model(m: &'a contacts::Model) -> Self {
        Source {
            name: &m.name,
            email: m.email.as_deref(),
            phone: m.phone.as_deref(),
            position: m.position.as_deref(),
            street: m.street.as_deref(),
            city: m.city.as_deref(),
            region: m.region.as_deref(),
            country: m.country.as_deref(),
            postal_code: m.postal_code.as_deref(),
            fields: m.fields.as_object().unwrap_or(&NO_FIELDS),
        }
    }

    /// The source columns of a checked draft.
    pub fn of_draft(d: &'a super::ContactDraft) -> Self {
        Source {
            name: &d.name,
            email: d.email.as_deref(),
            phone: d.phone.as_deref(),
            position: d.position.as_deref(),
            street: d.street.as_deref(),
            city: d.city.as_deref(),
            region: d.region.as_deref(),
            country: d.country.as_deref(),
            postal_code: d.postal_code.as_deref(),
            fields: &d.fields,
        }
    }
}

/// Every derived column of one contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    pub name_folded: Option<String>,
    pub email_folded: Option<String>,
    pub phone_folded: Option<String>,
    pub position_folded: Option<String>,
    pub street_folded: Option<String>,
    pub city_folded: Option<String>,
    pub region_folded: Option<String>,
    pub country_folded: Option<String>,
    pub postal_code_folded: Option<String>,
    /// `{"<key>": "<folded>"}` for the text extra fields.
    pub fields_folded: Map<String, Value>,
    /// The words of global search.
    pub search_doc: String,
    /// The collation key of the name.
    pub name_sort: Vec<u8>,
    /// The collation key of the city ([`crate::collation::ABSENT`] for none).
    pub city_sort: Vec<u8>,
}

/// `search_doc` being built: words appended until [`MAX_SEARCH_DOC`].
struct Doc(String);

impl Doc {
    /// Appends the words of `text`.
    fn add(&mut self, text: &str) {
        self.add_folded(&fold(text));
    }

    /// Appends the words of text that is folded already.
    fn add_folded(&mut self, folded: &str) {
        let words = words_of_folded(folded);
        for word in words.split(' ').filter(|w| !w.is_empty()) {
            let sep = usize::from(!self.0.is_empty());
            if self.0.len() + sep + word.len() > MAX_SEARCH_DOC {
                return;
            }
            if sep == 1 {
                self.0.push(' ');
            }
            self.0.push_str(word);
        }
    }
}

impl Derived {
    /// The derived columns of `src` under the definitions `schema`. Values of keys
    /// `schema` doesn't define are ignored.
    pub fn compute(src: &Source<'_>, schema: &FoldSchema) -> Self {
        let folded = |v: Option<&str>| v.map(fold);
        let name_folded = fold(src.name);
        let email_folded = folded(src.email);
        let phone_folded = folded(src.phone);
        let position_folded = folded(src.position);
        let street_folded = folded(src.street);
        let city_folded = folded(src.city);
        let region_folded = folded(src.region);
        let country_folded = folded(src.country);
        let postal_code_folded = folded(src.postal_code);
        let mut doc = Doc(String::new());
        doc.add_folded(&name_folded);
        for text in [
            &email_folded,
            &phone_folded,
            &position_folded,
            &street_folded,
            &city_folded,
            &region_folded,
            &country_folded,
            &postal_code_folded,
        ]
        .into_iter()
        .flatten()
        {
            doc.add_folded(text);
        }
        let mut fields_folded = Map::new();
        // Key order, whatever order the map keeps: the same values give the same words.
        let mut entries: Vec<(&String, &Value)> = src.fields.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        for (key, value) in entries {
            let Some(def) = schema.get(key) else { continue };
            if def.kind.holds_text()
                && let Some(text) = value.as_str()
            {
                fields_folded.insert(key.clone(), Value::String(fold(text)));
            }
            if def.searchable {
                match value {
                    Value::String(s) => doc.add(s),
                    Value::Number(n) => doc.add(&n.to_string()),
                    Value::Array(items) => {
                        for item in items {
                            match item {
                                Value::String(s) => doc.add(s),
                                Value::Number(n) => doc.add(&n.to_string()),
                                _ => {}
                            }
                        }
                    }
                    Value::Null | Value::Bool(_) | Value::Object(_) => {}
                }
            }
        }
        Derived {
            name_folded: Some(name_folded),
            email_folded,
            phone_folded,
            position_folded,
            street_folded,
            city_folded,
            region_folded,
            country_folded,
            postal_code_folded,
            fields_folded,
            search_doc: doc.0,
            name_sort: sort_key(src.name),
            city_sort: sort_key_or_absent(src.city),
        }
    }

    /// The derived columns as `m` stores them now.
    pub fn stored(m: &contacts::Model) -> Self {
        Derived {
            name_folded: m.name_folded.clone(),
            email_folded: m.email_folded.clone(),
            phone_folded: m.phone_folded.clone(),
            position_folded: m.position_folded.clone(),
            street_folded: m.street_folded.clone(),
            city_folded: m.city_folded.clone(),
            region_folded: m.region_folded.clone(),
            country_folded: m.country_folded.clone(),
            postal_code_folded: m.postal_code_folded.clone(),
            fields_folded: m.fields_folded.as_object().cloned().unwrap_or_default(),
            search_doc: m.search_doc.clone(),
            name_sort: m.name_sort.clone().unwrap_or_default(),
            city_sort: m.city_sort.clone().unwrap_or_default(),
        }
    }

    /// Sets the derived columns of `row`.
    pub fn set_on(self, row: &mut contacts::ActiveModel) {
        row.name_folded = Set(self.name_folded);
        row.email_folded = Set(self.email_folded);
        row.phone_folded = Set(self.phone_folded);
        row.position_folded = Set(self.position_folded);
        row.street_folded = Set(self.street_folded);
        row.city_folded = Set(self.city_folded);
        row.region_folded = Set(self.region_folded);
        row.country_folded = Set(self.country_folded);
        row.postal_code_folded = Set(self.postal_code_folded);
        row.fields_folded = Set(Value::Object(self.fields_folded));
        row.search_doc = Set(self.search_doc);
        row.name_sort = Set(Some(self.name_sort));
        row.city_sort = Set(Some(self.city_sort));
    }

    /// The values of [`COLUMNS`], in that order, for a hand-built `INSERT`.
    pub fn into_values(self) -> [sea_orm::Value; 13] {
        use sea_orm::Value as V;
        [
            V::String(self.name_folded),
            V::String(self.email_folded),
            V::String(self.phone_folded),
            V::String(self.position_folded),
            V::String(self.street_folded),
            V::String(self.city_folded),
            V::String(self.region_folded),
            V::String(self.country_folded),
            V::String(self.postal_code_folded),
            V::Json(Some(Box::new(Value::Object(self.fields_folded)))),
            V::String(Some(self.search_doc)),
            V::Bytes(Some(self.name_sort)),
            V::Bytes(Some(self.city_sort)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> FoldSchema {
        let field = |kind, searchable| FoldField { kind, searchable };
        FoldSchema {
            fields: [
                ("nickname".to_owned(), field(FieldKind::Text, true)),
                ("notes".to_owned(), field(FieldKind::LongText, false)),
                ("industry".to_owned(), field(FieldKind::Select, true)),
                ("tags".to_owned(), field(FieldKind::Multiselect, true)),
                ("employees".to_owned(), field(FieldKind::Integer, true)),
                ("newsletter".to_owned(), field(FieldKind::Boolean, true)),
            ]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn computes_every_derived_column() {
        let fields = json!({
            "nickname": "Świętek", "notes": "Spotkanie w Łodzi", "industry": "Retail",
            "tags": ["CRM", "Cloud"], "employees": 120, "newsletter": true, "gone": "Zombie"
        });
        let src = Source {
            name: "Jan Kowalski",
            email: Some("jan.kowalski@example.com"),
            phone: None,
            position: Some("Dyrektor"),
            street: None,
            city: Some("Łódź"),
            region: Some("łódzkie"),
            country: Some("PL"),
            postal_code: Some("90-001"),
            fields: fields.as_object().unwrap_or(&NO_FIELDS),
        };
        let d = Derived::compute(&src, &schema());
        assert_eq!(d.name_folded.as_deref(), Some("jan kowalski"));
        assert_eq!(d.city_folded.as_deref(), Some("lodz"));
        assert_eq!(d.phone_folded, None);
        assert_eq!(
            Value::Object(d.fields_folded),
            json!({"nickname": "swietek", "notes": "spotkanie w lodzi"}),
            "text kinds only; undefined keys ignored"
        );
        assert_eq!(
            d.search_doc,
            "jan kowalski jan kowalski example com dyrektor lodz lodzkie pl 90 001 120 retail swietek crm cloud",
            "core columns, then searchable fields in key order; not notes, not booleans"
        );
    }

    #[test]
    fn search_doc_stops_at_its_limit_on_a_word_boundary() {
        let long = "słowo ".repeat(MAX_SEARCH_DOC);
        let fields = json!({ "nickname": long });
        let src = Source {
            name: "X",
            email: None,
            phone: None,
            position: None,
            street: None,
            city: None,
            region: None,
            country: None,
            postal_code: None,
            fields: fields.as_object().unwrap_or(&NO_FIELDS),
        };
        let d = Derived::compute(&src, &schema());
        assert!(d.search_doc.len() <= MAX_SEARCH_DOC);
        assert!(d.search_doc.len() > MAX_SEARCH_DOC - 10);
        assert!(d.search_doc.ends_with("slowo"), "whole words only");
    }
}
