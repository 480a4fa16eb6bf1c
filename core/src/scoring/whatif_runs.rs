//! What-ifs in the background, with progress: over a large base the what-if takes seconds
//! (10.6 s on PostgreSQL and 12.2 s on SQLite over 909,090 people, BENCHMARKS.md
//! "Scoring"), longer than a page or an API client should hold a request open without a
//! sign of life.
//!
//! [`Scoring::start_what_if`] checks the draft at once (a bad draft is refused in the
//! starting request, every problem at its path), then scores it on a task of its own and
//! answers a run id; [`Scoring::what_if_run`] shows how far it got and, once finished,
//! the answer or why it failed. Runs are kept in this instance's memory, for
//! [`KEPT_FOR`] after they finish, and only their starter sees them.
//!
//! Alternatives considered: a row per run in the database (any instance could answer the
//! poll, and a restart would not lose it), but a what-if writes nothing and is cheap to
//! run again, so a lost run costs a click, and the table would need cleaning; the job
//! engine of bulk actions (`crate::jobs`), whose batches, checkpoints and effects are for
//! work that changes data exactly once, which a what-if never does.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use super::Scoring;
use super::whatif::WhatIf;
use crate::auth::Actor;
use crate::{Error, Result};

/// How long a finished run's answer is kept.
pub const KEPT_FOR: Duration = Duration::from_secs(30 * 60);

/// How long a page waits for a run's answer before it shows the progress, by default
/// ([`super::ScoringState::set_what_if_wait`]): a small base's answer comes at once.
pub const ANSWER_WAIT_MS: u64 = 2000;

/// Runs one user may have going at once on an instance.
pub const RUNNING_PER_USER: usize = 2;

/// Where a run is.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    Running,
    Done(WhatIf),
    /// Why it stopped (a criterion failed half way, the database went away).
    Failed(String),
}

/// A run as its starter sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIfRun {
    pub id: u64,
    /// The saved model the draft is tried against, if any.
    pub model_id: Option<i64>,
    /// Contacts scored so far, of `total`.
    pub done: u64,
    pub total: u64,
    pub state: RunState,
}

/// One run's shared record.
#[derive(Debug)]
struct Entry {
    owner: i64,
    model_id: Option<i64>,
    done: AtomicU64,
    total: AtomicU64,
    finished: Mutex<Option<(Instant, RunState)>>,
}

impl Entry {
    fn view(&self, id: u64) -> WhatIfRun {
        let state = lock(&self.finished)
            .as_ref()
            .map_or(RunState::Running, |(_, s)| s.clone());
        WhatIfRun {
            id,
            model_id: self.model_id,
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
            state,
        }
    }

    fn is_running(&self) -> bool {
        lock(&self.finished).is_none()
    }

    fn expired(&self, now: Instant) -> bool {
        lock(&self.finished)
            .as_ref()
            .is_some_and(|(at, _)| now.duration_since(*at) > KEPT_FOR)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The instance's runs.
#[derive(Debug, Default)]
pub struct WhatIfRuns {
    next: AtomicU64,
    runs: Mutex<HashMap<u64, Arc<Entry>>>,
}

impl Scoring {
    /// Starts the what-if of `definition` (see [`Scoring::what_if`]) in the background.
    /// The draft is checked before the answer, so a bad one fails here with every problem.
    pub async fn start_what_if(
        &self,
        actor: &Actor,
        kind: &str,
        definition: &Json,
        against: Option<i64>,
    ) -> Result<WhatIfRun> {
        let (kind, checked) = self.prepare_what_if(actor, kind, definition, against).await?;
        let runs = &self.state.what_ifs;
        let now = Instant::now();
        let entry = {
            let mut all = lock(&runs.runs);
            all.retain(|_, e| !e.expired(now));
            let running = all
                .values()
                .filter(|e| e.owner == actor.user_id && e.is_running())
                .count();
            if running >= RUNNING_PER_USER {
                return Err(Error::Conflict {
                    message: format!("{running} what-ifs of yours are still running; wait for one to finish"),
                    details: None,
                });
            }
            let id = runs.next.fetch_add(1, Ordering::Relaxed) + 1;
            let entry = Arc::new(Entry {
                owner: actor.user_id,
                model_id: against,
                done: AtomicU64::new(0),
                total: AtomicU64::new(0),
                finished: Mutex::new(None),
            });
            all.insert(id, entry.clone());
            (id, entry)
        };
        let (id, entry) = entry;
        let scoring = self.clone();
        let shared = entry.clone();
        tokio::spawn(async move {
            let progress = |done: u64, total: u64| {
                shared.total.store(total, Ordering::Relaxed);
                shared.done.store(done, Ordering::Relaxed);
            };
            let started = Instant::now();
            let state = match scoring.score_draft(kind, &checked, against, &progress, started).await {
                Ok(answer) => RunState::Done(answer),
                Err(e) => RunState::Failed(e.to_string()),
            };
            *lock(&shared.finished) = Some((Instant::now(), state));
        });
        Ok(entry.view(id))
    }

    /// How far run `id` got, and its answer once finished. Only its starter sees it; a run
    /// of another instance, or finished longer than [`KEPT_FOR`] ago, is not found.
    pub fn what_if_run(&self, actor: &Actor, id: u64) -> Result<WhatIfRun> {
        let all = lock(&self.state.what_ifs.runs);
        match all.get(&id) {
            Some(e) if e.owner == actor.user_id && !e.expired(Instant::now()) => Ok(e.view(id)),
            // Kept for KEPT_FOR after finishing, on the instance that ran it.
            _ => Err(Error::NotFound { what: "what-if run" }),
        }
    }
}
