//! The wasmtime side: one engine, one linker, and a fresh store for every call.
//!
//! - [`Host`] owns the [`Engine`] (component model, Cranelift, the pooling allocator, epoch
//!   interruption, the proposals Rust guests don't use switched off), the [`Linker`] (WASI
//!   0.2 and the contract's type-only `kartoteka:plugin/types`, nothing else), the ticker
//!   thread that advances the epoch every [`TICK`], and a semaphore of
//!   [`MAX_CONCURRENT_CALLS`] slots (below the pool's size, so instantiation never fails for
//!   lack of a slot). One per process: [`Host::shared`].
//! - [`Host::load`] compiles a component (through the disk cache), checks it against the
//!   linker *before* it is ever run — an import the host does not provide or a world the
//!   host does not know is refused here, with the import's name — and keeps the
//!   `InstancePre` of its world ([`Loaded`]).
//! - Every call ([`Loaded::describe`], [`Loaded::lower`], [`Loaded::matches`]) builds a new
//!   `Store` with its own limits, instantiates from the `InstancePre` (microseconds with the
//!   pooling allocator and copy-on-write memory images), calls, and drops the store: no
//!   state survives a call and an instance that trapped is never touched again.
//!
//! These calls block the thread for up to their deadline; the async layer
//! ([`super::registry`]) runs them on `spawn_blocking`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Store, Strategy, Trap};

use super::bindings::action::BulkActionPre;
use super::bindings::criterion::SegmentCriterionPre;
use super::bindings::filter::FilterOperatorPre;
use super::bindings::filter::exports::kartoteka::plugin::filter as wit;
use super::bindings::types;
use super::cache::{DiskCache, hex};
use super::ir::{Predicate, check_matches, check_predicate};
use super::limits::{CallLimits, MAX_COMPONENT_SIZE, MAX_CONCURRENT_CALLS, MEMORY_LIMIT, TABLE_ELEMENTS, TICK};
use super::sandbox::CallState;
use super::values::{Batch, Description, FieldRef, Kind, check_description};

/// The contract's `types` interface has no functions; linking it only names it.
impl types::Host for CallState {}

/// How runaway guests are stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// Epoch interruption: a ticker thread advances the epoch; a store traps once it is
    /// past its deadline. What the server uses.
    Epoch,
    /// Fuel metering (an instruction budget); for comparison in the benchmark.
    Fuel,
    /// Nothing: a loop never ends. Only for measuring what interruption costs.
    Off,
}

/// How to build a [`Host`].
#[derive(Debug, Clone, Copy)]
pub struct HostOptions {
    pub interrupt: Interrupt,
    /// The pooling allocator (on) or on-demand allocation.
    pub pooling: bool,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            interrupt: Interrupt::Epoch,
            pooling: true,
        }
    }
}

/// Instance slots in the pool: twice the concurrent calls, so a slot being released while
/// the next call starts never runs the pool dry.
const POOL_INSTANCES: u32 = 2 * MAX_CONCURRENT_CALLS as u32;

/// The fuel a call gets under [`Interrupt::Fuel`] (the benchmark compares costs, not
/// budgets, so it is effectively unlimited).
const FUEL: u64 = u64::MAX / 4;

/// The wasmtime engine and linker of the plugin host.
pub struct Host {
    engine: Engine,
    linker: Linker<CallState>,
    interrupt: Interrupt,
    slots: Arc<Semaphore>,
    _ticker: Option<Ticker>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("interrupt", &self.interrupt).finish()
    }
}

/// Stops the ticker thread when the host goes.
struct Ticker(Arc<AtomicBool>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn chain(e: &wasmtime::Error) -> String {
    e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": ")
}

/// The engine configuration: what guests may use and how they are compiled and stopped.
pub fn config(options: &HostOptions) -> Config {
    let mut config = Config::new();
    config
        .strategy(Strategy::Cranelift)
        .cranelift_opt_level(OptLevel::Speed)
        .wasm_component_model(true)
        .concurrency_support(false)
        // What `wasm32-wasip2` Rust code does not use is switched off: fewer proposals,
        // less attack surface. Threads, GC, typed function references and exceptions are
        // not even compiled into this build of wasmtime (no `threads`/`gc` features).
        .wasm_shared_everything_threads(false)
        .wasm_memory64(false)
        .wasm_gc(false)
        .wasm_stack_switching(false)
        .wasm_tail_call(false)
        .wasm_relaxed_simd(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false)
        .wasm_multi_memory(false)
        .epoch_interruption(options.interrupt == Interrupt::Epoch)
        .consume_fuel(options.interrupt == Interrupt::Fuel)
        .max_wasm_stack(512 << 10);
    if options.pooling {
        let mut pool = PoolingAllocationConfig::new();
        pool.total_component_instances(POOL_INSTANCES)
            .total_core_instances(4 * POOL_INSTANCES)
            .total_memories(2 * POOL_INSTANCES)
            .total_tables(4 * POOL_INSTANCES)
            .max_memories_per_component(4)
            .max_tables_per_component(8)
            .max_memory_size(MEMORY_LIMIT)
            .table_elements(TABLE_ELEMENTS)
            .max_unused_warm_slots(MAX_CONCURRENT_CALLS as u32);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

impl Host {
    /// A host with `options`; starts the epoch ticker when epochs are on.
    pub fn new(options: HostOptions) -> Result<Arc<Host>, String> {
        let engine = Engine::new(&config(&options)).map_err(|e| format!("the WebAssembly engine: {}", chain(&e)))?;
        let mut linker: Linker<CallState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("linking WASI: {}", chain(&e)))?;
        types::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)
            .map_err(|e| format!("linking the contract: {}", chain(&e)))?;
        let ticker = match options.interrupt {
            Interrupt::Epoch => {
                let stop = Arc::new(AtomicBool::new(false));
                let engine = engine.clone();
                let stopped = stop.clone();
                std::thread::Builder::new()
                    .name("plugin-epoch".into())
                    .spawn(move || {
                        while !stopped.load(Ordering::Relaxed) {
                            std::thread::sleep(TICK);
                            engine.increment_epoch();
                        }
                    })
                    .map_err(|e| format!("starting the epoch ticker: {e}"))?;
                Some(Ticker(stop))
            }
            Interrupt::Fuel | Interrupt::Off => None,
        };
        Ok(Arc::new(Host {
            engine,
            linker,
            interrupt: options.interrupt,
            slots: Arc::new(Semaphore::new(MAX_CONCURRENT_CALLS)),
            _ticker: ticker,
        }))
    }

    /// The process's host (built on first use with the default options). Where the
    /// pooling allocator can't reserve its address space (a `ulimit -v`, say), it falls
    /// back to on-demand allocation rather than running without plugins.
    pub fn shared() -> Result<Arc<Host>, String> {
        static SHARED: OnceLock<Result<Arc<Host>, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                Host::new(HostOptions::default()).or_else(|e| {
                    tracing::warn!(error = %e, "the pooling allocator is unavailable; allocating plugin instances on demand");
                    Host::new(HostOptions {
                        pooling: false,
                        ..HostOptions::default()
                    })
                })
            })
            .clone()
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The slots that bound how many calls run at once.
    pub fn slots(&self) -> &Arc<Semaphore> {
        &self.slots
    }

    /// Compiles `wasm` (or loads it from `cache`), refusing what is not a component.
    pub fn compile(&self, wasm: &[u8], cache: Option<&DiskCache>) -> Result<Component, String> {
        if wasm.len() > MAX_COMPONENT_SIZE {
            return Err(format!(
                "the file is {} bytes; a plugin may be at most {MAX_COMPONENT_SIZE} bytes",
                wasm.len()
            ));
        }
        match wasm.get(..8) {
            Some([0, b'a', b's', b'm', 0x0d, 0, 1, 0]) => {}
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => {
                return Err(
                    "this is a core WebAssembly module, not a component: build the plugin with `cargo build --target wasm32-wasip2` (that target emits a component)"
                        .into(),
                );
            }
            _ => return Err("this is not a WebAssembly component (the file doesn't start with `\\0asm`)".into()),
        }
        let compiled = match cache {
            Some(cache) => cache.component(&self.engine, wasm),
            None => Component::new(&self.engine, wasm),
        };
        compiled.map_err(|e| format!("the component does not compile: {}", chain(&e)))
    }

    /// Checks `component` against what the host provides and finds its world.
    pub fn prepare(&self, component: &Component) -> Result<Prepared, String> {
        let foreign: Vec<String> = component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_owned())
            .filter(|name| !name.starts_with("wasi:") && !name.starts_with("kartoteka:plugin/types@"))
            .collect();
        if !foreign.is_empty() {
            return Err(format!(
                "it imports {}, which the host does not provide; a plugin may import only WASI 0.2 and `kartoteka:plugin/types`",
                foreign.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ));
        }
        let pre = self.linker.instantiate_pre(component).map_err(|e| {
            format!(
                "it needs an import the host does not provide ({}); a plugin may import only WASI 0.2 and `kartoteka:plugin/types`",
                chain(&e)
            )
        })?;
        if let Ok(p) = FilterOperatorPre::new(pre.clone()) {
            return Ok(Prepared::Filter(p));
        }
        if let Ok(p) = SegmentCriterionPre::new(pre.clone()) {
            return Ok(Prepared::Criterion(p));
        }
        if let Ok(p) = BulkActionPre::new(pre) {
            return Ok(Prepared::Action(p));
        }
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        Err(format!(
            "it implements none of the plugin worlds: it should export `kartoteka:plugin/filter@0.1.0` (filter-operator), `kartoteka:plugin/criterion@0.1.0` (segment-criterion) or `kartoteka:plugin/action@0.1.0` (bulk-action), but exports {}",
            if exports.is_empty() {
                "nothing".to_owned()
            } else {
                exports.join(", ")
            }
        ))
    }

    /// Compiles and prepares `wasm`.
    pub fn load(self: &Arc<Self>, wasm: &[u8], cache: Option<&DiskCache>) -> Result<Loaded, String> {
        let component = self.compile(wasm, cache)?;
        let prepared = self.prepare(&component)?;
        Ok(Loaded {
            host: self.clone(),
            prepared,
            sha256: hex(&Sha256::digest(wasm)),
            size: wasm.len(),
        })
    }

    /// A fresh store for one call under `limits`, its clock showing `now`.
    fn store(&self, limits: &CallLimits, now: i64) -> Store<CallState> {
        let mut store = Store::new(&self.engine, CallState::new(limits, now));
        store.limiter(|state| &mut state.limiter);
        store.set_hostcall_fuel(limits.answer_bytes);
        match self.interrupt {
            Interrupt::Epoch => {
                store.set_epoch_deadline(limits.deadline_ticks());
                store.epoch_deadline_trap();
            }
            Interrupt::Fuel => {
                let _ = store.set_fuel(FUEL);
            }
            Interrupt::Off => {}
        }
        store
    }
}

/// A component's `InstancePre`, by world.
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
    /// stdout, as captured (cut at [`super::limits::MAX_OUTPUT`]).
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
    host: Arc<Host>,
    prepared: Prepared,
    /// SHA-256 of the component's bytes, hex.
    pub sha256: String,
    /// Size of the component in bytes.
    pub size: usize,
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

    /// Runs `f` on a fresh instance in a fresh store and explains any failure.
    fn call<R>(
        &self,
        limits: &CallLimits,
        now: i64,
        f: impl FnOnce(&Prepared, &mut Store<CallState>) -> Result<wasmtime::Result<R>, wasmtime::Error>,
    ) -> Called<R> {
        let started = Instant::now();
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

    fn filter(&self) -> Result<&FilterOperatorPre<CallState>, CallError> {
        match &self.prepared {
            Prepared::Filter(pre) => Ok(pre),
            other => Err(CallError::Failed(format!(
                "is a {} plugin, not a filter operator",
                other.kind().as_str()
            ))),
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
        called.map(|answer| match answer {
            Ok(raw) => {
                check_predicate(raw).map_err(|e| CallError::Failed(format!("answered a malformed predicate: {e}")))
            }
            Err(e) => Err(CallError::Refused {
                message: e.message,
                path: e.path,
            }),
        })
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
        called.map(|answer| match answer {
            Ok(answer) => check_matches(answer, len).map_err(|e| CallError::Failed(format!("answered wrongly: {e}"))),
            Err(e) => Err(CallError::Refused {
                message: e.message,
                path: e.path,
            }),
        })
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
    live: Option<(Store<CallState>, super::bindings::filter::FilterOperator)>,
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
        let limits = CallLimits::BATCH;
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
            Ok(Ok(answer)) => {
                check_matches(answer, len).map_err(|e| CallError::Failed(format!("answered wrongly: {e}")))
            }
            Ok(Err(e)) => Err(CallError::Refused {
                message: e.message,
                path: e.path,
            }),
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

fn not_called<T>(error: CallError) -> Called<T> {
    Called {
        result: Err(error),
        stdout: String::new(),
        stderr: String::new(),
        elapsed: Duration::ZERO,
    }
}

fn with_dropped(mut text: String, dropped: usize) -> String {
    if dropped > 0 {
        if !text.ends_with('\n') && !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("[{dropped} more bytes of output dropped]\n"));
    }
    text
}

/// A person's reading of a failed call: what limit was hit or what went wrong.
fn explain(error: &wasmtime::Error, store: &Store<CallState>, limits: &CallLimits, elapsed: Duration) -> String {
    let state = store.data();
    let mib = |n: usize| n as f64 / (1024.0 * 1024.0);
    if let Some(asked) = state.limiter.refused_memory {
        return format!(
            "ran out of memory: it tried to grow its memory to {:.1} MiB; the limit is {:.0} MiB",
            mib(asked),
            mib(limits.memory)
        );
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return match trap {
            Trap::Interrupt => format!(
                "ran past its deadline of {} ms and was stopped (after {} ms)",
                limits.deadline.as_millis(),
                elapsed.as_millis()
            ),
            Trap::StackOverflow => "overflowed its stack (runaway recursion?)".into(),
            Trap::OutOfFuel => "used up its fuel".into(),
            Trap::MemoryOutOfBounds => {
                "trapped: out-of-bounds memory access (in a Rust plugin, usually its stack overflowing from runaway recursion)"
                    .into()
            }
            Trap::UnreachableCodeReached => match panic_message(&state.stderr.text().0) {
                Some(message) => format!("panicked: {message}"),
                None => "trapped: it reached `unreachable` (an abort or a panic)".into(),
            },
            other => format!("trapped: {}", other.to_string().trim_start_matches("wasm trap: ")),
        };
    }
    let text = chain(error);
    if text.contains("hostcalls has been exhausted") {
        return format!(
            "answered with more than {:.0} MiB of data (the limit of an answer)",
            mib(limits.answer_bytes)
        );
    }
    if state.limiter.refused_table {
        return format!("{text} (a table grew past its limit)");
    }
    format!("failed: {text}")
}

/// The message of a Rust panic, as the standard library prints it to stderr.
fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked at"));
    let first = lines.next()?;
    let message: Vec<&str> = lines.take_while(|l| !l.starts_with("note:")).take(5).collect();
    let message = message.join(" ");
    let message = if message.trim().is_empty() {
        first.trim().to_owned()
    } else {
        message.trim().to_owned()
    };
    Some(message.chars().take(500).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_rust_panic_message() {
        let stderr =
            "\nthread '<unnamed>' panicked at src/lib.rs:10:5:\nboom: it broke\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(panic_message(stderr).as_deref(), Some("boom: it broke"));
        assert_eq!(panic_message("nothing"), None);
    }

    #[test]
    fn refuses_what_is_not_a_component() {
        let host = Host::new(HostOptions {
            interrupt: Interrupt::Off,
            pooling: false,
        })
        .unwrap();
        assert!(
            host.compile(b"hello", None)
                .unwrap_err()
                .contains("not a WebAssembly component")
        );
        let module = [0, b'a', b's', b'm', 1, 0, 0, 0];
        assert!(
            host.compile(&module, None)
                .unwrap_err()
                .contains("core WebAssembly module")
        );
    }
}
