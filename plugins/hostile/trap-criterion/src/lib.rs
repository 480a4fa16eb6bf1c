//! `hostile-trap-criterion`: a segment criterion, `points` on every field kind with any
//! parameters, whose `describe` works and whose `score` executes the `unreachable`
//! instruction on every batch, for the host's tests of a scoring run whose criterion
//! fails.

use kartoteka_plugin_sdk::prelude::*;

fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

/// `points`: traps whatever the parameters and the values.
#[derive(Default)]
pub struct Points;

impl Criterion for Points {
    const NAME: &'static str = "points";
    const LABEL: &'static str = "Points, or a trap";
    const APPLIES_TO: &'static [FieldKind] = &FieldKind::ALL;
    type Params = Args;

    fn score(&mut self, _: &Args, _: &Batch) -> Result<Vec<f64>, PluginError> {
        trap()
    }
}

/// The plugin.
pub struct TrapCriterion;

plugin!(TrapCriterion {
    name: "hostile-trap-criterion",
    description: "A scoring criterion that traps on every batch.",
    criteria: [Points],
});
