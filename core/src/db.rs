//! Connecting to the database, migrating it and seeding what a new base needs.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

use crate::Result;

/// The database URL used when `KARTOTEKA_DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://kartoteka.db?mode=rwc";

/// Opens a pool on `url` (`sqlite://...` or `postgres://...`).
///
/// SQLite gets WAL mode, a busy timeout, foreign keys and an 8 MB page cache on every
/// connection; each commit that takes the log past 1,000 pages checkpoints it (SQLite's
/// default), which suits the command line. A server opens with [`connect_server`].
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    open(url, Checkpoints::OnCommit).await
}

/// [`connect`] for a server: on SQLite no commit checkpoints the log; the server runs
/// [`run_checkpoints`] beside its requests instead (see there).
pub async fn connect_server(url: &str) -> Result<DatabaseConnection> {
    open(url, Checkpoints::Background).await
}

/// Who checkpoints SQLite's write-ahead log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkpoints {
    /// The commit that takes the log past 1,000 pages (`wal_autocheckpoint`'s default).
    OnCommit,
    /// [`run_checkpoints`]; commits never do (`wal_autocheckpoint = 0`).
    Background,
}

/// How many connections a SQLite pool holds, and each one's page cache.
///
/// One writer at a time is SQLite's nature; a small pool with a busy timeout keeps readers
/// concurrent (WAL) while writers queue (`kernel::base::WriteQueue`) instead of failing.
/// The page cache is per connection, so the pool's memory is its size times the cache:
/// at 32 MB each the server's peak resident memory reached 377 MB at 200,000 contacts
/// with 50 segments, at 8 MB 172 MB, with the index-served counts as fast (the HTTP
/// benchmark, BENCHMARKS.md); pages beyond the cache come from the operating system's
/// file cache, not the disk. Writes pay a little: at 100,000 contacts with 200 segments
/// a write with its upkeep took 4.97 ms against 4.79 ms at 32 MB (median), ten queued
/// writers' p99 96 against 84 ms (the segments benchmark, the same commit one run after
/// the other).
const SQLITE_POOL: u32 = 8;
const SQLITE_CACHE_KIB: i64 = 8 * 1024;

async fn open(url: &str, checkpoints: Checkpoints) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.max_connections(SQLITE_POOL).min_connections(1);
        options.map_sqlx_sqlite_opts(move |o| {
            let o = o
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"));
            match checkpoints {
                Checkpoints::OnCommit => o,
                Checkpoints::Background => o.pragma("wal_autocheckpoint", "0"),
            }
        });
    } else {
        options.max_connections(16).min_connections(1);
    }
    Ok(Database::connect(options).await?)
}

/// How often a server checkpoints SQLite's log.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Checkpoints SQLite's write-ahead log every `every`, for as long as it runs (a server
/// spawns it; nothing to do on PostgreSQL).
///
/// With SQLite's default, the commit that takes the log past 1,000 pages copies them into
/// the database file before it returns, and with writers queued in the process every
/// writer behind it waits too: the tail of the concurrent writers' latency. Here a
/// `PRAGMA wal_checkpoint(PASSIVE)` on a pooled connection copies what the log holds
/// without taking the write lock or waiting for readers, and the next writer starts the
/// log again from its beginning once everything in it is copied. The log grows by what
/// the writers commit in `every` between two checkpoints.
///
/// Alternatives: a checkpoint every second with SQLite's own still on changed nothing
/// (commits crossed the 1,000 pages first); a larger `wal_autocheckpoint` makes the
/// rarer checkpoints longer; `TRUNCATE` or `RESTART` checkpoints wait for readers and
/// writers.
pub async fn run_checkpoints(db: DatabaseConnection, every: Duration) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(e) = db.execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)").await {
            tracing::warn!(error = %e, "checkpointing the SQLite log failed");
        }
    }
}

/// Applies every pending migration, then seeds the contact types of a new base.
pub async fn migrate(db: &DatabaseConnection) -> Result<()> {
    Migrator::up(db, None).await?;
    crate::contact_types::seed(db).await?;
    // Folded text and search words of rows older than their columns (a no-op on a new base).
    crate::contacts::derived::backfill(db).await?;
    crate::filter::indexes::ensure_all(db).await?;
    Ok(())
}

/// Whether the connection is SQLite or PostgreSQL.
pub fn backend(db: &impl ConnectionTrait) -> DbBackend {
    db.get_database_backend()
}
