//! One bulk action as a type: [`Action`], and the time it runs at: [`now`].

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::{Capability, Contact, Effect, PluginError};

/// A bulk action: given a batch of contacts, the effects that should happen to them.
///
/// The host applies the effects (or only shows them, on a dry run); an action can't touch
/// the world itself. It may only return effects of its [`CAPABILITIES`](Self::CAPABILITIES),
/// which the plugin's manifest asks for and an admin approves. Registered with
/// [`plugin!`](crate::plugin); `params` are deserialized into [`Params`](Self::Params)
/// (errors name `params.<path>`). The job's time, for due dates and the like, is [`now`].
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

/// The time, in seconds since the Unix epoch, read from [`std::time::SystemTime::now`].
///
/// In a bulk action the host's sandbox shows the job's time, frozen when the job started:
/// every batch of the job, a dry run and the real run after it, and a retry after a crash
/// read the same second, so they compute the same effects (a due date "in 3 days" is the
/// same date in the preview and in the tasks created). Natively (`cargo test`) it is the
/// system clock.
pub fn now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |secs| -secs),
    }
}
