//! Importing contacts from CSV and Excel files.
//!
//! An import is: a file ([`file`]: its format, delimiter and encodings found out), a
//! [`Mapping`] of its columns (suggested from the headers in five languages, changed by
//! the person importing), and a run that reads the file in batches and writes each batch
//! through [`Contacts::write_batch`], the same checks and the same write path as a single
//! contact's, so scores and segment memberships follow every batch. A dry run does all of
//! it but the writes. Every row ends as created, updated, unchanged, skipped or refused,
//! with the reasons ([`RowOutcome`]); the rows skipped and refused are written out with
//! their reasons by [`RejectedRows`], so nothing in the file is lost.
//!
//! # Batching
//!
//! [`BATCH_ROWS`] rows per transaction. The alternatives: a transaction per row (every
//! row pays a commit and a run of the upkeep: the slowest), one transaction for the whole
//! file (a million rows' upkeep held in one transaction, SQLite's writer held for
//! minutes, and a failure at the end undoes everything), or rows copied into a staging
//! table and merged by SQL (fast, but the checks of a contact write would be written a
//! second time in SQL, for two databases). Batches keep the memory to one batch of rows
//! whatever the file's size, and a failure loses only the batch it happened in: the rows
//! before it are in, and the report says how far it got.
//!
//! Memory besides the batch: the identities seen so far (a 64-bit hash and a line number
//! per row that has one), so that a row repeating an earlier row's e-mail is reported as
//! such even in a dry run, where nothing of the earlier row was written. That set grows
//! with the file: the import's peak grew by 93 MiB between 100,000 and 1,000,000 rows
//! (BENCHMARKS.md, "Import").

pub mod file;
pub mod mapping;
pub mod rows;
mod run;
mod store;

use std::io::Write;
use std::path::Path;

use serde_json::Value;

pub use file::{FileRow, FileShape, Format};
pub use mapping::{CORE_TARGETS, Mapping, MatchBy, OnMatch, Target};
pub use rows::RowProblem;
pub use run::{ImportReport, ImportSink, RowAction, RowOutcome};
pub use store::{ImportState, MAX_FILE_BYTES, STALE_AFTER, StoredImport, report_json};

use crate::auth::{Actor, Users};
use crate::contacts::Contacts;
use crate::{Error, Result};

/// Rows per batch: one transaction and one run of the upkeep each. At 100,000 rows, 2,000
/// took the import from 2.3x to 2.0x the hand-written load on SQLite and from 2.3x to
/// 1.6x on PostgreSQL against 500 (BENCHMARKS.md, "Import"); each batch's rows sit in
/// memory together.
pub const BATCH_ROWS: usize = 2000;

/// How many rows of the file a preview shows.
const PREVIEW_ROWS: usize = 5;

/// The import service.
#[derive(Debug, Clone)]
pub struct Imports {
    contacts: Contacts,
    users: Users,
}

/// What a file looks like before its import: its shape, header, first rows, and the
/// suggested mapping.
#[derive(Debug, Clone)]
pub struct Preview {
    pub shape: FileShape,
    pub header: Vec<String>,
    pub rows: Vec<FileRow>,
    pub suggested: Mapping,
}

impl Imports {
    pub fn new(contacts: Contacts, users: Users) -> Self {
        Imports { contacts, users }
    }

    /// The shape, header, first rows and suggested mapping of the file at `path`.
    pub async fn preview(&self, path: &Path) -> Result<Preview> {
        let schema = self.contacts.schema.current().await?;
        let path = path.to_owned();
        let (shape, header, rows) = tokio::task::spawn_blocking(move || -> Result<_> {
            let shape = file::shape(&path)?;
            let (mut reader, header) = run::open(&path, &shape)?;
            let mut rows = Vec::new();
            while rows.len() < PREVIEW_ROWS {
                match reader.next_row()? {
                    Some(row) => rows.push(row),
                    None => break,
                }
            }
            Ok((shape, header, rows))
        })
        .await
        .map_err(|e| Error::Internal(format!("reading the file: {e}")))??;
        let suggested = Mapping::suggested(&header, &schema);
        Ok(Preview {
            shape,
            header,
            rows,
            suggested,
        })
    }

    /// Reads `mapping` (JSON, see [`Mapping::from_json`]) for the file with `header`;
    /// `None`: the suggested mapping.
    pub async fn mapping(&self, header: &[String], mapping: Option<&Value>) -> Result<Mapping> {
        let schema = self.contacts.schema.current().await?;
        match mapping {
            Some(json) => Mapping::from_json(json, header, &schema),
            None => {
                let suggested = Mapping::suggested(header, &schema);
                suggested.check(header).map_err(|e| e.under("suggested"))?;
                Ok(suggested)
            }
        }
    }

    /// Imports the file at `path` as `actor` under `mapping` (`None`: the suggested one),
    /// or with `dry_run` reports what it would do. Each row's outcome goes to `sink`.
    pub async fn run(
        &self,
        actor: &Actor,
        path: &Path,
        mapping: Option<&Value>,
        dry_run: bool,
        sink: &mut dyn ImportSink,
    ) -> Result<ImportReport> {
        let opened = path.to_owned();
        let (reader, header) = tokio::task::spawn_blocking(move || {
            let shape = file::shape(&opened)?;
            run::open(&opened, &shape)
        })
        .await
        .map_err(|e| Error::Internal(format!("reading the file: {e}")))??;
        let mapping = self.mapping(&header, mapping).await?;
        let schema = self.contacts.schema.current().await?;
        let users = self
            .users
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.email.to_lowercase(), u.id))
            .collect();
        let lookups = rows::Lookups {
            types: schema.types.clone(),
            users,
        };
        run::Run::new(&self.contacts, actor, header, mapping, lookups, dry_run)
            .all(reader, BATCH_ROWS, sink)
            .await
    }
}

/// The rows an import skipped or refused, written as CSV: the file's own columns, then
/// the line, the outcome and the reason, with a UTF-8 byte order mark so that Excel shows
/// accents. Fix the rows in it and import it again: its extra columns map to nothing.
pub struct RejectedRows<W: Write> {
    writer: csv::Writer<W>,
    /// Every row, not only those skipped and refused (a dry run's report).
    every_row: bool,
    /// Rows written (the header aside).
    pub written: u64,
}

impl<W: Write> std::fmt::Debug for RejectedRows<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RejectedRows")
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl<W: Write> RejectedRows<W> {
    /// Starts the file with the header of the imported file.
    pub fn new(mut out: W, header: &[String]) -> Result<Self> {
        out.write_all("\u{feff}".as_bytes()).map_err(write_error)?;
        let mut writer = csv::Writer::from_writer(out);
        let mut names: Vec<&str> = header.iter().map(String::as_str).collect();
        names.extend(["Import line", "Import outcome", "Import reason"]);
        writer.write_record(&names).map_err(csv_error)?;
        Ok(RejectedRows {
            writer,
            every_row: false,
            written: 0,
        })
    }

    /// With `every_row`, every row is written with its outcome (what a dry run reports).
    pub fn with_every_row(mut self, every_row: bool) -> Self {
        self.every_row = every_row;
        self
    }

    /// Writes `row` if it was skipped or refused (any row, [`RejectedRows::with_every_row`]).
    pub fn row(&mut self, row: &FileRow, outcome: &RowOutcome, columns: usize) -> Result<()> {
        if !self.every_row && !matches!(outcome.action, RowAction::Skipped | RowAction::Refused) {
            return Ok(());
        }
        let mut cells: Vec<String> = row.cells.clone();
        cells.resize(columns.max(row.cells.len()), String::new());
        cells.push(row.line.to_string());
        cells.push(outcome.action.as_str().to_owned());
        cells.push(outcome.reason());
        self.writer.write_record(&cells).map_err(csv_error)?;
        self.written += 1;
        Ok(())
    }

    /// Flushes and hands back the output.
    pub fn finish(self) -> Result<W> {
        self.writer
            .into_inner()
            .map_err(|e| Error::Internal(format!("writing the rejected rows: {e}")))
    }
}

fn write_error(e: std::io::Error) -> Error {
    Error::Internal(format!("writing the rejected rows: {e}"))
}

fn csv_error(e: csv::Error) -> Error {
    Error::Internal(format!("writing the rejected rows: {e}"))
}
