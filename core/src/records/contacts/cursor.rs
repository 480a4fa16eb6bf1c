//! The orders of the contacts table and their keyset cursors.
//!
//! A page ends with a cursor holding the sort key and id of its last row; the next page
//! starts strictly after that pair. With an index on `(sort key, id)` every page costs the
//! same, however deep: no `OFFSET`, which would read and throw away every earlier row.
//!
//! | `sort=` | orders by | index |
//! |---|---|---|
//! | `name` (default), `-name` | the name, alphabetically (`name_sort`) | `contacts_name_sort_id` |
//! | `city`, `-city` | the city, alphabetically; no city last going up (`city_sort`) | `contacts_city_sort_id` |
//! | `created_at`, `-created_at` | creation time | `contacts_created_id` |
//! | `updated_at`, `-updated_at` | time of the last change | `contacts_updated_id` |
//!
//! | `score.<model>`, `-score.<model>` | a scoring model's score; no score below 0 | none: see below |
//!
//! Ties go by id, in the same direction. "Alphabetically" is the Unicode collation order
//! (CLDR root) of [`crate::collation`]: the text columns are ordered by their stored
//! collation keys, compared as bytes on both databases, and a text order's cursor carries
//! the last row's key (base64), not its text.
//!
//! The plans this relies on (`(name_sort, id) > (?, ?) ORDER BY name_sort, id LIMIT 51`):
//!
//! ```text
//! PostgreSQL: Limit -> Index Scan using contacts_name_sort_id on contacts
//!                        Index Cond: (ROW(name_sort, id) > ROW('\x..', 5))
//!             Limit -> Index Scan Backward using contacts_created_id   (newest first)
//! SQLite:     SEARCH contacts USING INDEX contacts_name_sort_id (name_sort>?)
//!             SEARCH contacts USING INDEX contacts_created_id (created_at<?)
//! ```
//!
//! The test `sorting::every_order_uses_its_index` asks both databases for these plans.
//! For managers and agents the visibility condition (`owner_id = ? OR id IN (grants)`)
//! is added; SQLite then unions the two index lookups and sorts what the user can see,
//! which is cheap while one user sees thousands of contacts, not millions.
//!
//! A score lives in `contact_scores`, a row per model and contact: the order reads it
//! through a subquery on that table's primary key for each contact the condition leaves,
//! and sorts those (no index serves `(score, id)` across the two tables), so a page
//! costs in proportion to the contacts the condition leaves, not to the page. Tested for
//! order and paging (`tests/it/scoring.rs`); its time at scale is not measured. The model is given by id (`score.7`); the web layer resolves
//! `score.fit` through the filter catalogue.
//!
//! Orders by a related record's text (the company's name, the type's label, the owner's
//! name) are not offered: a keyset walk over a join can't be served by one index, and
//! keeping a copy of the related text on every contact would make renaming a company
//! rewrite all its people.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Contact;
use crate::collation::{MAX_KEY, sort_key, sort_key_or_absent};
use crate::entities::contacts;
use crate::{Error, Result};

/// The orders the contacts table offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Name,
    City,
    CreatedAt,
    UpdatedAt,
    /// The score of the scoring model with this id.
    Score(i64),
}

/// The value a contact without a score sorts as.
pub const NO_SCORE: f64 = -1.0;

impl SortKey {
    /// Every order, in the order the table offers them.
    pub const ALL: [SortKey; 4] = [SortKey::Name, SortKey::City, SortKey::CreatedAt, SortKey::UpdatedAt];

    /// The name in `sort=`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::City => "city",
            SortKey::CreatedAt => "created_at",
            SortKey::UpdatedAt => "updated_at",
            SortKey::Score(_) => "score",
        }
    }

    /// The name in `sort=`, with the model of a score order (`score.7`).
    pub fn param(self) -> String {
        match self {
            SortKey::Score(model) => format!("score.{model}"),
            other => other.as_str().to_owned(),
        }
    }

    /// The column the rows are ordered by (then by id); `None` for a score.
    pub fn column(self) -> Option<contacts::Column> {
        match self {
            SortKey::Name => Some(contacts::Column::NameSort),
            SortKey::City => Some(contacts::Column::CitySort),
            SortKey::CreatedAt => Some(contacts::Column::CreatedAt),
            SortKey::UpdatedAt => Some(contacts::Column::UpdatedAt),
            SortKey::Score(_) => None,
        }
    }

    /// What the rows are ordered by (then by id).
    pub fn expr(self) -> sea_orm::sea_query::SimpleExpr {
        use sea_orm::sea_query::Expr;
        match self.column() {
            Some(column) => Expr::col((contacts::Entity, column)),
            None => Expr::cust(self.score_sql().unwrap_or_default()),
        }
    }

    /// A score order's expression: the model's score of the row, [`NO_SCORE`] for none.
    fn score_sql(self) -> Option<String> {
        match self {
            SortKey::Score(model) => Some(format!(
                "COALESCE((SELECT \"contact_scores\".\"score\" FROM \"contact_scores\" \
                 WHERE \"contact_scores\".\"model_id\" = {model} AND \"contact_scores\".\"contact_id\" = \"contacts\".\"id\"), {NO_SCORE:.1})"
            )),
            _ => None,
        }
    }

    /// Whether the order is by a collation key (text), not by a time.
    fn is_text(self) -> bool {
        matches!(self, SortKey::Name | SortKey::City)
    }
}

/// A sort order: key and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// Parses `name`, `-name`, `city`, `-city`, `created_at`, `-created_at`, `updated_at`,
    /// `-updated_at`, and `score.<model id>`, `-score.<model id>`.
    pub fn parse(s: &str) -> Result<Self> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        if let Some(model) = name.strip_prefix("score.") {
            return match model.parse::<i64>() {
                Ok(id) if id > 0 => Ok(Sort {
                    key: SortKey::Score(id),
                    descending,
                }),
                _ => Err(Error::invalid(
                    "sort",
                    format!("no scoring model `{model}`; sort by `score.<model key>`"),
                )),
            };
        }
        let key = SortKey::ALL.into_iter().find(|k| k.as_str() == name).ok_or_else(|| {
            let names: Vec<String> = SortKey::ALL
                .iter()
                .flat_map(|k| [k.as_str().to_owned(), format!("-{}", k.as_str())])
                .collect();
            Error::invalid(
                "sort",
                format!("can't sort by `{name}`; use one of {}", names.join(", ")),
            )
        })?;
        Ok(Sort { key, descending })
    }

    /// The form `parse` reads.
    pub fn as_param(self) -> String {
        if self.descending {
            format!("-{}", self.key.param())
        } else {
            self.key.param()
        }
    }
}

/// The position after which a page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort: SortKey,
    pub descending: bool,
    /// Text orders: the last row's collation key, base64 (URL alphabet, no padding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Time orders: the last row's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// Score orders: the last row's score ([`NO_SCORE`] for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub id: i64,
}

impl Cursor {
    /// The cursor after stored row `m` in order `sort`.
    pub fn after_row(sort: Sort, m: &contacts::Model) -> Self {
        let key = match sort.key {
            SortKey::Name => Some(m.name_sort.clone().unwrap_or_else(|| sort_key(&m.name))),
            SortKey::City => Some(
                m.city_sort
                    .clone()
                    .unwrap_or_else(|| sort_key_or_absent(m.city.as_deref())),
            ),
            SortKey::CreatedAt | SortKey::UpdatedAt | SortKey::Score(_) => None,
        };
        Self::new(sort, key, m.created_at, m.updated_at, m.id)
    }

    /// The cursor after contact `c` in order `sort` (its keys computed again: the same
    /// bytes as stored).
    pub fn after_contact(sort: Sort, c: &Contact) -> Self {
        let key = match sort.key {
            SortKey::Name => Some(sort_key(&c.name)),
            SortKey::City => Some(sort_key_or_absent(c.city.as_deref())),
            SortKey::CreatedAt | SortKey::UpdatedAt | SortKey::Score(_) => None,
        };
        Self::new(sort, key, c.created_at, c.updated_at, c.id)
    }

    fn new(sort: Sort, key: Option<Vec<u8>>, created: DateTime<Utc>, updated: DateTime<Utc>, id: i64) -> Self {
        Cursor {
            sort: sort.key,
            descending: sort.descending,
            key: key.map(|k| URL_SAFE_NO_PAD.encode(k)),
            at: match sort.key {
                SortKey::CreatedAt => Some(created),
                SortKey::UpdatedAt => Some(updated),
                SortKey::Name | SortKey::City | SortKey::Score(_) => None,
            },
            score: None,
            id,
        }
    }

    /// The cursor with the last row's score (a score order: [`NO_SCORE`] for none).
    pub fn with_score(mut self, score: Option<f64>) -> Self {
        if matches!(self.sort, SortKey::Score(_)) {
            self.score = Some(score.unwrap_or(NO_SCORE));
        }
        self
    }

    /// The sort column's value at the cursor, for `(column, id) > (value, id)`.
    pub fn value(&self) -> sea_orm::Value {
        if self.sort.is_text() {
            let key = self.key.as_deref().and_then(|k| URL_SAFE_NO_PAD.decode(k).ok());
            sea_orm::Value::Bytes(key)
        } else if matches!(self.sort, SortKey::Score(_)) {
            sea_orm::Value::Double(self.score)
        } else {
            self.at.into()
        }
    }

    /// The opaque text form used in URLs.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a cursor made by `encode` for the same sort order.
    pub fn decode(text: &str, sort: Sort) -> Result<Self> {
        let bad = || Error::invalid("after", "not a cursor from this list; start again from the first page");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if cursor.sort != sort.key || cursor.descending != sort.descending {
            return Err(Error::invalid(
                "after",
                "the cursor belongs to another sort order; start again from the first page",
            ));
        }
        let complete = if cursor.sort.is_text() {
            cursor
                .key
                .as_deref()
                .and_then(|k| URL_SAFE_NO_PAD.decode(k).ok())
                .is_some_and(|k| k.len() <= MAX_KEY)
        } else if matches!(cursor.sort, SortKey::Score(_)) {
            cursor.score.is_some_and(f64::is_finite)
        } else {
            cursor.at.is_some()
        };
        if complete { Ok(cursor) } else { Err(bad()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_order_reads_back() {
        for key in SortKey::ALL {
            for descending in [false, true] {
                let sort = Sort { key, descending };
                assert_eq!(Sort::parse(&sort.as_param()).ok(), Some(sort));
            }
        }
        assert!(Sort::parse("owner").is_err());
        let by_score = Sort::parse("-score.7").unwrap();
        assert_eq!(by_score.key, SortKey::Score(7));
        assert_eq!(Sort::parse(&by_score.as_param()).ok(), Some(by_score));
        assert!(Sort::parse("score.fit").is_err());
    }

    #[test]
    fn a_text_cursor_needs_a_key_of_bounded_size() {
        let sort = Sort::default();
        let cursor = |key: Option<Vec<u8>>| {
            Cursor {
                sort: SortKey::Name,
                descending: false,
                key: key.map(|k| URL_SAFE_NO_PAD.encode(k)),
                at: None,
                score: None,
                id: 1,
            }
            .encode()
        };
        assert!(Cursor::decode(&cursor(Some(sort_key("Łukasz"))), sort).is_ok());
        assert!(Cursor::decode(&cursor(None), sort).is_err());
        assert!(Cursor::decode(&cursor(Some(vec![1; MAX_KEY + 1])), sort).is_err());
    }
}
