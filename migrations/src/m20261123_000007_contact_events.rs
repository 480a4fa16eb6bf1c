use sea_orm_migration::prelude::*;

/// The audit trail of contacts. No foreign key to `contacts`: the trail outlives a deleted
/// contact, and it is where a value dropped by a field-kind conversion can still be read.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContactEvents::Table)
                    .col(
                        ColumnDef::new(ContactEvents::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ContactEvents::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(ContactEvents::UserId).big_integer().null())
                    .col(ColumnDef::new(ContactEvents::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ContactEvents::Action).string().not_null())
                    .col(ColumnDef::new(ContactEvents::Changes).json_binary().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("contact_events_contact")
                    .table(ContactEvents::Table)
                    .col(ContactEvents::ContactId)
                    .col(ContactEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContactEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ContactEvents {
    Table,
    Id,
    ContactId,
    UserId,
    At,
    Action,
    Changes,
}
