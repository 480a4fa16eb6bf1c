#![doc = include_str!("../README.md")]

mod args;
mod batch;
mod bindings;
pub mod calendar;
mod common;
mod plugin;
mod predicate;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(test)]
mod tests;

pub use args::Arg;
pub use batch::Texts;
pub use plugin::{BulkAction, FilterOperator, SegmentCriterion};
pub use predicate::{Node, PredicateBuilder};

use bindings::filter::kartoteka::plugin::types;
pub use types::{ArgNode, Args, Batch, Capability, Column, FieldKind, Manifest, PluginError, TextColumn, Value};

/// The `filter-operator` world's own types: descriptions and the predicate IR.
pub mod filter {
    pub use crate::bindings::filter::exports::kartoteka::plugin::filter::{
        ActivityExists, Compare, CompareOp, Description, FieldRef, GeoBox, InSet, IrNode, LowerContext, OperatorInfo,
        Predicate, Range, Residual, TextMatch, TextMode,
    };
}

/// The `segment-criterion` world's own types.
pub mod criterion {
    pub use crate::bindings::criterion::exports::kartoteka::plugin::criterion::{CriterionInfo, Description};
}

/// The `bulk-action` world's own types: contacts and the effects an action returns.
pub mod action {
    pub use crate::bindings::action::exports::kartoteka::plugin::action::{
        AccessLevel, ActionInfo, Contact, CreateTask, Description, Effect, EffectKind, GrantAccess, Principal,
        SendEmail,
    };
}

/// What every plugin uses: the traits, the export macros, arguments, batches, errors and
/// the predicate builder. Add `use kartoteka_plugin_sdk::filter::*;` (or `criterion`,
/// `action`) for the world's own types.
pub mod prelude {
    pub use crate::{
        Arg, ArgNode, Args, Batch, BulkAction, Capability, Column, FieldKind, FilterOperator, Manifest, Node,
        PluginError, PredicateBuilder, SegmentCriterion, Value, export_bulk_action, export_filter_operator,
        export_segment_criterion,
    };
}

/// What the export macros expand to; not API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::{action, criterion, filter};
    pub use crate::plugin::{
        BulkActionExport, FilterOperatorExport, SegmentCriterionExport, assert_bulk_action, assert_filter_operator,
        assert_segment_criterion,
    };
}
