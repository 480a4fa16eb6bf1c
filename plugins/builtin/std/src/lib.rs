//! `std`: the built-in value, text and list operators.
//!
//! Every operator lowers to exact SQL-side IR (`compare`, `range`, `text`, `in-set`,
//! `is-null`, `is-empty`, `not`): none needs a residual, so `matches` keeps the SDK's
//! default. Arguments are checked against the field's kind here, so a wrong value type
//! fails at planning time with the path of the bad argument (`value`, `value[1]`).

mod values;

use kartoteka_plugin_sdk::filter::*;
use kartoteka_plugin_sdk::prelude::*;

use values::{field_value, ordered};

/// The plugin.
pub struct Std;

/// Kinds holding text.
const TEXTS: &[FieldKind] = &[
    FieldKind::Text,
    FieldKind::LongText,
    FieldKind::Email,
    FieldKind::Phone,
    FieldKind::Url,
];
/// Kinds `eq` and `ne` compare.
const VALUES: &[FieldKind] = &[
    FieldKind::Text,
    FieldKind::LongText,
    FieldKind::Email,
    FieldKind::Phone,
    FieldKind::Url,
    FieldKind::Number,
    FieldKind::Integer,
    FieldKind::Money,
    FieldKind::Date,
    FieldKind::Datetime,
    FieldKind::Boolean,
    FieldKind::Select,
];
/// Kinds with an order.
const ORDERED: &[FieldKind] = &[
    FieldKind::Text,
    FieldKind::Number,
    FieldKind::Integer,
    FieldKind::Money,
    FieldKind::Date,
    FieldKind::Datetime,
];
/// Kinds that can be empty.
const EMPTIABLE: &[FieldKind] = &[
    FieldKind::Text,
    FieldKind::LongText,
    FieldKind::Email,
    FieldKind::Phone,
    FieldKind::Url,
    FieldKind::Number,
    FieldKind::Integer,
    FieldKind::Money,
    FieldKind::Date,
    FieldKind::Datetime,
    FieldKind::Boolean,
    FieldKind::Select,
    FieldKind::Multiselect,
    FieldKind::Geo,
];
/// Kinds `in_list` takes.
const LISTABLE: &[FieldKind] = &[
    FieldKind::Text,
    FieldKind::LongText,
    FieldKind::Email,
    FieldKind::Phone,
    FieldKind::Url,
    FieldKind::Number,
    FieldKind::Integer,
    FieldKind::Money,
    FieldKind::Date,
    FieldKind::Datetime,
    FieldKind::Select,
    FieldKind::Multiselect,
];

const SCALAR: &str = r#"{"type": ["string", "number", "boolean", "null"]}"#;
const ORDERED_SCALAR: &str = r#"{"type": ["string", "number"]}"#;
const PAIR: &str = r#"{"type": "array", "items": {"type": ["string", "number"]}, "minItems": 2, "maxItems": 2}"#;
const NOTHING: &str = r#"{"type": "null"}"#;
const STRING: &str = r#"{"type": "string"}"#;
const LIST: &str = r#"{"type": "array", "items": {"type": ["string", "number"]}}"#;

/// The operators: name, label, field kinds, argument schema.
const OPERATORS: &[(&str, &str, &[FieldKind], &str)] = &[
    ("eq", "equals", VALUES, SCALAR),
    ("ne", "does not equal", VALUES, SCALAR),
    ("gt", "is greater than", ORDERED, ORDERED_SCALAR),
    ("lt", "is less than", ORDERED, ORDERED_SCALAR),
    ("gte", "is at least", ORDERED, ORDERED_SCALAR),
    ("lte", "is at most", ORDERED, ORDERED_SCALAR),
    ("between", "is between", ORDERED, PAIR),
    ("is_empty", "is empty", EMPTIABLE, NOTHING),
    ("is_not_empty", "is not empty", EMPTIABLE, NOTHING),
    ("contains", "contains", TEXTS, STRING),
    ("not_contains", "does not contain", TEXTS, STRING),
    ("starts_with", "starts with", TEXTS, STRING),
    ("ends_with", "ends with", TEXTS, STRING),
    ("in_list", "is one of", LISTABLE, LIST),
    ("not_in_list", "is none of", LISTABLE, LIST),
];

impl FilterOperator for Std {
    fn describe() -> Description {
        Description {
            manifest: Manifest::new(
                "std",
                env!("CARGO_PKG_VERSION"),
                "Value, text and list comparisons on contact fields.",
            ),
            operators: OPERATORS
                .iter()
                .map(|&(name, label, kinds, schema)| OperatorInfo {
                    name: name.to_owned(),
                    label: label.to_owned(),
                    applies_to: kinds.to_vec(),
                    args_schema: schema.to_owned(),
                })
                .collect(),
        }
    }

    fn lower(op: &str, field: &FieldRef, args: &Args, _context: &LowerContext) -> Result<Predicate, PluginError> {
        let Some(&(_, _, kinds, _)) = OPERATORS.iter().find(|entry| entry.0 == op) else {
            return Err(PluginError::unknown_operator(op));
        };
        if !kinds.contains(&field.kind) {
            return Err(PluginError::new(format!(
                "std.{op} does not apply to {} (a {} field)",
                field.path,
                field.kind.as_str()
            )));
        }
        let path = field.path.as_str();
        let value = args.value();
        let mut b = PredicateBuilder::new();
        let root = match op {
            "eq" | "ne" if value.is_null() => {
                let null = b.is_null(path);
                if op == "eq" { null } else { b.not(null) }
            }
            "eq" => b.compare(path, CompareOp::Eq, field_value(field, &value)?),
            "ne" => b.compare(path, CompareOp::Ne, field_value(field, &value)?),
            "gt" => b.compare(path, CompareOp::Gt, field_value(field, &value)?),
            "lt" => b.compare(path, CompareOp::Lt, field_value(field, &value)?),
            "gte" => b.compare(path, CompareOp::Ge, field_value(field, &value)?),
            "lte" => b.compare(path, CompareOp::Le, field_value(field, &value)?),
            "between" => {
                let items = value.items()?;
                let [low, high] = items.as_slice() else {
                    return Err(value.error(format!("expected [low, high], found {} items", items.len())));
                };
                let (low, high) = (field_value(field, low)?, field_value(field, high)?);
                if !ordered(&low, &high) {
                    return Err(value.error("the low bound is greater than the high bound"));
                }
                b.range(path, low, high)
            }
            "is_empty" | "is_not_empty" => {
                if value.clone().optional().is_some() {
                    return Err(value.error(format!("std.{op} takes no value")));
                }
                let empty = empty(&mut b, field);
                if op == "is_empty" { empty } else { b.not(empty) }
            }
            "contains" | "not_contains" | "starts_with" | "ends_with" => {
                let needle = value.as_str()?;
                let mode = match op {
                    "starts_with" => TextMode::Prefix,
                    "ends_with" => TextMode::Suffix,
                    _ => TextMode::Contains,
                };
                let found = b.text(path, mode, needle, true);
                if op == "not_contains" { b.not(found) } else { found }
            }
            "in_list" | "not_in_list" => {
                let items = value.items()?;
                let values = items
                    .iter()
                    .map(|item| field_value(field, item))
                    .collect::<Result<Vec<_>, _>>()?;
                match (op, values.is_empty()) {
                    ("in_list", true) => b.never(),
                    (_, true) => b.always(),
                    ("in_list", false) => b.in_set(path, values),
                    (_, false) => {
                        let found = b.in_set(path, values);
                        b.not(found)
                    }
                }
            }
            _ => return Err(PluginError::unknown_operator(op)),
        };
        Ok(b.finish(root))
    }
}

/// Null, or for kinds that hold text or lists, null or empty.
fn empty(b: &mut PredicateBuilder, field: &FieldRef) -> Node {
    let null = b.is_null(&field.path);
    if TEXTS.contains(&field.kind) || field.kind == FieldKind::Multiselect {
        let empty = b.is_empty(&field.path);
        b.or(&[null, empty])
    } else {
        null
    }
}

export_filter_operator!(Std);

#[cfg(test)]
mod tests;
