//! Connecting to the database, migrating it and seeding what a new base needs.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};

use crate::Result;

/// The database URL used when `KARTOTEKA_DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://kartoteka.db?mode=rwc";

/// Opens a pool on `url` (`sqlite://...` or `postgres://...`).
///
/// SQLite gets WAL mode, a busy timeout and foreign keys on every connection.
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // One writer at a time is SQLite's nature; a small pool with a busy timeout keeps
        // readers concurrent (WAL) while writers queue instead of failing.
        options.max_connections(8).min_connections(1);
        options.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                // The default 2 MB page cache stops holding the contacts indexes long
                // before a million rows; 32 MB per connection keeps them in memory.
                .pragma("cache_size", "-32768")
        });
    } else {
        options.max_connections(16).min_connections(1);
    }
    Ok(Database::connect(options).await?)
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

/// How often the server checkpoints SQLite's write-ahead log when nothing is written.
pub const WAL_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// How soon it checkpoints again while writes keep coming.
pub const WAL_CHECKPOINT_BUSY: Duration = Duration::from_millis(20);

/// On SQLite, checkpoints the write-ahead log in a task of its own, off the request path;
/// `None` on PostgreSQL.
///
/// Without it, the commit that takes the log past 1,000 pages runs the checkpoint itself
/// and takes ~15 ms instead of ~2-4 ms: the tail of the contact update latency in
/// BENCHMARKS.md (segments). A contact write with upkeep writes ~40-60 pages, so under
/// steady writes the log reaches 1,000 pages in tens of milliseconds: the task checkpoints
/// every [`WAL_CHECKPOINT_BUSY`] while the log grows and every `idle` when it doesn't.
/// `PASSIVE` never waits for a reader or a writer: it copies what it can, and once all is
/// copied the next write starts the log again from its beginning, so it seldom grows to
/// where a commit checkpoints. The automatic checkpoint stays on as the backstop.
///
/// Alternatives: `wal_autocheckpoint = 0` with only this task (a stalled task would let
/// the log grow without bound), a `RESTART`/`TRUNCATE` checkpoint (they wait for readers
/// and writers, the latency being moved away from), or a larger automatic threshold
/// (rarer, longer stalls).
pub fn spawn_wal_checkpoints(db: DatabaseConnection, idle: Duration) -> Option<tokio::task::JoinHandle<()>> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    Some(tokio::spawn(async move {
        // The log's (frames, frames copied back) at the last checkpoint: when they moved,
        // writes are coming.
        let mut last = None;
        loop {
            let sql = Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(PASSIVE)");
            let now = match db.query_one_raw(sql).await {
                Ok(row) => {
                    row.and_then(|r| Some((r.try_get_by_index::<i64>(1).ok()?, r.try_get_by_index::<i64>(2).ok()?)))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint");
                    None
                }
            };
            let pause = if now.is_some() && now != last {
                WAL_CHECKPOINT_BUSY
            } else {
                idle
            };
            last = now;
            tokio::time::sleep(pause).await;
        }
    }))
}
