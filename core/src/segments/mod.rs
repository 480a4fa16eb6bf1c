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
//!   base and by the background worker otherwise; the worker also marks segments whose
//!   filters can't be evaluated any more as `needs_attention` ([`jobs`]), and decides
//!   time-relative segments again on a schedule, only where their boundary moved
//!   ([`recheck`]).
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
//!
//! | module | what |
//! |---|---|
//! | `definitions` | create, list, read, update, delete and rebuild a segment |
//! | `refs` | references to other segments in a filter; missing ones and cycles refused |
//! | `members` | a page of members; adding to and removing from a static list |
//! | `store` | `segment_members` and `segment_events`, the row lock, the set-based rebuild |
//! | `maintain` | memberships kept current on contact and activity writes |
//! | `jobs` | rebuilds in the background, the worker and its schedule |
//! | `recheck` | time-relative segments decided again where their boundary moved |
//! | `lists` | adding to a static list in one go (chosen contacts, or what a filter finds) |
//! | `preview` | what saving a filter would do: count, who joins, who leaves |
//! | `explain` | why a contact is or isn't in a segment |
//! | `export` | the CSV export of a segment's members |
//! | `history` | a segment's size over time |
//! | `usage` | which segments a plugin serves |

mod definitions;
pub mod explain;
pub mod export;
pub mod history;
pub mod jobs;
pub mod lists;
pub mod maintain;
mod members;
pub mod preview;
pub mod recheck;
mod refs;
mod store;
pub mod usage;

use chrono::{DateTime, Utc};
use serde_json::Value;

use std::sync::Arc;

use crate::auth::{Actor, Users};
use crate::contacts::ContactReader;
use crate::filter::FilterEngine;
use crate::kernel::base::Base;
use crate::plugin::Registry;
use crate::schema::SchemaService;
use crate::{Error, Result};

/// The segments service. It reads contacts and runs filters through the layers below,
/// and is the upkeep that contact writes run ([`maintain`]). Cheap to clone; the
/// per-instance state (the book of prepared definitions, the worker's wake-up) is shared
/// by the clones.
#[derive(Debug, Clone)]
pub struct Segments {
    pub(crate) base: Base,
    pub(crate) plugins: Arc<Registry>,
    pub(crate) schema: SchemaService,
    pub(crate) users: Users,
    pub(crate) contacts: ContactReader,
    pub(crate) filter: FilterEngine,
    pub(crate) state: Arc<maintain::SegmentState>,
}

impl Segments {
    /// Segments over `filter` and the layers it reads.
    pub fn new(filter: FilterEngine) -> Self {
        Segments {
            base: filter.base.clone(),
            plugins: filter.plugins.clone(),
            schema: filter.schema.clone(),
            users: filter.users.clone(),
            contacts: filter.contacts.clone(),
            filter,
            state: Arc::default(),
        }
    }
}

use refs::segment_refs;
use store::{contact_id, lock, matching, members_among, members_of, rebuild_exact, record};

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
