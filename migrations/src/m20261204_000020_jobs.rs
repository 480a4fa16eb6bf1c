//! Bulk actions as durable jobs, and the records their effects create.
//!
//! - `jobs`: one bulk action over a frozen set of targets: the action (`plugin.name`), its
//!   parameters, dry run or not, the state (`queued`, `running`, `paused`, `cancelling`,
//!   `cancelled`, `done`, `failed`) with its reason, the progress counters, the checkpoint
//!   (the last target id whose batch committed) and the lease of the instance running it.
//! - `job_targets`: the frozen targets, `(job_id, contact_id)`, written in one
//!   `INSERT ... SELECT` when the job starts and read in keyset batches.
//! - `job_outcomes`: the targets that did not simply succeed (failed or skipped), with the
//!   reason; a target at or below the checkpoint with no row here succeeded.
//! - `job_samples`: the first effects of a job, keyed like every effect, for the dry run's
//!   preview and the job page.
//! - `tasks`: follow-ups on a contact, for a user, with a due date; a task a job created
//!   carries its effect key `(job_id, contact_id, effect_index)`, unique, so a batch
//!   committed twice (a crash before the checkpoint, a lease taken over) creates it once.
//! - `grants` gain the same effect key.

use sea_orm_migration::prelude::*;

use crate::m20261123_000001_users::Users;
use crate::m20261123_000005_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Jobs {
    Table,
    Id,
    Action,
    Params,
    DryRun,
    Source,
    State,
    Reason,
    CreatedBy,
    CreatedAt,
    StartedAt,
    FinishedAt,
    UpdatedAt,
    RunAt,
    Total,
    Done,
    Failed,
    Skipped,
    Effects,
    EffectCounts,
    Checkpoint,
    LeaseUntil,
    LeaseOwner,
}

#[derive(DeriveIden)]
enum JobTargets {
    Table,
    JobId,
    ContactId,
}

#[derive(DeriveIden)]
enum JobOutcomes {
    Table,
    JobId,
    ContactId,
    Outcome,
    Reason,
}

#[derive(DeriveIden)]
enum JobSamples {
    Table,
    JobId,
    ContactId,
    EffectIndex,
    Effect,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    ContactId,
    AssigneeId,
    Title,
    Body,
    DueAt,
    Status,
    CreatedBy,
    CreatedAt,
    DoneAt,
    JobId,
    EffectIndex,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    JobId,
    ContactId,
    EffectIndex,
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

fn counter(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).big_integer().not_null().default(0).to_owned()
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(id(Jobs::Id))
                    .col(ColumnDef::new(Jobs::Action).string().not_null())
                    .col(ColumnDef::new(Jobs::Params).json_binary().null())
                    .col(ColumnDef::new(Jobs::DryRun).boolean().not_null())
                    .col(ColumnDef::new(Jobs::Source).json_binary().not_null())
                    .col(ColumnDef::new(Jobs::State).string().not_null())
                    .col(ColumnDef::new(Jobs::Reason).string().null())
                    .col(ColumnDef::new(Jobs::CreatedBy).big_integer().null())
                    .col(time(Jobs::CreatedAt).not_null())
                    .col(time(Jobs::StartedAt).null())
                    .col(time(Jobs::FinishedAt).null())
                    .col(time(Jobs::UpdatedAt).not_null())
                    .col(ColumnDef::new(Jobs::RunAt).big_integer().not_null())
                    .col(counter(Jobs::Total))
                    .col(counter(Jobs::Done))
                    .col(counter(Jobs::Failed))
                    .col(counter(Jobs::Skipped))
                    .col(counter(Jobs::Effects))
                    .col(ColumnDef::new(Jobs::EffectCounts).json_binary().not_null())
                    .col(counter(Jobs::Checkpoint))
                    .col(time(Jobs::LeaseUntil).null())
                    .col(ColumnDef::new(Jobs::LeaseOwner).string().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Jobs::Table, Jobs::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("jobs_state")
                    .table(Jobs::Table)
                    .col(Jobs::State)
                    .col(Jobs::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobTargets::Table)
                    .col(ColumnDef::new(JobTargets::JobId).big_integer().not_null())
                    .col(ColumnDef::new(JobTargets::ContactId).big_integer().not_null())
                    .primary_key(Index::create().col(JobTargets::JobId).col(JobTargets::ContactId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JobTargets::Table, JobTargets::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobOutcomes::Table)
                    .col(ColumnDef::new(JobOutcomes::JobId).big_integer().not_null())
                    .col(ColumnDef::new(JobOutcomes::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(JobOutcomes::Outcome).string().not_null())
                    .col(ColumnDef::new(JobOutcomes::Reason).text().not_null())
                    .primary_key(Index::create().col(JobOutcomes::JobId).col(JobOutcomes::ContactId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(JobOutcomes::Table, JobOutcomes::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(JobSamples::Table)
                    .col(ColumnDef::new(JobSamples::JobId).big_integer().not_null())
                    .col(ColumnDef::new(JobSamples::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(JobSamples::EffectIndex).integer().not_null())
                    .col(ColumnDef::new(JobSamples::Effect).json_binary().not_null())
                    .primary_key(
                        Index::create()
                            .col(JobSamples::JobId)
                            .col(JobSamples::ContactId)
                            .col(JobSamples::EffectIndex),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(JobSamples::Table, JobSamples::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .col(id(Tasks::Id))
                    .col(ColumnDef::new(Tasks::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Tasks::AssigneeId).big_integer().null())
                    .col(ColumnDef::new(Tasks::Title).string().not_null())
                    .col(ColumnDef::new(Tasks::Body).text().not_null())
                    .col(time(Tasks::DueAt).null())
                    .col(ColumnDef::new(Tasks::Status).string().not_null())
                    .col(ColumnDef::new(Tasks::CreatedBy).big_integer().null())
                    .col(time(Tasks::CreatedAt).not_null())
                    .col(time(Tasks::DoneAt).null())
                    .col(ColumnDef::new(Tasks::JobId).big_integer().null())
                    .col(ColumnDef::new(Tasks::EffectIndex).integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tasks::Table, Tasks::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tasks::Table, Tasks::AssigneeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Tasks::Table, Tasks::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("tasks_effect", vec![Tasks::JobId, Tasks::ContactId, Tasks::EffectIndex]),
            ("tasks_assignee", vec![Tasks::AssigneeId, Tasks::Status, Tasks::DueAt]),
            ("tasks_contact", vec![Tasks::ContactId, Tasks::Status]),
        ] {
            let mut index = Index::create().name(name).table(Tasks::Table).to_owned();
            if name == "tasks_effect" {
                index.unique();
            }
            for col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }
        // SQLite alters one column per statement.
        for col in [Grants::JobId, Grants::EffectIndex] {
            let kind = if matches!(col, Grants::JobId) {
                ColumnDef::new(col).big_integer().null().to_owned()
            } else {
                ColumnDef::new(col).integer().null().to_owned()
            };
            manager
                .alter_table(Table::alter().table(Grants::Table).add_column(kind).to_owned())
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("grants_effect")
                    .table(Grants::Table)
                    .col(Grants::JobId)
                    .col(Grants::ContactId)
                    .col(Grants::EffectIndex)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("grants_effect").table(Grants::Table).to_owned())
            .await?;
        for col in [Grants::EffectIndex, Grants::JobId] {
            manager
                .alter_table(Table::alter().table(Grants::Table).drop_column(col).to_owned())
                .await?;
        }
        for table in [
            Tasks::Table.into_iden(),
            JobSamples::Table.into_iden(),
            JobOutcomes::Table.into_iden(),
            JobTargets::Table.into_iden(),
            Jobs::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
