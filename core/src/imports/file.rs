//! Reading an import file: CSV (any of `,` `;` tab, UTF-8, UTF-16 or a Windows code page)
//! and Excel `.xlsx`, as rows of text cells, streamed.
//!
//! Crates: `csv` parses (quoting by RFC 4180, records that span lines), `encoding_rs`
//! decodes the legacy code pages and `encoding_rs_io` a UTF-16 file as a stream, `calamine`
//! reads `.xlsx` through its cell reader (the sheet's XML streamed; only the shared strings
//! table is held whole). A CSV file is read a record at a time; an Excel sheet's reader
//! runs up to [`XLSX_AHEAD`] rows ahead.
//!
//! # Encodings
//!
//! Files from Excel and older systems in Central and Eastern Europe come in UTF-8 (with or
//! without a byte order mark), UTF-16 (Excel's "Unicode text", always with a BOM), or a
//! Windows code page: 1250 (Polish, Czech, Romanian, ...) or 1251 (Ukrainian, Russian,
//! ...). A file put together from several sources may mix them line by line, so a cell is
//! decoded on its own: valid UTF-8 stays UTF-8; anything else is decoded as Windows-1251
//! when that gives words of one script each with some Cyrillic in them, and as
//! Windows-1250 otherwise. A Polish word read as 1251 mixes Cyrillic with the Latin letters
//! that are plain ASCII in both ("Łódź" becomes "Јуdџ"), while Russian read as 1250 gives
//! only accented Latin letters, never a Cyrillic one, so the test separates them on real
//! words. A cell that is decoded from a code page is counted, and the count reported.
//!
//! # Delimiters
//!
//! The first 64 KiB are parsed with each of `,` `;` and tab; the delimiter that gives the
//! same number of cells (more than one) on the most of the first 50 records wins, ties to
//! the more cells. A file with one column reads as `,`.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use calamine::{DataRef, Reader as _, Xlsx};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1250, WINDOWS_1251};

use crate::{Error, Result};

/// The formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The name shown to people.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Xlsx => "Excel (.xlsx)",
        }
    }
}

/// What was found out about a file before reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileShape {
    pub format: Format,
    /// The CSV delimiter (`b','` for Excel files).
    pub delimiter: u8,
    /// The encoding of the whole stream: `UTF-8`, `UTF-16LE`, `UTF-16BE` (cells not in
    /// valid UTF-8 are decoded on their own, see the module docs).
    pub encoding: &'static str,
}

impl FileShape {
    /// The shape as people read it, for a file of `columns` columns: "CSV, 7 columns,
    /// semicolon separated, UTF-8".
    pub fn describe(&self, columns: usize) -> String {
        match self.format {
            Format::Csv => format!(
                "{}, {columns} columns, {} separated, {}",
                self.format.as_str(),
                self.delimiter_name(),
                self.encoding
            ),
            Format::Xlsx => format!("{}, {columns} columns", self.format.as_str()),
        }
    }

    /// The delimiter as people name it.
    pub fn delimiter_name(&self) -> &'static str {
        match self.delimiter {
            b';' => "semicolon",
            b'\t' => "tab",
            _ => "comma",
        }
    }
}

/// One row of the file: its line (CSV: the line it starts on; Excel: the row number as
/// Excel shows it) and its cells as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub line: u64,
    pub cells: Vec<String>,
}

/// A file opened for reading rows.
pub struct RowReader {
    inner: Inner,
    /// Cells decoded from a Windows code page so far.
    pub legacy_cells: u64,
}

impl std::fmt::Debug for RowReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowReader")
            .field("legacy_cells", &self.legacy_cells)
            .finish_non_exhaustive()
    }
}

enum Inner {
    Csv {
        reader: csv::Reader<Box<dyn Read + Send>>,
        record: csv::ByteRecord,
    },
    Xlsx(XlsxRows),
}

/// How many bytes the delimiter is chosen from.
const SNIFF_BYTES: usize = 64 * 1024;
/// How many records the delimiter is chosen from.
const SNIFF_RECORDS: usize = 50;

/// Finds out the format, delimiter and encoding of the file at `path`.
pub fn shape(path: &Path) -> Result<FileShape> {
    let mut file = open(path)?;
    let mut head = vec![0u8; SNIFF_BYTES];
    let read = read_up_to(&mut file, &mut head)?;
    head.truncate(read);
    if head.starts_with(b"PK\x03\x04") {
        return Ok(FileShape {
            format: Format::Xlsx,
            delimiter: b',',
            encoding: "UTF-8",
        });
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(Error::invalid(
            "file",
            "this is an old Excel workbook (.xls); save it as .xlsx or CSV in Excel and import that",
        ));
    }
    let (encoding, bom) = match Encoding::for_bom(&head) {
        Some((enc, len)) => (enc, len),
        None => (UTF_8, 0),
    };
    let text: Vec<u8> = if encoding == UTF_16LE || encoding == UTF_16BE {
        let (decoded, _) = encoding.decode_without_bom_handling(head.get(bom..).unwrap_or_default());
        decoded.into_owned().into_bytes()
    } else {
        head.get(bom..).unwrap_or_default().to_vec()
    };
    if text.contains(&0) {
        return Err(Error::invalid(
            "file",
            "this is not a text file (it holds zero bytes); import a CSV or .xlsx file",
        ));
    }
    Ok(FileShape {
        format: Format::Csv,
        delimiter: sniff_delimiter(&text),
        encoding: encoding.name(),
    })
}

/// The delimiter of CSV text `sample` (see the module docs).
fn sniff_delimiter(sample: &[u8]) -> u8 {
    let mut best = (b',', 0usize, 0usize);
    for delimiter in [b',', b';', b'\t'] {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(sample);
        let mut counts: Vec<usize> = Vec::new();
        let mut record = csv::ByteRecord::new();
        while counts.len() < SNIFF_RECORDS {
            match reader.read_byte_record(&mut record) {
                Ok(true) => counts.push(record.len()),
                // The sample may end inside a record.
                Ok(false) | Err(_) => break,
            }
        }
        let Some(&first) = counts.first() else { continue };
        if first < 2 {
            continue;
        }
        let agreeing = counts.iter().filter(|&&n| n == first).count();
        if (agreeing, first) > (best.1, best.2) {
            best = (delimiter, agreeing, first);
        }
    }
    best.0
}

impl RowReader {
    /// Opens the file at `path`, of `shape`, for reading its rows from the first.
    pub fn open(path: &Path, shape: &FileShape) -> Result<Self> {
        let inner = match shape.format {
            Format::Xlsx => Inner::Xlsx(XlsxRows::open(path)?),
            Format::Csv => {
                let mut file = open(path)?;
                let mut head = [0u8; 4];
                let read = read_up_to(&mut file, &mut head)?;
                let bom = Encoding::for_bom(head.get(..read).unwrap_or_default());
                file.seek(SeekFrom::Start(0)).map_err(|e| io_error(path, e))?;
                let stream: Box<dyn Read + Send> = match bom {
                    Some((enc, _)) if enc == UTF_16LE || enc == UTF_16BE => Box::new(
                        encoding_rs_io::DecodeReaderBytesBuilder::new()
                            .encoding(Some(enc))
                            .build(BufReader::new(file)),
                    ),
                    Some((_, len)) => {
                        file.seek(SeekFrom::Start(len as u64)).map_err(|e| io_error(path, e))?;
                        Box::new(BufReader::new(file))
                    }
                    None => Box::new(BufReader::new(file)),
                };
                let reader = csv::ReaderBuilder::new()
                    .delimiter(shape.delimiter)
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(stream);
                Inner::Csv {
                    reader,
                    record: csv::ByteRecord::new(),
                }
            }
        };
        Ok(RowReader { inner, legacy_cells: 0 })
    }

    /// How far into the file the reader is, in bytes (CSV only; UTF-16 files count in
    /// the decoded text's bytes).
    pub fn position(&self) -> Option<u64> {
        match &self.inner {
            Inner::Csv { reader, .. } => Some(reader.position().byte()),
            Inner::Xlsx(_) => None,
        }
    }

    /// The next row, `None` at the end of the file. Rows with no text in any cell are
    /// passed over.
    pub fn next_row(&mut self) -> Result<Option<FileRow>> {
        loop {
            let row = match &mut self.inner {
                Inner::Xlsx(rows) => rows.next_row()?,
                Inner::Csv { reader, record } => {
                    let more = reader.read_byte_record(record).map_err(|e| {
                        let line = e.position().map(|p| p.line()).unwrap_or(0);
                        Error::invalid("file", format!("line {line}: the file can't be read as CSV: {e}"))
                    })?;
                    if !more {
                        return Ok(None);
                    }
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    let mut cells = Vec::with_capacity(record.len());
                    for raw in record.iter() {
                        let (text, legacy) = decode_cell(raw);
                        self.legacy_cells += u64::from(legacy);
                        cells.push(text);
                    }
                    Some(FileRow { line, cells })
                }
            };
            match row {
                None => return Ok(None),
                Some(row) if row.cells.iter().all(|c| c.trim().is_empty()) => continue,
                Some(row) => return Ok(Some(row)),
            }
        }
    }
}

/// A cell's text, and whether it was decoded from a Windows code page (module docs).
pub fn decode_cell(raw: &[u8]) -> (String, bool) {
    if let Ok(text) = std::str::from_utf8(raw) {
        return (text.to_owned(), false);
    }
    let (cyrillic, _, _) = WINDOWS_1251.decode(raw);
    if one_script_per_word(&cyrillic) {
        return (cyrillic.into_owned(), true);
    }
    let (latin, _, _) = WINDOWS_1250.decode(raw);
    (latin.into_owned(), true)
}

/// Whether `text` has a Cyrillic letter and no word mixing Cyrillic with other letters.
fn one_script_per_word(text: &str) -> bool {
    let is_cyrillic = |c: char| ('\u{0400}'..='\u{04FF}').contains(&c);
    let mut any_cyrillic = false;
    for word in text.split(|c: char| !c.is_alphabetic()) {
        let cyr = word.chars().filter(|&c| is_cyrillic(c)).count();
        if cyr > 0 && cyr != word.chars().count() {
            return false;
        }
        any_cyrillic |= cyr > 0;
    }
    any_cyrillic
}

/// The rows of the first sheet of an `.xlsx` workbook, read by a thread of their own
/// that streams the sheet (calamine's cell reader borrows the workbook it reads, so the
/// thread owns both) and hands rows over a bounded channel.
struct XlsxRows {
    rows: std::sync::mpsc::Receiver<Result<FileRow>>,
}

/// Rows read ahead of the import.
const XLSX_AHEAD: usize = 256;

impl XlsxRows {
    fn open(path: &Path) -> Result<Self> {
        let mut book: Xlsx<BufReader<File>> = calamine::open_workbook(path)
            .map_err(|e| Error::invalid("file", format!("the file can't be read as an Excel workbook: {e}")))?;
        let sheet = book
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| Error::invalid("file", "the workbook has no sheet"))?;
        let (send, rows) = std::sync::mpsc::sync_channel(XLSX_AHEAD);
        std::thread::Builder::new()
            .name("xlsx-import".into())
            .spawn(move || {
                if let Err(e) = stream_sheet(&mut book, &sheet, &send) {
                    let _ = send.send(Err(e));
                }
            })
            .map_err(|e| Error::Internal(format!("starting the Excel reader: {e}")))?;
        Ok(XlsxRows { rows })
    }

    fn next_row(&mut self) -> Result<Option<FileRow>> {
        match self.rows.recv() {
            Ok(row) => row.map(Some),
            // The reader ended: the sheet is read.
            Err(_) => Ok(None),
        }
    }
}

fn stream_sheet(
    book: &mut Xlsx<BufReader<File>>,
    sheet: &str,
    send: &std::sync::mpsc::SyncSender<Result<FileRow>>,
) -> Result<()> {
    let bad = |e: calamine::XlsxError| Error::invalid("file", format!("sheet `{sheet}` can't be read: {e}"));
    let mut cells = book.worksheet_cells_reader(sheet).map_err(bad)?;
    let mut current: Option<FileRow> = None;
    while let Some(cell) = cells.next_cell().map_err(bad)? {
        let (row, col) = cell.get_position();
        let line = u64::from(row) + 1;
        if current.as_ref().is_some_and(|r| r.line != line)
            && let Some(done) = current.take()
            && send.send(Ok(done)).is_err()
        {
            // The import stopped reading.
            return Ok(());
        }
        let row = current.get_or_insert_with(|| FileRow {
            line,
            cells: Vec::new(),
        });
        let col = col as usize;
        if row.cells.len() <= col {
            row.cells.resize(col + 1, String::new());
        }
        if let Some(slot) = row.cells.get_mut(col) {
            *slot = cell_text(cell.get_value());
        }
    }
    if let Some(done) = current {
        let _ = send.send(Ok(done));
    }
    Ok(())
}

/// A cell as the text an import reads: numbers without a needless `.0`, dates as
/// `YYYY-MM-DD` (with the time when there is one), errors as nothing.
fn cell_text(value: &DataRef<'_>) -> String {
    match value {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) => float_text(*f),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(d) => match d.as_datetime() {
            Some(dt) if dt.time() == chrono::NaiveTime::MIN => dt.format("%Y-%m-%d").to_string(),
            Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S").to_string(),
            None => float_text(d.as_f64()),
        },
        DataRef::Error(_) | DataRef::Empty => String::new(),
    }
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{f:.0}")
    } else {
        f.to_string()
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| io_error(path, e))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::invalid("file", format!("{} can't be read: {e}", path.display()))
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else { break };
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::invalid("file", format!("the file can't be read: {e}"))),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_in_either_code_page_are_told_apart() {
        let (polish, _, _) = WINDOWS_1250.encode("Łódź Wrocław Żółć");
        assert_eq!(decode_cell(&polish), ("Łódź Wrocław Żółć".to_owned(), true));
        let (russian, _, _) = WINDOWS_1251.encode("Иванов Пётр");
        assert_eq!(decode_cell(&russian).0, "Иванов Пётр");
        let (ukrainian, _, _) = WINDOWS_1251.encode("Прізвище Київ");
        assert_eq!(decode_cell(&ukrainian).0, "Прізвище Київ");
        // Windows-1250 has the cedilla forms of ș and ț.
        let (romanian, _, _) = WINDOWS_1250.encode("Braşov Ţară");
        assert_eq!(decode_cell(&romanian).0, "Braşov Ţară");
        assert_eq!(decode_cell("Zoë".as_bytes()), ("Zoë".to_owned(), false));
    }

    #[test]
    fn the_delimiter_is_the_one_that_gives_even_rows() {
        assert_eq!(sniff_delimiter(b"a;b;c\n1;2,5;3\n4;5;6\n"), b';');
        assert_eq!(sniff_delimiter(b"a,b\n\"x;y\",2\n"), b',');
        assert_eq!(sniff_delimiter(b"a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter(b"name\nAnna\n"), b',');
    }
}
