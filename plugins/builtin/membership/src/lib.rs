//! `membership`: the built-in operators on what a contact belongs to.
//!
//! - `is` on `type`: the contact's type is the given one or one of its descendants
//!   ("lead" takes in "cold", "warm", ...). The host passes every contact type as a
//!   lineage path in the field's options (`lead`, `lead/cold`, `employee/staff`), so the
//!   subtree is computed here, once per query, and lowered to an `in-set` of type keys.
//! - `in_band` on `score_band`: the contact's score band is the given one, or one of the
//!   given ones.
//! - `in_segment`, `not_in_segment` on `segment`: the contact is (is not) a member of the
//!   segment with the given id.
//!
//! Every operator lowers to exact IR (`in-set`, `not`): no residual.

use kartoteka_plugin_sdk::filter::*;
use kartoteka_plugin_sdk::prelude::*;

/// The plugin.
pub struct Membership;

/// The one select field `in_band` applies to.
const SCORE_BAND: &str = "score_band";

const TYPE_KEY: &str = r#"{"type": "string", "minLength": 1, "title": "Contact type (with its subtypes)"}"#;
const BANDS: &str = r#"{"anyOf": [{"type": "string", "minLength": 1, "title": "Band"}, {"type": "array", "items": {"type": "string", "minLength": 1}, "title": "Any of these bands"}]}"#;
const SEGMENT_ID: &str = r#"{"type": "integer", "minimum": 1, "title": "Segment"}"#;

/// The operators: name, label, the kind of field, argument schema.
const OPERATORS: &[(&str, &str, FieldKind, &str)] = &[
    ("is", "is a", FieldKind::ContactType, TYPE_KEY),
    ("in_band", "is in band", FieldKind::Select, BANDS),
    ("in_segment", "is in segment", FieldKind::Segment, SEGMENT_ID),
    ("not_in_segment", "is not in segment", FieldKind::Segment, SEGMENT_ID),
];

impl FilterOperator for Membership {
    fn describe() -> Description {
        Description {
            manifest: Manifest::new(
                "membership",
                env!("CARGO_PKG_VERSION"),
                "What a contact belongs to: its contact type (with the subtypes), its score band, segments.",
            ),
            operators: OPERATORS
                .iter()
                .map(|&(name, label, kind, schema)| OperatorInfo {
                    name: name.to_owned(),
                    label: label.to_owned(),
                    applies_to: vec![kind],
                    args_schema: schema.to_owned(),
                })
                .collect(),
        }
    }

    fn lower(op: &str, field: &FieldRef, args: &Args, _context: &LowerContext) -> Result<Predicate, PluginError> {
        let Some(&(_, _, kind, _)) = OPERATORS.iter().find(|entry| entry.0 == op) else {
            return Err(PluginError::unknown_operator(op));
        };
        if field.kind != kind || (op == "in_band" && field.path != SCORE_BAND) {
            let applies = match kind {
                FieldKind::ContactType => "type",
                FieldKind::Select => SCORE_BAND,
                _ => "segment",
            };
            return Err(PluginError::new(format!(
                "membership.{op} applies to {applies}, not to {} (a {} field)",
                field.path,
                field.kind.as_str()
            )));
        }
        let path = field.path.as_str();
        let value = args.value();
        let mut b = PredicateBuilder::new();
        let root = match op {
            "is" => {
                let keys = subtree(&field.options, &value)?;
                b.in_set(path, keys.into_iter().map(Value::from).collect())
            }
            "in_band" => {
                let bands = bands(field, &value)?;
                if bands.is_empty() {
                    b.never()
                } else {
                    b.in_set(path, bands.into_iter().map(Value::from).collect())
                }
            }
            _ => {
                let id = value.as_i64()?;
                if id < 1 {
                    return Err(value.error("expected a segment id, a whole number 1 or more"));
                }
                let member = b.in_set(path, vec![Value::Integer(id)]);
                if op == "not_in_segment" { b.not(member) } else { member }
            }
        };
        Ok(b.finish(root))
    }
}

/// The key of the type `value` names and the keys of all its descendants, from the
/// lineage paths of every type (`lead`, `lead/cold`, ...). `value` is a type key
/// (`lead`), or a lineage path as the field's options spell it (`lead/cold`).
fn subtree<'a>(lineages: &'a [String], value: &Arg<'_>) -> Result<Vec<&'a str>, PluginError> {
    let wanted = value.as_str()?;
    let paths: Vec<Vec<&str>> = lineages.iter().map(|lineage| lineage.split('/').collect()).collect();
    let key = |path: &[&'a str]| path.last().copied().unwrap_or_default();
    let found = paths
        .iter()
        .find(|path| key(path) == wanted)
        .or_else(|| {
            lineages
                .iter()
                .position(|lineage| lineage == wanted)
                .and_then(|at| paths.get(at))
        })
        .map(|path| key(path));
    let Some(wanted) = found else {
        let known: Vec<&str> = paths.iter().map(|path| key(path)).collect();
        return Err(value.error(if known.is_empty() {
            format!("unknown contact type {wanted:?}; no contact type is defined")
        } else {
            format!("unknown contact type {wanted:?}; expected one of: {}", known.join(", "))
        }));
    };
    let mut keys = vec![wanted];
    for path in &paths {
        let key = key(path);
        if path.contains(&wanted) && !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// The band names of `in_band`: a name or a list of names, each one of the field's
/// options when the host lists them.
fn bands<'a>(field: &FieldRef, value: &Arg<'a>) -> Result<Vec<&'a str>, PluginError> {
    let items = match value.node() {
        Some(ArgNode::List(_)) => value.items()?,
        _ => vec![value.clone()],
    };
    items
        .iter()
        .map(|item| {
            let band = item
                .as_str()
                .map_err(|_| item.error(format!("expected a band name, found {}", item.describe())))?;
            if band.is_empty() {
                return Err(item.error("expected a band name, found an empty string"));
            }
            if !field.options.is_empty() && !field.options.iter().any(|option| option == band) {
                return Err(item.error(format!(
                    "unknown band {band:?}; expected one of: {}",
                    field.options.join(", ")
                )));
            }
            Ok(band)
        })
        .collect()
}

export_filter_operator!(Membership);

#[cfg(test)]
mod tests;
