//! Calls into scoring-criterion and bulk-action plugins: [`Registry::score`] and
//! [`Registry::run`], one batch each, checked as [`super::calls`] checks `lower` and
//! `matches`: the plugin must be of the right kind and offer the name, a refusal is a 400
//! at `params`, a failure names the plugin and the reason.

use serde_json::Value as Json;

use super::calls::CallContext;
use super::installed::Entry;
use super::{Registry, blocking};
use crate::plugin::engine::{CallError, Called};
use crate::plugin::limits::MAX_BATCH;
use crate::plugin::values::{ActionContact, Batch, Effect, Kind, args_to_wit};
use crate::{Error, Result};

impl Registry {
    /// Plugin `plugin`'s `score(criterion, params)` on `batch` (at most [`MAX_BATCH`]
    /// values): one finite score per value, in order.
    pub async fn score(
        &self,
        plugin: &str,
        criterion: &str,
        params: Option<&Json>,
        batch: Batch,
        ctx: CallContext,
    ) -> Result<Vec<f64>> {
        let (entry, loaded) = self.entry(plugin, ctx).await?;
        offered(&entry, plugin, Kind::SegmentCriterion, criterion)?;
        if batch.len() > MAX_BATCH {
            return Err(Error::invalid(
                "values",
                format!("at most {MAX_BATCH} values per batch"),
            ));
        }
        let args = args_to_wit(params).map_err(|e| Error::invalid("params", e))?;
        let name = criterion.to_owned();
        let host = loaded.host().clone();
        let called = blocking(&host, move || loaded.score(&name, &args, batch)).await?;
        self.record(plugin, &format!("score({criterion})"), &called, ctx).await;
        answer(plugin, "score", criterion, called)
    }

    /// Plugin `plugin`'s `run(action, params)` on a batch of contacts (at most
    /// [`MAX_BATCH`]): the effects, each on a contact of the batch and of a capability
    /// the plugin may use (approved; on a trial, asked for).
    pub async fn run(
        &self,
        plugin: &str,
        action: &str,
        params: Option<&Json>,
        contacts: Vec<ActionContact>,
        ctx: CallContext,
    ) -> Result<Vec<Effect>> {
        let (entry, loaded) = self.entry(plugin, ctx).await?;
        offered(&entry, plugin, Kind::BulkAction, action)?;
        if contacts.len() > MAX_BATCH {
            return Err(Error::invalid(
                "contact_ids",
                format!("at most {MAX_BATCH} contacts per batch"),
            ));
        }
        let allowed = if ctx == CallContext::Trial {
            entry.info.capabilities.clone()
        } else {
            entry.info.approved_capabilities.clone()
        };
        let args = args_to_wit(params).map_err(|e| Error::invalid("params", e))?;
        let name = action.to_owned();
        let host = loaded.host().clone();
        let called = blocking(&host, move || loaded.run(&name, &args, &contacts, &allowed)).await?;
        self.record(plugin, &format!("run({action})"), &called, ctx).await;
        answer(plugin, "run", action, called)
    }
}

/// Refuses a plugin of another kind, or a name it doesn't offer.
fn offered(entry: &Entry, plugin: &str, kind: Kind, name: &str) -> Result<()> {
    if entry.info.kind != kind {
        return Err(Error::invalid(
            "op",
            format!(
                "plugin `{plugin}` is a {}, not a {}",
                entry.info.kind.as_str(),
                kind.as_str()
            ),
        ));
    }
    if !entry.info.offers(name) {
        return Err(Error::invalid("op", format!("plugin `{plugin}` has no `{name}`")));
    }
    Ok(())
}

/// The answer of a call, or the error a user reads: a refusal at `params.<path>`, a
/// failure naming the plugin.
fn answer<T>(plugin: &str, call: &str, name: &str, called: Called<T>) -> Result<T> {
    called.result.map_err(|e| match e {
        CallError::Refused { message, path } => Error::Validation {
            path: params_path(path.as_deref()),
            message: format!("{plugin}.{name}: {message}"),
        },
        CallError::Failed(message) => Error::Plugin {
            name: plugin.to_owned(),
            message: format!("failed in {call}({name}): {message}"),
        },
    })
}

/// Where in the parameters a refusal points: `params`, `params.title`, ...
fn params_path(path: Option<&str>) -> String {
    match path.map(str::trim) {
        None | Some("") => "params".into(),
        Some(p) if p == "params" || p.starts_with("params.") || p.starts_with("params[") => p.to_owned(),
        Some(p) if p.starts_with('[') => format!("params{p}"),
        Some(p) => format!("params.{p}"),
    }
}
