//! Keeping the snapshot in step with the `plugins` table: the built-ins this binary
//! carries installed or upgraded once per registry, the generation bumped by every change
//! and checked before the snapshot is used, and the components of changed rows loaded
//! (unchanged ones reused by their SHA-256).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::installed::{Entry, Snapshot, capabilities_json, info_of, offers_json};
use super::log::log_host;
use super::{CallContext, Registry, blocking, internal};
use crate::Result;
use crate::entities::{plugin_generation, plugins};
use crate::plugin::builtin;
use crate::plugin::engine::{Called, Loaded};
use crate::plugin::limits::Grant;
use crate::plugin::values::Description;

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

impl Registry {
    /// Compiles and describes `wasm` on the blocking pool. `describe` runs with the most an
    /// admin could grant ([`Grant::MAX`]): a plugin that needs more than the defaults can
    /// still say what it is, and be approved with what it needs; every later call runs
    /// with its own grant.
    pub(crate) async fn load_and_describe(
        &self,
        wasm: Arc<[u8]>,
    ) -> Result<std::result::Result<(Loaded, Called<Description>), String>> {
        let host = self.host()?;
        let cache = self.cache();
        let worker = host.clone();
        blocking(&host, move || {
            let loaded = worker.load(&wasm, cache.as_ref())?;
            let described = loaded.with_grant(Grant::MAX).describe();
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
        self.local_changes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// How often this process changed the plugins: what was read of them before a
    /// change is stale.
    pub(crate) fn local_changes(&self) -> u64 {
        self.local_changes.load(std::sync::atomic::Ordering::SeqCst)
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
        self.snapshot_in(max_age, CallContext::Request).await
    }

    /// [`Registry::snapshot`] for a call in `ctx`: inside a write, the snapshot in hand
    /// once there is one (see [`CallContext::Write`]).
    pub(crate) async fn snapshot_in(&self, max_age: Duration, ctx: CallContext) -> Result<Arc<Snapshot>> {
        self.ensure_builtins().await?;
        if self.fresh_enough(max_age) {
            return Ok(self.current());
        }
        if ctx == CallContext::Write {
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
            // What an admin granted, given to the component whether it was just compiled
            // or kept from the last snapshot.
            let grant = Grant::from_json(row.limits.as_ref());
            let loaded = loaded.map(|l| {
                if l.grant() == grant {
                    l
                } else {
                    Arc::new(l.with_grant(grant))
                }
            });
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
                .find(|bytes| crate::plugin::cache::hex(&<sha2::Sha256 as sha2::Digest>::digest(bytes)) == wanted)
        })
        .await
        .map_err(internal)?;
        Ok(found)
    }
}
