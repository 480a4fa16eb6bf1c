//! What every service holds: the database and the clock.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::clock::{Clock, stored};

/// The database connection (a pool handle) and the clock, shared by the services. Cheap
/// to clone.
#[derive(Debug, Clone)]
pub struct Base {
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
}

impl Base {
    /// The current time, at the precision the database stores.
    pub fn now(&self) -> DateTime<Utc> {
        stored(self.clock.now())
    }
}
