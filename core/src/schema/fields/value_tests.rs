use super::*;

fn opts() -> Vec<String> {
    vec!["IT".into(), "Retail".into()]
}

#[test]
fn normalizes_what_people_type() {
    assert_eq!(normalize(FieldKind::Number, &[], &json!("12,5")), Ok(json!(12.5)));
    assert_eq!(normalize(FieldKind::Integer, &[], &json!(" 42 ")), Ok(json!(42)));
    assert_eq!(normalize(FieldKind::Boolean, &[], &json!("on")), Ok(json!(true)));
    assert_eq!(
        normalize(FieldKind::Datetime, &[], &json!("2026-11-23T16:05:00+02:00")),
        Ok(json!("2026-11-23T14:05:00Z"))
    );
    assert_eq!(
        normalize(FieldKind::Multiselect, &opts(), &json!(["IT", "IT"])),
        Ok(json!(["IT"]))
    );
}

#[test]
fn reads_decimals_without_guessing() {
    for (text, n) in [
        ("1,5", 1.5),
        ("1.5", 1.5),
        ("-2,25", -2.25),
        ("0,125", 0.125),
        ("1 500", 1500.0),
        ("12 345,67", 12345.67),
        ("1500", 1500.0),
        ("51,7592", 51.7592),
    ] {
        assert_eq!(parse_decimal(text), Ok(n), "{text}");
    }
    for text in [
        "1,500", "1.234,5", "1,234.5", "1 5", "1,2,3", "abc", "", "inf", "NaN", "1_000",
    ] {
        assert!(parse_decimal(text).is_err(), "{text}");
    }
    assert!(parse_decimal("1,500").unwrap_err().contains("1500"));
}

#[test]
fn refuses_bad_values_with_a_reason() {
    assert!(
        normalize(FieldKind::Money, &[], &json!(1.234))
            .unwrap_err()
            .contains("2 decimal")
    );
    assert!(
        normalize(FieldKind::Date, &[], &json!("23.11.2026"))
            .unwrap_err()
            .contains("YYYY-MM-DD")
    );
    assert!(
        normalize(FieldKind::Select, &opts(), &json!("Mining"))
            .unwrap_err()
            .contains("options")
    );
    assert!(normalize(FieldKind::Integer, &[], &json!(1.5)).is_err());
    assert!(normalize(FieldKind::Url, &[], &json!("javascript:alert(1)")).is_err());
    assert!(normalize(FieldKind::Email, &[], &json!("nobody")).is_err());
}

#[test]
fn converts_or_says_why_not() {
    assert_eq!(
        convert(FieldKind::Text, FieldKind::Integer, &[], &json!("17")),
        Ok(json!(17))
    );
    assert!(convert(FieldKind::Text, FieldKind::Integer, &[], &json!("seventeen")).is_err());
    assert_eq!(
        convert(FieldKind::Integer, FieldKind::Text, &[], &json!(17)),
        Ok(json!("17"))
    );
    assert_eq!(
        convert(FieldKind::Select, FieldKind::Multiselect, &opts(), &json!("IT")),
        Ok(json!(["IT"]))
    );
    assert!(
        convert(
            FieldKind::Multiselect,
            FieldKind::Select,
            &opts(),
            &json!(["IT", "Retail"])
        )
        .is_err()
    );
    assert!(
        convert(
            FieldKind::Datetime,
            FieldKind::Date,
            &[],
            &json!("2026-01-01T10:00:00Z")
        )
        .is_err()
    );
    assert_eq!(
        convert(
            FieldKind::Datetime,
            FieldKind::Date,
            &[],
            &json!("2026-01-01T00:00:00Z")
        ),
        Ok(json!("2026-01-01"))
    );
}
