#![doc = include_str!("../README.md")]

pub mod activities;
pub mod auth;
pub mod clock;
pub mod contact_types;
pub mod contacts;
pub mod db;
pub mod entities;
pub mod error;
pub mod fields;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};

/// The domain services over one database.
///
/// Cheap to clone (a pool handle and a clock); the web layer keeps one in its state and
/// every page and API call goes through it.
#[derive(Debug, Clone)]
pub struct Core {
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
}

impl Core {
    /// Services over `db`, reading time from `clock`.
    pub fn new(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        Core { db, clock }
    }

    /// The database connection.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }
}
