//! Bulk inserts: multi-row `INSERT`s with bound parameters only, sized to stay under the
//! databases' parameter limits, and the ids of inserted contacts read back in row order.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, InsertStatement, Order, Query, Value as SqlValue};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::Value as Json;

use super::activities::ACTIVITY_COLUMNS;
use crate::contacts::CoreColumn;
use crate::contacts::derived;

/// Contacts per multi-row INSERT.
pub(super) const CONTACT_ROWS_PER_INSERT: usize = 900;
/// Companies per transaction.
pub(super) const CONTACTS_PER_TXN: usize = 2000;
/// People per transaction (one INSERT), with their activities.
pub(super) const PEOPLE_PER_TXN: usize = CONTACT_ROWS_PER_INSERT;
/// Activities per multi-row INSERT.
pub(super) const ACTIVITY_ROWS_PER_INSERT: usize = 4000;

// SQLite allows 32,766 bound parameters per statement, PostgreSQL 65,535.
// A contacts row: the written core columns, the extra fields, two times, the version and
// the derived columns (`row::contact_columns`).
const _: () = assert!((CoreColumn::WRITTEN.len() + 4 + derived::COLUMNS.len()) * CONTACT_ROWS_PER_INSERT <= 30_000);
const _: () = assert!(ACTIVITY_COLUMNS.len() * ACTIVITY_ROWS_PER_INSERT <= 30_000);

pub(super) fn insert_into(table: &str, columns: &[&str]) -> InsertStatement {
    let mut stmt = Query::insert();
    stmt.into_table(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)));
    stmt
}

pub(super) fn build_err(e: sea_orm::sea_query::error::Error) -> DbErr {
    DbErr::Custom(format!("demo: building an insert: {e}"))
}

/// Runs a multi-row insert into `contacts` and returns the new ids in row order.
///
/// A single multi-row INSERT assigns ids in the order of its VALUES rows on both SQLite
/// and PostgreSQL, so sorting the returned ids gives them in row order.
pub(super) async fn insert_returning_ids<C: ConnectionTrait>(
    conn: &C,
    mut stmt: InsertStatement,
    rows: usize,
) -> Result<Vec<i64>, DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let mut ids = if conn.support_returning() {
        stmt.returning_col(Alias::new("id"));
        let result = conn.query_all(&stmt).await?;
        result
            .iter()
            .map(|r| r.try_get_by_index::<i64>(0))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        let before = max_contact_id(conn).await?;
        conn.execute(&stmt).await?;
        let select = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("contacts"))
            .and_where(Expr::col(Alias::new("id")).gt(before))
            .order_by(Alias::new("id"), Order::Asc)
            .limit(to_u64(rows))
            .to_owned();
        let result = conn.query_all(&select).await?;
        result
            .iter()
            .map(|r| r.try_get_by_index::<i64>(0))
            .collect::<Result<Vec<_>, _>>()?
    };
    ids.sort_unstable();
    if ids.len() != rows {
        return Err(DbErr::Custom(format!(
            "demo: inserted {rows} contacts but got {} ids back",
            ids.len()
        )));
    }
    Ok(ids)
}

async fn max_contact_id<C: ConnectionTrait>(conn: &C) -> Result<i64, DbErr> {
    let select = Query::select()
        .expr(Func::max(Expr::col(Alias::new("id"))))
        .from(Alias::new("contacts"))
        .to_owned();
    let row = conn.query_one(&select).await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<Option<i64>>(0)?.unwrap_or(0),
        None => 0,
    })
}

pub(super) fn to_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

pub(super) fn text(s: impl Into<String>) -> Expr {
    Expr::val(SqlValue::String(Some(s.into())))
}

pub(super) fn json_value(v: Json) -> Expr {
    Expr::val(SqlValue::Json(Some(Box::new(v))))
}

pub(super) fn timestamp(t: DateTime<Utc>) -> Expr {
    Expr::val(SqlValue::ChronoDateTimeUtc(Some(t)))
}
