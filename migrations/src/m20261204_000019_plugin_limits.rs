//! What an admin granted a plugin beyond the default limits, at approval
//! (`core/src/plugin/limits.rs`, `Grant`).
//!
//! `plugins.limits` (JSON, NULL for the defaults): `{"memory_mb": 256, "time_ms": 5000}`.

use sea_orm_migration::prelude::*;

use crate::m20261123_000009_plugins::Plugins;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Granted {
    Limits,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Plugins::Table)
                    .add_column(ColumnDef::new(Granted::Limits).json_binary().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Plugins::Table)
                    .drop_column(Granted::Limits)
                    .to_owned(),
            )
            .await
    }
}
