//! Whether a user may sign in: `users.deactivated_at` (NULL while the account is active,
//! the instant an admin deactivated it otherwise). Deactivating keeps the row, so the
//! contacts, tasks and audit events that name the user keep naming them, and an admin can
//! reactivate the account later. Kept as an instant rather than a flag so the users page
//! can say since when.

use sea_orm_migration::prelude::*;

use crate::m20261123_000001_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Status {
    DeactivatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Status::DeactivatedAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Status::DeactivatedAt)
                    .to_owned(),
            )
            .await
    }
}
