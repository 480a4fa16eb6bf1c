//! Time-relative segments, decided again where their boundary moved.
//!
//! A segment whose filter depends on the clock ("bought within the last 30 days") changes
//! members with no write at all, so the worker checks every time-relative segment on a
//! schedule ([`super::jobs::TIME_CHECK_EVERY`]). It doesn't evaluate the whole filter
//! again: every evaluation (a rebuild or one of these checks) stores what the members
//! were decided against in `segments.evaluated` ([`Evaluated`]): the instant the filter
//! was lowered at, the generations of the catalogue and the plugins, and the last
//! `contact_events` and `activities` ids whose contacts it decided. The check lowers the
//! filter at that instant and at now, and decides again only
//!
//! - the contacts on the boundary that moved between the two lowerings
//!   ([`crate::filter::boundary::moved`]: `created_at` between the old and the new
//!   `now - 30 days`, purchases between the old and the new start of the window), found
//!   through the same indexes as any filter, and
//! - the contacts written or given activities since the marks (their writes decided them
//!   with the plan of their own moment, which a plugin's calendar may place anywhere).
//!
//! Every other contact has the same value on every leaf of the predicate at both
//! instants, so its stored membership stands. The check holds the segment's row lock for
//! its last part, like a rebuild, so no write decides a contact between the marks and
//! the result. Where the two lowerings can't be compared (their shapes differ, a
//! residual's arguments changed, a value whose order is a collation's), or the
//! catalogue or a plugin changed since, or the segment was never evaluated, the check
//! asks for a whole rebuild instead, as every check did before.
//!
//! Alternatives considered:
//! - The whole filter every 5 minutes (what this replaced): simple, but its cost is the
//!   segment's size times the number of time-relative segments, forever; at 1M contacts
//!   it was most of the worker's time.
//! - Asking each plugin for the boundary (a `moved(op, args, then, now)` export): exact
//!   for any operator, but every time-relative plugin would need it, and the host can
//!   read the same answer off two lowerings it already asks for.
//! - Storing the plan itself instead of the instant: no second lowering, but the IR would
//!   need a stored form that outlives plugin and host versions; the generations in
//!   [`Evaluated`] already say when a stored plan would have gone stale.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::jobs::LEASE;
use super::{Rebuilt, Segments, lock, members_among, record};
use crate::Result;
use crate::clock::stored;
use crate::entities::{activities, contact_events, contacts, segments};
use crate::filter::boundary;
pub(super) use crate::filter::catalog::read_generations as generations;
use crate::plugin::ir::Predicate;

/// What a dynamic segment's members were last decided against (`segments.evaluated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Evaluated {
    /// The instant the filter was lowered at.
    pub at: DateTime<Utc>,
    /// `catalog_generation` and `plugin_generation` when it was lowered.
    pub catalog: i64,
    pub plugins: i64,
    /// The last `contact_events` and `activities` ids whose contacts it decided.
    pub events: i64,
    pub activities: i64,
}

impl Evaluated {
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// What checking one time-relative segment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recheck {
    /// The contacts on the moved boundary and those written since were decided again.
    Moved {
        segment: i64,
        /// How many contacts were decided again.
        candidates: u64,
        joined: u64,
        left: u64,
    },
    /// The whole filter is evaluated again (a rebuild was asked for), and why.
    Whole { segment: i64, why: &'static str },
    /// Another instance is rebuilding or checking it, or its definition changed meanwhile.
    Skipped { segment: i64 },
}

impl Recheck {
    /// The segment checked.
    pub fn segment(&self) -> i64 {
        match self {
            Recheck::Moved { segment, .. } | Recheck::Whole { segment, .. } | Recheck::Skipped { segment } => *segment,
        }
    }
}

/// The last `contact_events` and `activities` ids.
pub(super) async fn marks(db: &impl ConnectionTrait) -> Result<(i64, i64)> {
    Ok((
        last_id::<contact_events::Entity>(db, contact_events::Column::Id).await?,
        last_id::<activities::Entity>(db, activities::Column::Id).await?,
    ))
}

/// The largest `id` of `E`, 0 when it has no rows.
async fn last_id<E: EntityTrait>(db: &impl ConnectionTrait, id: E::Column) -> Result<i64> {
    Ok(E::find()
        .select_only()
        .expr(Expr::col(id).max())
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0))
}

/// The contacts written or given activities after the marks.
pub(super) async fn written_since(db: &impl ConnectionTrait, events: i64, activities_: i64) -> Result<HashSet<i64>> {
    let mut ids: HashSet<i64> = contact_events::Entity::find()
        .select_only()
        .column(contact_events::Column::ContactId)
        .filter(contact_events::Column::Id.gt(events))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    ids.extend(
        activities::Entity::find()
            .select_only()
            .column(activities::Column::ContactId)
            .filter(activities::Column::Id.gt(activities_))
            .into_tuple::<i64>()
            .all(db)
            .await?,
    );
    Ok(ids)
}

impl Segments {
    /// Checks every time-relative dynamic segment (the schedule's work, see the module
    /// docs); says what it did with each.
    pub async fn recheck_time_relative_segments(&self) -> Result<Vec<Recheck>> {
        let Some(book) = self.current_book().await? else {
            return Ok(Vec::new());
        };
        let mut done = Vec::new();
        for entry in book.entries.iter().filter(|e| e.time_relative) {
            done.push(self.recheck(entry.id).await?);
        }
        Ok(done)
    }

    /// Checks segment `id` if no rebuild or other check holds it.
    async fn recheck(&self, id: i64) -> Result<Recheck> {
        let now = self.base.clock.now();
        let held = stored(now);
        let claimed = segments::Entity::update_many()
            .col_expr(segments::Column::LeaseUntil, Expr::value(Some(held + LEASE)))
            .filter(segments::Column::Id.eq(id))
            .filter(segments::Column::Status.eq("ok"))
            .filter(
                sea_orm::Condition::any()
                    .add(segments::Column::LeaseUntil.is_null())
                    .add(segments::Column::LeaseUntil.lt(held)),
            )
            .exec(&self.base.db)
            .await?;
        if claimed.rows_affected == 0 {
            return Ok(Recheck::Skipped { segment: id });
        }
        let checked = self.recheck_claimed(id, now).await;
        if !matches!(checked, Ok(Recheck::Moved { .. })) {
            // A check that moved members let go in its transaction, and a whole rebuild
            // was asked for with the lease cleared; otherwise this lease, if still ours,
            // is let go here (a rebuild may be waiting for it).
            segments::Entity::update_many()
                .col_expr(segments::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                .filter(segments::Column::Id.eq(id))
                .filter(segments::Column::LeaseUntil.eq(held + LEASE))
                .exec(&self.base.db)
                .await?;
        }
        checked
    }

    async fn recheck_claimed(&self, id: i64, now: DateTime<Utc>) -> Result<Recheck> {
        // The definition as claimed (the book's may be older), checked again under the lock.
        let Some(m) = segments::Entity::find_by_id(id).one(&self.base.db).await? else {
            return Ok(Recheck::Skipped { segment: id });
        };
        let Some(filter) = m.filter.clone() else {
            return Ok(Recheck::Skipped { segment: id });
        };
        let filter = &filter;
        let Some(last) = m.evaluated.and_then(|j| serde_json::from_value::<Evaluated>(j).ok()) else {
            return self.whole(id, "it has not been evaluated since it was saved").await;
        };
        let (catalog, (catalog_generation, plugins_generation)) = self.filter.current_catalog_at().await?;
        if (last.catalog, last.plugins) != (catalog_generation, plugins_generation) {
            return self.whole(id, "fields, types, users or plugins changed since").await;
        }
        let (Ok(before), Ok(after)) = (
            self.filter.prepare_at(filter, catalog.clone(), last.at).await,
            self.filter.prepare_at(filter, catalog, now).await,
        ) else {
            return self.whole(id, "its filter can't be lowered").await;
        };
        let Some(moved) = boundary::moved(&before.plan, &after.plan) else {
            return self
                .whole(id, "its plugins' answers then and now can't be compared")
                .await;
        };
        let backend = self.base.db.get_database_backend();
        let txn = self.base.db.begin().await?;
        lock(&txn, id).await?;
        let current = segments::Entity::find_by_id(id).one(&txn).await?;
        if current.is_none_or(|c| c.version != m.version || c.status != "ok") {
            txn.rollback().await?;
            return Ok(Recheck::Skipped { segment: id });
        }
        let (events, activities_) = marks(&txn).await?;
        let mut candidates: BTreeSet<i64> = written_since(&txn, last.events, last.activities)
            .await?
            .into_iter()
            .collect();
        if moved != Predicate::Never {
            candidates.extend(
                contacts::Entity::find()
                    .select_only()
                    .column(contacts::Column::Id)
                    .filter(after.condition_of(&moved, backend))
                    .into_tuple::<i64>()
                    .all(&txn)
                    .await?,
            );
        }
        let condition = after.condition(backend);
        let candidates: Vec<i64> = candidates.into_iter().collect();
        let (mut joined, mut left) = (Vec::new(), Vec::new());
        for chunk in candidates.chunks(500) {
            let matches = self.matching_among(&txn, &after, &condition, chunk).await?;
            let members = members_among(&txn, id, chunk).await?;
            joined.extend(chunk.iter().filter(|c| matches.contains(c) && !members.contains(c)));
            left.extend(chunk.iter().filter(|c| !matches.contains(c) && members.contains(c)));
        }
        record(&txn, id, &joined, &left, stored(now)).await?;
        let rebuilt = Rebuilt {
            joined: joined.len() as u64,
            left: left.len() as u64,
        };
        let evaluated = Evaluated {
            at: after.plan.now,
            catalog: catalog_generation,
            plugins: plugins_generation,
            events,
            activities: activities_,
        };
        self.finish_in(&txn, id, m.version, Some(rebuilt), Some(evaluated))
            .await?;
        txn.commit().await?;
        self.after_rebuild(rebuilt).await?;
        Ok(Recheck::Moved {
            segment: id,
            candidates: candidates.len() as u64,
            joined: rebuilt.joined,
            left: rebuilt.left,
        })
    }

    /// Asks for a whole rebuild of segment `id` (an `ok` one), saying why.
    async fn whole(&self, id: i64, why: &'static str) -> Result<Recheck> {
        super::jobs::request_ok(&self.base.db, id).await?;
        Ok(Recheck::Whole { segment: id, why })
    }
}
