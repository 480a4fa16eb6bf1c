//! Native test harness: call a plugin's functions in `cargo test`, without WASM.
//!
//! The harness builds the arguments the way the host does (from JSON), calls the plugin
//! the way the component's exports would (through what [`plugin!`](crate::plugin)
//! generated: the field-kind check, deserializing the arguments, the dispatch by name),
//! and checks what the host would check on the answers: a predicate's shape, one answer
//! per value, effects only on the contacts given and only of the capabilities asked for.
//! A malformed answer is a bug in the plugin, so the harness panics with the reason; an
//! `Err` from the plugin comes back as `Err`.
//!
//! ```
//! use kartoteka_plugin_sdk::prelude::*;
//! use kartoteka_plugin_sdk::testing::{self, field, json};
//!
//! /// `shout.shouting`: the text is all capitals.
//! #[derive(Default)]
//! struct Shouting;
//!
//! impl Operator for Shouting {
//!     const NAME: &'static str = "shouting";
//!     const LABEL: &'static str = "is all capitals";
//!     const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Text];
//!     type Args = ();
//!
//!     fn lower(&self, _: &Field, _: &(), plan: &mut Plan<'_>) -> Result<Node, PluginError> {
//!         Ok(plan.residual())
//!     }
//!
//!     fn matches(&mut self, _: &(), values: &Batch) -> Result<Vec<bool>, PluginError> {
//!         Ok(values.texts()?.map(|v| v.is_some_and(|s| s == s.to_uppercase())).collect())
//!     }
//! }
//!
//! struct Shout;
//! plugin!(Shout { name: "shout", description: "Capitals.", operators: [Shouting] });
//!
//! let p = testing::lower::<Shout>("shouting", field("name", FieldKind::Text), json!(null), 0).unwrap();
//! assert_eq!(p.to_string(), "residual(shouting, name, null)");
//! assert_eq!(testing::matches::<Shout>("shouting", json!(null), &["AB", "Ab"]).unwrap(), [true, false]);
//! ```

pub use serde_json::json;

use crate::{
    ActionPlugin, Args, Batch, Contact, CriterionPlugin, Description, Effect, Field, FieldKind, FilterPlugin, IrNode,
    Manifest, PluginError, Predicate,
};

/// A field reference as the host passes it to `lower`.
pub fn field(path: &str, kind: FieldKind) -> Field {
    Field {
        path: path.to_owned(),
        kind,
        options: Vec::new(),
    }
}

/// A select or multiselect field reference with its options.
pub fn field_with_options(path: &str, kind: FieldKind, options: &[&str]) -> Field {
    Field {
        path: path.to_owned(),
        kind,
        options: options.iter().map(|&option| option.to_owned()).collect(),
    }
}

/// Calls `P::lower(op, field, args, now)` and checks the predicate's shape.
///
/// `args` is usually a `json!(...)` value (the filter's `value`); [`Args::none()`] is a
/// filter node without a value. Panics if the predicate is malformed or names a residual
/// operator that `P::description()` doesn't list.
pub fn lower<P: FilterPlugin>(
    op: &str,
    field: Field,
    args: impl Into<Args>,
    now: i64,
) -> Result<Predicate, PluginError> {
    let args = args.into();
    let predicate = P::lower(op, &field, &args, now)?;
    if let Err(error) = predicate.check() {
        panic!(
            "`{op}` lowered to a predicate the host would refuse: {}",
            error.to_text()
        );
    }
    let described = P::description();
    for node in &predicate.nodes {
        if let IrNode::Residual(residual) = node
            && !described.entries.iter().any(|info| info.name == residual.op)
        {
            panic!(
                "`{op}` lowered to a residual of `{}`, which the description doesn't list",
                residual.op
            );
        }
    }
    Ok(predicate)
}

/// Calls `P::matches(op, args, values)` and checks there is one answer per value.
///
/// `values` may be a `&[&str]`, `&[Option<&str>]`, `&[f64]`, `&[i64]`, `&[bool]` (or
/// arrays of them) or a [`Batch`].
pub fn matches<P: FilterPlugin>(
    op: &str,
    args: impl Into<Args>,
    values: impl IntoBatch,
) -> Result<Vec<bool>, PluginError> {
    let batch = values.into_batch();
    let answers = P::matches(op, &args.into(), &batch)?;
    if answers.len() != batch.len() {
        panic!(
            "`{op}` answered {} values for a batch of {}",
            answers.len(),
            batch.len()
        );
    }
    Ok(answers)
}

/// Calls `C::score(criterion, params, values)` and checks there is one finite score per value.
pub fn score<C: CriterionPlugin>(
    criterion: &str,
    params: impl Into<Args>,
    values: impl IntoBatch,
) -> Result<Vec<f64>, PluginError> {
    let batch = values.into_batch();
    let scores = C::score(criterion, &params.into(), &batch)?;
    if scores.len() != batch.len() {
        panic!(
            "`{criterion}` scored {} values for a batch of {}",
            scores.len(),
            batch.len()
        );
    }
    if let Some(bad) = scores.iter().find(|score| !score.is_finite()) {
        panic!("`{criterion}` scored {bad}: scores must be finite");
    }
    Ok(scores)
}

/// Calls `A::run(action, params, contacts)` and checks every effect is on one of
/// `contacts` and needs only capabilities the manifest asks for.
pub fn run<A: ActionPlugin>(
    action: &str,
    params: impl Into<Args>,
    contacts: &[Contact],
) -> Result<Vec<Effect>, PluginError> {
    let effects = A::run(action, &params.into(), contacts)?;
    let asked = A::description().manifest.capabilities;
    for effect in &effects {
        if !contacts.iter().any(|contact| contact.id == effect.contact_id) {
            panic!(
                "`{action}` returned an effect on contact {}, not in the batch",
                effect.contact_id
            );
        }
        let needs = effect.capability();
        if !asked.contains(&needs) {
            panic!("`{action}` returned a {needs:?} effect, which the manifest doesn't ask for");
        }
    }
    Ok(effects)
}

/// A contact with only an id and a name (a person, no extra fields).
pub fn contact(id: i64, name: &str) -> Contact {
    Contact {
        id,
        kind: "person".to_owned(),
        name: name.to_owned(),
        email: None,
        phone: None,
        owner: None,
        fields_json: "{}".to_owned(),
    }
}

/// `P::description()` of a filter plugin, checked as at install: see [`check_description`].
pub fn describe_filter_operator<P: FilterPlugin>() -> Description {
    check_description(P::description())
}

/// `C::description()` of a criterion plugin, checked as at install.
pub fn describe_segment_criterion<C: CriterionPlugin>() -> Description {
    check_description(C::description())
}

/// `A::description()` of an action plugin, checked as at install.
pub fn describe_bulk_action<A: ActionPlugin>() -> Description {
    check_description(A::description())
}

/// Panics unless the manifest is valid (see [`check_manifest`]), the names are unique
/// slugs and the schemas are JSON; returns the description.
pub fn check_description(description: Description) -> Description {
    check_manifest(&description.manifest);
    let mut seen = Vec::new();
    for entry in &description.entries {
        let name = entry.name.as_str();
        if !is_name(name) {
            panic!("name {name:?} is not a slug");
        }
        if seen.contains(&name) {
            panic!("name {name:?} is listed twice");
        }
        seen.push(name);
        if let Err(error) = serde_json::from_str::<serde_json::Value>(&entry.schema) {
            panic!("the schema of {name:?} is not JSON: {error}");
        }
    }
    description
}

/// Panics unless the name is a slug (`a-z`, `0-9`, `-`, `_`, starting with a letter)
/// and the version is `MAJOR.MINOR.PATCH` with an optional `-pre`/`+build`.
pub fn check_manifest(manifest: &Manifest) {
    if !is_name(&manifest.name) {
        panic!("manifest name {:?} is not a slug", manifest.name);
    }
    let core = manifest.version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        panic!("manifest version {:?} is not a semantic version", manifest.version);
    }
}

fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// What the harness accepts as a batch of values.
pub trait IntoBatch {
    /// The batch, laid out as the host sends it.
    fn into_batch(self) -> Batch;
}

impl IntoBatch for Batch {
    fn into_batch(self) -> Batch {
        self
    }
}

impl IntoBatch for &Batch {
    fn into_batch(self) -> Batch {
        self.clone()
    }
}

macro_rules! into_batch {
    ($item:ty, $make:ident, $wrap:expr) => {
        impl IntoBatch for &[$item] {
            fn into_batch(self) -> Batch {
                Batch::$make(self.iter().map($wrap))
            }
        }
        impl<const N: usize> IntoBatch for &[$item; N] {
            fn into_batch(self) -> Batch {
                Batch::$make(self.iter().map($wrap))
            }
        }
        impl IntoBatch for Vec<$item> {
            fn into_batch(self) -> Batch {
                Batch::$make(self.iter().map($wrap))
            }
        }
    };
}

into_batch!(&str, from_texts, |v| Some(*v));
into_batch!(Option<&str>, from_texts, |v| *v);
into_batch!(f64, from_numbers, |v| Some(*v));
into_batch!(Option<f64>, from_numbers, |v| *v);
into_batch!(i64, from_integers, |v| Some(*v));
into_batch!(Option<i64>, from_integers, |v| *v);
into_batch!(bool, from_booleans, |v| Some(*v));
into_batch!(Option<bool>, from_booleans, |v| *v);
