//! Connecting to the database, migrating it and seeding what a new base needs.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

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
