use sea_orm_migration::prelude::*;

use crate::m20261123_000001_users::Users;
use crate::m20261123_000005_contacts::Contacts;

/// Segments: dynamic (a saved filter) or static (a hand-kept list), their stored members
/// with the time each joined, and the joined/left events that make up the size history.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Segments::Table)
                    .col(
                        ColumnDef::new(Segments::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Segments::Name).string().not_null().unique_key())
                    .col(ColumnDef::new(Segments::Kind).string().not_null())
                    .col(ColumnDef::new(Segments::Filter).json_binary().null())
                    .col(ColumnDef::new(Segments::Status).string().not_null())
                    .col(ColumnDef::new(Segments::StatusMessage).string().null())
                    .col(ColumnDef::new(Segments::CreatedBy).big_integer().null())
                    .col(
                        ColumnDef::new(Segments::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Segments::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Segments::Version).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Segments::Table, Segments::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SegmentMembers::Table)
                    .col(ColumnDef::new(SegmentMembers::SegmentId).big_integer().not_null())
                    .col(ColumnDef::new(SegmentMembers::ContactId).big_integer().not_null())
                    .col(
                        ColumnDef::new(SegmentMembers::JoinedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(SegmentMembers::SegmentId)
                            .col(SegmentMembers::ContactId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SegmentMembers::Table, SegmentMembers::SegmentId)
                            .to(Segments::Table, Segments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SegmentMembers::Table, SegmentMembers::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("segment_members_contact")
                    .table(SegmentMembers::Table)
                    .col(SegmentMembers::ContactId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SegmentEvents::Table)
                    .col(
                        ColumnDef::new(SegmentEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(SegmentEvents::SegmentId).big_integer().not_null())
                    .col(ColumnDef::new(SegmentEvents::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(SegmentEvents::Event).string().not_null())
                    .col(ColumnDef::new(SegmentEvents::At).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(SegmentEvents::Table, SegmentEvents::SegmentId)
                            .to(Segments::Table, Segments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SegmentEvents::Table, SegmentEvents::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("segment_events_segment_at")
                    .table(SegmentEvents::Table)
                    .col(SegmentEvents::SegmentId)
                    .col(SegmentEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SegmentEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SegmentMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Segments::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Segments {
    Table,
    Id,
    Name,
    Kind,
    Filter,
    Status,
    StatusMessage,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum SegmentMembers {
    Table,
    SegmentId,
    ContactId,
    JoinedAt,
}

#[derive(DeriveIden)]
enum SegmentEvents {
    Table,
    Id,
    SegmentId,
    ContactId,
    Event,
    At,
}
