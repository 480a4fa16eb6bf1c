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
//!
//! | module | what |
//! |---|---|
//! | here | [`Host`]: the engine, its configuration, the linker, the ticker, compiling and checking a component |
//! | [`calls`] | [`Loaded`]: a checked component and its calls, one fresh store each; [`MatchSession`] |
//! | [`failure`] | a failed call read as a reason a person can act on |

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig, Store, Strategy};

use super::bindings::action::BulkActionPre;
use super::bindings::criterion::SegmentCriterionPre;
use super::bindings::filter::FilterOperatorPre;
use super::bindings::types;
use super::cache::{DiskCache, hex};
use super::limits::{
    CallLimits, Grant, MAX_COMPONENT_SIZE, MAX_CONCURRENT_CALLS, MAX_GRANT_MEMORY, TABLE_ELEMENTS, TICK,
};
use super::sandbox::CallState;

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
            // Room for what an admin may grant one plugin; each store's limiter holds a
            // call to its own limit (64 MiB unless granted more).
            .max_memory_size(MAX_GRANT_MEMORY)
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
            grant: Grant::default(),
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

pub mod calls;
pub mod failure;

pub use calls::{CallError, Called, Loaded, MatchSession, Prepared};
use failure::chain;

#[cfg(test)]
mod tests {
    use super::*;

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
