//! The "Segments" section of the contact card: the segments the contact is in, each with
//! why (a dynamic segment's conditions, matched or not, with the compared values; when a
//! static list got it), and "why not?" for one other segment chosen with `?explain=<id>`.
//!
//! The explanation tree is flattened into rows that open and close nested lists, so the
//! template needs no recursion and the page reads without JavaScript (`<details>`).

use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::filter::Describer;
use kartoteka_core::segments::SegmentKind;
use kartoteka_core::segments::explain::{ExplainNode, Logic, SegmentExplanation};

use crate::app::AppState;
use crate::urls;

/// One row of a flattened explanation: `open` starts a group (its text, then a nested
/// list), `leaf` is a condition, `close` ends the innermost group.
#[derive(Debug, Clone)]
pub struct ShownRow {
    pub kind: &'static str,
    pub path: String,
    pub matched: bool,
    /// The group (`all of these`) or the condition in words (`City equals “Kraków”`).
    pub text: String,
    /// The contact's value, or the comparison in words.
    pub actual: String,
}

/// A segment on the card.
#[derive(Debug, Clone)]
pub struct ShownSegment {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub kind: &'static str,
    pub member: bool,
    /// One sentence: added by hand when, matches its filter, or why it can't say.
    pub summary: String,
    /// Set when the stored membership and the filter disagree (until the next rebuild).
    pub pending: Option<String>,
    pub rows: Vec<ShownRow>,
    /// Whether it is the segment asked about (its explanation starts open).
    pub asked: bool,
}

/// A segment offered in the "why not?" choice.
#[derive(Debug, Clone)]
pub struct OtherSegment {
    pub id: i64,
    pub name: String,
    pub selected: bool,
}

/// The section's content.
#[derive(Debug, Clone, Default)]
pub struct SegmentsSection {
    /// The segments the contact is a member of.
    pub memberships: Vec<ShownSegment>,
    /// The other segments, for the "why not?" choice.
    pub others: Vec<OtherSegment>,
    /// The segment asked about with `?explain=`, when it is not a membership.
    pub asked: Option<ShownSegment>,
    /// Set when `?explain=` names no segment.
    pub asked_missing: Option<String>,
}

/// Reads `?explain=<segment id>`; anything but a whole number is a 400 at `explain`.
pub fn explain_param(pairs: &[(String, String)]) -> Result<Option<i64>, Error> {
    match crate::api::json::param(pairs, "explain").map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| Error::invalid("explain", format!("expected a segment id, got `{v}`"))),
    }
}

/// The section for contact `id` as `actor` sees it.
pub async fn section(state: &AppState, actor: &Actor, id: i64, explain: Option<i64>) -> Result<SegmentsSection, Error> {
    let all = state.core.segments().explain_contact_segments(actor, id).await?;
    let describer = state.core.filter_describer(actor).await?;
    let mut out = SegmentsSection::default();
    if let Some(asked) = explain
        && !all.iter().any(|e| e.segment_id == asked)
    {
        out.asked_missing = Some(format!("There is no segment {asked}."));
    }
    for e in all {
        let asked = Some(e.segment_id) == explain;
        if e.member {
            out.memberships.push(shown(e, asked, &describer));
            continue;
        }
        out.others.push(OtherSegment {
            id: e.segment_id,
            name: e.name.clone(),
            selected: asked,
        });
        if asked {
            out.asked = Some(shown(e, true, &describer));
        }
    }
    Ok(out)
}

fn shown(e: SegmentExplanation, asked: bool, describer: &Describer) -> ShownSegment {
    let since = e
        .joined_at
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let summary = match (e.kind, e.member, e.matched, &e.reason) {
        (SegmentKind::Static, true, _, _) => format!("Added to this list by hand on {since}."),
        (SegmentKind::Static, false, _, _) => "Not on this list: a static list changes only by hand.".to_owned(),
        (_, _, _, Some(reason)) => format!("Its filter can't be evaluated: {reason}"),
        (_, _, Some(true), _) => "Matches the segment's filter.".to_owned(),
        (_, _, _, _) => "Doesn't match the segment's filter.".to_owned(),
    };
    let pending = match (e.kind, e.member, e.matched) {
        (SegmentKind::Dynamic, true, Some(false)) => {
            Some("Still a member: it leaves at the segment's next rebuild.".to_owned())
        }
        (SegmentKind::Dynamic, false, Some(true)) => {
            Some("Not a member yet: it joins at the segment's next rebuild.".to_owned())
        }
        _ => None,
    };
    let mut rows = Vec::new();
    if let Some(tree) = &e.tree {
        flatten(tree, describer, &mut rows);
    }
    ShownSegment {
        id: e.segment_id,
        url: urls::segment(e.segment_id),
        name: e.name,
        kind: e.kind.as_str(),
        member: e.member,
        summary: if e.member && e.kind == SegmentKind::Dynamic {
            format!("{summary} Member since {since}.")
        } else {
            summary
        },
        pending,
        rows,
        asked,
    }
}

fn flatten(node: &ExplainNode, describer: &Describer, rows: &mut Vec<ShownRow>) {
    match node {
        ExplainNode::Group {
            path,
            logic,
            matched,
            children,
        } => {
            let text = match (logic, children.len()) {
                (Logic::And, 0) => "no conditions (every contact)",
                (Logic::Or, 0) => "none of no conditions (no contact)",
                (Logic::And, _) => "all of these",
                (Logic::Or, _) => "any of these",
                (Logic::Not, _) => "not this",
            };
            rows.push(ShownRow {
                kind: "open",
                path: path.clone(),
                matched: *matched,
                text: text.to_owned(),
                actual: String::new(),
            });
            for child in children {
                flatten(child, describer, rows);
            }
            rows.push(ShownRow {
                kind: "close",
                path: path.clone(),
                matched: *matched,
                text: String::new(),
                actual: String::new(),
            });
        }
        ExplainNode::Condition(c) => rows.push(ShownRow {
            kind: "leaf",
            path: c.path.clone(),
            matched: c.matched,
            text: describer.condition(&c.field, &c.op, c.value.as_ref()),
            actual: match &c.note {
                Some(note) => note.clone(),
                None => format!("here: {}", describer.field_value(&c.field, &c.actual)),
            },
        }),
    }
}
