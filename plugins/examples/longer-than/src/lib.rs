//! `example.longer_than`: text fields longer than N characters.
//!
//! SQL databases count characters differently (bytes, code units, code points), so the
//! exact test runs in the plugin as a residual; the database only drops empty and null
//! values first, a cheap superset of the answer.

use kartoteka_plugin_sdk::filter::*;
use kartoteka_plugin_sdk::prelude::*;

/// The plugin; it has no state.
pub struct LongerThan;

impl FilterOperator for LongerThan {
    fn describe() -> Description {
        Description {
            manifest: Manifest::new(
                "example",
                env!("CARGO_PKG_VERSION"),
                "Example operators from the plugin author's guide.",
            ),
            operators: vec![OperatorInfo {
                name: "longer_than".into(),
                label: "is longer than".into(),
                applies_to: vec![FieldKind::Text, FieldKind::LongText],
                args_schema: r#"{"type": "integer", "minimum": 0}"#.into(),
            }],
        }
    }

    fn lower(op: &str, field: &FieldRef, args: &Args, _context: &LowerContext) -> Result<Predicate, PluginError> {
        if op != "longer_than" {
            return Err(PluginError::unknown_operator(op));
        }
        limit(args)?; // fail at planning time, not on the first batch
        let mut b = PredicateBuilder::new();
        // Superset pushed down to SQL: a longer-than-N text is never null or empty...
        let empty = b.is_empty(&field.path);
        let not_empty = b.not(empty);
        // ...and the exact test, on the candidates only.
        let exact = b.residual(op, &field.path, args);
        let root = b.and(&[not_empty, exact]);
        Ok(b.finish(root))
    }

    fn matches(op: &str, args: &Args, values: &Batch) -> Result<Vec<bool>, PluginError> {
        if op != "longer_than" {
            return Err(PluginError::unknown_operator(op));
        }
        let n = limit(args)?;
        let texts = values.texts()?;
        Ok(texts
            .map(|text| text.is_some_and(|text| text.chars().count() > n))
            .collect())
    }
}

/// The argument: a whole number N >= 0.
fn limit(args: &Args) -> Result<usize, PluginError> {
    let value = args.value();
    let n = value.as_i64()?;
    usize::try_from(n).map_err(|_| value.error("expected a whole number of characters, 0 or more"))
}

export_filter_operator!(LongerThan);

#[cfg(test)]
mod tests {
    use super::*;
    use kartoteka_plugin_sdk::testing::{self, field, json};

    #[test]
    fn describes_itself() {
        let description = testing::describe_filter_operator::<LongerThan>();
        assert_eq!(description.manifest.name, "example");
        assert_eq!(description.operators[0].name, "longer_than");
    }

    #[test]
    fn lowers_to_a_superset_and_a_residual() {
        let predicate =
            testing::lower::<LongerThan>("longer_than", field("name", FieldKind::Text), json!(3), 0).unwrap();
        assert_eq!(
            predicate.to_string(),
            "and(not(is-empty(name)), residual(longer_than, name, 3))"
        );
    }

    #[test]
    fn counts_characters_not_bytes() {
        let answers = testing::matches::<LongerThan>("longer_than", json!(3), &["ab", "abcd", "Łódź", "Łód"]);
        assert_eq!(answers.unwrap(), [false, true, true, false]);
    }

    #[test]
    fn null_values_never_match() {
        let answers = testing::matches::<LongerThan>("longer_than", json!(0), &[Some("a"), None, Some("")]);
        assert_eq!(answers.unwrap(), [true, false, false]);
    }

    #[test]
    fn rejects_bad_arguments_with_a_path() {
        let name = || field("name", FieldKind::Text);
        let error = testing::lower::<LongerThan>("longer_than", name(), json!("three"), 0).unwrap_err();
        assert_eq!(error.to_text(), "value: expected a whole number, found a string");
        let error = testing::lower::<LongerThan>("longer_than", name(), json!(-1), 0).unwrap_err();
        assert_eq!(error.path.as_deref(), Some("value"));
        let error = testing::lower::<LongerThan>("longer_than", name(), Args::none(), 0).unwrap_err();
        assert_eq!(error.to_text(), "value: expected a whole number, found nothing");
    }

    #[test]
    fn the_guide_shows_this_very_source() {
        let guide = include_str!("../../../README.md");
        assert!(
            guide.contains(include_str!("lib.rs")),
            "copy src/lib.rs into plugins/README.md, section 9"
        );
        assert!(
            guide.contains(include_str!("../Cargo.toml")),
            "copy Cargo.toml into plugins/README.md, section 9"
        );
    }
}
