//! What travels to a plugin and back besides the IR, as host types, with their
//! conversions to and from the WIT shapes and the checks an answer passes.
//!
//! | module | what |
//! |---|---|
//! | here | field references ([`FieldRef`]) and their kinds in the contract's spelling |
//! | [`args`] | a JSON value as a flat argument tree and back, checked |
//! | [`batch`] | columnar batches of values for `matches` and `score` |
//! | [`describe`] | what a plugin says it is: kind, capabilities, offers, all checked |
//! | [`effects`] | the contacts a bulk action sees and the effects it answers, checked |
//!
//! The kinds themselves are the kernel's [`FieldKind`]; only their WIT spelling is here,
//! since the kernel knows nothing of the contract's bindings.

use super::bindings::filter::exports::kartoteka::plugin::filter as wit;
use super::bindings::types;
use super::limits::MAX_STRING;

pub mod args;
pub mod batch;
pub mod describe;
pub mod effects;

pub use crate::kernel::kinds::FieldKind;
pub use args::{args_from_wit, args_to_wit};
pub use batch::{Batch, Column};
pub(crate) use describe::check_description;
pub use describe::{Capability, Description, Kind, MAX_OFFERS, Offer, is_plugin_name};
pub use effects::{ActionContact, Effect, EffectKind, Principal};

/// A kind as the contract spells it; every kind has one, both ways.
impl From<types::FieldKind> for FieldKind {
    fn from(kind: types::FieldKind) -> FieldKind {
        use types::FieldKind as W;
        match kind {
            W::Text => FieldKind::Text,
            W::LongText => FieldKind::LongText,
            W::Number => FieldKind::Number,
            W::Integer => FieldKind::Integer,
            W::Money => FieldKind::Money,
            W::Date => FieldKind::Date,
            W::Datetime => FieldKind::Datetime,
            W::Boolean => FieldKind::Boolean,
            W::Select => FieldKind::Select,
            W::Multiselect => FieldKind::Multiselect,
            W::Email => FieldKind::Email,
            W::Phone => FieldKind::Phone,
            W::Url => FieldKind::Url,
            W::Geo => FieldKind::Geo,
            W::Activity => FieldKind::Activity,
            W::Location => FieldKind::Location,
            W::Segment => FieldKind::Segment,
            W::ContactType => FieldKind::ContactType,
        }
    }
}

impl From<FieldKind> for types::FieldKind {
    fn from(kind: FieldKind) -> types::FieldKind {
        use types::FieldKind as W;
        match kind {
            FieldKind::Text => W::Text,
            FieldKind::LongText => W::LongText,
            FieldKind::Number => W::Number,
            FieldKind::Integer => W::Integer,
            FieldKind::Money => W::Money,
            FieldKind::Date => W::Date,
            FieldKind::Datetime => W::Datetime,
            FieldKind::Boolean => W::Boolean,
            FieldKind::Select => W::Select,
            FieldKind::Multiselect => W::Multiselect,
            FieldKind::Email => W::Email,
            FieldKind::Phone => W::Phone,
            FieldKind::Url => W::Url,
            FieldKind::Geo => W::Geo,
            FieldKind::Activity => W::Activity,
            FieldKind::Location => W::Location,
            FieldKind::Segment => W::Segment,
            FieldKind::ContactType => W::ContactType,
        }
    }
}

/// The field a filter node is on, as `lower` receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    /// `name`, `fields.industry`, `activity.purchase`, `location`, ...
    pub path: String,
    pub kind: FieldKind,
    /// The options of a select or multiselect field.
    pub options: Vec<String>,
}

impl FieldRef {
    pub(crate) fn to_wit(&self) -> wit::FieldRef {
        wit::FieldRef {
            path: self.path.clone(),
            kind: self.kind.into(),
            options: self.options.clone(),
        }
    }
}

/// A string of at most [`MAX_STRING`] bytes.
pub fn check_text(s: String, what: &str) -> Result<String, String> {
    if s.len() > MAX_STRING {
        Err(format!("{what} is {} bytes long; at most {MAX_STRING}", s.len()))
    } else {
        Ok(s)
    }
}
