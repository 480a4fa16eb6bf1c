//! Calls into scoring-criterion and bulk-action plugins: [`Registry::score`] and
//! [`Registry::run`], one batch each, checked as [`super::calls`] checks `lower` and
//! `matches`: the plugin must be of the right kind and offer the name, a refusal is a 400
//! at `params`, a failure names the plugin and the reason.

use serde_json::Value as Json;

use super::calls::{CallContext, call_error, offered};
use super::{Registry, blocking};
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
        called
            .result
            .map_err(|e| call_error(plugin, "score", criterion, "params", e))
    }

    /// Plugin `plugin`'s `run(action, params)` on a batch of contacts (at most
    /// [`MAX_BATCH`]), its clock showing `now` (Unix seconds: a job's time, frozen when
    /// the job started, so every batch, a dry run and its run, and a retry agree): the
    /// effects, each on a contact of the batch and of a capability the plugin may use
    /// (approved; on a trial, asked for).
    #[allow(clippy::too_many_arguments)]
    pub async fn run(
        &self,
        plugin: &str,
        action: &str,
        params: Option<&Json>,
        contacts: Vec<ActionContact>,
        now: i64,
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
        let called = blocking(&host, move || loaded.run(&name, &args, &contacts, &allowed, now)).await?;
        self.record(plugin, &format!("run({action})"), &called, ctx).await;
        called
            .result
            .map_err(|e| call_error(plugin, "run", action, "params", e))
    }
}
