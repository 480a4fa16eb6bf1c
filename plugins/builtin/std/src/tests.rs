use super::Std;
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::testing::{self, field, field_with_options, json};

/// `op` on `field` with `value`, rendered; panics on an error.
fn lower(op: &str, field: Field, value: serde_json::Value) -> String {
    match testing::lower::<Std>(op, field, value, 1_700_000_000) {
        Ok(predicate) => predicate.to_string(),
        Err(error) => panic!("{op}: {}", error.to_text()),
    }
}

/// The error of `op` on `field` with `args`, as `path: message`.
fn error(op: &str, field: Field, args: impl Into<Args>) -> String {
    match testing::lower::<Std>(op, field, args, 1_700_000_000) {
        Ok(predicate) => panic!("{op} lowered to {predicate}, expected an error"),
        Err(error) => error.to_text(),
    }
}

fn text() -> Field {
    field("name", FieldKind::Text)
}

#[test]
fn describes_every_operator() {
    let description = testing::describe_filter_operator::<Std>();
    assert_eq!(description.manifest.name, "std");
    let names: Vec<&str> = description.entries.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "eq",
            "ne",
            "gt",
            "lt",
            "gte",
            "lte",
            "between",
            "is_empty",
            "is_not_empty",
            "contains",
            "not_contains",
            "starts_with",
            "ends_with",
            "in_list",
            "not_in_list"
        ]
    );
}

#[test]
fn compares_values_of_each_kind() {
    assert_eq!(lower("eq", text(), json!("Ann")), r#"eq(name, "Ann")"#);
    assert_eq!(
        lower("ne", field("email", FieldKind::Email), json!("a@b.pl")),
        r#"ne(email, "a@b.pl")"#
    );
    assert_eq!(
        lower("gt", field("score", FieldKind::Number), json!(50)),
        "gt(score, 50.0)"
    );
    assert_eq!(
        lower("gte", field("fields.seats", FieldKind::Integer), json!(3)),
        "ge(fields.seats, 3)"
    );
    assert_eq!(
        lower("lte", field("fields.budget", FieldKind::Money), json!(99.5)),
        "le(fields.budget, 99.5)"
    );
    assert_eq!(
        lower("lt", field("fields.signed", FieldKind::Date), json!("2024-02-29")),
        "lt(fields.signed, date(2024-02-29))"
    );
    assert_eq!(
        lower(
            "gt",
            field("created_at", FieldKind::Datetime),
            json!("2024-05-31T16:30:00+02:00")
        ),
        "gt(created_at, datetime(1717165800))"
    );
    assert_eq!(
        lower("eq", field("created_at", FieldKind::Datetime), json!(1_717_165_800)),
        "eq(created_at, datetime(1717165800))"
    );
    assert_eq!(
        lower("eq", field("do_not_contact", FieldKind::Boolean), json!(true)),
        "eq(do_not_contact, true)"
    );
    let band = field_with_options("score_band", FieldKind::Select, &["ideal", "medium", "standard"]);
    assert_eq!(lower("eq", band, json!("ideal")), r#"eq(score_band, "ideal")"#);
}

#[test]
fn eq_null_is_a_null_check() {
    assert_eq!(lower("eq", text(), json!(null)), "is-null(name)");
    assert_eq!(lower("ne", text(), json!(null)), "not(is-null(name))");
}

#[test]
fn rejects_values_of_the_wrong_type() {
    assert_eq!(
        error("eq", text(), json!(3)),
        "value: expected a string, found a whole number"
    );
    assert_eq!(
        error("eq", field("fields.seats", FieldKind::Integer), json!(3.5)),
        "value: expected a whole number, found a number"
    );
    assert_eq!(
        error("gt", field("score", FieldKind::Number), json!("50")),
        "value: expected a number, found a string"
    );
    assert_eq!(
        error("eq", field("fields.signed", FieldKind::Date), json!("2023-02-29")),
        r#"value: expected a date (YYYY-MM-DD), found "2023-02-29""#
    );
    assert!(
        error("eq", field("created_at", FieldKind::Datetime), json!("soon"))
            .starts_with("value: expected a date and time")
    );
    let band = field_with_options("score_band", FieldKind::Select, &["ideal", "medium"]);
    assert_eq!(
        error("eq", band, json!("gold")),
        r#"value: "gold" is not an option of score_band; expected one of: ideal, medium"#
    );
    assert_eq!(
        error("gt", text(), Args::none()),
        "value: expected a string, found nothing"
    );
}

#[test]
fn refuses_fields_an_operator_does_not_apply_to() {
    assert_eq!(
        error("gt", field("do_not_contact", FieldKind::Boolean), json!(true)),
        "std.gt applies to text, number, integer, money, date, datetime fields, not to do_not_contact (a boolean field)"
    );
    assert_eq!(
        error("contains", field("score", FieldKind::Number), json!("1")),
        "std.contains applies to text, long_text, email, phone, url fields, not to score (a number field)"
    );
    assert_eq!(error("like", text(), json!("a")), "unknown operator `like`");
}

#[test]
fn between_takes_an_inclusive_pair() {
    assert_eq!(
        lower("between", field("score", FieldKind::Number), json!([10, 20.5])),
        "range(score, 10.0, 20.5)"
    );
    assert_eq!(
        lower(
            "between",
            field("fields.signed", FieldKind::Date),
            json!(["2024-01-01", "2024-12-31"])
        ),
        "range(fields.signed, date(2024-01-01), date(2024-12-31))"
    );
    let score = || field("score", FieldKind::Number);
    assert_eq!(
        error("between", score(), json!([1, "x"])),
        "value[1]: expected a number, found a string"
    );
    assert_eq!(
        error("between", score(), json!([1, 2, 3])),
        "value: expected [low, high], found 3 items"
    );
    assert_eq!(
        error("between", score(), json!(5)),
        "value: expected a list, found a whole number"
    );
    assert_eq!(
        error("between", score(), json!([9, 1])),
        "value: the low bound is greater than the high bound"
    );
}

#[test]
fn emptiness_depends_on_the_kind() {
    assert_eq!(
        lower("is_empty", text(), json!(null)),
        "or(is-null(name), is-empty(name))"
    );
    assert_eq!(
        testing::lower::<Std>("is_empty", text(), Args::none(), 0)
            .unwrap()
            .to_string(),
        "or(is-null(name), is-empty(name))"
    );
    assert_eq!(
        lower("is_not_empty", text(), json!(null)),
        "not(or(is-null(name), is-empty(name)))"
    );
    assert_eq!(
        lower("is_empty", field("score", FieldKind::Number), json!(null)),
        "is-null(score)"
    );
    assert_eq!(
        lower(
            "is_not_empty",
            field("fields.tags", FieldKind::Multiselect),
            json!(null)
        ),
        "not(or(is-null(fields.tags), is-empty(fields.tags)))"
    );
    assert_eq!(
        error("is_empty", text(), json!("x")),
        "value: std.is_empty takes no value"
    );
}

#[test]
fn text_operators_fold_case_and_accents() {
    assert_eq!(
        lower("contains", text(), json!("lodz")),
        r#"contains(name, "lodz", fold)"#
    );
    assert_eq!(
        lower("not_contains", text(), json!("spam")),
        r#"not(contains(name, "spam", fold))"#
    );
    assert_eq!(lower("starts_with", text(), json!("Jo")), r#"prefix(name, "Jo", fold)"#);
    assert_eq!(
        lower("ends_with", field("email", FieldKind::Email), json!("@acme.pl")),
        r#"suffix(email, "@acme.pl", fold)"#
    );
    assert_eq!(
        error("contains", text(), json!(["a"])),
        "value: expected a string, found a list"
    );
}

#[test]
fn lists_become_sets() {
    assert_eq!(
        lower("in_list", field("city", FieldKind::Text), json!(["Kraków", "Łódź"])),
        r#"in(city, ["Kraków", "Łódź"])"#
    );
    assert_eq!(
        lower("not_in_list", field("fields.seats", FieldKind::Integer), json!([1, 2])),
        "not(in(fields.seats, [1, 2]))"
    );
    let tags = || field_with_options("fields.tags", FieldKind::Multiselect, &["vip", "press"]);
    assert_eq!(lower("in_list", tags(), json!(["vip"])), r#"in(fields.tags, ["vip"])"#);
    assert_eq!(
        error("in_list", tags(), json!(["vip", "press", "gold"])),
        r#"value[2]: "gold" is not an option of fields.tags; expected one of: vip, press"#
    );
    assert_eq!(lower("in_list", text(), json!([])), "never");
    assert_eq!(lower("not_in_list", text(), json!([])), "always");
    assert_eq!(
        error("in_list", text(), json!("Ann")),
        "value: expected a list, found a string"
    );
}

#[test]
fn has_no_residual() {
    let error = testing::matches::<Std>("eq", json!(1), &[1.0, 2.0]).unwrap_err();
    assert_eq!(error.to_text(), "`eq`: this operator has no residual");
}
