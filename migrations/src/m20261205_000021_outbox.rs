//! E-mail: the outbox that bulk sends fill and the delivery worker empties, and the
//! contacts who asked for no more mail.
//!
//! - `outbox`: one message to one contact. A message a job sent carries the job's effect
//!   key `(job_id, contact_id, effect_index)`, unique, so a batch committed twice queues it
//!   once; a test send has no job. `state` is `queued` (waiting, or being handed off under
//!   `lease_owner`/`lease_until`), `sent` (handed to SMTP or to the local outbox, with the
//!   server's answer), `failed` (a permanent refusal, or too many attempts) or `skipped`
//!   (the contact unsubscribed or became do-not-contact before the handoff). `attempts`
//!   and `next_attempt_at` pace the retries; the first open and click are stamped here,
//!   every one is an activity.
//! - `email_unsubscribes`: a contact who unsubscribed, when, from which message.

use sea_orm_migration::prelude::*;

use crate::m20261123_000005_contacts::Contacts;
use crate::m20261204_000020_jobs::Jobs;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    JobId,
    ContactId,
    EffectIndex,
    Recipient,
    Subject,
    Html,
    Plain,
    State,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastError,
    Transport,
    CreatedBy,
    CreatedAt,
    SentAt,
    OpenedAt,
    ClickedAt,
}

#[derive(DeriveIden)]
enum EmailUnsubscribes {
    Table,
    ContactId,
    JobId,
    OutboxId,
    CreatedAt,
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
                    .table(Outbox::Table)
                    .col(
                        ColumnDef::new(Outbox::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Outbox::JobId).big_integer().null())
                    .col(ColumnDef::new(Outbox::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(Outbox::EffectIndex).integer().not_null())
                    .col(ColumnDef::new(Outbox::Recipient).string().not_null())
                    .col(ColumnDef::new(Outbox::Subject).text().not_null())
                    .col(ColumnDef::new(Outbox::Html).text().not_null())
                    .col(ColumnDef::new(Outbox::Plain).text().not_null())
                    .col(ColumnDef::new(Outbox::State).string().not_null())
                    .col(ColumnDef::new(Outbox::Attempts).integer().not_null().default(0))
                    .col(time(Outbox::NextAttemptAt).not_null())
                    .col(ColumnDef::new(Outbox::LeaseOwner).string().null())
                    .col(time(Outbox::LeaseUntil).null())
                    .col(ColumnDef::new(Outbox::LastError).text().null())
                    .col(ColumnDef::new(Outbox::Transport).string().null())
                    .col(ColumnDef::new(Outbox::CreatedBy).big_integer().null())
                    .col(time(Outbox::CreatedAt).not_null())
                    .col(time(Outbox::SentAt).null())
                    .col(time(Outbox::OpenedAt).null())
                    .col(time(Outbox::ClickedAt).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Outbox::Table, Outbox::JobId)
                            .to(Jobs::Table, Jobs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Outbox::Table, Outbox::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "outbox_effect",
                vec![Outbox::JobId, Outbox::ContactId, Outbox::EffectIndex],
                true,
            ),
            (
                "outbox_due",
                vec![Outbox::State, Outbox::NextAttemptAt, Outbox::Id],
                false,
            ),
            ("outbox_job", vec![Outbox::JobId, Outbox::State], false),
            ("outbox_contact", vec![Outbox::ContactId], false),
        ] {
            let mut index = Index::create().name(name).table(Outbox::Table).to_owned();
            if unique {
                index.unique();
            }
            for col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(EmailUnsubscribes::Table)
                    .col(
                        ColumnDef::new(EmailUnsubscribes::ContactId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(EmailUnsubscribes::JobId).big_integer().null())
                    .col(ColumnDef::new(EmailUnsubscribes::OutboxId).big_integer().null())
                    .col(time(EmailUnsubscribes::CreatedAt).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(EmailUnsubscribes::Table, EmailUnsubscribes::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("email_unsubscribes_job")
                    .table(EmailUnsubscribes::Table)
                    .col(EmailUnsubscribes::JobId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [EmailUnsubscribes::Table.into_iden(), Outbox::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
