//! The registration machinery: dispatch by name, the field-kind check, arguments
//! deserialized with their paths, derived schemas, and state kept between calls.

use serde::Deserialize;

use crate::testing::{self, field, json};
use crate::{Batch, Field, FieldKind, JsonSchema, Node, Operator, Plan, PluginError};

/// The arguments of `counts`: a word, and an optional limit.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Word {
    /// The word to look for.
    word: String,
    limit: Option<u32>,
}

/// `counts`: how many batches its instance has answered is visible in the answers.
#[derive(Default)]
struct Counts {
    batches: usize,
}

impl Operator for Counts {
    const NAME: &'static str = "counts";
    const LABEL: &'static str = "counts";
    const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Text];
    type Args = Word;

    fn lower(&self, _: &Field, _: &Word, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        Ok(plan.residual())
    }

    fn matches(&mut self, args: &Word, values: &Batch) -> Result<Vec<bool>, PluginError> {
        self.batches += 1;
        let limit = args.limit.map_or(usize::MAX, |l| l as usize);
        Ok(values
            .texts()?
            .map(|v| v.is_some_and(|v| v.contains(&args.word)) && self.batches <= limit)
            .collect())
    }
}

struct Plugin;

crate::plugin!(Plugin {
    name: "counter",
    version: "1.2.3",
    description: "Counts.",
    operators: [Counts],
});

#[test]
fn the_description_comes_from_the_types() {
    let description = testing::describe_filter_operator::<Plugin>();
    assert_eq!(description.manifest.name, "counter");
    assert_eq!(description.manifest.version, "1.2.3");
    assert_eq!(description.entries.len(), 1);
    let entry = &description.entries[0];
    assert_eq!((entry.name.as_str(), entry.label.as_str()), ("counts", "counts"));
    assert_eq!(entry.applies_to, [FieldKind::Text]);
    let schema: serde_json::Value = serde_json::from_str(&entry.schema).unwrap_or_default();
    assert_eq!(schema["type"], "object", "{schema}");
    assert_eq!(schema["properties"]["word"]["type"], "string", "{schema}");
    assert_eq!(
        schema["properties"]["word"]["description"], "The word to look for.",
        "{schema}"
    );
    assert_eq!(schema["required"], json!(["word"]), "{schema}");
    assert!(
        schema.get("$ref").is_none() && schema.get("$schema").is_none(),
        "{schema}"
    );
}

#[test]
fn arguments_are_checked_before_the_operator_runs() {
    let text = || field("name", FieldKind::Text);
    let error = testing::lower::<Plugin>("counts", text(), json!({"word": 3}), 0).unwrap_err();
    assert_eq!(error.path.as_deref(), Some("value.word"), "{error}");
    let error = testing::lower::<Plugin>("counts", text(), json!({"word": "a", "extra": 1}), 0).unwrap_err();
    assert_eq!(error.path.as_deref(), Some("value.extra"), "{error}");
    assert!(error.message.contains("unknown field `extra`"), "{error}");
    let error =
        testing::lower::<Plugin>("counts", field("age", FieldKind::Integer), json!({"word": "a"}), 0).unwrap_err();
    assert_eq!(
        error.to_text(),
        "counter.counts applies to text fields, not to age (a integer field)"
    );
    let error = testing::lower::<Plugin>("nope", text(), json!({"word": "a"}), 0).unwrap_err();
    assert_eq!(error.to_text(), "unknown operator `nope`");
}

#[test]
fn an_operator_keeps_its_state_between_calls() {
    let args = json!({"word": "a", "limit": 2});
    let batch = || vec!["a", "b"];
    // The same instance answers the batches in turn: the third is past the limit.
    for expected in [[true, false], [true, false]] {
        assert_eq!(
            testing::matches::<Plugin>("counts", args.clone(), batch()).unwrap(),
            expected
        );
    }
    // Refused arguments in between cost neither the state nor the next call.
    assert!(testing::matches::<Plugin>("counts", json!({"word": 1}), batch()).is_err());
    assert_eq!(
        testing::matches::<Plugin>("counts", args, batch()).unwrap(),
        [false, false]
    );
}

/// `city_is`: equals the text, ignoring case only.
#[derive(Default)]
struct CityIs;

impl Operator for CityIs {
    const NAME: &'static str = "city_is";
    const LABEL: &'static str = "is (ignoring case)";
    const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Text];
    type Args = String;

    fn lower(&self, field: &Field, city: &String, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        Ok(plan.text(&field.path, crate::TextMode::Equals, city, crate::TextFold::Case))
    }
}

struct Cities;

crate::plugin!(Cities {
    name: "cities",
    description: "Cities.",
    operators: [CityIs],
});

#[test]
fn ignoring_case_is_a_folded_match_and_a_residual_the_sdk_answers() {
    let predicate = testing::lower::<Cities>("city_is", field("city", FieldKind::Text), json!("Łódź"), 0).unwrap();
    assert_eq!(
        predicate.to_string(),
        r#"and(equals(city, "Łódź", fold), residual(city_is, city, {"kartoteka:case": {"mode": "equals", "needle": "Łódź"}}))"#
    );
    let residual = json!({"kartoteka:case": {"mode": "equals", "needle": "Łódź"}});
    let values = [Some("ŁÓDŹ"), Some("łódź"), Some("Lodz"), Some("Łódź Kaliska"), None];
    // CityIs has no `matches` of its own: the SDK answers the case residual.
    let answers = testing::matches::<Cities>("city_is", residual, &values).unwrap();
    assert_eq!(answers, [true, true, false, false, false]);
    // Its own arguments still go to its own (absent) `matches`.
    let error = testing::matches::<Cities>("city_is", json!("Łódź"), &["x"]).unwrap_err();
    assert_eq!(error.to_text(), "`city_is`: this operator has no residual");
}
