#![doc = include_str!("../README.md")]

mod action;
mod args;
mod batch;
mod bindings;
pub mod calendar;
mod case;
mod common;
mod criterion;
mod glue;
mod operator;
mod plugin;
mod predicate;
mod register;
#[cfg(all(test, feature = "testing"))]
mod register_tests;
#[cfg(feature = "templates")]
pub mod templates;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(test)]
mod tests;
mod types;

pub use action::{Action, now};
pub use args::Arg;
pub use batch::Texts;
pub use case::TextFold;
pub use criterion::Criterion;
pub use operator::{Operator, Plan};
pub use plugin::{ActionPlugin, CriterionPlugin, FilterPlugin};
pub use predicate::{Node, PredicateBuilder};
pub use types::*;

/// Deriving an argument type: `#[derive(Deserialize, JsonSchema)]`.
pub use schemars::{self, JsonSchema};
pub use serde::{self, Deserialize};
pub use serde_json;

/// What every plugin uses: the traits, the macro, the types, serde and schemars derives.
pub mod prelude {
    pub use crate::{
        AccessLevel, Action, ActionPlugin, ActivityExists, Arg, ArgNode, Args, Batch, Capability, Column, CompareOp,
        Contact, CreateTask, Criterion, CriterionPlugin, Description, Deserialize, Effect, EffectKind, Entry, Field,
        FieldKind, FilterPlugin, GrantAccess, IrNode, JsonSchema, Manifest, Node, Operator, Plan, PluginError,
        Predicate, PredicateBuilder, Principal, Residual, SendEmail, TextFold, TextMode, Value, export_action_plugin,
        export_criterion_plugin, export_filter_plugin, now, plugin,
    };
}

/// What the macros expand to; not API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::{action, criterion, filter};
    pub use crate::glue::{
        ExportAction, ExportCriterion, ExportFilter, assert_action_plugin, assert_criterion_plugin,
        assert_filter_plugin,
    };
    pub use crate::register::{
        action_entry, capabilities, criterion_entry, describe, lower, matches, operator_entry, run, score,
    };
}
