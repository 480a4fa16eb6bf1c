use super::Time;
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::testing::{self, field, json};

/// 2024-03-31T10:30:00Z.
const NOW: i64 = 1_711_881_000;

/// `op` on `field` with `value` at `now`, rendered; panics on an error.
fn lower_at(op: &str, field: Field, value: serde_json::Value, now: i64) -> String {
    match testing::lower::<Time>(op, field, value, now) {
        Ok(predicate) => predicate.to_string(),
        Err(error) => panic!("{op}: {}", error.to_text()),
    }
}

fn lower(op: &str, field: Field, value: serde_json::Value) -> String {
    lower_at(op, field, value, NOW)
}

/// The error of `op` on `field` with `args`, as `path: message`.
fn error(op: &str, field: Field, args: impl Into<Args>) -> String {
    match testing::lower::<Time>(op, field, args, NOW) {
        Ok(predicate) => panic!("{op} lowered to {predicate}, expected an error"),
        Err(error) => error.to_text(),
    }
}

/// An extra field of kind date.
fn signed() -> Field {
    field("fields.signed", FieldKind::Date)
}

fn created() -> Field {
    field("created_at", FieldKind::Datetime)
}

fn period(amount: i64, unit: &str) -> serde_json::Value {
    json!({"amount": amount, "unit": unit})
}

#[test]
fn describes_every_operator() {
    let description = testing::describe_filter_operator::<Time>();
    assert_eq!(description.manifest.name, "time");
    let names: Vec<&str> = description.entries.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["before", "after", "on", "within_last", "not_within_last"]);
    for operator in &description.entries {
        assert_eq!(operator.applies_to, [FieldKind::Date, FieldKind::Datetime]);
        assert!(!operator.label.is_empty());
    }
    let within: serde_json::Value = serde_json::from_str(&description.entries[3].schema).unwrap();
    assert_eq!(within["properties"]["unit"]["enum"], json!(["days", "months", "years"]));
    assert_eq!(within["required"], json!(["amount", "unit"]));
}

#[test]
fn date_fields_compare_with_dates() {
    assert_eq!(
        lower("before", signed(), json!("2024-05-31")),
        "lt(fields.signed, date(2024-05-31))"
    );
    assert_eq!(
        lower("after", signed(), json!("2024-05-31")),
        "gt(fields.signed, date(2024-05-31))"
    );
    assert_eq!(
        lower("on", signed(), json!("2024-02-29")),
        "eq(fields.signed, date(2024-02-29))"
    );
}

#[test]
fn a_day_on_a_datetime_field_is_the_whole_utc_day() {
    // 2024-05-31T00:00:00Z is 1717113600; the next midnight 1717200000.
    assert_eq!(
        lower("before", created(), json!("2024-05-31")),
        "lt(created_at, datetime(1717113600))"
    );
    assert_eq!(
        lower("after", created(), json!("2024-05-31")),
        "ge(created_at, datetime(1717200000))"
    );
    assert_eq!(
        lower("on", created(), json!("2024-05-31")),
        "range(created_at, datetime(1717113600), datetime(1717199999))"
    );
    assert_eq!(
        lower(
            "on",
            field("fields.last_call", FieldKind::Datetime),
            json!("1969-12-31")
        ),
        "range(fields.last_call, datetime(-86400), datetime(-1))"
    );
}

#[test]
fn an_instant_on_a_datetime_field_is_that_instant() {
    assert_eq!(
        lower("before", created(), json!("2024-05-31T16:30:00+02:00")),
        "lt(created_at, datetime(1717165800))"
    );
    assert_eq!(
        lower("after", created(), json!(1_717_165_800)),
        "gt(created_at, datetime(1717165800))"
    );
    assert_eq!(
        lower("after", created(), json!("2024-05-31 14:30")),
        "gt(created_at, datetime(1717165800))"
    );
    // `on` takes the UTC day of the instant: 2024-05-31T23:30-02:00 is June 1st, UTC.
    assert_eq!(
        lower("on", created(), json!("2024-05-31T23:30:00-02:00")),
        "range(created_at, datetime(1717200000), datetime(1717286399))"
    );
    assert_eq!(
        lower("on", created(), json!(1_717_165_800)),
        "range(created_at, datetime(1717113600), datetime(1717199999))"
    );
}

#[test]
fn refuses_moments_the_field_cannot_hold() {
    assert_eq!(
        error("before", signed(), json!(1_717_165_800)),
        "value: expected a date (YYYY-MM-DD), found a whole number"
    );
    assert_eq!(
        error("on", signed(), json!("2024-05-31T10:00:00Z")),
        r#"value: expected a date (YYYY-MM-DD), found "2024-05-31T10:00:00Z""#
    );
    assert_eq!(
        error("after", signed(), json!("2023-02-29")),
        r#"value: expected a date (YYYY-MM-DD), found "2023-02-29""#
    );
    assert_eq!(
        error("before", created(), json!("soon")),
        r#"value: expected a date (YYYY-MM-DD), a date and time (RFC 3339, e.g. 2024-05-31T14:30:00Z) or seconds since the epoch, found "soon""#
    );
    assert_eq!(
        error("after", created(), json!(1.5)),
        "value: expected a date (YYYY-MM-DD), a date and time (RFC 3339, e.g. 2024-05-31T14:30:00Z) or seconds since the epoch, found a number"
    );
    assert_eq!(
        error("on", created(), json!(i64::MAX)),
        "value: expected an instant between the years 1 and 9999"
    );
    assert_eq!(
        error("before", signed(), Args::none()),
        "value: expected a date (YYYY-MM-DD), found nothing"
    );
}

#[test]
fn refuses_fields_it_does_not_apply_to() {
    assert_eq!(
        error("before", field("name", FieldKind::Text), json!("2024-01-01")),
        "time.before applies to date, datetime fields, not to name (a text field)"
    );
    assert_eq!(
        error("within_last", field("score", FieldKind::Number), period(3, "days")),
        "time.within_last applies to date, datetime fields, not to score (a number field)"
    );
    assert_eq!(
        error("since", signed(), json!("2024-01-01")),
        "unknown operator `since`"
    );
}

#[test]
fn within_last_on_a_date_field_counts_back_from_today() {
    assert_eq!(
        lower("within_last", signed(), period(30, "days")),
        "range(fields.signed, date(2024-03-01), date(2024-03-31))"
    );
    assert_eq!(
        lower("within_last", signed(), period(0, "days")),
        "range(fields.signed, date(2024-03-31), date(2024-03-31))"
    );
    // March 31 minus one month: the last day of February, a leap day in 2024...
    assert_eq!(
        lower("within_last", signed(), period(1, "months")),
        "range(fields.signed, date(2024-02-29), date(2024-03-31))"
    );
    // ...and the 28th in 2025 (2025-03-31T00:00:00Z).
    assert_eq!(
        lower_at("within_last", signed(), period(1, "months"), 1_743_379_200),
        "range(fields.signed, date(2025-02-28), date(2025-03-31))"
    );
    // January 31 minus one month is December 31 (2024-01-31T12:00:00Z).
    assert_eq!(
        lower_at("within_last", signed(), period(1, "months"), 1_706_702_400),
        "range(fields.signed, date(2023-12-31), date(2024-01-31))"
    );
    // A leap day minus a year is February 28; minus four years the leap day again
    // (2024-02-29T10:30:00Z).
    assert_eq!(
        lower_at("within_last", signed(), period(1, "years"), 1_709_202_600),
        "range(fields.signed, date(2023-02-28), date(2024-02-29))"
    );
    assert_eq!(
        lower_at("within_last", signed(), period(4, "years"), 1_709_202_600),
        "range(fields.signed, date(2020-02-29), date(2024-02-29))"
    );
    // Today is the UTC date of now: one second before midnight is still March 30.
    assert_eq!(
        lower_at("within_last", signed(), period(1, "days"), 1_711_843_199),
        "range(fields.signed, date(2024-03-29), date(2024-03-30))"
    );
}

#[test]
fn within_last_on_a_datetime_field_counts_back_from_now() {
    // 2024-03-31T10:30:00Z minus 30 days: 2024-03-01T10:30:00Z.
    assert_eq!(
        lower("within_last", created(), period(30, "days")),
        "range(created_at, datetime(1709289000), datetime(1711881000))"
    );
    // Minus one month: 2024-02-29T10:30:00Z (clamped to the leap day).
    assert_eq!(
        lower("within_last", created(), period(1, "months")),
        "range(created_at, datetime(1709202600), datetime(1711881000))"
    );
    // Minus one year: 2023-03-31T10:30:00Z; minus three: 2021-03-31T10:30:00Z.
    assert_eq!(
        lower("within_last", created(), period(1, "years")),
        "range(created_at, datetime(1680258600), datetime(1711881000))"
    );
    assert_eq!(
        lower("within_last", created(), period(3, "years")),
        "range(created_at, datetime(1617186600), datetime(1711881000))"
    );
}

#[test]
fn not_within_last_is_the_negation_so_nulls_match() {
    assert_eq!(
        lower("not_within_last", signed(), period(30, "days")),
        "not(range(fields.signed, date(2024-03-01), date(2024-03-31)))"
    );
    assert_eq!(
        lower("not_within_last", created(), period(30, "days")),
        "not(range(created_at, datetime(1709289000), datetime(1711881000)))"
    );
}

#[test]
fn refuses_bad_periods_with_their_path() {
    assert_eq!(
        error("within_last", signed(), period(3, "weeks")),
        "value.unit: expected one of days, months, years"
    );
    assert_eq!(
        error("within_last", signed(), json!({"amount": 3})),
        "value.unit: expected one of days, months, years"
    );
    assert_eq!(
        error("not_within_last", created(), period(-1, "days")),
        "value.amount: expected a whole number, 0 or more"
    );
    assert_eq!(
        error("within_last", created(), json!({"amount": "30", "unit": "days"})),
        "value.amount: expected a whole number, found a string"
    );
    assert_eq!(
        error(
            "within_last",
            created(),
            json!({"amount": 30, "unit": "days", "from": "now"})
        ),
        "value.from: unknown key; expected one of: amount, unit"
    );
    assert_eq!(
        error("within_last", created(), json!("30 days")),
        "value: expected an object, found a string"
    );
    assert_eq!(
        error("within_last", signed(), period(2024, "years")),
        "value.amount: reaches back before the year 1"
    );
    assert_eq!(
        error("within_last", created(), period(i64::MAX, "days")),
        "value.amount: reaches back before the year 1"
    );
}

#[test]
fn has_no_residual() {
    let error = testing::matches::<Time>("before", json!("2024-01-01"), &["2023-01-01"]).unwrap_err();
    assert_eq!(error.to_text(), "`before`: this operator has no residual");
}
