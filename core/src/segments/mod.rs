//! Segments: dynamic (a saved filter) and static (a hand-kept list).
//!
//! Both kinds keep their members in `segment_members`, with the time each contact joined,
//! so a count is a `COUNT(*)`, a members page is the contacts table's keyset walk over
//! `id IN (members)`, and a bulk action freezes a list it can read. Joining and leaving
//! are appended to `segment_events`: that is the size history.
//!
//! ## Staying current
//!
//! - Contact and activity writes re-decide the written contacts' memberships in their own
//!   transaction, in memory ([`maintain`]).
//! - A new or changed definition is rebuilt as a job, in the saving request on a small
//!   base and by the background worker otherwise; the worker also re-evaluates
//!   time-relative segments on a schedule and marks segments whose filters can't be
//!   evaluated any more as `needs_attention` ([`jobs`]).
//!
//! ## Rebuilding a dynamic segment
//!
//! When the filter has no residual, the engine's condition is exact in SQL and the
//! rebuild is set-based, in one transaction, with no ids travelling to the server: `left`
//! events and the deletion of leavers come from `segment_members` minus
//! `SELECT id FROM contacts WHERE <condition>`, then `joined` events and
//! `INSERT INTO segment_members ... SELECT id FROM contacts WHERE <condition>` add the
//! newcomers. When the filter has residuals, the condition is a superset: candidates are
//! walked by id in chunks, decided by the engine (plugins' `matches` in batches), and the
//! result diffed against the previous members in memory (see [`jobs`] for how writes
//! during the walk are accounted for).
//!
//! Membership is about the whole base, so the rebuild ignores visibility; reads (count,
//! members) add the reader's visibility condition, so an agent sees only the members they
//! may see.
//!
//! ## Segments in terms of segments
//!
//! The `segment` field (`in_segment`, `not_in_segment` of the built-in `membership`
//! plugin) reads the stored members: `contacts.id IN (SELECT contact_id FROM
//! segment_members WHERE segment_id IN (...))` in SQL, the record's segment ids in memory.
//! It never inlines the other segment's filter, so a query's cost doesn't grow with the
//! depth of the definitions. A definition that leads back to its own segment is refused
//! when it is saved, at the path of the reference, with the cycle
//! (`segment 3 -> segment 5 -> segment 3`); a reference to a segment that doesn't exist
//! is refused the same way.
//!
//! Alternatives considered:
//! - Evaluating the filter on every read (no stored members): always current, but a count
//!   or a members page re-runs the filter, residuals included, and a bulk action has
//!   nothing stable to freeze.
//! - Materialised views: per backend, refreshed wholesale, no join times and no events.
//! - Truncate and refill on rebuild: simpler, but it loses join times and can't tell who
//!   joined or left.

pub mod explain;
pub mod export;
pub mod history;
pub mod jobs;
pub mod lists;
pub mod maintain;
pub mod preview;
pub mod usage;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde_json::Value;

use crate::auth::Actor;
use crate::clock::stored;
use crate::contacts::visibility::{self, Access};
use crate::contacts::{Contact, Page};
use crate::entities::{contacts, segment_events, segment_members, segments};
use crate::filter::{ContactQuery, Prepared};
use crate::{Core, Error, Result};

/// The status of a segment whose filter can't be evaluated any more.
pub const NEEDS_ATTENTION: &str = "needs_attention";

/// A segment's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// A saved filter; membership follows the contacts.
    Dynamic,
    /// A list kept by hand.
    Static,
}

impl SegmentKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SegmentKind::Dynamic => "dynamic",
            SegmentKind::Static => "static",
        }
    }

    /// Parses the stored or requested name.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "dynamic" => Ok(SegmentKind::Dynamic),
            "static" => Ok(SegmentKind::Static),
            other => Err(Error::invalid(
                "kind",
                format!("unknown segment kind `{other}`; expected dynamic or static"),
            )),
        }
    }
}

/// A segment as shown to callers.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub kind: SegmentKind,
    pub filter: Option<Value>,
    /// How many members the reader may see.
    pub count: u64,
    /// `ok`, `rebuilding` or `needs_attention`.
    pub status: String,
    pub status_message: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
    /// While `rebuilding`: candidates decided so far, of `progress_total`.
    pub progress_done: u64,
    pub progress_total: u64,
}

/// What creating a segment takes.
#[derive(Debug, Clone, Default)]
pub struct SegmentDraft {
    pub name: String,
    pub kind: String,
    pub filter: Option<Value>,
}

/// What updating a segment may change.
#[derive(Debug, Clone, Default)]
pub struct SegmentPatch {
    pub name: Option<String>,
    /// `Some(filter)` replaces the filter of a dynamic segment.
    pub filter: Option<Value>,
}

/// What a rebuild changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub joined: u64,
    pub left: u64,
}

fn require_editor(actor: &Actor) -> Result<()> {
    actor.require_segment_editor()
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "a segment needs a name"));
    }
    if name.chars().count() > 200 {
        return Err(Error::invalid("name", "at most 200 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "control characters are not allowed"));
    }
    Ok(name.to_owned())
}

/// `SELECT contact_id FROM segment_members WHERE segment_id = id`.
fn members_of(id: i64) -> SelectStatement {
    Query::select()
        .column(segment_members::Column::ContactId)
        .from(segment_members::Entity)
        .and_where(segment_members::Column::SegmentId.eq(id))
        .to_owned()
}

/// `SELECT id FROM contacts WHERE condition`.
fn matching(condition: Condition) -> SelectStatement {
    Query::select()
        .column((contacts::Entity, contacts::Column::Id))
        .from(contacts::Entity)
        .cond_where(condition)
        .to_owned()
}

fn contact_id() -> Expr {
    Expr::col((contacts::Entity, contacts::Column::Id))
}

impl Core {
    /// Visible members of `id`, as a condition on `contacts`.
    fn member_condition(id: i64) -> Condition {
        Condition::all().add(contact_id().in_subquery(members_of(id)))
    }

    async fn segment_row(&self, id: i64) -> Result<segments::Model> {
        segments::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(Error::NotFound { what: "segment" })
    }

    async fn to_segment(&self, actor: &Actor, m: segments::Model) -> Result<Segment> {
        let count = if actor.is_admin() {
            segment_members::Entity::find()
                .filter(segment_members::Column::SegmentId.eq(m.id))
                .count(&self.db)
                .await?
        } else {
            self.count_contacts_where(actor, Self::member_condition(m.id)).await?
        };
        Ok(Segment {
            id: m.id,
            name: m.name,
            kind: SegmentKind::parse(&m.kind)?,
            filter: m.filter,
            count,
            status: m.status,
            status_message: m.status_message,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
            progress_done: u64::try_from(m.progress_done).unwrap_or(0),
            progress_total: u64::try_from(m.progress_total).unwrap_or(0),
        })
    }

    /// Checks a dynamic segment's filter; errors are at `filter.<node>`. `own` is the
    /// segment the filter is for, when it exists: a filter that leads back to it through
    /// `in_segment` is refused with the cycle (`segment 3 -> segment 5 -> segment 3`).
    async fn prepare_segment_filter(&self, own: Option<i64>, filter: &Value) -> Result<Prepared> {
        let prepared = self.prepare_filter(filter).await.map_err(|e| e.under("filter"))?;
        let mut refs = Vec::new();
        segment_refs(filter, "filter", &mut refs);
        if refs.is_empty() {
            return Ok(prepared);
        }
        let graph: HashMap<i64, Vec<i64>> = segments::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|m| {
                let mut to = Vec::new();
                if let Some(f) = &m.filter {
                    segment_refs(f, "", &mut to);
                }
                (m.id, to.into_iter().map(|(_, id)| id).collect())
            })
            .collect();
        for (path, target) in refs {
            if !graph.contains_key(&target) {
                return Err(Error::invalid(path, format!("no segment {target}")));
            }
            if let Some(own) = own
                && let Some(chain) = path_between(&graph, target, own)
            {
                let mut names = vec![format!("segment {own}")];
                names.extend(chain.iter().map(|id| format!("segment {id}")));
                return Err(Error::invalid(
                    path,
                    format!("a segment can't contain itself: {}", names.join(" -> ")),
                ));
            }
        }
        Ok(prepared)
    }

    async fn name_taken(&self, name: &str, except: Option<i64>) -> Result<()> {
        let mut q = segments::Entity::find().filter(segments::Column::Name.eq(name));
        if let Some(id) = except {
            q = q.filter(segments::Column::Id.ne(id));
        }
        if q.count(&self.db).await? > 0 {
            return Err(Error::conflict(format!("a segment called `{name}` already exists")));
        }
        Ok(())
    }

    /// Creates a segment; a dynamic one is built at once.
    pub async fn create_segment(&self, actor: &Actor, draft: SegmentDraft) -> Result<Segment> {
        require_editor(actor)?;
        let name = check_name(&draft.name)?;
        let kind = SegmentKind::parse(&draft.kind)?;
        let (filter, prepared) = match (kind, draft.filter) {
            (SegmentKind::Dynamic, Some(f)) => {
                let prepared = self.prepare_segment_filter(None, &f).await?;
                (Some(f), Some(prepared))
            }
            (SegmentKind::Dynamic, None) => {
                return Err(Error::invalid("filter", "a dynamic segment needs a filter"));
            }
            (SegmentKind::Static, Some(f)) if !Value::is_null(&f) => {
                return Err(Error::invalid("filter", "a static list has no filter"));
            }
            (SegmentKind::Static, _) => (None, None),
        };
        self.name_taken(&name, None).await?;
        let now = stored(self.clock.now());
        let status = if prepared.is_some() { "rebuilding" } else { "ok" };
        let model = segments::ActiveModel {
            name: Set(name),
            kind: Set(kind.as_str().to_owned()),
            filter: Set(filter),
            status: Set(status.to_owned()),
            status_message: Set(None),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            progress_done: Set(0),
            progress_total: Set(0),
            lease_until: Set(None),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        if prepared.is_some() {
            self.build_soon(model.id).await?;
        }
        self.get_segment(actor, model.id).await
    }

    /// Builds segment `id` (already asked for) in this request when the base is small,
    /// otherwise wakes the background worker (see [`jobs`]).
    async fn build_soon(&self, id: i64) -> Result<()> {
        let size = contacts::Entity::find().count(&self.db).await?;
        if size <= self.segments.inline_limit() {
            self.rebuild_now(id).await?;
        } else {
            self.segments.wake.notify_one();
        }
        Ok(())
    }

    /// Every segment, by name (in collation order, [`crate::collation`]).
    pub async fn list_segments(&self, actor: &Actor) -> Result<Vec<Segment>> {
        let mut rows = segments::Entity::find().all(&self.db).await?;
        rows.sort_by(|a, b| crate::collation::compare(&a.name, &b.name).then(a.id.cmp(&b.id)));
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            out.push(self.to_segment(actor, m).await?);
        }
        Ok(out)
    }

    /// One segment, with the count of the members `actor` sees.
    pub async fn get_segment(&self, actor: &Actor, id: i64) -> Result<Segment> {
        let m = self.segment_row(id).await?;
        self.to_segment(actor, m).await
    }

    /// Renames a segment or changes a dynamic segment's filter (which rebuilds it).
    pub async fn update_segment(&self, actor: &Actor, id: i64, patch: SegmentPatch) -> Result<Segment> {
        require_editor(actor)?;
        let current = self.segment_row(id).await?;
        let kind = SegmentKind::parse(&current.kind)?;
        let name = patch.name.as_deref().map(check_name).transpose()?;
        if let Some(name) = &name {
            self.name_taken(name, Some(id)).await?;
        }
        let prepared = match (&patch.filter, kind) {
            (Some(Value::Null), SegmentKind::Dynamic) => {
                return Err(Error::invalid("filter", "a dynamic segment needs a filter"));
            }
            (Some(f), SegmentKind::Dynamic) => Some(self.prepare_segment_filter(Some(id), f).await?),
            (Some(f), SegmentKind::Static) if !Value::is_null(f) => {
                return Err(Error::invalid("filter", "a static list has no filter"));
            }
            _ => None,
        };
        let txn = self.db.begin().await?;
        let version = current.version;
        let mut active = current.into_active_model();
        if let Some(name) = name {
            active.name = Set(name);
        }
        if prepared.is_some() {
            active.filter = Set(patch.filter.clone());
            // A new definition is built from scratch, also when the old one was broken.
            active.status = Set("rebuilding".to_owned());
            active.status_message = Set(None);
            active.lease_until = Set(None);
            active.progress_done = Set(0);
            active.progress_total = Set(0);
        }
        active.updated_at = Set(stored(self.clock.now()));
        active.version = Set(version + 1);
        let result = segments::Entity::update_many()
            .set(active)
            .filter(segments::Column::Id.eq(id))
            .filter(segments::Column::Version.eq(version))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::conflict(
                "the segment was changed meanwhile; reload and try again",
            ));
        }
        txn.commit().await?;
        if prepared.is_some() {
            self.build_soon(id).await?;
        }
        self.get_segment(actor, id).await
    }

    /// Deletes a segment with its members and history; refused while another segment's
    /// filter refers to it (that filter would silently become empty).
    pub async fn delete_segment(&self, actor: &Actor, id: i64) -> Result<()> {
        require_editor(actor)?;
        let txn = self.db.begin().await?;
        lock(&txn, id).await?;
        let users: Vec<String> = segments::Entity::find()
            .filter(segments::Column::Id.ne(id))
            .filter(segments::Column::Filter.is_not_null())
            .order_by_asc(segments::Column::Name)
            .all(&txn)
            .await?
            .into_iter()
            .filter(|m| {
                let mut to = Vec::new();
                if let Some(f) = &m.filter {
                    segment_refs(f, "", &mut to);
                }
                to.iter().any(|(_, target)| *target == id)
            })
            .map(|m| m.name)
            .collect();
        if !users.is_empty() {
            return Err(Error::conflict(format!(
                "other segments are defined in terms of this one: {}; change them first",
                users.join(", ")
            )));
        }
        segment_events::Entity::delete_many()
            .filter(segment_events::Column::SegmentId.eq(id))
            .exec(&txn)
            .await?;
        segment_members::Entity::delete_many()
            .filter(segment_members::Column::SegmentId.eq(id))
            .exec(&txn)
            .await?;
        let gone = segments::Entity::delete_by_id(id).exec(&txn).await?;
        if gone.rows_affected == 0 {
            return Err(Error::NotFound { what: "segment" });
        }
        txn.commit().await?;
        Ok(())
    }

    /// A page of the members of segment `id` that `actor` sees that match `query`, like
    /// the contacts table.
    pub async fn segment_members(&self, actor: &Actor, id: i64, query: &ContactQuery) -> Result<Page<Contact>> {
        self.segment_row(id).await?;
        self.query_contacts_within(actor, query, Self::member_condition(id))
            .await
    }

    /// The static list `id`, for a change of its members by `actor`.
    async fn static_list(&self, actor: &Actor, id: i64) -> Result<segments::Model> {
        require_editor(actor)?;
        let m = self.segment_row(id).await?;
        if SegmentKind::parse(&m.kind)? != SegmentKind::Static {
            return Err(Error::conflict(
                "a dynamic segment's members follow its filter; change the filter instead",
            ));
        }
        Ok(m)
    }

    /// Checks that every id is a contact `actor` sees (errors at `contact_ids[i]`).
    async fn visible_ids(&self, actor: &Actor, ids: &[i64]) -> Result<Vec<i64>> {
        let mut unique: Vec<i64> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut seen = HashSet::with_capacity(unique.len());
        for chunk in unique.chunks(500) {
            let rows: Vec<i64> = contacts::Entity::find()
                .select_only()
                .column(contacts::Column::Id)
                .filter(visibility::condition(actor, Access::Read))
                .filter(contacts::Column::Id.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&self.db)
                .await?;
            seen.extend(rows);
        }
        if let Some((i, id)) = ids.iter().enumerate().find(|(_, id)| !seen.contains(id)) {
            return Err(Error::invalid(format!("contact_ids[{i}]"), format!("no contact {id}")));
        }
        Ok(unique)
    }

    /// Adds contacts to the static list `id`; those already in it stay as they were.
    pub async fn add_segment_members(&self, actor: &Actor, id: i64, ids: &[i64]) -> Result<Rebuilt> {
        self.static_list(actor, id).await?;
        let ids = self.visible_ids(actor, ids).await?;
        let now = stored(self.clock.now());
        let txn = self.db.begin().await?;
        lock(&txn, id).await?;
        let mut present = HashSet::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<i64> = segment_members::Entity::find()
                .select_only()
                .column(segment_members::Column::ContactId)
                .filter(segment_members::Column::SegmentId.eq(id))
                .filter(segment_members::Column::ContactId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&txn)
                .await?;
            present.extend(rows);
        }
        let joined: Vec<i64> = ids.into_iter().filter(|c| !present.contains(c)).collect();
        record(&txn, id, &joined, &[], now).await?;
        txn.commit().await?;
        Ok(Rebuilt {
            joined: joined.len() as u64,
            left: 0,
        })
    }

    /// Removes contacts from the static list `id`.
    pub async fn remove_segment_members(&self, actor: &Actor, id: i64, ids: &[i64]) -> Result<Rebuilt> {
        self.static_list(actor, id).await?;
        let ids = self.visible_ids(actor, ids).await?;
        let now = stored(self.clock.now());
        let txn = self.db.begin().await?;
        lock(&txn, id).await?;
        let mut present = Vec::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<i64> = segment_members::Entity::find()
                .select_only()
                .column(segment_members::Column::ContactId)
                .filter(segment_members::Column::SegmentId.eq(id))
                .filter(segment_members::Column::ContactId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&txn)
                .await?;
            present.extend(rows);
        }
        record(&txn, id, &[], &present, now).await?;
        txn.commit().await?;
        Ok(Rebuilt {
            joined: 0,
            left: present.len() as u64,
        })
    }

    /// Rebuilds the dynamic segment `id` from its saved filter (in the background on a
    /// large base).
    pub async fn rebuild_segment(&self, actor: &Actor, id: i64) -> Result<Segment> {
        require_editor(actor)?;
        let m = self.segment_row(id).await?;
        if m.kind != SegmentKind::Dynamic.as_str() {
            return Err(Error::conflict("only a dynamic segment can be rebuilt"));
        }
        jobs::request(&self.db, id).await?;
        self.build_soon(id).await?;
        self.get_segment(actor, id).await
    }
}

/// Takes the segment's row lock for the rest of `txn` (a no-op update: a row lock on
/// PostgreSQL, the write lock on SQLite), so that changes of one segment's members,
/// from this server or another, run one after the other: two rebuilds or two adds of
/// the same contact can't both insert it, and the events match the members.
async fn lock(txn: &DatabaseTransaction, id: i64) -> Result<()> {
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

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The segments `filter` refers to (conditions on `segment`), each with the path of its
/// value (`filter.and[1].value`), in the path scheme of the filter checker.
fn segment_refs(filter: &Value, path: &str, out: &mut Vec<(String, i64)>) {
    let Value::Object(map) = filter else { return };
    for logic in ["and", "or"] {
        if let Some(Value::Array(items)) = map.get(logic) {
            let here = join(path, logic);
            for (i, item) in items.iter().enumerate() {
                segment_refs(item, &format!("{here}[{i}]"), out);
            }
        }
    }
    if let Some(inner) = map.get("not") {
        segment_refs(inner, &join(path, "not"), out);
    }
    if map.get("field").and_then(Value::as_str) == Some("segment")
        && let Some(id) = map.get("value").and_then(Value::as_i64)
    {
        out.push((join(path, "value"), id));
    }
}

/// The segments from `from` to `to` following references (both ends included), if any.
fn path_between(graph: &HashMap<i64, Vec<i64>>, from: i64, to: i64) -> Option<Vec<i64>> {
    let mut seen = HashSet::new();
    let mut stack = vec![vec![from]];
    while let Some(chain) = stack.pop() {
        let last = *chain.last()?;
        if last == to {
            return Some(chain);
        }
        if !seen.insert(last) {
            continue;
        }
        for next in graph.get(&last).into_iter().flatten() {
            let mut longer = chain.clone();
            longer.push(*next);
            stack.push(longer);
        }
    }
    None
}

/// The set-based rebuild of an exact condition: nothing but counts leaves the database.
/// Leavers and newcomers are anti-joins written as `NOT EXISTS`, which PostgreSQL plans
/// as hash anti-joins at any size (`NOT IN (subquery)` becomes a hashed subplan only
/// while the subquery fits in `work_mem`, and a per-row scan beyond it).
async fn rebuild_exact(
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
async fn record(txn: &DatabaseTransaction, id: i64, joined: &[i64], left: &[i64], now: DateTime<Utc>) -> Result<()> {
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
