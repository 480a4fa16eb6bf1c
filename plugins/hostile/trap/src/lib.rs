//! `hostile-trap`: `lower` and `matches` execute the `unreachable` instruction.

use kartoteka_plugin_sdk::filter::*;
use kartoteka_plugin_sdk::prelude::*;

struct Trap;

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

impl FilterOperator for Trap {
    fn describe() -> Description {
        hostile_common::describe("trap", &["unreachable"])
    }

    fn lower(_: &str, _: &FieldRef, _: &Args, _: &LowerContext) -> Result<Predicate, PluginError> {
        trap()
    }

    fn matches(_: &str, _: &Args, _: &Batch) -> Result<Vec<bool>, PluginError> {
        trap()
    }
}

export_filter_operator!(Trap);
