//! The candidate walk: the one way a filter with residuals is run over many contacts.
//!
//! A filter with residuals gives the database a superset (see `super::sql`). Whoever needs
//! the exact matches of such a filter — a count, a page of the contacts table, a
//! segment's rebuild, a preview, adding the matches to a list — walks the superset's
//! candidates in keyset chunks and has each chunk decided (`super::run`): the "known"
//! residual-free subtrees with one query per chunk (`id IN (chunk) AND subtree`), each
//! residual with one columnar `matches` call of its plugin per chunk, then the skeleton
//! in Rust. [`Walk`] does that once for all of them and hands out [`Decided`] chunks.
//!
//! Two orders:
//!
//! - [`Walk::by_id`]: the contacts of a condition (the caller's superset, with whatever
//!   visibility it needs) by id, `id > last ORDER BY id LIMIT chunk` over the primary key,
//!   [`CHUNK`] at a time unless [`Walk::chunk`] says otherwise. Counts, rebuilds,
//!   previews and list additions read everything, so the cheapest keyset serves them.
//!   [`Walk::ids_only`] says the caller reads no more than ids and decisions, in any
//!   order: when every residual is on `location` (the common `within_distance`), the walk
//!   then reads ids and coordinates only, in one statement with no `ORDER BY` and no
//!   `LIMIT` whose rows it streams and cuts into chunks of [`LOCATION_CHUNK`], so the
//!   database reads the bounding box from `contacts_lat_lon` once (see below).
//! - [`Walk::in_order`]: the pages of the contacts table (visibility, the list's sort and
//!   cursor): a page of matches stops the walk as soon as it is full, in the table's
//!   order. The first round asks for `2 × limit + 1` candidates and each next one for
//!   four times as many, up to [`crate::contacts::MAX_PAGE`]: a small `LIMIT` lets the
//!   database walk the sort's index and stop early, where `LIMIT 501` made PostgreSQL
//!   (which underestimates a bounding box tenfold) fetch and sort the whole box.
//!
//! ## Why the location walk streams
//!
//! Chunks by id (`id > last ORDER BY id LIMIT n`) made SQLite walk the whole table in id
//! order and PostgreSQL fetch the whole box from the heap and sort it once per chunk:
//! 11-13x the hand-written count over a million contacts. One statement without order
//! or limit lets SQLite answer from the covering `contacts_lat_lon` (its entries carry
//! the rowid) and PostgreSQL from `contacts_lat_lon ... INCLUDE (id)` with an index-only
//! scan, read once. The stream holds one pooled connection (and on SQLite one read
//! snapshot) until the walk ends; the chunk decisions run their own queries beside it.
//! A stream holds its connection while the walk decides a chunk, and deciding may need
//! a second one (the known subtrees' query): were every pooled connection held by a
//! stream waiting for another, none would move. So at most [`STREAMS`] location walks
//! stream at once in a process (fewer than half the smallest pool, SQLite's eight); the
//! next one waits for a turn before it opens its statement.
//!
//! The alternatives: keyset chunks over the box's index (`(latitude, longitude, id) >
//! last`) re-seek per chunk but need a row-value comparison on both databases and still
//! sort on PostgreSQL; reading the whole box into memory first holds every candidate
//! of a large box at once.
//!
//! ## Why a pull-based walk
//!
//! - A `futures::Stream`: the idiomatic shape, but `core` would need `futures` (or
//!   `async-stream`) and boxed, pinned state for a walk that borrows the engine and the
//!   filter; its one caller-visible benefit, combinators, no caller needs.
//! - A callback per chunk (`for_each(|chunk| ...)`): callers do async work between chunks
//!   (a rebuild writes its progress, a preview asks which candidates are saved members),
//!   and async closures that borrow the caller's state are awkward to write and to read.
//! - Collecting every decision first: simplest, but a rebuild of a million candidates
//!   would hold them all, and a page would decide far more than it shows.
//!
//! So [`Walk::next`] is an `async fn` that the caller loops on (`while let Some(chunk) =
//! walk.next().await?`), each chunk owned by the caller, the walk holding only its
//! position.

use std::pin::Pin;

use futures_util::{Stream, TryStreamExt};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::FilterEngine;
use super::run::Prepared;
use crate::Result;
use crate::auth::Actor;
use crate::contacts::{Contact, ListQuery, MAX_PAGE};
use crate::entities::{contact_types, contacts};
use crate::plugin::values::Batch;

/// How many candidates one chunk of a walk by id holds, by default.
pub const CHUNK: u64 = 2_000;

/// The same, when only ids and coordinates are read (see [`Walk::ids_only`]).
pub const LOCATION_CHUNK: u64 = 20_000;

/// One chunk of candidates, decided.
#[derive(Debug, Clone, Default)]
pub struct Decided {
    /// The candidates' ids, in the walk's order.
    pub ids: Vec<i64>,
    /// The candidates, in the same order; empty when the walk read ids only.
    pub contacts: Vec<Contact>,
    /// Whether each candidate matches the filter exactly, in the same order.
    pub matched: Vec<bool>,
}

impl Decided {
    /// How many candidates the chunk looked at.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the chunk looked at no candidate.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// How many candidates match.
    pub fn count(&self) -> u64 {
        self.matched.iter().filter(|m| **m).count() as u64
    }

    /// The ids of the candidates that match.
    pub fn matching_ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.ids
            .iter()
            .zip(&self.matched)
            .filter(|(_, m)| **m)
            .map(|(id, _)| *id)
    }

    /// The candidates with their decisions (empty when the walk read ids only).
    pub fn into_contacts(self) -> impl Iterator<Item = (Contact, bool)> {
        self.contacts.into_iter().zip(self.matched)
    }
}

/// How many location walks may hold a streamed statement open at once, per process (see
/// the module docs).
pub const STREAMS: usize = 3;

/// A candidate's id and coordinates, as the location walk reads them.
type Point = (i64, Option<f64>, Option<f64>);

/// The location walk's one statement, streamed (see the module docs).
type Points<'a> = Pin<Box<dyn Stream<Item = Result<Point, DbErr>> + Send + 'a>>;

/// Where a walk is and how it goes on.
#[derive(Debug, Clone)]
enum Keyset {
    /// By id, after `last`.
    Id { last: i64 },
    /// The contacts table's pages for `actor`, the next one at `query.after`.
    Table { actor: Actor, query: ListQuery },
}

/// A walk over the candidates of a filter (see the module docs).
pub struct Walk<'a> {
    engine: &'a FilterEngine,
    prepared: &'a Prepared,
    candidates: Condition,
    keyset: Keyset,
    chunk: u64,
    ids_only: bool,
    /// The location walk's statement, once opened, with its turn.
    points: Option<(Points<'a>, tokio::sync::OwnedSemaphorePermit)>,
    finished: bool,
}

impl std::fmt::Debug for Walk<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Walk")
            .field("keyset", &self.keyset)
            .field("chunk", &self.chunk)
            .field("ids_only", &self.ids_only)
            .field("streaming", &self.points.is_some())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<'a> Walk<'a> {
    /// The contacts satisfying `candidates` (a superset of `prepared`'s matches, with any
    /// visibility the caller wants applied), by id, in chunks of [`CHUNK`].
    pub fn by_id(engine: &'a FilterEngine, prepared: &'a Prepared, candidates: Condition) -> Self {
        Walk {
            engine,
            prepared,
            candidates,
            keyset: Keyset::Id { last: i64::MIN },
            chunk: CHUNK,
            ids_only: false,
            points: None,
            finished: false,
        }
    }

    /// The contacts `actor` sees that satisfy `candidates`, in `query`'s order from its
    /// cursor, `2 × query.limit + 1` at first and four times as many each round after,
    /// up to [`MAX_PAGE`].
    pub fn in_order(
        engine: &'a FilterEngine,
        prepared: &'a Prepared,
        actor: &Actor,
        candidates: Condition,
        query: &ListQuery,
    ) -> Self {
        Walk {
            engine,
            prepared,
            candidates,
            keyset: Keyset::Table {
                actor: actor.clone(),
                query: ListQuery {
                    sort: query.sort,
                    limit: first_round(query.limit),
                    after: query.after.clone(),
                },
            },
            chunk: MAX_PAGE,
            ids_only: false,
            points: None,
            finished: false,
        }
    }

    /// Chunks of `n` candidates (a walk by id).
    pub fn chunk(mut self, n: u64) -> Self {
        if let Keyset::Id { .. } = self.keyset {
            self.chunk = n.max(1);
        }
        self
    }

    /// The caller reads ids and decisions only, in any order (see the module docs).
    pub fn ids_only(mut self) -> Self {
        if let Keyset::Id { .. } = self.keyset
            && self.by_location()
        {
            self.ids_only = true;
            self.chunk = LOCATION_CHUNK;
        }
        self
    }

    /// Whether every residual is on `location`.
    fn by_location(&self) -> bool {
        self.prepared
            .plan
            .predicate
            .residuals()
            .iter()
            .all(|r| r.field == "location")
    }

    /// The next chunk, decided; `None` when the candidates are exhausted.
    pub async fn next(&mut self) -> Result<Option<Decided>> {
        if self.finished {
            return Ok(None);
        }
        let decided = match &mut self.keyset {
            Keyset::Table { actor, query } => {
                let page = self
                    .engine
                    .contacts
                    .list_contacts_where(actor, query, self.candidates.clone())
                    .await?;
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => self.finished = true,
                }
                query.limit = query.limit.saturating_mul(4).min(MAX_PAGE);
                Self::decide(self.engine, self.prepared, page.items).await?
            }
            Keyset::Id { last } => {
                let after = *last;
                let decided = if self.ids_only {
                    self.next_points().await?
                } else {
                    let rows = contacts::Entity::find()
                        .find_also_related(contact_types::Entity)
                        .filter(self.candidates.clone())
                        .filter(contacts::Column::Id.gt(after))
                        .order_by_asc(contacts::Column::Id)
                        .limit(self.chunk)
                        .all(&self.engine.base.db)
                        .await?;
                    let chunk = rows
                        .into_iter()
                        .map(crate::contacts::to_contact)
                        .collect::<Result<Vec<_>>>()?;
                    Self::decide(self.engine, self.prepared, chunk).await?
                };
                if (decided.len() as u64) < self.chunk {
                    self.finished = true;
                }
                if let (Keyset::Id { last }, Some(end)) = (&mut self.keyset, decided.ids.last()) {
                    *last = *end;
                }
                decided
            }
        };
        if decided.is_empty() && self.finished {
            return Ok(None);
        }
        Ok(Some(decided))
    }

    /// `chunk`, decided. (Not a `&self` method: a future holding `&Walk` would need the
    /// walk to be `Sync`, which its stream is not.)
    async fn decide(engine: &FilterEngine, prepared: &Prepared, chunk: Vec<Contact>) -> Result<Decided> {
        let matched = engine.decide_candidates(prepared, &chunk).await?;
        Ok(Decided {
            ids: chunk.iter().map(|c| c.id).collect(),
            contacts: chunk,
            matched,
        })
    }

    /// The next chunk of the location walk's stream (opened on the first call), decided.
    async fn next_points(&mut self) -> Result<Decided> {
        if self.points.is_none() {
            let turn = self
                .engine
                .streams
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| crate::Error::Internal(format!("the location walks' turns: {e}")))?;
            let stream = contacts::Entity::find()
                .filter(self.candidates.clone())
                .select_only()
                .column(contacts::Column::Id)
                .column(contacts::Column::Latitude)
                .column(contacts::Column::Longitude)
                .into_tuple::<Point>()
                .stream(&self.engine.base.db)
                .await?;
            self.points = Some((stream, turn));
        }
        let Some((stream, _)) = self.points.as_mut() else {
            return Ok(Decided::default());
        };
        let mut rows: Vec<Point> = Vec::with_capacity(usize::try_from(self.chunk).unwrap_or(0));
        while (rows.len() as u64) < self.chunk {
            match stream.try_next().await? {
                Some(row) => rows.push(row),
                None => {
                    // Read to its end: its connection and turn go back before deciding.
                    self.points = None;
                    break;
                }
            }
        }
        if rows.is_empty() {
            return Ok(Decided::default());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let points = |_: &str| {
            Batch::points(rows.iter().map(|(_, lat, lon)| match (lat, lon) {
                (Some(lat), Some(lon)) => Some((*lat, *lon)),
                _ => None,
            }))
        };
        let matched = self.engine.decide_rows(self.prepared, &ids, points).await?;
        Ok(Decided {
            ids,
            contacts: Vec::new(),
            matched,
        })
    }
}

/// How many candidates the first round of a table walk asks for, for a page of `limit`.
fn first_round(limit: u64) -> u64 {
    limit
        .clamp(1, MAX_PAGE)
        .saturating_mul(2)
        .saturating_add(1)
        .min(MAX_PAGE)
}
