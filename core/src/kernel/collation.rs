//! Sort order of text: the Unicode Collation Algorithm with the CLDR root order.
//!
//! People read a list of names in alphabetical order, not in code-point order: `Łukasz`
//! belongs next to `Lukasz`, not after `Zenon`; `Ștefan` next to `Stefan`; `Ігор` among
//! the Cyrillic names after every Latin one, not before `Anna`; `anna` next to `Anna`.
//! The CLDR root collation gives one such order for every script at once (Latin, then
//! Greek, Cyrillic, ...; within a script accents and case break ties only), which is what
//! a base that mixes Polish, Ukrainian and Romanian names needs. It is not Polish order
//! (which puts `Ł` after all of `L`) nor any other language's tailoring: one base, one
//! order, whatever the reader's language.
//!
//! # How it is stored and used
//!
//! [`sort_key`] turns a text into bytes whose plain byte order (`memcmp`) is the collation
//! order. Every contact write stores the key of its name in `contacts.name_sort` and of its
//! city in `contacts.city_sort` (computed with the folded columns,
//! [`crate::contacts::derived`]); both databases compare a `BLOB`/`bytea` byte by byte,
//! so `ORDER BY name_sort, id` is the collation order on SQLite and PostgreSQL alike, the
//! `(name_sort, id)` B-tree index serves it, and the keyset cursor of a page carries the
//! last row's key ([`crate::contacts::cursor`]). Rows that existed before the columns got
//! their keys at start-up (`derived::backfill`, by id in batches).
//!
//! Keys are at tertiary strength: base letters first, then accents, then case (lower
//! before upper, the root default); texts equal at all three levels are ordered by id.
//! Spaces and punctuation are not ignored (`Ana-Maria` before `Anna`), the root default.
//! A key is cut at [`MAX_KEY`] bytes to stay well inside PostgreSQL's B-tree entry limit
//! (about 2,700 bytes); cutting keeps the order of texts that differ within the first
//! bytes, and texts whose keys agree that far (names of several hundred characters) tie
//! and go by id. An absent value (a contact without a city) gets [`ABSENT`], which sorts
//! after every key: last going up, first going down, as PostgreSQL places NULLs.
//!
//! # The crate
//!
//! [`icu_collator`] (ICU4X, maintained by the Unicode Consortium) implements the UCA with
//! the CLDR data compiled in, and writes sort keys (`write_sort_key_to`, in the 2.x line
//! this project uses; the algorithm is ICU4C's). Its keys may change with a new Unicode or CLDR version: a
//! dependency update that changes them must come with a migration that sets `name_sort` and
//! `city_sort` to NULL, so that start-up recomputes them (a key of another version would
//! put a renamed contact in the wrong place among the old ones).
//!
//! # Alternatives rejected
//!
//! - **Database collations** (`COLLATE "und-x-icu"` on PostgreSQL, a collation registered
//!   on every SQLite connection with sqlx's `SqliteConnectOptions::collation`): PostgreSQL
//!   would need ICU support compiled in (not every build has it) and the server's ICU
//!   version decides the order, which may differ from the Rust comparison SQLite would
//!   use; an index built with a SQLite collation that only this program registers makes
//!   the file unusable (every write to the table fails) in any other SQLite tool, backups
//!   and repairs included. Keys computed here are the same bytes on both databases, and a
//!   test can predict them.
//! - **Sorting in Rust after reading**: no index serves it, so every page would read every
//!   visible contact.
//! - **The folded columns** (`name_folded`): folding drops accents and case entirely (`Łódź`
//!   = `lodz`), so equal-looking names would order by id, and it keeps code-point order
//!   between scripts and for letters that don't fold.
//! - **A hex or base64 text key** instead of bytes: twice the size, and a text column is
//!   compared under the database's collation on PostgreSQL, which need not be bytewise.

use std::cmp::Ordering;
use std::sync::LazyLock;

use icu_collator::options::CollatorOptions;
use icu_collator::{CollatorBorrowed, CollatorPreferences};

/// The longest key stored; longer ones are cut (see the module documentation).
pub const MAX_KEY: usize = 1024;

/// The key of an absent value: after every key [`sort_key`] makes (their first byte is a
/// primary weight's lead byte, below `0xFF` for every assigned character).
pub const ABSENT: [u8; 4] = [0xFF; 4];

/// The root collator at tertiary strength (the defaults of the root locale).
static ROOT: LazyLock<Option<CollatorBorrowed<'static>>> = LazyLock::new(|| {
    CollatorBorrowed::try_new(CollatorPreferences::default(), CollatorOptions::default())
        .inspect_err(|e| tracing::error!(error = %e, "no root collation; text sorts by code point"))
        .ok()
});

/// The sort key of `text`: bytes whose order is the collation order of the texts.
///
/// ```
/// use kartoteka_core::collation::sort_key;
/// assert!(sort_key("Łukasz") < sort_key("Zenon"));
/// assert!(sort_key("Ігор") > sort_key("Zenon"));
/// assert!(sort_key("anna") < sort_key("Anna"));
/// assert!(sort_key("Anna") < sort_key("Ánna"));
/// ```
pub fn sort_key(text: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(text.len() * 3 + 8);
    match &*ROOT {
        Some(collator) => {
            // Writing to a Vec can't fail.
            let _ = collator.write_sort_key_to(text, &mut key);
        }
        // Unreachable with the compiled data; code-point order (UTF-8 bytes) rather than none.
        None => key.extend_from_slice(text.as_bytes()),
    }
    key.truncate(MAX_KEY);
    key
}

/// The key of an optional value: [`sort_key`], or [`ABSENT`] when there is none.
pub fn sort_key_or_absent(text: Option<&str>) -> Vec<u8> {
    match text {
        Some(t) => sort_key(t),
        None => ABSENT.to_vec(),
    }
}

/// `a` and `b` in collation order (for lists sorted in memory; the same order as their
/// keys, cut keys aside).
pub fn compare(a: &str, b: &str) -> Ordering {
    match &*ROOT {
        Some(collator) => collator.compare(a, b),
        None => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order of the issue: Ł and Ș among the Latin letters, Є and І among the Cyrillic,
    /// Cyrillic after Latin, case and accents as tie-breakers only (`Żaneta` before `Zenon`:
    /// the dot above counts after the letters do).
    const SORTED: [&str; 16] = [
        "Ana-Maria Ionescu",
        "anna nowak",
        "Anna Nowak",
        "Ćwikła",
        "Émile Durand",
        "Lukasz",
        "Łukasz",
        "Stefan",
        "Ștefan",
        "Żaneta",
        "Zenon",
        "Євген",
        "Ігор",
        "Ірина",
        "Ольга",
        "Ярослава",
    ];

    #[test]
    fn keys_follow_the_cldr_root_order() {
        let mut shuffled: Vec<&str> = SORTED.iter().rev().copied().collect();
        shuffled.sort_by_key(|s| sort_key(s));
        assert_eq!(shuffled, SORTED);
        let mut compared: Vec<&str> = SORTED.iter().rev().copied().collect();
        compared.sort_by(|a, b| compare(a, b));
        assert_eq!(compared, SORTED);
    }

    #[test]
    fn absent_sorts_last_and_long_keys_are_cut() {
        for s in SORTED {
            assert!(sort_key(s) < ABSENT.to_vec(), "{s}");
        }
        assert_eq!(sort_key_or_absent(None), ABSENT.to_vec());
        let long = "한국어".repeat(400);
        assert_eq!(sort_key(&long).len(), MAX_KEY);
        let name = "Aleksandra Wiśniewska-Kowalczyk";
        assert!(sort_key(name).len() < name.len() * 3, "{:?}", sort_key(name));
    }
}
