//! The value of `before`, `after` and `on`: a day, or on datetime fields an instant.

use kartoteka_plugin_sdk::calendar::{DAY, Date, days_from_civil, parse_date, parse_datetime};
use kartoteka_plugin_sdk::prelude::*;

/// What a user compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// A whole day, `YYYY-MM-DD`.
    Day(Date),
    /// An instant, seconds since the epoch (datetime fields only).
    Instant(i64),
}

impl Moment {
    /// Reads `arg`: a `YYYY-MM-DD` string; on a datetime field (`datetime`) also an
    /// RFC 3339 string or a whole number of seconds since the epoch, between the years 1
    /// and 9999.
    pub fn from_arg(arg: &Arg<'_>, datetime: bool) -> Result<Self, PluginError> {
        let expected = || {
            let what = if datetime {
                "a date (YYYY-MM-DD), a date and time (RFC 3339, e.g. 2024-05-31T14:30:00Z) or seconds since the epoch"
            } else {
                "a date (YYYY-MM-DD)"
            };
            let found = match arg.node() {
                Some(ArgNode::Text(text)) => format!("{text:?}"),
                _ => arg.describe().to_owned(),
            };
            arg.error(format!("expected {what}, found {found}"))
        };
        let instant = |at: i64| {
            let first = days_from_civil(1, 1, 1) * DAY;
            let last = days_from_civil(10_000, 1, 1) * DAY - 1;
            if (first..=last).contains(&at) {
                Ok(Moment::Instant(at))
            } else {
                Err(arg.error("expected an instant between the years 1 and 9999"))
            }
        };
        match arg.node() {
            Some(ArgNode::Text(text)) => match parse_date(text) {
                Some(day) => Ok(Moment::Day(day)),
                None if datetime => parse_datetime(text).map_or_else(|| Err(expected()), instant),
                None => Err(expected()),
            },
            Some(ArgNode::Integer(at)) if datetime => instant(*at),
            _ => Err(expected()),
        }
    }
}
