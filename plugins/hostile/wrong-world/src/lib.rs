//! `hostile-wrong-world`: a working segment criterion (world `segment-criterion`), for
//! the places that expect a filter operator.

use kartoteka_plugin_sdk::criterion::*;
use kartoteka_plugin_sdk::prelude::*;

struct WrongWorld;

impl SegmentCriterion for WrongWorld {
    fn describe() -> Description {
        Description {
            manifest: Manifest::new(
                "hostile-wrong-world",
                "0.1.0",
                "A criterion where an operator is expected.",
            ),
            criteria: vec![CriterionInfo {
                name: "flat".into(),
                label: "ten points each".into(),
                applies_to: vec![FieldKind::Number],
                params_schema: "{}".into(),
            }],
        }
    }

    fn score(_: &str, _: &Args, values: &Batch) -> Result<Vec<f64>, PluginError> {
        Ok(vec![10.0; values.len()])
    }
}

export_segment_criterion!(WrongWorld);
