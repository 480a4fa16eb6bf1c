//! The one writer of `contacts` and `contact_events`.
//!
//! Every change to a contact row — a form or API write, a company's people losing their
//! company when it is deleted, contacts moving to another type when theirs is removed, a
//! field's values converted or dropped — goes through a [`ContactWrite`]: one transaction
//! that bumps each row's `version` and `updated_at`, appends the audit event with the
//! row, and remembers which contacts it touched. Nothing else in the crate issues an
//! `UPDATE contacts` or inserts a `contact_events` row, with two exceptions that write no
//! user-visible value: the recompute of the derived columns in [`super::derived`] (folded
//! text, search words, sort keys: it keeps the version, since nothing a user set changed)
//! and the demo loader, which fills an empty base in bulk with no history.
//!
//! # Upkeep
//!
//! What must follow a write inside its transaction (today: dynamic segment memberships)
//! is a [`WriteHook`] that the layer above implements and hands in when the write begins
//! ([`UpkeepSource`]); contacts never name segments. [`ContactWrite::commit`] runs the
//! hook over the contacts written before it commits, so the upkeep can't be forgotten by
//! a new kind of write. Deleting calls [`WriteHook::deleting`] before the row goes.
//!
//! A write under the schema lock ([`ContactWrite::schema_change`]: a field's values
//! converted, a type's contacts moved) runs no hook: the segment filters were prepared
//! against the schema that is changing. It answers which contacts it rewrote
//! ([`Written`]), and the caller asks for the rebuild of the dynamic segments when any
//! were.
//!
//! Alternatives considered: an explicit upkeep call after each write (what grew here
//! before: three writers, one of which forgot it), and database triggers (upkeep needs the
//! plugins, which run in the server).

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QuerySelect, Set, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::{Value, json};

use super::derived::{Derived, FoldSchema, Source};
use tokio::sync::OwnedMutexGuard;

use crate::entities::{contact_events, contacts};
use crate::kernel::base::{Base, WriteQueue};
use crate::{Error, Result};

/// A boxed future, as the hooks return (traits with `async fn` aren't object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What runs inside a contact write's transaction (implemented by the segments layer).
pub trait WriteHook: Send + Sync {
    /// Contacts `ids` were created or changed in `txn`, which is about to commit.
    fn written<'a>(&'a self, txn: &'a DatabaseTransaction, ids: &'a [i64]) -> BoxFuture<'a, Result<()>>;
    /// Contact `id` is about to be deleted in `txn`.
    fn deleting<'a>(&'a self, txn: &'a DatabaseTransaction, id: i64) -> BoxFuture<'a, Result<()>>;
}

/// Begins contact writes with the upkeep that belongs to them: the transaction (with the
/// locks the upkeep needs taken) and the hook to run in it.
pub trait UpkeepSource: Send + Sync {
    fn begin(&self) -> BoxFuture<'_, Result<(DatabaseTransaction, Box<dyn WriteHook>)>>;
}

/// A hook that does nothing (schema changes, and bases without segments).
#[derive(Debug, Clone, Copy)]
pub struct NoUpkeep;

impl WriteHook for NoUpkeep {
    fn written<'a>(&'a self, _: &'a DatabaseTransaction, _: &'a [i64]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn deleting<'a>(&'a self, _: &'a DatabaseTransaction, _: i64) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// Who writes and when: what every audit event records.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    pub user_id: i64,
    pub at: DateTime<Utc>,
}

impl Stamp {
    /// `user_id` writing now, at the precision the database stores.
    pub fn now(user_id: i64, clock: &dyn crate::Clock) -> Self {
        Stamp {
            user_id,
            at: crate::clock::stored(clock.now()),
        }
    }
}

/// What a committed write touched.
#[derive(Debug, Default)]
pub struct Written {
    /// The contacts written or affected (not those deleted), each once, by id.
    pub ids: Vec<i64>,
}

/// One transaction of contact writes; see the module docs.
pub struct ContactWrite {
    txn: DatabaseTransaction,
    hook: Box<dyn WriteHook>,
    stamp: Stamp,
    touched: Vec<i64>,
    /// This writer's turn in the process's write queue (SQLite), held to the end: the
    /// last field, so it is let go after the transaction.
    _turn: Option<OwnedMutexGuard<()>>,
}

impl std::fmt::Debug for ContactWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactWrite")
            .field("stamp", &self.stamp)
            .field("touched", &self.touched)
            .finish_non_exhaustive()
    }
}

impl ContactWrite {
    /// A write of contacts, with the upkeep `source` provides, once it is this writer's
    /// turn in `queue` ([`crate::kernel::base::WriteQueue`]).
    pub async fn begin(queue: &WriteQueue, source: &dyn UpkeepSource, stamp: Stamp) -> Result<Self> {
        let turn = queue.enter().await;
        let (txn, hook) = source.begin().await?;
        Ok(ContactWrite {
            txn,
            hook,
            stamp,
            touched: Vec::new(),
            _turn: turn,
        })
    }

    /// A write under the schema lock (see [`begin_schema_change`]), with no
    /// upkeep: the caller rebuilds what [`Written`] says moved.
    pub async fn schema_change(base: &Base, stamp: Stamp) -> Result<Self> {
        let turn = base.writers.enter().await;
        Ok(ContactWrite {
            txn: begin_schema_change(&base.db).await?,
            hook: Box::new(NoUpkeep),
            stamp,
            touched: Vec::new(),
            _turn: turn,
        })
    }

    /// The transaction, for reads (and writes of other tables) that belong with the write.
    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    fn touch(&mut self, ids: impl IntoIterator<Item = i64>) {
        self.touched.extend(ids);
    }

    /// Inserts a contact from `columns` (its derived columns set) at version 1, with a
    /// `created` event holding `snapshot`.
    pub async fn insert(&mut self, columns: contacts::ActiveModel, snapshot: Value) -> Result<contacts::Model> {
        let model = self.new_row(columns).insert(&self.txn).await?;
        self.event(model.id, "created", snapshot).await?;
        self.touch([model.id]);
        Ok(model)
    }

    /// A new contact's row: `columns` at version 1, stamped now, without a score.
    fn new_row(&self, columns: contacts::ActiveModel) -> contacts::ActiveModel {
        contacts::ActiveModel {
            score: Set(None),
            score_band: Set(None),
            created_at: Set(self.stamp.at),
            updated_at: Set(self.stamp.at),
            version: Set(1),
            ..columns
        }
    }

    /// Inserts contacts from `rows` (columns with their derived columns set, and the
    /// snapshot of each `created` event) in multi-row `INSERT`s; their ids in row order.
    /// A multi-row `INSERT` assigns ids in the order of its rows on both databases, so the
    /// ids it returns, sorted, are in row order.
    pub async fn insert_many(&mut self, rows: Vec<(contacts::ActiveModel, Value)>) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<(contacts::ActiveModel, Value)> = rows.by_ref().take(ROWS_PER_INSERT).collect();
            let (models, snapshots): (Vec<_>, Vec<_>) = chunk.into_iter().unzip();
            let stamped = models.into_iter().map(|columns| self.new_row(columns));
            let mut keys = contacts::Entity::insert_many(stamped)
                .exec_with_returning_keys(&self.txn)
                .await?;
            keys.sort_unstable();
            if keys.len() != snapshots.len() {
                return Err(Error::Internal(format!(
                    "{} contacts inserted, {} ids returned",
                    snapshots.len(),
                    keys.len()
                )));
            }
            let events = keys
                .iter()
                .zip(snapshots)
                .map(|(id, snapshot)| contact_events::ActiveModel {
                    contact_id: Set(*id),
                    user_id: Set(Some(self.stamp.user_id)),
                    at: Set(self.stamp.at),
                    action: Set("created".to_owned()),
                    changes: Set(snapshot),
                    ..Default::default()
                });
            contact_events::Entity::insert_many(events).exec(&self.txn).await?;
            self.touch(keys.iter().copied());
            ids.extend(keys);
        }
        Ok(ids)
    }

    /// Writes `columns` to contact `id` if it is still at `version`, with an `updated`
    /// event holding `changes`. `false` when the row was not at that version (or is gone):
    /// nothing was written.
    pub async fn update(
        &mut self,
        id: i64,
        version: i64,
        columns: contacts::ActiveModel,
        changes: Value,
    ) -> Result<bool> {
        let result = contacts::Entity::update_many()
            .set(contacts::ActiveModel {
                updated_at: Set(self.stamp.at),
                ..columns
            })
            .col_expr(contacts::Column::Version, Expr::col(contacts::Column::Version).add(1))
            .filter(contacts::Column::Id.eq(id))
            .filter(contacts::Column::Version.eq(version))
            .exec(&self.txn)
            .await?;
        if result.rows_affected == 0 {
            return Ok(false);
        }
        self.event(id, "updated", changes).await?;
        self.touch([id]);
        Ok(true)
    }

    /// Marks contacts `ids` as moved without a write of their own (a company's people see
    /// its new name as their `company`), so the upkeep looks at them too.
    pub fn affects(&mut self, ids: impl IntoIterator<Item = i64>) {
        self.touch(ids);
    }

    /// Takes company `company_id`'s people out of it, each with an `updated` event;
    /// answers their ids.
    pub async fn detach_people(&mut self, company_id: i64) -> Result<Vec<i64>> {
        let people = people_of(&self.txn, company_id).await?;
        for person in &people {
            self.event(*person, "updated", json!({"company_id": [company_id, null]}))
                .await?;
        }
        self.bump_where(contacts::Column::CompanyId.eq(company_id), |u| {
            u.col_expr(contacts::Column::CompanyId, Expr::value(Option::<i64>::None))
        })
        .await?;
        self.touch(people.iter().copied());
        Ok(people)
    }

    /// Deletes contact `id` (if still at `version`, when given), after the hook has seen it
    /// go, with a `deleted` event holding `snapshot`. `false` when it was not at that
    /// version: nothing was deleted.
    pub async fn delete(&mut self, id: i64, version: Option<i64>, snapshot: Value) -> Result<bool> {
        // Before the rows go with the contact, so the history keeps the leaves.
        self.hook.deleting(&self.txn, id).await?;
        let mut delete = contacts::Entity::delete_many().filter(contacts::Column::Id.eq(id));
        if let Some(v) = version {
            delete = delete.filter(contacts::Column::Version.eq(v));
        }
        if delete.exec(&self.txn).await?.rows_affected == 0 {
            return Ok(false);
        }
        self.event(id, "deleted", snapshot).await?;
        self.touched.retain(|t| *t != id);
        Ok(true)
    }

    /// Moves every contact of type `from` to type `to`, each with an `updated` event
    /// holding `changes` (written first, while the rows still carry the old type).
    pub async fn retype(&mut self, from: i64, to: i64, changes: Value) -> Result<u64> {
        let moved: Vec<i64> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .filter(contacts::Column::TypeId.eq(from))
            .into_tuple()
            .all(&self.txn)
            .await?;
        for chunk in moved.chunks(500) {
            self.events(chunk, "updated", &changes).await?;
        }
        self.bump_where(contacts::Column::TypeId.eq(from), |u| {
            u.col_expr(contacts::Column::TypeId, Expr::value(to))
        })
        .await?;
        let n = moved.len() as u64;
        self.touch(moved);
        Ok(n)
    }

    /// Sets (or with `None` removes) extra field `key` of contact `id`, recomputing its
    /// derived columns under `fold_schema`, with a `field_converted` or
    /// `field_value_removed` event holding the old and the new value.
    pub async fn set_field_value(
        &mut self,
        fold_schema: &FoldSchema,
        id: i64,
        key: &str,
        new: Option<Value>,
        old: Value,
    ) -> Result<()> {
        let Some(mut row) = contacts::Entity::find_by_id(id).one(&self.txn).await? else {
            return Ok(());
        };
        let mut fields: std::collections::BTreeMap<String, Value> = match std::mem::take(&mut row.fields) {
            Value::Object(map) => map.into_iter().collect(),
            _ => std::collections::BTreeMap::new(),
        };
        match &new {
            Some(v) => fields.insert(key.to_owned(), v.clone()),
            None => fields.remove(key),
        };
        row.fields = Value::Object(fields.into_iter().collect());
        let mut columns = contacts::ActiveModel {
            fields: Set(row.fields.clone()),
            ..Default::default()
        };
        Derived::compute(&Source::of_model(&row), fold_schema).set_on(&mut columns);
        let action = if new.is_some() {
            "field_converted"
        } else {
            "field_value_removed"
        };
        self.bump_where(contacts::Column::Id.eq(id), |u| u.set(columns)).await?;
        self.event(id, action, json!({ format!("fields.{key}"): [old, new] }))
            .await?;
        self.touch([id]);
        Ok(())
    }

    /// Runs the upkeep over the contacts written, then commits.
    pub async fn commit(mut self) -> Result<Written> {
        // By id: concurrent writes take the membership rows in one order.
        self.touched.sort_unstable();
        self.touched.dedup();
        if !self.touched.is_empty() {
            self.hook.written(&self.txn, &self.touched).await?;
        }
        self.txn.commit().await?;
        Ok(Written { ids: self.touched })
    }

    /// Gives up: nothing of the write stays.
    pub async fn rollback(self) -> Result<()> {
        self.txn.rollback().await?;
        Ok(())
    }

    /// `UPDATE contacts SET <what>, version = version + 1, updated_at = now WHERE <which>`.
    async fn bump_where(
        &self,
        which: sea_orm::sea_query::SimpleExpr,
        what: impl FnOnce(sea_orm::UpdateMany<contacts::Entity>) -> sea_orm::UpdateMany<contacts::Entity>,
    ) -> Result<u64> {
        let update = contacts::Entity::update_many()
            .col_expr(contacts::Column::Version, Expr::col(contacts::Column::Version).add(1))
            .col_expr(contacts::Column::UpdatedAt, Expr::value(self.stamp.at))
            .filter(which);
        Ok(what(update).exec(&self.txn).await?.rows_affected)
    }

    async fn event(&self, contact_id: i64, action: &str, changes: Value) -> Result<()> {
        contact_events::ActiveModel {
            contact_id: Set(contact_id),
            user_id: Set(Some(self.stamp.user_id)),
            at: Set(self.stamp.at),
            action: Set(action.to_owned()),
            changes: Set(changes),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?;
        Ok(())
    }

    async fn events(&self, ids: &[i64], action: &str, changes: &Value) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let rows = ids.iter().map(|id| contact_events::ActiveModel {
            contact_id: Set(*id),
            user_id: Set(Some(self.stamp.user_id)),
            at: Set(self.stamp.at),
            action: Set(action.to_owned()),
            changes: Set(changes.clone()),
            ..Default::default()
        });
        contact_events::Entity::insert_many(rows).exec(&self.txn).await?;
        Ok(())
    }
}

/// Contacts per multi-row `INSERT` of [`ContactWrite::insert_many`]: some 40 columns a
/// row, under SQLite's 32,766 bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// A key no other advisory lock of the application uses: "kartotek" in ASCII.
const SCHEMA_LOCK_KEY: i64 = 0x6b61_7274_6f74_656b;

/// Begins a transaction that writes contacts (their derived columns included): it waits
/// for a field definition change in progress and keeps the next one out until it ends.
pub(crate) async fn begin_contact_write(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    begin_locked(db, "pg_advisory_xact_lock_shared").await
}

/// Begins a transaction that changes field definitions (and recomputes what they derive):
/// it waits for the contact writes in progress and keeps new ones out until it ends.
pub(crate) async fn begin_schema_change(db: &DatabaseConnection) -> Result<DatabaseTransaction> {
    begin_locked(db, "pg_advisory_xact_lock").await
}

async fn begin_locked(db: &DatabaseConnection, pg_function: &str) -> Result<DatabaseTransaction> {
    let txn = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared(&format!("SELECT {pg_function}({SCHEMA_LOCK_KEY})"))
            .await?;
    }
    Ok(txn)
}

/// The people of company `id`.
pub(crate) async fn people_of(db: &impl ConnectionTrait, id: i64) -> Result<Vec<i64>> {
    Ok(contacts::Entity::find()
        .select_only()
        .column(contacts::Column::Id)
        .filter(contacts::Column::CompanyId.eq(id))
        .into_tuple()
        .all(db)
        .await?)
}
