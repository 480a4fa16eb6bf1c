//! The schema layer: contact types, extra-field definitions, card layouts and the base's settings —
//! what contact writes are checked against and what filters refer to.
//!
//! [`SchemaService`] reads and changes them. It knows nothing of the layers above: a
//! change answers what must follow it ([`SchemaChange`]: the segments rebuilt, a field's
//! expression index made or dropped), and the facade ([`crate::Core`]) acts on that. A
//! change that moves contact values (a field's kind or options, a type removed with its
//! contacts moved) is split in two: this layer checks it and changes the definitions in a
//! transaction the facade opened as a contact write under the schema lock, and the facade
//! rewrites the values through the one writer of contacts in the same transaction.

pub mod contact_types;
mod field_changes;
pub mod fields;
pub mod layouts;
pub mod settings;

use crate::kernel::base::Base;

/// Contact types, field definitions and settings.
#[derive(Debug, Clone)]
pub struct SchemaService {
    pub(crate) base: Base,
}

impl SchemaService {
    /// The service over `base`.
    pub fn new(base: Base) -> Self {
        SchemaService { base }
    }
}

/// What must follow a schema change. Every change makes the filters that every instance
/// prepared out of date (the catalogue generation is bumped); beyond that:
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SchemaChange {
    /// Contacts' values or types moved under the filters: rebuild every dynamic segment.
    pub rebuild: bool,
}

impl SchemaChange {
    /// A change after which every dynamic segment is rebuilt.
    pub fn rebuild() -> Self {
        SchemaChange { rebuild: true }
    }
}
