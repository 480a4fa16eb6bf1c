//! `hostile-memory-bomb`: `lower` and `matches` allocate (and touch) 1 MiB chunks until
//! an allocation fails, which aborts: a trap once the host's memory cap is reached.

use std::hint::black_box;

use kartoteka_plugin_sdk::prelude::*;

struct MemoryBomb;

fn hoard() -> ! {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 1 << 20];
        for page in chunk.iter_mut().step_by(4096) {
            *page = 1;
        }
        chunks.push(black_box(chunk));
    }
}

impl FilterPlugin for MemoryBomb {
    fn description() -> Description {
        hostile_common::describe("memory-bomb", &["hoard"])
    }

    fn lower(_: &str, _: &Field, _: &Args, _: i64) -> Result<Predicate, PluginError> {
        hoard()
    }

    fn matches(_: &str, _: &Args, _: &Batch) -> Result<Vec<bool>, PluginError> {
        hoard()
    }
}

export_filter_plugin!(MemoryBomb);
