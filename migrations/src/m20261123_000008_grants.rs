use sea_orm_migration::prelude::*;

use crate::m20261123_000001_users::Users;
use crate::m20261123_000005_contacts::Contacts;

/// Access grants: a user, or everyone with a role, may read or write a contact they don't own.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .col(
                        ColumnDef::new(Grants::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Grants::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Grants::UserId).big_integer().null())
                    .col(ColumnDef::new(Grants::Role).string().null())
                    .col(ColumnDef::new(Grants::Level).string().not_null())
                    .col(ColumnDef::new(Grants::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Grants::Table, Grants::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Grants::Table, Grants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("grants_user_contact")
                    .table(Grants::Table)
                    .col(Grants::UserId)
                    .col(Grants::ContactId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("grants_role_contact")
                    .table(Grants::Table)
                    .col(Grants::Role)
                    .col(Grants::ContactId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("grants_contact")
                    .table(Grants::Table)
                    .col(Grants::ContactId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Grants::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    ContactId,
    UserId,
    Role,
    Level,
    CreatedAt,
}
