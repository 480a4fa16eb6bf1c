//! Keyset cursors for the contacts table.
//!
//! A page ends with a cursor holding the sort key and id of its last row; the next page
//! starts strictly after that pair. With an index on `(sort key, id)` every page costs the
//! same, however deep: no `OFFSET`, which would read and throw away every earlier row.
//!
//! The plans this relies on (`(name, id) > (?, ?) ORDER BY name, id LIMIT 51`):
//!
//! ```text
//! PostgreSQL: Limit -> Index Scan using contacts_name_id on contacts
//!                        Index Cond: (ROW(name, id) > ROW('Marek', 5))
//!             Limit -> Index Scan Backward using contacts_created_id   (newest first)
//! SQLite:     SEARCH contacts USING INDEX contacts_name_id (name>?)
//!             SEARCH contacts USING INDEX contacts_created_id (created_at<?)
//! ```
//!
//! For managers and agents the visibility condition (`owner_id = ? OR id IN (grants)`)
//! is added; SQLite then unions the two index lookups and sorts what the user can see,
//! which is cheap while one user sees thousands of contacts, not millions.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The orders the contacts table offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Name,
    CreatedAt,
}

/// A sort order: key and direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    /// Parses `name`, `-name`, `created_at`, `-created_at`.
    pub fn parse(s: &str) -> Result<Self> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let key = match name {
            "name" => SortKey::Name,
            "created_at" => SortKey::CreatedAt,
            other => {
                return Err(Error::invalid(
                    "sort",
                    format!("can't sort by `{other}`; use name, -name, created_at or -created_at"),
                ));
            }
        };
        Ok(Sort { key, descending })
    }

    /// The form `parse` reads.
    pub fn as_param(self) -> String {
        let name = match self.key {
            SortKey::Name => "name",
            SortKey::CreatedAt => "created_at",
        };
        if self.descending {
            format!("-{name}")
        } else {
            name.to_owned()
        }
    }
}

/// The position after which a page starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort: SortKey,
    pub descending: bool,
    pub name: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub id: i64,
}

impl Cursor {
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
        let complete = match cursor.sort {
            SortKey::Name => cursor.name.as_deref().is_some_and(|n| !n.chars().any(char::is_control)),
            SortKey::CreatedAt => cursor.created_at.is_some(),
        };
        if complete { Ok(cursor) } else { Err(bad()) }
    }
}
