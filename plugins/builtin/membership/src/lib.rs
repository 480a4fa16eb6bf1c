//! `membership`: the built-in operators on what a contact belongs to.
//!
//! - `is` on `type`: the contact's type is the given one or one of its descendants
//!   ("lead" takes in "cold", "warm", ...). The host passes every contact type as a
//!   lineage path in the field's options (`lead`, `lead/cold`, `employee/staff`), so the
//!   subtree is computed here, once per query, and lowered to an `in-set` of type keys.
//! - `in_band` on a scoring model's band (`score_band.<model>`, and the legacy
//!   `score_band` column): the contact's band is the given one, or one of the given ones.
//! - `in_segment`, `not_in_segment` on `segment`: the contact is (is not) a member of the
//!   segment with the given id.
//!
//! Every operator lowers to exact IR (`in-set`, `not`): no residual.

use kartoteka_plugin_sdk::prelude::*;

/// The plugin.
pub struct Membership;

/// The select fields `in_band` applies to: `score_band` and `score_band.<model>`.
const SCORE_BAND: &str = "score_band";

fn is_band(path: &str) -> bool {
    path == SCORE_BAND
        || path
            .strip_prefix(SCORE_BAND)
            .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
}

const TYPE_KEY: &str = r#"{"type": "string", "minLength": 1, "title": "Contact type (with its subtypes)"}"#;
const BANDS: &str = r#"{"anyOf": [{"type": "string", "minLength": 1, "title": "Band"}, {"type": "array", "items": {"type": "string", "minLength": 1}, "title": "Any of these bands"}]}"#;
const SEGMENT_ID: &str = r#"{"type": "integer", "minimum": 1, "title": "Segment"}"#;

/// `membership.is`: the contact's type, or one of its subtypes.
#[derive(Default)]
pub struct Is;

impl Operator for Is {
    const NAME: &'static str = "is";
    const LABEL: &'static str = "is a";
    const APPLIES_TO: &'static [FieldKind] = &[FieldKind::ContactType];
    type Args = Args;

    fn args_schema() -> String {
        TYPE_KEY.to_owned()
    }

    fn lower(&self, field: &Field, args: &Args, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        let keys = subtree(&field.options, &args.value())?;
        Ok(plan.in_set(&field.path, keys.into_iter().map(Value::from).collect()))
    }
}

/// `membership.in_band`: the score band is one of the given ones.
#[derive(Default)]
pub struct InBand;

impl Operator for InBand {
    const NAME: &'static str = "in_band";
    const LABEL: &'static str = "is in band";
    const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Select];
    type Args = Args;

    fn args_schema() -> String {
        BANDS.to_owned()
    }

    fn lower(&self, field: &Field, args: &Args, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        if !is_band(&field.path) {
            return Err(PluginError::new(format!(
                "membership.in_band applies to a scoring model's band ({SCORE_BAND}.<model>), not to {} (a {} field)",
                field.path,
                field.kind.as_str()
            )));
        }
        let bands = bands(field, &args.value())?;
        Ok(if bands.is_empty() {
            plan.never()
        } else {
            plan.in_set(&field.path, bands.into_iter().map(Value::from).collect())
        })
    }
}

/// `membership.in_segment` and `not_in_segment`.
macro_rules! segment_operator {
    ($ty:ident, $name:literal, $label:literal, $negated:literal) => {
        #[doc = concat!("`membership.", $name, "`: the contact ", $label, " with the given id.")]
        #[derive(Default)]
        pub struct $ty;

        impl Operator for $ty {
            const NAME: &'static str = $name;
            const LABEL: &'static str = $label;
            const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Segment];
            type Args = Args;

            fn args_schema() -> String {
                SEGMENT_ID.to_owned()
            }

            fn lower(&self, field: &Field, args: &Args, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
                let value = args.value();
                let id = value.as_i64()?;
                if id < 1 {
                    return Err(value.error("expected a segment id, a whole number 1 or more"));
                }
                let member = plan.in_set(&field.path, vec![Value::Integer(id)]);
                Ok(if $negated { plan.not(member) } else { member })
            }
        }
    };
}

segment_operator!(InSegment, "in_segment", "is in segment", false);
segment_operator!(NotInSegment, "not_in_segment", "is not in segment", true);

plugin!(Membership {
    name: "membership",
    description: "What a contact belongs to: its contact type (with the subtypes), its score band, segments.",
    operators: [Is, InBand, InSegment, NotInSegment],
});

/// The key of the type `value` names and the keys of all its descendants, from the
/// lineage paths of every type (`lead`, `lead/cold`, ...). `value` is a type key
/// (`lead`), or a lineage path as the field's options spell it (`lead/cold`).
fn subtree<'a>(lineages: &'a [String], value: &Arg<'_>) -> Result<Vec<&'a str>, PluginError> {
    let wanted = value.as_str()?;
    let paths: Vec<Vec<&str>> = lineages.iter().map(|lineage| lineage.split('/').collect()).collect();
    let key = |path: &[&'a str]| path.last().copied().unwrap_or_default();
    let found = paths
        .iter()
        .find(|path| key(path) == wanted)
        .or_else(|| {
            lineages
                .iter()
                .position(|lineage| lineage == wanted)
                .and_then(|at| paths.get(at))
        })
        .map(|path| key(path));
    let Some(wanted) = found else {
        let known: Vec<&str> = paths.iter().map(|path| key(path)).collect();
        return Err(value.error(if known.is_empty() {
            format!("unknown contact type {wanted:?}; no contact type is defined")
        } else {
            format!("unknown contact type {wanted:?}; expected one of: {}", known.join(", "))
        }));
    };
    let mut keys = vec![wanted];
    for path in &paths {
        let key = key(path);
        if path.contains(&wanted) && !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// The band names of `in_band`: a name or a list of names, each one of the field's
/// options when the host lists them.
fn bands<'a>(field: &Field, value: &Arg<'a>) -> Result<Vec<&'a str>, PluginError> {
    let items = match value.node() {
        Some(ArgNode::List(_)) => value.items()?,
        _ => vec![value.clone()],
    };
    items
        .iter()
        .map(|item| {
            let band = item
                .as_str()
                .map_err(|_| item.error(format!("expected a band name, found {}", item.describe())))?;
            if band.is_empty() {
                return Err(item.error("expected a band name, found an empty string"));
            }
            if !field.options.is_empty() && !field.options.iter().any(|option| option == band) {
                return Err(item.error(format!(
                    "unknown band {band:?}; expected one of: {}",
                    field.options.join(", ")
                )));
            }
            Ok(band)
        })
        .collect()
}

#[cfg(test)]
mod tests;
