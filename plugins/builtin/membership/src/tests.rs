use super::Membership;
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::testing::{self, field, field_with_options, json};

/// The seeded contact-type tree, as the host passes it: every type's lineage path.
const TYPES: &[&str] = &[
    "lead",
    "lead/cold",
    "lead/warm",
    "lead/hot",
    "lead/refused",
    "client",
    "employee",
    "employee/staff",
    "employee/freelance",
    "employee/temporary",
    "employee/remote",
    "supplier",
    "contractor",
];

fn types() -> Field {
    field_with_options("type", FieldKind::ContactType, TYPES)
}

fn band() -> Field {
    field("score_band", FieldKind::Select)
}

fn segment() -> Field {
    field("segment", FieldKind::Segment)
}

/// `op` on `field` with `value`, rendered; panics on an error.
fn lower(op: &str, field: Field, value: serde_json::Value) -> String {
    match testing::lower::<Membership>(op, field, value, 0) {
        Ok(predicate) => predicate.to_string(),
        Err(error) => panic!("{op}: {}", error.to_text()),
    }
}

/// The error of `op` on `field` with `args`, as `path: message`.
fn error(op: &str, field: Field, args: impl Into<Args>) -> String {
    match testing::lower::<Membership>(op, field, args, 0) {
        Ok(predicate) => panic!("{op} lowered to {predicate}, expected an error"),
        Err(error) => error.to_text(),
    }
}

#[test]
fn describes_every_operator() {
    let description = testing::describe_filter_operator::<Membership>();
    assert_eq!(description.manifest.name, "membership");
    let described: Vec<(&str, FieldKind)> = description
        .entries
        .iter()
        .map(|o| (o.name.as_str(), o.applies_to[0]))
        .collect();
    assert_eq!(
        described,
        [
            ("is", FieldKind::ContactType),
            ("in_band", FieldKind::Select),
            ("in_segment", FieldKind::Segment),
            ("not_in_segment", FieldKind::Segment),
        ]
    );
}

#[test]
fn a_type_takes_in_its_descendants() {
    assert_eq!(
        lower("is", types(), json!("lead")),
        r#"in(type, ["lead", "cold", "warm", "hot", "refused"])"#
    );
    assert_eq!(
        lower("is", types(), json!("employee")),
        r#"in(type, ["employee", "staff", "freelance", "temporary", "remote"])"#
    );
    assert_eq!(lower("is", types(), json!("warm")), r#"in(type, ["warm"])"#);
    assert_eq!(lower("is", types(), json!("client")), r#"in(type, ["client"])"#);
    // A lineage path, as the options spell it, names its last type.
    assert_eq!(lower("is", types(), json!("lead/cold")), r#"in(type, ["cold"])"#);
}

#[test]
fn a_type_deeper_in_the_tree() {
    let tree = field_with_options(
        "type",
        FieldKind::ContactType,
        &[
            "partner",
            "partner/reseller",
            "partner/reseller/gold",
            "partner/reseller/silver",
            "partner/agency",
        ],
    );
    assert_eq!(
        lower("is", tree.clone(), json!("partner")),
        r#"in(type, ["partner", "reseller", "gold", "silver", "agency"])"#
    );
    assert_eq!(
        lower("is", tree, json!("reseller")),
        r#"in(type, ["reseller", "gold", "silver"])"#
    );
}

#[test]
fn refuses_unknown_types() {
    assert_eq!(
        error("is", types(), json!("prospect")),
        r#"value: unknown contact type "prospect"; expected one of: lead, cold, warm, hot, refused, client, employee, staff, freelance, temporary, remote, supplier, contractor"#
    );
    assert_eq!(
        error("is", field("type", FieldKind::ContactType), json!("lead")),
        r#"value: unknown contact type "lead"; no contact type is defined"#
    );
    assert_eq!(
        error("is", types(), json!(3)),
        "value: expected a string, found a whole number"
    );
    assert_eq!(
        error("is", types(), Args::none()),
        "value: expected a string, found nothing"
    );
}

#[test]
fn a_models_band_is_a_band_too() {
    let fit = field_with_options("score_band.fit", FieldKind::Select, &["Low", "High"]);
    assert_eq!(lower("in_band", fit, json!("High")), r#"in(score_band.fit, ["High"])"#);
}

#[test]
fn bands_are_a_name_or_a_list() {
    assert_eq!(lower("in_band", band(), json!("Ideal")), r#"in(score_band, ["Ideal"])"#);
    assert_eq!(
        lower("in_band", band(), json!(["Ideal", "Medium"])),
        r#"in(score_band, ["Ideal", "Medium"])"#
    );
    assert_eq!(lower("in_band", band(), json!([])), "never");
    let listed = field_with_options("score_band", FieldKind::Select, &["Ideal", "Medium", "Standard"]);
    assert_eq!(
        lower("in_band", listed.clone(), json!(["Standard"])),
        r#"in(score_band, ["Standard"])"#
    );
    assert_eq!(
        error("in_band", listed, json!(["Ideal", "Gold"])),
        r#"value[1]: unknown band "Gold"; expected one of: Ideal, Medium, Standard"#
    );
    assert_eq!(
        error("in_band", band(), json!(80)),
        "value: expected a band name, found a whole number"
    );
    assert_eq!(
        error("in_band", band(), json!(["Ideal", null])),
        "value[1]: expected a band name, found null"
    );
    assert_eq!(
        error("in_band", band(), json!("")),
        "value: expected a band name, found an empty string"
    );
}

#[test]
fn in_band_is_for_the_score_band_only() {
    let tier = field_with_options("fields.tier", FieldKind::Select, &["gold"]);
    assert_eq!(
        error("in_band", tier, json!("gold")),
        "membership.in_band applies to a scoring model's band (score_band.<model>), not to fields.tier (a select field)"
    );
    assert_eq!(
        error("in_band", field("score", FieldKind::Number), json!("Ideal")),
        "membership.in_band applies to select fields, not to score (a number field)"
    );
}

#[test]
fn segments_by_id() {
    assert_eq!(lower("in_segment", segment(), json!(12)), "in(segment, [12])");
    assert_eq!(lower("not_in_segment", segment(), json!(12)), "not(in(segment, [12]))");
    assert_eq!(
        error("in_segment", segment(), json!(0)),
        "value: expected a segment id, a whole number 1 or more"
    );
    assert_eq!(
        error("not_in_segment", segment(), json!("12")),
        "value: expected a whole number, found a string"
    );
    assert_eq!(
        error("in_segment", segment(), json!(1.5)),
        "value: expected a whole number, found a number"
    );
}

#[test]
fn refuses_fields_an_operator_does_not_apply_to() {
    assert_eq!(
        error("is", field("kind", FieldKind::Select), json!("person")),
        "membership.is applies to contact_type fields, not to kind (a select field)"
    );
    assert_eq!(
        error("in_segment", field("score", FieldKind::Number), json!(1)),
        "membership.in_segment applies to segment fields, not to score (a number field)"
    );
    assert_eq!(error("member_of", segment(), json!(1)), "unknown operator `member_of`");
}

#[test]
fn has_no_residual() {
    let error = testing::matches::<Membership>("is", json!("lead"), &["lead"]).unwrap_err();
    assert_eq!(error.to_text(), "`is`: this operator has no residual");
}
