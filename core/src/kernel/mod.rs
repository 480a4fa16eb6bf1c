//! The kernel: what every other layer may use and that uses nothing above it — the
//! services' shared handle ([`base::Base`]) and the generation counters.

pub mod base;
pub mod generations;
