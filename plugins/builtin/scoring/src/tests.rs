use super::Scoring;
use kartoteka_plugin_sdk::calendar::{DAY, midnight};
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::serde_json::{self, Value as Json};
use kartoteka_plugin_sdk::testing::{self, IntoBatch, json};

/// 2024-03-31T12:00:00Z.
const NOW: i64 = 1_711_886_400;

/// The scores of `criterion` with `params` on `values`; panics on an error.
fn score(criterion: &str, params: Json, values: impl IntoBatch) -> Vec<f64> {
    match testing::score::<Scoring>(criterion, params, values) {
        Ok(scores) => scores,
        Err(error) => panic!("{criterion}: {}", error.to_text()),
    }
}

/// The error of `criterion` with `params` on `values`, as `path: message`.
fn error(criterion: &str, params: Json, values: impl IntoBatch) -> String {
    match testing::score::<Scoring>(criterion, params, values) {
        Ok(scores) => panic!("{criterion} scored {scores:?}, expected an error"),
        Err(error) => error.to_text(),
    }
}

/// Whether two lists of scores agree to 1e-9.
fn close(got: &[f64], want: &[f64]) -> bool {
    got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-9)
}

fn schema(name: &str) -> Json {
    let description = testing::describe_segment_criterion::<Scoring>();
    let entry = description.entries.iter().find(|entry| entry.name == name).unwrap();
    serde_json::from_str(&entry.schema).unwrap()
}

#[test]
fn describes_its_four_criteria() {
    let description = testing::describe_segment_criterion::<Scoring>();
    assert_eq!(description.manifest.name, "scoring");
    assert!(description.manifest.capabilities.is_empty());
    let entries: Vec<(&str, &str)> = description
        .entries
        .iter()
        .map(|entry| (entry.name.as_str(), entry.label.as_str()))
        .collect();
    assert_eq!(
        entries,
        [
            ("ranges", "Points per range"),
            ("options", "Points per option"),
            ("presence", "Points for present or absent"),
            ("recency", "Points by recency, with decay"),
        ]
    );
    let kinds = |i: usize| description.entries[i].applies_to.clone();
    assert_eq!(
        kinds(0),
        [
            FieldKind::Number,
            FieldKind::Integer,
            FieldKind::Money,
            FieldKind::Date,
            FieldKind::Datetime
        ]
    );
    assert_eq!(
        kinds(1),
        [
            FieldKind::Select,
            FieldKind::Multiselect,
            FieldKind::Text,
            FieldKind::Boolean
        ]
    );
    assert_eq!(kinds(2), FieldKind::ALL);
    assert_eq!(
        kinds(3),
        [
            FieldKind::Date,
            FieldKind::Datetime,
            FieldKind::Integer,
            FieldKind::Number
        ]
    );
}

#[test]
fn schemas_describe_the_params() {
    let ranges = schema("ranges");
    assert_eq!(ranges["type"], "object");
    assert_eq!(ranges["required"], json!(["ranges"]));
    assert_eq!(ranges["additionalProperties"], false);
    let range = &ranges["properties"]["ranges"]["items"];
    assert_eq!(range["required"], json!(["points"]));
    assert!(range["properties"]["from"].to_string().contains("date-time"), "{range}");
    assert!(ranges["properties"]["otherwise"]["description"].is_string());

    let options = schema("options");
    assert_eq!(options["required"], json!(["points"]));
    assert_eq!(
        options["properties"]["points"]["additionalProperties"]["type"],
        "number"
    );
    assert!(options["properties"]["combine"].to_string().contains("sum"));

    let presence = schema("presence");
    assert_eq!(presence["required"], json!(["present"]));

    // `now` is a top-level property: the host fills it.
    let recency = schema("recency");
    assert_eq!(recency["required"], json!(["half_life_days"]));
    assert!(recency["properties"]["now"].is_object(), "{recency}");
    assert_eq!(recency["properties"]["half_life_days"]["exclusiveMinimum"], 0);
    assert_eq!(recency["properties"]["max_points"]["default"], 100.0);
    // The other criteria don't depend on the time.
    for name in ["ranges", "options", "presence"] {
        assert!(schema(name)["properties"].get("now").is_none(), "{name}");
    }
}

// ---------------------------------------------------------------------------------------
// ranges

fn tiers() -> Json {
    json!({
        "ranges": [
            {"to": 100, "points": 5},
            {"from": 100, "to": 1000, "points": 20},
            {"from": 1000, "points": 60},
        ],
        "missing": 1,
    })
}

#[test]
fn ranges_on_numbers_include_from_and_exclude_to() {
    let values = [
        Some(-5.0),
        Some(99.99),
        Some(100.0),
        Some(999.5),
        Some(1000.0),
        Some(1e12),
        None,
    ];
    assert_eq!(
        score("ranges", tiers(), &values),
        [5.0, 5.0, 20.0, 20.0, 60.0, 60.0, 1.0]
    );
}

#[test]
fn ranges_on_integers() {
    let values = [Some(0_i64), Some(100), Some(999), Some(1000), None];
    assert_eq!(score("ranges", tiers(), &values), [5.0, 20.0, 20.0, 60.0, 1.0]);
}

#[test]
fn ranges_the_first_that_holds_wins_and_otherwise() {
    let params = json!({
        "ranges": [
            {"from": 10, "to": 20, "points": 30},
            {"from": 0, "to": 50, "points": 10},
            {"from": 80, "to": null, "points": 90},
        ],
        "otherwise": 2,
    });
    let values = [15.0, 5.0, 20.0, 60.0, 80.0, -1.0];
    assert_eq!(score("ranges", params, &values), [30.0, 10.0, 10.0, 2.0, 90.0, 2.0]);
}

#[test]
fn ranges_otherwise_and_missing_default_to_zero() {
    let params = json!({"ranges": [{"from": 0, "to": 1, "points": 50}]});
    let values = [Some(0.5), Some(2.0), None];
    assert_eq!(score("ranges", params, &values), [50.0, 0.0, 0.0]);
    // An unbounded range holds every value.
    let all = json!({"ranges": [{"points": 7}], "missing": 3});
    assert_eq!(score("ranges", all, &values), [7.0, 7.0, 3.0]);
}

#[test]
fn ranges_on_dates_take_dates_and_instants() {
    let params = json!({
        "ranges": [
            {"from": "2024-01-01", "to": "2024-02-01", "points": 40},
            {"from": "2024-02-01T00:00:00Z", "to": "2024-03-01T12:00:00+02:00", "points": 20},
        ],
        "otherwise": 5,
        "missing": 0,
    });
    let values = [
        Some("2023-12-31"),
        Some("2024-01-01"),
        Some("2024-01-31"),
        Some("2024-02-01"),
        // Its midnight UTC is before 2024-03-01T10:00:00Z.
        Some("2024-03-01"),
        Some("2024-03-02"),
        None,
        Some("not a date"),
    ];
    assert_eq!(
        score("ranges", params, &values),
        [5.0, 40.0, 40.0, 20.0, 20.0, 5.0, 0.0, 0.0]
    );
}

#[test]
fn ranges_on_datetimes_take_dates_instants_and_seconds() {
    let jan = midnight((2024, 1, 1));
    let feb = midnight((2024, 2, 1));
    let params = json!({
        "ranges": [
            {"from": "2024-01-01", "to": "2024-01-15T12:00:00Z", "points": 40},
            {"from": "2024-01-15T12:00:00Z", "to": feb, "points": 20},
        ],
        "otherwise": 1,
    });
    let mid = midnight((2024, 1, 15)) + 12 * 3600;
    let values = [
        Some(jan - 1),
        Some(jan),
        Some(mid - 1),
        Some(mid),
        Some(feb - 1),
        Some(feb),
        None,
    ];
    assert_eq!(
        score("ranges", params, &values),
        [1.0, 40.0, 40.0, 20.0, 20.0, 1.0, 0.0]
    );
}

#[test]
fn ranges_refuse_a_bound_of_the_wrong_shape_with_its_path() {
    let params = json!({"ranges": [{"from": 1, "to": 5, "points": 1}, {"from": "2024-01-01", "points": 2}]});
    assert_eq!(
        error("ranges", params, &[1.0, 2.0]),
        r#"params.ranges[1].from: expected a number (the field holds numbers), found "2024-01-01""#
    );
    let params = json!({"ranges": [{"from": "2024-01-01", "to": 5, "points": 1}]});
    assert_eq!(
        error("ranges", params, &["2024-01-01"]),
        "params.ranges[0].to: expected a date as YYYY-MM-DD or an RFC 3339 instant (the field holds dates), found 5"
    );
    // A text that is no date is refused whatever the column.
    let params = json!({"ranges": [{"from": "yesterday", "points": 1}]});
    assert_eq!(
        error("ranges", params, &[1_i64]),
        r#"params.ranges[0].from: expected a date as YYYY-MM-DD or an RFC 3339 instant, found "yesterday""#
    );
    let params = json!({"ranges": [{"to": true, "points": 1}]});
    assert_eq!(
        error("ranges", params, &[1.0]),
        "params.ranges[0].to: expected a number, a date as YYYY-MM-DD or an RFC 3339 instant, found true"
    );
}

#[test]
fn ranges_refuse_empty_and_inverted_ranges() {
    assert_eq!(
        error("ranges", json!({"ranges": []}), &[1.0]),
        "params.ranges: expected at least one range"
    );
    // Even on an empty batch.
    assert_eq!(
        error("ranges", json!({"ranges": []}), Vec::<f64>::new()),
        "params.ranges: expected at least one range"
    );
    let inverted = json!({"ranges": [{"from": 0, "to": 10, "points": 1}, {"from": 10, "to": 10, "points": 1}]});
    assert_eq!(
        error("ranges", inverted, &[1.0]),
        "params.ranges[1]: `from` must be below `to` (`from` is included, `to` excluded)"
    );
    let dates = json!({"ranges": [{"from": "2024-02-01", "to": "2024-01-01", "points": 1}]});
    assert_eq!(
        error("ranges", dates, &["2024-01-10"]),
        "params.ranges[0]: `from` must be below `to` (`from` is included, `to` excluded)"
    );
}

#[test]
fn ranges_refuse_malformed_params_with_their_path() {
    assert_eq!(
        error("ranges", json!({"ranges": [{"from": 1}]}), &[1.0]),
        "params.ranges[0]: missing field `points`"
    );
    assert_eq!(
        error("ranges", json!({"ranges": [{"points": "ten"}]}), &[1.0]),
        r#"params.ranges[0].points: invalid type: string "ten", expected f64"#
    );
    let unknown = error("ranges", json!({"ranges": [{"points": 1, "below": 3}]}), &[1.0]);
    assert!(
        unknown.starts_with("params.ranges[0].below: unknown field `below`"),
        "{unknown}"
    );
    let unknown = error("ranges", json!({"ranges": [{"points": 1}], "else": 3}), &[1.0]);
    assert!(unknown.starts_with("params.else: unknown field `else`"), "{unknown}");
    assert_eq!(
        error("ranges", json!({"otherwise": 1}), &[1.0]),
        "params: missing field `ranges`"
    );
}

#[test]
fn ranges_refuse_other_columns() {
    let text = error("ranges", json!({"ranges": [{"points": 1}]}), &[true, false]);
    assert_eq!(
        text,
        "scoring.ranges scores numbers, integers, dates and datetimes, not a column of booleans"
    );
}

// ---------------------------------------------------------------------------------------
// options

fn tiers_by_option() -> Json {
    json!({"points": {"gold": 50, "silver": 20, "bronze": 5}, "otherwise": 1, "missing": 0.5})
}

#[test]
fn options_on_selects_and_texts() {
    let values = [
        Some("gold"),
        Some("silver"),
        Some("Gold"),
        Some("tin"),
        Some(""),
        None,
        Some(" gold"),
    ];
    assert_eq!(
        score("options", tiers_by_option(), &values),
        [50.0, 20.0, 1.0, 1.0, 0.5, 0.5, 1.0]
    );
}

#[test]
fn options_on_multiselects_take_the_max_by_default() {
    let values = [
        Some("silver,gold"),
        Some("bronze,tin"),
        Some("tin,lead"),
        Some("bronze"),
        Some(""),
        None,
        Some("gold,gold"),
    ];
    assert_eq!(
        score("options", tiers_by_option(), &values),
        [50.0, 5.0, 1.0, 5.0, 0.5, 0.5, 50.0]
    );
}

#[test]
fn options_on_multiselects_sum_when_asked() {
    let mut params = tiers_by_option();
    params["combine"] = json!("sum");
    let values = [
        "silver,gold",
        "bronze,tin",
        "tin,lead",
        "gold,silver,bronze",
        "gold,gold",
    ];
    assert_eq!(score("options", params, &values), [70.0, 5.0, 1.0, 75.0, 50.0]);
    let huge = json!({"points": {"a": 1e308, "b": 1e308, "c": -1e308}, "combine": "sum"});
    let scores = score("options", huge, &["a,b,c"]);
    assert!(scores[0].is_finite(), "{scores:?}");
}

#[test]
fn options_prefer_an_option_with_a_comma_as_written() {
    let params = json!({"points": {"Smith, John": 30, "Smith": 10}});
    assert_eq!(score("options", params, &["Smith, John", "Smith,Jones"]), [30.0, 10.0]);
}

#[test]
fn options_on_booleans() {
    let params = json!({"points": {"true": 25}, "otherwise": 3, "missing": 1});
    assert_eq!(
        score("options", params, &[Some(true), Some(false), None]),
        [25.0, 3.0, 1.0]
    );
    let both = json!({"points": {"true": 25, "false": 10}});
    assert_eq!(score("options", both, &[true, false]), [25.0, 10.0]);
}

#[test]
fn options_refuse_bad_params_and_columns() {
    assert_eq!(
        error("options", json!({"points": {"a": 1}, "combine": "min"}), &["a"]),
        "params.combine: unknown variant `min`, expected `max` or `sum`"
    );
    assert_eq!(
        error("options", json!({"points": {"a": "x"}}), &["a"]),
        r#"params.points.a: invalid type: string "x", expected f64"#
    );
    assert_eq!(error("options", json!({}), &["a"]), "params: missing field `points`");
    assert_eq!(
        error("options", json!({"points": {}}), &[1.0]),
        "scoring.options scores texts, options and booleans, not a column of numbers"
    );
}

// ---------------------------------------------------------------------------------------
// presence

#[test]
fn presence_on_texts_counts_blank_as_absent() {
    let params = json!({"present": 10, "absent": 2});
    let values = [Some("Ada"), Some(""), Some("  \t\n"), None, Some(" x ")];
    assert_eq!(score("presence", params, &values), [10.0, 2.0, 2.0, 2.0, 10.0]);
}

#[test]
fn presence_on_every_column() {
    let params = || json!({"present": 10});
    assert_eq!(score("presence", params(), &[Some(0.0), None]), [10.0, 0.0]);
    assert_eq!(score("presence", params(), &[Some(0_i64), None]), [10.0, 0.0]);
    assert_eq!(score("presence", params(), &[Some(false), None]), [10.0, 0.0]);
    let points = Batch::from_points([Some((52.2, 21.0)), None]);
    assert_eq!(score("presence", params(), points), [10.0, 0.0]);
    assert_eq!(score("presence", params(), Vec::<f64>::new()), Vec::<f64>::new());
}

#[test]
fn presence_needs_present() {
    assert_eq!(
        error("presence", json!({"absent": 1}), &[1.0]),
        "params: missing field `present`"
    );
}

// ---------------------------------------------------------------------------------------
// recency

#[test]
fn recency_on_datetimes_halves_every_half_life() {
    let params = json!({"half_life_days": 10, "now": NOW, "missing": 3});
    let values = [
        Some(NOW),
        Some(NOW - 10 * DAY),
        Some(NOW - 20 * DAY),
        Some(NOW - 5 * DAY),
        Some(NOW - DAY / 2),
        Some(NOW + 30 * DAY),
        None,
        Some(i64::MIN),
    ];
    let scores = score("recency", params, &values);
    let want = [
        100.0,
        50.0,
        25.0,
        100.0 / 2_f64.sqrt(),
        100.0 * 0.5_f64.powf(0.05),
        100.0,
        3.0,
        0.0,
    ];
    assert!(close(&scores, &want), "{scores:?}");
}

#[test]
fn recency_on_dates_counts_from_midnight() {
    // NOW is noon of 2024-03-31.
    let params = json!({"max_points": 80, "half_life_days": 1, "now": NOW});
    let values = [
        Some("2024-03-31"),
        Some("2024-03-30"),
        Some("2024-04-30"),
        None,
        Some("31.03.2024"),
    ];
    let scores = score("recency", params, &values);
    let want = [80.0 * 0.5_f64.powf(0.5), 80.0 * 0.5_f64.powf(1.5), 80.0, 0.0, 0.0];
    assert!(close(&scores, &want), "{scores:?}");
}

#[test]
fn recency_on_numbers_reads_days_ago() {
    let params = json!({"half_life_days": 30, "missing": 7});
    let values = [Some(0.0), Some(30.0), Some(60.0), Some(-5.0), Some(15.0), None];
    let scores = score("recency", params, &values);
    let want = [100.0, 50.0, 25.0, 100.0, 100.0 / 2_f64.sqrt(), 7.0];
    assert!(close(&scores, &want), "{scores:?}");
    // `now`, filled by the host, changes nothing for numbers.
    let with_now = json!({"half_life_days": 30, "now": NOW});
    assert_eq!(score("recency", with_now, &[30.0]), [50.0]);
}

#[test]
fn recency_on_integer_fields_reads_days_ago_when_told() {
    let params = json!({"half_life_days": 7, "integers": "days_ago", "now": NOW});
    let scores = score("recency", params, &[Some(0_i64), Some(7), Some(14), None]);
    assert!(close(&scores, &[100.0, 50.0, 25.0, 0.0]), "{scores:?}");
    // Without `now` too: days ago need no clock.
    let params = json!({"half_life_days": 7, "integers": "days_ago"});
    assert_eq!(score("recency", params, &[7_i64]), [50.0]);
}

#[test]
fn recency_needs_now_for_dates() {
    let params = || json!({"half_life_days": 7});
    assert_eq!(error("recency", params(), &[NOW]), "params.now: needed for dates");
    assert_eq!(
        error("recency", params(), &["2024-01-01"]),
        "params.now: needed for dates"
    );
}

#[test]
fn recency_refuses_bad_params() {
    assert_eq!(
        error("recency", json!({"half_life_days": 0, "now": NOW}), &[NOW]),
        "params.half_life_days: expected a number of days greater than 0, found 0"
    );
    assert_eq!(
        error("recency", json!({"half_life_days": -3, "now": NOW}), &[NOW]),
        "params.half_life_days: expected a number of days greater than 0, found -3"
    );
    assert_eq!(
        error("recency", json!({"now": NOW}), &[NOW]),
        "params: missing field `half_life_days`"
    );
    assert_eq!(
        error("recency", json!({"half_life_days": 1, "now": "today"}), &[NOW]),
        r#"params.now: invalid type: string "today", expected i64"#
    );
    assert_eq!(
        error("recency", json!({"half_life_days": 1, "now": NOW}), &[true]),
        "scoring.recency scores dates, datetimes, integers and numbers, not a column of booleans"
    );
}

#[test]
fn one_finite_score_per_row_on_a_large_batch() {
    let values: Vec<Option<f64>> = (0..5000).map(|i| (i % 7 != 0).then_some(f64::from(i))).collect();
    let batch = Batch::from_numbers(values);
    for (criterion, params) in [
        ("ranges", tiers()),
        ("presence", json!({"present": 1})),
        ("recency", json!({"half_life_days": 3})),
    ] {
        let scores = score(criterion, params, &batch);
        assert_eq!(scores.len(), 5000, "{criterion}");
    }
}
