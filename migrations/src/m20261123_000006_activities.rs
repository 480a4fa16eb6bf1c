use sea_orm_migration::prelude::*;

use crate::m20261123_000001_users::Users;
use crate::m20261123_000005_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .col(
                        ColumnDef::new(Activities::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Activities::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Activities::Kind).string().not_null())
                    .col(
                        ColumnDef::new(Activities::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Activities::Properties).json_binary().not_null())
                    .col(ColumnDef::new(Activities::Amount).double().null())
                    .col(ColumnDef::new(Activities::RecordedBy).big_integer().null())
                    .col(
                        ColumnDef::new(Activities::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Activities::Table, Activities::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Activities::Table, Activities::RecordedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("activities_kind_contact_time")
                    .table(Activities::Table)
                    .col(Activities::Kind)
                    .col(Activities::ContactId)
                    .col(Activities::OccurredAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("activities_contact_time")
                    .table(Activities::Table)
                    .col(Activities::ContactId)
                    .col(Activities::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Activities::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Activities {
    Table,
    Id,
    ContactId,
    Kind,
    OccurredAt,
    Properties,
    Amount,
    RecordedBy,
    CreatedAt,
}
