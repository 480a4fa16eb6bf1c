//! The plain-text version of an e-mail, made from its rendered HTML.
//!
//! The HTML is read by [html2text](https://docs.rs/html2text), on html5ever, the parsing
//! algorithm of browsers: unclosed tags, a stray `<`, every named and numeric entity
//! (minijinja's `&#x2f;` included) and the contents of `<script>`, `<style>` and `<head>`
//! are handled as a mail client handles them. A converter of our own (block tags to line
//! breaks, a table of common entities) would be smaller, but what an author pastes into
//! the HTML template is often an e-mail editor's output, the kind of markup a few rules
//! get wrong. The cost is about 0.6 MB of the component (1.5 MB, against 0.9 MB for
//! `tasks`) and about a millisecond per 10 KB of HTML.
//!
//! html2text lays text out for a terminal; here it is set up for a message:
//!
//! - **No wrapping.** A paragraph is one line: mail clients wrap plain text themselves, and
//!   a long address cut in two is no longer a link. ([`WIDTH`] is only compared with.)
//! - **Tables as blocks.** E-mail HTML lays its pages out with tables; every cell is a
//!   block of its own, in order, without borders or columns.
//! - **Links keep their address:** `<a href="https://x.example/p">the offer</a>` reads
//!   `the offer (https://x.example/p)`: the text carries every link of the HTML, each as
//!   one unbroken address a reader can follow and a program can find. A link whose text
//!   is its own address (`https://x.example/p`, or `ada@example.com` for
//!   `mailto:ada@example.com`) is written once; in-page anchors (`#top`) and
//!   `javascript:` links are left as their text.
//! - **Plain marks:** no `*emphasis*`, no `# ` before headings, no struck-through
//!   characters; list items start with `- ` or `1. `, quotations with `> `, an image is its
//!   `alt` text (nothing without one).
//! - Paragraphs and headings are set apart by a blank line, list items and table cells
//!   one to a line. Spaces at the ends of lines are dropped, runs of blank lines made one,
//!   and blank lines at either end dropped.

use html2text::render::TextDecorator;

/// The width html2text lays text out in: wide enough that no paragraph of a message
/// wraps. With tables drawn as blocks nothing is padded or ruled to this width; html2text
/// only compares line lengths with it.
pub const WIDTH: usize = 1 << 20;

/// The plain text of `html`; an error only if html2text fails, which its configuration
/// here (no table columns, no width to run out of) shouldn't let happen.
pub fn from_html(html: &str) -> Result<String, String> {
    let lines = html2text::config::with_decorator(Marks)
        .raw_mode(true)
        .link_footnotes(false)
        .unicode_strikeout(false)
        .allow_width_overflow()
        .lines_from_read(html.as_bytes(), WIDTH)
        .map_err(|error| error.to_string())?;
    let mut text = Text::default();
    for line in &lines {
        text.lines.push(String::new());
        for piece in line.tagged_strings() {
            let link = piece.tag.iter().rev().find_map(|mark| match mark {
                Mark::Link(url) => Some(url.as_str()),
                Mark::Plain => None,
            });
            text.push(&piece.s, link);
        }
    }
    Ok(text.finish())
}

/// What html2text attaches to a piece of text: the address of the link it is in, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Mark {
    #[default]
    Plain,
    Link(String),
}

/// The decorations of a plain message: none, but list and quotation prefixes, and links
/// marked so that [`Text`] can write their addresses after them.
#[derive(Clone, Debug)]
struct Marks;

impl TextDecorator for Marks {
    type Annotation = Mark;

    fn decorate_link_start(&mut self, url: &str) -> (String, Mark) {
        (String::new(), Mark::Link(url.to_owned()))
    }

    fn decorate_link_end(&mut self) -> String {
        String::new()
    }

    fn decorate_em_start(&self) -> (String, Mark) {
        (String::new(), Mark::Plain)
    }

    fn decorate_em_end(&self) -> String {
        String::new()
    }

    fn decorate_strong_start(&self) -> (String, Mark) {
        (String::new(), Mark::Plain)
    }

    fn decorate_strong_end(&self) -> String {
        String::new()
    }

    fn decorate_strikeout_start(&self) -> (String, Mark) {
        (String::new(), Mark::Plain)
    }

    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }

    fn decorate_code_start(&self) -> (String, Mark) {
        (String::new(), Mark::Plain)
    }

    fn decorate_code_end(&self) -> String {
        String::new()
    }

    fn decorate_preformat_first(&self) -> Mark {
        Mark::Plain
    }

    fn decorate_preformat_cont(&self) -> Mark {
        Mark::Plain
    }

    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, Mark) {
        (title.to_owned(), Mark::Plain)
    }

    fn header_prefix(&self, _level: usize) -> String {
        String::new()
    }

    fn quote_prefix(&self) -> String {
        "> ".to_owned()
    }

    fn unordered_item_prefix(&self) -> String {
        "- ".to_owned()
    }

    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }

    fn make_subblock_decorator(&self) -> Self {
        Marks
    }

    fn decorate_superscript_start(&self) -> (String, Mark) {
        (String::new(), Mark::Plain)
    }

    fn decorate_superscript_end(&self) -> String {
        String::new()
    }

    fn finalise(&mut self, _urls: Vec<String>) -> Vec<html2text::render::TaggedLine<Mark>> {
        Vec::new()
    }
}

/// The text being assembled from html2text's pieces.
#[derive(Default)]
struct Text {
    lines: Vec<String>,
    /// The link the last pieces were in: its address, its text so far, and where its last
    /// visible character ends (line, byte). The address is written there when a piece
    /// outside the link comes, or the text ends: after the link, even when it runs over
    /// several lines.
    link: Option<Link>,
}

struct Link {
    url: String,
    /// The link's text, its lines joined with spaces.
    text: String,
    /// The line of its last piece.
    line: usize,
    /// Where its last visible character ends: line, byte.
    end: (usize, usize),
}

impl Text {
    /// Appends `piece`, inside the link to `link` or outside any, to the last line.
    fn push(&mut self, piece: &str, link: Option<&str>) {
        if piece.is_empty() {
            return;
        }
        let line = self.lines.len().saturating_sub(1);
        if self.link.as_ref().map(|open| open.url.as_str()) != link {
            self.close_link();
        }
        let Some(out) = self.lines.last_mut() else {
            return;
        };
        out.push_str(piece);
        let Some(url) = link else {
            return;
        };
        let visible = out.trim_end().len();
        let open = self.link.get_or_insert_with(|| Link {
            url: url.to_owned(),
            text: String::new(),
            line,
            end: (line, visible),
        });
        if open.line != line {
            open.line = line;
            open.text.push(' ');
        }
        open.text.push_str(piece);
        if !piece.trim().is_empty() {
            open.end = (line, visible);
        }
    }

    /// Writes the open link's address after its text, unless it adds nothing.
    fn close_link(&mut self) {
        let Some(link) = self.link.take() else {
            return;
        };
        let (line, at) = link.end;
        if let Some(address) = shown_address(&link.url, link.text.trim())
            && let Some(out) = self.lines.get_mut(line)
        {
            out.insert_str(at, &format!(" ({address})"));
        }
    }

    /// The lines joined, each without trailing spaces, runs of blank lines made one and
    /// those at either end dropped.
    fn finish(mut self) -> String {
        self.close_link();
        let mut out = String::new();
        let mut blank = false;
        for line in &self.lines {
            let line = line.trim_end();
            if line.is_empty() {
                blank = true;
                continue;
            }
            if !out.is_empty() {
                out.push('\n');
                if blank {
                    out.push('\n');
                }
            }
            blank = false;
            out.push_str(line);
        }
        out
    }
}

/// The address to write after a link's text, or `None` when it adds nothing: the text
/// is the address already, or the link leads nowhere outside the message.
fn shown_address<'a>(url: &'a str, text: &str) -> Option<&'a str> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    if url.is_empty() || url.starts_with('#') || lower.starts_with("javascript:") {
        return None;
    }
    let bare = ["mailto:", "tel:"]
        .iter()
        .find(|scheme| lower.starts_with(**scheme))
        .map_or(url, |scheme| &url[scheme.len()..]);
    if text == url || text == bare {
        return None;
    }
    Some(url)
}
