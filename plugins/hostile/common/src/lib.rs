//! The part of every hostile plugin that behaves: its description.

use kartoteka_plugin_sdk::filter::{Description, OperatorInfo};
use kartoteka_plugin_sdk::{FieldKind, Manifest};

/// Plugin `hostile-<name>`, offering `ops` on text fields, each with any argument.
pub fn describe(name: &str, ops: &[&str]) -> Description {
    Description {
        manifest: Manifest::new(
            &format!("hostile-{name}"),
            "0.1.0",
            "A plugin that misbehaves on purpose, for the host's tests.",
        ),
        operators: ops
            .iter()
            .map(|&op| OperatorInfo {
                name: op.to_owned(),
                label: op.replace('_', " "),
                applies_to: vec![FieldKind::Text],
                args_schema: "{}".to_owned(),
            })
            .collect(),
    }
}
