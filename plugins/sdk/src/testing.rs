//! Native test harness: call a plugin's functions in `cargo test`, without WASM.
//!
//! The harness builds the arguments the way the host does (from JSON), calls the trait
//! methods directly, and checks what the host would check on the answers: a predicate's
//! shape, one answer per value, effects only on the contacts given. A malformed answer is
//! a bug in the plugin, so the harness panics with the reason; an `Err` from the plugin
//! comes back as `Err`.
//!
//! ```
//! use kartoteka_plugin_sdk::filter::*;
//! use kartoteka_plugin_sdk::prelude::*;
//! use kartoteka_plugin_sdk::testing::{self, field, json};
//!
//! struct Shout;
//!
//! impl FilterOperator for Shout {
//!     fn describe() -> Description {
//!         let shouting = OperatorInfo {
//!             name: "shouting".into(),
//!             label: "is all capitals".into(),
//!             applies_to: vec![FieldKind::Text],
//!             args_schema: r#"{"type": "null"}"#.into(),
//!         };
//!         Description { manifest: Manifest::new("shout", "0.1.0", "Capitals."), operators: vec![shouting] }
//!     }
//!     fn lower(op: &str, field: &FieldRef, args: &Args, _: &LowerContext) -> Result<Predicate, PluginError> {
//!         let mut b = PredicateBuilder::new();
//!         let root = b.residual(op, &field.path, args);
//!         Ok(b.finish(root))
//!     }
//!     fn matches(_: &str, _: &Args, values: &Batch) -> Result<Vec<bool>, PluginError> {
//!         Ok(values.texts()?.map(|v| v.is_some_and(|s| s == s.to_uppercase())).collect())
//!     }
//! }
//!
//! let p = testing::lower::<Shout>("shouting", field("name", FieldKind::Text), json!(null), 0).unwrap();
//! assert_eq!(p.to_string(), "residual(shouting, name, null)");
//! assert_eq!(testing::matches::<Shout>("shouting", json!(null), &["AB", "Ab"]).unwrap(), [true, false]);
//! ```

pub use serde_json::json;

use crate::action::{self, Contact, Effect};
use crate::criterion;
use crate::filter::{self, FieldRef, IrNode, LowerContext, Predicate};
use crate::{Args, Batch, BulkAction, FieldKind, FilterOperator, Manifest, PluginError, SegmentCriterion};

/// A field reference as the host passes it to `lower`.
pub fn field(path: &str, kind: FieldKind) -> FieldRef {
    FieldRef {
        path: path.to_owned(),
        kind,
        options: Vec::new(),
    }
}

/// A select or multiselect field reference with its options.
pub fn field_with_options(path: &str, kind: FieldKind, options: &[&str]) -> FieldRef {
    FieldRef {
        path: path.to_owned(),
        kind,
        options: options.iter().map(|&option| option.to_owned()).collect(),
    }
}

/// Calls `P::lower(op, field, args, {now})` and checks the predicate's shape.
///
/// `args` is usually a `json!(...)` value (the filter's `value`); [`Args::none()`] is a
/// filter node without a value. Panics if the predicate is malformed or names a residual
/// operator that `P::describe()` doesn't list.
pub fn lower<P: FilterOperator>(
    op: &str,
    field: FieldRef,
    args: impl Into<Args>,
    now: i64,
) -> Result<Predicate, PluginError> {
    let args = args.into();
    let predicate = P::lower(op, &field, &args, &LowerContext { now })?;
    if let Err(error) = predicate.check() {
        panic!(
            "`{op}` lowered to a predicate the host would refuse: {}",
            error.to_text()
        );
    }
    let described = P::describe();
    for node in &predicate.nodes {
        if let IrNode::Residual(residual) = node
            && !described.operators.iter().any(|info| info.name == residual.op)
        {
            panic!(
                "`{op}` lowered to a residual of `{}`, which describe() doesn't list",
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
pub fn matches<P: FilterOperator>(
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

/// Calls `C::score(criterion, params, values)` and checks there is one score per value.
pub fn score<C: SegmentCriterion>(
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
/// `contacts`, that every capability it uses is asked for in the manifest.
pub fn run<A: BulkAction>(
    action: &str,
    params: impl Into<Args>,
    contacts: &[Contact],
) -> Result<Vec<Effect>, PluginError> {
    let effects = A::run(action, &params.into(), contacts)?;
    let asked = A::describe().manifest.capabilities;
    for effect in &effects {
        if !contacts.iter().any(|contact| contact.id == effect.contact_id) {
            panic!(
                "`{action}` returned an effect on contact {}, not in the batch",
                effect.contact_id
            );
        }
        let needs = match effect.effect {
            action::EffectKind::SendEmail(_) => crate::Capability::SendEmail,
            action::EffectKind::CreateTask(_) => crate::Capability::CreateTask,
            action::EffectKind::GrantAccess(_) => crate::Capability::GrantAccess,
        };
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

/// `P::describe()`, checked as at install: see [`check_manifest`]; operator names are
/// unique names, argument schemas are JSON.
pub fn describe_filter_operator<P: FilterOperator>() -> filter::Description {
    let description = P::describe();
    check_manifest(&description.manifest);
    check_entries(
        description
            .operators
            .iter()
            .map(|o| (o.name.as_str(), o.args_schema.as_str())),
    );
    description
}

/// `C::describe()`, checked as at install.
pub fn describe_segment_criterion<C: SegmentCriterion>() -> criterion::Description {
    let description = C::describe();
    check_manifest(&description.manifest);
    check_entries(
        description
            .criteria
            .iter()
            .map(|c| (c.name.as_str(), c.params_schema.as_str())),
    );
    description
}

/// `A::describe()`, checked as at install.
pub fn describe_bulk_action<A: BulkAction>() -> action::Description {
    let description = A::describe();
    check_manifest(&description.manifest);
    check_entries(
        description
            .actions
            .iter()
            .map(|a| (a.name.as_str(), a.params_schema.as_str())),
    );
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

fn check_entries<'a>(entries: impl Iterator<Item = (&'a str, &'a str)>) {
    let mut seen = Vec::new();
    for (name, schema) in entries {
        if !is_name(name) {
            panic!("name {name:?} is not a slug");
        }
        if seen.contains(&name) {
            panic!("name {name:?} is listed twice");
        }
        seen.push(name);
        if let Err(error) = serde_json::from_str::<serde_json::Value>(schema) {
            panic!("the schema of {name:?} is not JSON: {error}");
        }
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
