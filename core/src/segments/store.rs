//! Storing memberships: `segment_members` and its `segment_events`, the segment's row lock
//! that puts changes of one segment's members one after the other, and the set-based
//! rebuild of a segment whose condition is exact in SQL.
//!
//! Every change of members goes through [`record`] or [`rebuild_exact`], so each joining
//! and leaving has its event (the size history).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query, SelectStatement};
use std::collections::HashSet;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set};

use super::Rebuilt;
use crate::entities::{contacts, segment_events, segment_members, segments};
use crate::{Error, Result};

/// `SELECT contact_id FROM segment_members WHERE segment_id = id`.
pub(super) fn members_of(id: i64) -> SelectStatement {
    Query::select()
        .column(segment_members::Column::ContactId)
        .from(segment_members::Entity)
        .and_where(segment_members::Column::SegmentId.eq(id))
        .to_owned()
}

/// Which of `ids` are members of segment `id`, as `db` sees them.
pub(super) async fn members_among(db: &impl ConnectionTrait, id: i64, ids: &[i64]) -> Result<HashSet<i64>> {
    Ok(segment_members::Entity::find()
        .select_only()
        .column(segment_members::Column::ContactId)
        .filter(segment_members::Column::SegmentId.eq(id))
        .filter(segment_members::Column::ContactId.is_in(ids.to_vec()))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// `SELECT id FROM contacts WHERE condition`.
pub(super) fn matching(condition: Condition) -> SelectStatement {
    Query::select()
        .column((contacts::Entity, contacts::Column::Id))
        .from(contacts::Entity)
        .cond_where(condition)
        .to_owned()
}

pub(super) fn contact_id() -> Expr {
    Expr::col((contacts::Entity, contacts::Column::Id))
}

/// Takes the segment's row lock for the rest of `txn` (a no-op update: a row lock on
/// PostgreSQL, the write lock on SQLite), so that changes of one segment's members,
/// from this server or another, run one after the other: two rebuilds or two adds of
/// the same contact can't both insert it, and the events match the members.
pub(super) async fn lock(txn: &DatabaseTransaction, id: i64) -> Result<()> {
    let locked = segments::Entity::update_many()
        .col_expr(segments::Column::Id, Expr::col(segments::Column::Id))
        .filter(segments::Column::Id.eq(id))
        .exec(txn)
        .await?;
    if locked.rows_affected == 0 {
        return Err(Error::NotFound { what: "segment" });
    }
    Ok(())
}

/// The set-based rebuild of an exact condition: nothing but counts leaves the database.
/// Leavers and newcomers are anti-joins written as `NOT EXISTS`, which PostgreSQL plans
/// as hash anti-joins at any size (`NOT IN (subquery)` becomes a hashed subplan only
/// while the subquery fits in `work_mem`, and a per-row scan beyond it).
pub(super) async fn rebuild_exact(
    txn: &DatabaseTransaction,
    id: i64,
    condition: Condition,
    now: DateTime<Utc>,
) -> Result<Rebuilt> {
    use segment_events::Column as E;
    use segment_members::Column as M;
    let leaving = Condition::all().add(M::SegmentId.eq(id)).add(
        Expr::exists(
            matching(condition.clone())
                .and_where(contact_id().equals((segment_members::Entity, M::ContactId)))
                .to_owned(),
        )
        .not(),
    );
    let left_events = Query::insert()
        .into_table(segment_events::Entity)
        .columns([E::SegmentId, E::ContactId, E::Event, E::At])
        .select_from(
            Query::select()
                .column(M::SegmentId)
                .column(M::ContactId)
                .expr(Expr::val("left"))
                .expr(Expr::val(now))
                .from(segment_members::Entity)
                .cond_where(leaving.clone())
                .to_owned(),
        )
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_owned();
    txn.execute(&left_events).await?;
    let left = segment_members::Entity::delete_many()
        .filter(leaving)
        .exec(txn)
        .await?
        .rows_affected;
    let joining = Condition::all().add(condition).add(
        Expr::exists(
            members_of(id)
                .and_where(
                    Expr::col((segment_members::Entity, M::ContactId)).equals((contacts::Entity, contacts::Column::Id)),
                )
                .to_owned(),
        )
        .not(),
    );
    let joined_events = Query::insert()
        .into_table(segment_events::Entity)
        .columns([E::SegmentId, E::ContactId, E::Event, E::At])
        .select_from(
            Query::select()
                .expr(Expr::val(id))
                .column((contacts::Entity, contacts::Column::Id))
                .expr(Expr::val("joined"))
                .expr(Expr::val(now))
                .from(contacts::Entity)
                .cond_where(joining.clone())
                .to_owned(),
        )
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_owned();
    txn.execute(&joined_events).await?;
    let insert = Query::insert()
        .into_table(segment_members::Entity)
        .columns([M::SegmentId, M::ContactId, M::JoinedAt])
        .select_from(
            Query::select()
                .expr(Expr::val(id))
                .column((contacts::Entity, contacts::Column::Id))
                .expr(Expr::val(now))
                .from(contacts::Entity)
                .cond_where(joining)
                .to_owned(),
        )
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_owned();
    let joined = txn.execute(&insert).await?.rows_affected();
    Ok(Rebuilt { joined, left })
}

/// Adds `joined` and removes `left` from the members of `id`, with their events.
pub(super) async fn record(
    txn: &DatabaseTransaction,
    id: i64,
    joined: &[i64],
    left: &[i64],
    now: DateTime<Utc>,
) -> Result<()> {
    for chunk in left.chunks(500) {
        segment_members::Entity::delete_many()
            .filter(segment_members::Column::SegmentId.eq(id))
            .filter(segment_members::Column::ContactId.is_in(chunk.to_vec()))
            .exec(txn)
            .await?;
        events(txn, id, chunk, "left", now).await?;
    }
    for chunk in joined.chunks(500) {
        segment_members::Entity::insert_many(chunk.iter().map(|&c| segment_members::ActiveModel {
            segment_id: Set(id),
            contact_id: Set(c),
            joined_at: Set(now),
        }))
        .exec_without_returning(txn)
        .await?;
        events(txn, id, chunk, "joined", now).await?;
    }
    Ok(())
}

async fn events(txn: &DatabaseTransaction, id: i64, ids: &[i64], event: &str, now: DateTime<Utc>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    segment_events::Entity::insert_many(ids.iter().map(|&c| segment_events::ActiveModel {
        segment_id: Set(id),
        contact_id: Set(c),
        event: Set(event.to_owned()),
        at: Set(now),
        ..Default::default()
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}
