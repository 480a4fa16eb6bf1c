//! The kernel: the bottom layer of `core`, what every other module may use and which
//! itself uses nothing else of the crate but [`crate::entities`].
//!
//! | module | what |
//! |---|---|
//! | [`error`] | the one error type, [`error::Problems`] for checks that report everything at once |
//! | [`clock`] | time as a parameter |
//! | [`collation`] | alphabetical order: Unicode collation keys (CLDR root) stored for sorting |
//! | [`text`] | folded text: case- and accent-insensitive comparison and search words |
//! | [`kinds`] | the one vocabulary of kinds: [`FieldKind`] (extra fields and what filters reference), [`ActivityKind`] |
//! | [`validate`] | the shapes of stable keys and e-mail addresses |
//! | [`identity`] | who is acting ([`identity::Actor`]) and what each role may do |
//! | [`base`] | the services' shared handle: the database, the clock and SQLite's queue of contact writers |
//! | [`generations`] | the counters that tell every instance its prepared filters are out of date |
//!
//! The crate root re-exports `error`, `clock` and `text` under their old paths
//! (`crate::error`, `kartoteka_core::clock`), and the modules that used to own a kind or
//! a check (`fields`, `plugin::values`, `activities`, `auth`, `contact_types`) re-export
//! it, so callers keep their paths.
//!
//! # Why a kernel
//!
//! Before it, the field kinds were spelled twice (once for field definitions, once for
//! what plugins see) and joined by a round trip through their names that fell back to
//! `text` when a name didn't parse; value validation imported the e-mail check from
//! `auth`, so `fields` depended on the sessions module. A kind or a check that several
//! layers need belongs below all of them. The alternative, a `kinds` module inside
//! `fields` that `plugin` imports, would have made the plugin host depend on the schema
//! layer beside it rather than on something below both.

pub mod base;
pub mod clock;
pub mod collation;
pub mod error;
pub mod generations;
pub mod identity;
pub mod kinds;
pub mod sheet;
pub mod text;
pub mod validate;

pub use kinds::{ActivityKind, FieldKind};
pub use validate::{valid_email, valid_key};
