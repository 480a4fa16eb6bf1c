//! Managing plugins: upload (install or upgrade), approve, enable, disable, remove, try.
//!
//! Every path goes through [`PluginAdmin`], which only an admin actor (or the command
//! line, run by whoever holds the database) can get, and every change is one transaction
//! that also bumps the generation and writes a line to the plugin's log. The capability
//! gate is here and only here: a plugin whose requested capabilities are not all approved
//! can't be enabled, and an upgrade that asks for more than was approved disables it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde_json::Value as Json;

use super::engine::{CallError, Called};
use super::ir::{Predicate, Residual};
use super::limits::{Grant, MAX_BATCH, MAX_COMPONENT_SIZE};
use super::registry::{CallContext, PluginInfo, Registry, bump_generation, log_host};
use super::values::{ActionContact, Batch, Capability, Effect, FieldKind, FieldRef, Kind};
use crate::entities::{plugin_logs, plugins};
use crate::kernel::identity::Actor;
use crate::{Error, Result};

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// A new plugin, installed disabled.
    New,
    /// A newer version of an installed plugin.
    Upgraded,
}

/// A "try your operator" request: lower `value` for `field` with `op`, then evaluate the
/// residuals, if any, on `values`.
#[derive(Debug, Clone)]
pub struct TryRequest {
    pub op: String,
    pub field: FieldRef,
    pub value: Option<Json>,
    /// Sample values of the field for the residuals' `matches`.
    pub values: Option<Vec<Json>>,
    /// The query time `lower` sees (default: now).
    pub now: Option<DateTime<Utc>>,
    /// Skip `lower`: call `matches(op, value)` on `values` directly.
    pub matches_only: bool,
}

/// The answer of a try: the predicate, and each residual's answers on the sample values.
#[derive(Debug, Clone)]
pub struct TryOutcome {
    /// `None` when only `matches` was called.
    pub predicate: Option<Predicate>,
    pub residuals: Vec<(Residual, Vec<bool>)>,
    pub elapsed: Duration,
}

/// The plugin operations only an admin may run.
#[derive(Debug)]
pub struct PluginAdmin<'a> {
    registry: &'a Registry,
    /// Who acts, for the log: an email or "the command line".
    who: String,
}

impl Registry {
    /// The admin operations, for `actor` (refused unless an admin).
    pub fn admin(&self, actor: &Actor) -> Result<PluginAdmin<'_>> {
        actor.require_admin()?;
        Ok(PluginAdmin {
            registry: self,
            who: actor.email.clone(),
        })
    }

    /// The admin operations for the command line (`kartoteka plugin ...`), whose user
    /// already holds the database.
    pub fn local_admin(&self) -> PluginAdmin<'_> {
        PluginAdmin {
            registry: self,
            who: "the command line".into(),
        }
    }
}

fn cap_list(caps: &[Capability]) -> String {
    caps.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
}

impl PluginAdmin<'_> {
    async fn row(&self, name: &str) -> Result<plugins::Model> {
        plugins::Entity::find()
            .filter(plugins::Column::Name.eq(name))
            .one(self.registry.db())
            .await?
            .ok_or(Error::NotFound { what: "plugin" })
    }

    /// Makes this instance see the change at once (others within a second).
    async fn refreshed(&self, name: &str) -> Result<PluginInfo> {
        self.registry.invalidate();
        self.registry.get(name).await
    }

    /// Installs the component `wasm`, or upgrades the installed plugin of the same name to
    /// it. The component describes itself; one that doesn't compile, imports what the host
    /// doesn't provide, implements no plugin world, fails its `describe` or describes
    /// itself wrongly is refused ([`Error::Validation`] at `wasm`, with the reason). A new
    /// plugin starts disabled with nothing approved. An upgrade must carry a higher
    /// version and the same kind; it stays enabled unless it asks for capabilities that
    /// were not approved.
    ///
    /// With `expected`, a component of another kind is refused (a criterion uploaded
    /// where a filter operator is wanted).
    pub async fn install(&self, wasm: Vec<u8>, expected: Option<Kind>) -> Result<(PluginInfo, Installed)> {
        if wasm.is_empty() {
            return Err(Error::invalid("wasm", "the body is empty; send the component's bytes"));
        }
        if wasm.len() > MAX_COMPONENT_SIZE {
            return Err(Error::invalid(
                "wasm",
                format!("the component is {} bytes; at most {MAX_COMPONENT_SIZE}", wasm.len()),
            ));
        }
        let wasm: Arc<[u8]> = Arc::from(wasm);
        let (loaded, described) = self
            .registry
            .load_and_describe(wasm.clone())
            .await?
            .map_err(|e| Error::invalid("wasm", format!("not a valid plugin: {e}")))?;
        if let Some(expected) = expected
            && loaded.kind() != expected
        {
            return Err(Error::invalid(
                "wasm",
                format!(
                    "the wrong kind of plugin: it implements the {} world, not {}",
                    loaded.kind().as_str(),
                    expected.as_str()
                ),
            ));
        }
        let Called {
            result,
            stdout,
            stderr,
            elapsed,
        } = described;
        let d = match result {
            Ok(d) => d,
            Err(e) => {
                return Err(Error::invalid(
                    "wasm",
                    format!("not a valid plugin: its `describe` {}", describe_failure(&e)),
                ));
            }
        };
        let now = self.registry.now();
        let db = self.registry.db();
        let existing = plugins::Entity::find()
            .filter(plugins::Column::Name.eq(&d.name))
            .one(db)
            .await?;
        let version = d.version.to_string();
        let size = i64::try_from(wasm.len()).unwrap_or(i64::MAX);
        let txn = db.begin().await?;
        let (outcome, line) = match existing {
            Some(row) if row.builtin => {
                return Err(Error::conflict(format!(
                    "`{}` is a built-in plugin; built-ins are upgraded with the server",
                    d.name
                )));
            }
            Some(row) => {
                let installed = semver::Version::parse(&row.version).ok();
                if installed.as_ref().is_some_and(|v| d.version <= *v) {
                    return Err(Error::conflict(format!(
                        "`{}` version {} is installed; upload a newer version to upgrade it (this one is {version})",
                        d.name, row.version
                    )));
                }
                if row.kind != d.kind.as_str() {
                    return Err(Error::conflict(format!(
                        "`{}` is installed as a {} plugin; a new version can't be a {}",
                        d.name,
                        row.kind,
                        d.kind.as_str()
                    )));
                }
                let approved = super::registry::capabilities_from(&row.approved_capabilities);
                let unapproved: Vec<Capability> = d
                    .capabilities
                    .iter()
                    .copied()
                    .filter(|c| !approved.contains(c))
                    .collect();
                let enabled = row.enabled && unapproved.is_empty();
                let mut line = format!("upgraded from {} to {version} by {}", row.version, self.who);
                if row.enabled && !enabled {
                    line.push_str(&format!(
                        "; disabled: the new version asks for {}, not approved yet",
                        cap_list(&unapproved)
                    ));
                }
                let mut active: plugins::ActiveModel = row.into();
                active.version = Set(version.clone());
                active.description = Set(d.description.clone());
                active.enabled = Set(enabled);
                active.capabilities = Set(super::registry::capabilities_json(&d.capabilities));
                active.offers = Set(super::registry::offers_json(&d.offers));
                active.sha256 = Set(loaded.sha256.clone());
                active.size = Set(size);
                active.wasm = Set(Some(wasm.to_vec()));
                active.installed_by = Set(Some(self.who.clone()));
                active.updated_at = Set(now);
                active.update(&txn).await?;
                (Installed::Upgraded, line)
            }
            None => {
                plugins::ActiveModel {
                    name: Set(d.name.clone()),
                    version: Set(version.clone()),
                    kind: Set(d.kind.as_str().into()),
                    description: Set(d.description.clone()),
                    builtin: Set(false),
                    enabled: Set(false),
                    capabilities: Set(super::registry::capabilities_json(&d.capabilities)),
                    approved_capabilities: Set(Json::Array(vec![])),
                    offers: Set(super::registry::offers_json(&d.offers)),
                    sha256: Set(loaded.sha256.clone()),
                    size: Set(size),
                    wasm: Set(Some(wasm.to_vec())),
                    installed_by: Set(Some(self.who.clone())),
                    installed_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                let asks = if d.capabilities.is_empty() {
                    String::new()
                } else {
                    format!("; asks for {}", cap_list(&d.capabilities))
                };
                (
                    Installed::New,
                    format!(
                        "installed version {version} ({}) by {}, disabled{asks}",
                        d.kind.as_str(),
                        self.who
                    ),
                )
            }
        };
        bump_generation(&txn).await?;
        log_host(&txn, &d.name, now, &line).await?;
        txn.commit().await?;
        let name = d.name.clone();
        let output = Called {
            result: Ok(()),
            stdout,
            stderr,
            elapsed,
        };
        self.registry
            .record(&name, "describe", &output, CallContext::Request)
            .await;
        Ok((self.refreshed(&name).await?, outcome))
    }

    /// Approves every capability the plugin asks for and, with `grant`, sets the limits
    /// its calls get beyond the defaults (`Some(Grant::default())` takes a grant back;
    /// `None` leaves it as it is). Takes effect on every instance within a second.
    pub async fn approve(&self, name: &str, grant: Option<Grant>) -> Result<PluginInfo> {
        let row = self.row(name).await?;
        let requested = super::registry::capabilities_from(&row.capabilities);
        let now = self.registry.now();
        let txn = self.registry.db().begin().await?;
        let mut active: plugins::ActiveModel = row.into();
        active.approved_capabilities = Set(super::registry::capabilities_json(&requested));
        if let Some(grant) = grant {
            active.limits = Set(Some(grant.to_json()).filter(|j| !j.is_null()));
        }
        active.updated_at = Set(now);
        active.update(&txn).await?;
        bump_generation(&txn).await?;
        let mut what = if requested.is_empty() {
            "nothing to approve (it asks for no capabilities)".to_owned()
        } else {
            cap_list(&requested)
        };
        if let Some(grant) = grant {
            what.push_str(&format!("; limits: {}", describe_grant(&grant)));
        }
        log_host(
            &txn,
            name,
            now,
            &format!("capabilities approved by {}: {what}", self.who),
        )
        .await?;
        txn.commit().await?;
        self.refreshed(name).await
    }

    /// Enables the plugin: its operators (criteria, actions) are offered at once on every
    /// instance. Refused while a capability it asks for is not approved, or when it can't
    /// run on this server.
    pub async fn enable(&self, name: &str) -> Result<PluginInfo> {
        let info = self.registry.get(name).await?;
        let unapproved = info.unapproved();
        if !unapproved.is_empty() {
            return Err(Error::conflict(format!(
                "plugin `{name}` asks for {} and an admin has not approved it; approve its capabilities first",
                cap_list(&unapproved)
            )));
        }
        if let Some(problem) = &info.problem {
            return Err(Error::conflict(format!(
                "plugin `{name}` can't run on this server: {problem}"
            )));
        }
        self.set_enabled(name, true).await
    }

    /// Disables the plugin: it is no longer offered or run, on every instance.
    pub async fn disable(&self, name: &str) -> Result<PluginInfo> {
        self.set_enabled(name, false).await
    }

    async fn set_enabled(&self, name: &str, enabled: bool) -> Result<PluginInfo> {
        let row = self.row(name).await?;
        if row.enabled == enabled {
            return self.refreshed(name).await;
        }
        let now = self.registry.now();
        let txn = self.registry.db().begin().await?;
        let mut active: plugins::ActiveModel = row.into();
        active.enabled = Set(enabled);
        active.updated_at = Set(now);
        active.update(&txn).await?;
        bump_generation(&txn).await?;
        let verb = if enabled { "enabled" } else { "disabled" };
        log_host(&txn, name, now, &format!("{verb} by {}", self.who)).await?;
        txn.commit().await?;
        self.refreshed(name).await
    }

    /// Removes a third-party plugin and its log. Built-ins can be disabled, not removed.
    pub async fn remove(&self, name: &str) -> Result<()> {
        let row = self.row(name).await?;
        if row.builtin {
            return Err(Error::conflict(format!(
                "`{name}` is a built-in plugin; it can be disabled, not removed"
            )));
        }
        let txn = self.registry.db().begin().await?;
        plugins::Entity::delete_by_id(row.id).exec(&txn).await?;
        plugin_logs::Entity::delete_many()
            .filter(plugin_logs::Column::Plugin.eq(name))
            .exec(&txn)
            .await?;
        bump_generation(&txn).await?;
        txn.commit().await?;
        self.registry.invalidate();
        tracing::info!(plugin = name, by = %self.who, "plugin removed");
        Ok(())
    }

    /// Runs `lower` on an installed plugin, enabled or not, and `matches` for each
    /// residual of the answer on the sample values: what a plugin author or an admin
    /// checks before enabling it.
    pub async fn try_operator(&self, name: &str, request: TryRequest) -> Result<TryOutcome> {
        let started = std::time::Instant::now();
        let sample = |values: &[Json]| {
            if values.len() > MAX_BATCH {
                return Err(Error::invalid("values", format!("at most {MAX_BATCH} sample values")));
            }
            Batch::from_json(request.field.kind, values).map_err(|e| Error::invalid("values", e))
        };
        if request.matches_only {
            let values = request
                .values
                .as_deref()
                .ok_or_else(|| Error::invalid("values", "`matches` needs sample values"))?;
            let answers = self
                .registry
                .matches(
                    name,
                    &request.op,
                    request.value.as_ref(),
                    sample(values)?,
                    CallContext::Trial,
                )
                .await?;
            let residual = Residual {
                plugin: name.to_owned(),
                op: request.op.clone(),
                field: request.field.path.clone(),
                args: request.value.clone(),
            };
            return Ok(TryOutcome {
                predicate: None,
                residuals: vec![(residual, answers)],
                elapsed: started.elapsed(),
            });
        }
        let now = request.now.unwrap_or_else(|| self.registry.now());
        let predicate = self
            .registry
            .lower(
                name,
                &request.op,
                &request.field,
                request.value.as_ref(),
                now,
                CallContext::Trial,
            )
            .await?;
        let mut residuals = Vec::new();
        if let Some(values) = &request.values {
            for residual in predicate.residuals() {
                let answers = self
                    .registry
                    .matches(
                        name,
                        &residual.op,
                        residual.args.as_ref(),
                        sample(values)?,
                        CallContext::Trial,
                    )
                    .await?;
                residuals.push((residual.clone(), answers));
            }
        }
        Ok(TryOutcome {
            predicate: Some(predicate),
            residuals,
            elapsed: started.elapsed(),
        })
    }

    /// Tries a criterion of an installed plugin, enabled or not: `score(criterion,
    /// params)` on sample values of a field of `kind`, under the production limits.
    pub async fn try_criterion(
        &self,
        name: &str,
        criterion: &str,
        params: Option<&Json>,
        kind: FieldKind,
        values: &[Json],
    ) -> Result<(Vec<f64>, Duration)> {
        let started = std::time::Instant::now();
        let batch = Batch::from_json(kind, values).map_err(|e| Error::invalid("values", e))?;
        let scores = self
            .registry
            .score(name, criterion, params, batch, CallContext::Trial)
            .await?;
        Ok((scores, started.elapsed()))
    }

    /// Tries an action of an installed plugin, enabled or not, on a batch of contacts: the
    /// effects `run` answers, checked against the capabilities it asks for; nothing is
    /// applied (a dry run of one batch).
    pub async fn try_action(
        &self,
        name: &str,
        action: &str,
        params: Option<&Json>,
        contacts: Vec<ActionContact>,
    ) -> Result<(Vec<Effect>, Duration)> {
        let started = std::time::Instant::now();
        let effects = self
            .registry
            .run(
                name,
                action,
                params,
                contacts,
                self.registry.now().timestamp(),
                CallContext::Trial,
            )
            .await?;
        Ok((effects, started.elapsed()))
    }

    /// Every installed plugin (same as [`Registry::list`]).
    pub async fn list(&self) -> Result<Vec<PluginInfo>> {
        self.registry.list().await
    }
}

fn describe_failure(e: &CallError) -> String {
    match e {
        CallError::Refused { .. } => format!("returned an error: {e}"),
        CallError::Failed(m) => m.clone(),
    }
}

/// A grant in words: `256 MiB of memory per call, 5000 ms per batch (granted)`, or the
/// same figures of the defaults with `(the defaults)`.
pub fn describe_grant(grant: &Grant) -> String {
    format!(
        "{} MiB of memory per call, {} ms per batch{}",
        grant.memory() >> 20,
        grant.batch_deadline().as_millis(),
        if grant.is_default() {
            " (the defaults)"
        } else {
            " (granted)"
        }
    )
}
