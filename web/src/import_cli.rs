//! `kartoteka import contacts FILE`: an import from the command line, on the same core
//! service as the pages and the API, with an indicatif progress bar over the bytes of a
//! CSV file (a spinner with the row count for an Excel file, whose size says little about
//! its rows). The rows skipped and refused are written beside the file, with the reasons.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kartoteka_core::Core;
use kartoteka_core::imports::{FileRow, ImportSink, RejectedRows, RowAction, RowOutcome};

use crate::job_cli::{actor, explain};

/// What `import contacts` was asked.
#[derive(Debug, Clone)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// The mapping as JSON, or `@path` of a JSON file.
    pub mapping: Option<String>,
    pub dry_run: bool,
    pub as_user: Option<String>,
    /// Where the skipped and refused rows go (default: beside the file).
    pub rejected: Option<PathBuf>,
}

/// How many refused or skipped rows a dry run prints.
const SHOWN: usize = 20;

struct CliSink {
    bar: ProgressBar,
    rejected: RejectedRows<std::io::BufWriter<std::fs::File>>,
    columns: usize,
    shown: Vec<String>,
}

impl ImportSink for CliSink {
    fn row(&mut self, row: &FileRow, outcome: &RowOutcome) -> kartoteka_core::Result<()> {
        if matches!(outcome.action, RowAction::Refused | RowAction::Skipped) && self.shown.len() < SHOWN {
            self.shown.push(format!(
                "  line {}: {}: {}",
                row.line,
                outcome.action.as_str(),
                outcome.reason()
            ));
        }
        self.rejected.row(row, outcome, self.columns)
    }

    fn progress(&mut self, rows: u64, bytes: Option<u64>) {
        match bytes {
            Some(b) => self.bar.set_position(b),
            None => self.bar.set_position(rows),
        }
        self.bar.set_message(format!("{rows} rows"));
    }
}

/// `import contacts`.
pub async fn import_contacts(core: &Core, args: ImportArgs) -> anyhow::Result<()> {
    let actor = actor(core, args.as_user.as_deref()).await?;
    let mapping = match args.mapping.as_deref() {
        None => None,
        Some(text) => {
            let json = match text.strip_prefix('@') {
                Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading the mapping {path}"))?,
                None => text.to_owned(),
            };
            Some(serde_json::from_str::<serde_json::Value>(&json).context("--mapping is not JSON")?)
        }
    };
    let preview = core.imports().preview(&args.file).await.map_err(explain)?;
    let used = core
        .imports()
        .mapping(&preview.header, mapping.as_ref())
        .await
        .map_err(explain)?;
    eprintln!(
        "{}: {}",
        args.file.display(),
        preview.shape.describe(preview.header.len())
    );
    for (header, target) in preview.header.iter().zip(&used.columns) {
        eprintln!("  {header:<24} -> {}", target.name());
    }
    eprintln!(
        "  matching existing contacts by {}, {} them",
        used.match_by.name(),
        match used.on_match {
            kartoteka_core::imports::OnMatch::Update => "updating",
            kartoteka_core::imports::OnMatch::Skip => "skipping",
            kartoteka_core::imports::OnMatch::Create => "creating new ones beside",
        }
    );
    let rejected_path = args.rejected.clone().unwrap_or_else(|| rejected_beside(&args.file));
    let out = std::fs::File::create(&rejected_path).with_context(|| format!("creating {}", rejected_path.display()))?;
    let rejected = RejectedRows::new(std::io::BufWriter::new(out), &preview.header).map_err(explain)?;
    let bar = if preview.shape.format == kartoteka_core::imports::Format::Csv {
        let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
        let bar = ProgressBar::new(size);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {percent:>3}% {msg} ({elapsed}, {eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    };
    if args.dry_run {
        bar.println("Dry run: nothing is written.");
    }
    let mut sink = CliSink {
        bar,
        rejected,
        columns: preview.header.len(),
        shown: Vec::new(),
    };
    let started = std::time::Instant::now();
    let result = core
        .imports()
        .run(&actor, &args.file, mapping.as_ref(), args.dry_run, &mut sink)
        .await;
    sink.bar.finish_and_clear();
    let written = sink.rejected.written;
    sink.rejected.finish().map_err(explain)?;
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            let e = explain(e);
            bail!(
                "the import stopped: {e}\n(the batches before the one that failed are in; see {})",
                rejected_path.display()
            )
        }
    };
    for line in &sink.shown {
        eprintln!("{line}");
    }
    println!(
        "{}{} rows in {:.1}s: {} created, {} updated, {} unchanged, {} skipped, {} refused; {} companies {}.",
        if report.dry_run { "Dry run: " } else { "" },
        report.rows,
        started.elapsed().as_secs_f64(),
        report.created,
        report.updated,
        report.unchanged,
        report.skipped,
        report.refused,
        report.companies_created,
        if report.dry_run { "would be created" } else { "created" },
    );
    if report.legacy_cells > 0 {
        println!(
            "{} cells were not UTF-8 and were read as Windows-1250 or -1251.",
            report.legacy_cells
        );
    }
    if written > 0 {
        println!(
            "The {written} rows skipped or refused are in {}, with the reasons.",
            rejected_path.display()
        );
    } else {
        let _ = std::fs::remove_file(&rejected_path);
    }
    Ok(())
}

/// `people.csv` -> `people.rejected.csv`, beside it.
fn rejected_beside(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.with_file_name(format!("{stem}.rejected.csv"))
}
