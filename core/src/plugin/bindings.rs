//! Host bindings of the plugin contract (`plugins/wit`, package `kartoteka:plugin@0.1.0`).
//!
//! One `bindgen!` per world. The shared `types` interface is generated once, in
//! [`filter`], and reused by the other two worlds (`with:`), so a `Value` or an `Args` is
//! the same Rust type whichever kind of plugin it goes to. Nothing outside
//! `core::plugin` sees these types: [`super::ir`] turns answers into checked host types.

// Generated code: it builds typed functions with `unsafe` constructors whose signatures
// the macro derived from the WIT itself, and leaves unused parameters in empty linkers.
#![allow(
    unsafe_code,
    unused,
    missing_docs,
    clippy::all,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

/// The `filter-operator` world: `describe`, `lower`, `matches`.
pub mod filter {
    wasmtime::component::bindgen!({
        path: "../plugins/wit",
        world: "filter-operator",
    });
}

/// The `segment-criterion` world: `describe`, `score`.
pub mod criterion {
    wasmtime::component::bindgen!({
        path: "../plugins/wit",
        world: "segment-criterion",
        with: {
            "kartoteka:plugin/types": super::filter::kartoteka::plugin::types,
        },
    });
}

/// The `bulk-action` world: `describe`, `run`.
pub mod action {
    wasmtime::component::bindgen!({
        path: "../plugins/wit",
        world: "bulk-action",
        with: {
            "kartoteka:plugin/types": super::filter::kartoteka::plugin::types,
        },
    });
}

pub use filter::kartoteka::plugin::types;
