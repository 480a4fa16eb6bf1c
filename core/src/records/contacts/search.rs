//! Global search (`q=`): every word typed must start a word of the contact.
//!
//! The query goes through [`search_words`] like the stored `search_doc` did (see
//! [`super::derived`]), so "lodz" finds "Łódź" and "KOWAL" finds "Kowalski". Each word is
//! a prefix; all of them must match, in any order and any column: "jan kow" finds
//! "Kowalski, Jan". A query without letters or digits (only punctuation) has no words and
//! adds no condition. The result is a [`Condition`] on `contacts`, to AND with visibility
//! and with anything else the caller filters on.
//!
//! - SQLite: `contacts.id IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?)`
//!   with `"jan"* AND "kow"*` bound (each word quoted, so no word is FTS5 syntax).
//! - PostgreSQL: `to_tsvector('simple', contacts.search_doc) @@ to_tsquery('simple', $1)`
//!   with `'jan':* & 'kow':*` bound; the expression is the one the GIN index
//!   `contacts_search_doc` is built on.
//!
//! Nothing of the query is ever SQL text: it is one bound parameter, made only of folded
//! letters and digits, quoted.
//!
//! # Plans
//!
//! Measured on the demo base (100,000 contacts, `kartoteka demo --people 90000 --companies
//! 10000`), first page by name (`ORDER BY name, id LIMIT 51`), as an admin. The name order
//! is by the collation key now (`ORDER BY name_sort, id`, index `contacts_name_sort_id` in
//! place of `contacts_name_id`; [`crate::collation`]): the same plans, not measured again.
//!
//! ```text
//! SQLite (EXPLAIN QUERY PLAN), any query:
//!   SEARCH contacts USING INTEGER PRIMARY KEY (rowid=?)
//!   LIST SUBQUERY 1
//!     SCAN contacts_fts VIRTUAL TABLE INDEX 0:M1
//!   USE TEMP B-TREE FOR ORDER BY
//!   -- FTS5 lists the matching ids, each row is read by id, the matches are sorted:
//!   -- "kowal"* (1,447 matches) 8 ms, "jan"* AND "lodz"* (224) 2 ms,
//!   -- "a"* (29,696) 64 ms, "p"* (59,178) 84 ms
//!
//! PostgreSQL (EXPLAIN ANALYZE, after ANALYZE), a selective query ('jan':* & 'lodz':*):
//!   Limit -> Sort (top-N heapsort; Sort Key: name, id)
//!     -> Bitmap Heap Scan on contacts
//!          Recheck Cond: (to_tsvector('simple'::regconfig, search_doc) @@ '...'::tsquery)
//!          -> Bitmap Index Scan on contacts_search_doc                          4 ms
//!   ('kowalski':* 6 ms, 'zielinsk':* 6 ms, no match at all 2 ms)
//! and a common prefix ('a':*, 26,000 matches estimated):
//!   Limit -> Index Scan using contacts_name_id on contacts
//!              Filter: (to_tsvector('simple'::regconfig, search_doc) @@ '''a'':*'::tsquery)
//!   -- walks the (name, id) index and tests rows until the page is full: 1 ms
//! ```
//!
//! On SQLite the cost grows with the number of matches (all of them are read and sorted);
//! on PostgreSQL it stays near the page size. A one-letter search over a million contacts
//! is the slow case on SQLite (most of a second).

use sea_orm::DbBackend;
use sea_orm::sea_query::{Condition, Expr};

use crate::text::search_words;
use crate::{Error, Result};

/// The most words a query may have.
pub const MAX_WORDS: usize = 16;

/// The most characters a query may have.
pub const MAX_QUERY_CHARS: usize = 500;

/// The words of a global search, folded; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    words: Vec<String>,
}

impl SearchQuery {
    /// The words of `q`; `None` when it has none. Errors (path `q`) when it is longer than
    /// [`MAX_QUERY_CHARS`] or has more than [`MAX_WORDS`] words.
    pub fn parse(q: &str) -> Result<Option<Self>> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::invalid(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let words: Vec<String> = search_words(q)
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        if words.len() > MAX_WORDS {
            return Err(Error::invalid(
                "q",
                format!("has {} words; search with at most {MAX_WORDS}", words.len()),
            ));
        }
        Ok((!words.is_empty()).then_some(SearchQuery { words }))
    }

    /// The folded words.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The FTS5 query: `"w1"* AND "w2"*`.
    pub fn fts5_query(&self) -> String {
        self.words
            .iter()
            .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// The PostgreSQL `tsquery` text: `'w1':* & 'w2':*`.
    pub fn tsquery(&self) -> String {
        self.words
            .iter()
            .map(|w| format!("'{}':*", w.replace('\\', "\\\\").replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(" & ")
    }

    /// The condition on `contacts` for `backend`.
    pub fn condition(&self, backend: DbBackend) -> Condition {
        let expr = match backend {
            DbBackend::Postgres => Expr::cust_with_values(
                "to_tsvector('simple', \"contacts\".\"search_doc\") @@ to_tsquery('simple', $1)",
                [self.tsquery()],
            ),
            _ => Expr::cust_with_values(
                "\"contacts\".\"id\" IN (SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?)",
                [self.fts5_query()],
            ),
        };
        Condition::all().add(expr)
    }
}

/// The condition for global search `q` on `backend`, or `None` when `q` has no words (no
/// condition: everything matches). See the module documentation.
pub fn search_condition(backend: DbBackend, q: &str) -> Result<Option<Condition>> {
    Ok(SearchQuery::parse(q)?.map(|s| s.condition(backend)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_folded_prefixes() {
        let q = SearchQuery::parse("  Łódź, KOWAL ").ok().flatten();
        let q = q.as_ref().map(SearchQuery::words);
        assert_eq!(q, Some(&["lodz".to_owned(), "kowal".to_owned()][..]));
    }

    #[test]
    fn no_words_no_condition() {
        assert_eq!(SearchQuery::parse("").ok(), Some(None));
        assert_eq!(SearchQuery::parse(" ?!* -- ").ok(), Some(None));
        assert!(matches!(search_condition(DbBackend::Sqlite, "\"'"), Ok(None)));
    }

    #[test]
    fn queries_quote_every_word() {
        let q = SearchQuery::parse("jan OR kow*; DROP").ok().flatten();
        let Some(q) = q else { panic!("words expected") };
        assert_eq!(q.fts5_query(), "\"jan\"* AND \"or\"* AND \"kow\"* AND \"drop\"*");
        assert_eq!(q.tsquery(), "'jan':* & 'or':* & 'kow':* & 'drop':*");
    }

    #[test]
    fn refuses_huge_queries_with_the_path() {
        let many = "a ".repeat(MAX_WORDS + 1);
        assert!(matches!(SearchQuery::parse(&many), Err(Error::Validation { path, .. }) if path == "q"));
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        assert!(matches!(SearchQuery::parse(&long), Err(Error::Validation { path, .. }) if path == "q"));
    }
}
