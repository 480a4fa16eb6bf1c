use sea_orm_migration::prelude::*;

use crate::m20261123_000001_users::Users;
use crate::m20261123_000003_contact_types::ContactTypes;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .col(
                        ColumnDef::new(Contacts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Contacts::Kind).string().not_null())
                    .col(ColumnDef::new(Contacts::TypeId).big_integer().not_null())
                    .col(ColumnDef::new(Contacts::Name).string().not_null())
                    .col(ColumnDef::new(Contacts::Email).string().null())
                    .col(ColumnDef::new(Contacts::Phone).string().null())
                    .col(ColumnDef::new(Contacts::Position).string().null())
                    .col(ColumnDef::new(Contacts::CompanyId).big_integer().null())
                    .col(ColumnDef::new(Contacts::Street).string().null())
                    .col(ColumnDef::new(Contacts::City).string().null())
                    .col(ColumnDef::new(Contacts::Region).string().null())
                    .col(ColumnDef::new(Contacts::Country).string().null())
                    .col(ColumnDef::new(Contacts::PostalCode).string().null())
                    .col(ColumnDef::new(Contacts::Latitude).double().null())
                    .col(ColumnDef::new(Contacts::Longitude).double().null())
                    .col(ColumnDef::new(Contacts::OwnerId).big_integer().null())
                    .col(
                        ColumnDef::new(Contacts::DoNotContact)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Contacts::Score).double().null())
                    .col(ColumnDef::new(Contacts::ScoreBand).string().null())
                    .col(ColumnDef::new(Contacts::Fields).json_binary().not_null())
                    .col(
                        ColumnDef::new(Contacts::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Contacts::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Contacts::Version).big_integer().not_null().default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Contacts::Table, Contacts::TypeId)
                            .to(ContactTypes::Table, ContactTypes::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Contacts::Table, Contacts::CompanyId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Contacts::Table, Contacts::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The table scrolls by keyset on (sort key, id): one index per sort order.
        let indexes: [(&str, Vec<Contacts>); 6] = [
            ("contacts_name_id", vec![Contacts::Name, Contacts::Id]),
            ("contacts_created_id", vec![Contacts::CreatedAt, Contacts::Id]),
            ("contacts_owner", vec![Contacts::OwnerId, Contacts::Id]),
            ("contacts_company", vec![Contacts::CompanyId]),
            ("contacts_type", vec![Contacts::TypeId]),
            ("contacts_email", vec![Contacts::Email]),
        ];
        for (name, cols) in indexes {
            let mut index = Index::create();
            index.name(name).table(Contacts::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Contacts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
pub enum Contacts {
    Table,
    Id,
    Kind,
    TypeId,
    Name,
    Email,
    Phone,
    Position,
    CompanyId,
    Street,
    City,
    Region,
    Country,
    PostalCode,
    Latitude,
    Longitude,
    OwnerId,
    DoNotContact,
    Score,
    ScoreBand,
    Fields,
    CreatedAt,
    UpdatedAt,
    Version,
}
