use sea_orm_migration::prelude::*;

/// Sign-in limits counted in the database (see `kartoteka_core::sign_in_limits`): one row per
/// counter (`address:<ip>`, `pair:<email> <ip>`, `account:<email>`), times as Unix seconds
/// so that the conditional updates compare them the same way on SQLite and PostgreSQL.
///
/// The `users.failed_logins` and `users.locked_until` columns are no longer read or written.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SignInLimits::Table)
                    .col(ColumnDef::new(SignInLimits::Key).string().not_null().primary_key())
                    .col(
                        ColumnDef::new(SignInLimits::Failures)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(SignInLimits::Lockouts)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(SignInLimits::LockedUntil).big_integer().null())
                    .col(ColumnDef::new(SignInLimits::SucceededAt).big_integer().null())
                    .col(ColumnDef::new(SignInLimits::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sign_in_limits_updated")
                    .table(SignInLimits::Table)
                    .col(SignInLimits::UpdatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SignInLimits::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SignInLimits {
    Table,
    Key,
    Failures,
    Lockouts,
    LockedUntil,
    SucceededAt,
    UpdatedAt,
}
