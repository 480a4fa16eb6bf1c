//! Rewriting the derived columns of stored contacts (see [`super::derived`] for what they
//! are and when each path runs): [`recompute`] after a field's kind or `searchable` flag
//! changes, [`backfill`] at start-up for rows from before a column existed. Both write
//! derived columns only, never a value a user set, and leave `version` alone.

use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};

use super::derived::{COLUMNS, Derived, FoldSchema, RECOMPUTE_BATCH, Source};
use super::write::begin_schema_change;
use crate::Result;
use crate::entities::contacts;

/// Writes the derived columns of several contacts, nothing else, in one statement
/// (`UPDATE contacts ... FROM (VALUES ...)`): a recompute is dominated by round trips
/// otherwise.
pub(crate) async fn write_many(db: &impl ConnectionTrait, rows: Vec<(i64, Derived)>) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let width = COLUMNS.len() + 1;
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(rows.len() * width);
    let mut tuples: Vec<String> = Vec::with_capacity(rows.len());
    for (id, derived) in rows {
        let first = values.len();
        values.push(id.into());
        values.extend(derived.into_values());
        let marks: Vec<String> = (first + 1..=first + width)
            .map(|n| match backend {
                DbBackend::Postgres => format!("${n}"),
                _ => "?".to_owned(),
            })
            .collect();
        tuples.push(format!("({})", marks.join(", ")));
    }
    let sql = match backend {
        // VALUES columns are named by the alias list; ids and texts arrive typed.
        DbBackend::Postgres => format!(
            "UPDATE contacts SET {} FROM (VALUES {}) AS v(id, {}) WHERE contacts.id = v.id",
            COLUMNS
                .iter()
                .map(|c| format!("{c} = v.{c}"))
                .collect::<Vec<_>>()
                .join(", "),
            tuples.join(", "),
            COLUMNS.join(", "),
        ),
        // SQLite names VALUES columns column1, column2, ...
        _ => format!(
            "UPDATE contacts SET {} FROM (VALUES {}) AS v WHERE contacts.id = v.column1",
            COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} = v.column{}", i + 2))
                .collect::<Vec<_>>()
                .join(", "),
            tuples.join(", "),
        ),
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(())
}

/// Recomputes the derived columns of the contacts that satisfy `filter` under `schema`,
/// in keyset batches of [`RECOMPUTE_BATCH`] by id, writing only the rows whose derived
/// columns change; returns how many did. Version and `updated_at` stay as they are.
pub(crate) async fn recompute(db: &impl ConnectionTrait, schema: &FoldSchema, filter: Condition) -> Result<u64> {
    let mut after = 0i64;
    let mut changed = 0u64;
    loop {
        let batch = contacts::Entity::find()
            .filter(contacts::Column::Id.gt(after))
            .filter(filter.clone())
            .order_by_asc(contacts::Column::Id)
            .limit(RECOMPUTE_BATCH)
            .all(db)
            .await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let stale: Vec<(i64, Derived)> = batch
            .iter()
            .map(|row| (row.id, Derived::compute(&Source::of_model(row), schema), row))
            .filter(|(_, derived, row)| *derived != Derived::stored(row))
            .map(|(id, derived, _)| (id, derived))
            .collect();
        changed += stale.len() as u64;
        write_many(db, stale).await?;
    }
    Ok(changed)
}

/// Computes the derived columns of every row that lacks them (`name_folded` or
/// `name_sort` is NULL): the rows that existed before the columns did. A no-op, through
/// the partial index `contacts_unfolded` and the index `contacts_name_sort_id`, when there
/// are none.
pub async fn backfill(db: &DatabaseConnection) -> Result<u64> {
    let mut pending = false;
    for column in [contacts::Column::NameFolded, contacts::Column::NameSort] {
        pending = pending
            || contacts::Entity::find()
                .select_only()
                .column(contacts::Column::Id)
                .filter(column.is_null())
                .limit(1)
                .into_tuple::<i64>()
                .one(db)
                .await?
                .is_some();
    }
    if !pending {
        return Ok(0);
    }
    let txn = begin_schema_change(db).await?;
    let schema = FoldSchema::read(&txn).await?;
    let filled = recompute(
        &txn,
        &schema,
        Condition::any()
            .add(contacts::Column::NameFolded.is_null())
            .add(contacts::Column::NameSort.is_null()),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        contacts = filled,
        "computed the folded text, search words and sort keys of existing contacts"
    );
    Ok(filled)
}
