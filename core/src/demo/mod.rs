//! Demo data: realistic companies, people and activities for `kartoteka demo`, also used by
//! the load benchmarks (up to a million contacts).
//!
//! The data mixes four locales (Polish, Ukrainian, Romanian, Russian): names in their own
//! script with gendered surnames, real cities with their region, postal codes in the local
//! format, coordinates jittered by a few kilometres around the city centre, local phone
//! formats, and e-mail addresses transliterated to ASCII.
//!
//! Generation is deterministic: a small SplitMix64 generator seeded from
//! [`DemoOptions::seed`] drives every choice, so the same options give the same data.
//!
//! Rows are streamed: companies first (their ids are kept, people refer to them), then
//! people in batches, each batch with its activities inserted in the same transaction by
//! multi-row `INSERT`s with bound parameters only. Nothing but the companies' ids and a
//! few attributes stays in memory between batches. Each row carries its derived columns
//! (folded text, search words), computed by [`crate::contacts::derived`] like on every
//! other contact write.
//!
//! | module | what |
//! |---|---|
//! | `options` | what to generate, what was inserted |
//! | `load` | the loading loop: batches, transactions, progress |
//! | `plan` | contact types and what follows from them, read before generation |
//! | `fields` | the demo's extra-field definitions and the values contacts get |
//! | `generate` | companies and people |
//! | `activities` | activities per person and their INSERTs |
//! | `row` | the core contact columns and one row's values, in one place |
//! | `insert` | multi-row INSERTs, batch sizes, ids read back |
//! | `locale` | the four locales: names, addresses, phones, company names |
//! | `rng` | the seeded generator every choice goes through |
//! | `names` | data tables: names, places, phrases |

mod activities;
mod fields;
mod generate;
mod insert;
mod load;
mod locale;
pub mod names;
mod options;
mod plan;
mod rng;
mod row;

pub use load::load;
pub use options::{DemoOptions, DemoReport};
