//! Saved views of the contacts page and card layouts per contact type.
//!
//! - `views`: a user's named way to look at contacts: `mode` (`list`, `table`, `tiles`),
//!   `columns` (a JSON array of column names: core columns, `fields.<key>`,
//!   `score.<model id>`, `last_activity`), `sort` (as `sort=` takes it), `filter` (the
//!   filter JSON, NULL for none) and `q` (the search). `shared` views are seen by every
//!   user; the others only by `user_id`, who made it.
//! - `view_last_used`: the view each user opened last, so the contacts page opens on it.
//!   A row per user rather than a column of `users`, so the accounts' rows (and every
//!   place that writes them) stay as they are. A deleted view leaves no row behind: the
//!   delete removes them in the same transaction.
//! - `card_layouts`: per contact type (by id, so renaming a type's label keeps it), the
//!   layout as JSON: titled sections with the extra fields in order, and the fields
//!   hidden. A type without a row uses its parent's (see `core::schema::layouts`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Views {
    Table,
    Id,
    UserId,
    Name,
    Shared,
    Mode,
    Columns,
    Sort,
    Filter,
    Q,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ViewLastUsed {
    Table,
    UserId,
    ViewId,
}

#[derive(DeriveIden)]
enum CardLayouts {
    Table,
    TypeId,
    Layout,
    UpdatedAt,
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().not_null().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Views::Table)
                    .col(
                        ColumnDef::new(Views::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Views::UserId).big_integer().not_null())
                    .col(ColumnDef::new(Views::Name).text().not_null())
                    .col(ColumnDef::new(Views::Shared).boolean().not_null().default(false))
                    .col(ColumnDef::new(Views::Mode).string().not_null())
                    .col(ColumnDef::new(Views::Columns).json().not_null())
                    .col(ColumnDef::new(Views::Sort).string().not_null())
                    .col(ColumnDef::new(Views::Filter).json().null())
                    .col(ColumnDef::new(Views::Q).text().not_null())
                    .col(time(Views::CreatedAt))
                    .col(time(Views::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("views_user")
                    .table(Views::Table)
                    .col(Views::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ViewLastUsed::Table)
                    .col(
                        ColumnDef::new(ViewLastUsed::UserId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(ViewLastUsed::ViewId).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CardLayouts::Table)
                    .col(
                        ColumnDef::new(CardLayouts::TypeId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CardLayouts::Layout).json().not_null())
                    .col(time(CardLayouts::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Views::Table.into_iden(),
            ViewLastUsed::Table.into_iden(),
            CardLayouts::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
