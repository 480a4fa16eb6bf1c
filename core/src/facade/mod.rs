//! The facade: [`crate::Core`] hands out the services and runs the few orchestrations that
//! span them, one file per area.

mod schema;
