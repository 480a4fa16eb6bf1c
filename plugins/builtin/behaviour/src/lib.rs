//! `behaviour`: the built-in operator on what contacts did.
//!
//! `happened` on an `activity.<kind>` field (`activity.page_visit`, `activity.purchase`)
//! lowers to one exact `activity` node: at least `times` activities of that kind, in the
//! last `within` (counted back from `plan.now()`, the only clock a plugin sees, with the
//! calendar arithmetic of [`Period`]), each with every `where` property equal to
//! the given value and an amount of at least `min_amount`. Without a value (or with
//! `null` or `{}`) it is "at least once, ever".
//!
//! ```json
//! {"field": "activity.page_visit", "op": "happened",
//!  "value": {"times": 3, "within": {"amount": 30, "unit": "days"}, "where": {"page": "/pricing"}}}
//! {"field": "activity.purchase", "op": "happened", "value": {"min_amount": 500}}
//! ```
//!
//! Negate it with the filter's `not` ("no purchase in the last year"): contacts without
//! any activity then match.

use kartoteka_plugin_sdk::calendar::Period;
use kartoteka_plugin_sdk::prelude::*;

/// The plugin.
pub struct Behaviour;

/// The keys `happened` takes.
const KEYS: &[&str] = &["times", "within", "where", "min_amount"];

/// At most this many `where` properties (the host's limit too).
const MAX_PROPERTIES: usize = 64;

/// `behaviour.happened`.
#[derive(Default)]
pub struct Happened;

impl Operator for Happened {
    const NAME: &'static str = "happened";
    const LABEL: &'static str = "happened";
    const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Activity];
    type Args = Args;

    fn args_schema() -> String {
        format!(
            r#"{{"type": ["object", "null"], "properties": {{"times": {{"type": "integer", "minimum": 1, "title": "At least this many times"}}, "within": {within}, "where": {{"type": "object", "title": "With these properties", "propertyNames": {{"pattern": "^[A-Za-z0-9_./-]{{1,64}}$"}}, "additionalProperties": {{"type": ["string", "number", "boolean"]}}, "maxProperties": {MAX_PROPERTIES}}}, "min_amount": {{"type": "number", "title": "With an amount of at least"}}}}, "additionalProperties": false}}"#,
            within = Period::SCHEMA.replacen('{', r#"{"title": "Within the last", "#, 1),
        )
    }

    fn lower(&self, field: &Field, args: &Args, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        let kind = field
            .path
            .strip_prefix("activity.")
            .filter(|kind| field.kind == FieldKind::Activity && is_name(kind))
            .ok_or_else(|| {
                PluginError::new(format!(
                    "behaviour.happened applies to activity fields (activity.<kind>), not to {}",
                    field.path
                ))
            })?;
        let mut activity = ActivityExists {
            kind: kind.to_owned(),
            since: None,
            until: None,
            min_count: 1,
            min_amount: None,
            properties: Vec::new(),
        };
        if let Some(value) = args.value().optional() {
            value.deny_unknown_keys(KEYS)?;
            if let Some(times) = value.get("times")?.optional() {
                let count = times.as_i64()?;
                if count < 1 {
                    return Err(times.error("expected a whole number, 1 or more"));
                }
                activity.min_count =
                    u32::try_from(count).map_err(|_| times.error(format!("expected at most {}", u32::MAX)))?;
            }
            if let Some(within) = value.get("within")?.optional() {
                let period = Period::from_arg(&within)?;
                let Some(since) = period.before_instant(plan.now()) else {
                    return Err(within.get("amount")?.error("reaches back before the year 1"));
                };
                activity.since = Some(since);
            }
            if let Some(properties) = value.get("where")?.optional() {
                activity.properties = where_properties(&properties)?;
            }
            if let Some(min_amount) = value.get("min_amount")?.optional() {
                activity.min_amount = Some(min_amount.as_f64()?);
            }
        }
        Ok(plan.activity(activity))
    }
}

plugin!(Behaviour {
    name: "behaviour",
    description: "What contacts did: page visits, clicks, purchases, ... how often, how recently, with which properties.",
    operators: [Happened],
});

/// The `where` object: property names to the scalar each must equal.
fn where_properties(properties: &Arg<'_>) -> Result<Vec<(String, Value)>, PluginError> {
    let entries = properties.entries()?;
    if entries.len() > MAX_PROPERTIES {
        return Err(properties.error(format!("at most {MAX_PROPERTIES} properties")));
    }
    entries
        .into_iter()
        .map(|(key, arg)| {
            if !is_name(key) {
                return Err(arg.error("a property name is 1 to 64 letters, digits, `_`, `-`, `.` or `/`"));
            }
            let value = match arg.node() {
                Some(ArgNode::Text(_) | ArgNode::Integer(_) | ArgNode::Number(_) | ArgNode::Boolean(_)) => {
                    arg.to_value()?
                }
                _ => {
                    return Err(arg.error(format!(
                        "expected a string, a number or a boolean, found {}",
                        arg.describe()
                    )));
                }
            };
            Ok((key.to_owned(), value))
        })
        .collect()
}

/// What the host takes as an activity kind or a property name: 1 to 64 ASCII letters,
/// digits, `_`, `-`, `.`, `/`.
fn is_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

#[cfg(test)]
mod tests;
