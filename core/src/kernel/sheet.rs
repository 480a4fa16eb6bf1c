//! Cells for spreadsheets: what every file of contacts that people open in Excel shares
//! (the segment export, the export of a view).
//!
//! - [`BOM`]: the files start with a UTF-8 byte order mark. Without it Excel, the program
//!   most people open a CSV file with, reads the file in the system's legacy code page and
//!   shows `Łódź` as `ĹĂłdĹş`. Other CSV readers skip the mark.
//! - [`write`]: RFC 4180 quoting (the `csv` crate; CRLF line ends).
//! - [`cell`]: every text cell is neutralised against formula injection:
//!   - a cell that starts with `=`, `+`, `-`, `@` or a control character (tab, carriage
//!     return, line feed, ...) gets a single quote `'` in front, so spreadsheets show it as
//!     text instead of evaluating it (`+48 12 345 67 89` becomes `'+48 12 345 67 89`);
//!   - control characters other than tab, line feed and carriage return are removed
//!     everywhere in the cell (they carry no contact data, and some, like ESC or NUL, upset
//!     the programs that read the file); those three are kept, as quoted CSV carries them.
//! - [`file_slug`]: a name made safe as a download's file name.

use crate::{Error, Result};

/// The UTF-8 byte order mark the files start with.
pub const BOM: &str = "\u{feff}";

/// `text` made safe for a spreadsheet cell (see the module documentation).
pub fn cell(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
        .collect();
    match text.chars().next() {
        Some(first) if matches!(first, '=' | '+' | '-' | '@') || first.is_control() => format!("'{kept}"),
        _ => kept,
    }
}

/// A name as a file name: folded, ASCII letters and digits joined by `-` (`Łódź VIP` is
/// `lodz-vip`); `fallback` when nothing is left.
pub fn file_slug(name: &str, fallback: &str) -> String {
    let mut slug = String::new();
    for c in crate::text::fold(name).chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 80 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        fallback.to_owned()
    } else {
        slug.to_owned()
    }
}

/// `rows` as CSV (RFC 4180 quoting, CRLF line ends).
pub fn write(rows: impl IntoIterator<Item = Vec<String>>) -> Result<Vec<u8>> {
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        out.write_record(&row)
            .map_err(|e| Error::Internal(format!("csv: {e}")))?;
    }
    out.into_inner().map_err(|e| Error::Internal(format!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_could_run_get_a_quote() {
        for (raw, safe) in [
            ("=1+1", "'=1+1"),
            ("+x", "'+x"),
            ("-x", "'-x"),
            ("@x", "'@x"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("\u{1}=x", "'=x"),
            ("a=b", "a=b"),
            ("Łódź", "Łódź"),
            ("", ""),
        ] {
            assert_eq!(cell(raw), safe, "{raw:?}");
        }
    }

    #[test]
    fn control_characters_inside_are_removed_but_line_breaks_and_tabs_kept() {
        assert_eq!(cell("a\u{0}b\u{1b}[31mc\u{7f}"), "ab[31mc");
        assert_eq!(cell("line 1\r\nline 2\tend"), "line 1\r\nline 2\tend");
    }

    #[test]
    fn file_names_are_ascii_slugs() {
        assert_eq!(file_slug("Łódź VIP", "segment-3"), "lodz-vip");
        assert_eq!(file_slug("  Trade fair 2026!  ", "segment-3"), "trade-fair-2026");
        assert_eq!(file_slug("\"; rm -rf", "segment-3"), "rm-rf");
        assert_eq!(file_slug("日本", "segment-7"), "segment-7");
    }

    #[test]
    fn quoting_is_rfc_4180() {
        let bytes = write([vec!["a,b".to_owned(), "say \"hi\"".to_owned(), "x\ny".to_owned()]]).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",\"x\ny\"\r\n"
        );
    }
}
