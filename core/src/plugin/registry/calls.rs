//! Calls into filter-operator plugins: [`Registry::lower`] and [`Registry::matches`],
//! and the [`CallContext`] that says where a call comes from.
//!
//! # Why the caller says where it is
//!
//! Segment upkeep asks plugins from inside a contact write's open transaction. There the
//! registry must not check the stored generation (that read needs a second pooled
//! connection, which the transactions queued behind this one may be holding: on SQLite,
//! the one writer) nor write the plugin's log before the transaction ends. The caller
//! knows it is in a write; the registry can't. So every call takes a [`CallContext`],
//! passed down explicitly from segment upkeep through the filter engine. The alternative
//! it replaced, a task-local flag that upkeep set around its work, changed the
//! registry's behaviour without anything at the call sites saying so, and silently did
//! nothing for work moved onto another task.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::installed::Entry;
use super::{RELOAD_CHECK, Registry, blocking};
use crate::plugin::engine::{CallError, Called, Loaded};
use crate::plugin::ir::Predicate;
use crate::plugin::limits::MAX_BATCH;
use crate::plugin::values::{Batch, FieldRef, Kind, args_to_wit};
use crate::{Error, Result};

/// Where a plugin call comes from, which decides how it may use the installed plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CallContext {
    /// A request, outside any transaction: the snapshot is checked against the stored
    /// generation when it is older than [`RELOAD_CHECK`], a disabled plugin is refused,
    /// and the plugin's log is written before the call returns.
    #[default]
    Request,
    /// Inside a contact write's open transaction (segment upkeep): the snapshot in hand is
    /// used as it is (the writer checked the generation before it began), and the log is
    /// written by a task of its own, after the transaction lets it.
    Write,
    /// An admin trying a plugin out: as [`CallContext::Request`], but a disabled plugin
    /// runs too.
    Trial,
}

impl CallContext {
    /// Whether a disabled plugin is refused.
    fn enabled_only(self) -> bool {
        self != CallContext::Trial
    }
}

/// Wall time one [`Registry::matches`] call may spend over all its batches.
pub const MATCHES_BUDGET: Duration = Duration::from_secs(10);

impl Registry {
    /// The loaded component of `name`; only if it is enabled, unless `ctx` is a trial.
    pub(super) async fn entry(&self, name: &str, ctx: CallContext) -> Result<(Arc<Entry>, Arc<Loaded>)> {
        let snapshot = self.snapshot_in(RELOAD_CHECK, ctx).await?;
        let entry = snapshot.get(name).cloned().ok_or(Error::NotFound { what: "plugin" })?;
        if ctx.enabled_only() && !entry.info.enabled {
            return Err(Error::conflict(format!(
                "plugin `{name}` is disabled; an admin can enable it on the Plugins page"
            )));
        }
        let loaded = match (&entry.loaded, &entry.info.problem) {
            (Some(l), _) => l.clone(),
            (None, problem) => {
                return Err(Error::Plugin {
                    name: name.to_owned(),
                    message: format!(
                        "can't run on this server: {}",
                        problem.as_deref().unwrap_or("not loaded")
                    ),
                });
            }
        };
        Ok((entry, loaded))
    }

    /// Turns a filter node into a predicate with plugin `plugin`'s operator `op`: the
    /// field it is on, its value (`None`: no value) and the time the query runs at.
    ///
    /// Errors: [`Error::NotFound`] (no such plugin), [`Error::Conflict`] (disabled),
    /// [`Error::Validation`] at `op` (no such operator) or at `value[.path]` (the plugin
    /// refuses the value, with its reason), [`Error::Plugin`] (it failed).
    pub async fn lower(
        &self,
        plugin: &str,
        op: &str,
        field: &FieldRef,
        value: Option<&Json>,
        now: DateTime<Utc>,
        ctx: CallContext,
    ) -> Result<Predicate> {
        let (entry, loaded) = self.entry(plugin, ctx).await?;
        offered(&entry, plugin, Kind::FilterOperator, op)?;
        let args = args_to_wit(value).map_err(|e| Error::invalid("value", e))?;
        let (op_owned, field) = (op.to_owned(), field.clone());
        let host = loaded.host().clone();
        let mut called = blocking(&host, move || loaded.lower(&op_owned, &field, &args, now.timestamp())).await?;
        if let Ok(predicate) = &called.result
            && let Some(r) = predicate.residuals().into_iter().find(|r| !entry.info.offers(&r.op))
        {
            called.result = Err(CallError::Failed(format!(
                "answered a residual of `{}`, which is not one of its operators",
                r.op
            )));
        }
        self.record(plugin, &format!("lower({op})"), &called, ctx).await;
        if let Ok(predicate) = &mut called.result {
            predicate.tag_residuals(plugin);
        }
        called.result.map_err(|e| call_error(plugin, "lower", op, "value", e))
    }

    /// The exact test of a residual: plugin `plugin`'s `matches(op, value)` on every value
    /// of `batch`, one answer per value, in order. The batch is split into guest calls of
    /// at most [`MAX_BATCH`] values, each with its own deadline, on one fresh instance per
    /// call of this function (dropped at the first failure; see
    /// [`crate::plugin::engine::MatchSession`]), within [`MATCHES_BUDGET`] in all. Pass all the
    /// candidates of a query at once, or in large slices: a fresh instance per 4,096
    /// values costs a third more (`BENCHMARKS.md`).
    ///
    /// Errors: [`Error::NotFound`], [`Error::Conflict`] (disabled), [`Error::Plugin`] (it
    /// failed or refused the batch).
    pub async fn matches(
        &self,
        plugin: &str,
        op: &str,
        value: Option<&Json>,
        batch: Batch,
        ctx: CallContext,
    ) -> Result<Vec<bool>> {
        let (_, loaded) = self.entry(plugin, ctx).await?;
        let args = args_to_wit(value).map_err(|e| Error::invalid("value", e))?;
        let op_owned = op.to_owned();
        let host = loaded.host().clone();
        let called = blocking(&host, move || {
            let started = Instant::now();
            let mut session = match loaded.match_session(&op_owned, args) {
                Ok(session) => session,
                Err(e) => {
                    return Called {
                        result: Err(e),
                        stdout: String::new(),
                        stderr: String::new(),
                        elapsed: Duration::ZERO,
                    };
                }
            };
            let mut answers = Vec::with_capacity(batch.len());
            let mut failure = None;
            for chunk in batch.chunks(MAX_BATCH) {
                if started.elapsed() > MATCHES_BUDGET {
                    failure = Some(CallError::Failed(format!(
                        "spent more than {} s on the batches of one call",
                        MATCHES_BUDGET.as_secs()
                    )));
                    break;
                }
                match session.matches(chunk) {
                    Ok(mut part) => answers.append(&mut part),
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            let (stdout, stderr) = session.finish();
            Called {
                result: match failure {
                    Some(e) => Err(e),
                    None => Ok(answers),
                },
                stdout,
                stderr,
                elapsed: started.elapsed(),
            }
        })
        .await?;
        self.record(plugin, &format!("matches({op})"), &called, ctx).await;
        called.result.map_err(|e| Error::Plugin {
            name: plugin.to_owned(),
            message: match e {
                CallError::Refused { .. } => format!("refused a batch in matches({op}): {e}"),
                CallError::Failed(m) => format!("failed in matches({op}): {m}"),
            },
        })
    }
}

/// Refuses a plugin of another kind than `kind`, or a name it doesn't offer.
pub(super) fn offered(entry: &Entry, plugin: &str, kind: Kind, name: &str) -> Result<()> {
    if entry.info.kind != kind {
        return Err(Error::invalid(
            "op",
            format!(
                "plugin `{plugin}` is a {}, not a {}",
                entry.info.kind.noun(),
                kind.noun()
            ),
        ));
    }
    if !entry.info.offers(name) {
        return Err(Error::invalid(
            "op",
            format!("plugin `{plugin}` has no {} `{name}`", kind.offer()),
        ));
    }
    Ok(())
}

/// The error a user reads for a failed `call(name)` of `plugin`: a refusal is a 400 at the
/// argument it names under `root` (`value`, `params`), a failure names the plugin.
pub(super) fn call_error(plugin: &str, call: &str, name: &str, root: &str, e: CallError) -> Error {
    match e {
        CallError::Refused { message, path } => Error::Validation {
            path: argument_path(root, path.as_deref()),
            message: format!("{plugin}.{name}: {message}"),
        },
        CallError::Failed(message) => Error::Plugin {
            name: plugin.to_owned(),
            message: format!("failed in {call}({name}): {message}"),
        },
    }
}

/// Where in the arguments under `root` (a filter node's `value`, a criterion's or an
/// action's `params`) a plugin's refusal points: the plugin's own path (`value`,
/// `value[1]`, `value.within.amount`), or under `root` when it gave a bare one.
fn argument_path(root: &str, path: Option<&str>) -> String {
    match path.map(str::trim) {
        None | Some("") => root.to_owned(),
        Some(p) if p == root => p.to_owned(),
        Some(p) if p.strip_prefix(root).is_some_and(|rest| rest.starts_with(['.', '['])) => p.to_owned(),
        Some(p) if p.starts_with('[') => format!("{root}{p}"),
        Some(p) => format!("{root}.{p}"),
    }
}
