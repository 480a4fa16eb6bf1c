use std::collections::HashMap;

use serde_json::{Value as Json, json};

use super::{Described, Describer, Names};
use crate::contact_types::TypeTree;
use crate::entities::contact_types;
use crate::fields::{FieldDef, FieldKind as ExtraKind};
use crate::filter::Catalog;
use crate::plugin::registry::OperatorEntry;
use crate::plugin::values::FieldKind;

const PERIOD: &str = r#"{"type": "object", "properties": {"amount": {"type": "integer", "minimum": 0, "title": "Amount"}, "unit": {"type": "string", "enum": ["days", "months", "years"], "title": "Unit"}}, "required": ["amount", "unit"], "additionalProperties": false}"#;

fn operator(plugin: &str, op: &str, label: &str, kinds: &[FieldKind], schema: Json) -> OperatorEntry {
    OperatorEntry {
        name: format!("{plugin}.{op}"),
        plugin: plugin.to_owned(),
        op: op.to_owned(),
        label: label.to_owned(),
        applies_to: kinds.to_vec(),
        args_schema: schema,
    }
}

fn describer() -> Describer {
    let period: Json = serde_json::from_str(PERIOD).unwrap();
    let values = [
        FieldKind::Text,
        FieldKind::Number,
        FieldKind::Select,
        FieldKind::Boolean,
        FieldKind::ContactType,
        FieldKind::Datetime,
    ];
    let operators = vec![
        operator(
            "std",
            "eq",
            "equals",
            &values,
            json!({"type": ["string", "number", "boolean", "null"]}),
        ),
        operator("std", "is_empty", "is empty", &values, json!({"type": "null"})),
        operator("std", "in_list", "is one of", &values, json!({"type": "array"})),
        operator(
            "std",
            "between",
            "is between",
            &values,
            json!({"type": "array", "minItems": 2, "maxItems": 2}),
        ),
        operator(
            "time",
            "within_last",
            "is within the last",
            &[FieldKind::Datetime],
            period.clone(),
        ),
        operator(
            "membership",
            "is",
            "is a",
            &[FieldKind::ContactType],
            json!({"type": "string"}),
        ),
        operator(
            "membership",
            "in_segment",
            "is in segment",
            &[FieldKind::Segment],
            json!({"type": "integer", "title": "Segment"}),
        ),
        operator(
            "behaviour",
            "happened",
            "happened",
            &[FieldKind::Activity],
            json!({"type": ["object", "null"], "properties": {
                "times": {"type": "integer", "title": "At least this many times"},
                "within": {"title": "Within the last", "type": "object",
                    "properties": period["properties"], "required": ["amount", "unit"]},
                "where": {"type": "object", "title": "With these properties"},
                "min_amount": {"type": "number", "title": "With an amount of at least"}
            }}),
        ),
        operator(
            "wordcount",
            "longer_than",
            "is longer than",
            &[FieldKind::Text],
            json!({"type": "object", "properties": {"words": {"type": "integer", "title": "Words"}}}),
        ),
    ];
    let types = TypeTree::from_rows(vec![
        contact_types::Model {
            id: 1,
            key: "customer".into(),
            label: "Customer".into(),
            parent_id: None,
            position: 0,
        },
        contact_types::Model {
            id: 2,
            key: "vip".into(),
            label: "Very important".into(),
            parent_id: Some(1),
            position: 0,
        },
    ]);
    let extra = vec![FieldDef {
        key: "industry".into(),
        label: "Industry".into(),
        kind: ExtraKind::Select,
        options: vec!["IT".into(), "Retail".into()],
        required: false,
        searchable: false,
        applies_to: vec![],
        position: 0,
    }];
    let builtins = ["std", "time", "membership", "behaviour"].map(str::to_owned).to_vec();
    let catalog = Catalog::new(
        &extra,
        types,
        vec![(7, "ola@example.com".into())],
        operators,
        builtins,
        &[],
    );
    let names = Names {
        users: HashMap::from([("ola@example.com".to_owned(), "Ola Nowak".to_owned())]),
        segments: HashMap::from([(3, "Fair visitors".to_owned())]),
    };
    Describer::new(catalog, names)
}

#[test]
fn a_condition_reads_with_labels_not_keys() {
    let d = describer();
    assert_eq!(
        d.sentence(&json!({"field": "fields.industry", "op": "eq", "value": "IT"})),
        "Industry equals “IT”"
    );
    assert_eq!(
        d.sentence(&json!({"field": "postal_code", "op": "std.is_empty"})),
        "Postal code is empty"
    );
    assert_eq!(
        d.sentence(&json!({"field": "do_not_contact", "op": "eq", "value": false})),
        "Do not contact equals no"
    );
}

#[test]
fn values_are_named_by_what_they_stand_for() {
    let d = describer();
    assert_eq!(
        d.sentence(&json!({"field": "type", "op": "is", "value": "vip"})),
        "Type is a Very important"
    );
    assert_eq!(
        d.sentence(&json!({"field": "owner", "op": "eq", "value": "ola@example.com"})),
        "Owner equals Ola Nowak"
    );
    assert_eq!(
        d.sentence(&json!({"field": "segment", "op": "in_segment", "value": 3})),
        "Segment is in segment “Fair visitors”"
    );
    assert_eq!(
        d.sentence(&json!({"field": "segment", "op": "in_segment", "value": 99})),
        "Segment is in segment segment 99"
    );
    assert_eq!(
        d.sentence(&json!({"field": "kind", "op": "eq", "value": "company"})),
        "Person or company equals a company"
    );
    assert_eq!(
        d.sentence(&json!({"field": "fields.industry", "op": "in_list", "value": ["IT", "Retail"]})),
        "Industry is one of “IT”, “Retail”"
    );
    assert_eq!(
        d.sentence(&json!({"field": "score", "op": "between", "value": [10, 20]})),
        "Score is between 10 and 20"
    );
}

#[test]
fn an_operator_reads_with_its_own_description() {
    let d = describer();
    assert_eq!(
        d.sentence(&json!({"field": "activity.purchase", "op": "behaviour.happened",
            "value": {"min_amount": 500, "times": 2, "within": {"amount": 30, "unit": "days"}}})),
        "Purchase happened with an amount of at least 500, at least this many times 2, within the last 30 days"
    );
    assert_eq!(
        d.sentence(&json!({"field": "activity.page_visit", "op": "behaviour.happened",
            "value": {"where": {"path": "/pricing"}}})),
        "Page visit happened with these properties path “/pricing”"
    );
    assert_eq!(
        d.sentence(&json!({"field": "activity.call", "op": "behaviour.happened"})),
        "Call happened"
    );
    assert_eq!(
        d.sentence(&json!({"field": "created_at", "op": "within_last", "value": {"unit": "days", "amount": 1}})),
        "Created is within the last 1 day"
    );
    assert_eq!(
        d.sentence(&json!({"field": "name", "op": "wordcount.longer_than", "value": {"words": 3}})),
        "Name is longer than words 3"
    );
}

#[test]
fn groups_read_all_of_any_of_and_not() {
    let d = describer();
    let filter = json!({"and": [
        {"field": "city", "op": "eq", "value": "Kraków"},
        {"or": [
            {"field": "fields.industry", "op": "eq", "value": "IT"},
            {"not": {"field": "email", "op": "is_empty"}}
        ]}
    ]});
    assert_eq!(
        d.sentence(&filter),
        "all of: City equals “Kraków”; any of (Industry equals “IT”; not (Email is empty))"
    );
    assert_eq!(
        d.filter(&filter),
        Described::All(vec![
            Described::Condition("City equals “Kraków”".into()),
            Described::Any(vec![
                Described::Condition("Industry equals “IT”".into()),
                Described::Not(Box::new(Described::Condition("Email is empty".into()))),
            ]),
        ])
    );
    assert_eq!(
        d.sentence(&json!({"and": [{"field": "city", "op": "eq", "value": "Łódź"}]})),
        "City equals “Łódź”"
    );
    assert_eq!(d.sentence(&json!({})), "every contact");
    assert_eq!(d.sentence(&Json::Null), "every contact");
    assert_eq!(d.sentence(&json!({"or": []})), "no contact");
}

#[test]
fn a_filter_that_no_longer_checks_is_still_described() {
    let d = describer();
    assert_eq!(
        d.sentence(&json!({"field": "fields.gone", "op": "eq", "value": "x"})),
        "fields.gone equals “x”"
    );
    assert_eq!(
        d.sentence(&json!({"field": "city", "op": "geo.in_location", "value": "Kraków"})),
        "City geo.in location “Kraków”"
    );
}

#[test]
fn a_contacts_value_reads_by_what_it_stands_for() {
    let d = describer();
    assert_eq!(d.field_value("type", &json!("vip")), "Very important");
    assert_eq!(d.field_value("owner", &json!("ola@example.com")), "Ola Nowak");
    assert_eq!(d.field_value("city", &json!("Kraków")), "“Kraków”");
    assert_eq!(d.field_value("city", &Json::Null), "—");
    assert_eq!(
        d.field_value(
            "location",
            &json!({"latitude": 50.06, "longitude": 19.94, "city": "Kraków", "region": null, "country": "Poland"})
        ),
        "Kraków, Poland (50.06, 19.94)"
    );
}
