//! Dates and instants as filters write them, without a clock or a time-zone database.
//!
//! A plugin sees no clock but `LowerContext::now`; these helpers turn the strings users
//! type (`2024-05-31`, `2024-05-31T14:30:00+02:00`) into what the IR carries: a checked
//! `YYYY-MM-DD` for `Value::Date`, seconds since the Unix epoch for `Value::Datetime`.

/// Seconds in a day.
pub const DAY: i64 = 86_400;

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
}
