//! Imports kept in the database (`imports`): the uploaded file, and the state, progress
//! and report of its last run, which runs in the background on the server that started
//! it.
//!
//! The file is stored in the database, not on the server's disk, so any server sharing
//! the database can show it, run it again, and serve the outcomes. Alternatives: a
//! directory on disk (not shared between servers, and one more thing to back up), or the
//! job engine's frozen targets (made for actions over contacts that exist; an import's
//! rows are not contacts yet).
//!
//! A run stamps `heartbeat_at` after every batch. A run whose server stopped shows as
//! interrupted once its heartbeat is older than [`STALE_AFTER`], and may be started again:
//! the batches before the interruption are in, and an import that updates what it matches
//! finds them and changes nothing a second time.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};

use super::file::FileRow;
use super::{ImportReport, ImportSink, Imports, Preview, RejectedRows, RowOutcome};
use crate::auth::Actor;
use crate::clock::stored;
use crate::entities::imports;
use crate::{Error, Result};

/// The largest file an import takes.
pub const MAX_FILE_BYTES: usize = 256 * 1024 * 1024;

/// How long a running import may go without a batch before it counts as interrupted.
pub const STALE_AFTER: Duration = Duration::minutes(2);

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportState {
    Uploaded,
    Running,
    /// Running, but its server stopped stamping it ([`STALE_AFTER`]).
    Interrupted,
    Done,
    Failed,
}

impl ImportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportState::Uploaded => "uploaded",
            ImportState::Running => "running",
            ImportState::Interrupted => "interrupted",
            ImportState::Done => "done",
            ImportState::Failed => "failed",
        }
    }
}

/// An import as shown: everything but the file's bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredImport {
    pub id: i64,
    pub user_id: i64,
    pub file_name: String,
    pub size: i64,
    pub header: Vec<String>,
    /// The mapping of the last run (JSON, as [`super::Mapping::from_json`] reads it).
    pub mapping: Option<Value>,
    pub state: ImportState,
    /// Whether the last run was a dry run.
    pub dry_run: bool,
    pub rows_done: i64,
    pub bytes_done: i64,
    pub report: Option<Value>,
    pub error: Option<String>,
    pub has_outcomes: bool,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    id: i64,
    user_id: i64,
    file_name: String,
    size: i64,
    header: Value,
    mapping: Option<Value>,
    state: String,
    dry_run: bool,
    rows_done: i64,
    bytes_done: i64,
    report: Option<Value>,
    error: Option<String>,
    has_outcomes: bool,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    heartbeat_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

impl Row {
    fn shown(self, now: DateTime<Utc>) -> StoredImport {
        let state = match self.state.as_str() {
            "running" if self.heartbeat_at.is_none_or(|at| now - at > STALE_AFTER) => ImportState::Interrupted,
            "running" => ImportState::Running,
            "done" => ImportState::Done,
            "failed" => ImportState::Failed,
            _ => ImportState::Uploaded,
        };
        StoredImport {
            id: self.id,
            user_id: self.user_id,
            file_name: self.file_name,
            size: self.size,
            header: self
                .header
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            mapping: self.mapping,
            state,
            dry_run: self.dry_run,
            rows_done: self.rows_done,
            bytes_done: self.bytes_done,
            report: self.report,
            error: self.error,
            has_outcomes: self.has_outcomes,
            created_at: self.created_at,
            started_at: self.started_at,
            finished_at: self.finished_at,
        }
    }
}

/// The report as stored and answered.
pub fn report_json(r: &ImportReport) -> Value {
    json!({
        "dry_run": r.dry_run,
        "rows": r.rows,
        "created": r.created,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "skipped": r.skipped,
        "refused": r.refused,
        "companies_created": r.companies_created,
        "legacy_cells": r.legacy_cells,
    })
}

impl Imports {
    fn summary() -> sea_orm::Select<imports::Entity> {
        use imports::Column as C;
        imports::Entity::find()
            .select_only()
            .columns([
                C::Id,
                C::UserId,
                C::FileName,
                C::Size,
                C::Header,
                C::Mapping,
                C::State,
                C::DryRun,
                C::RowsDone,
                C::BytesDone,
                C::Report,
                C::Error,
                C::CreatedAt,
                C::StartedAt,
                C::HeartbeatAt,
                C::FinishedAt,
            ])
            .column_as(Expr::col(C::Outcomes).is_not_null(), "has_outcomes")
    }

    /// Which imports `actor` may see: their own; an admin's, every one.
    fn visible(actor: &Actor) -> Condition {
        if actor.is_admin() {
            Condition::all()
        } else {
            Condition::all().add(imports::Column::UserId.eq(actor.user_id))
        }
    }

    /// Keeps an uploaded file for an import by `actor`, after checking that it can be
    /// read (its shape and header); answers it with its preview.
    pub async fn upload(&self, actor: &Actor, file_name: &str, content: Vec<u8>) -> Result<(StoredImport, Preview)> {
        if content.len() > MAX_FILE_BYTES {
            return Err(Error::invalid(
                "file",
                format!("the file is larger than {} MiB; split it", MAX_FILE_BYTES / 1024 / 1024),
            ));
        }
        if content.is_empty() {
            return Err(Error::invalid("file", "the file is empty"));
        }
        let file_name = file_name.trim();
        let file_name = if file_name.is_empty() || file_name.chars().any(char::is_control) {
            "import".to_owned()
        } else {
            file_name.chars().take(200).collect()
        };
        let temp = spill(&content)?;
        let preview = self.preview(temp.path()).await?;
        let now = stored(self.contacts.base.clock.now());
        let model = imports::ActiveModel {
            user_id: Set(actor.user_id),
            file_name: Set(file_name),
            size: Set(i64::try_from(content.len()).unwrap_or(i64::MAX)),
            content: Set(content),
            header: Set(json!(preview.header)),
            mapping: Set(None),
            state: Set("uploaded".into()),
            dry_run: Set(false),
            rows_done: Set(0),
            bytes_done: Set(0),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.contacts.base.db)
        .await?;
        Ok((self.get(actor, model.id).await?, preview))
    }

    /// Import `id` as `actor` may see it.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<StoredImport> {
        let now = self.contacts.base.clock.now();
        Self::summary()
            .filter(imports::Column::Id.eq(id))
            .filter(Self::visible(actor))
            .into_model::<Row>()
            .one(&self.contacts.base.db)
            .await?
            .map(|r| r.shown(now))
            .ok_or(Error::NotFound { what: "import" })
    }

    /// The latest imports `actor` may see, newest first.
    pub async fn list(&self, actor: &Actor, limit: u64) -> Result<Vec<StoredImport>> {
        let now = self.contacts.base.clock.now();
        Ok(Self::summary()
            .filter(Self::visible(actor))
            .order_by_desc(imports::Column::Id)
            .limit(limit)
            .into_model::<Row>()
            .all(&self.contacts.base.db)
            .await?
            .into_iter()
            .map(|r| r.shown(now))
            .collect())
    }

    /// The preview of stored import `id`.
    pub async fn stored_preview(&self, actor: &Actor, id: i64) -> Result<Preview> {
        let (_, content) = self.content(actor, id).await?;
        let temp = spill(&content)?;
        self.preview(temp.path()).await
    }

    /// The outcomes of the last run, as CSV (see the migration's docs): `None` before one
    /// ended.
    pub async fn outcomes(&self, actor: &Actor, id: i64) -> Result<Option<Vec<u8>>> {
        self.get(actor, id).await?;
        let bytes: Option<Option<Vec<u8>>> = imports::Entity::find_by_id(id)
            .select_only()
            .column(imports::Column::Outcomes)
            .into_tuple()
            .one(&self.contacts.base.db)
            .await?;
        Ok(bytes.flatten())
    }

    async fn content(&self, actor: &Actor, id: i64) -> Result<(StoredImport, Vec<u8>)> {
        let shown = self.get(actor, id).await?;
        let content: Option<Vec<u8>> = imports::Entity::find_by_id(id)
            .select_only()
            .column(imports::Column::Content)
            .into_tuple()
            .one(&self.contacts.base.db)
            .await?;
        Ok((shown, content.ok_or(Error::NotFound { what: "import" })?))
    }

    /// Starts a run of import `id` under `mapping` (`None`: the suggested one), a dry run
    /// or the import, in the background. The mapping is checked first, every problem at
    /// once; an import already running is refused.
    pub async fn start(&self, actor: &Actor, id: i64, mapping: Option<&Value>, dry_run: bool) -> Result<StoredImport> {
        let (shown, content) = self.content(actor, id).await?;
        let header = shown.header.clone();
        if shown.state == ImportState::Running {
            return Err(Error::conflict(
                "this import is running; wait for it to end before starting it again",
            ));
        }
        let checked = self.mapping(&shown.header, mapping).await?;
        let mapping_json = checked.to_json(&shown.header);
        let now = self.contacts.base.clock.now();
        // Claimed by a conditional update: two requests can't both start it.
        let claimed = imports::Entity::update_many()
            .col_expr(imports::Column::State, Expr::value("running"))
            .col_expr(imports::Column::DryRun, Expr::value(dry_run))
            .col_expr(imports::Column::Mapping, Expr::value(mapping_json.clone()))
            .col_expr(imports::Column::RowsDone, Expr::value(0i64))
            .col_expr(imports::Column::BytesDone, Expr::value(0i64))
            .col_expr(imports::Column::Report, Expr::value(Option::<Value>::None))
            .col_expr(imports::Column::Outcomes, Expr::value(Option::<Vec<u8>>::None))
            .col_expr(imports::Column::Error, Expr::value(Option::<String>::None))
            .col_expr(imports::Column::StartedAt, Expr::value(stored(now)))
            .col_expr(imports::Column::HeartbeatAt, Expr::value(stored(now)))
            .col_expr(imports::Column::FinishedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(imports::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(imports::Column::State.ne("running"))
                    .add(imports::Column::HeartbeatAt.lt(stored(now - STALE_AFTER))),
            )
            .exec(&self.contacts.base.db)
            .await?
            .rows_affected;
        if claimed == 0 {
            return Err(Error::conflict(
                "this import is running; wait for it to end before starting it again",
            ));
        }
        let this = self.clone();
        let runner = actor.clone();
        tokio::spawn(async move {
            let result = this
                .run_stored(&runner, id, content, &header, &mapping_json, dry_run)
                .await;
            if let Err(e) = this.finish(id, result).await {
                tracing::error!(import = id, error = %e, "recording the end of an import failed");
            }
        });
        self.get(actor, id).await
    }

    async fn run_stored(
        &self,
        actor: &Actor,
        id: i64,
        content: Vec<u8>,
        header: &[String],
        mapping: &Value,
        dry_run: bool,
    ) -> Result<(ImportReport, Vec<u8>)> {
        let temp = spill(&content)?;
        drop(content);
        let (progress, mut watch) = tokio::sync::watch::channel((0u64, 0u64));
        let db = self.contacts.base.db.clone();
        let clock = self.contacts.base.clock.clone();
        let stamper = tokio::spawn(async move {
            while watch.changed().await.is_ok() {
                let (rows, bytes) = *watch.borrow_and_update();
                let stamp = imports::Entity::update_many()
                    .col_expr(
                        imports::Column::RowsDone,
                        Expr::value(i64::try_from(rows).unwrap_or(i64::MAX)),
                    )
                    .col_expr(
                        imports::Column::BytesDone,
                        Expr::value(i64::try_from(bytes).unwrap_or(i64::MAX)),
                    )
                    .col_expr(imports::Column::HeartbeatAt, Expr::value(stored(clock.now())))
                    .filter(imports::Column::Id.eq(id))
                    .exec(&db)
                    .await;
                if let Err(e) = stamp {
                    tracing::warn!(import = id, error = %e, "stamping an import's progress failed");
                }
            }
        });
        let mut sink = StoredSink {
            outcomes: RejectedRows::new(Vec::new(), header)?.with_every_row(dry_run),
            columns: header.len(),
            progress,
        };
        let report = self.run(actor, temp.path(), Some(mapping), dry_run, &mut sink).await;
        let StoredSink { outcomes, progress, .. } = sink;
        drop(progress);
        let _ = stamper.await;
        let report = report?;
        Ok((report, outcomes.finish()?))
    }

    async fn finish(&self, id: i64, result: Result<(ImportReport, Vec<u8>)>) -> Result<()> {
        let now = stored(self.contacts.base.clock.now());
        let mut row = imports::ActiveModel {
            id: Set(id),
            finished_at: Set(Some(now)),
            heartbeat_at: Set(Some(now)),
            ..Default::default()
        };
        match result {
            Ok((report, outcomes)) => {
                row.state = Set("done".into());
                row.rows_done = Set(i64::try_from(report.rows).unwrap_or(i64::MAX));
                row.report = Set(Some(report_json(&report)));
                row.outcomes = Set(Some(outcomes));
            }
            Err(e) => {
                row.state = Set("failed".into());
                row.error = Set(Some(e.describe()));
            }
        }
        row.update(&self.contacts.base.db).await?;
        Ok(())
    }
}

/// The bytes of a file, written to a temporary file of their own for the readers, which
/// read files (calamine needs to seek).
fn spill(content: &[u8]) -> Result<tempfile::NamedTempFile> {
    use std::io::Write as _;
    let mut temp = tempfile::NamedTempFile::new().map_err(|e| Error::Internal(format!("a temporary file: {e}")))?;
    temp.write_all(content)
        .and_then(|()| temp.flush())
        .map_err(|e| Error::Internal(format!("writing a temporary file: {e}")))?;
    Ok(temp)
}

struct StoredSink {
    outcomes: RejectedRows<Vec<u8>>,
    columns: usize,
    progress: tokio::sync::watch::Sender<(u64, u64)>,
}

impl ImportSink for StoredSink {
    fn row(&mut self, row: &FileRow, outcome: &RowOutcome) -> Result<()> {
        self.outcomes.row(row, outcome, self.columns)
    }

    fn progress(&mut self, rows: u64, bytes: Option<u64>) {
        let _ = self.progress.send((rows, bytes.unwrap_or(0)));
    }
}
