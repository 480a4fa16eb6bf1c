//! One scoring criterion as a type: [`Criterion`].

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::{Batch, FieldKind, PluginError};

/// A segment scoring criterion: maps each value of a field to points.
///
/// Registered with [`plugin!`](crate::plugin) like an [`Operator`](crate::Operator): the
/// criterion's `params` are deserialized into [`Params`](Self::Params) (errors name
/// `params.<path>`), the schema is derived from that type unless
/// [`params_schema`](Self::params_schema) is overridden, and one value of the type lives as
/// long as the instance, so `score` may keep what it prepared between batches.
pub trait Criterion: Default + 'static {
    /// The criterion's name within its plugin.
    const NAME: &'static str;
    /// What the scoring-model editor shows.
    const LABEL: &'static str;
    /// The field kinds it scores.
    const APPLIES_TO: &'static [FieldKind];

    /// The criterion's parameters, deserialized.
    type Params: DeserializeOwned + JsonSchema + 'static;

    /// The JSON Schema of the parameters: by default derived from [`Params`](Self::Params).
    fn params_schema() -> String {
        crate::register::schema_of::<Self::Params>()
    }

    /// The points of each value of `values` (`None` rows are contacts without a value):
    /// exactly one finite number per value.
    fn score(&mut self, params: &Self::Params, values: &Batch) -> Result<Vec<f64>, PluginError>;
}
