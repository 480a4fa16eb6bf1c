use sea_orm_migration::prelude::*;

use crate::m20261123_000003_contact_types::ContactTypes;

/// Base-wide settings that admins change at run time: one row (`id = 1`), one typed column
/// per setting.
///
/// - `default_type_id`: the contact type a contact created without one gets. A foreign key,
///   so it can't point at a type that is gone (removing the type clears it, unless the
///   removal moves its contacts, and with them the default, to another type). Seeded as
///   `lead` where that type exists; a new base gets it when the types are seeded.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(ColumnDef::new(Settings::Id).integer().not_null().primary_key())
                    .col(ColumnDef::new(Settings::DefaultTypeId).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Settings::Table, Settings::DefaultTypeId)
                            .to(ContactTypes::Table, ContactTypes::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        let seed = Query::insert()
            .into_table(Settings::Table)
            .columns([Settings::Id, Settings::DefaultTypeId])
            .values([
                1.into(),
                Expr::cust("(SELECT \"id\" FROM \"contact_types\" WHERE \"key\" = 'lead')"),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Settings::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Id,
    DefaultTypeId,
}
