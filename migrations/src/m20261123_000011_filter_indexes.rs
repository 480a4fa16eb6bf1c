//! B-tree indexes on the core columns filters compare (`core/src/filter/indexes.rs`
//! explains which plans rely on them). Extra fields get expression indexes when they
//! are defined, not here.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Contacts {
    Table,
    City,
    Region,
    Country,
    PostalCode,
    Score,
    ScoreBand,
    UpdatedAt,
    Latitude,
    Longitude,
}

const INDEXES: [(&str, &[Contacts]); 8] = [
    ("contacts_city", &[Contacts::City]),
    ("contacts_region", &[Contacts::Region]),
    ("contacts_country", &[Contacts::Country]),
    ("contacts_postal_code", &[Contacts::PostalCode]),
    ("contacts_score", &[Contacts::Score]),
    ("contacts_score_band", &[Contacts::ScoreBand]),
    ("contacts_updated", &[Contacts::UpdatedAt]),
    ("contacts_lat_lon", &[Contacts::Latitude, Contacts::Longitude]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Contacts::Table).if_not_exists();
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Contacts::Table).to_owned())
                .await?;
        }
        Ok(())
    }
}
