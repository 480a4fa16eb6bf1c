//! `std`: the built-in value, text and list operators.
//!
//! Every operator lowers to exact SQL-side IR (`compare`, `range`, `text`, `in-set`,
//! `is-null`, `is-empty`, `not`): none needs a residual, so `matches` keeps the SDK's
//! default. Arguments are checked against the field's kind here, so a wrong value type
//! fails at planning time with the path of the bad argument (`value`, `value[1]`).

mod values;

use kartoteka_plugin_sdk::prelude::*;

use values::{field_value, ordered};

/// The plugin: the operators below.
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

/// One operator type per line: its type, name, label, field kinds, argument schema, and
/// the function that lowers it (the arguments are read as a tree, because what a value
/// must be depends on the field's kind).
macro_rules! operators {
    ($($ty:ident: $name:literal, $label:literal, $kinds:expr, $schema:expr => $lower:expr;)+) => {
        $(
            #[doc = concat!("`std.", $name, "`: ", $label, ".")]
            #[derive(Default)]
            pub struct $ty;

            impl Operator for $ty {
                const NAME: &'static str = $name;
                const LABEL: &'static str = $label;
                const APPLIES_TO: &'static [FieldKind] = $kinds;
                type Args = Args;

                fn args_schema() -> String {
                    $schema.to_owned()
                }

                fn lower(&self, field: &Field, args: &Args, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
                    let lower: fn(&Field, &Arg<'_>, &mut Plan<'_>) -> Result<Node, PluginError> = $lower;
                    lower(field, &args.value(), plan)
                }
            }
        )+

        plugin!(Std {
            name: "std",
            description: "Value, text and list comparisons on contact fields.",
            operators: [$($ty),+],
        });
    };
}

operators! {
    Eq: "eq", "equals", VALUES, SCALAR => |f, v, p| equals(f, v, p, false);
    Ne: "ne", "does not equal", VALUES, SCALAR => |f, v, p| equals(f, v, p, true);
    Gt: "gt", "is greater than", ORDERED, ORDERED_SCALAR => |f, v, p| compare(f, v, p, CompareOp::Gt);
    Lt: "lt", "is less than", ORDERED, ORDERED_SCALAR => |f, v, p| compare(f, v, p, CompareOp::Lt);
    Gte: "gte", "is at least", ORDERED, ORDERED_SCALAR => |f, v, p| compare(f, v, p, CompareOp::Ge);
    Lte: "lte", "is at most", ORDERED, ORDERED_SCALAR => |f, v, p| compare(f, v, p, CompareOp::Le);
    Between: "between", "is between", ORDERED, PAIR => between;
    IsEmpty: "is_empty", "is empty", EMPTIABLE, NOTHING => |f, v, p| emptiness(f, v, p, "is_empty", false);
    IsNotEmpty: "is_not_empty", "is not empty", EMPTIABLE, NOTHING => |f, v, p| emptiness(f, v, p, "is_not_empty", true);
    Contains: "contains", "contains", TEXTS, STRING => |f, v, p| text(f, v, p, TextMode::Contains, false);
    NotContains: "not_contains", "does not contain", TEXTS, STRING => |f, v, p| text(f, v, p, TextMode::Contains, true);
    StartsWith: "starts_with", "starts with", TEXTS, STRING => |f, v, p| text(f, v, p, TextMode::Prefix, false);
    EndsWith: "ends_with", "ends with", TEXTS, STRING => |f, v, p| text(f, v, p, TextMode::Suffix, false);
    InList: "in_list", "is one of", LISTABLE, LIST => |f, v, p| listed(f, v, p, false);
    NotInList: "not_in_list", "is none of", LISTABLE, LIST => |f, v, p| listed(f, v, p, true);
}

/// `eq` and `ne`: a comparison, or for `null` a null test.
fn equals(field: &Field, value: &Arg<'_>, b: &mut Plan<'_>, negated: bool) -> Result<Node, PluginError> {
    if value.is_null() {
        let null = b.is_null(&field.path);
        return Ok(if negated { b.not(null) } else { null });
    }
    let op = if negated { CompareOp::Ne } else { CompareOp::Eq };
    Ok(b.compare(&field.path, op, field_value(field, value)?))
}

/// `gt`, `lt`, `gte`, `lte`.
fn compare(field: &Field, value: &Arg<'_>, b: &mut Plan<'_>, op: CompareOp) -> Result<Node, PluginError> {
    Ok(b.compare(&field.path, op, field_value(field, value)?))
}

/// `between`: `[low, high]`, both included.
fn between(field: &Field, value: &Arg<'_>, b: &mut Plan<'_>) -> Result<Node, PluginError> {
    let items = value.items()?;
    let [low, high] = items.as_slice() else {
        return Err(value.error(format!("expected [low, high], found {} items", items.len())));
    };
    let (low, high) = (field_value(field, low)?, field_value(field, high)?);
    if !ordered(&low, &high) {
        return Err(value.error("the low bound is greater than the high bound"));
    }
    Ok(b.range(&field.path, low, high))
}

/// `is_empty` and `is_not_empty`, which take no value.
fn emptiness(field: &Field, value: &Arg<'_>, b: &mut Plan<'_>, op: &str, negated: bool) -> Result<Node, PluginError> {
    if value.clone().optional().is_some() {
        return Err(value.error(format!("std.{op} takes no value")));
    }
    let empty = empty(b, field);
    Ok(if negated { b.not(empty) } else { empty })
}

/// The text operators: folded matches (case and accents don't count).
fn text(field: &Field, value: &Arg<'_>, b: &mut Plan<'_>, mode: TextMode, negated: bool) -> Result<Node, PluginError> {
    let found = b.text(&field.path, mode, value.as_str()?, true);
    Ok(if negated { b.not(found) } else { found })
}

/// `in_list` and `not_in_list`; an empty list is "never" and "always".
fn listed(field: &Field, value: &Arg<'_>, b: &mut Plan<'_>, negated: bool) -> Result<Node, PluginError> {
    let values = value
        .items()?
        .iter()
        .map(|item| field_value(field, item))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(match (negated, values.is_empty()) {
        (false, true) => b.never(),
        (true, true) => b.always(),
        (false, false) => b.in_set(&field.path, values),
        (true, false) => {
            let found = b.in_set(&field.path, values);
            b.not(found)
        }
    })
}

/// Null, or for kinds that hold text or lists, null or empty.
fn empty(b: &mut PredicateBuilder, field: &Field) -> Node {
    let null = b.is_null(&field.path);
    if TEXTS.contains(&field.kind) || field.kind == FieldKind::Multiselect {
        let empty = b.is_empty(&field.path);
        b.or(&[null, empty])
    } else {
        null
    }
}

#[cfg(test)]
mod tests;
