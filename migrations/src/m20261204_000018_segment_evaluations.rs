//! What a dynamic segment's members were last decided against, so a time-relative
//! segment is re-decided only where its boundary moved (`core/src/segments/jobs.rs`).
//!
//! `segments.evaluated` (JSON, NULL until a rebuild has run): the instant the filter was
//! lowered at, the catalogue and plugin generations it was lowered with, and the last
//! `contact_events` and `activities` ids whose contacts were decided with it.

use sea_orm_migration::prelude::*;

use crate::m20261123_000012_segments::Segments;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Evaluation {
    Evaluated,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Segments::Table)
                    .add_column(ColumnDef::new(Evaluation::Evaluated).json_binary().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Segments::Table)
                    .drop_column(Evaluation::Evaluated)
                    .to_owned(),
            )
            .await
    }
}
