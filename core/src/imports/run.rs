//! The import loop: the file read in batches, each batch's rows resolved (the companies
//! they name, the contacts they match) and written through [`Contacts::write_batch`].

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

use super::file::{FileRow, FileShape, RowReader};
use super::mapping::{Mapping, MatchBy, OnMatch, Target};
use super::rows::{Lookups, RowContact, RowProblem, read_row};
use crate::auth::Actor;
use crate::contacts::{BatchOutcome, BatchRow, ContactDraft, Contacts};
use crate::error::Problem;
use crate::{Error, Result};

/// What happened, or in a dry run would happen, to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    Created,
    Updated,
    /// It matched a contact and changed nothing.
    Unchanged,
    Skipped,
    Refused,
}

impl RowAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RowAction::Created => "created",
            RowAction::Updated => "updated",
            RowAction::Unchanged => "unchanged",
            RowAction::Skipped => "skipped",
            RowAction::Refused => "refused",
        }
    }
}

/// A row's outcome: what happened, to which contact, and why (for a skip or a refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowOutcome {
    pub action: RowAction,
    /// The contact created or matched (none in a dry run's creations).
    pub contact_id: Option<i64>,
    /// Why a row was skipped or refused: every problem.
    pub problems: Vec<RowProblem>,
}

impl RowOutcome {
    /// The reasons as one line.
    pub fn reason(&self) -> String {
        self.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What the import is told of as it goes: each row's outcome (in file order) and the
/// progress. The rows refused and skipped go to the report's download from here.
pub trait ImportSink: Send {
    fn row(&mut self, row: &FileRow, outcome: &RowOutcome) -> Result<()>;
    /// `rows` data rows done so far, and how far into the file that is in bytes where
    /// it is known (called after each batch).
    fn progress(&mut self, rows: u64, bytes: Option<u64>) {
        let _ = (rows, bytes);
    }
}

/// The counts at the end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read (the header and blank rows aside).
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub refused: u64,
    /// Companies created for people that named one not in the base.
    pub companies_created: u64,
    /// Cells decoded from a Windows code page (see [`super::file`]).
    pub legacy_cells: u64,
}

impl ImportReport {
    fn count(&mut self, action: RowAction) {
        let slot = match action {
            RowAction::Created => &mut self.created,
            RowAction::Updated => &mut self.updated,
            RowAction::Unchanged => &mut self.unchanged,
            RowAction::Skipped => &mut self.skipped,
            RowAction::Refused => &mut self.refused,
        };
        *slot += 1;
        self.rows += 1;
    }
}

/// The state of one import run.
pub(super) struct Run<'a> {
    pub contacts: &'a Contacts,
    pub actor: &'a Actor,
    pub header: Vec<String>,
    pub mapping: Mapping,
    pub lookups: Lookups,
    pub dry_run: bool,
    pub report: ImportReport,
    /// Identities seen so far in the file (their hash), with their line.
    seen: HashMap<u64, u64>,
    /// Companies a dry run would have created (their names), so later rows naming them
    /// count them once.
    planned_companies: std::collections::HashSet<String>,
    statistics: Statistics,
}

/// The planner's statistics of the tables an import grows, refreshed as it grows them.
///
/// An import into a small base makes it a big one while it runs. Planned from the
/// statistics of the small one, PostgreSQL read each batch's matches by e-mail (`email IN
/// (...)`) with a scan of the whole table: at 1,000,000 rows a batch's read took 12 s
/// and grew with every batch, until autovacuum's next analyze. So the import analyzes
/// `contacts` and `contact_events` itself each time it has written as many rows as the
/// table had at the last analyze (at least [`ANALYZE_AFTER`]): a handful of times per
/// import, each a sample on PostgreSQL and [`crate::filter::indexes::SQLITE_ANALYSIS_LIMIT`]
/// rows per index on SQLite.
#[derive(Debug, Default)]
struct Statistics {
    /// Rows at the last analyze (`None`: not read yet).
    analysed: Option<u64>,
    written_since: u64,
}

/// Rows written before the first analyze.
const ANALYZE_AFTER: u64 = 10_000;

impl Statistics {
    async fn written(&mut self, contacts: &Contacts, rows: u64) -> Result<()> {
        use crate::filter::indexes;
        let db = &contacts.base.db;
        let analysed = match self.analysed {
            Some(n) => n,
            None => indexes::analysed_rows(db, "contacts").await?.unwrap_or(0),
        };
        self.analysed = Some(analysed);
        self.written_since += rows;
        if self.written_since >= analysed.max(ANALYZE_AFTER) {
            indexes::analyze(
                db,
                &["contacts", "contact_events"],
                Some(indexes::SQLITE_ANALYSIS_LIMIT),
            )
            .await?;
            self.analysed = Some(analysed + self.written_since);
            self.written_since = 0;
        }
        Ok(())
    }
}

impl<'a> Run<'a> {
    pub fn new(
        contacts: &'a Contacts,
        actor: &'a Actor,
        header: Vec<String>,
        mapping: Mapping,
        lookups: Lookups,
        dry_run: bool,
    ) -> Self {
        Run {
            contacts,
            actor,
            header,
            mapping,
            lookups,
            dry_run,
            report: ImportReport {
                dry_run,
                ..ImportReport::default()
            },
            seen: HashMap::new(),
            planned_companies: Default::default(),
            statistics: Statistics::default(),
        }
    }

    /// Reads every row after the header from `reader`, `batch` at a time (each batch read
    /// on a blocking thread: a file read, or an Excel sheet's reader, may wait).
    pub async fn all(mut self, mut reader: RowReader, batch: usize, sink: &mut dyn ImportSink) -> Result<ImportReport> {
        loop {
            let (back, rows) = tokio::task::spawn_blocking(move || {
                let mut rows = Vec::with_capacity(batch);
                while rows.len() < batch {
                    match reader.next_row() {
                        Ok(Some(row)) => rows.push(row),
                        Ok(None) => break,
                        Err(e) => return (reader, Err(e)),
                    }
                }
                (reader, Ok(rows))
            })
            .await
            .map_err(|e| Error::Internal(format!("reading the file: {e}")))?;
            reader = back;
            let rows = rows?;
            if rows.is_empty() {
                break;
            }
            let outcomes = self.batch(&rows).await?;
            let before = self.report.created + self.report.updated;
            for (row, outcome) in rows.iter().zip(&outcomes) {
                self.report.count(outcome.action);
                sink.row(row, outcome)?;
            }
            if !self.dry_run {
                self.statistics
                    .written(self.contacts, self.report.created + self.report.updated - before)
                    .await?;
            }
            sink.progress(self.report.rows, reader.position());
        }
        self.report.legacy_cells = reader.legacy_cells;
        Ok(self.report)
    }

    /// The outcomes of one batch of rows.
    async fn batch(&mut self, rows: &[FileRow]) -> Result<Vec<RowOutcome>> {
        let mut read: Vec<RowContact> = rows
            .iter()
            .map(|r| read_row(&r.cells, &self.header, &self.mapping, &self.lookups))
            .collect();
        let mut outcomes: Vec<Option<RowOutcome>> = vec![None; rows.len()];
        // Rows with problems of their own go no further.
        for (slot, row) in outcomes.iter_mut().zip(&read) {
            if !row.problems.is_empty() {
                *slot = Some(refused(row.problems.clone()));
            }
        }
        self.skip_repeats(rows, &read, &mut outcomes);
        // The companies of the file first, so the people after them (in this batch too)
        // find them by name.
        let companies: Vec<usize> = (0..read.len())
            .filter(|&i| {
                outcomes.get(i).is_some_and(Option::is_none) && read.get(i).is_some_and(RowContact::is_company)
            })
            .collect();
        self.write_rows(&companies, rows, &read, &mut outcomes).await?;
        if self.dry_run {
            // The companies a dry run "created" exist for the people that name them.
            for &i in &companies {
                if let (Some(Some(outcome)), Some(row)) = (outcomes.get(i), read.get(i))
                    && outcome.action == RowAction::Created
                {
                    self.planned_companies.insert(row.draft.name.clone());
                }
            }
        }
        self.link_companies(&mut read, &mut outcomes).await?;
        let people: Vec<usize> = (0..read.len())
            .filter(|&i| outcomes.get(i).is_some_and(Option::is_none))
            .collect();
        self.write_rows(&people, rows, &read, &mut outcomes).await?;
        outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| Error::Internal("an import row was left without an outcome".into())))
            .collect()
    }

    /// Marks rows whose identity an earlier row of the file had as skipped.
    fn skip_repeats(&mut self, rows: &[FileRow], read: &[RowContact], outcomes: &mut [Option<RowOutcome>]) {
        if self.mapping.match_by == MatchBy::None {
            return;
        }
        let what = self.mapping.match_by.what();
        for ((slot, row), file_row) in outcomes.iter_mut().zip(read).zip(rows) {
            let (None, Some(identity)) = (&slot, &row.identity) else {
                continue;
            };
            let mut hasher = DefaultHasher::new();
            identity.hash(&mut hasher);
            let key = hasher.finish();
            match self.seen.get(&key) {
                Some(&line) => {
                    *slot = Some(RowOutcome {
                        action: RowAction::Skipped,
                        contact_id: None,
                        problems: vec![RowProblem {
                            column: self.column_of(&self.mapping.match_by.target().unwrap_or(Target::Skip)),
                            value: Some(identity.clone()),
                            message: format!("the same {what} as line {line}; the file has it twice"),
                        }],
                    })
                }
                None => {
                    self.seen.insert(key, file_row.line);
                }
            }
        }
    }

    /// Sets the company of people who name one: an existing company, one created now
    /// (or, in a dry run, one that would be).
    async fn link_companies(&mut self, read: &mut [RowContact], outcomes: &mut [Option<RowOutcome>]) -> Result<()> {
        let mut names: Vec<String> = read
            .iter()
            .zip(outcomes.iter())
            .filter(|(_, o)| o.is_none())
            .filter_map(|(r, _)| r.company_name.clone())
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Ok(());
        }
        let mut found = self.contacts.companies_named(self.actor, &names).await?;
        let missing: Vec<String> = names
            .into_iter()
            .filter(|n| !(found.contains_key(n) || (self.dry_run && self.planned_companies.contains(n))))
            .collect();
        if !missing.is_empty() {
            if self.dry_run {
                for name in &missing {
                    if self.planned_companies.insert(name.clone()) {
                        self.report.companies_created += 1;
                    }
                }
            } else {
                let drafts = missing
                    .iter()
                    .map(|name| {
                        BatchRow::Create(ContactDraft {
                            kind: "company".into(),
                            name: name.clone(),
                            type_key: self.mapping.type_key.clone(),
                            ..ContactDraft::default()
                        })
                    })
                    .collect();
                let made = self.contacts.write_batch(self.actor, drafts, false).await?;
                for (name, outcome) in missing.iter().zip(made) {
                    match outcome {
                        BatchOutcome::Created(id) => {
                            self.report.companies_created += 1;
                            found.insert(name.clone(), id);
                        }
                        BatchOutcome::Refused(problems) => {
                            // The people naming it are refused with the company's problems.
                            let why = problems
                                .iter()
                                .map(|p| p.message.clone())
                                .collect::<Vec<_>>()
                                .join("; ");
                            for (row, slot) in read.iter().zip(outcomes.iter_mut()) {
                                if slot.is_none() && row.company_name.as_deref() == Some(name) {
                                    *slot = Some(refused(vec![RowProblem {
                                        column: self.column_of(&Target::Company),
                                        value: Some(name.clone()),
                                        message: format!("the company can't be created: {why}"),
                                    }]));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for row in read.iter_mut() {
            if let Some(name) = &row.company_name
                && let Some(id) = found.get(name)
            {
                row.draft.company_id = Some(*id);
                row.patch.company_id = Some(Some(*id));
            }
        }
        Ok(())
    }

    /// Writes rows `which` of `read` (those without an outcome yet): matched against the
    /// base by their identity, then created, updated or skipped.
    async fn write_rows(
        &mut self,
        which: &[usize],
        rows: &[FileRow],
        read: &[RowContact],
        outcomes: &mut [Option<RowOutcome>],
    ) -> Result<()> {
        if which.is_empty() {
            return Ok(());
        }
        let identity = self.mapping.match_by.identity();
        let matched = match &identity {
            Some(identity) => {
                let values: Vec<String> = which
                    .iter()
                    .filter_map(|&i| read.get(i).and_then(|r| r.identity.clone()))
                    .collect();
                self.contacts.find_by(self.actor, identity, &values).await?
            }
            None => HashMap::new(),
        };
        let mut batch = Vec::with_capacity(which.len());
        let mut positions = Vec::with_capacity(which.len());
        for &i in which {
            let Some(row) = read.get(i) else { continue };
            let existing = row
                .identity
                .as_ref()
                .and_then(|v| matched.get(v))
                .and_then(|ids| ids.first().copied());
            let item = match (existing, self.mapping.on_match) {
                (Some(id), OnMatch::Skip) => {
                    if let Some(slot) = outcomes.get_mut(i) {
                        *slot = Some(RowOutcome {
                            action: RowAction::Skipped,
                            contact_id: Some(id),
                            problems: vec![RowProblem {
                                column: None,
                                value: None,
                                message: format!(
                                    "contact {id} has the same {}; existing contacts are skipped",
                                    self.mapping.match_by.what()
                                ),
                            }],
                        });
                    }
                    continue;
                }
                (Some(id), OnMatch::Update) => {
                    let mut patch = row.patch.clone();
                    // A matched person whose company a dry run would create keeps
                    // their company in the check.
                    if self.dry_run && row.company_name.is_some() && row.draft.company_id.is_none() {
                        patch.company_id = None;
                    }
                    BatchRow::Update {
                        id,
                        patch,
                        current: true,
                    }
                }
                (None, _) | (Some(_), OnMatch::Create) => BatchRow::Create(row.draft.clone()),
            };
            batch.push(item);
            positions.push(i);
        }
        let written = self.contacts.write_batch(self.actor, batch, self.dry_run).await?;
        for (i, outcome) in positions.into_iter().zip(written) {
            let outcome = match outcome {
                BatchOutcome::Created(id) => RowOutcome {
                    action: RowAction::Created,
                    contact_id: (id != 0).then_some(id),
                    problems: Vec::new(),
                },
                BatchOutcome::Updated(id) => RowOutcome {
                    action: RowAction::Updated,
                    contact_id: Some(id),
                    problems: Vec::new(),
                },
                BatchOutcome::Unchanged(id) => RowOutcome {
                    action: RowAction::Unchanged,
                    contact_id: Some(id),
                    problems: Vec::new(),
                },
                BatchOutcome::Refused(problems) => {
                    let cells = rows.get(i).map(|r| r.cells.as_slice());
                    refused(problems.iter().map(|p| self.at_column(p, cells)).collect())
                }
            };
            if let Some(slot) = outcomes.get_mut(i) {
                *slot = Some(outcome);
            }
        }
        Ok(())
    }

    /// The header of the first column mapped to `target`.
    fn column_of(&self, target: &Target) -> Option<String> {
        self.mapping
            .columns
            .iter()
            .position(|t| t == target)
            .and_then(|i| self.header.get(i).cloned())
    }

    /// A problem of a contact write, at the column its path came from.
    fn at_column(&self, problem: &Problem, cells: Option<&[String]>) -> RowProblem {
        let path = problem.path.as_str();
        let targets: Vec<Target> = match path {
            "name" => vec![Target::Name, Target::FirstName, Target::LastName],
            "kind" => vec![Target::Kind],
            "type" => vec![Target::Type],
            "email" => vec![Target::Email],
            "phone" => vec![Target::Phone],
            "position" => vec![Target::Position],
            "street" => vec![Target::Street],
            "city" => vec![Target::City],
            "region" => vec![Target::Region],
            "country" => vec![Target::Country],
            "postal_code" => vec![Target::PostalCode],
            "latitude" => vec![Target::Latitude],
            "longitude" => vec![Target::Longitude],
            "company_id" => vec![Target::CompanyId, Target::Company],
            "owner" | "owner_id" => vec![Target::Owner],
            "do_not_contact" => vec![Target::DoNotContact],
            other => match other.strip_prefix("fields.") {
                Some(key) => vec![Target::Field(key.to_owned())],
                None => Vec::new(),
            },
        };
        let column = targets.iter().find_map(|t| {
            self.mapping
                .columns
                .iter()
                .position(|c| c == t)
                .map(|i| (i, self.header.get(i).cloned()))
        });
        let value = column
            .as_ref()
            .and_then(|(i, _)| cells.and_then(|c| c.get(*i)).map(|v| v.trim().to_owned()));
        RowProblem {
            column: column
                .and_then(|(_, h)| h)
                .or_else(|| (!path.is_empty()).then(|| path.to_owned())),
            value,
            message: problem.message.clone(),
        }
    }
}

fn refused(problems: Vec<RowProblem>) -> RowOutcome {
    RowOutcome {
        action: RowAction::Refused,
        contact_id: None,
        problems,
    }
}

/// Opens `path` and reads its header row.
pub(super) fn open(path: &Path, shape: &FileShape) -> Result<(RowReader, Vec<String>)> {
    let mut reader = RowReader::open(path, shape)?;
    let header = reader
        .next_row()?
        .ok_or_else(|| Error::invalid("file", "the file is empty: it has no header row"))?;
    // A header is shown and stored as JSON: no control characters (PostgreSQL refuses a
    // zero byte in JSON).
    let header: Vec<String> = header
        .cells
        .iter()
        .map(|c| {
            c.chars()
                .filter(|ch| !ch.is_control())
                .collect::<String>()
                .trim()
                .to_owned()
        })
        .collect();
    Ok((reader, header))
}
