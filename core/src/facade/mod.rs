//! The facade: [`crate::Core`] hands out the services and runs the few orchestrations that
//! span them, one file per area.

mod schema_changes;
mod upkeep;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{
    Clock, Error, Result, activities, auth, contacts, demo, entities, filter, imports, jobs, kernel, mail, plugin,
    schema, scoring, segments, tasks, users, views,
};

/// The domain services over one database.
///
/// Cheap to clone (pool handles, a clock and shared state); the web layer keeps one in its
/// state and every page and API call goes through it.
#[derive(Debug, Clone)]
pub struct Core {
    pub(crate) db: DatabaseConnection,
    pub(crate) clock: Arc<dyn Clock>,
    plugins: Arc<plugin::Registry>,
    users: auth::Users,
    accounts: users::Accounts,
    schema: schema::SchemaService,
    contacts: contacts::Contacts,
    activities: activities::Activities,
    filter: filter::FilterEngine,
    segments: segments::Segments,
    scoring: scoring::Scoring,
    tasks: tasks::Tasks,
    jobs: jobs::Jobs,
    mail: mail::Mail,
    imports: imports::Imports,
    views: views::Views,
}

impl Core {
    /// Services over `db`, reading time from `clock`. Compiled plugins are cached in the
    /// system's temporary directory unless [`Core::with_plugin_cache`] says otherwise.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Self::wire(db, clock, None)
    }

    /// The same services, caching compiled plugins in `dir` (see
    /// [`plugin::cache::default_dir`]).
    pub fn with_plugin_cache(self, dir: std::path::PathBuf) -> Self {
        Self::wire(self.db, self.clock, Some(dir))
    }

    /// Builds the services bottom-up: each gets the handles of the layers below it, and
    /// the contacts' writer gets scoring and the segments as its upkeep.
    fn wire(db: DatabaseConnection, clock: Arc<dyn Clock>, plugin_cache: Option<std::path::PathBuf>) -> Self {
        let plugins = Arc::new(plugin::Registry::new(db.clone(), clock.clone(), plugin_cache));
        let base = kernel::base::Base::new(db.clone(), clock.clone());
        let schema = schema::SchemaService::new(base.clone());
        let users = auth::Users::new(base.clone());
        let accounts = users::Accounts::new(base.clone(), users.clone());
        let reader = contacts::ContactReader::new(base.clone(), schema.clone());
        let filter = filter::FilterEngine::new(base, plugins.clone(), schema.clone(), users.clone(), reader.clone());
        let views = views::Views::new(filter.clone());
        let segments = segments::Segments::new(filter.clone());
        let scoring = scoring::Scoring::new(filter.clone(), segments.clone());
        let upkeep = upkeep::Upkeep {
            scoring: scoring.clone(),
            segments: segments.clone(),
        };
        let contacts = contacts::Contacts::new(reader.clone(), Arc::new(upkeep));
        let imports = imports::Imports::new(contacts.clone(), users.clone());
        let activities = activities::Activities::new(contacts.clone());
        let tasks = tasks::Tasks::new(reader.clone());
        let settings = mail::Settings::default();
        let mail = mail::Mail::new(reader.base.clone(), activities.clone(), settings.clone());
        let jobs = jobs::Jobs::new(plugins.clone(), reader.clone(), segments.clone()).with_mail(settings);
        Core {
            db,
            clock,
            plugins,
            users,
            accounts,
            schema,
            contacts,
            activities,
            filter,
            segments,
            scoring,
            tasks,
            jobs,
            mail,
            imports,
            views,
        }
    }

    /// The plugins: the operator catalogue, `lower` and `matches` for the filter engine,
    /// and (for admins) installing and managing them.
    pub fn plugins(&self) -> &plugin::Registry {
        &self.plugins
    }

    /// Users: sign-in, sessions and API tokens.
    pub fn users(&self) -> &auth::Users {
        &self.users
    }

    /// Accounts: admins add users, change roles, deactivate, reset passwords; everyone
    /// changes their own password.
    pub fn accounts(&self) -> &users::Accounts {
        &self.accounts
    }

    /// The schema: contact types, field definitions, settings. Changes that other layers
    /// follow (creating, changing and removing types and fields) are the facade's own
    /// methods.
    pub fn schema(&self) -> &schema::SchemaService {
        &self.schema
    }

    /// Contacts: reading, checking and writing them, access grants.
    pub fn contacts(&self) -> &contacts::Contacts {
        &self.contacts
    }

    /// Activities: recording them and reading a contact's.
    pub fn activities(&self) -> &activities::Activities {
        &self.activities
    }

    /// The query engine: the filter catalogue, preparing filters, the contacts query.
    pub fn filter(&self) -> &filter::FilterEngine {
        &self.filter
    }

    /// Segments and static lists: definitions, members, rebuilds, preview, explain,
    /// export.
    pub fn segments(&self) -> &segments::Segments {
        &self.segments
    }

    /// Scoring models: definitions, the what-if, rescores, a contact's scores explained.
    pub fn scoring(&self) -> &scoring::Scoring {
        &self.scoring
    }

    /// Tasks on contacts: "My tasks", a contact's tasks, changing them.
    pub fn tasks(&self) -> &tasks::Tasks {
        &self.tasks
    }

    /// Bulk actions as jobs: starting them, the worker, progress, outcomes, cancel.
    pub fn jobs(&self) -> &jobs::Jobs {
        &self.jobs
    }

    /// E-mail: delivery of the outbox, its pages, recipients' opens, clicks and
    /// unsubscribes.
    pub fn mail(&self) -> &mail::Mail {
        &self.mail
    }

    /// Imports of contacts from files.
    pub fn imports(&self) -> &imports::Imports {
        &self.imports
    }

    /// Saved views of the contacts, their cells and their export.
    pub fn views(&self) -> &views::Views {
        &self.views
    }

    /// Describes filters as `actor` may read them: users by name, the segments they see.
    pub async fn filter_describer(&self, actor: &auth::Actor) -> Result<filter::Describer> {
        let catalog = self.filter.filter_catalog().await?;
        let users = self
            .users
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.email.to_lowercase(), u.name))
            .collect();
        let segments = self
            .segments
            .list_segments(actor)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        Ok(filter::Describer::new(
            catalog,
            filter::describe::Names { users, segments },
        ))
    }

    /// The queue of this process's contact writers (SQLite; see
    /// [`kernel::base::WriteQueue`]).
    pub fn write_queue(&self) -> &kernel::base::WriteQueue {
        &self.contacts.base.writers
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
        // The demo defines fields of its own, in bulk: their expression indexes are made
        // here (in whichever process loads it; a server running beside it finds them in
        // the shared database), and the planner learns the new rows' statistics.
        filter::indexes::ensure_all(&self.db).await?;
        filter::indexes::refresh_statistics(&self.db).await?;
        self.segments.definitions_changed(false).await?;
        Ok(report)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        use sea_orm::ConnectionTrait;
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// Begins a write of contacts under the schema lock, with no upkeep: the caller asks
    /// for the rebuild of the segments when contacts were rewritten.
    pub(crate) async fn schema_write(&self, actor: &auth::Actor) -> Result<contacts::write::ContactWrite> {
        let stamp = contacts::write::Stamp::now(actor.user_id, self.clock.as_ref());
        contacts::write::ContactWrite::schema_change(&self.contacts.base, stamp).await
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}
