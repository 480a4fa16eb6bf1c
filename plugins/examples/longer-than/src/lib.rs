//! The `example` plugin of the author's guide: two operators on text fields.
//!
//! - `longer_than N`: more than N characters. SQL databases count characters differently
//!   (bytes, code units, code points), so the exact test runs in the plugin as a
//!   residual; the database only drops empty and null values first, a cheap superset.
//! - `ends_with_ignoring_case "@gmail.com"`: ends with the text, whatever the case, but
//!   with the accents as written (`TextFold::Case`). The database keeps the folded
//!   matches (case- and accent-insensitive, indexed), a superset; the case residual the
//!   SDK answers drops `@gmaíl.com`.

use kartoteka_plugin_sdk::prelude::*;

/// `longer_than N`: the text has more than N characters.
#[derive(Default)]
pub struct LongerThan;

impl Operator for LongerThan {
    const NAME: &'static str = "longer_than";
    const LABEL: &'static str = "is longer than";
    const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Text, FieldKind::LongText, FieldKind::Email, FieldKind::Url];

    /// N, a whole number of characters (the schema says `"minimum": 0`).
    type Args = u32;

    fn lower(&self, field: &Field, _n: &u32, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        // Superset pushed down to SQL: a longer-than-N text is never null or empty...
        let empty = plan.is_empty(&field.path);
        let not_empty = plan.not(empty);
        // ...and the exact test, on the candidates only.
        let exact = plan.residual();
        Ok(plan.and(&[not_empty, exact]))
    }

    fn matches(&mut self, n: &u32, values: &Batch) -> Result<Vec<bool>, PluginError> {
        let n = *n as usize;
        let texts = values.texts()?;
        Ok(texts
            .map(|text| text.is_some_and(|text| text.chars().count() > n))
            .collect())
    }
}

/// `ends_with_ignoring_case SUFFIX`: the text ends with SUFFIX, ignoring case only.
#[derive(Default)]
pub struct EndsWithIgnoringCase;

impl Operator for EndsWithIgnoringCase {
    const NAME: &'static str = "ends_with_ignoring_case";
    const LABEL: &'static str = "ends with (ignoring case)";
    const APPLIES_TO: &'static [FieldKind] = &[
        FieldKind::Text,
        FieldKind::LongText,
        FieldKind::Email,
        FieldKind::Phone,
        FieldKind::Url,
    ];
    type Args = String;

    fn lower(&self, field: &Field, suffix: &String, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        // The folded suffix in SQL (indexed), and the case checked on its candidates by
        // the SDK: no `matches` to write.
        Ok(plan.text(&field.path, TextMode::Suffix, suffix, TextFold::Case))
    }
}

/// The plugin: its name, and the operators it offers.
pub struct Example;

plugin!(Example {
    name: "example",
    description: "Example operators from the plugin author's guide.",
    operators: [LongerThan, EndsWithIgnoringCase],
});

#[cfg(test)]
mod tests {
    use super::*;
    use kartoteka_plugin_sdk::serde_json::Value as Json;
    use kartoteka_plugin_sdk::testing::{self, field, json};

    #[test]
    fn describes_itself() {
        let description = testing::describe_filter_operator::<Example>();
        assert_eq!(description.manifest.name, "example");
        assert_eq!(description.entries[0].name, "longer_than");
        assert_eq!(description.entries[0].label, "is longer than");
        let schema: Json = kartoteka_plugin_sdk::serde_json::from_str(&description.entries[0].schema).unwrap();
        assert_eq!(schema["type"], "integer");
        assert_eq!(schema["minimum"], 0);
    }

    #[test]
    fn lowers_to_a_superset_and_a_residual() {
        let predicate = testing::lower::<Example>("longer_than", field("name", FieldKind::Text), json!(3), 0).unwrap();
        assert_eq!(
            predicate.to_string(),
            "and(not(is-empty(name)), residual(longer_than, name, 3))"
        );
    }

    #[test]
    fn counts_characters_not_bytes() {
        let answers = testing::matches::<Example>("longer_than", json!(3), &["ab", "abcd", "Łódź", "Łód"]);
        assert_eq!(answers.unwrap(), [false, true, true, false]);
    }

    #[test]
    fn null_values_never_match() {
        let answers = testing::matches::<Example>("longer_than", json!(0), &[Some("a"), None, Some("")]);
        assert_eq!(answers.unwrap(), [true, false, false]);
    }

    #[test]
    fn rejects_bad_arguments_with_a_path() {
        let name = || field("name", FieldKind::Text);
        let error = testing::lower::<Example>("longer_than", name(), json!("three"), 0).unwrap_err();
        assert_eq!(error.to_text(), r#"value: invalid type: string "three", expected u32"#);
        let error = testing::lower::<Example>("longer_than", name(), json!(-1), 0).unwrap_err();
        assert_eq!(error.to_text(), "value: invalid value: integer `-1`, expected u32");
        let error = testing::lower::<Example>("longer_than", name(), Args::none(), 0).unwrap_err();
        assert_eq!(error.to_text(), "value: invalid type: null, expected u32");
        let phone = field("phone", FieldKind::Phone);
        let error = testing::lower::<Example>("longer_than", phone, json!(3), 0).unwrap_err();
        assert_eq!(
            error.to_text(),
            "example.longer_than applies to text, long_text, email, url fields, not to phone (a phone field)"
        );
    }

    #[test]
    fn ignoring_case_keeps_accents() {
        let email = field("email", FieldKind::Email);
        let predicate = testing::lower::<Example>("ends_with_ignoring_case", email, json!("@gmail.com"), 0);
        assert_eq!(
            predicate.unwrap().to_string(),
            r#"and(suffix(email, "@gmail.com", fold), residual(ends_with_ignoring_case, email, {"kartoteka:case": {"mode": "suffix", "needle": "@gmail.com"}}))"#
        );
        let residual = json!({"kartoteka:case": {"mode": "suffix", "needle": "@gmail.com"}});
        let values = [
            Some("Ada@GMAIL.com"),
            Some("accent@gmaíl.com"),
            Some("ada@gmail.co"),
            None,
        ];
        let answers = testing::matches::<Example>("ends_with_ignoring_case", residual, &values);
        assert_eq!(answers.unwrap(), [true, false, false, false]);
    }

    #[test]
    fn the_guide_shows_this_very_source() {
        let guide = include_str!("../../../README.md");
        assert!(
            guide.contains(include_str!("lib.rs")),
            "copy src/lib.rs into plugins/README.md, section 10"
        );
        assert!(
            guide.contains(include_str!("../Cargo.toml")),
            "copy Cargo.toml into plugins/README.md, section 10"
        );
    }
}
