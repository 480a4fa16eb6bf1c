//! The facade: [`crate::Core`] hands out the services and runs the few orchestrations that
//! span them, one file per area.

mod schema_changes;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{Clock, Error, Result, auth, contacts, demo, entities, filter, kernel, plugin, schema, segments};

/// The domain services over one database.
///
/// Cheap to clone (a pool handle and a clock); the web layer keeps one in its state and
/// every page and API call goes through it.
#[derive(Debug, Clone)]
pub struct Core {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) plugins: Arc<plugin::Registry>,
    pub(crate) segments: Arc<segments::maintain::SegmentState>,
    pub(crate) catalog_cache: Arc<filter::catalog::CatalogCache>,
    pub(crate) users: auth::Users,
    pub(crate) schema: schema::SchemaService,
}

impl Core {
    /// Services over `db`, reading time from `clock`. Compiled plugins are cached in the
    /// system's temporary directory unless [`Core::with_plugin_cache`] says otherwise.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        let plugins = Arc::new(plugin::Registry::new(db.clone(), clock.clone(), None));
        let base = kernel::base::Base {
            db: db.clone(),
            clock: clock.clone(),
        };
        Core {
            db,
            clock,
            plugins,
            segments: Arc::default(),
            catalog_cache: Arc::default(),
            users: auth::Users::new(base.clone()),
            schema: schema::SchemaService::new(base),
        }
    }

    /// The same services, caching compiled plugins in `dir` (see
    /// [`plugin::cache::default_dir`]).
    pub fn with_plugin_cache(self, dir: std::path::PathBuf) -> Self {
        let plugins = Arc::new(plugin::Registry::new(self.db.clone(), self.clock.clone(), Some(dir)));
        Core { plugins, ..self }
    }

    /// The plugins: the operator catalogue, `lower` and `matches` for the filter engine,
    /// and (for admins) installing and managing them.
    pub fn plugins(&self) -> &plugin::Registry {
        &self.plugins
    }

    /// Users: accounts, sign-in, sessions and API tokens.
    pub fn users(&self) -> &auth::Users {
        &self.users
    }

    /// The schema: contact types, field definitions, settings. Changes that other layers
    /// follow (creating, changing and removing types and fields) are the facade's own
    /// methods.
    pub fn schema(&self) -> &schema::SchemaService {
        &self.schema
    }

    /// The database connection.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Loads the demo into an empty base (refused when contacts exist).
    pub async fn load_demo(
        &self,
        mut options: demo::DemoOptions,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<demo::DemoReport> {
        use sea_orm::{EntityTrait, PaginatorTrait};
        let existing = entities::contacts::Entity::find().count(&self.db).await?;
        if existing > 0 {
            return Err(Error::conflict(format!(
                "the base already has {existing} contacts; the demo only loads into an empty base"
            )));
        }
        if options.owner_ids.is_empty() {
            options.owner_ids = self.users.list_users().await?.into_iter().map(|u| u.id).collect();
        }
        let report = demo::load(&self.db, self.clock.now(), &options, progress).await?;
        // The demo defines fields of its own.
        self.definitions_changed(false).await?;
        Ok(report)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        use sea_orm::ConnectionTrait;
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// Begins a write of contacts by `actor`, with the segment memberships' upkeep in it
    /// (see [`contacts::write`]).
    pub(crate) async fn contact_write(&self, actor: &auth::Actor) -> Result<contacts::write::ContactWrite> {
        let stamp = contacts::write::Stamp::now(actor.user_id, self.clock.as_ref());
        contacts::write::ContactWrite::begin(&segments::maintain::MembershipUpkeep(self.clone()), stamp).await
    }

    /// Begins a write of contacts under the schema lock, with no upkeep: the caller asks
    /// for the rebuild of the segments when contacts were rewritten.
    pub(crate) async fn schema_write(&self, actor: &auth::Actor) -> Result<contacts::write::ContactWrite> {
        let stamp = contacts::write::Stamp::now(actor.user_id, self.clock.as_ref());
        contacts::write::ContactWrite::schema_change(&self.db, stamp).await
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}
