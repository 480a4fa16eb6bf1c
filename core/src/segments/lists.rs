//! Adding to a static list in one go: chosen contacts, or every contact a filter (and a
//! search) finds.
//!
//! Both follow [`Segments::add_segment_members`]: only admins and managers change lists
//! ([`Actor::may_change_segments`]), only static lists take members by hand, a contact
//! already in the list keeps its join time, and each newcomer gets a `joined` event.
//!
//! Adding a filter's result is about what the actor sees: the visibility condition is
//! part of the query, so a manager adds the matching contacts they own or were granted,
//! never the rest of the base. When the filter is exact in SQL (no residuals), the
//! addition is set-based in one transaction under the list's lock: `joined` events and
//! `INSERT INTO segment_members ... SELECT id FROM contacts WHERE <visible> AND <filter>
//! AND <search> AND NOT EXISTS (<that contact's membership>)`, so no ids travel whatever
//! the size. With residuals, the filter's candidate walk ([`crate::filter::walk`])
//! decides the candidates by id in chunks before the lock is taken; the matching ids
//! (eight bytes each) are then written in chunks.

use std::collections::HashSet;

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use serde_json::Value;

use super::Segments;
use super::{Rebuilt, SegmentKind, lock, record};
use crate::auth::Actor;
use crate::clock::stored;
use crate::contacts::visibility::{self, Access};
use crate::entities::{contacts, segment_events, segment_members, segments};
use crate::filter::{Prepared, Walk};
use crate::{Error, Result};

/// How many ids one membership query or insert carries.
const IDS: usize = 500;

/// What to add to a static list.
#[derive(Debug, Clone, Copy)]
pub enum Addition<'a> {
    /// These contacts (each must be one the actor sees; errors at `contact_ids[i]`).
    Ids(&'a [i64]),
    /// Every contact the actor sees that matches `filter` (DESIGN §5; `null` or `{}`:
    /// every contact) and the global search `q`. Errors at `filter.<node>` and `q`.
    Matching { filter: &'a Value, q: Option<&'a str> },
}

/// What an addition to a static list did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Added {
    /// Contacts that joined the list.
    pub joined: u64,
    /// Contacts asked for that were in the list already (they keep their join time).
    pub already: u64,
}

impl From<Added> for Rebuilt {
    fn from(a: Added) -> Self {
        Rebuilt {
            joined: a.joined,
            left: 0,
        }
    }
}

impl Segments {
    /// Every static list, by name (in collation order): id and name (no counts; for
    /// pickers).
    pub async fn static_lists(&self) -> Result<Vec<(i64, String)>> {
        let mut lists: Vec<(i64, String)> = segments::Entity::find()
            .select_only()
            .column(segments::Column::Id)
            .column(segments::Column::Name)
            .filter(segments::Column::Kind.eq(SegmentKind::Static.as_str()))
            .into_tuple()
            .all(&self.base.db)
            .await?;
        lists.sort_by(|a, b| crate::collation::compare(&a.1, &b.1).then(a.0.cmp(&b.0)));
        Ok(lists)
    }

    /// Adds to the static list `id` every contact `actor` sees that matches `filter` and
    /// the search `q`; those already in it stay as they were. See [`Segments::add_to_list`].
    pub async fn add_matching_to_list(
        &self,
        actor: &Actor,
        id: i64,
        filter: &Value,
        q: Option<&str>,
    ) -> Result<Rebuilt> {
        Ok(self
            .add_to_list(actor, id, Addition::Matching { filter, q })
            .await?
            .into())
    }

    /// Adds contacts to the static list `id` and says how many joined and how many were
    /// in it already.
    ///
    /// Errors: `Forbidden` for agents, `NotFound` for no such segment, `Conflict` for a
    /// dynamic segment, `Validation` at `contact_ids[i]`, `filter.<node>` or `q`.
    pub async fn add_to_list(&self, actor: &Actor, id: i64, what: Addition<'_>) -> Result<Added> {
        match what {
            Addition::Ids(ids) => {
                let done = self.add_segment_members(actor, id, ids).await?;
                let asked = ids.iter().collect::<HashSet<_>>().len() as u64;
                Ok(Added {
                    joined: done.joined,
                    already: asked.saturating_sub(done.joined),
                })
            }
            Addition::Matching { filter, q } => {
                self.static_list(actor, id).await?;
                let prepared = self
                    .filter
                    .prepare_filter(filter)
                    .await
                    .map_err(|e| e.under("filter"))?
                    .seen_by(actor);
                let search = self.contacts.search_condition(q.unwrap_or_default())?;
                let backend = self.base.db.get_database_backend();
                let mut wanted = Condition::all()
                    .add(visibility::condition(actor, Access::Read))
                    .add(prepared.condition(backend));
                if let Some(search) = search {
                    wanted = wanted.add(search);
                }
                if prepared.has_residual() {
                    self.add_decided(id, &prepared, wanted).await
                } else {
                    self.add_exact(id, wanted).await
                }
            }
        }
    }

    /// The set-based addition of the contacts that satisfy `wanted` (exact in SQL).
    async fn add_exact(&self, id: i64, wanted: Condition) -> Result<Added> {
        let now = stored(self.base.clock.now());
        let txn = self.base.db.begin().await?;
        lock(&txn, id).await?;
        let matched = contacts::Entity::find().filter(wanted.clone()).count(&txn).await?;
        let joining = wanted.add(Expr::not_exists(member_row(id)));
        let joined = insert_joining(&txn, id, joining, now).await?;
        txn.commit().await?;
        Ok(Added {
            joined,
            already: matched.saturating_sub(joined),
        })
    }

    /// The addition of the candidates of `wanted` (a superset) that `prepared` decides in.
    async fn add_decided(&self, id: i64, prepared: &Prepared, wanted: Condition) -> Result<Added> {
        let mut matches = Vec::new();
        let mut walk = Walk::by_id(&self.filter, prepared, wanted).ids_only();
        while let Some(chunk) = walk.next().await? {
            matches.extend(chunk.matching_ids());
        }
        let now = stored(self.base.clock.now());
        let txn = self.base.db.begin().await?;
        lock(&txn, id).await?;
        let mut joined = Vec::new();
        for chunk in matches.chunks(IDS) {
            let present = super::members_among(&txn, id, chunk).await?;
            joined.extend(chunk.iter().copied().filter(|c| !present.contains(c)));
        }
        record(&txn, id, &joined, &[], now).await?;
        txn.commit().await?;
        let joined = joined.len() as u64;
        Ok(Added {
            joined,
            already: (matches.len() as u64).saturating_sub(joined),
        })
    }
}

/// `SELECT 1 FROM segment_members WHERE segment_id = id AND contact_id = contacts.id`:
/// under `NOT EXISTS`, an anti-join on the members' primary key, which both databases run
/// as well for a million members as for ten (a `NOT IN` list of them may not fit in
/// PostgreSQL's hashed subplan).
fn member_row(id: i64) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .expr(Expr::val(1))
        .from(segment_members::Entity)
        .and_where(segment_members::Column::SegmentId.eq(id))
        .and_where(
            Expr::col((segment_members::Entity, segment_members::Column::ContactId))
                .equals((contacts::Entity, contacts::Column::Id)),
        )
        .to_owned()
}

/// Adds the contacts of `joining` (none of them members yet) to `id` with their `joined`
/// events; answers how many joined.
async fn insert_joining(
    txn: &DatabaseTransaction,
    id: i64,
    joining: Condition,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    use segment_events::Column as E;
    use segment_members::Column as M;
    let select = |event: Option<&str>| {
        let mut q = Query::select();
        q.expr(Expr::val(id)).column((contacts::Entity, contacts::Column::Id));
        if let Some(event) = event {
            q.expr(Expr::val(event));
        }
        q.expr(Expr::val(now))
            .from(contacts::Entity)
            .cond_where(joining.clone())
            .to_owned()
    };
    let events = Query::insert()
        .into_table(segment_events::Entity)
        .columns([E::SegmentId, E::ContactId, E::Event, E::At])
        .select_from(select(Some("joined")))
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_owned();
    txn.execute(&events).await?;
    let insert = Query::insert()
        .into_table(segment_members::Entity)
        .columns([M::SegmentId, M::ContactId, M::JoinedAt])
        .select_from(select(None))
        .map_err(|e| Error::Internal(e.to_string()))?
        .to_owned();
    Ok(txn.execute(&insert).await?.rows_affected())
}
