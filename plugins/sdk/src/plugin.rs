//! The three plugin kinds as traits, and the glue from them to the component's exports.

use std::marker::PhantomData;

use crate::action::{self, Contact, Effect};
use crate::criterion;
use crate::filter::{self, FieldRef, LowerContext, Predicate};
use crate::{Args, Batch, PluginError};

/// A filter operator plugin (world `filter-operator`). Export it with
/// [`export_filter_operator!`](crate::export_filter_operator).
pub trait FilterOperator {
    /// The plugin and its operators; called once when the plugin is installed or loaded.
    fn describe() -> filter::Description;

    /// Turns one filter node (`op` on `field` with the filter's `value` as `args`) into a
    /// predicate; called at most once per query, never per row. The answer must follow
    /// from the arguments and `context` alone: the host reuses it within the same second.
    fn lower(op: &str, field: &FieldRef, args: &Args, context: &LowerContext) -> Result<Predicate, PluginError>;

    /// The exact test behind a `residual` node: one answer per value of `values`.
    /// Operators that never lower to a residual can keep the default, which fails.
    fn matches(op: &str, args: &Args, values: &Batch) -> Result<Vec<bool>, PluginError> {
        let _ = (args, values);
        Err(PluginError::new(format!("`{op}`: this operator has no residual")))
    }
}

/// A segment scoring criterion plugin (world `segment-criterion`). Export it with
/// [`export_segment_criterion!`](crate::export_segment_criterion).
pub trait SegmentCriterion {
    /// The plugin and its criteria.
    fn describe() -> criterion::Description;

    /// The points of each value of `values`: exactly one number per value.
    fn score(criterion: &str, params: &Args, values: &Batch) -> Result<Vec<f64>, PluginError>;
}

/// A bulk action plugin (world `bulk-action`). Export it with
/// [`export_bulk_action!`](crate::export_bulk_action).
pub trait BulkAction {
    /// The plugin, its actions and the capabilities its manifest asks for.
    fn describe() -> action::Description;

    /// The effects of `action` on a batch of contacts; the host applies them (or only
    /// shows them, on a dry run).
    fn run(action: &str, params: &Args, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError>;
}

impl PluginError {
    /// The error for an operator, criterion or action name the plugin doesn't offer.
    pub fn unknown_operator(name: &str) -> Self {
        Self::new(format!("unknown operator `{name}`"))
    }
}

/// Adapts a [`FilterOperator`] to the generated export trait.
#[doc(hidden)]
pub struct FilterOperatorExport<T>(PhantomData<T>);

impl<T: FilterOperator> crate::bindings::filter::exports::kartoteka::plugin::filter::Guest for FilterOperatorExport<T> {
    fn describe() -> filter::Description {
        T::describe()
    }

    fn lower(op: String, field: FieldRef, args: Args, context: LowerContext) -> Result<Predicate, PluginError> {
        T::lower(&op, &field, &args, &context)
    }

    fn matches(op: String, args: Args, values: Batch) -> Result<Vec<bool>, PluginError> {
        T::matches(&op, &args, &values)
    }
}

/// Adapts a [`SegmentCriterion`] to the generated export trait.
#[doc(hidden)]
pub struct SegmentCriterionExport<T>(PhantomData<T>);

impl<T: SegmentCriterion> crate::bindings::criterion::exports::kartoteka::plugin::criterion::Guest
    for SegmentCriterionExport<T>
{
    fn describe() -> criterion::Description {
        T::describe()
    }

    fn score(criterion: String, params: Args, values: Batch) -> Result<Vec<f64>, PluginError> {
        T::score(&criterion, &params, &values)
    }
}

/// Adapts a [`BulkAction`] to the generated export trait.
#[doc(hidden)]
pub struct BulkActionExport<T>(PhantomData<T>);

impl<T: BulkAction> crate::bindings::action::exports::kartoteka::plugin::action::Guest for BulkActionExport<T> {
    fn describe() -> action::Description {
        T::describe()
    }

    fn run(action: String, params: Args, contacts: Vec<Contact>) -> Result<Vec<Effect>, PluginError> {
        T::run(&action, &params, &contacts)
    }
}

/// Compile-time checks the export macros use on targets without export glue.
#[doc(hidden)]
pub fn assert_filter_operator<T: FilterOperator>() {}
#[doc(hidden)]
pub fn assert_segment_criterion<T: SegmentCriterion>() {}
#[doc(hidden)]
pub fn assert_bulk_action<T: BulkAction>() {}

/// Makes `$ty` (a [`FilterOperator`]) the component's `kartoteka:plugin/filter` export.
///
/// Call it once, at the root of a `cdylib` crate. On `wasm32` it emits the component's
/// exports; elsewhere (native `cargo test`) it only checks that `$ty` is an operator.
#[macro_export]
macro_rules! export_filter_operator {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __KartotekaFilterOperator = $crate::__private::FilterOperatorExport<$ty>;
            $crate::__private::filter::__export_filter_operator_raw!(
                __KartotekaFilterOperator with_types_in $crate::__private::filter
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_filter_operator::<$ty>;
    };
}

/// Makes `$ty` (a [`SegmentCriterion`]) the component's `kartoteka:plugin/criterion` export.
///
/// Call it once, at the root of a `cdylib` crate.
#[macro_export]
macro_rules! export_segment_criterion {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __KartotekaSegmentCriterion = $crate::__private::SegmentCriterionExport<$ty>;
            $crate::__private::criterion::__export_segment_criterion_raw!(
                __KartotekaSegmentCriterion with_types_in $crate::__private::criterion
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_segment_criterion::<$ty>;
    };
}

/// Makes `$ty` (a [`BulkAction`]) the component's `kartoteka:plugin/action` export.
///
/// Call it once, at the root of a `cdylib` crate.
#[macro_export]
macro_rules! export_bulk_action {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __KartotekaBulkAction = $crate::__private::BulkActionExport<$ty>;
            $crate::__private::action::__export_bulk_action_raw!(
                __KartotekaBulkAction with_types_in $crate::__private::action
            );
        };
        #[cfg(not(target_arch = "wasm32"))]
        const _: fn() = $crate::__private::assert_bulk_action::<$ty>;
    };
}
