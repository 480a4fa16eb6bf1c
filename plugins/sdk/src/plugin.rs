//! The three plugin kinds as whole-plugin traits: what [`plugin!`](crate::plugin)
//! implements from a list of operators, criteria or actions, and what the export glue
//! calls.
//!
//! A plugin author writes [`Operator`](crate::Operator)s, [`Criterion`](crate::Criterion)s
//! or [`Action`](crate::Action)s and lets the macro implement these. Implementing one by
//! hand is for answers the typed API never gives — the host's tests of malformed plugins
//! (`plugins/hostile/`) do — and is exported with [`export_filter_plugin!`](crate::export_filter_plugin),
//! [`export_criterion_plugin!`](crate::export_criterion_plugin) or
//! [`export_action_plugin!`](crate::export_action_plugin).

use crate::{Args, Batch, Contact, Description, Effect, Field, PluginError, Predicate};

/// A filter-operator plugin (world `filter-operator`), dispatching on the operator's name.
pub trait FilterPlugin {
    /// The plugin and its operators; called once when the plugin is installed or loaded.
    fn description() -> Description;

    /// Turns one filter node (`op` on `field` with the filter's `value` as `args`) into a
    /// predicate, at `now` (seconds since the epoch); called at most once per query.
    fn lower(op: &str, field: &Field, args: &Args, now: i64) -> Result<Predicate, PluginError>;

    /// The exact test behind a `residual` node: one answer per value of `values`.
    fn matches(op: &str, args: &Args, values: &Batch) -> Result<Vec<bool>, PluginError>;
}

/// A scoring-criterion plugin (world `segment-criterion`).
pub trait CriterionPlugin {
    /// The plugin and its criteria.
    fn description() -> Description;

    /// The points of each value of `values`: exactly one number per value.
    fn score(criterion: &str, params: &Args, values: &Batch) -> Result<Vec<f64>, PluginError>;
}

/// A bulk-action plugin (world `bulk-action`).
pub trait ActionPlugin {
    /// The plugin, its actions and the capabilities its manifest asks for.
    fn description() -> Description;

    /// The effects of `action` on a batch of contacts; the host applies them (or only
    /// shows them, on a dry run).
    fn run(action: &str, params: &Args, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError>;
}
