#![doc = include_str!("../README.md")]

pub mod db;
pub mod demo;
pub mod entities;
mod facade;
pub mod filter;
pub mod imports;
pub mod jobs;
pub mod kernel;
pub mod mail;
pub mod plugin;
pub mod records;
pub mod schema;
pub mod scoring;
pub mod segments;
pub mod views;

pub use kernel::{clock, collation, error, sheet, text};
pub use records::{activities, auth, contacts, outbox, sign_in_limits, tasks, users};
pub use schema::{contact_types, fields, settings};

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use facade::Core;
