//! The built-in plugins, compiled from `plugins/builtin/*` by `core/build.rs` and embedded
//! in the binary. They are installed and enabled on first start, upgraded in the database
//! when the binary carries a different build, and can be disabled but not removed.

include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));

/// The component bytes of the built-in whose `describe` says `name`, found by the
/// registry at start-up; this lists what the binary carries by package.
pub fn packages() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    BUILTINS.iter().copied()
}
