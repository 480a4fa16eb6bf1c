//! Collation keys for the sortable text columns, and the indexes of the table's orders.
//!
//! `name_sort` and `city_sort` hold the Unicode collation key (CLDR root order) of the
//! name and the city as bytes (`BLOB` on SQLite, `bytea` on PostgreSQL), written by `core`
//! on every contact write (`kartoteka_core::collation`, `kartoteka_core::contacts::derived`):
//! both databases compare bytes as bytes, so `ORDER BY name_sort, id` is the same
//! alphabetical order on both, served by a B-tree index, and a keyset cursor carries the
//! key. The keys are computed in Rust (neither database can: see the module documentation
//! of `kartoteka_core::collation`), so rows that exist when this migration runs get NULL
//! and `kartoteka_core::db::migrate` fills them right after the migrations, in batches by
//! id (the `(name_sort, id)` index finds the NULLs, so the check costs nothing on a base
//! that has none).
//!
//! Each order of the contacts table gets its `(key, id)` index: `(name_sort, id)` replaces
//! `(name, id)` (nothing orders by the raw name any more), `(city_sort, id)` is new, and
//! `(updated_at, id)` replaces the single-column `updated_at` index (it serves the same
//! range filters and also the keyset walk by update time).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Contacts {
    Table,
    Id,
    Name,
    UpdatedAt,
    NameSort,
    CitySort,
}

/// The indexes made here: name and columns.
const CREATED: [(&str, [Contacts; 2]); 3] = [
    ("contacts_name_sort_id", [Contacts::NameSort, Contacts::Id]),
    ("contacts_city_sort_id", [Contacts::CitySort, Contacts::Id]),
    ("contacts_updated_id", [Contacts::UpdatedAt, Contacts::Id]),
];

/// The indexes replaced, with their columns (to put them back on the way down).
const REPLACED: [(&str, &[Contacts]); 2] = [
    ("contacts_name_id", &[Contacts::Name, Contacts::Id]),
    ("contacts_updated", &[Contacts::UpdatedAt]),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes one change per statement.
        for column in [Contacts::NameSort, Contacts::CitySort] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Contacts::Table)
                        .add_column(ColumnDef::new(column).blob().null())
                        .to_owned(),
                )
                .await?;
        }
        for (name, cols) in CREATED {
            let mut index = Index::create();
            index.name(name).table(Contacts::Table).if_not_exists();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        for (name, _) in REPLACED {
            manager
                .drop_index(Index::drop().name(name).table(Contacts::Table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, cols) in REPLACED {
            let mut index = Index::create();
            index.name(name).table(Contacts::Table).if_not_exists();
            for col in cols {
                index.col(*col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        for (name, _) in CREATED {
            manager
                .drop_index(Index::drop().name(name).table(Contacts::Table).if_exists().to_owned())
                .await?;
        }
        for column in [Contacts::NameSort, Contacts::CitySort] {
            manager
                .alter_table(Table::alter().table(Contacts::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
