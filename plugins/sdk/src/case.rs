//! Case-insensitive text matching, the third text mode next to exact and folded.
//!
//! The contract's `text` node compares bytes (`fold: false`) or folded text (`fold:
//! true`, case and accents ignored, pushed down and indexed on both databases). "Ignoring
//! case, not accents" (`@gmail.com` matching `Ada@GMAIL.com` but not `accent@gmaíl.com`)
//! is neither. [`Plan::text`](crate::Plan::text) with [`TextFold::Case`] lowers it to the
//! folded match, which the database decides with its index and which keeps every
//! case-insensitive match (folding lowercases too), and next to it a residual this module
//! answers: the candidates' texts and the needle lowercased (full Unicode lowercase,
//! Rust's `str::to_lowercase`), then compared in the same mode. The residual is of the
//! operator being lowered, with a marker argument (`{"kartoteka:case": {"mode",
//! "needle"}}`), so the host sees an ordinary residual of a listed operator; the SDK's
//! dispatch answers it before the operator's own `matches` is consulted.
//!
//! Why not a third mode in the contract: SQLite has no Unicode-aware lowercase and
//! PostgreSQL's depends on the database's collation, so the host, too, could only narrow
//! with the folded match and decide the case on the candidates. Doing that here keeps
//! the contract (`kartoteka:plugin@0.1.0`) as it is and every plugin loadable.

use crate::{ArgNode, Args, Batch, PluginError, TextMode};

/// How a text match treats case and accents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextFold {
    /// Bytes must be equal: `Ab` does not match `ab`, `é` does not match `e`.
    Exact,
    /// Case is ignored, accents are not: `ADA` matches `ada`, `gmaíl` does not match `gmail`.
    /// A folded match in the database, then the case on its candidates.
    Case,
    /// Case, accents and compatibility forms are ignored (see [`TextMatch`](crate::TextMatch)):
    /// `lodz` matches `Łódź`. Entirely in the database.
    Folded,
}

impl From<bool> for TextFold {
    /// `true` is [`TextFold::Folded`], `false` [`TextFold::Exact`]: the contract's `fold`.
    fn from(fold: bool) -> Self {
        if fold { TextFold::Folded } else { TextFold::Exact }
    }
}

/// The marker key of a case residual's argument.
const MARKER: &str = "kartoteka:case";

fn mode_name(mode: TextMode) -> &'static str {
    match mode {
        TextMode::Contains => "contains",
        TextMode::Prefix => "prefix",
        TextMode::Suffix => "suffix",
        TextMode::Equals => "equals",
    }
}

/// The argument of a case residual: `{"kartoteka:case": {"mode": .., "needle": ..}}`.
pub(crate) fn residual_args(mode: TextMode, needle: &str) -> Args {
    Args {
        nodes: vec![
            ArgNode::Text(mode_name(mode).to_owned()),
            ArgNode::Text(needle.to_owned()),
            ArgNode::Object(vec![("mode".to_owned(), 0), ("needle".to_owned(), 1)]),
            ArgNode::Object(vec![(MARKER.to_owned(), 2)]),
        ],
    }
}

/// The answers of a case residual, or `None` when `args` is not one.
pub(crate) fn answer(args: &Args, values: &Batch) -> Option<Result<Vec<bool>, PluginError>> {
    let root = args.value();
    let spec = root.get(MARKER).ok()?.optional()?;
    let read = || -> Result<Vec<bool>, PluginError> {
        let mode = match spec.get("mode")?.as_str()? {
            "contains" => TextMode::Contains,
            "prefix" => TextMode::Prefix,
            "suffix" => TextMode::Suffix,
            "equals" => TextMode::Equals,
            other => return Err(spec.error(format!("unknown text mode `{other}`"))),
        };
        let needle = spec.get("needle")?.as_str()?.to_lowercase();
        Ok(values
            .texts()?
            .map(|text| {
                text.is_some_and(|text| {
                    let text = text.to_lowercase();
                    match mode {
                        TextMode::Contains => text.contains(&needle),
                        TextMode::Prefix => text.starts_with(&needle),
                        TextMode::Suffix => text.ends_with(&needle),
                        TextMode::Equals => text == needle,
                    }
                })
            })
            .collect())
    };
    Some(read())
}
