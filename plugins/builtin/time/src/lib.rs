//! `time`: the built-in operators on dates and instants.
//!
//! `before`, `after` and `on` compare a date or datetime field with a day or an instant;
//! `within_last` and `not_within_last` with a period back from now
//! (`{"amount": 30, "unit": "days"}`). Every operator lowers to exact IR (`compare`,
//! `range`, `not`): none needs a residual, so `matches` keeps the SDK's default.
//!
//! - A **date** field (`fields.<key>` of kind date) compares with `Value::Date`, and its
//!   value is a day, `YYYY-MM-DD`.
//! - A **datetime** field (`created_at`, `updated_at`, `fields.<key>` of kind datetime)
//!   compares with `Value::Datetime` (seconds since the epoch, stored to the second). Its
//!   value is a day, which means that whole UTC day, or an instant (RFC 3339 or seconds
//!   since the epoch): `before 2024-05-31` is before its midnight, `after 2024-05-31` is
//!   from the next midnight on, `on` is the UTC day of the value.
//! - `within_last` is relative to `plan.now()`, the only clock a plugin sees: on a date
//!   field from the UTC date of now back by the period to that date, on a datetime field
//!   from now back by the period to now, both ends included. Months and years count on
//!   the calendar and clamp the day to the month's length (March 31 minus one month is
//!   the last day of February), see [`calendar::Period`].
//! - `not_within_last` is the negation, so a contact with no value matches it ("no
//!   purchase date within the last 30 days"); `before`, `after`, `on` and `within_last`
//!   never match one.

mod moment;

use kartoteka_plugin_sdk::calendar::{self, DAY, Period, date_of_instant, format_date, midnight};
use kartoteka_plugin_sdk::prelude::*;

use moment::Moment;

/// The plugin.
pub struct Time;

/// The kinds every operator applies to.
const KINDS: &[FieldKind] = &[FieldKind::Date, FieldKind::Datetime];

/// A day, or on datetime fields an instant.
const MOMENT: &str = r#"{"anyOf": [{"type": "string", "format": "date", "title": "Date (YYYY-MM-DD)"}, {"type": "string", "format": "date-time", "title": "Date and time (datetime fields)"}, {"type": "integer", "title": "Seconds since the epoch (datetime fields)"}]}"#;

/// One operator type per line: its type, name, label, argument schema, and how it lowers
/// (the value is read as a tree: a day, an instant or a period, by the field's kind).
macro_rules! operators {
    ($($ty:ident: $name:literal, $label:literal, $schema:expr => $lower:expr;)+) => {
        $(
            #[doc = concat!("`time.", $name, "`: ", $label, ".")]
            #[derive(Default)]
            pub struct $ty;

            impl Operator for $ty {
                const NAME: &'static str = $name;
                const LABEL: &'static str = $label;
                const APPLIES_TO: &'static [FieldKind] = KINDS;
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
    };
}

operators! {
    Before: "before", "is before", MOMENT => |f, v, p| moment("before", f, v, p);
    After: "after", "is after", MOMENT => |f, v, p| moment("after", f, v, p);
    On: "on", "is on", MOMENT => |f, v, p| moment("on", f, v, p);
    WithinLast: "within_last", "is within the last", Period::SCHEMA => |f, v, p| within(f, v, p, false);
    NotWithinLast: "not_within_last", "is not within the last", Period::SCHEMA => |f, v, p| within(f, v, p, true);
}

plugin!(Time {
    name: "time",
    description: "Dates and times: before, after, on a day, within the last N days, months or years.",
    operators: [Before, After, On, WithinLast, NotWithinLast],
});

/// `before`, `after`, `on`.
fn moment(op: &str, field: &Field, value: &Arg<'_>, b: &mut Plan<'_>) -> Result<Node, PluginError> {
    let datetime = field.kind == FieldKind::Datetime;
    let path = field.path.as_str();
    let moment = Moment::from_arg(value, datetime)?;
    Ok(match (op, moment) {
        ("before", Moment::Day(day)) if !datetime => b.compare(path, CompareOp::Lt, date(day)),
        ("before", Moment::Day(day)) => b.compare(path, CompareOp::Lt, Value::Datetime(midnight(day))),
        ("before", Moment::Instant(at)) => b.compare(path, CompareOp::Lt, Value::Datetime(at)),
        ("on", Moment::Day(day)) if !datetime => b.compare(path, CompareOp::Eq, date(day)),
        ("on", moment) => {
            let day = match moment {
                Moment::Day(day) => day,
                Moment::Instant(at) => date_of_instant(at),
            };
            let start = midnight(day);
            b.range(path, Value::Datetime(start), Value::Datetime(start + DAY - 1))
        }
        // "after"
        (_, Moment::Day(day)) if !datetime => b.compare(path, CompareOp::Gt, date(day)),
        // Strictly after that whole day: from the next midnight on.
        (_, Moment::Day(day)) => b.compare(path, CompareOp::Ge, Value::Datetime(midnight(day) + DAY)),
        (_, Moment::Instant(at)) => b.compare(path, CompareOp::Gt, Value::Datetime(at)),
    })
}

/// `within_last`, or negated `not_within_last`.
fn within(field: &Field, value: &Arg<'_>, b: &mut Plan<'_>, negated: bool) -> Result<Node, PluginError> {
    let path = field.path.as_str();
    let period = Period::from_arg(value)?;
    let too_far = || {
        let amount = value.get("amount");
        amount.map_or_else(|error| error, |amount| amount.error("reaches back before the year 1"))
    };
    let now = b.now();
    let within = if field.kind == FieldKind::Datetime {
        let Some(since) = period.before_instant(now) else {
            return Err(too_far());
        };
        b.range(path, Value::Datetime(since), Value::Datetime(now))
    } else {
        let today = date_of_instant(now);
        let Some(since) = period.before_date(today) else {
            return Err(too_far());
        };
        b.range(path, date(since), date(today))
    };
    Ok(if negated { b.not(within) } else { within })
}

/// A day as the IR's `Value::Date`.
fn date(day: calendar::Date) -> Value {
    Value::Date(format_date(day))
}

#[cfg(test)]
mod tests;
