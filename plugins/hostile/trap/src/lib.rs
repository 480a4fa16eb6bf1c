//! `hostile-trap`: `lower` and `matches` execute the `unreachable` instruction.

use kartoteka_plugin_sdk::prelude::*;

struct Trap;

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

impl FilterPlugin for Trap {
    fn description() -> Description {
        hostile_common::describe("trap", &["unreachable"])
    }

    fn lower(_: &str, _: &Field, _: &Args, _: i64) -> Result<Predicate, PluginError> {
        trap()
    }

    fn matches(_: &str, _: &Args, _: &Batch) -> Result<Vec<bool>, PluginError> {
        trap()
    }
}

export_filter_plugin!(Trap);
