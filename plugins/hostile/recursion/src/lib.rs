//! `hostile-recursion`: `lower` and `matches` recurse without bound.
//!
//! - op `deeper` (and `matches`): frames with an array in linear memory, so Rust's shadow
//!   stack runs out first; in wasmtime that traps as an out-of-bounds memory access.
//! - op `deeper_native`: frames with only wasm locals, so the engine's own call stack
//!   runs out first ("call stack exhausted").

use std::hint::black_box;

use kartoteka_plugin_sdk::prelude::*;

struct Recursion;

/// Recurses with a frame in linear memory; never returns in practice.
fn deeper(depth: u64) -> u64 {
    let frame = black_box([depth; 32]);
    if black_box(depth) == u64::MAX {
        return 0;
    }
    deeper(depth + 1).wrapping_add(frame[31])
}

/// Recurses with no memory traffic (a rotate defeats tail-call elimination).
#[inline(never)]
fn deeper_native(depth: u64) -> u64 {
    if depth == u64::MAX {
        return 0;
    }
    deeper_native(depth + 1).rotate_left(1) ^ depth
}

impl FilterPlugin for Recursion {
    fn description() -> Description {
        hostile_common::describe("recursion", &["deeper", "deeper_native"])
    }

    fn lower(op: &str, _: &Field, _: &Args, _: i64) -> Result<Predicate, PluginError> {
        let depth = if op == "deeper_native" {
            deeper_native(black_box(0))
        } else {
            deeper(0)
        };
        Err(PluginError::new(format!("unreachable: {depth}")))
    }

    fn matches(_: &str, _: &Args, _: &Batch) -> Result<Vec<bool>, PluginError> {
        Err(PluginError::new(format!("unreachable: {}", deeper(0))))
    }
}

export_filter_plugin!(Recursion);
