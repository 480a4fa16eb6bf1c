//! Dates and instants as filters write them, without a clock or a time-zone database.
//!
//! A plugin sees no clock but `LowerContext::now`; these helpers turn the strings users
//! type (`2024-05-31`, `2024-05-31T14:30:00+02:00`) into what the IR carries: a checked
//! `YYYY-MM-DD` for `Value::Date`, seconds since the Unix epoch for `Value::Datetime`.
//!
//! Relative periods (`{"amount": 3, "unit": "months"}`, "within the last 3 months") are
//! [`Period`]s: days count back whole days, months and years count back on the calendar,
//! clamping the day to the length of the month it lands in (2024-03-31 minus one month is
//! 2024-02-29). Dates are `(year, month, day)` triples of the proleptic Gregorian
//! calendar; instants are seconds since the Unix epoch, read in UTC.

use crate::{Arg, PluginError};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// A calendar date: `(year, month 1-12, day 1-31)`.
pub type Date = (i64, u32, u32);

/// `(year, month, day)` of a `YYYY-MM-DD` string, if it is a real calendar date.
pub fn parse_date(text: &str) -> Option<(i64, u32, u32)> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
        return None;
    }
    let year = digits(text.get(0..4)?)?;
    let month = u32::try_from(digits(text.get(5..7)?)?).ok()?;
    let day = u32::try_from(digits(text.get(8..10)?)?).ok()?;
    (1..=12).contains(&month).then_some(())?;
    (1..=days_in_month(year, month))
        .contains(&day)
        .then_some((year, month, day))
}

/// Seconds since the Unix epoch of an RFC 3339 instant (`2024-05-31T14:30:00Z`,
/// `2024-05-31 14:30:00.250+02:00`); without an offset the time is UTC, and a bare date
/// is its midnight, UTC. Fractions of a second are dropped.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let date = parse_date(text.get(0..10)?)?;
    let midnight = days_from_civil(date.0, date.1, date.2) * DAY;
    let rest = text.get(10..)?;
    if rest.is_empty() {
        return Some(midnight);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let hour = digits(rest.get(0..2)?)?;
    (rest.get(2..3)? == ":").then_some(())?;
    let minute = digits(rest.get(3..5)?)?;
    let mut rest = rest.get(5..)?;
    let mut second = 0;
    if let Some(after) = rest.strip_prefix(':') {
        second = digits(after.get(0..2)?)?;
        rest = after.get(2..)?;
        if let Some(fraction) = rest.strip_prefix('.') {
            let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
            (len > 0).then_some(())?;
            rest = fraction.get(len..)?;
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = match rest {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match rest.get(0..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            (rest.len() == 6 && rest.get(3..4)? == ":").then_some(())?;
            let (oh, om) = (digits(rest.get(1..3)?)?, digits(rest.get(4..6)?)?);
            (oh <= 23 && om <= 59).then_some(sign * (oh * 3600 + om * 60))?
        }
    };
    Some(midnight + hour * 3600 + minute * 60 + second.min(59) - offset)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (negative before it).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number (days since 1970-01-01, negative before it): the inverse of
/// [`days_from_civil`].
pub fn civil_from_days(days: i64) -> Date {
    // Howard Hinnant's `civil_from_days`, in 128 bits so that no `i64` overflows.
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i128::from(month <= 2);
    // `day` is 1..=31 and `month` 1..=12; the year of an `i64` day number fits an `i64`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    (year as i64, month as u32, day as u32)
}

/// The UTC date of an instant (seconds since the Unix epoch).
pub fn date_of_instant(seconds: i64) -> Date {
    civil_from_days(seconds.div_euclid(DAY))
}

/// Midnight, UTC, at the start of `date`, in seconds since the Unix epoch.
pub fn midnight(date: Date) -> i64 {
    days_from_civil(date.0, date.1, date.2) * DAY
}

/// `YYYY-MM-DD`, what `Value::Date` carries (years outside 0-9999 get more digits or a sign).
pub fn format_date(date: Date) -> String {
    format!("{:04}-{:02}-{:02}", date.0, date.1, date.2)
}

/// `date` moved by `months` calendar months (back when negative), the day clamped to the
/// length of the month it lands in: 2024-01-31 plus one month is 2024-02-29, 2023-03-31
/// minus one month is 2023-02-28. `None` if the year would overflow.
pub fn shift_months(date: Date, months: i64) -> Option<Date> {
    let (year, month, day) = date;
    let index = year
        .checked_mul(12)?
        .checked_add(i64::from(month) - 1)?
        .checked_add(months)?;
    let year = index.div_euclid(12);
    // `rem_euclid(12)` is 0..=11.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let month = index.rem_euclid(12) as u32 + 1;
    Some((year, month, day.min(days_in_month(year, month))))
}

/// A unit of a relative [`Period`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Days,
    Months,
    Years,
}

impl Unit {
    /// Every unit, as arguments spell them.
    pub const NAMES: [&'static str; 3] = ["days", "months", "years"];

    /// The unit named `name` (`days`, `months`, `years`).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "days" => Some(Unit::Days),
            "months" => Some(Unit::Months),
            "years" => Some(Unit::Years),
            _ => None,
        }
    }
}

/// A relative period, `{"amount": 30, "unit": "days"}` in a filter: "the last 30 days".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    /// How many units, 0 or more.
    pub amount: i64,
    pub unit: Unit,
}

impl Period {
    /// The JSON Schema of a period's argument, for `args_schema`.
    pub const SCHEMA: &'static str = r#"{"type": "object", "properties": {"amount": {"type": "integer", "minimum": 0, "title": "Amount"}, "unit": {"type": "string", "enum": ["days", "months", "years"], "title": "Unit"}}, "required": ["amount", "unit"], "additionalProperties": false}"#;

    /// Reads `{"amount": N, "unit": "days" | "months" | "years"}` (N a whole number, 0 or
    /// more; no other key), with errors at the argument's path: `value.within.unit:
    /// expected one of days, months, years`.
    pub fn from_arg(arg: &Arg<'_>) -> Result<Self, PluginError> {
        arg.deny_unknown_keys(&["amount", "unit"])?;
        let amount_arg = arg.get("amount")?;
        let amount = amount_arg.as_i64()?;
        if amount < 0 {
            return Err(amount_arg.error("expected a whole number, 0 or more"));
        }
        let unit_arg = arg.get("unit")?;
        let unit = unit_arg
            .as_str()
            .ok()
            .and_then(Unit::from_name)
            .ok_or_else(|| unit_arg.error(format!("expected one of {}", Unit::NAMES.join(", "))))?;
        Ok(Period { amount, unit })
    }

    /// The date this period before `date`; `None` when that falls before the year 1.
    pub fn before_date(self, date: Date) -> Option<Date> {
        let back = match self.unit {
            Unit::Days => {
                let days = days_from_civil(date.0, date.1, date.2).checked_sub(self.amount)?;
                (days >= days_from_civil(1, 1, 1)).then(|| civil_from_days(days))?
            }
            Unit::Months => shift_months(date, self.amount.checked_neg()?)?,
            Unit::Years => shift_months(date, self.amount.checked_mul(12)?.checked_neg()?)?,
        };
        (back.0 >= 1).then_some(back)
    }

    /// The instant this period before `now`, at the same time of day (UTC) for months and
    /// years; `None` when that falls before the year 1.
    pub fn before_instant(self, now: i64) -> Option<i64> {
        let time_of_day = now.rem_euclid(DAY);
        let date = self.before_date(date_of_instant(now))?;
        Some(midnight(date) + time_of_day)
    }
}

/// The number of days of `month` (1-12) in `year`.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("2024-02-29"), Some((2024, 2, 29)));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("2024-1-01"), None);
        assert_eq!(parse_date("24-01-01xx"), None);
    }

    #[test]
    fn instants() {
        assert_eq!(parse_datetime("1970-01-01"), Some(0));
        assert_eq!(parse_datetime("1970-01-02T00:00:00Z"), Some(DAY));
        assert_eq!(parse_datetime("2024-05-31T14:30:00Z"), Some(1_717_165_800));
        assert_eq!(parse_datetime("2024-05-31T16:30:00.5+02:00"), Some(1_717_165_800));
        assert_eq!(parse_datetime("2024-05-31 14:30"), Some(1_717_165_800));
        assert_eq!(parse_datetime("1969-12-31T23:59:59Z"), Some(-1));
        assert_eq!(parse_datetime("2024-05-31T25:00:00Z"), None);
        assert_eq!(parse_datetime("2024-05-31T14:30:00+0200"), None);
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(days_from_civil(1, 1, 1)), (1, 1, 1));
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        // No overflow at the ends of `i64`.
        let _ = civil_from_days(i64::MAX);
        let _ = civil_from_days(i64::MIN);
    }

    #[test]
    fn instants_to_dates() {
        assert_eq!(date_of_instant(1_717_165_800), (2024, 5, 31));
        assert_eq!(date_of_instant(-1), (1969, 12, 31));
        assert_eq!(midnight((2024, 5, 31)), 1_717_113_600);
        assert_eq!(format_date((2024, 2, 9)), "2024-02-09");
        assert_eq!(format_date((987, 12, 31)), "0987-12-31");
    }

    #[test]
    fn months_clamp_the_day() {
        assert_eq!(shift_months((2024, 1, 31), 1), Some((2024, 2, 29)));
        assert_eq!(shift_months((2023, 1, 31), 1), Some((2023, 2, 28)));
        assert_eq!(shift_months((2024, 3, 31), -1), Some((2024, 2, 29)));
        assert_eq!(shift_months((2023, 3, 31), -1), Some((2023, 2, 28)));
        assert_eq!(shift_months((2024, 1, 31), -1), Some((2023, 12, 31)));
        assert_eq!(shift_months((2024, 5, 31), -1), Some((2024, 4, 30)));
        assert_eq!(shift_months((2024, 2, 29), -12), Some((2023, 2, 28)));
        assert_eq!(shift_months((2024, 2, 29), -48), Some((2020, 2, 29)));
        assert_eq!(shift_months((2024, 12, 15), 1), Some((2025, 1, 15)));
        assert_eq!(shift_months((2024, 1, 15), -13), Some((2022, 12, 15)));
        assert_eq!(shift_months((2024, 1, 15), 0), Some((2024, 1, 15)));
        assert_eq!(shift_months((i64::MAX / 12, 12, 1), 1), None);
        assert_eq!(shift_months((2024, 1, 15), i64::MAX), None);
    }

    #[test]
    fn periods_count_back() {
        let days = |amount| Period {
            amount,
            unit: Unit::Days,
        };
        let months = |amount| Period {
            amount,
            unit: Unit::Months,
        };
        let years = |amount| Period {
            amount,
            unit: Unit::Years,
        };
        assert_eq!(days(30).before_date((2024, 3, 1)), Some((2024, 1, 31)));
        assert_eq!(days(0).before_date((2024, 3, 1)), Some((2024, 3, 1)));
        assert_eq!(months(1).before_date((2024, 3, 31)), Some((2024, 2, 29)));
        assert_eq!(months(1).before_date((2025, 3, 31)), Some((2025, 2, 28)));
        assert_eq!(years(1).before_date((2024, 2, 29)), Some((2023, 2, 28)));
        assert_eq!(years(4).before_date((2024, 2, 29)), Some((2020, 2, 29)));
        assert_eq!(years(2024).before_date((2024, 6, 1)), None, "before the year 1");
        assert_eq!(years(2023).before_date((2024, 6, 1)), Some((1, 6, 1)));
        assert_eq!(days(i64::MAX).before_date((2024, 6, 1)), None);
        assert_eq!(years(i64::MAX).before_date((2024, 6, 1)), None);
        // 2024-03-31T10:30:00Z
        let now = midnight((2024, 3, 31)) + 10 * 3600 + 1800;
        assert_eq!(days(1).before_instant(now), Some(now - DAY));
        assert_eq!(
            months(1).before_instant(now),
            Some(midnight((2024, 2, 29)) + 10 * 3600 + 1800)
        );
        assert_eq!(years(5000).before_instant(now), None);
    }
}
