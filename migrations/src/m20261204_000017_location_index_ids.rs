//! On PostgreSQL, `contacts_lat_lon` carries the contact's id (`INCLUDE (id)`), so the
//! location walk's one statement (`SELECT id, latitude, longitude ... WHERE` the bounding
//! box) is an index-only scan instead of a heap fetch of every contact in the box
//! (`core/src/filter/walk.rs`). SQLite's index entries carry the rowid already.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS contacts_lat_lon").await?;
        db.execute_unprepared("CREATE INDEX contacts_lat_lon ON contacts (latitude, longitude) INCLUDE (id)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS contacts_lat_lon").await?;
        db.execute_unprepared("CREATE INDEX contacts_lat_lon ON contacts (latitude, longitude)")
            .await?;
        Ok(())
    }
}
