use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261123_000012_segments::Segments;

/// Segment rebuilds as background jobs, and a size history that outlives its contacts.
///
/// - `segments` gains the rebuild's progress (`progress_done` of `progress_total`
///   candidates) and its lease (`lease_until`: the instance running the rebuild renews it;
///   an expired lease means that instance is gone and another one takes the job over).
/// - `catalog_generation` is bumped by every change of fields, contact types or users, so
///   each instance knows when the segment filters it holds compiled must be prepared again
///   (plugin changes already bump `plugin_generation`).
/// - `segment_events` is rebuilt without the foreign key to `contacts`: with it, deleting a
///   contact deleted its `joined`/`left` events too, and the segment's past sizes changed.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on one connection, on SQLite too: the table is rebuilt in steps
    /// that must see each other and succeed or fail together.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            ColumnDef::new(Jobs::ProgressDone)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Jobs::ProgressTotal)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Jobs::LeaseUntil)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
            manager
                .alter_table(Table::alter().table(Segments::Table).add_column(column).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("segments_status")
                    .table(Segments::Table)
                    .col(Segments::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CatalogGeneration::Table)
                    .col(ColumnDef::new(CatalogGeneration::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(CatalogGeneration::Generation).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(CatalogGeneration::Table)
            .columns([CatalogGeneration::Id, CatalogGeneration::Generation])
            .values([1.into(), 0i64.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        manager.exec_stmt(seed).await?;

        manager
            .create_table(
                Table::create()
                    .table(NewEvents::Table)
                    .col(
                        ColumnDef::new(Events::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Events::SegmentId).big_integer().not_null())
                    .col(ColumnDef::new(Events::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Events::Event).string().not_null())
                    .col(ColumnDef::new(Events::At).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(NewEvents::Table, Events::SegmentId)
                            .to(Segments::Table, Segments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO segment_events_v2 (id, segment_id, contact_id, event, at) \
             SELECT id, segment_id, contact_id, event, at FROM segment_events",
        )
        .await?;
        manager
            .drop_table(Table::drop().table(Events::Table).to_owned())
            .await?;
        manager
            .rename_table(Table::rename().table(NewEvents::Table, Events::Table).to_owned())
            .await?;
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "SELECT setval(pg_get_serial_sequence('segment_events', 'id'), \
                 COALESCE((SELECT MAX(id) FROM segment_events), 0) + 1, false)",
            )
            .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("segment_events_by_segment_at")
                    .table(Events::Table)
                    .col(Events::SegmentId)
                    .col(Events::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CatalogGeneration::Table).to_owned())
            .await?;
        manager
            .drop_index(Index::drop().name("segments_status").table(Segments::Table).to_owned())
            .await?;
        for column in [Jobs::ProgressDone, Jobs::ProgressTotal, Jobs::LeaseUntil] {
            manager
                .alter_table(Table::alter().table(Segments::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Jobs {
    ProgressDone,
    ProgressTotal,
    LeaseUntil,
}

#[derive(DeriveIden)]
enum CatalogGeneration {
    Table,
    Id,
    Generation,
}

#[derive(DeriveIden)]
enum Events {
    #[sea_orm(iden = "segment_events")]
    Table,
    Id,
    SegmentId,
    ContactId,
    Event,
    At,
}

#[derive(DeriveIden)]
enum NewEvents {
    #[sea_orm(iden = "segment_events_v2")]
    Table,
}
