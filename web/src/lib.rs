#![doc = include_str!("../README.md")]

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod error;
pub mod export_cli;
pub mod import_cli;
pub mod job_cli;
pub mod listener;
pub mod pages;
pub mod router;
pub mod scaffold;
pub mod urls;

use std::net::SocketAddr;
use std::sync::Arc;

use kartoteka_core::{Clock, Core};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use app::AppState;
pub use config::Config;

/// A server running in the background.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The domain services it uses.
    pub core: Core,
    task: JoinHandle<()>,
    /// Segment rebuilds and the time-relative schedule.
    worker: JoinHandle<()>,
    /// Bulk-action jobs (`kartoteka_core::jobs`).
    jobs: JoinHandle<()>,
    /// E-mail delivery (`kartoteka_core::mail`).
    mail: JoinHandle<()>,
    /// Full rescores of scoring models (`kartoteka_core::scoring`).
    scoring: JoinHandle<()>,
    /// SQLite's log checkpoints (`kartoteka_core::db::run_checkpoints`).
    checkpoints: JoinHandle<()>,
}

impl Running {
    /// Stops the server.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
        self.worker.abort();
        self.jobs.abort();
        self.mail.abort();
        self.scoring.abort();
        self.checkpoints.abort();
    }
}

/// Connects to `config.database_url`, migrates, installs or upgrades the built-in plugins
/// and loads the installed ones, and returns the domain services.
pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Core> {
    let db = kartoteka_core::db::connect_server(&config.database_url).await?;
    kartoteka_core::db::migrate(&db).await?;
    let cache = kartoteka_core::plugin::cache::default_dir(&config.database_url);
    let core = Core::new(db, clock).with_plugin_cache(cache);
    if let Some(seconds) = config.job_lease_seconds {
        core.jobs().set_lease(std::time::Duration::from_secs(seconds));
    }
    core.mail().configure(config.mail());
    core.plugins().start().await?;
    Ok(core)
}

/// Serves `core` on `listener` in the background.
pub fn serve(listener: TcpListener, core: Core, config: Config) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let state = AppState {
        core: core.clone(),
        config: Arc::new(config),
        what_if_drafts: Arc::default(),
    };
    let app = router::build(state);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(
            listener::JsonListener(listener),
            app.into_make_service_with_connect_info::<listener::Peer>(),
        )
        .await
        {
            tracing::error!(error = %e, "server stopped");
        }
    });
    let worker = tokio::spawn(
        core.segments()
            .clone()
            .run_segment_worker(std::time::Duration::from_secs(1)),
    );
    let jobs = tokio::spawn(core.jobs().clone().run_job_worker(std::time::Duration::from_secs(1)));
    let mail = tokio::spawn(
        core.mail()
            .clone()
            .run_delivery_worker(std::time::Duration::from_secs(1)),
    );
    let scoring = tokio::spawn(
        core.scoring()
            .clone()
            .run_scoring_worker(std::time::Duration::from_secs(1)),
    );
    let checkpoints = tokio::spawn(kartoteka_core::db::run_checkpoints(
        core.db().clone(),
        kartoteka_core::db::CHECKPOINT_EVERY,
    ));
    Ok(Running {
        addr,
        core,
        task,
        worker,
        jobs,
        mail,
        scoring,
        checkpoints,
    })
}

/// Opens the database and serves it on `config.bind` (or an already bound `listener`).
pub async fn start(config: Config, clock: Arc<dyn Clock>, listener: Option<TcpListener>) -> anyhow::Result<Running> {
    let core = open(&config, clock).await?;
    let listener = match listener {
        Some(l) => l,
        None => TcpListener::bind(config.bind).await?,
    };
    serve(listener, core, config)
}
