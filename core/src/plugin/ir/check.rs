//! The checks every plugin answer passes before the host believes it: a `lower` answer
//! read front to back into a [`Predicate`] tree (children only at earlier indices, so no
//! cycle can be expressed; bounded count, depth and expanded size; finite numbers, valid
//! dates, bounded strings and lists, field names that are names), and a `matches` or
//! `score` answer of exactly one value per input.

use chrono::{DateTime, NaiveDate, Utc};

use super::{ActivityExists, CompareOp, GeoBox, Predicate, Residual, Scalar, TextMode};
use crate::plugin::bindings::filter::exports::kartoteka::plugin::filter as wit;
use crate::plugin::bindings::types;
use crate::plugin::limits::{MAX_DEPTH, MAX_IR_EXPANDED, MAX_IR_NODES, MAX_LIST};
use crate::plugin::values::{args_from_wit, check_text};

/// A node as built so far, with the size and depth of its subtree.
struct Built {
    predicate: Predicate,
    size: usize,
    depth: usize,
}

/// Checks a `lower` answer and builds the tree, or says what is wrong with it.
pub fn check_predicate(raw: wit::Predicate) -> Result<Predicate, String> {
    let count = raw.nodes.len();
    if count == 0 {
        return Err("the predicate has no nodes (its root is the last node)".into());
    }
    if count > MAX_IR_NODES {
        return Err(format!(
            "the predicate has {count} nodes; at most {MAX_IR_NODES} are allowed"
        ));
    }
    let mut built: Vec<Built> = Vec::with_capacity(count);
    for (i, node) in raw.nodes.into_iter().enumerate() {
        let at = |e: String| format!("node {i}: {e}");
        let leaf = |predicate: Predicate| Built {
            predicate,
            size: 1,
            depth: 1,
        };
        let next = match node {
            wit::IrNode::Always => leaf(Predicate::Always),
            wit::IrNode::Never => leaf(Predicate::Never),
            wit::IrNode::Compare(c) => leaf(Predicate::Compare {
                field: check_field(c.field).map_err(at)?,
                op: match c.op {
                    wit::CompareOp::Eq => CompareOp::Eq,
                    wit::CompareOp::Ne => CompareOp::Ne,
                    wit::CompareOp::Lt => CompareOp::Lt,
                    wit::CompareOp::Le => CompareOp::Le,
                    wit::CompareOp::Gt => CompareOp::Gt,
                    wit::CompareOp::Ge => CompareOp::Ge,
                },
                value: check_scalar(c.value).map_err(at)?,
            }),
            wit::IrNode::Range(r) => leaf(Predicate::Range {
                field: check_field(r.field).map_err(at)?,
                low: check_scalar(r.low).map_err(at)?,
                high: check_scalar(r.high).map_err(at)?,
            }),
            wit::IrNode::Text(t) => leaf(Predicate::Text {
                field: check_field(t.field).map_err(at)?,
                mode: match t.mode {
                    wit::TextMode::Contains => TextMode::Contains,
                    wit::TextMode::Prefix => TextMode::Prefix,
                    wit::TextMode::Suffix => TextMode::Suffix,
                    wit::TextMode::Equals => TextMode::Equals,
                },
                needle: check_text(t.needle, "needle").map_err(at)?,
                fold: t.fold,
            }),
            wit::IrNode::InSet(s) => {
                if s.values.len() > MAX_LIST {
                    return Err(at(format!(
                        "in-set has {} values; at most {MAX_LIST} are allowed",
                        s.values.len()
                    )));
                }
                leaf(Predicate::InSet {
                    field: check_field(s.field).map_err(at)?,
                    values: s
                        .values
                        .into_iter()
                        .map(check_scalar)
                        .collect::<Result<_, _>>()
                        .map_err(at)?,
                })
            }
            wit::IrNode::IsNull(field) => leaf(Predicate::IsNull(check_field(field).map_err(at)?)),
            wit::IrNode::IsEmpty(field) => leaf(Predicate::IsEmpty(check_field(field).map_err(at)?)),
            wit::IrNode::Activity(a) => leaf(Predicate::Activity(check_activity(a).map_err(at)?)),
            wit::IrNode::Geo(g) => leaf(Predicate::Geo(check_geo(g).map_err(at)?)),
            wit::IrNode::And(children) => {
                let (items, size, depth) = take_children(&built, i, &children)?;
                Built {
                    predicate: Predicate::And(items),
                    size,
                    depth,
                }
            }
            wit::IrNode::Or(children) => {
                let (items, size, depth) = take_children(&built, i, &children)?;
                Built {
                    predicate: Predicate::Or(items),
                    size,
                    depth,
                }
            }
            wit::IrNode::Not(child) => {
                let (mut items, size, depth) = take_children(&built, i, &[child])?;
                let inner = items.pop().ok_or_else(|| at("`not` without a child".into()))?;
                Built {
                    predicate: Predicate::Not(Box::new(inner)),
                    size,
                    depth,
                }
            }
            wit::IrNode::Residual(r) => leaf(Predicate::Residual(Residual {
                plugin: String::new(),
                op: check_name(r.op, "residual op").map_err(at)?,
                field: check_field(r.field).map_err(at)?,
                args: args_from_wit(&r.args).map_err(|e| at(format!("residual args: {e}")))?,
            })),
        };
        built.push(next);
    }
    built
        .pop()
        .map(|b| b.predicate)
        .ok_or_else(|| "the predicate has no nodes".into())
}

/// The children of node `i`: copies of earlier nodes, with the size and depth they give.
fn take_children(built: &[Built], i: usize, children: &[u32]) -> Result<(Vec<Predicate>, usize, usize), String> {
    if children.len() > MAX_LIST {
        return Err(format!("node {i} has {} children; at most {MAX_LIST}", children.len()));
    }
    let mut items = Vec::with_capacity(children.len());
    let mut size = 1usize;
    let mut depth = 1usize;
    for &c in children {
        let c = usize::try_from(c).unwrap_or(usize::MAX);
        if c == i {
            return Err(format!("node {i} refers to itself"));
        }
        let Some(child) = built.get(c) else {
            return Err(format!(
                "node {i} refers to node {c}, which is not an earlier node (children must come before their parent)"
            ));
        };
        size = size.saturating_add(child.size);
        depth = depth.max(child.depth + 1);
        if size > MAX_IR_EXPANDED {
            return Err(format!(
                "node {i}: the predicate expands to more than {MAX_IR_EXPANDED} nodes once shared children are counted"
            ));
        }
        if depth > MAX_DEPTH {
            return Err(format!(
                "node {i}: the predicate is nested deeper than {MAX_DEPTH} levels"
            ));
        }
        items.push(child.predicate.clone());
    }
    Ok((items, size, depth))
}

/// A field path: `name`, `fields.industry`, `activity.purchase`, `location`.
pub fn check_field(field: String) -> Result<String, String> {
    let ok = !field.is_empty()
        && field.len() <= 128
        && field
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(field)
    } else {
        Err(format!(
            "`{}` is not a field path (letters, digits, `_`, `.`, `-`; at most 128)",
            field.chars().take(40).collect::<String>()
        ))
    }
}

/// A plugin-chosen name: an op, an activity kind, a property key.
pub fn check_name(name: String, what: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'));
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "{what} `{}` is not a name (letters, digits, `_`, `-`, `.`, `/`; at most 64)",
            name.chars().take(40).collect::<String>()
        ))
    }
}

fn finite(n: f64, what: &str) -> Result<f64, String> {
    if n.is_finite() {
        Ok(n)
    } else {
        Err(format!("{what} is not a finite number"))
    }
}

fn instant(secs: i64, what: &str) -> Result<DateTime<Utc>, String> {
    DateTime::from_timestamp(secs, 0).ok_or_else(|| format!("{what} {secs} is not a representable instant"))
}

/// A scalar from a plugin.
pub fn check_scalar(value: types::Value) -> Result<Scalar, String> {
    Ok(match value {
        types::Value::Null => Scalar::Null,
        types::Value::Boolean(b) => Scalar::Boolean(b),
        types::Value::Integer(n) => Scalar::Integer(n),
        types::Value::Number(n) => Scalar::Number(finite(n, "a number value")?),
        types::Value::Text(s) => Scalar::Text(check_text(s, "a text value")?),
        types::Value::Date(s) => Scalar::Date(NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| {
            format!(
                "`{}` is not a date (YYYY-MM-DD)",
                s.chars().take(40).collect::<String>()
            )
        })?),
        types::Value::Datetime(secs) => Scalar::Datetime(instant(secs, "datetime")?),
    })
}

fn check_activity(a: wit::ActivityExists) -> Result<ActivityExists, String> {
    if a.properties.len() > 64 {
        return Err(format!("activity has {} properties; at most 64", a.properties.len()));
    }
    let since = a.since.map(|s| instant(s, "since")).transpose()?;
    let until = a.until.map(|s| instant(s, "until")).transpose()?;
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err("activity: `since` is after `until`".into());
    }
    Ok(ActivityExists {
        kind: check_name(a.kind, "activity kind")?,
        since,
        until,
        min_count: a.min_count,
        min_amount: a.min_amount.map(|n| finite(n, "min-amount")).transpose()?,
        properties: a
            .properties
            .into_iter()
            .map(|(k, v)| Ok((check_name(k, "property")?, check_scalar(v)?)))
            .collect::<Result<_, String>>()?,
    })
}

fn check_geo(g: wit::GeoBox) -> Result<GeoBox, String> {
    let lat = |n: f64, what: &str| {
        let n = finite(n, what)?;
        if (-90.0..=90.0).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{what} {n} is outside -90..90"))
        }
    };
    let lon = |n: f64, what: &str| {
        let n = finite(n, what)?;
        if (-180.0..=180.0).contains(&n) {
            Ok(n)
        } else {
            Err(format!("{what} {n} is outside -180..180"))
        }
    };
    let b = GeoBox {
        min_lat: lat(g.min_lat, "min-lat")?,
        max_lat: lat(g.max_lat, "max-lat")?,
        min_lon: lon(g.min_lon, "min-lon")?,
        max_lon: lon(g.max_lon, "max-lon")?,
    };
    if b.min_lat > b.max_lat || b.min_lon > b.max_lon {
        return Err("geo box: a minimum is above its maximum".into());
    }
    Ok(b)
}

/// Checks a `matches` answer against the batch it answers.
pub fn check_matches(answer: Vec<bool>, batch_len: usize) -> Result<Vec<bool>, String> {
    if answer.len() == batch_len {
        Ok(answer)
    } else {
        Err(format!(
            "answered {} results for a batch of {batch_len} values",
            answer.len()
        ))
    }
}

/// Checks a `score` answer against the batch it answers.
pub fn check_scores(answer: Vec<f64>, batch_len: usize) -> Result<Vec<f64>, String> {
    if answer.len() != batch_len {
        return Err(format!(
            "answered {} scores for a batch of {batch_len} values",
            answer.len()
        ));
    }
    if let Some(i) = answer.iter().position(|n| !n.is_finite()) {
        return Err(format!("score {i} is not a finite number"));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(nodes: Vec<wit::IrNode>) -> wit::Predicate {
        wit::Predicate { nodes }
    }

    fn null(field: &str) -> wit::IrNode {
        wit::IrNode::IsNull(field.into())
    }

    #[test]
    fn builds_a_tree_from_earlier_nodes() {
        let p = check_predicate(raw(vec![
            null("email"),
            null("phone"),
            wit::IrNode::Or(vec![0, 1]),
            wit::IrNode::Not(2),
        ]))
        .unwrap();
        assert_eq!(
            p,
            Predicate::Not(Box::new(Predicate::Or(vec![
                Predicate::IsNull("email".into()),
                Predicate::IsNull("phone".into())
            ])))
        );
    }

    #[test]
    fn refuses_self_and_forward_references() {
        let e = check_predicate(raw(vec![wit::IrNode::Always, wit::IrNode::And(vec![0, 1])])).unwrap_err();
        assert!(e.contains("node 1 refers to itself"), "{e}");
        let e = check_predicate(raw(vec![wit::IrNode::Not(1), wit::IrNode::Always])).unwrap_err();
        assert!(e.contains("node 0 refers to node 1"), "{e}");
        let e = check_predicate(raw(vec![wit::IrNode::Not(u32::MAX)])).unwrap_err();
        assert!(e.contains("not an earlier node"), "{e}");
        assert!(check_predicate(raw(vec![])).is_err());
    }

    #[test]
    fn refuses_a_dag_that_expands_exponentially() {
        let mut nodes = vec![wit::IrNode::Always];
        for i in 0..40u32 {
            nodes.push(wit::IrNode::And(vec![i, i]));
        }
        let e = check_predicate(raw(nodes)).unwrap_err();
        assert!(e.contains("expands to more than"), "{e}");
    }

    #[test]
    fn refuses_bad_values() {
        let compare = |value| {
            raw(vec![wit::IrNode::Compare(wit::Compare {
                field: "score".into(),
                op: wit::CompareOp::Gt,
                value,
            })])
        };
        assert!(check_predicate(compare(types::Value::Number(f64::NAN))).is_err());
        assert!(check_predicate(compare(types::Value::Date("2026-02-30".into()))).is_err());
        assert!(check_predicate(compare(types::Value::Date("2026-02-28".into()))).is_ok());
        assert!(check_predicate(raw(vec![null("name; DROP TABLE contacts")])).is_err());
        assert!(check_predicate(raw(vec![null("")])).is_err());
    }

    #[test]
    fn too_many_nodes() {
        let e = check_predicate(raw(vec![wit::IrNode::Always; MAX_IR_NODES + 1])).unwrap_err();
        assert!(e.contains("at most"), "{e}");
    }

    #[test]
    fn matches_answer_must_fit_the_batch() {
        assert!(check_matches(vec![true; 3], 3).is_ok());
        assert!(check_matches(vec![true; 2], 3).is_err());
    }
}
