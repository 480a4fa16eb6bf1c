//! One filter operator as a type: [`Operator`], and [`Plan`], what its `lower` builds on.

use std::ops::{Deref, DerefMut};

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::{Args, Batch, Field, FieldKind, Node, PluginError, PredicateBuilder, TextFold, TextMode};

/// A filter operator: its name, label, the field kinds it applies to, its arguments, and
/// how it becomes a predicate.
///
/// Register operators with [`plugin!`](crate::plugin), which generates the plugin's
/// `describe` from these constants and dispatches `lower` and `matches` by [`NAME`]
/// (Self::NAME), so the list the host sees and the code that runs can't drift apart.
///
/// - The host only calls an operator on a field of one of [`APPLIES_TO`](Self::APPLIES_TO)
///   (the SDK refuses others with an error naming the field).
/// - The filter's `value` is deserialized into [`Args`](Self::Args) (serde); a value of
///   the wrong shape fails with the path of the bad part (`value.within.amount: ...`)
///   before `lower` runs. The argument schema shown to builders and clients is derived
///   from the type (schemars), unless [`args_schema`](Self::args_schema) is overridden.
///   Take [`Args`](crate::Args) itself to read the raw tree (its `value()` view).
/// - One value of the type lives as long as the plugin's instance: the host runs the
///   batches of one query's `matches` on one instance, so `matches(&mut self, ..)` may
///   keep what it prepared (a compiled pattern) between batches. `lower` gets `&self`:
///   its answer must follow from its arguments and `plan.now()` alone, because the host
///   reuses it for the same filter node, catalogue and second.
pub trait Operator: Default + 'static {
    /// The name after the plugin's in filters: `longer_than` in `example.longer_than`.
    const NAME: &'static str;
    /// What the filter builder shows: `is longer than`.
    const LABEL: &'static str;
    /// The field kinds the operator applies to (see [`FieldKind`]).
    const APPLIES_TO: &'static [FieldKind];

    /// The filter's `value`, deserialized. `()` for no value, `Option<T>` for an optional one.
    type Args: DeserializeOwned + JsonSchema + 'static;

    /// The JSON Schema of the value, as text: by default derived from
    /// [`Args`](Self::Args); override it to describe a value read as a raw tree.
    fn args_schema() -> String {
        crate::register::schema_of::<Self::Args>()
    }

    /// Turns `field <operator> args` into a predicate: push nodes on `plan` (a
    /// [`PredicateBuilder`]) and return the root.
    fn lower(&self, field: &Field, args: &Self::Args, plan: &mut Plan<'_>) -> Result<Node, PluginError>;

    /// The exact test behind [`Plan::residual`]: one answer per value of `values` (`true`
    /// keeps the contact). Operators that never lower to a residual keep the default,
    /// which fails.
    fn matches(&mut self, args: &Self::Args, values: &Batch) -> Result<Vec<bool>, PluginError> {
        let _ = (args, values);
        Err(PluginError::new(format!(
            "`{}`: this operator has no residual",
            Self::NAME
        )))
    }
}

/// What [`Operator::lower`] builds the predicate on: a [`PredicateBuilder`] (every
/// builder method is available on it) that also knows the operator, its field, its raw
/// arguments and the time.
#[derive(Debug)]
pub struct Plan<'a> {
    builder: PredicateBuilder,
    op: &'a str,
    field: &'a Field,
    args: &'a Args,
    now: i64,
}

impl<'a> Plan<'a> {
    /// A plan for `op` on `field` with `args`, at `now`.
    pub fn new(op: &'a str, field: &'a Field, args: &'a Args, now: i64) -> Self {
        Plan {
            builder: PredicateBuilder::new(),
            op,
            field,
            args,
            now,
        }
    }

    /// Now, seconds since the Unix epoch: the only clock a plugin sees.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The exact test of this operator on this field with these arguments: the host calls
    /// [`Operator::matches`] on the values of the contacts the rest of the predicate
    /// leaves. Put a superset the database can decide next to it, in an `and`, whenever
    /// there is one (see the guide's "Superset + residual").
    pub fn residual(&mut self) -> Node {
        let (op, field, args) = (self.op, self.field.path.as_str(), self.args);
        self.builder.residual(op, field, args)
    }

    /// A text match on `field`: `needle` where `mode` says, with case and accents treated
    /// as `fold` says ([`TextFold`]; `true` and `false` are the contract's folded and
    /// exact). [`TextFold::Case`] is the folded match, decided in the database, and next
    /// to it a residual the SDK answers itself with the case checked (see the `case`
    /// module); the operator's own `matches` is not involved.
    pub fn text(&mut self, field: &str, mode: TextMode, needle: &str, fold: impl Into<TextFold>) -> Node {
        match fold.into() {
            TextFold::Exact => self.builder.text(field, mode, needle, false),
            TextFold::Folded => self.builder.text(field, mode, needle, true),
            TextFold::Case => {
                let folded = self.builder.text(field, mode, needle, true);
                let exact = self
                    .builder
                    .residual(self.op, field, &crate::case::residual_args(mode, needle));
                self.builder.and(&[folded, exact])
            }
        }
    }

    /// The predicate whose root is `root`.
    pub fn finish(self, root: Node) -> crate::Predicate {
        self.builder.finish(root)
    }
}

impl Deref for Plan<'_> {
    type Target = PredicateBuilder;

    fn deref(&self) -> &PredicateBuilder {
        &self.builder
    }
}

impl DerefMut for Plan<'_> {
    fn deref_mut(&mut self) -> &mut PredicateBuilder {
        &mut self.builder
    }
}
