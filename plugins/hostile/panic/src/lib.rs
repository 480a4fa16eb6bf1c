//! `hostile-panic`: `lower` and `matches` panic (the message goes to stderr, then the
//! instance traps).

use kartoteka_plugin_sdk::prelude::*;

struct Panic;

impl FilterPlugin for Panic {
    fn description() -> Description {
        hostile_common::describe("panic", &["explode"])
    }

    fn lower(op: &str, _: &Field, _: &Args, _: i64) -> Result<Predicate, PluginError> {
        panic!("hostile-panic: `{op}` panics in lower, on purpose")
    }

    fn matches(op: &str, _: &Args, _: &Batch) -> Result<Vec<bool>, PluginError> {
        panic!("hostile-panic: `{op}` panics in matches, on purpose")
    }
}

export_filter_plugin!(Panic);
