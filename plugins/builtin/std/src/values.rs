//! An argument read as a value of the field's kind.

use kartoteka_plugin_sdk::calendar::{parse_date, parse_datetime};
use kartoteka_plugin_sdk::prelude::*;

/// `arg` as a value the field can hold, or an error at the argument's path.
///
/// Text kinds take a string; number and money a number; integer a whole number; date a
/// `YYYY-MM-DD` string; datetime seconds since the epoch or an RFC 3339 string; boolean
/// a boolean; select and multiselect one of the field's options.
pub fn field_value(field: &Field, arg: &Arg<'_>) -> Result<Value, PluginError> {
    Ok(match field.kind {
        FieldKind::Text | FieldKind::LongText | FieldKind::Email | FieldKind::Phone | FieldKind::Url => {
            Value::Text(arg.as_str()?.to_owned())
        }
        FieldKind::Number | FieldKind::Money => Value::Number(arg.as_f64()?),
        FieldKind::Integer => Value::Integer(arg.as_i64()?),
        FieldKind::Boolean => Value::Boolean(arg.as_bool()?),
        FieldKind::Date => {
            let text = arg.as_str().map_err(|_| arg.error(expected_date(arg)))?;
            parse_date(text).ok_or_else(|| arg.error(expected_date(arg)))?;
            Value::Date(text.to_owned())
        }
        FieldKind::Datetime => match arg.node() {
            Some(ArgNode::Integer(seconds)) => Value::Datetime(*seconds),
            Some(ArgNode::Text(text)) => {
                Value::Datetime(parse_datetime(text).ok_or_else(|| arg.error(expected_instant(arg)))?)
            }
            _ => return Err(arg.error(expected_instant(arg))),
        },
        FieldKind::Select | FieldKind::Multiselect => {
            let option = arg.as_str()?;
            if !field.options.is_empty() && !field.options.iter().any(|o| o == option) {
                return Err(arg.error(format!(
                    "{option:?} is not an option of {}; expected one of: {}",
                    field.path,
                    field.options.join(", ")
                )));
            }
            Value::Text(option.to_owned())
        }
        FieldKind::Geo | FieldKind::Activity | FieldKind::Location | FieldKind::Segment | FieldKind::ContactType => {
            return Err(arg.error(format!("a {} field can't be compared to a value", field.kind.as_str())));
        }
    })
}

fn expected_date(arg: &Arg<'_>) -> String {
    format!("expected a date (YYYY-MM-DD), found {}", found(arg))
}

fn expected_instant(arg: &Arg<'_>) -> String {
    format!(
        "expected a date and time (RFC 3339, e.g. 2024-05-31T14:30:00Z) or seconds since the epoch, found {}",
        found(arg)
    )
}

fn found(arg: &Arg<'_>) -> String {
    match arg.node() {
        Some(ArgNode::Text(text)) => format!("{text:?}"),
        _ => arg.describe().to_owned(),
    }
}

/// Whether `low <= high`, for values of the same kind (others count as ordered: the
/// database decides).
pub fn ordered(low: &Value, high: &Value) -> bool {
    match (low, high) {
        (Value::Integer(a), Value::Integer(b)) | (Value::Datetime(a), Value::Datetime(b)) => a <= b,
        (Value::Number(a), Value::Number(b)) => a <= b,
        (Value::Date(a), Value::Date(b)) => a <= b,
        _ => true,
    }
}
