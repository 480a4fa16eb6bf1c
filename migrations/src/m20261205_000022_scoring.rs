//! Scoring models and the scores they give.
//!
//! - `scoring_models`: a named model for persons or for companies. `key` names it in
//!   filters (`score.fit`, `score_band.fit`); `definition` holds its parameters and bands
//!   (JSON, checked by `core::scoring::model`). `status` is `ready`, `rescoring` (a full
//!   rescore is asked for or running under `lease_until`, `progress_done` of
//!   `progress_total` contacts) or `needs_attention` (a criterion failed: the reason in
//!   `status_message`, the scores kept). `time_dependent` models are rescored on a
//!   schedule; `rescored_at` says when the last full rescore ended.
//! - `contact_scores`: one row per model and contact, the weighted score (0-100), its band,
//!   and each parameter's points (JSON, for the card's explanation).
//! - `score_events`: a contact's band changes, for its history.

use sea_orm_migration::prelude::*;

use crate::m20261123_000005_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ScoringModels {
    Table,
    Id,
    Key,
    Name,
    Kind,
    Definition,
    Version,
    TimeDependent,
    Status,
    StatusMessage,
    ProgressDone,
    ProgressTotal,
    LeaseUntil,
    RescoredAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ContactScores {
    Table,
    ModelId,
    ContactId,
    Score,
    Band,
    Points,
    ComputedAt,
}

#[derive(DeriveIden)]
enum ScoreEvents {
    Table,
    Id,
    ModelId,
    ContactId,
    FromBand,
    ToBand,
    Score,
    At,
}

fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col).timestamp_with_time_zone().to_owned()
}

fn id(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScoringModels::Table)
                    .col(id(ScoringModels::Id))
                    .col(ColumnDef::new(ScoringModels::Key).string().not_null().unique_key())
                    .col(ColumnDef::new(ScoringModels::Name).string().not_null())
                    .col(ColumnDef::new(ScoringModels::Kind).string().not_null())
                    .col(ColumnDef::new(ScoringModels::Definition).json_binary().not_null())
                    .col(
                        ColumnDef::new(ScoringModels::Version)
                            .big_integer()
                            .not_null()
                            .default(1),
                    )
                    .col(
                        ColumnDef::new(ScoringModels::TimeDependent)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(ScoringModels::Status).string().not_null())
                    .col(ColumnDef::new(ScoringModels::StatusMessage).text().null())
                    .col(
                        ColumnDef::new(ScoringModels::ProgressDone)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(ScoringModels::ProgressTotal)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(time(ScoringModels::LeaseUntil).null())
                    .col(time(ScoringModels::RescoredAt).null())
                    .col(ColumnDef::new(ScoringModels::CreatedBy).big_integer().null())
                    .col(time(ScoringModels::CreatedAt).not_null())
                    .col(time(ScoringModels::UpdatedAt).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ContactScores::Table)
                    .col(ColumnDef::new(ContactScores::ModelId).big_integer().not_null())
                    .col(ColumnDef::new(ContactScores::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(ContactScores::Score).double().not_null())
                    .col(ColumnDef::new(ContactScores::Band).string().not_null())
                    .col(ColumnDef::new(ContactScores::Points).json_binary().not_null())
                    .col(time(ContactScores::ComputedAt).not_null())
                    .primary_key(
                        Index::create()
                            .col(ContactScores::ModelId)
                            .col(ContactScores::ContactId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactScores::Table, ContactScores::ModelId)
                            .to(ScoringModels::Table, ScoringModels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ContactScores::Table, ContactScores::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "contact_scores_contact",
                vec![ContactScores::ContactId, ContactScores::ModelId],
            ),
            (
                "contact_scores_score",
                vec![ContactScores::ModelId, ContactScores::Score, ContactScores::ContactId],
            ),
            (
                "contact_scores_band",
                vec![ContactScores::ModelId, ContactScores::Band, ContactScores::ContactId],
            ),
        ] {
            let mut index = Index::create().name(name).table(ContactScores::Table).to_owned();
            for col in cols {
                index.col(col);
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ScoreEvents::Table)
                    .col(id(ScoreEvents::Id))
                    .col(ColumnDef::new(ScoreEvents::ModelId).big_integer().not_null())
                    .col(ColumnDef::new(ScoreEvents::ContactId).big_integer().not_null())
                    .col(ColumnDef::new(ScoreEvents::FromBand).string().null())
                    .col(ColumnDef::new(ScoreEvents::ToBand).string().null())
                    .col(ColumnDef::new(ScoreEvents::Score).double().null())
                    .col(time(ScoreEvents::At).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScoreEvents::Table, ScoreEvents::ModelId)
                            .to(ScoringModels::Table, ScoringModels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScoreEvents::Table, ScoreEvents::ContactId)
                            .to(Contacts::Table, Contacts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("score_events_contact")
                    .table(ScoreEvents::Table)
                    .col(ScoreEvents::ContactId)
                    .col(ScoreEvents::At)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ScoreEvents::Table.into_iden(),
            ContactScores::Table.into_iden(),
            ScoringModels::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
