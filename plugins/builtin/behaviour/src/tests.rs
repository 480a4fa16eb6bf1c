use super::Behaviour;
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::testing::{self, field, json};

/// 2024-03-31T10:30:00Z.
const NOW: i64 = 1_711_881_000;

fn activity(kind: &str) -> Field {
    field(&format!("activity.{kind}"), FieldKind::Activity)
}

/// `happened` on `field` with `args`, rendered; panics on an error.
fn lower(field: Field, args: impl Into<Args>) -> String {
    match testing::lower::<Behaviour>("happened", field, args, NOW) {
        Ok(predicate) => predicate.to_string(),
        Err(error) => panic!("happened: {}", error.to_text()),
    }
}

/// The error of `happened` on `field` with `args`, as `path: message`.
fn error(field: Field, args: impl Into<Args>) -> String {
    match testing::lower::<Behaviour>("happened", field, args, NOW) {
        Ok(predicate) => panic!("happened lowered to {predicate}, expected an error"),
        Err(error) => error.to_text(),
    }
}

#[test]
fn describes_happened() {
    let description = testing::describe_filter_operator::<Behaviour>();
    assert_eq!(description.manifest.name, "behaviour");
    assert_eq!(description.entries.len(), 1);
    let happened = &description.entries[0];
    assert_eq!(happened.name, "happened");
    assert_eq!(happened.applies_to, [FieldKind::Activity]);
    let schema: serde_json::Value = serde_json::from_str(&happened.schema).unwrap();
    assert_eq!(schema["properties"]["times"]["minimum"], 1);
    assert_eq!(schema["properties"]["within"]["title"], "Within the last");
    assert_eq!(
        schema["properties"]["within"]["properties"]["unit"]["enum"],
        json!(["days", "months", "years"])
    );
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn without_a_value_it_is_at_least_once_ever() {
    let once = "activity(link_click, min-count 1)";
    assert_eq!(lower(activity("link_click"), Args::none()), once);
    assert_eq!(lower(activity("link_click"), json!(null)), once);
    assert_eq!(lower(activity("link_click"), json!({})), once);
    assert_eq!(
        lower(activity("link_click"), json!({"times": null, "within": null})),
        once
    );
}

#[test]
fn visited_pricing_three_times_in_the_last_30_days() {
    // 30 days before 2024-03-31T10:30:00Z: 2024-03-01T10:30:00Z.
    assert_eq!(
        lower(
            activity("page_visit"),
            json!({"times": 3, "within": {"amount": 30, "unit": "days"}, "where": {"page": "/pricing"}})
        ),
        r#"activity(page_visit, min-count 3, since 1709289000, page = "/pricing")"#
    );
}

#[test]
fn made_a_purchase_over_500() {
    assert_eq!(
        lower(activity("purchase"), json!({"min_amount": 500})),
        "activity(purchase, min-count 1, min-amount 500.0)"
    );
    assert_eq!(
        lower(activity("purchase"), json!({"min_amount": 99.99, "times": 2})),
        "activity(purchase, min-count 2, min-amount 99.99)"
    );
}

#[test]
fn within_counts_back_on_the_calendar() {
    // One month before March 31st, 2024 is the leap day, at the same time of day.
    assert_eq!(
        lower(
            activity("email_open"),
            json!({"within": {"amount": 1, "unit": "months"}})
        ),
        "activity(email_open, min-count 1, since 1709202600)"
    );
    // One year: 2023-03-31T10:30:00Z.
    assert_eq!(
        lower(
            activity("email_open"),
            json!({"within": {"amount": 1, "unit": "years"}})
        ),
        "activity(email_open, min-count 1, since 1680258600)"
    );
    assert_eq!(
        lower(activity("email_open"), json!({"within": {"amount": 0, "unit": "days"}})),
        "activity(email_open, min-count 1, since 1711881000)"
    );
}

#[test]
fn where_takes_scalars_of_each_type() {
    assert_eq!(
        lower(
            activity("link_click"),
            json!({"where": {"utm.campaign": "spring-24", "step": 2, "ratio": 0.5, "mobile": true}})
        ),
        // (serde_json orders the keys)
        r#"activity(link_click, min-count 1, mobile = true, ratio = 0.5, step = 2, utm.campaign = "spring-24")"#
    );
}

#[test]
fn refuses_bad_arguments_with_their_path() {
    let visits = || activity("page_visit");
    assert_eq!(
        error(visits(), json!({"times": 0})),
        "value.times: expected a whole number, 1 or more"
    );
    assert_eq!(
        error(visits(), json!({"times": "3"})),
        "value.times: expected a whole number, found a string"
    );
    assert_eq!(
        error(visits(), json!({"times": 5_000_000_000_i64})),
        "value.times: expected at most 4294967295"
    );
    assert_eq!(
        error(visits(), json!({"within": {"amount": 30, "unit": "weeks"}})),
        "value.within.unit: expected one of days, months, years"
    );
    assert_eq!(
        error(visits(), json!({"within": {"amount": -30, "unit": "days"}})),
        "value.within.amount: expected a whole number, 0 or more"
    );
    assert_eq!(
        error(visits(), json!({"within": {"amount": 30, "unit": "days", "ago": 1}})),
        "value.within.ago: unknown key; expected one of: amount, unit"
    );
    assert_eq!(
        error(visits(), json!({"within": {"amount": 5000, "unit": "years"}})),
        "value.within.amount: reaches back before the year 1"
    );
    assert_eq!(
        error(visits(), json!({"within": 30})),
        "value.within: expected an object, found a whole number"
    );
    assert_eq!(
        error(visits(), json!({"where": {"page url": "/pricing"}})),
        "value.where.page url: a property name is 1 to 64 letters, digits, `_`, `-`, `.` or `/`"
    );
    assert_eq!(
        error(visits(), json!({"where": {"page": ["/pricing", "/plans"]}})),
        "value.where.page: expected a string, a number or a boolean, found a list"
    );
    assert_eq!(
        error(visits(), json!({"where": {"page": null}})),
        "value.where.page: expected a string, a number or a boolean, found null"
    );
    assert_eq!(
        error(visits(), json!({"where": "/pricing"})),
        "value.where: expected an object, found a string"
    );
    let many: serde_json::Map<String, serde_json::Value> = (0..65).map(|i| (format!("p{i}"), json!(i))).collect();
    assert_eq!(
        error(visits(), json!({"where": many})),
        "value.where: at most 64 properties"
    );
    assert_eq!(
        error(activity("purchase"), json!({"min_amount": "500"})),
        "value.min_amount: expected a number, found a string"
    );
    assert_eq!(
        error(visits(), json!({"since": "2024-01-01"})),
        "value.since: unknown key; expected one of: times, within, where, min_amount"
    );
    assert_eq!(
        error(visits(), json!(3)),
        "value: expected an object, found a whole number"
    );
}

#[test]
fn applies_to_activities_only() {
    assert_eq!(
        error(field("name", FieldKind::Text), json!(null)),
        "behaviour.happened applies to activity fields, not to name (a text field)"
    );
    assert_eq!(
        error(field("activity.", FieldKind::Activity), json!(null)),
        "behaviour.happened applies to activity fields (activity.<kind>), not to activity."
    );
    let error = testing::lower::<Behaviour>("visited", activity("page_visit"), json!(null), NOW).unwrap_err();
    assert_eq!(error.to_text(), "unknown operator `visited`");
}

#[test]
fn has_no_residual() {
    let error = testing::matches::<Behaviour>("happened", json!(null), &[1_i64]).unwrap_err();
    assert_eq!(error.to_text(), "`happened`: this operator has no residual");
}
