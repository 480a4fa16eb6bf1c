//! What every service holds: the database, the clock, the SQLite writers' queue and the
//! count of this process's changes of what filters refer to.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::clock::{Clock, stored};

/// The database connection (a pool handle), the clock and the queue of contact writers,
/// shared by the services. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Base {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub writers: Arc<WriteQueue>,
    /// The changes of fields, types, users and plugins this process made (see
    /// [`crate::kernel::generations`]).
    pub changes: Arc<crate::kernel::generations::LocalChanges>,
}

impl Base {
    /// The services' handle over `db` and `clock`, with a write queue when `db` is SQLite.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        let sqlite = db.get_database_backend() == sea_orm::DbBackend::Sqlite;
        Base {
            db,
            clock,
            writers: Arc::new(WriteQueue::new(sqlite)),
            changes: Arc::default(),
        }
    }

    /// The current time, at the precision the database stores.
    pub fn now(&self) -> DateTime<Utc> {
        stored(self.clock.now())
    }
}

/// The contact writers of this process, in the order they came, on SQLite.
///
/// SQLite has one writer at a time. Without a queue, concurrent writers each begin
/// (`BEGIN IMMEDIATE`), find the database locked and sleep in SQLite's busy handler, which
/// backs off up to 100 ms between tries: ten concurrent contact writers with the upkeep of
/// 200 segments had a p99 of 0.75 s and a worst write of 1.6-2.3 s, against 62-92 ms and
/// 68-121 ms queued at the same throughput (the segments benchmark's concurrent writers,
/// BENCHMARKS.md). Here they wait their turn on a fair (first come, first served) async
/// mutex before they begin, and each begins the moment the one before commits. Writers in
/// other processes on the same file still meet SQLite's lock and busy handler.
///
/// Alternatives: a pool with one connection for writes (every write path would have to
/// pick the right pool, and reads inside a write transaction would need the same one), or
/// a shorter busy timeout with retries in the application (the same sleeping, written
/// again). On PostgreSQL rows are locked, not the database: no queue.
#[derive(Debug)]
pub struct WriteQueue {
    turn: Arc<tokio::sync::Mutex<()>>,
    enabled: std::sync::atomic::AtomicBool,
}

impl WriteQueue {
    /// A queue, in use when `enabled`.
    pub fn new(enabled: bool) -> Self {
        WriteQueue {
            turn: Arc::default(),
            enabled: std::sync::atomic::AtomicBool::new(enabled),
        }
    }

    /// Waits for this writer's turn; the turn lasts as long as the guard (`None` when the
    /// queue is not in use).
    pub async fn enter(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        if self.enabled.load(std::sync::atomic::Ordering::Relaxed) {
            Some(self.turn.clone().lock_owned().await)
        } else {
            None
        }
    }

    /// Turns the queue on or off (the benchmarks compare both).
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, std::sync::atomic::Ordering::Relaxed);
    }
}
