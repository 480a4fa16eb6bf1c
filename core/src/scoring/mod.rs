//! Scoring models: points per parameter from sandboxed criteria, weights, named bands,
//! kept current on every write.
//!
//! A model ([`model`]) scores the persons or the companies: each parameter reads a value
//! (a field, or a measure of the contact's activities), a `segment-criterion` plugin maps
//! it to points (0-100), and the weighted mean of the points is the score; named bands
//! over 0-100 name it. Several models live side by side ("Fit", "Engagement"), each with
//! its own score and band per contact.
//!
//! | file | what |
//! |---|---|
//! | [`model`] | the definition and its check (every problem at once) |
//! | [`compute`] | scoring a batch of contacts: values, criterion calls, weights, bands |
//! | [`read`] | reading the contacts to score: the columns the parameters use, no others |
//! | [`store`] | the models: create, change, delete, list; a change asks for a full rescore |
//! | [`upkeep`] | the write hook: a contact or activity write rescores the contact in its transaction, before segment upkeep |
//! | [`rescore`] | full rescores as jobs (after a change, on request, on a schedule for time-dependent models) and the worker |
//! | [`whatif`] | a draft against the saved model over the whole base, before saving |
//! | [`whatif_runs`] | the what-if in the background, with progress |
//! | [`bands`] | how many stored scores each band of a model holds, for the models' list |
//! | [`explain`] | a contact's scores, each parameter's value, points, weight and share, and its band changes |
//!
//! ## Where scores are stored
//!
//! In `contact_scores`, a row per model and contact (score, band, each parameter's
//! points), indexed by `(model, score)` and `(model, band)` for filters and sorts, and by
//! contact for the card. Alternatives considered:
//! - the `score` / `score_band` columns of `contacts`: one model only, and every rescore
//!   would be a contact write (a version bump and an audit event per contact for a value
//!   nobody typed);
//! - a JSON object of scores in the contact row: several models, but no index per model
//!   without an expression index per model, and the same write churn.
//!
//! A filter reads a score through a correlated subquery on the primary key
//! (`score.fit`, `score_band.fit`); the in-memory evaluator that keeps segments current
//! reads the rows the write hook just wrote, in the same transaction.
//!
//! ## When scores change
//!
//! - A write of a contact, or of its activities (recorded through the contacts' writer):
//!   [`upkeep`] rescores the contacts written inside the write's transaction, before the
//!   segments' upkeep, so a segment on a band follows in the same response.
//! - A model created or changed: a full rescore ([`rescore`]); over a small base (at most
//!   [`rescore::INLINE_LIMIT`] contacts of its kind) in the saving request, otherwise in
//!   the background with progress.
//! - Time alone (activity windows, days since the last activity, criteria that take
//!   `now`): the worker rescores those models every [`rescore::TIME_RESCORE_EVERY`].
//!
//! A criterion that fails (traps, answers garbage, is disabled) never fails the write
//! that triggered it: the model is marked `needs_attention` with the reason, keeps its
//! scores, and is left out of upkeep until a rescore succeeds again.

pub mod bands;
pub mod compute;
pub mod explain;
pub mod model;
pub(crate) mod read;
pub mod rescore;
pub mod store;
pub mod upkeep;
pub mod whatif;
pub mod whatif_runs;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::contacts::ContactReader;
use crate::filter::FilterEngine;
use crate::kernel::base::Base;
use crate::plugin::Registry;
use crate::segments::Segments;

pub use compute::Scored;
pub use explain::{ContactScore, ParameterPoints, ScoreChange};
pub use model::{Band, Definition, Measure, ModelKind, Parameter, ValueSource};
pub use store::{ModelInput, ModelPatch, ScoringModel};
pub use whatif::{BandCount, Move, WhatIf};
pub use whatif_runs::{RunState, WhatIfRun};

/// A model's status: scores are current (`ready`), a full rescore is pending or running
/// (`rescoring`), or a criterion failed (`needs_attention`).
pub const READY: &str = "ready";
pub const RESCORING: &str = "rescoring";
pub const NEEDS_ATTENTION: &str = "needs_attention";

/// The scoring service.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub(crate) base: Base,
    pub(crate) plugins: Arc<Registry>,
    pub(crate) filter: FilterEngine,
    pub(crate) contacts: ContactReader,
    pub(crate) segments: Segments,
    pub(crate) state: Arc<ScoringState>,
}

/// Per-instance state: the compiled models, the worker's wake-up and its settings.
#[derive(Debug)]
pub struct ScoringState {
    pub(crate) book: tokio::sync::Mutex<Option<Arc<upkeep::Book>>>,
    pub(crate) wake: tokio::sync::Notify,
    inline_limit: AtomicU64,
    time_rescore_every: AtomicI64,
    pub(crate) what_ifs: whatif_runs::WhatIfRuns,
    what_if_wait_ms: AtomicU64,
}

impl Default for ScoringState {
    fn default() -> Self {
        ScoringState {
            book: tokio::sync::Mutex::new(None),
            wake: tokio::sync::Notify::new(),
            inline_limit: AtomicU64::new(rescore::INLINE_LIMIT),
            time_rescore_every: AtomicI64::new(rescore::TIME_RESCORE_EVERY.num_seconds()),
            what_ifs: whatif_runs::WhatIfRuns::default(),
            what_if_wait_ms: AtomicU64::new(whatif_runs::ANSWER_WAIT_MS),
        }
    }
}

impl ScoringState {
    /// Sets how many contacts a model may cover and still be rescored in the request that
    /// saved it (0: always in the background).
    pub fn set_inline_limit(&self, contacts: u64) {
        self.inline_limit.store(contacts, Ordering::Relaxed);
    }

    pub(crate) fn inline_limit(&self) -> u64 {
        self.inline_limit.load(Ordering::Relaxed)
    }

    /// Sets how often time-dependent models are rescored, in seconds of the clock.
    pub fn set_time_rescore_every(&self, seconds: i64) {
        self.time_rescore_every.store(seconds.max(1), Ordering::Relaxed);
    }

    pub(crate) fn time_rescore_every(&self) -> chrono::Duration {
        chrono::Duration::seconds(self.time_rescore_every.load(Ordering::Relaxed))
    }

    /// Sets how long a page waits for a what-if's answer before it shows its progress
    /// instead.
    pub fn set_what_if_wait(&self, wait: std::time::Duration) {
        self.what_if_wait_ms
            .store(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// How long a page waits for a what-if's answer before it shows its progress.
    pub fn what_if_wait(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.what_if_wait_ms.load(Ordering::Relaxed))
    }
}

impl Scoring {
    /// The service over the layers below it; the segments are kept current by the rescores
    /// it runs.
    pub fn new(filter: FilterEngine, segments: Segments) -> Self {
        Scoring {
            base: filter.base.clone(),
            plugins: filter.plugins.clone(),
            contacts: filter.contacts.clone(),
            filter,
            segments,
            state: Arc::default(),
        }
    }

    /// The per-instance scoring state.
    pub fn scoring_state(&self) -> &ScoringState {
        &self.state
    }
}
