//! The part of every hostile plugin that behaves: its description.

use kartoteka_plugin_sdk::{Description, Entry, FieldKind, Manifest};

/// Plugin `hostile-<name>`, offering `ops` on text fields, each with any argument.
pub fn describe(name: &str, ops: &[&str]) -> Description {
    Description {
        manifest: Manifest::new(
            &format!("hostile-{name}"),
            "0.1.0",
            "A plugin that misbehaves on purpose, for the host's tests.",
        ),
        entries: ops
            .iter()
            .map(|&op| Entry {
                name: op.to_owned(),
                label: op.replace('_', " "),
                applies_to: vec![FieldKind::Text],
                schema: "{}".to_owned(),
            })
            .collect(),
    }
}
