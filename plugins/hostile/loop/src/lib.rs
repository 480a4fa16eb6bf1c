//! `hostile-loop`: `lower` and `matches` spin forever; only the host's deadline stops them.

use std::hint::black_box;

use kartoteka_plugin_sdk::prelude::*;

struct Loop;

fn spin() -> ! {
    let mut turns = 0u64;
    loop {
        turns = black_box(turns.wrapping_add(1));
    }
}

impl FilterPlugin for Loop {
    fn description() -> Description {
        hostile_common::describe("loop", &["spin"])
    }

    fn lower(_: &str, _: &Field, _: &Args, _: i64) -> Result<Predicate, PluginError> {
        spin()
    }

    fn matches(_: &str, _: &Args, _: &Batch) -> Result<Vec<bool>, PluginError> {
        spin()
    }
}

export_filter_plugin!(Loop);
