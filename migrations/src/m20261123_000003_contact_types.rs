use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContactTypes::Table)
                    .col(
                        ColumnDef::new(ContactTypes::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ContactTypes::Key).string().not_null().unique_key())
                    .col(ColumnDef::new(ContactTypes::Label).string().not_null())
                    .col(ColumnDef::new(ContactTypes::ParentId).big_integer().null())
                    .col(ColumnDef::new(ContactTypes::Position).integer().not_null().default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactTypes::Table, ContactTypes::ParentId)
                            .to(ContactTypes::Table, ContactTypes::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ContactTypes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum ContactTypes {
    Table,
    Id,
    Key,
    Label,
    ParentId,
    Position,
}
