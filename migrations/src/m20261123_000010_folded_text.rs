//! Folded text and full-text search on `contacts`.
//!
//! Adds the columns that hold each text column's case- and accent-folded form
//! (`<column>_folded`), the folded text extra fields (`fields_folded`, `{"<key>":
//! "<folded>"}`) and the words of global search (`search_doc`), all written by `core` on
//! every contact write (`kartoteka_core::contacts::derived`). Folding is Unicode-aware Rust
//! code that neither database has, which is why the values are computed by the application
//! and stored, not computed in SQL.
//!
//! Full text over `search_doc`:
//! - SQLite: an FTS5 table with external content (`contacts_fts`, rowid = `contacts.id`,
//!   `unicode61` without its own diacritics removal: the text is folded already), kept in
//!   step by triggers on `contacts`. The update trigger fires only when `search_doc` is in
//!   the `SET` list, so writes that don't touch it (a version bump, a company unlinked)
//!   don't rewrite the index.
//! - PostgreSQL: a GIN index on `to_tsvector('simple', search_doc)`; queries must use that
//!   exact expression to use it.
//!
//! Rows that exist when this migration runs get `name_folded` NULL and an empty
//! `search_doc`; `kartoteka_core::db::migrate` computes them right after the migrations
//! (the folding code lives in `core`, which depends on this crate, not the other way
//! round). The partial index `contacts_unfolded` (rows whose `name_folded` is NULL, which
//! no write leaves behind) makes that check free on every start.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261123_000005_contacts::Contacts;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The folded copies of the core text columns.
const FOLDED: [DerivedColumn; 9] = [
    DerivedColumn::NameFolded,
    DerivedColumn::EmailFolded,
    DerivedColumn::PhoneFolded,
    DerivedColumn::PositionFolded,
    DerivedColumn::StreetFolded,
    DerivedColumn::CityFolded,
    DerivedColumn::RegionFolded,
    DerivedColumn::CountryFolded,
    DerivedColumn::PostalCodeFolded,
];

const SQLITE_FTS: [&str; 4] = [
    "CREATE VIRTUAL TABLE contacts_fts USING fts5(search_doc, content='contacts', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN \
       INSERT INTO contacts_fts(rowid, search_doc) VALUES (new.id, new.search_doc); \
     END",
    "CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN \
       INSERT INTO contacts_fts(contacts_fts, rowid, search_doc) VALUES ('delete', old.id, old.search_doc); \
     END",
    "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_doc ON contacts BEGIN \
       INSERT INTO contacts_fts(contacts_fts, rowid, search_doc) VALUES ('delete', old.id, old.search_doc); \
       INSERT INTO contacts_fts(rowid, search_doc) VALUES (new.id, new.search_doc); \
     END",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes one change per statement.
        for column in FOLDED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Contacts::Table)
                        .add_column(ColumnDef::new(column).text().null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(
                        ColumnDef::new(DerivedColumn::FieldsFolded)
                            .json_binary()
                            .not_null()
                            .default("{}"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Contacts::Table)
                    .add_column(ColumnDef::new(DerivedColumn::SearchDoc).text().not_null().default(""))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("CREATE INDEX contacts_unfolded ON contacts (id) WHERE name_folded IS NULL")
            .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE INDEX contacts_search_doc ON contacts USING GIN (to_tsvector('simple', search_doc))",
                )
                .await?;
            }
            _ => {
                for statement in SQLITE_FTS {
                    db.execute_unprepared(statement).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP INDEX IF EXISTS contacts_search_doc")
                    .await?;
            }
            _ => {
                for trigger in ["contacts_fts_insert", "contacts_fts_delete", "contacts_fts_update"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                        .await?;
                }
                db.execute_unprepared("DROP TABLE IF EXISTS contacts_fts").await?;
            }
        }
        db.execute_unprepared("DROP INDEX IF EXISTS contacts_unfolded").await?;
        for column in FOLDED
            .into_iter()
            .chain([DerivedColumn::FieldsFolded, DerivedColumn::SearchDoc])
        {
            manager
                .alter_table(Table::alter().table(Contacts::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum DerivedColumn {
    NameFolded,
    EmailFolded,
    PhoneFolded,
    PositionFolded,
    StreetFolded,
    CityFolded,
    RegionFolded,
    CountryFolded,
    PostalCodeFolded,
    FieldsFolded,
    SearchDoc,
}
