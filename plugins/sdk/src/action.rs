//! One bulk action as a type: [`Action`].

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::{Capability, Contact, Effect, PluginError};

/// A bulk action: given a batch of contacts, the effects that should happen to them.
///
/// The host applies the effects (or only shows them, on a dry run); an action can't touch
/// the world itself. It may only return effects of its [`CAPABILITIES`](Self::CAPABILITIES),
/// which the plugin's manifest asks for and an admin approves. Registered with
/// [`plugin!`](crate::plugin); `params` are deserialized into [`Params`](Self::Params)
/// (errors name `params.<path>`).
pub trait Action: Default + 'static {
    /// The action's name within its plugin.
    const NAME: &'static str;
    /// What the actions menu shows.
    const LABEL: &'static str;
    /// The kinds of effect it returns.
    const CAPABILITIES: &'static [Capability];

    /// The action's parameters, deserialized.
    type Params: DeserializeOwned + JsonSchema + 'static;

    /// The JSON Schema of the parameters: by default derived from [`Params`](Self::Params).
    fn params_schema() -> String {
        crate::register::schema_of::<Self::Params>()
    }

    /// The effects on `contacts` (a batch of hundreds): any number per contact, each on a
    /// contact of the batch.
    fn run(&mut self, params: &Self::Params, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError>;
}
