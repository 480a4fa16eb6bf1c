use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FieldDefs::Table)
                    .col(
                        ColumnDef::new(FieldDefs::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FieldDefs::Key).string().not_null().unique_key())
                    .col(ColumnDef::new(FieldDefs::Label).string().not_null())
                    .col(ColumnDef::new(FieldDefs::Kind).string().not_null())
                    .col(ColumnDef::new(FieldDefs::Options).json_binary().not_null())
                    .col(ColumnDef::new(FieldDefs::Required).boolean().not_null().default(false))
                    .col(
                        ColumnDef::new(FieldDefs::Searchable)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(FieldDefs::AppliesTo).json_binary().not_null())
                    .col(ColumnDef::new(FieldDefs::Position).integer().not_null().default(0))
                    .col(
                        ColumnDef::new(FieldDefs::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FieldDefs::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FieldDefs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum FieldDefs {
    Table,
    Id,
    Key,
    Label,
    Kind,
    Options,
    Required,
    Searchable,
    AppliesTo,
    Position,
    CreatedAt,
    UpdatedAt,
}
