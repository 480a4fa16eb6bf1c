//! `kartoteka export contacts --out FILE`: the export of a saved view (or of every contact
//! the user sees, with the default columns) to CSV or Excel, on the same core service as
//! the page and the API, with an indicatif progress bar over the view's count.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use kartoteka_core::Core;
use kartoteka_core::views::ViewSpec;
use kartoteka_core::views::export::Format;

use crate::job_cli::{actor, explain};

/// What `export contacts` was asked.
#[derive(Debug, Clone)]
pub struct ExportArgs {
    pub out: PathBuf,
    pub view: Option<i64>,
    /// `csv` or `xlsx`; by default the extension of `out`.
    pub format: Option<String>,
    pub as_user: Option<String>,
}

/// `export contacts`.
pub async fn export_contacts(core: &Core, args: ExportArgs) -> anyhow::Result<()> {
    let actor = actor(core, args.as_user.as_deref()).await?;
    let format = match args.format.as_deref() {
        Some(f) => f.to_owned(),
        None => match args.out.extension().and_then(|e| e.to_str()) {
            Some(ext) => ext.to_ascii_lowercase(),
            None => bail!(
                "say --format csv or --format xlsx (the file {} has no extension)",
                args.out.display()
            ),
        },
    };
    let format = Format::parse(&format).map_err(explain)?;
    let (spec, name) = match args.view {
        Some(id) => {
            let view = core.views().get(&actor, id).await.map_err(explain)?;
            (view.spec, view.name)
        }
        None => (ViewSpec::default(), "contacts".to_owned()),
    };
    let checked = core.views().check(&spec).await.map_err(explain)?;
    let total = core.views().count(&actor, &checked).await.map_err(explain)?;
    let export = core.views().export(&actor, checked, &name).await.map_err(explain)?;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} contacts ({eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = export.progress();
    let file = std::fs::File::create(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let ticker = {
        let bar = bar.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.load(Ordering::Relaxed));
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    let result: anyhow::Result<()> = async {
        match format {
            Format::Csv => {
                let mut export = export;
                while let Some(chunk) = export.next_csv_chunk().await.map_err(explain)? {
                    out.write_all(&chunk)?;
                }
            }
            Format::Xlsx => {
                let mut pieces = export.into_xlsx();
                while let Some(piece) = pieces.recv().await {
                    out.write_all(&piece.map_err(explain)?)?;
                }
            }
        }
        out.flush()?;
        Ok(())
    }
    .await;
    ticker.abort();
    bar.set_position(progress.load(Ordering::Relaxed));
    bar.finish();
    result?;
    eprintln!(
        "{} contacts written to {}",
        progress.load(Ordering::Relaxed),
        args.out.display()
    );
    Ok(())
}
