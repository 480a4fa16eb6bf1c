//! What [`super::load`] is asked to generate ([`DemoOptions`]) and what it reports back
//! ([`DemoReport`]).

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// People (contacts of kind `person`).
    pub people: usize,
    /// Companies (contacts of kind `company`), inserted before the people.
    pub companies: usize,
    /// Average number of activities per person (each gets 0..=2× this many).
    pub activities_per_contact: usize,
    /// Seed of the generator: the same seed gives the same data.
    pub seed: u64,
    /// Users to assign as owners; empty leaves `owner_id` NULL.
    pub owner_ids: Vec<i64>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            people: 2000,
            companies: 300,
            activities_per_contact: 6,
            seed: 42,
            owner_ids: Vec::new(),
        }
    }
}

/// What [`load`] inserted.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoReport {
    pub people: u64,
    pub companies: u64,
    pub activities: u64,
    /// Field definitions added (those that already existed are not counted).
    pub fields: u64,
}
