//! The plugin host: filter operators, scoring criteria and bulk actions as sandboxed
//! WebAssembly components.
//!
//! A plugin is a component implementing one world of `plugins/wit` (package
//! `kartoteka:plugin@0.1.0`): `filter-operator`, `segment-criterion` or `bulk-action`. The
//! WIT is the only contract; this module never links plugin code, it runs it.
//!
//! | module | what |
//! |---|---|
//! | [`engine`] | the wasmtime `Engine` and `Linker`, loading and checking a component, one fresh store per call, turning traps into reasons |
//! | [`limits`] | every number a plugin can hit: deadlines, memory, answer size, IR size |
//! | [`sandbox`] | the WASI a plugin sees (nothing ambient) and the capture of its output |
//! | [`cache`] | compiled components on disk, and why only our own files are loaded |
//! | [`bindings`] | the one `bindgen!` of the three worlds |
//! | [`ir`] | the predicate IR on the host side and the checks every answer passes |
//! | [`values`] | arguments, batches, field references, self-descriptions |
//! | [`registry`] | installed plugins in the database and in memory, reload across instances, calls |
//! | [`admin`] | upload, upgrade, approve, enable, disable, remove, try — admins only |
//! | [`builtin`] | the built-in plugins embedded in the binary |
//!
//! # What the filter engine calls
//!
//! [`Registry::operators`] is the catalogue (enabled filter-operator plugins, what
//! `GET /api/v1/operators` shows). [`Registry::lower`]`(plugin, op, field, value, now, ctx)`
//! turns one filter node into a checked [`Predicate`] tree; [`Registry::matches`]`(plugin,
//! op, value, batch, ctx)` is the exact test of a residual, one answer per value. `ctx` is
//! the [`CallContext`]: a request, a contact write's open transaction (segment upkeep:
//! the snapshot in hand, the log written after), or an admin's trial. Errors:
//! `NotFound` (no such plugin), `Conflict` (disabled: a segment says so instead of silently
//! changing), `Validation` at `value` (the plugin refuses the value, with its reason and
//! path), `Plugin { name, message }` (it failed; the web layer answers 502 with code
//! `plugin`: neither the caller's input nor our bug, and the message names the culprit).
//!
//! [`Registry::score`] and [`Registry::run`] call a criterion or an action on one batch
//! (values, or contacts as [`ActionContact`]s), checked the same way: one finite score per
//! value; effects only on contacts of the batch, of capabilities the plugin may use
//! (approved; on an admin's trial, asked for), with bounded texts. The admin's try
//! (`POST /api/v1/plugins/{name}/try`) uses them to show a criterion's scores and an
//! action's effects without applying any.
//!
//! # Engine
//!
//! One [`engine::Host`] per process: one `Engine` (Cranelift on the host CPU, component
//! model, `concurrency_support(false)` since no component-model async is used, and the
//! proposals Rust guests don't emit switched off or not compiled in: threads, shared
//! memory, GC, typed function references, exceptions, memory64, tail calls, relaxed SIMD,
//! multi-memory, custom page sizes, wide arithmetic, stack switching), the pooling
//! allocator (64 instance slots, memories up to the 512 MiB an admin may grant,
//! copy-on-write memory images), epoch
//! interruption driven by a ticker thread every 10 ms, and one `Linker` holding WASI 0.2
//! and the contract's type-only `kartoteka:plugin/types` instance, nothing else.
//!
//! A component is compiled once (through the disk cache) and checked before it is ever
//! run: an import that is neither WASI nor the contract is refused *by name* at upload
//! (`it imports kartoteka:evil/net, which the host does not provide`), not linked as a
//! trap to fail later; then `instantiate_pre` against the linker, and the world is found by
//! trying each world's `…Pre` (a component exporting none is refused and its exports are
//! listed). The upload then calls `describe` under the most an admin could grant (so a
//! plugin that needs more than the defaults can say what it is) and checks the answer (a
//! slug name, a semantic version, unique operator names, JSON schemas).
//! `?kind=filter-operator` refuses a component of another world (a criterion uploaded as
//! an operator).
//!
//! # Every call
//!
//! A fresh `Store` with: an epoch deadline (1 s for `describe` and `lower`, 2 s per batch
//! for `matches`), a memory cap of 64 MiB through a `StoreLimits` limiter with
//! `trap_on_grow_failure` (wrapped to remember that it refused, so the error says "ran out
//! of memory" rather than a bare trap), a table cap, hostcall fuel of 8 MiB so an answer
//! larger than that fails *while it is copied out of the guest* instead of after the host
//! allocated it, and a WASI context with no preopened directory, no network, no
//! environment, no arguments, stdin closed, a wall clock frozen at the `now` the host
//! passes (the Unix epoch for calls without one), a monotonic clock that never moves and
//! a fixed random sequence (wasmtime-wasi's defaults are the host's clocks and a random
//! seed; they are replaced), stdout and stderr captured in memory (16 KiB each, the rest
//! dropped) and copied to the plugin's log after the call. The instance is created from
//! the `InstancePre` and dropped with the store: nothing survives a call, and an instance
//! that trapped is never called again. The one exception is the batches of one `matches`
//! call, which share an instance while it behaves ([`engine::MatchSession`]; same plugin,
//! arguments and caller, so no trust boundary is crossed) because a fresh instance and a
//! cold memory per 4,096 values cost about a third more.
//!
//! # Grants
//!
//! The limits above are every plugin's defaults. A plugin built on a language runtime
//! (CPython through componentize-py, a JavaScript engine through componentize-js) may need
//! more; an admin grants it at approval ([`limits::Grant`], stored in `plugins.limits`):
//! up to 512 MiB per call and 10 s per call, never less than the defaults. The grant
//! travels with the loaded component ([`engine::Loaded::with_grant`], no recompiling) and
//! raises each call's limits; the plugins page and `GET /api/v1/plugins` show what each
//! plugin runs with. The hostile plugins' tests run under the defaults, and one test
//! checks that a granted plugin is stopped at its grant instead.
//!
//! A failure becomes a reason a person can act on: "ran past its deadline of 1000 ms and
//! was stopped", "ran out of memory: it tried to grow its memory to 64.1 MiB; the limit is
//! 64 MiB", "overflowed its stack", "panicked: <the panic message from its stderr>",
//! "trapped: …", "answered with more than 8 MiB", "answered a malformed predicate: node 3
//! refers to node 5, which is not an earlier node". An answer is checked by [`ir`]: children
//! must have smaller indices than their parent (so no cycle can even be expressed), at most
//! 1,024 nodes, 4,096 once shared children are counted each time, depth 64, finite
//! numbers, valid dates, bounded strings and lists, residuals only of the plugin's own
//! operators, and `matches` must answer exactly one value per input.
//!
//! Calls are synchronous wasmtime calls on tokio's blocking pool, at most 32 at once
//! (a semaphore below the pool's 64 slots, so instantiation never fails for lack of one).
//! A plugin spinning until its deadline holds one blocking thread and nothing else; the
//! async workers keep serving (the integration tests probe `/healthz` and the contacts
//! API during every hostile call).
//!
//! # Deadlines: epochs, not fuel
//!
//! Measured on the `matches` benchmark (`BENCHMARKS.md`, Plugins; 1M strings, one instance
//! per call): no interruption 72.0 ms, epochs 80.7 ms (+12%), fuel 77.8 ms (+8%); over
//! several runs both cost 10-20%, within noise of each other. Epochs win on what they mean: the limit that
//! matters to a server is wall-clock time (a request must answer), an epoch deadline is
//! exactly that whatever the instruction mix, and costs nothing to calibrate; fuel is an
//! instruction budget that would have to be translated into time per machine, and its
//! determinism (the same budget always trips at the same place) is worth little when the
//! inputs are live data. Fuel stays available ([`engine::Interrupt::Fuel`]) for the
//! benchmark and a future "budget used" display for plugin authors. Neither interrupts a
//! host call, and the host offers none that blocks.
//!
//! # Installed plugins, across instances
//!
//! The `plugins` table holds each plugin: name, version, kind, what it offers,
//! capabilities asked and approved, enabled, and the component itself (built-ins are
//! stored without it: they ship in the binary, compiled from `plugins/builtin/*` by
//! `core/build.rs`, and are installed enabled on first start and updated when a binary
//! carries a different build). Every change bumps `plugin_generation` in the same
//! transaction. Each instance keeps a snapshot of the table with every component loaded;
//! before using it, a call checks the stored generation if its last check is older than a
//! second, and a catalogue read always does (one primary-key read). A changed generation
//! reloads the snapshot, reusing the components whose SHA-256 didn't change. So enable,
//! disable, upgrade and remove reach every server sharing the database within a second,
//! without a restart.
//!
//! A new third-party plugin starts disabled with nothing approved; enabling one whose
//! requested capabilities are not all approved is refused, and an upgrade that asks for
//! more disables it. That gate is in [`admin`] only, which only admins (or the command line)
//! reach.
//!
//! # Alternatives considered
//!
//! - *wasmtime async with epoch yielding* instead of the blocking pool: it frees the thread
//!   while a guest spins, but every call pays for a fiber stack and async glue, and our
//!   guests never wait on anything; the blocking pool with a small semaphore bounds the
//!   same damage more simply.
//! - *Fuel* as the deadline: see above.
//! - *Reusing instances across calls* (a warm pool per plugin): faster still, but state
//!   would leak between queries and users, and a trapped instance would need detecting and
//!   discarding; instantiation from an `InstancePre` with pooling costs ~13 µs, so only the
//!   batches of one call share an instance.
//! - *`define_unknown_imports_as_traps`*: it makes a plugin with a missing import install
//!   fine and fail at run time; refusing it at upload with the import's name is what an
//!   author needs.
//! - *Components on disk* instead of in the database: a second server would not have them;
//!   the database is what instances share. The compiled form is a per-machine cache.
//! - *Precompiling built-ins at build time*: it would need wasmtime in the build script
//!   and tie the artifact to the build machine's CPU; the disk cache gives the same start
//!   time after the first run.
//! - *`LISTEN/NOTIFY` for reloads*: PostgreSQL only; a generation read works on both
//!   databases and costs one indexed read per second at most.
//! - *A process per plugin*: stronger isolation, but IPC per batch would dwarf the work; the
//!   wasm sandbox with the limits above is the boundary, on wasmtime's LTS line, Cranelift
//!   on x86_64 (no Winch or Pulley).

pub mod admin;
pub mod bindings;
pub mod builtin;
pub mod cache;
pub mod engine;
pub mod ir;
pub mod limits;
pub mod registry;
pub mod sandbox;
pub mod values;

pub use admin::{Installed, PluginAdmin, TryOutcome, TryRequest, describe_grant};
pub use engine::{CallError, Host, HostOptions, Interrupt};
pub use ir::{Predicate, Residual, Scalar};
pub use registry::{ActionEntry, CallContext, LogLine, OperatorEntry, PluginInfo, Registry};
pub use values::{ActionContact, Batch, Capability, Effect, EffectKind, FieldKind, FieldRef, Kind, Offer, Principal};
