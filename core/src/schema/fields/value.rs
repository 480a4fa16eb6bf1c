//! Field values: validation on write and conversion between kinds (the kinds themselves are
//! the kernel's [`FieldKind`], re-exported here).
//!
//! Stored forms (inside `contacts.fields`):
//!
//! | kind | JSON | example |
//! |---|---|---|
//! | text, long_text, email, phone, url | string | `"Łódź"` |
//! | number | number | `12.5` |
//! | integer | integer | `42` |
//! | money | number, at most 2 decimals | `1999.99` |
//! | date | `"YYYY-MM-DD"` | `"2026-11-23"` |
//! | datetime | RFC 3339 in UTC, whole seconds | `"2026-11-23T14:05:00Z"` |
//! | boolean | bool | `true` |
//! | select | one of the options | `"IT"` |
//! | multiselect | array of distinct options | `["CRM", "Cloud"]` |
//! | geo | `{"lat": f64, "lon": f64}` | `{"lat": 50.06, "lon": 19.94}` |
//!
//! Dates and datetimes are fixed-width strings so that they compare correctly as text in
//! SQL on both databases.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Number, Value, json};

pub use crate::kernel::kinds::FieldKind;
use crate::kernel::validate::valid_email;

const MAX_TEXT: usize = 1_000;
const MAX_LONG_TEXT: usize = 100_000;

/// Whether a value counts as "no value" (null, empty string, empty list).
pub fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Checks `value` against a field of `kind` and returns its stored form, or says why not.
///
/// Lenient where people are: numbers may arrive as strings (`"12,5"` from a form, read by
/// [`parse_decimal`], which refuses what it would have to guess),
/// booleans as `"true"`/`"on"`, a datetime with any offset (stored in UTC).
pub fn normalize(kind: FieldKind, options: &[String], value: &Value) -> Result<Value, String> {
    match kind {
        FieldKind::Text => text(value, MAX_TEXT).map(Value::String),
        FieldKind::LongText => text(value, MAX_LONG_TEXT).map(Value::String),
        FieldKind::Email => {
            let s = text(value, 254)?;
            if valid_email(&s) {
                Ok(Value::String(s))
            } else {
                Err(format!("`{s}` is not an email address"))
            }
        }
        FieldKind::Phone => {
            let s = text(value, 40)?;
            if valid_phone(&s) {
                Ok(Value::String(s))
            } else {
                Err(format!(
                    "`{s}` is not a phone number (digits, spaces, +, -, parentheses)"
                ))
            }
        }
        FieldKind::Url => {
            let s = text(value, 2_000)?;
            if valid_url(&s) {
                Ok(Value::String(s))
            } else {
                Err(format!("`{s}` is not an http(s) URL"))
            }
        }
        FieldKind::Number => number(value).and_then(finite).map(Value::from),
        FieldKind::Money => {
            let n = number(value).and_then(finite)?;
            let cents = (n * 100.0).round();
            if ((cents / 100.0) - n).abs() > 1e-9 * n.abs().max(1.0) {
                return Err(format!("{n} has more than 2 decimal places"));
            }
            if n.abs() > 1e13 {
                return Err("amount is too large".into());
            }
            Ok(Value::from(cents / 100.0))
        }
        FieldKind::Integer => integer(value).map(Value::from),
        FieldKind::Boolean => boolean(value).map(Value::Bool),
        FieldKind::Date => {
            let s = text(value, 40)?;
            NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .map_err(|_| format!("`{s}` is not a date (YYYY-MM-DD)"))
        }
        FieldKind::Datetime => {
            let s = text(value, 60)?;
            parse_datetime(&s)
                .map(|d| Value::String(d.to_rfc3339_opts(SecondsFormat::Secs, true)))
                .ok_or_else(|| format!("`{s}` is not a date and time (RFC 3339, e.g. 2026-11-23T14:05:00Z)"))
        }
        FieldKind::Select => {
            let s = text(value, MAX_TEXT)?;
            if options.contains(&s) {
                Ok(Value::String(s))
            } else {
                Err(format!("`{s}` is not one of the options: {}", options.join(", ")))
            }
        }
        FieldKind::Multiselect => {
            let items: Vec<Value> = match value {
                Value::Array(items) => items.clone(),
                Value::String(s) => s
                    .split(',')
                    .map(|p| Value::String(p.trim().to_owned()))
                    .filter(|v| !is_blank(v))
                    .collect(),
                other => {
                    return Err(format!("expected a list of options, got {}", type_name(other)));
                }
            };
            let mut out: Vec<String> = Vec::with_capacity(items.len());
            for item in &items {
                let s = text(item, MAX_TEXT)?;
                if !options.contains(&s) {
                    return Err(format!("`{s}` is not one of the options: {}", options.join(", ")));
                }
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            Ok(json!(out))
        }
        FieldKind::Geo => {
            let lat = value
                .get("lat")
                .map(number)
                .transpose()?
                .ok_or("expected {\"lat\": .., \"lon\": ..}")?;
            let lon = value
                .get("lon")
                .map(number)
                .transpose()?
                .ok_or("expected {\"lat\": .., \"lon\": ..}")?;
            check_lat_lon(lat, lon)?;
            Ok(json!({"lat": lat, "lon": lon}))
        }
        FieldKind::Activity | FieldKind::Location | FieldKind::Segment | FieldKind::ContactType => {
            Err(format!("no field is of kind {kind}"))
        }
    }
}

/// Converts a stored value of kind `from` into kind `to` (with `options` for selects), or
/// says why it can't be converted without losing information.
pub fn convert(from: FieldKind, to: FieldKind, options: &[String], value: &Value) -> Result<Value, String> {
    if from == to {
        return normalize(to, options, value);
    }
    // Everything has a faithful text form.
    let as_text = || -> String {
        match value {
            Value::String(s) => s.clone(),
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", "),
            other => other.to_string(),
        }
    };
    match (from, to) {
        (_, FieldKind::Text | FieldKind::LongText) => normalize(to, options, &Value::String(as_text())),
        (FieldKind::Multiselect, FieldKind::Select) => match value.as_array().map(Vec::as_slice) {
            Some([single]) => normalize(to, options, single),
            Some([]) => Err("the list is empty".into()),
            _ => Err("a select holds one option; this value has several".into()),
        },
        (FieldKind::Select, FieldKind::Multiselect) => normalize(to, options, &json!([value])),
        (FieldKind::Integer, FieldKind::Number | FieldKind::Money) | (FieldKind::Money, FieldKind::Number) => {
            normalize(to, options, value)
        }
        (FieldKind::Number | FieldKind::Money, FieldKind::Integer) => {
            let n = value.as_f64().ok_or("not a number")?;
            if n.fract() != 0.0 {
                return Err(format!("{n} is not a whole number"));
            }
            normalize(to, options, value)
        }
        (FieldKind::Datetime, FieldKind::Date) => {
            let s = value.as_str().ok_or("not a datetime")?;
            let at = parse_datetime(s).ok_or("not a datetime")?;
            if at.time() != chrono::NaiveTime::MIN {
                return Err(format!("`{s}` has a time of day that a date would drop"));
            }
            Ok(Value::String(at.format("%Y-%m-%d").to_string()))
        }
        (FieldKind::Date, FieldKind::Datetime) => {
            let s = value.as_str().ok_or("not a date")?;
            normalize(to, options, &Value::String(format!("{s}T00:00:00Z")))
        }
        // Text and the rest: parse the text form as the new kind.
        _ => normalize(to, options, &Value::String(as_text())),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn text(value: &Value, max: usize) -> Result<String, String> {
    match value {
        Value::String(s) => {
            let s = s.trim();
            if s.chars().count() > max {
                Err(format!("is longer than {max} characters"))
            } else if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
                Err("contains control characters".into())
            } else {
                Ok(s.to_owned())
            }
        }
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected text, got {}", type_name(other))),
    }
}

fn number(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| "not a number".into()),
        Value::String(s) => parse_decimal(s),
        other => Err(format!("expected a number, got {}", type_name(other))),
    }
}

/// Reads a decimal number as people type it, never guessing.
///
/// - The decimal separator is `.` or `,` (`1,5` and `1.5` are both 1.5): one of them, once.
/// - A comma followed by exactly three digits (`1,500`) could be a decimal comma or a
///   thousands separator; it is refused as ambiguous rather than read one way (`0,125`,
///   with a zero before it, can only be a decimal).
/// - Digits may be grouped by three with spaces (`1 500`, `12 345,67`); any other space
///   inside the number is refused, so `1 5` never becomes 15.
/// - Both separators (`1.234,5`, `1,234.5`) are refused: which one is decimal depends on
///   the writer's country.
///
/// Used for number and money fields in the API and the forms alike, and for the forms'
/// numeric inputs (latitude, an activity's amount).
pub fn parse_decimal(text: &str) -> Result<f64, String> {
    let s = text.trim();
    let refuse = |why: &str| Err(format!("`{s}` is not a number{why}"));
    if s.is_empty() {
        return refuse("");
    }
    // Spaces (normal, no-break, narrow no-break) only between groups of three digits.
    let groups: Vec<&str> = s.split([' ', '\u{a0}', '\u{202f}']).collect();
    if groups.len() > 1 {
        let well_grouped = groups.iter().enumerate().all(|(i, g)| {
            let digits = if i + 1 == groups.len() {
                g.split(['.', ',']).next().unwrap_or("")
            } else {
                g
            };
            let digits = if i == 0 {
                digits.trim_start_matches(['-', '+'])
            } else {
                digits
            };
            let all_digits = !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit());
            all_digits && (if i == 0 { digits.len() <= 3 } else { digits.len() == 3 })
        });
        if !well_grouped {
            return refuse(" (spaces may only group digits by three, as in 1 500)");
        }
    }
    let joined: String = groups.concat();
    let commas = joined.matches(',').count();
    let dots = joined.matches('.').count();
    let canonical = match (commas, dots) {
        (0, _) => joined,
        (1, 0) => {
            let (whole, decimals) = joined.split_once(',').unwrap_or((&joined, ""));
            let whole_digits = whole.trim_start_matches(['-', '+']);
            if decimals.len() == 3 && !whole_digits.trim_start_matches('0').is_empty() {
                return Err(format!(
                    "`{s}` is ambiguous: write {whole}{decimals} (thousands) or {whole}.{decimals} (a decimal)"
                ));
            }
            joined.replacen(',', ".", 1)
        }
        _ => {
            return refuse(" (use one decimal separator, a point or a comma, and no thousands separators)");
        }
    };
    if !canonical
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
    {
        return refuse("");
    }
    canonical.parse::<f64>().or_else(|_| refuse(""))
}

fn finite(n: f64) -> Result<f64, String> {
    if n.is_finite() {
        Ok(n)
    } else {
        Err("expected a finite number".into())
    }
}

fn integer(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| format!("expected a whole number, got {n}")),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("expected a whole number, got `{}`", s.trim())),
        other => Err(format!("expected a whole number, got {}", type_name(other))),
    }
}

fn boolean(value: &Value) -> Result<bool, String> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            other => Err(format!("expected true or false, got `{other}`")),
        },
        Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => Ok(n.as_i64() == Some(1)),
        other => Err(format!("expected true or false, got {}", type_name(other))),
    }
}

/// Parses RFC 3339, or a form's `YYYY-MM-DDTHH:MM` (taken as UTC), into UTC whole seconds.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    use chrono::SubsecRound;
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
                .ok()
                .map(|n| n.and_utc())
        })
        .map(|d| d.trunc_subsecs(0))
}

/// Digits with the usual separators, 5 to 20 digits, an optional leading `+`.
pub fn valid_phone(s: &str) -> bool {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    let body = s.strip_prefix('+').unwrap_or(s);
    (5..=20).contains(&digits)
        && body
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '.' | '/'))
}

/// An absolute `http` or `https` URL with a host.
pub fn valid_url(s: &str) -> bool {
    let rest = s.strip_prefix("https://").or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// Checks a latitude/longitude pair.
pub fn check_lat_lon(lat: f64, lon: f64) -> Result<(), String> {
    if !(-90.0..=90.0).contains(&lat) {
        return Err(format!("latitude {lat} is outside -90..90"));
    }
    if !(-180.0..=180.0).contains(&lon) {
        return Err(format!("longitude {lon} is outside -180..180"));
    }
    Ok(())
}

/// A number as JSON, integral when it is whole.
pub fn json_number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
#[path = "value_tests.rs"]
mod tests;
