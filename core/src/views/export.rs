//! The export of a view: its columns, over the contacts its filter and search leave, in its
//! order, to CSV or to Excel (XLSX).
//!
//! - **Rows.** The export walks the view's keyset pages ([`EXPORT_PAGE`] contacts per
//!   query, the same query as the table's), so a million contacts never sit in memory and
//!   each page costs the same. A score column becomes two: the score (a number) and the
//!   band.
//! - **CSV** ([`ViewExport::next_csv_chunk`]): a byte order mark, a header of the columns'
//!   labels, then a chunk per page, each handed over before the next page is read. Quoting
//!   and formula neutralising are [`crate::sheet`]'s, as for the segment export. Times are
//!   RFC 3339 in UTC.
//! - **XLSX** ([`ViewExport::into_xlsx`]): `rust_xlsxwriter` in its constant-memory mode,
//!   which writes each row to a temporary file as it comes and keeps no row in memory. The
//!   pages are read on the async runtime and handed to a blocking thread that writes the
//!   sheet; when the last row is in, the workbook (a ZIP of the sheet files) is written
//!   into the response in 64 KiB pieces. The download starts only then: a ZIP's central
//!   directory needs the sheet complete, and `rust_xlsxwriter` assembles it at save.
//!   Numbers, yes/no and times are typed cells, so Excel sorts and sums them. A text longer
//!   than the 32,767 characters an Excel cell holds is cut there (the CSV keeps it whole:
//!   only a long text field can be that long). A sheet holds
//!   at most 1,048,576 rows; past that the export goes on in a second sheet, with the
//!   header again.
//!
//! Chose `rust_xlsxwriter` (maintained, streams in constant memory, writes typed cells) over
//! writing the XML and ZIP by hand; `csv` for RFC 4180 quoting.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::SecondsFormat;
use tokio::sync::mpsc;

use super::columns::{Cell, TableCells, ViewColumn};
use super::{CheckedSpec, Views};
use crate::auth::Actor;
use crate::sheet::{BOM, cell, file_slug, write};
use crate::{Error, Result};

/// How many contacts one query of the export reads.
pub const EXPORT_PAGE: u64 = 500;

/// The rows of one Excel sheet, the header's included.
pub const SHEET_ROWS: u32 = 1_048_576;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// `csv` or `xlsx`.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            other => Err(Error::invalid(
                "format",
                format!(
                    "`{}` is not an export format; use csv or xlsx",
                    other.chars().take(50).collect::<String>()
                ),
            )),
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The media type of the download.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// The export of a view for one reader, made a page at a time.
#[derive(Debug)]
pub struct ViewExport {
    views: Views,
    actor: Actor,
    checked: CheckedSpec,
    cells: TableCells,
    name: String,
    /// The cursor after the last page read; `None` before the first.
    after: Option<String>,
    header_sent: bool,
    done: bool,
    /// Rows read so far (shared with whoever shows progress).
    rows: Arc<AtomicU64>,
}

impl Views {
    /// Starts the export of `checked` for `actor`, named `name` (the view's name, or
    /// "contacts"). Nothing is read until the first chunk.
    pub async fn export(&self, actor: &Actor, checked: CheckedSpec, name: &str) -> Result<ViewExport> {
        let cells = self.cells(actor, &checked, false).await?;
        Ok(ViewExport {
            views: self.clone(),
            actor: actor.clone(),
            checked,
            cells,
            name: name.to_owned(),
            after: None,
            header_sent: false,
            done: false,
            rows: Arc::new(AtomicU64::new(0)),
        })
    }
}

impl ViewExport {
    /// A file name for the export: `<slug of the name>.<extension>`, ASCII only.
    pub fn file_name(&self, format: Format) -> String {
        format!("{}.{}", file_slug(&self.name, "contacts"), format.extension())
    }

    /// The rows read so far, counted as the export goes (for a progress bar).
    pub fn progress(&self) -> Arc<AtomicU64> {
        self.rows.clone()
    }

    /// The header: each column's label; a score's column is followed by its band's.
    pub fn header(&self) -> Vec<String> {
        self.cells
            .columns
            .iter()
            .flat_map(|c| match c {
                ViewColumn::Score(_) => vec![c.label(), format!("{} band", c.label())],
                _ => vec![c.label()],
            })
            .collect()
    }

    /// The next page of rows, each a cell per header column; `None` at the end.
    pub async fn next_rows(&mut self) -> Result<Option<Vec<Vec<Cell>>>> {
        if self.done {
            return Ok(None);
        }
        let query = self.checked.query(EXPORT_PAGE, self.after.take());
        let page = self.views.filter.query_contacts(&self.actor, &query).await?;
        match page.next {
            Some(next) => self.after = Some(next),
            None => self.done = true,
        }
        if page.items.is_empty() {
            return Ok(None);
        }
        self.rows.fetch_add(page.items.len() as u64, Ordering::Relaxed);
        let extras = self
            .cells
            .extras(self.views.reader(), &self.actor, &page.items, false)
            .await?;
        Ok(Some(
            page.items
                .iter()
                .map(|c| self.export_row(self.cells.row(c, &extras)))
                .collect(),
        ))
    }

    /// A row of [`TableCells::row`] as exported: a score column's cell split in two, the
    /// score and the band.
    fn export_row(&self, row: Vec<Cell>) -> Vec<Cell> {
        self.cells
            .columns
            .iter()
            .zip(row)
            .flat_map(|(column, c)| match (column, c) {
                (ViewColumn::Score(_), Cell::Score(s, band)) => vec![Cell::Number(s), Cell::Text(band)],
                (ViewColumn::Score(_), other) => vec![other, Cell::Empty],
                (_, other) => vec![other],
            })
            .collect()
    }

    /// The next piece of the CSV file: the byte order mark and the header first, then a
    /// page of rows at a time; `None` at the end.
    pub async fn next_csv_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if !self.header_sent {
            self.header_sent = true;
            let mut bytes = BOM.as_bytes().to_vec();
            bytes.extend(write(std::iter::once(
                self.header().into_iter().map(|h| cell(&h)).collect(),
            ))?);
            return Ok(Some(bytes));
        }
        let Some(rows) = self.next_rows().await? else {
            return Ok(None);
        };
        write(rows.into_iter().map(|row| row.iter().map(csv_text).collect())).map(Some)
    }
}

/// A cell's text in the CSV file.
fn csv_text(c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(t) => cell(t),
        Cell::Number(n) => n.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Time(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
        Cell::Score(s, _) => s.to_string(),
    }
}

/// What the reading task hands the sheet writer: a page of rows, or why reading stopped.
type Rows = Result<Vec<Vec<Cell>>>;

/// How many bytes of the finished workbook go to the response at a time.
const PIECE: usize = 64 * 1024;

impl ViewExport {
    /// The export as an Excel workbook, in pieces: the receiver yields the file's bytes,
    /// or the error that stopped it (then nothing more). See the module documentation.
    pub fn into_xlsx(mut self) -> mpsc::Receiver<Result<Vec<u8>>> {
        let (rows_tx, rows_rx) = mpsc::channel::<Rows>(2);
        let (bytes_tx, bytes_rx) = mpsc::channel::<Result<Vec<u8>>>(4);
        let header = self.header();
        tokio::spawn(async move {
            loop {
                let next = self.next_rows().await;
                let last = !matches!(next, Ok(Some(_)));
                let sent = match next {
                    Ok(Some(rows)) => rows_tx.send(Ok(rows)).await,
                    Ok(None) => break,
                    Err(e) => rows_tx.send(Err(e)).await,
                };
                // The writer is gone (the download was dropped) or this was the error.
                if sent.is_err() || last {
                    break;
                }
            }
        });
        tokio::task::spawn_blocking(move || {
            let out = Pieces {
                tx: bytes_tx.clone(),
                buf: Vec::with_capacity(PIECE),
            };
            if let Err(e) = write_workbook(&header, rows_rx, out) {
                let _ = bytes_tx.blocking_send(Err(e));
            }
        });
        bytes_rx
    }
}

/// Writes the workbook: the header, the rows as they come, then the file into `out`.
fn write_workbook(header: &[String], mut rows: mpsc::Receiver<Rows>, mut out: Pieces) -> Result<()> {
    use rust_xlsxwriter::{Format as Style, Workbook};
    let bad = |e: rust_xlsxwriter::XlsxError| Error::Internal(format!("xlsx: {e}"));
    let bold = Style::new().set_bold();
    let time = Style::new().set_num_format("yyyy-mm-dd hh:mm");
    let mut workbook = Workbook::new();
    let mut sheet_index = 0;
    let mut row: u32 = SHEET_ROWS;
    while let Some(page) = rows.blocking_recv() {
        for cells in page? {
            if row >= SHEET_ROWS {
                let sheet = workbook.add_worksheet_with_constant_memory().map_err(bad)?;
                sheet_index += 1;
                sheet.set_name(format!("Contacts {sheet_index}")).map_err(bad)?;
                for (col, label) in (0u16..).zip(header) {
                    sheet.write_string_with_format(0, col, label, &bold).map_err(bad)?;
                }
                row = 1;
            }
            let sheet = workbook.worksheet_from_index(sheet_index - 1).map_err(bad)?;
            for (col, c) in (0u16..).zip(&cells) {
                match c {
                    Cell::Empty => {}
                    Cell::Text(t) => {
                        sheet.write_string(row, col, excel_text(t)).map_err(bad)?;
                    }
                    Cell::Number(n) | Cell::Score(n, _) => {
                        sheet.write_number(row, col, *n).map_err(bad)?;
                    }
                    Cell::Bool(b) => {
                        sheet.write_boolean(row, col, *b).map_err(bad)?;
                    }
                    Cell::Time(t) => {
                        sheet
                            .write_datetime_with_format(row, col, t.naive_utc(), &time)
                            .map_err(bad)?;
                    }
                }
            }
            row += 1;
        }
    }
    if sheet_index == 0 {
        // No contacts: the header alone.
        let sheet = workbook.add_worksheet_with_constant_memory().map_err(bad)?;
        sheet.set_name("Contacts 1").map_err(bad)?;
        for (col, label) in (0u16..).zip(header) {
            sheet.write_string_with_format(0, col, label, &bold).map_err(bad)?;
        }
    }
    workbook.save_to_writer(&mut out).map_err(bad)?;
    out.flush().map_err(|e| Error::Internal(format!("xlsx: {e}")))
}

/// `text` cut to the 32,767 characters an Excel cell holds (the CSV export keeps it whole).
fn excel_text(text: &str) -> &str {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((at, _)) => text.get(..at).unwrap_or(text),
        None => text,
    }
}

/// The most characters an Excel cell holds.
pub const MAX_CELL_CHARS: usize = 32_767;

/// A writer that hands what is written to the response in pieces of [`PIECE`] bytes.
struct Pieces {
    tx: mpsc::Sender<Result<Vec<u8>>>,
    buf: Vec<u8>,
}

impl Pieces {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.buf, Vec::with_capacity(PIECE));
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was closed"))
    }
}

impl Write for Pieces {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_what_a_cell_holds() {
        let long = "ż".repeat(MAX_CELL_CHARS + 5);
        assert_eq!(excel_text(&long).chars().count(), MAX_CELL_CHARS);
        assert_eq!(excel_text("Łódź"), "Łódź");
    }
}
