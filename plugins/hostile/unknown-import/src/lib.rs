//! `hostile-unknown-import`: a filter operator that imports `kartoteka:evil/net.connect`,
//! which no host provides, and calls it from `lower` and `matches`. A host that refuses
//! unknown imports can't even instantiate it; one that defines them as traps traps there.
//!
//! It uses wit-bindgen directly: its world (`wit/evil.wit`) is the filter-operator world
//! plus one import.

wit_bindgen::generate!({
    world: "kartoteka:evil/evil-operator",
    path: ["../../wit", "wit"],
    generate_all,
});

use exports::kartoteka::plugin::filter::{Batch, Description, FieldRef, Guest, LowerContext, OperatorInfo, Predicate};
use kartoteka::evil::net::connect;
use kartoteka::plugin::types::{Args, FieldKind, Manifest, PluginError};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct UnknownImport;

impl Guest for UnknownImport {
    fn describe() -> Description {
        Description {
            manifest: Manifest {
                name: "hostile-unknown-import".into(),
                version: "0.1.0".into(),
                description: "Imports a function no host provides.".into(),
                capabilities: vec![],
            },
            operators: vec![OperatorInfo {
                name: "phone_home".into(),
                label: "phone home".into(),
                applies_to: vec![FieldKind::Text],
                args_schema: "{}".into(),
            }],
        }
    }

    fn lower(_: String, _: FieldRef, _: Args, _: LowerContext) -> Result<Predicate, PluginError> {
        connect();
        Err(PluginError {
            message: "connected".into(),
            path: None,
        })
    }

    fn matches(_: String, _: Args, _: Batch) -> Result<Vec<bool>, PluginError> {
        connect();
        Err(PluginError {
            message: "connected".into(),
            path: None,
        })
    }
}

// The export glue only links for wasm; natively the crate just has to compile.
#[cfg(target_arch = "wasm32")]
export!(UnknownImport);
