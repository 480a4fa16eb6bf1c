//! A checked component ([`Loaded`]) and its calls: `describe`, `lower`, `matches`, `score`,
//! `run`, each on a fresh instance in a fresh store with its own limits, and
//! [`MatchSession`], the one exception (the batches of one `matches` call share an
//! instance while it behaves).

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Store;

use super::failure::{chain, explain, not_called, with_dropped};
use super::{Host, Interrupt};
use crate::plugin::bindings::action::BulkActionPre;
use crate::plugin::bindings::criterion::SegmentCriterionPre;
use crate::plugin::bindings::filter::FilterOperatorPre;
use crate::plugin::bindings::filter::exports::kartoteka::plugin::filter as wit;
use crate::plugin::bindings::types;
use crate::plugin::ir::{Predicate, check_matches, check_predicate, check_scores};
use crate::plugin::limits::{CallLimits, Grant};
use crate::plugin::sandbox::CallState;
use crate::plugin::values::effects::{check_effects, contacts_to_wit};
use crate::plugin::values::{ActionContact, Batch, Capability, Description, Effect, FieldRef, Kind, check_description};

/// A component's `InstancePre`, by world.
#[derive(Clone)]
pub enum Prepared {
    Filter(FilterOperatorPre<CallState>),
    Criterion(SegmentCriterionPre<CallState>),
    Action(BulkActionPre<CallState>),
}

impl Prepared {
    /// The world.
    pub fn kind(&self) -> Kind {
        match self {
            Prepared::Filter(_) => Kind::FilterOperator,
            Prepared::Criterion(_) => Kind::SegmentCriterion,
            Prepared::Action(_) => Kind::BulkAction,
        }
    }
}

/// Why a call did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// The plugin answered with its own `plugin-error`: it refuses these arguments.
    Refused { message: String, path: Option<String> },
    /// The plugin failed: it trapped, panicked, ran past its deadline or out of memory,
    /// answered too much or answered garbage. The message says which.
    Failed(String),
}

/// A guest's answer: checked by `check` (a malformed answer is the plugin's failure,
/// `malformed` says how it reads), or its own `plugin-error`, a refusal.
fn checked<T, U>(
    answer: Result<T, types::PluginError>,
    malformed: &str,
    check: impl FnOnce(T) -> Result<U, String>,
) -> Result<U, CallError> {
    match answer {
        Ok(answer) => check(answer).map_err(|e| CallError::Failed(format!("{malformed}: {e}"))),
        Err(e) => Err(CallError::Refused {
            message: e.message,
            path: e.path,
        }),
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Refused { message, path: Some(p) } => write!(f, "{p}: {message}"),
            CallError::Refused { message, path: None } => f.write_str(message),
            CallError::Failed(message) => f.write_str(message),
        }
    }
}

/// The outcome of one call: the answer, what the plugin printed, how long it took.
#[derive(Debug)]
pub struct Called<T> {
    pub result: Result<T, CallError>,
    /// stdout, as captured (cut at [`crate::plugin::limits::MAX_OUTPUT`]).
    pub stdout: String,
    /// stderr, as captured.
    pub stderr: String,
    pub elapsed: Duration,
}

impl<T> Called<T> {
    fn map<U>(self, f: impl FnOnce(T) -> Result<U, CallError>) -> Called<U> {
        Called {
            result: self.result.and_then(f),
            stdout: self.stdout,
            stderr: self.stderr,
            elapsed: self.elapsed,
        }
    }
}

/// A compiled, checked component, ready to be instantiated for calls.
pub struct Loaded {
    pub(super) host: Arc<Host>,
    pub(super) prepared: Prepared,
    /// SHA-256 of the component's bytes, hex.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: usize,
    /// What an admin granted it beyond the default limits.
    pub(super) grant: Grant,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("kind", &self.kind())
            .field("sha256", &self.sha256)
            .finish()
    }
}

/// What a plugin returns for each world's `describe`, before it is checked.
type RawOffers = Vec<(String, String, Vec<types::FieldKind>, String)>;

impl Loaded {
    /// The world the component implements.
    pub fn kind(&self) -> Kind {
        self.prepared.kind()
    }

    /// The host it runs on.
    pub fn host(&self) -> &Arc<Host> {
        &self.host
    }

    /// What it was granted.
    pub fn grant(&self) -> Grant {
        self.grant
    }

    /// The same component with `grant` instead (no compiling: the instance-pre is shared).
    pub fn with_grant(&self, grant: Grant) -> Loaded {
        Loaded {
            host: self.host.clone(),
            prepared: self.prepared.clone(),
            sha256: self.sha256.clone(),
            size: self.size,
            grant,
        }
    }

    /// Runs `f` on a fresh instance in a fresh store and explains any failure.
    fn call<R>(
        &self,
        limits: &CallLimits,
        now: i64,
        f: impl FnOnce(&Prepared, &mut Store<CallState>) -> Result<wasmtime::Result<R>, wasmtime::Error>,
    ) -> Called<R> {
        let started = Instant::now();
        let limits = &limits.granted(&self.grant);
        let mut store = self.host.store(limits, now);
        let outcome = f(&self.prepared, &mut store);
        let elapsed = started.elapsed();
        let result = match outcome {
            Err(e) => Err(CallError::Failed(format!(
                "could not be instantiated: {}",
                explain(&e, &store, limits, elapsed)
            ))),
            Ok(Err(e)) => Err(CallError::Failed(explain(&e, &store, limits, elapsed))),
            Ok(Ok(r)) => Ok(r),
        };
        let state = store.data();
        let (stdout, out_dropped) = state.stdout.text();
        let (stderr, err_dropped) = state.stderr.text();
        Called {
            result,
            stdout: with_dropped(stdout, out_dropped),
            stderr: with_dropped(stderr, err_dropped),
            elapsed,
        }
    }

    /// Instantiates the component in a fresh store and drops it: what every call pays
    /// before the guest runs (for measurements).
    pub fn instantiate_once(&self) -> Result<(), String> {
        let mut store = self.host.store(&CallLimits::LOWER, 0);
        let instantiated = match &self.prepared {
            Prepared::Filter(pre) => pre.instantiate(&mut store).map(|_| ()),
            Prepared::Criterion(pre) => pre.instantiate(&mut store).map(|_| ()),
            Prepared::Action(pre) => pre.instantiate(&mut store).map(|_| ()),
        };
        instantiated.map_err(|e| chain(&e))
    }

    /// Calls `describe` and checks the answer.
    pub fn describe(&self) -> Called<Description> {
        let kind = self.kind();
        let called = self.call(&CallLimits::DESCRIBE, 0, |prepared, store| match prepared {
            Prepared::Filter(pre) => {
                let bindings = pre.instantiate(&mut *store)?;
                Ok(bindings.kartoteka_plugin_filter().call_describe(&mut *store).map(|d| {
                    let offers: RawOffers = d
                        .operators
                        .into_iter()
                        .map(|o| (o.name, o.label, o.applies_to, o.args_schema))
                        .collect();
                    (d.manifest, offers)
                }))
            }
            Prepared::Criterion(pre) => {
                let bindings = pre.instantiate(&mut *store)?;
                Ok(bindings
                    .kartoteka_plugin_criterion()
                    .call_describe(&mut *store)
                    .map(|d| {
                        let offers: RawOffers = d
                            .criteria
                            .into_iter()
                            .map(|c| (c.name, c.label, c.applies_to, c.params_schema))
                            .collect();
                        (d.manifest, offers)
                    }))
            }
            Prepared::Action(pre) => {
                let bindings = pre.instantiate(&mut *store)?;
                Ok(bindings.kartoteka_plugin_action().call_describe(&mut *store).map(|d| {
                    let offers: RawOffers = d
                        .actions
                        .into_iter()
                        .map(|a| (a.name, a.label, vec![], a.params_schema))
                        .collect();
                    (d.manifest, offers)
                }))
            }
        });
        called.map(|(manifest, offers)| {
            check_description(kind, manifest, offers)
                .map_err(|e| CallError::Failed(format!("described itself wrongly: {e}")))
        })
    }

    /// The failure of calling this component as a plugin of another kind.
    fn not_a(&self, wanted: Kind) -> CallError {
        CallError::Failed(format!("is a {}, not a {}", self.kind().noun(), wanted.noun()))
    }

    fn filter(&self) -> Result<&FilterOperatorPre<CallState>, CallError> {
        match &self.prepared {
            Prepared::Filter(pre) => Ok(pre),
            _ => Err(self.not_a(Kind::FilterOperator)),
        }
    }

    /// Calls `lower(op, field, args, {now})` and checks the predicate.
    pub fn lower(&self, op: &str, field: &FieldRef, args: &types::Args, now: i64) -> Called<Predicate> {
        let pre = match self.filter() {
            Ok(pre) => pre,
            Err(e) => return not_called(e),
        };
        let field = field.to_wit();
        let called = self.call(&CallLimits::LOWER, now, |_, store| {
            let bindings = pre.instantiate(&mut *store)?;
            Ok(bindings
                .kartoteka_plugin_filter()
                .call_lower(&mut *store, op, &field, args, wit::LowerContext { now }))
        });
        called.map(|answer| checked(answer, "answered a malformed predicate", check_predicate))
    }

    /// Calls `matches(op, args, batch)` once and checks the answer's length.
    pub fn matches(&self, op: &str, args: &types::Args, batch: Batch) -> Called<Vec<bool>> {
        let pre = match self.filter() {
            Ok(pre) => pre,
            Err(e) => return not_called(e),
        };
        let len = batch.len();
        let batch = batch.into_wit();
        let called = self.call(&CallLimits::BATCH, 0, |_, store| {
            let bindings = pre.instantiate(&mut *store)?;
            Ok(bindings
                .kartoteka_plugin_filter()
                .call_matches(&mut *store, op, args, &batch))
        });
        called.map(|answer| checked(answer, "answered wrongly", |a| check_matches(a, len)))
    }

    /// Calls `score(criterion, params, batch)` once and checks there is one finite score
    /// per value.
    pub fn score(&self, criterion: &str, params: &types::Args, batch: Batch) -> Called<Vec<f64>> {
        let Prepared::Criterion(pre) = &self.prepared else {
            return not_called(self.not_a(Kind::SegmentCriterion));
        };
        let len = batch.len();
        let batch = batch.into_wit();
        let called = self.call(&CallLimits::BATCH, 0, |_, store| {
            let bindings = pre.instantiate(&mut *store)?;
            Ok(bindings
                .kartoteka_plugin_criterion()
                .call_score(&mut *store, criterion, params, &batch))
        });
        called.map(|answer| checked(answer, "answered wrongly", |a| check_scores(a, len)))
    }

    /// Calls `run(action, params, contacts)` once, the plugin's clock showing `now` (the
    /// job's time), and checks the effects: each on a contact of the batch, of a
    /// capability in `allowed`, within the size limits.
    pub fn run(
        &self,
        action: &str,
        params: &types::Args,
        contacts: &[ActionContact],
        allowed: &[Capability],
        now: i64,
    ) -> Called<Vec<Effect>> {
        let Prepared::Action(pre) = &self.prepared else {
            return not_called(self.not_a(Kind::BulkAction));
        };
        let batch = contacts_to_wit(contacts);
        let called = self.call(&CallLimits::BATCH, now, |_, store| {
            let bindings = pre.instantiate(&mut *store)?;
            Ok(bindings
                .kartoteka_plugin_action()
                .call_run(&mut *store, action, params, &batch))
        });
        called.map(|answer| checked(answer, "answered wrongly", |a| check_effects(a, contacts, allowed)))
    }

    /// A session for many `matches` batches of one query on one instance (see
    /// [`MatchSession`]).
    pub fn match_session(&self, op: &str, args: types::Args) -> Result<MatchSession<'_>, CallError> {
        let pre = self.filter()?;
        Ok(MatchSession {
            loaded: self,
            pre,
            op: op.to_owned(),
            args,
            live: None,
            stdout: String::new(),
            stderr: String::new(),
        })
    }
}

/// `matches` over the batches of one call, on one instance while it behaves.
///
/// The instance is created for the first batch and dropped after any failure (a trap, a
/// deadline, a wrong answer), so a trapped instance is never called again; each batch
/// gets its own deadline and answer budget. The batches of one call belong to one query
/// (same plugin, same arguments, same caller), so sharing the instance crosses no trust
/// boundary, and it saves a fresh instance and a cold memory per batch: a quarter of the
/// time on the benchmark (`BENCHMARKS.md`, Plugins). [`Loaded::matches`] is the
/// one-store-per-call form.
pub struct MatchSession<'a> {
    loaded: &'a Loaded,
    pre: &'a FilterOperatorPre<CallState>,
    op: String,
    args: types::Args,
    live: Option<(Store<CallState>, crate::plugin::bindings::filter::FilterOperator)>,
    stdout: String,
    stderr: String,
}

impl MatchSession<'_> {
    /// Keeps what a store's instance printed.
    fn drain(&mut self, store: &Store<CallState>) {
        let state = store.data();
        let (out, out_dropped) = state.stdout.text();
        let (err, err_dropped) = state.stderr.text();
        self.stdout.push_str(&with_dropped(out, out_dropped));
        self.stderr.push_str(&with_dropped(err, err_dropped));
    }

    /// Evaluates one batch.
    pub fn matches(&mut self, batch: Batch) -> Result<Vec<bool>, CallError> {
        let limits = CallLimits::BATCH.granted(&self.loaded.grant);
        let host = self.loaded.host.clone();
        let (mut store, bindings) = match self.live.take() {
            Some(live) => live,
            None => {
                let mut store = host.store(&limits, 0);
                match self.pre.instantiate(&mut store) {
                    Ok(bindings) => (store, bindings),
                    Err(e) => {
                        let message = explain(&e, &store, &limits, Duration::ZERO);
                        self.drain(&store);
                        return Err(CallError::Failed(format!("could not be instantiated: {message}")));
                    }
                }
            }
        };
        if host.interrupt == Interrupt::Epoch {
            store.set_epoch_deadline(limits.deadline_ticks());
        }
        store.set_hostcall_fuel(limits.answer_bytes);
        let len = batch.len();
        let batch = batch.into_wit();
        let started = Instant::now();
        let answer = bindings
            .kartoteka_plugin_filter()
            .call_matches(&mut store, &self.op, &self.args, &batch);
        let result = match answer {
            Ok(answer) => checked(answer, "answered wrongly", |a| check_matches(a, len)),
            Err(e) => Err(CallError::Failed(explain(&e, &store, &limits, started.elapsed()))),
        };
        if result.is_ok() {
            self.live = Some((store, bindings));
        } else {
            self.drain(&store);
        }
        result
    }

    /// Ends the session: what the instances printed (stdout, stderr).
    pub fn finish(mut self) -> (String, String) {
        if let Some((store, _)) = self.live.take() {
            self.drain(&store);
        }
        (self.stdout, self.stderr)
    }
}
