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
//!
//! | module | what |
//! |---|---|
//! | here | [`Registry`] and what it answers from its snapshot: the installed plugins, the operator catalogue |
//! | [`installed`] | a plugin as installed ([`PluginInfo`]), the snapshot, their stored JSON |
//! | [`reload`] | built-ins installed from the binary, the generation, loading and reloading the snapshot |
//! | [`calls`] | [`Registry::lower`] and [`Registry::matches`], and the [`CallContext`] each caller passes |
//! | [`log`] | each plugin's log: what it printed and how its calls failed |

use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::cache::DiskCache;
use super::engine::Host;
use super::values::Kind;
use crate::clock::{Clock, stored};
use crate::{Error, Result};

pub mod batch_calls;
pub mod calls;
pub mod installed;
pub mod log;
pub mod reload;

pub use calls::{CallContext, MATCHES_BUDGET};
pub use installed::{ActionEntry, CriterionEntry, Entry, OperatorEntry, PluginInfo, Snapshot};
pub(crate) use installed::{capabilities_from, capabilities_json, offers_json};
pub(crate) use log::log_host;
pub use log::{LOG_KEEP, LogLine};
pub(crate) use reload::bump_generation;

/// How stale an instance's view of the installed plugins may be before a call checks the
/// database's generation again.
pub const RELOAD_CHECK: Duration = Duration::from_secs(1);

/// The plugin service of one `Core`: the snapshot, the database and the engine.
pub struct Registry {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    cache_dir: Option<PathBuf>,
    cache: OnceLock<Option<DiskCache>>,
    snapshot: RwLock<Arc<Snapshot>>,
    checked_at: Mutex<Option<Instant>>,
    /// How often this process changed the plugins ([`Registry::invalidate`]).
    local_changes: std::sync::atomic::AtomicU64,
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
            local_changes: std::sync::atomic::AtomicU64::new(0),
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

    /// The criteria of every enabled segment-criterion plugin, by plugin (built-ins
    /// first) and in the order each plugin lists them.
    pub async fn criteria(&self) -> Result<Vec<CriterionEntry>> {
        let snapshot = self.snapshot(Duration::ZERO).await?;
        Ok(snapshot
            .list()
            .into_iter()
            .filter(|p| p.enabled && p.kind == Kind::SegmentCriterion && p.problem.is_none())
            .flat_map(|p| {
                p.offers.iter().map(|o| CriterionEntry {
                    name: format!("{}.{}", p.name, o.name),
                    plugin: p.name.clone(),
                    criterion: o.name.clone(),
                    label: o.label.clone(),
                    applies_to: o.applies_to.clone(),
                    params_schema: o.schema.clone(),
                })
            })
            .collect())
    }

    /// The actions of every enabled, approved bulk-action plugin, by plugin (built-ins
    /// first) and in the order each plugin lists them: what the actions menu offers.
    pub async fn actions(&self) -> Result<Vec<ActionEntry>> {
        let snapshot = self.snapshot(Duration::ZERO).await?;
        Ok(snapshot
            .list()
            .into_iter()
            .filter(|p| p.enabled && p.kind == Kind::BulkAction && p.problem.is_none() && p.approved())
            .flat_map(|p| {
                p.offers.iter().map(|o| ActionEntry {
                    name: format!("{}.{}", p.name, o.name),
                    plugin: p.name.clone(),
                    action: o.name.clone(),
                    label: o.label.clone(),
                    capabilities: p.approved_capabilities.clone(),
                    params_schema: o.schema.clone(),
                })
            })
            .collect())
    }
}
