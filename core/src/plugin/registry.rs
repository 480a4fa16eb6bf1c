//! Installed plugins: stored in the database, loaded in memory, kept in step across
//! server instances.
//!
//! The `plugins` table is the truth (name, version, kind, what it offers, capabilities
//! asked and approved, enabled, the component itself for third-party plugins). Each
//! instance holds a [`Snapshot`] of it with every component compiled and prepared. Every
//! change (install, upgrade, approve, enable, disable, remove, a built-in upgraded by a
//! new binary) bumps `plugin_generation` in the same transaction; an instance compares the
//! stored generation with its snapshot's before it uses the snapshot, at most once per
//! [`RELOAD_CHECK`] for calls and on every catalogue read, and reloads on a change. So a
//! plugin disabled on one instance stops being used by all of them within a second,
//! without a restart; unchanged components are not recompiled (same SHA-256), and new
//! ones come from the disk cache when another instance already compiled them.
//!
//! Calls ([`Registry::lower`], [`Registry::matches`]) run on tokio's blocking pool,
//! at most [`super::limits::MAX_CONCURRENT_CALLS`] at once, so a plugin spinning until
//! its deadline holds one blocking thread and nothing else: the async server keeps
//! answering. What a plugin prints, and every failure, goes to its log (`plugin_logs`,
//! the last [`LOG_KEEP`] lines per plugin).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::{Value as Json, json};

use super::builtin;
use super::cache::DiskCache;
use super::engine::{CallError, Called, Host, Loaded};
use super::ir::Predicate;
use super::limits::MAX_BATCH;
use super::values::{Batch, Capability, Description, FieldKind, FieldRef, Kind, Offer, args_to_wit};
use crate::clock::{Clock, stored};
use crate::entities::{plugin_generation, plugin_logs, plugins};
use crate::{Error, Result};

/// How stale an instance's view of the installed plugins may be before a call checks the
/// database's generation again.
pub const RELOAD_CHECK: Duration = Duration::from_secs(1);

tokio::task_local! {
    /// Set while a contact write's transaction is open (see [`in_write`]).
    static IN_WRITE: ();
}

/// Runs `f` with calls using the snapshot in hand instead of checking the generation: a
/// write transaction that asks plugins (segment upkeep) has checked the generation itself,
/// and the check would need a second pooled connection, which the transactions waiting
/// behind this one may be holding.
pub(crate) async fn in_write<F: std::future::Future>(f: F) -> F::Output {
    IN_WRITE.scope((), f).await
}
/// Wall time one [`Registry::matches`] call may spend over all its batches.
pub const MATCHES_BUDGET: Duration = Duration::from_secs(10);
/// Log lines kept per plugin.
pub const LOG_KEEP: u64 = 500;
/// Log lines kept from one call.
const LOG_LINES_PER_CALL: usize = 40;
/// Longest log line kept.
const LOG_LINE_MAX: usize = 1_000;

/// A plugin as installed.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub kind: Kind,
    pub description: String,
    /// Shipped inside the binary.
    pub builtin: bool,
    pub enabled: bool,
    /// What it asks for.
    pub capabilities: Vec<Capability>,
    /// What an admin granted.
    pub approved_capabilities: Vec<Capability>,
    /// Its operators, criteria or actions.
    pub offers: Vec<Offer>,
    pub sha256: String,
    pub size: i64,
    pub installed_by: Option<String>,
    pub installed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why it can't run on this server (it doesn't compile here, or it is a built-in this
    /// binary doesn't carry); `None` when it can.
    pub problem: Option<String>,
}

impl PluginInfo {
    /// Whether every capability it asks for is approved.
    pub fn approved(&self) -> bool {
        self.capabilities.iter().all(|c| self.approved_capabilities.contains(c))
    }

    /// The capabilities asked for and not approved.
    pub fn unapproved(&self) -> Vec<Capability> {
        self.capabilities
            .iter()
            .copied()
            .filter(|c| !self.approved_capabilities.contains(c))
            .collect()
    }

    /// Whether it offers `op`.
    pub fn offers(&self, op: &str) -> bool {
        self.offers.iter().any(|o| o.name == op)
    }
}

/// One line of a plugin's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    /// `stdout`, `stderr` or `host`.
    pub stream: String,
    pub line: String,
}

/// An operator of an enabled filter-operator plugin, for the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorEntry {
    /// `std.eq`.
    pub name: String,
    pub plugin: String,
    pub op: String,
    pub label: String,
    pub applies_to: Vec<FieldKind>,
    /// JSON Schema of the operator's value.
    pub args_schema: Json,
}

/// An installed plugin and its component, as loaded by this instance.
#[derive(Debug)]
pub struct Entry {
    pub info: PluginInfo,
    loaded: Option<Arc<Loaded>>,
}

/// The installed plugins as of one generation.
#[derive(Debug, Default)]
pub struct Snapshot {
    generation: Option<i64>,
    plugins: HashMap<String, Arc<Entry>>,
}

impl Snapshot {
    /// Every installed plugin, built-ins first, then by name.
    pub fn list(&self) -> Vec<&PluginInfo> {
        let mut out: Vec<&PluginInfo> = self.plugins.values().map(|e| &e.info).collect();
        out.sort_by(|a, b| b.builtin.cmp(&a.builtin).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// The plugin named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Entry>> {
        self.plugins.get(name)
    }
}

/// The plugin service of one `Core`: the snapshot, the database and the engine.
pub struct Registry {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    cache_dir: Option<PathBuf>,
    cache: OnceLock<Option<DiskCache>>,
    snapshot: RwLock<Arc<Snapshot>>,
    checked_at: Mutex<Option<Instant>>,
    reload: tokio::sync::Mutex<()>,
    builtins: tokio::sync::OnceCell<()>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("cache_dir", &self.cache_dir).finish()
    }
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

pub(crate) fn capabilities_json(caps: &[Capability]) -> Json {
    Json::Array(caps.iter().map(|c| Json::from(c.as_str())).collect())
}

pub(crate) fn capabilities_from(json: &Json) -> Vec<Capability> {
    json.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str())
                .filter_map(Capability::parse)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn offers_json(offers: &[Offer]) -> Json {
    Json::Array(
        offers
            .iter()
            .map(|o| {
                json!({
                    "name": o.name,
                    "label": o.label,
                    "applies_to": o.applies_to.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "schema": o.schema,
                })
            })
            .collect(),
    )
}

fn offers_of(json: &Json) -> Vec<Offer> {
    json.as_array()
        .map(|items| {
            items
                .iter()
                .map(|o| Offer {
                    name: o.get("name").and_then(Json::as_str).unwrap_or_default().to_owned(),
                    label: o.get("label").and_then(Json::as_str).unwrap_or_default().to_owned(),
                    applies_to: o
                        .get("applies_to")
                        .and_then(Json::as_array)
                        .map(|k| k.iter().filter_map(Json::as_str).filter_map(FieldKind::parse).collect())
                        .unwrap_or_default(),
                    schema: o.get("schema").cloned().unwrap_or(Json::Null),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn info_of(m: &plugins::Model, problem: Option<String>) -> PluginInfo {
    PluginInfo {
        name: m.name.clone(),
        version: m.version.clone(),
        kind: Kind::parse(&m.kind).unwrap_or(Kind::FilterOperator),
        description: m.description.clone(),
        builtin: m.builtin,
        enabled: m.enabled,
        capabilities: capabilities_from(&m.capabilities),
        approved_capabilities: capabilities_from(&m.approved_capabilities),
        offers: offers_of(&m.offers),
        sha256: m.sha256.clone(),
        size: m.size,
        installed_by: m.installed_by.clone(),
        installed_at: m.installed_at,
        updated_at: m.updated_at,
        problem,
    }
}

/// Bumps the generation: every instance reloads its snapshot.
pub(crate) async fn bump_generation(db: &impl ConnectionTrait) -> Result<()> {
    plugin_generation::Entity::update_many()
        .col_expr(
            plugin_generation::Column::Generation,
            Expr::col(plugin_generation::Column::Generation).add(1),
        )
        .filter(plugin_generation::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

/// Appends host lines to a plugin's log.
pub(crate) async fn log_host(db: &impl ConnectionTrait, plugin: &str, at: DateTime<Utc>, line: &str) -> Result<()> {
    plugin_logs::ActiveModel {
        plugin: Set(plugin.to_owned()),
        at: Set(at),
        stream: Set("host".into()),
        line: Set(line.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Runs `f` on the blocking pool once a call slot is free.
pub(crate) async fn blocking<T: Send + 'static>(host: &Arc<Host>, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let permit = host.slots().clone().acquire_owned().await.map_err(internal)?;
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        f()
    })
    .await;
    outcome.map_err(|e| Error::Internal(format!("a plugin call's thread failed: {e}")))
}

impl Registry {
    /// A registry over `db`, caching compiled components in `cache_dir` (none: the
    /// system's temporary directory, see [`super::cache::default_dir`]).
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>, cache_dir: Option<PathBuf>) -> Self {
        Registry {
            db,
            clock,
            cache_dir,
            cache: OnceLock::new(),
            snapshot: RwLock::new(Arc::new(Snapshot::default())),
            checked_at: Mutex::new(None),
            reload: tokio::sync::Mutex::new(()),
            builtins: tokio::sync::OnceCell::new(),
        }
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        stored(self.clock.now())
    }

    /// The process's plugin host.
    pub(crate) fn host(&self) -> Result<Arc<Host>> {
        Host::shared().map_err(Error::Internal)
    }

    /// The disk cache, opened on first use.
    pub(crate) fn cache(&self) -> Option<DiskCache> {
        self.cache
            .get_or_init(|| {
                let dir = self.cache_dir.clone().unwrap_or_else(|| super::cache::default_dir(""));
                DiskCache::open(&dir)
            })
            .clone()
    }

    /// Compiles and describes `wasm` on the blocking pool.
    pub(crate) async fn load_and_describe(
        &self,
        wasm: Arc<[u8]>,
    ) -> Result<std::result::Result<(Loaded, Called<Description>), String>> {
        let host = self.host()?;
        let cache = self.cache();
        let worker = host.clone();
        blocking(&host, move || {
            let loaded = worker.load(&wasm, cache.as_ref())?;
            let described = loaded.describe();
            Ok((loaded, described))
        })
        .await
    }

    /// Installs or upgrades the built-ins this binary carries; once per registry.
    async fn ensure_builtins(&self) -> Result<()> {
        self.builtins.get_or_try_init(|| self.install_builtins()).await?;
        Ok(())
    }

    async fn install_builtins(&self) -> Result<()> {
        let mut changed = false;
        for (package, bytes) in builtin::packages() {
            let (loaded, described) = match self.load_and_describe(Arc::from(bytes)).await? {
                Ok(ok) => ok,
                Err(e) => {
                    tracing::error!(package, error = %e, "a built-in plugin can't be loaded");
                    continue;
                }
            };
            let description = match described.result {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(package, error = %e, "a built-in plugin can't describe itself");
                    continue;
                }
            };
            changed |= self.store_builtin(&loaded, &description).await?;
        }
        if changed {
            self.invalidate();
        }
        Ok(())
    }

    /// Writes a built-in's row if it is new or changed; whether it wrote.
    async fn store_builtin(&self, loaded: &Loaded, d: &Description) -> Result<bool> {
        use sea_orm::TransactionTrait;
        let existing = plugins::Entity::find()
            .filter(plugins::Column::Name.eq(&d.name))
            .one(&self.db)
            .await?;
        if let Some(row) = &existing
            && row.builtin
            && row.sha256 == loaded.sha256
        {
            return Ok(false);
        }
        let now = self.now();
        let txn = self.db.begin().await?;
        let version = d.version.to_string();
        let line = match &existing {
            None => {
                let inserted = plugins::ActiveModel {
                    name: Set(d.name.clone()),
                    version: Set(version.clone()),
                    kind: Set(d.kind.as_str().into()),
                    description: Set(d.description.clone()),
                    builtin: Set(true),
                    enabled: Set(true),
                    capabilities: Set(capabilities_json(&d.capabilities)),
                    approved_capabilities: Set(capabilities_json(&d.capabilities)),
                    offers: Set(offers_json(&d.offers)),
                    sha256: Set(loaded.sha256.clone()),
                    size: Set(i64::try_from(loaded.size).unwrap_or(i64::MAX)),
                    wasm: Set(None),
                    installed_by: Set(None),
                    installed_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(&txn)
                .await;
                if inserted.is_err() {
                    // Another instance starting at the same moment installed it first.
                    txn.rollback().await?;
                    return Ok(false);
                }
                format!("installed built-in version {version}, enabled")
            }
            Some(row) => {
                let mut active: plugins::ActiveModel = row.clone().into();
                active.version = Set(version.clone());
                active.kind = Set(d.kind.as_str().into());
                active.description = Set(d.description.clone());
                active.builtin = Set(true);
                active.capabilities = Set(capabilities_json(&d.capabilities));
                active.approved_capabilities = Set(capabilities_json(&d.capabilities));
                active.offers = Set(offers_json(&d.offers));
                active.sha256 = Set(loaded.sha256.clone());
                active.size = Set(i64::try_from(loaded.size).unwrap_or(i64::MAX));
                active.wasm = Set(None);
                active.updated_at = Set(now);
                active.update(&txn).await?;
                if row.builtin {
                    format!(
                        "built-in updated from version {} to {version} by a new server build",
                        row.version
                    )
                } else {
                    tracing::warn!(plugin = %d.name, "a third-party plugin had a built-in's name; the built-in replaces it");
                    format!("the built-in version {version} replaced a third-party plugin of the same name")
                }
            }
        };
        bump_generation(&txn).await?;
        log_host(&txn, &d.name, now, &line).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Makes the next use re-read the generation.
    pub(crate) fn invalidate(&self) {
        if let Ok(mut at) = self.checked_at.lock() {
            *at = None;
        }
    }

    fn current(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn fresh_enough(&self, max_age: Duration) -> bool {
        self.checked_at
            .lock()
            .ok()
            .and_then(|at| *at)
            .is_some_and(|at| at.elapsed() < max_age)
    }

    /// The installed plugins, checked against the database's generation if the last check
    /// is older than `max_age` (and reloaded if it moved).
    pub async fn snapshot(&self, max_age: Duration) -> Result<Arc<Snapshot>> {
        self.ensure_builtins().await?;
        if self.fresh_enough(max_age) {
            return Ok(self.current());
        }
        if IN_WRITE.try_with(|()| ()).is_ok() {
            let current = self.current();
            if current.generation.is_some() {
                return Ok(current);
            }
        }
        let _reloading = self.reload.lock().await;
        if self.fresh_enough(max_age) {
            return Ok(self.current());
        }
        let checked = Instant::now();
        let generation = plugin_generation::Entity::find_by_id(1)
            .one(&self.db)
            .await?
            .map(|g| g.generation)
            .unwrap_or_default();
        let current = self.current();
        if current.generation != Some(generation) {
            let next = Arc::new(self.load_all(generation, &current).await?);
            if let Ok(mut slot) = self.snapshot.write() {
                *slot = next;
            }
        }
        if let Ok(mut at) = self.checked_at.lock() {
            *at = Some(checked);
        }
        Ok(self.current())
    }

    /// Reads every plugin row and loads the components that changed.
    async fn load_all(&self, generation: i64, previous: &Snapshot) -> Result<Snapshot> {
        let rows = plugins::Entity::find().all(&self.db).await?;
        let mut out = HashMap::with_capacity(rows.len());
        for row in rows {
            let reusable = previous
                .plugins
                .get(&row.name)
                .and_then(|e| e.loaded.clone())
                .filter(|l| l.sha256 == row.sha256);
            let loaded = match reusable {
                Some(l) => Ok(l),
                None => self.load_row(&row).await?,
            };
            let (loaded, problem) = match loaded {
                Ok(l) => (Some(l), None),
                Err(e) => {
                    tracing::warn!(plugin = %row.name, error = %e, "an installed plugin can't run on this server");
                    (None, Some(e))
                }
            };
            out.insert(
                row.name.clone(),
                Arc::new(Entry {
                    info: info_of(&row, problem),
                    loaded,
                }),
            );
        }
        Ok(Snapshot {
            generation: Some(generation),
            plugins: out,
        })
    }

    /// Compiles the component of one row; the error says why it can't run here.
    async fn load_row(&self, row: &plugins::Model) -> Result<std::result::Result<Arc<Loaded>, String>> {
        let bytes: Arc<[u8]> = match (&row.wasm, row.builtin) {
            (Some(wasm), _) => Arc::from(wasm.as_slice()),
            (None, true) => {
                let carried = self.builtin_bytes(&row.sha256).await?;
                match carried {
                    Some(bytes) => Arc::from(bytes),
                    None => {
                        return Ok(Err(format!(
                            "this server's binary doesn't carry built-in version {} (sha256 {})",
                            row.version, row.sha256
                        )));
                    }
                }
            }
            (None, false) => return Ok(Err("its component is missing from the database".into())),
        };
        let host = self.host()?;
        let cache = self.cache();
        let worker = host.clone();
        let loaded = blocking(&host, move || worker.load(&bytes, cache.as_ref())).await?;
        Ok(loaded.map(Arc::new))
    }

    /// The embedded built-in whose bytes hash to `sha256`.
    async fn builtin_bytes(&self, sha256: &str) -> Result<Option<&'static [u8]>> {
        let wanted = sha256.to_owned();
        let found = tokio::task::spawn_blocking(move || {
            builtin::packages()
                .map(|(_, bytes)| bytes)
                .find(|bytes| super::cache::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes)) == wanted)
        })
        .await
        .map_err(internal)?;
        Ok(found)
    }

    /// Installs or upgrades the built-ins and loads every installed plugin: what a server
    /// does once at start, so the first request doesn't pay for it.
    pub async fn start(&self) -> Result<()> {
        self.snapshot(Duration::ZERO).await.map(|_| ())
    }

    /// Every installed plugin (a catalogue read: checks the generation).
    pub async fn list(&self) -> Result<Vec<PluginInfo>> {
        let snapshot = self.snapshot(Duration::ZERO).await?;
        Ok(snapshot.list().into_iter().cloned().collect())
    }

    /// One installed plugin.
    pub async fn get(&self, name: &str) -> Result<PluginInfo> {
        let snapshot = self.snapshot(Duration::ZERO).await?;
        snapshot
            .get(name)
            .map(|e| e.info.clone())
            .ok_or(Error::NotFound { what: "plugin" })
    }

    /// The operators of every enabled filter-operator plugin, by plugin (built-ins first)
    /// and in the order each plugin lists them.
    pub async fn operators(&self) -> Result<Vec<OperatorEntry>> {
        let snapshot = self.snapshot(Duration::ZERO).await?;
        Ok(snapshot
            .list()
            .into_iter()
            .filter(|p| p.enabled && p.kind == Kind::FilterOperator && p.problem.is_none())
            .flat_map(|p| {
                p.offers.iter().map(|o| OperatorEntry {
                    name: format!("{}.{}", p.name, o.name),
                    plugin: p.name.clone(),
                    op: o.name.clone(),
                    label: o.label.clone(),
                    applies_to: o.applies_to.clone(),
                    args_schema: o.schema.clone(),
                })
            })
            .collect())
    }

    /// The last `limit` lines of a plugin's log, oldest first.
    pub async fn logs(&self, name: &str, limit: u64) -> Result<Vec<LogLine>> {
        let mut rows = plugin_logs::Entity::find()
            .filter(plugin_logs::Column::Plugin.eq(name))
            .order_by_desc(plugin_logs::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        rows.reverse();
        Ok(rows
            .into_iter()
            .map(|r| LogLine {
                at: r.at,
                stream: r.stream,
                line: r.line,
            })
            .collect())
    }

    /// The loaded component of `name`; with `enabled`, only if it is enabled.
    pub(crate) async fn entry(&self, name: &str, enabled: bool) -> Result<(Arc<Entry>, Arc<Loaded>)> {
        let snapshot = self.snapshot(RELOAD_CHECK).await?;
        let entry = snapshot.get(name).cloned().ok_or(Error::NotFound { what: "plugin" })?;
        if enabled && !entry.info.enabled {
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
    ) -> Result<Predicate> {
        self.lower_in(plugin, op, field, value, now, true).await
    }

    pub(crate) async fn lower_in(
        &self,
        plugin: &str,
        op: &str,
        field: &FieldRef,
        value: Option<&Json>,
        now: DateTime<Utc>,
        enabled: bool,
    ) -> Result<Predicate> {
        let (entry, loaded) = self.entry(plugin, enabled).await?;
        if entry.info.kind != Kind::FilterOperator {
            return Err(Error::invalid(
                "op",
                format!(
                    "plugin `{plugin}` is a {}, not a filter operator",
                    entry.info.kind.as_str()
                ),
            ));
        }
        if !entry.info.offers(op) {
            return Err(Error::invalid(
                "op",
                format!("plugin `{plugin}` has no operator `{op}`"),
            ));
        }
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
        self.record(plugin, &format!("lower({op})"), &called).await;
        if let Ok(predicate) = &mut called.result {
            predicate.tag_residuals(plugin);
        }
        called.result.map_err(|e| match e {
            CallError::Refused { message, path } => Error::Validation {
                path: value_path(path.as_deref()),
                message: format!("{plugin}.{op}: {message}"),
            },
            CallError::Failed(message) => Error::Plugin {
                name: plugin.to_owned(),
                message: format!("failed in lower({op}): {message}"),
            },
        })
    }

    /// The exact test of a residual: plugin `plugin`'s `matches(op, value)` on every value
    /// of `batch`, one answer per value, in order. The batch is split into guest calls of
    /// at most [`MAX_BATCH`] values, each with its own deadline, on one fresh instance per
    /// call of this function (dropped at the first failure; see
    /// [`super::engine::MatchSession`]), within [`MATCHES_BUDGET`] in all. Pass all the
    /// candidates of a query at once, or in large slices: a fresh instance per 4,096
    /// values costs a third more (`BENCHMARKS.md`).
    ///
    /// Errors: [`Error::NotFound`], [`Error::Conflict`] (disabled), [`Error::Plugin`] (it
    /// failed or refused the batch).
    pub async fn matches(&self, plugin: &str, op: &str, value: Option<&Json>, batch: Batch) -> Result<Vec<bool>> {
        self.matches_in(plugin, op, value, batch, true).await
    }

    pub(crate) async fn matches_in(
        &self,
        plugin: &str,
        op: &str,
        value: Option<&Json>,
        batch: Batch,
        enabled: bool,
    ) -> Result<Vec<bool>> {
        let (_, loaded) = self.entry(plugin, enabled).await?;
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
        self.record(plugin, &format!("matches({op})"), &called).await;
        called.result.map_err(|e| Error::Plugin {
            name: plugin.to_owned(),
            message: match e {
                CallError::Refused { .. } => format!("refused a batch in matches({op}): {e}"),
                CallError::Failed(m) => format!("failed in matches({op}): {m}"),
            },
        })
    }

    /// Copies what a call printed, and its failure, to the plugin's log. Best effort: a
    /// log that can't be written is itself logged, never fails the call.
    pub(crate) async fn record<T>(&self, plugin: &str, what: &str, called: &Called<T>) {
        let now = self.now();
        let mut lines: Vec<(&str, String)> = Vec::new();
        for (stream, text) in [("stdout", &called.stdout), ("stderr", &called.stderr)] {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                lines.push((stream, line.chars().take(LOG_LINE_MAX).collect()));
            }
        }
        if let Err(e) = &called.result
            && !matches!(e, CallError::Refused { .. })
        {
            lines.push((
                "host",
                format!("{what} failed after {} ms: {e}", called.elapsed.as_millis()),
            ));
            tracing::warn!(plugin, call = what, error = %e, "plugin call failed");
        }
        if lines.is_empty() {
            return;
        }
        if lines.len() > LOG_LINES_PER_CALL {
            let cut = lines.len() - LOG_LINES_PER_CALL;
            lines.drain(..cut);
            lines.insert(0, ("host", format!("[{cut} earlier lines of this call dropped]")));
        }
        if IN_WRITE.try_with(|()| ()).is_ok() {
            // Inside a write transaction (on SQLite, the one writer): the log waits for it.
            let db = self.db.clone();
            let plugin = plugin.to_owned();
            let lines: Vec<(String, String)> = lines.into_iter().map(|(s, l)| (s.to_owned(), l)).collect();
            tokio::spawn(async move {
                let lines = lines.iter().map(|(s, l)| (s.as_str(), l.clone())).collect();
                if let Err(e) = append_log(&db, &plugin, now, lines).await {
                    tracing::warn!(plugin, error = %e, "can't write the plugin's log");
                }
            });
            return;
        }
        if let Err(e) = append_log(&self.db, plugin, now, lines).await {
            tracing::warn!(plugin, error = %e, "can't write the plugin's log");
        }
    }
}

async fn append_log(
    db: &DatabaseConnection,
    plugin: &str,
    at: DateTime<Utc>,
    lines: Vec<(&str, String)>,
) -> Result<()> {
    let models = lines.into_iter().map(|(stream, line)| plugin_logs::ActiveModel {
        plugin: Set(plugin.to_owned()),
        at: Set(at),
        stream: Set(stream.to_owned()),
        line: Set(line),
        ..Default::default()
    });
    plugin_logs::Entity::insert_many(models).exec(db).await?;
    let cutoff = plugin_logs::Entity::find()
        .filter(plugin_logs::Column::Plugin.eq(plugin))
        .order_by_desc(plugin_logs::Column::Id)
        .offset(LOG_KEEP)
        .one(db)
        .await?;
    if let Some(cutoff) = cutoff {
        plugin_logs::Entity::delete_many()
            .filter(plugin_logs::Column::Plugin.eq(plugin))
            .filter(plugin_logs::Column::Id.lte(cutoff.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Where in a filter node's `value` a plugin's refusal points: the plugin's own path
/// (`value`, `value[1]`, `value.within.amount`), or under `value` when it gave a bare one.
fn value_path(path: Option<&str>) -> String {
    match path.map(str::trim) {
        None | Some("") => "value".into(),
        Some(p) if p == "value" || p.starts_with("value.") || p.starts_with("value[") => p.to_owned(),
        Some(p) if p.starts_with('[') => format!("value{p}"),
        Some(p) => format!("value.{p}"),
    }
}
