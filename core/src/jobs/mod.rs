//! Bulk actions as durable jobs: an admin or manager picks a segment (or ticked contacts),
//! an action of a `bulk-action` plugin and its parameters; the job freezes the targets,
//! runs the plugin over them in batches, and applies the effects it answers exactly once,
//! whatever crashes.
//!
//! ## The life of a job
//!
//! - [`Jobs::start`] checks the action and its parameters (the plugin's `run` on no
//!   contacts, so a bad template is a 400 at `params.title` before anything is frozen),
//!   then, in one transaction, writes the job and freezes its targets with one
//!   `INSERT ... SELECT` (segment members or the given ids, as the starter sees them).
//! - A worker in every `kartoteka serve` (and the CLI's `job run`) claims a job with a
//!   lease ([`worker`]), reads the next keyset batch of targets after the checkpoint,
//!   calls the plugin's `run` once for the batch, checks the effects, and commits the
//!   effects, the outcomes and the new checkpoint in one transaction ([`apply`]).
//! - States: `queued` → `running` → `done`; `cancelling` → `cancelled` (the batch in
//!   flight is not committed); `paused` when the action can't run (its plugin was
//!   disabled), resumed by [`Jobs::resume`]. `failed` is kept for a job that can't go on
//!   at all (its action vanished).
//!
//! ## Exactly once
//!
//! Every effect has a key `(job, contact, effect index)`: the index is the effect's place
//! among that contact's effects in the plugin's answer. The records effects create
//! (`tasks`, `grants`) carry the key under a unique constraint and are inserted with
//! `ON CONFLICT DO NOTHING`. A batch is committed with a conditional update of the job
//! row (this instance's lease, the checkpoint it started from), so a worker that lost its
//! lease can't commit, and if it could, the keys would keep the effects single. The
//! plugin sees the job's frozen time (`jobs.run_at`) as its clock and a fixed random
//! sequence, so a batch run again after a crash answers the same effects with the same
//! keys.
//!
//! ## Why a loop of our own, and not a job crate
//!
//! We looked at apalis (SQLite and PostgreSQL storages), fang, sqlxmq, graphile_worker
//! and underway. The PostgreSQL-only ones (sqlxmq, graphile_worker, underway) don't run
//! on the embedded default; apalis and fang own their tables and their transactions, so
//! a batch's effects could not commit in the same transaction as the job's checkpoint,
//! which is the whole of exactly-once here; and they model a job as one message, where
//! ours is a frozen set of a million targets walked in keyset batches. The loop is one
//! small module ([`worker`]) on the pattern the segment rebuilds already use.

mod apply;
pub mod native;
mod preview;
mod read;
mod targets;
mod worker;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::auth::Actor;
use crate::contacts::{Contact, ContactReader};
use crate::kernel::base::Base;
use crate::plugin::values::{ActionContact, Capability};
use crate::plugin::{ActionEntry, Registry};
use crate::segments::Segments;
use crate::{Error, Result};

pub use read::{Outcome, OutcomeKind, Sample};
pub use worker::{BATCH, LEASE};

/// How many effects of a job are kept to show (a dry run's preview).
pub const SAMPLES: i64 = 100;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Paused,
    Cancelling,
    Cancelled,
    Done,
    Failed,
}

impl JobState {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Paused => "paused",
            JobState::Cancelling => "cancelling",
            JobState::Cancelled => "cancelled",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// Reads a stored name.
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "paused" => JobState::Paused,
            "cancelling" => JobState::Cancelling,
            "cancelled" => JobState::Cancelled,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            other => return Err(Error::Internal(format!("unknown job state `{other}`"))),
        })
    }

    /// Whether the job has ended.
    pub fn finished(self) -> bool {
        matches!(self, JobState::Cancelled | JobState::Done | JobState::Failed)
    }
}

/// What an action runs over.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// The members of a segment, as the starter sees them.
    Segment(i64),
    /// Contacts by id (ticked rows): every id must be one the starter sees.
    Contacts(Vec<i64>),
    /// Every contact the starter sees that matches `filter` (`{}`: all) and the global
    /// search `q`: "all N results" of the contacts table, with no cap.
    Matching { filter: Json, q: Option<String> },
}

/// An action to start.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRequest {
    /// `plugin.action`, e.g. `tasks.create_task`.
    pub action: String,
    pub params: Option<Json>,
    /// Run the action and keep its effects to show, applying none.
    pub dry_run: bool,
    pub targets: Targets,
}

/// A job as users see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: i64,
    pub action: String,
    pub params: Option<Json>,
    pub dry_run: bool,
    /// What was targeted: `{"segment": id, "name": ...}` or `{"contact_ids": n}`.
    pub source: Json,
    pub state: JobState,
    /// Why it is paused, failed or cancelled.
    pub reason: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    pub effects: i64,
    /// Effects by kind (`create_task`, `grant_access`, `send_email`).
    pub effect_counts: BTreeMap<String, i64>,
}

impl Job {
    /// Targets with an outcome.
    pub fn processed(&self) -> i64 {
        self.done + self.failed + self.skipped
    }

    /// Targets per second since it started, once it has.
    pub fn rate(&self) -> Option<f64> {
        let started = self.started_at?;
        let until = self.finished_at.unwrap_or(self.updated_at);
        let seconds = (until - started).num_milliseconds() as f64 / 1000.0;
        (seconds > 0.0 && self.processed() > 0).then(|| self.processed() as f64 / seconds)
    }

    /// How far it is, 0 to 100.
    pub fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            (self.processed() as f64 * 100.0 / self.total as f64).min(100.0)
        }
    }
}

/// The jobs service: starting actions, the worker, progress and outcomes.
#[derive(Debug, Clone)]
pub struct Jobs {
    base: Base,
    plugins: Arc<Registry>,
    reader: ContactReader,
    segments: Segments,
    wake: Arc<tokio::sync::Notify>,
    /// This instance's name in leases.
    instance: Arc<str>,
    /// Targets per batch ([`BATCH`] unless changed, for this instance).
    batch: Arc<std::sync::atomic::AtomicU64>,
    /// How long a lease lasts, in milliseconds ([`LEASE`] unless changed).
    lease_ms: Arc<std::sync::atomic::AtomicI64>,
    /// The mail settings: a real send needs a secret; queued messages wake the delivery.
    mail: crate::mail::Settings,
}

/// A contact as a bulk action sees it.
pub fn action_contact(contact: &Contact) -> ActionContact {
    ActionContact {
        id: contact.id,
        kind: contact.type_key.clone(),
        name: contact.name.clone(),
        email: contact.email.clone(),
        phone: contact.phone.clone(),
        owner: contact.owner_id,
        fields: contact.fields.clone(),
    }
}

impl Jobs {
    /// Jobs over the contacts `reader` reads and the segments' members.
    pub fn new(plugins: Arc<Registry>, reader: ContactReader, segments: Segments) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Jobs {
            base: reader.base.clone(),
            plugins,
            reader,
            segments,
            wake: Arc::default(),
            instance: format!("{}-{nanos:x}", std::process::id()).into(),
            batch: Arc::new(BATCH.into()),
            lease_ms: Arc::new(LEASE.num_milliseconds().into()),
            mail: crate::mail::Settings::default(),
        }
    }

    /// The same jobs, sending mail with `settings` (the mail service's).
    pub fn with_mail(mut self, settings: crate::mail::Settings) -> Self {
        self.mail = settings;
        self
    }

    /// Changes how long this instance's leases last (at least a second): how soon
    /// another instance takes over a job whose instance stopped answering.
    pub fn set_lease(&self, lease: std::time::Duration) {
        let ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX).max(1_000);
        self.lease_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// How long a lease taken now lasts.
    pub(crate) fn lease(&self) -> chrono::Duration {
        chrono::Duration::milliseconds(self.lease_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Changes how many targets this instance's worker sends to a plugin per call (1 to
    /// [`BATCH`]): smaller batches commit more often.
    pub fn set_batch_size(&self, n: u64) {
        self.batch
            .store(n.clamp(1, BATCH), std::sync::atomic::Ordering::Relaxed);
    }

    /// The actions `actor` may start, for the actions menu: every action of an enabled,
    /// approved bulk-action plugin; those that grant access for admins only.
    pub async fn actions(&self, actor: &Actor) -> Result<Vec<ActionEntry>> {
        if !actor.may_change_segments() {
            return Ok(Vec::new());
        }
        Ok(self
            .all_actions()
            .await?
            .into_iter()
            .filter(|a| actor.is_admin() || !a.capabilities.contains(&Capability::GrantAccess))
            .collect())
    }

    /// Every action that can run now: the plugins' and the host's own ([`native`]).
    async fn all_actions(&self) -> Result<Vec<ActionEntry>> {
        let mut all = self.plugins.actions().await?;
        all.extend(native::actions());
        Ok(all)
    }

    /// The action named `name` (`plugin.action`) if `actor` may start it.
    async fn action(&self, actor: &Actor, name: &str) -> Result<ActionEntry> {
        let all = self.all_actions().await?;
        let Some(found) = all.iter().find(|a| a.name == name) else {
            let names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
            return Err(Error::invalid(
                "action",
                format!(
                    "no enabled action `{name}`; the actions are: {}",
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
        };
        if found.capabilities.contains(&Capability::GrantAccess) {
            actor
                .require_admin()
                .map_err(|_| Error::Forbidden("only admins may run an action that grants access".into()))?;
        }
        Ok(found.clone())
    }

    /// Wakes this instance's worker (a job was started or resumed).
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}
