//! The indexes filters rely on, so that a hot filter never scans the table blindly.
//!
//! - Core columns that filters compare have B-tree indexes (migrations 000005, 000011 and
//!   000014): email, city, region, country, postal code, score, score band, creation and
//!   update times (each with the id, which the table's keyset walk needs too), type,
//!   owner, company, and latitude with longitude for the bounding box of
//!   `within_distance` (on PostgreSQL with the id included, migration 000017, so the
//!   location walk's statement is an index-only scan). The name is compared folded (`name_folded`) and ordered by its
//!   collation key (`contacts_name_sort_id`), so the raw name has no index of its own.
//! - Activities are indexed by `(kind, contact_id, occurred_at)`: a `happened` condition
//!   becomes `id IN (SELECT contact_id FROM activities WHERE kind = ? AND occurred_at >= ?)`,
//!   which ranges over the kind only; the time and the amount are checked row by row
//!   (`BENCHMARKS.md` measures a `(kind, occurred_at, contact_id, amount)` index halving
//!   the behaviour filter's count; not adopted yet).
//! - Every extra field whose kind filters compare (numbers, money, dates, datetimes,
//!   selects, booleans, text kinds) gets an expression index over exactly the expression
//!   [`super::sql::extra_sql`] writes: `json_extract("fields", '$."k"')` on SQLite,
//!   `(("fields" ->> 'k')::double precision)` (numbers) or `("fields" ->> 'k')` on
//!   PostgreSQL. It is created with the field, dropped with it, rebuilt when its kind
//!   changes, and re-ensured at start-up ([`ensure_all`]).
//!
//! Plans relied on. The test `filter_engine::hot_filters_use_indexes` asks each database
//! for the plan of the engine's own statement and fails if the index is not in it:
//!
//! | filter | index in the plan (SQLite and PostgreSQL) |
//! |---|---|
//! | `city eq` | `contacts_city` |
//! | `fields.revenue between` (number) | `contacts_f_revenue` |
//! | `fields.since after` (date) | `contacts_f_since` |
//! | `fields.industry eq` (select) | `contacts_f_industry` |
//! | `type is` | `contacts_type` |
//! | `activity.purchase happened` | `activities_kind_contact_time` |
//! | `location within_distance` (the box) | `contacts_lat_lon` |
//!
//! SQLite matches `json_extract("contacts"."fields", ...)` in a query with the index on
//! `json_extract("fields", ...)` (an index expression may not name its table; the column
//! is the same). The plans at 1,000,000 contacts are in `BENCHMARKS.md`.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait};
use sha2::{Digest, Sha256};

use super::sql::{ExtraClass, extra_index_sql};
use crate::Result;
use crate::entities::field_defs;
use crate::fields::FieldKind;

/// Whether filters compare a field of this kind (multiselect and geo values are not
/// B-tree comparable).
fn indexed(kind: FieldKind) -> bool {
    !matches!(kind, FieldKind::Multiselect | FieldKind::Geo | FieldKind::LongText)
}

/// The index name for a field key (PostgreSQL names stop at 63 bytes).
pub fn index_name(key: &str) -> String {
    if key.len() <= 40 {
        format!("contacts_f_{key}")
    } else {
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!("contacts_f_{}_{hex}", key.get(..30).unwrap_or(key))
    }
}

/// Creates the expression index of a field, if its kind gets one.
pub async fn ensure_field_index(db: &impl ConnectionTrait, key: &str, kind: FieldKind) -> Result<()> {
    if !indexed(kind) {
        return Ok(());
    }
    let pg = db.get_database_backend() == DbBackend::Postgres;
    let expr = extra_index_sql(pg, "fields", key, ExtraClass::from(kind));
    let name = index_name(key);
    db.execute_unprepared(&format!(
        "CREATE INDEX IF NOT EXISTS \"{name}\" ON \"contacts\" (({expr}))"
    ))
    .await?;
    Ok(())
}

/// Drops the expression index of a field.
pub async fn drop_field_index(db: &impl ConnectionTrait, key: &str) -> Result<()> {
    db.execute_unprepared(&format!("DROP INDEX IF EXISTS \"{}\"", index_name(key)))
        .await?;
    Ok(())
}

/// Ensures the index of every defined field (at start-up: idempotent).
pub async fn ensure_all(db: &DatabaseConnection) -> Result<()> {
    for def in field_defs::Entity::find().all(db).await? {
        if let Some(kind) = FieldKind::parse_field(&def.kind) {
            ensure_field_index(db, &def.key, kind).await?;
        }
    }
    Ok(())
}

/// Refreshes the planner's statistics of the tables a bulk load fills (`contacts`,
/// `activities`): `ANALYZE` on both databases. Without them SQLite has no `sqlite_stat1`
/// and chooses between indexes by its built-in guesses, and PostgreSQL plans with the
/// estimates from before the load until its autovacuum, which may be off or late, gets to
/// the tables. For bulk loads, not every write: `ANALYZE` reads every index (SQLite) or a
/// sample of every table (PostgreSQL).
pub async fn refresh_statistics(db: &DatabaseConnection) -> Result<()> {
    analyze(db, &["contacts", "activities"], None).await
}

/// `ANALYZE` of `tables` (names of the schema's own tables, never user input), one
/// statement per table: the planner's statistics after a bulk change to them.
///
/// `rows_per_index` bounds what SQLite reads (`PRAGMA analysis_limit`, set and reset on
/// the same connection in the same call, so no later `ANALYZE` on that pooled connection
/// inherits it); `None` reads whole indexes. A whole `ANALYZE` of the membership tables
/// after each large rebuild made the segments benchmark's large rebuild at 100,000
/// contacts 700 ms against 256 ms with [`SQLITE_ANALYSIS_LIMIT`] (the table holds a
/// million memberships there). PostgreSQL samples on its own and ignores the bound.
pub async fn analyze(db: &DatabaseConnection, tables: &[&str], rows_per_index: Option<u32>) -> Result<()> {
    let sqlite = db.get_database_backend() == DbBackend::Sqlite;
    for table in tables {
        let statement = match rows_per_index {
            Some(rows) if sqlite => {
                format!("PRAGMA analysis_limit = {rows}; ANALYZE {table}; PRAGMA analysis_limit = 0")
            }
            _ => format!("ANALYZE {table}"),
        };
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

/// How many rows `table` had when its statistics were last gathered (`sqlite_stat1`'s
/// first figure; `pg_class.reltuples`), `None` when they never were.
pub async fn analysed_rows(db: &DatabaseConnection, table: &str) -> Result<Option<u64>> {
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Sqlite {
        "SELECT stat FROM sqlite_stat1 WHERE tbl = ? LIMIT 1"
    } else {
        "SELECT CAST(reltuples AS BIGINT)::TEXT FROM pg_class WHERE relname = $1 AND relkind = 'r'"
    };
    let statement = sea_orm::Statement::from_sql_and_values(backend, sql, [table.into()]);
    let row = match db.query_one_raw(statement).await {
        Ok(row) => row,
        // SQLite has no `sqlite_stat1` until its first `ANALYZE`.
        Err(_) if backend == DbBackend::Sqlite => None,
        Err(e) => return Err(e.into()),
    };
    let stat = row.map(|r| r.try_get_by_index::<String>(0)).transpose()?;
    Ok(stat
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<i64>().ok()))
        .filter(|rows| *rows >= 0)
        .map(|rows| rows as u64))
}

/// How many rows of each index SQLite's `ANALYZE` reads after a large rebuild (see
/// [`analyze`]).
pub const SQLITE_ANALYSIS_LIMIT: u32 = 1_000;
