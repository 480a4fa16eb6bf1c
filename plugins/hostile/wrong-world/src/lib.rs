//! `hostile-wrong-world`: a working segment criterion (world `segment-criterion`), for
//! the places that expect a filter operator.

use kartoteka_plugin_sdk::prelude::*;

struct WrongWorld;

impl CriterionPlugin for WrongWorld {
    fn description() -> Description {
        Description {
            manifest: Manifest::new(
                "hostile-wrong-world",
                "0.1.0",
                "A criterion where an operator is expected.",
            ),
            entries: vec![Entry {
                name: "flat".into(),
                label: "ten points each".into(),
                applies_to: vec![FieldKind::Number],
                schema: "{}".into(),
            }],
        }
    }

    fn score(_: &str, _: &Args, values: &Batch) -> Result<Vec<f64>, PluginError> {
        Ok(vec![10.0; values.len()])
    }
}

export_criterion_plugin!(WrongWorld);
