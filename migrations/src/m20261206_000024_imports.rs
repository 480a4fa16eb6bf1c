//! Imports of contacts from files: the uploaded file itself (so that any server sharing
//! the database can run it, and a run can be repeated), the mapping last used, and the
//! state, progress and report of the last run (a dry run or the import).
//!
//! - `state`: `uploaded`, `running`, `done`, `failed`; `heartbeat_at` is stamped after
//!   every batch of a running import, so one whose server died shows as interrupted.
//! - `report`: the counts (created, updated, unchanged, skipped, refused, ...) as JSON.
//! - `outcomes`: CSV: for a dry run every row's outcome, for an import the rows skipped
//!   and refused, each with the file's own cells and the reason.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Imports {
    Table,
    Id,
    UserId,
    FileName,
    Content,
    Size,
    Header,
    Mapping,
    State,
    DryRun,
    RowsDone,
    BytesDone,
    Report,
    Outcomes,
    Error,
    CreatedAt,
    StartedAt,
    HeartbeatAt,
    FinishedAt,
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Imports::Table)
                    .col(
                        ColumnDef::new(Imports::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Imports::UserId).big_integer().not_null())
                    .col(ColumnDef::new(Imports::FileName).text().not_null())
                    .col(ColumnDef::new(Imports::Content).blob().not_null())
                    .col(ColumnDef::new(Imports::Size).big_integer().not_null())
                    .col(ColumnDef::new(Imports::Header).json().not_null())
                    .col(ColumnDef::new(Imports::Mapping).json().null())
                    .col(ColumnDef::new(Imports::State).string().not_null())
                    .col(ColumnDef::new(Imports::DryRun).boolean().not_null().default(false))
                    .col(ColumnDef::new(Imports::RowsDone).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Imports::BytesDone).big_integer().not_null().default(0))
                    .col(ColumnDef::new(Imports::Report).json().null())
                    .col(ColumnDef::new(Imports::Outcomes).blob().null())
                    .col(ColumnDef::new(Imports::Error).text().null())
                    .col(time(Imports::CreatedAt).not_null())
                    .col(time(Imports::StartedAt).null())
                    .col(time(Imports::HeartbeatAt).null())
                    .col(time(Imports::FinishedAt).null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("imports_user")
                    .table(Imports::Table)
                    .col(Imports::UserId)
                    .col(Imports::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Imports::Table).to_owned()).await
    }
}
