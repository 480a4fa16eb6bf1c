//! The WASI a plugin sees: nothing ambient.
//!
//! `wasi:*@0.2` is linked in full so that components built by an ordinary
//! `cargo build --target wasm32-wasip2` instantiate, but every context is built here with:
//!
//! - no preopened directories (the filesystem interfaces exist and find nothing), no
//!   arguments, no environment variables, stdin closed;
//! - no network: TCP, UDP and name lookup are switched off (every address is refused as
//!   well, the WASI default);
//! - a frozen wall clock that reads the `now` the host passed to the call (the Unix epoch
//!   for calls without one) and a monotonic clock that never moves, so the only time a
//!   plugin knows is the one in its arguments;
//! - a fixed random sequence, so a plugin's answer depends on its inputs only (and
//!   `HashMap` still works);
//! - stdout and stderr captured in memory, [`super::limits::MAX_OUTPUT`] bytes each, and
//!   copied to the plugin's log after the call; output beyond that is dropped.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{Deterministic, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::limits::{CallLimits, Limiter, MAX_OUTPUT};

/// The data of one call's store: its WASI context, resources and limiter.
pub struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The memory and table limiter (it remembers what it refused).
    pub limiter: Limiter,
    /// What the plugin wrote to stdout.
    pub stdout: Captured,
    /// What the plugin wrote to stderr.
    pub stderr: Captured,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl CallState {
    /// A fresh state for one call; `now` is the Unix time the plugin's clock shows.
    pub fn new(limits: &CallLimits, now: i64) -> Self {
        let stdout = Captured::default();
        let stderr = Captured::default();
        let mut builder = WasiCtx::builder();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FrozenWallClock(Duration::from_secs(u64::try_from(now).unwrap_or(0))))
            .monotonic_clock(FrozenMonotonicClock)
            .secure_random(Deterministic::new(FIXED_RANDOM.to_vec()))
            .insecure_random(Deterministic::new(FIXED_RANDOM.to_vec()))
            .insecure_random_seed(0x6b61_7274_6f74_656b_6100_0000_0000_0001)
            .max_random_size(64 << 10);
        let mut table = ResourceTable::new();
        table.set_max_capacity(1_000);
        CallState {
            wasi: builder.build(),
            table,
            limiter: Limiter::new(limits),
            stdout,
            stderr,
        }
    }
}

/// The bytes every plugin's random source repeats.
const FIXED_RANDOM: [u8; 16] = *b"kartoteka-plugin";

struct FrozenWallClock(Duration);

impl HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

struct FrozenMonotonicClock;

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// An in-memory stream that keeps the first [`MAX_OUTPUT`] bytes and drops the rest,
/// always accepting writes (a plugin that prints too much loses output, not its call).
#[derive(Debug, Clone, Default)]
pub struct Captured(Arc<Mutex<Buffer>>);

#[derive(Debug, Default)]
struct Buffer {
    bytes: Vec<u8>,
    dropped: usize,
}

impl Captured {
    fn push(&self, data: &[u8]) {
        if let Ok(mut buffer) = self.0.lock() {
            let room = MAX_OUTPUT.saturating_sub(buffer.bytes.len());
            let kept = data.len().min(room);
            buffer.bytes.extend_from_slice(data.get(..kept).unwrap_or_default());
            buffer.dropped += data.len() - kept;
        }
    }

    /// The captured text, lossily decoded, and how many bytes were dropped.
    pub fn text(&self) -> (String, usize) {
        match self.0.lock() {
            Ok(buffer) => (String::from_utf8_lossy(&buffer.bytes).into_owned(), buffer.dropped),
            Err(_) => (String::new(), 0),
        }
    }
}

impl IsTerminal for Captured {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Captured {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for Captured {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for Captured {
    async fn ready(&mut self) {}
}

impl OutputStream for Captured {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}
