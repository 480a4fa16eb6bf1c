//! Keeping memberships current as contacts change.
//!
//! Every write that can move a contact in or out of a dynamic segment (creating, editing
//! or deleting a contact, renaming or deleting its company, recording an activity) runs
//! [`Segments::maintain_memberships`] in its own transaction (the hook of
//! [`crate::contacts::write`]), before it commits: the contact
//! is read back through the transaction, every dynamic segment is evaluated against it
//! in memory ([`crate::filter::memory`]; residuals go to their plugins in one batch per
//! segment), and the differences from the stored memberships are written with their
//! `joined`/`left` events. So the response that saved the change already reflects it in
//! every segment's count and members, on every instance.
//!
//! ## The book of compiled segments
//!
//! Preparing 200 filters (catalogue, checks, a plugin `lower` per condition) costs far
//! more than evaluating them, so each instance keeps them prepared in a [`Book`], in an
//! order where a segment comes after the segments it refers to (`in_segment` then reads
//! the memberships just decided). The book is checked on every write against a
//! [`Stamp`]: the versions of the dynamic segments, `catalog_generation` (bumped by field,
//! type and user changes) and `plugin_generation`. Any difference (from this instance or
//! another) rebuilds it. A segment whose filter uses a time-relative operator (its
//! lowering changes with the clock) is lowered again when its plan is older than
//! [`MAX_PLAN_AGE`].
//!
//! A segment that can't be prepared any more (its plugin disabled, a field gone) or that
//! is marked `needs_attention` is left out: it keeps its last members and is never
//! emptied by accident.
//!
//! ## Concurrency
//!
//! The write takes the dynamic segments' rows `FOR SHARE` on PostgreSQL before it touches
//! the contact, and a rebuild takes its segment's row exclusively. So a rebuild and the
//! writes that overlap it run one after the other per segment, in one lock order
//! (segments, then contacts), and neither can overwrite the other's membership with a
//! decision made on an older view: the lost update of "rebuild read the old contact,
//! write inserted it, rebuild deleted it" can't happen. Writes don't block each other
//! on segments (shared locks), only on the contact row as before. On SQLite a write holds
//! the database's single write lock anyway (`BEGIN IMMEDIATE`).
//!
//! Alternatives considered:
//! - Re-running each segment's SQL for the changed contact (`id = ? AND condition`):
//!   exact, but 200 queries per write; the in-memory evaluator is the same semantics
//!   (the property test holds it to SQLite and PostgreSQL) for no round trip.
//! - Queueing the contact for a background pass: cheaper writes, but the response would
//!   not reflect the change, and the segments would lag by the queue's depth.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::Duration;
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use serde_json::Value;

use super::Segments;
use super::{SegmentKind, record, segment_refs};
use crate::Result;
use crate::clock::stored;
use crate::contacts::write::{BoxFuture, UpkeepSource, WriteHook};
use crate::contacts::{Contact, to_contact};
use crate::entities::{contact_types, contacts, segments};
use crate::filter::Prepared;
use crate::filter::memory::Record;
use crate::plugin::CallContext;
use crate::plugin::ir::Predicate;

/// How old a time-relative segment's plan may be before a write lowers it again.
pub const MAX_PLAN_AGE: Duration = Duration::seconds(1);

/// What the book was compiled from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Stamp {
    catalog: i64,
    plugins: i64,
    /// `(id, version, needs attention)` of every dynamic segment, by id.
    segments: Vec<(i64, i64, bool)>,
}

/// One dynamic segment, prepared.
#[derive(Debug)]
pub(crate) struct Entry {
    pub id: i64,
    filter: Value,
    prepared: Mutex<Arc<Prepared>>,
    /// Whether lowering depends on the clock.
    pub time_relative: bool,
    /// Whether the predicate reads activities.
    activities: bool,
}

/// The dynamic segments an instance evaluates, referenced segments first.
#[derive(Debug, Default)]
pub(crate) struct Book {
    stamp: Stamp,
    pub entries: Vec<Entry>,
}

impl Book {
    fn needs_activities(&self) -> bool {
        self.entries.iter().any(|e| e.activities)
    }
}

/// The per-instance state of segments: the book, and the background worker's wake-up.
#[derive(Debug)]
pub struct SegmentState {
    book: tokio::sync::Mutex<Option<Arc<Book>>>,
    pub(crate) wake: tokio::sync::Notify,
    /// Definitions over at most this many contacts are built in the request that saved
    /// them; larger ones in the background (see [`super::jobs`]).
    inline_limit: std::sync::atomic::AtomicU64,
    /// A rebuild that moves at least this many memberships refreshes the membership
    /// tables' statistics (see [`super::jobs::STATISTICS_AFTER`]).
    statistics_after: std::sync::atomic::AtomicU64,
    /// How often the worker checks time-relative segments, in seconds of the clock (see
    /// [`super::jobs::TIME_CHECK_EVERY`]).
    time_check_every: std::sync::atomic::AtomicI64,
}

impl Default for SegmentState {
    fn default() -> Self {
        SegmentState {
            book: tokio::sync::Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            inline_limit: std::sync::atomic::AtomicU64::new(super::jobs::INLINE_LIMIT),
            statistics_after: std::sync::atomic::AtomicU64::new(super::jobs::STATISTICS_AFTER),
            time_check_every: std::sync::atomic::AtomicI64::new(super::jobs::TIME_CHECK_EVERY.num_seconds()),
        }
    }
}

impl SegmentState {
    /// Sets how many contacts a definition may cover and still be built in the request
    /// that saved it (0: always in the background).
    pub fn set_inline_limit(&self, contacts: u64) {
        self.inline_limit.store(contacts, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn inline_limit(&self) -> u64 {
        self.inline_limit.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sets how often the worker checks time-relative segments (measured on the clock).
    pub fn set_time_check_every(&self, every: Duration) {
        self.time_check_every
            .store(every.num_seconds(), std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn time_check_every(&self) -> Duration {
        Duration::seconds(self.time_check_every.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Sets how many memberships a rebuild moves before it refreshes the membership
    /// tables' statistics.
    pub fn set_statistics_after(&self, memberships: u64) {
        self.statistics_after
            .store(memberships, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn statistics_after(&self) -> u64 {
        self.statistics_after.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn uses_activities(p: &Predicate) -> bool {
    match p {
        Predicate::Activity(_) => true,
        Predicate::And(items) | Predicate::Or(items) => items.iter().any(uses_activities),
        Predicate::Not(inner) => uses_activities(inner),
        _ => false,
    }
}

/// The current stamp, read through `db`; with `lock` (a write's transaction on
/// PostgreSQL) it also takes the dynamic segments' rows `FOR SHARE` for the rest of the
/// transaction (see the module docs).
async fn read_stamp(db: &impl ConnectionTrait, lock: bool) -> Result<Stamp> {
    let backend = db.get_database_backend();
    // One round trip: every write with dynamic segments pays it.
    let mut sql = String::from(
        "SELECT s.id, s.version, s.status, \
         (SELECT generation FROM catalog_generation WHERE id = 1), \
         (SELECT generation FROM plugin_generation WHERE id = 1) \
         FROM segments s WHERE s.kind = 'dynamic' ORDER BY s.id",
    );
    if lock && backend == DbBackend::Postgres {
        sql.push_str(" FOR SHARE OF s");
    }
    let rows = db.query_all_raw(sea_orm::Statement::from_string(backend, sql)).await?;
    let mut stamp = Stamp::default();
    for row in rows {
        let status: String = row.try_get_by_index(2)?;
        stamp.segments.push((
            row.try_get_by_index(0)?,
            row.try_get_by_index(1)?,
            status == super::NEEDS_ATTENTION,
        ));
        stamp.catalog = row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0);
        stamp.plugins = row.try_get_by_index::<Option<i64>>(4)?.unwrap_or(0);
    }
    Ok(stamp)
}

/// `ids` ordered so that every segment comes after those it refers to.
fn referenced_first(refs: &BTreeMap<i64, Vec<i64>>) -> Vec<i64> {
    fn visit(id: i64, refs: &BTreeMap<i64, Vec<i64>>, seen: &mut HashSet<i64>, out: &mut Vec<i64>) {
        if !seen.insert(id) {
            return;
        }
        for r in refs.get(&id).into_iter().flatten() {
            if refs.contains_key(r) {
                visit(*r, refs, seen, out);
            }
        }
        out.push(id);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(refs.len());
    for id in refs.keys() {
        visit(*id, refs, &mut seen, &mut out);
    }
    out
}

/// The membership upkeep of contact writes (see [`crate::contacts::write`]): begins the
/// write with the book current inside it, decides the written contacts' memberships
/// before the commit, and records the leaves of a deleted contact.
struct Hook {
    segments: Segments,
    book: Option<Arc<Book>>,
}

impl WriteHook for Hook {
    fn written<'a>(&'a self, txn: &'a DatabaseTransaction, ids: &'a [i64]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match &self.book {
                Some(book) => self.segments.maintain_memberships(txn, book, ids).await,
                None => Ok(()),
            }
        })
    }

    fn deleting<'a>(&'a self, txn: &'a DatabaseTransaction, id: i64) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.segments.leave_all_segments(txn, id))
    }
}

impl UpkeepSource for Segments {
    fn begin(&self) -> BoxFuture<'_, Result<(DatabaseTransaction, Box<dyn WriteHook>)>> {
        Box::pin(async move {
            let (txn, book) = self.begin_contact_write().await?;
            let hook: Box<dyn WriteHook> = Box::new(Hook {
                segments: self.clone(),
                book,
            });
            Ok((txn, hook))
        })
    }
}

impl Segments {
    /// Fields, contact types or users changed: every instance prepares its segment filters
    /// again; with `rebuild`, contacts' values or types moved under the filters, so every
    /// dynamic segment is rebuilt.
    pub(crate) async fn definitions_changed(&self, rebuild: bool) -> Result<()> {
        crate::kernel::generations::catalog_changed(&self.base.db).await?;
        self.base.changes.mark();
        if rebuild {
            let dynamic: Vec<i64> = segments::Entity::find()
                .select_only()
                .column(segments::Column::Id)
                .filter(segments::Column::Kind.eq(SegmentKind::Dynamic.as_str()))
                .into_tuple()
                .all(&self.base.db)
                .await?;
            for id in dynamic {
                super::jobs::request(&self.base.db, id).await?;
            }
        }
        self.state.wake.notify_one();
        Ok(())
    }

    /// The per-instance segment state.
    pub fn segment_state(&self) -> &SegmentState {
        &self.state
    }

    /// Prepares every dynamic segment (see the module docs).
    async fn compile_book(&self, stamp: Stamp) -> Result<Book> {
        let catalog = self.filter.current_catalog().await?;
        let now = self.base.clock.now();
        let rows = segments::Entity::find()
            .filter(segments::Column::Kind.eq(SegmentKind::Dynamic.as_str()))
            .all(&self.base.db)
            .await?;
        let mut refs = BTreeMap::new();
        let mut prepared = HashMap::new();
        for m in rows {
            let Some(filter) = m.filter else { continue };
            if m.status == super::NEEDS_ATTENTION {
                continue;
            }
            // A filter that can't be prepared any more is left out (the worker's health
            // check marks it); its members stay as they are.
            let Ok(p) = self.filter.prepare_with(&filter, catalog.clone()).await else {
                continue;
            };
            // A plan that differs when lowered a day later depends on the clock.
            let later = self
                .filter
                .prepare_at(&filter, catalog.clone(), now + Duration::days(1))
                .await;
            let time_relative = later.map_or(true, |l| l.plan.predicate != p.plan.predicate);
            let mut to = Vec::new();
            segment_refs(&filter, "", &mut to);
            refs.insert(m.id, to.into_iter().map(|(_, id)| id).collect::<Vec<_>>());
            prepared.insert(m.id, (filter, p, time_relative));
        }
        let entries = referenced_first(&refs)
            .into_iter()
            .filter_map(|id| prepared.remove(&id).map(|p| (id, p)))
            .map(|(id, (filter, p, time_relative))| Entry {
                id,
                activities: uses_activities(&p.plan.predicate),
                filter,
                prepared: Mutex::new(Arc::new(p)),
                time_relative,
            })
            .collect();
        Ok(Book { stamp, entries })
    }

    /// The book for the segments as they are now, compiled again if they changed.
    /// `None` when there are no dynamic segments.
    pub(crate) async fn current_book(&self) -> Result<Option<Arc<Book>>> {
        let stamp = read_stamp(&self.base.db, false).await?;
        if stamp.segments.is_empty() {
            return Ok(None);
        }
        let mut slot = self.state.book.lock().await;
        if let Some(book) = slot.as_ref()
            && book.stamp == stamp
        {
            return Ok(Some(book.clone()));
        }
        let book = Arc::new(self.compile_book(stamp).await?);
        *slot = Some(book.clone());
        Ok(Some(book))
    }

    /// Begins a contact write (see [`crate::contacts::write::begin_contact_write`]) with
    /// the book that is current inside it. The book is compiled before the transaction
    /// (compiling reads through other pooled connections, which the writes queued behind
    /// this one may be holding) and checked inside it, where the shared segment locks are
    /// taken before the contact is touched; if the segments moved in between, it tries
    /// again.
    pub(crate) async fn begin_contact_write(&self) -> Result<(DatabaseTransaction, Option<Arc<Book>>)> {
        // The book in hand first: in the common case it is current, and checking it
        // inside the transaction is all it costs.
        let mut book = self.state.book.lock().await.clone();
        let mut tries = 0;
        loop {
            // Time-relative plans are lowered again out here too, for the same reason.
            if let Some(book) = &book {
                for entry in &book.entries {
                    self.fresh_plan(entry, CallContext::Request).await?;
                }
            }
            let txn = crate::contacts::write::begin_contact_write(&self.base.db).await?;
            let stamp = read_stamp(&txn, true).await?;
            if stamp.segments.is_empty() {
                return Ok((txn, None));
            }
            if let Some(current) = book.as_ref().filter(|b| b.stamp == stamp) {
                let current = current.clone();
                return Ok((txn, Some(current)));
            }
            txn.rollback().await?;
            tries += 1;
            if tries == 5 {
                return Err(crate::Error::conflict(
                    "segment definitions are changing right now; try again",
                ));
            }
            book = self.current_book().await?;
        }
    }

    /// `entry`'s plan, lowered again if it is time-relative and older than
    /// [`MAX_PLAN_AGE`], calling the plugins from `ctx`.
    async fn fresh_plan(&self, entry: &Entry, ctx: CallContext) -> Result<Arc<Prepared>> {
        let current = entry
            .prepared
            .lock()
            .map(|p| p.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone());
        let now = self.base.clock.now();
        if !entry.time_relative || (now - current.plan.now).abs() <= MAX_PLAN_AGE {
            return Ok(current);
        }
        let again = Arc::new(
            self.filter
                .prepare_in(&entry.filter, current.catalog.clone(), now, ctx)
                .await?,
        );
        if let Ok(mut slot) = entry.prepared.lock() {
            *slot = again.clone();
        }
        Ok(again)
    }

    /// Re-decides the dynamic-segment memberships of contacts `ids` as `txn` sees them
    /// (after the write), writing joins and leaves with their events. The plugins are
    /// called in [`CallContext::Write`]: the transaction is open.
    pub(crate) async fn maintain_memberships(&self, txn: &DatabaseTransaction, book: &Book, ids: &[i64]) -> Result<()> {
        for chunk in ids.chunks(500) {
            let rows = contacts::Entity::find()
                .find_also_related(contact_types::Entity)
                .filter(contacts::Column::Id.is_in(chunk.to_vec()))
                .all(txn)
                .await?;
            let contacts_: Vec<Contact> = rows.into_iter().map(to_contact).collect::<Result<_>>()?;
            let mut records = crate::filter::run::records_in(txn, contacts_, book.needs_activities()).await?;
            self.decide_memberships(txn, book, &mut records).await?;
        }
        Ok(())
    }

    async fn decide_memberships(&self, txn: &DatabaseTransaction, book: &Book, records: &mut [Record]) -> Result<()> {
        let now = stored(self.base.clock.now());
        for entry in &book.entries {
            let prepared = self.fresh_plan(entry, CallContext::Write).await?;
            let decided = self.filter.evaluate_in(&prepared, records, CallContext::Write).await?;
            let mut joined = Vec::new();
            let mut left = Vec::new();
            for (record, member) in records.iter_mut().zip(decided) {
                let was = record.segments.contains(&entry.id);
                if member && !was {
                    joined.push(record.contact.id);
                    record.segments.push(entry.id);
                } else if !member && was {
                    left.push(record.contact.id);
                    record.segments.retain(|s| *s != entry.id);
                }
            }
            if !joined.is_empty() || !left.is_empty() {
                record(txn, entry.id, &joined, &left, now).await?;
            }
        }
        Ok(())
    }

    /// Records that contact `id`, about to be deleted in `txn`, leaves every segment it
    /// is in (the rows themselves go with the contact).
    pub(crate) async fn leave_all_segments(&self, txn: &DatabaseTransaction, id: i64) -> Result<()> {
        use crate::entities::segment_members;
        let now = stored(self.base.clock.now());
        let segments_: Vec<i64> = segment_members::Entity::find()
            .select_only()
            .column(segment_members::Column::SegmentId)
            .filter(segment_members::Column::ContactId.eq(id))
            .into_tuple()
            .all(txn)
            .await?;
        for segment in segments_ {
            record(txn, segment, &[], &[id], now).await?;
        }
        Ok(())
    }
}
