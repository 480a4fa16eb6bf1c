//! The one table of a contact's core columns: their names in the API, the audit trail,
//! filters and exports, their labels, kinds, storage columns, and which of them a user
//! writes. [`CoreColumn::spec`] is the table, one row per column; everything that lists core
//! columns derives its list from it:
//!
//! - the audit trail's names and what a change records ([`super::ContactDraft::value`]);
//! - the filter catalogue's core paths, labels and kinds ([`CoreColumn::filtered`], through
//!   `filter::catalog`);
//! - the segment export's leading columns ([`CoreColumn::EXPORTED`]);
//! - the contact form's inputs (`web`, from [`CoreColumn::WRITTEN`] and [`ColumnSpec::path`]);
//! - the demo's bulk insert (`demo::row`, from [`CoreColumn::WRITTEN`] and [`ColumnSpec::storage`]).
//!
//! The Rust structs that carry the values ([`super::Contact`], [`super::ContactDraft`],
//! [`super::ContactPatch`], the sea-orm entity, the API's DTOs) still name each property:
//! a struct field can't be derived from a table without a macro that would hide the
//! types from every reader and from the OpenAPI derive. Each of them is bound to this table
//! by one accessor or one conversion, and a unit test checks that the table, the entity and
//! the draft agree.

use crate::kernel::kinds::FieldKind;

/// A core column of `contacts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoreColumn {
    Name,
    Email,
    Phone,
    Position,
    Street,
    City,
    Region,
    Country,
    PostalCode,
    Kind,
    DoNotContact,
    CreatedAt,
    UpdatedAt,
    Score,
    ScoreBand,
    Type,
    Company,
    Owner,
    Latitude,
    Longitude,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The name in the API, the audit trail, filter paths and export headers.
    pub key: &'static str,
    /// What people read.
    pub label: &'static str,
    /// The kind plugins see and values are checked as.
    pub kind: FieldKind,
    /// The column in the `contacts` table.
    pub storage: &'static str,
    /// The name of its readable value: the filter path, the contact form's input and the
    /// export's header. The key but for the references, which read as what they point
    /// to: `company` (the company's name), `owner` (the user), `type` (the type).
    pub path: &'static str,
    /// The column with the folded text (`crate::text::fold`), for text columns that
    /// filters and search compare case- and accent-insensitively.
    pub folded: Option<&'static str>,
    /// Whether the column may be NULL.
    pub nullable: bool,
    /// Whether filters compare the column itself (`type`, `company` and `owner` are
    /// filtered through their own sources: the type tree, the company's name, the owner).
    pub filtered: bool,
    /// Whether a user writes it (a create or a change); the others are kept by the system.
    pub written: bool,
}

impl CoreColumn {
    /// Every core column, in the order pickers show them.
    pub const ALL: [CoreColumn; 20] = [
        CoreColumn::Name,
        CoreColumn::Email,
        CoreColumn::Phone,
        CoreColumn::Position,
        CoreColumn::Street,
        CoreColumn::City,
        CoreColumn::Region,
        CoreColumn::Country,
        CoreColumn::PostalCode,
        CoreColumn::Kind,
        CoreColumn::DoNotContact,
        CoreColumn::CreatedAt,
        CoreColumn::UpdatedAt,
        CoreColumn::Score,
        CoreColumn::ScoreBand,
        CoreColumn::Type,
        CoreColumn::Company,
        CoreColumn::Owner,
        CoreColumn::Latitude,
        CoreColumn::Longitude,
    ];

    /// The columns filters compare directly, in picker order.
    pub fn filtered() -> impl Iterator<Item = CoreColumn> {
        CoreColumn::ALL.into_iter().filter(|c| c.spec().filtered)
    }

    /// The columns a user writes, in the order of a form.
    pub const WRITTEN: [CoreColumn; 16] = [
        CoreColumn::Kind,
        CoreColumn::Type,
        CoreColumn::Name,
        CoreColumn::Email,
        CoreColumn::Phone,
        CoreColumn::Position,
        CoreColumn::Company,
        CoreColumn::Street,
        CoreColumn::City,
        CoreColumn::Region,
        CoreColumn::Country,
        CoreColumn::PostalCode,
        CoreColumn::Latitude,
        CoreColumn::Longitude,
        CoreColumn::Owner,
        CoreColumn::DoNotContact,
    ];

    /// The columns a segment export starts with (after the id, before the join time).
    pub const EXPORTED: [CoreColumn; 12] = [
        CoreColumn::Kind,
        CoreColumn::Type,
        CoreColumn::Name,
        CoreColumn::Email,
        CoreColumn::Phone,
        CoreColumn::Position,
        CoreColumn::Company,
        CoreColumn::City,
        CoreColumn::Region,
        CoreColumn::Country,
        CoreColumn::PostalCode,
        CoreColumn::Owner,
    ];

    /// The table.
    pub const fn spec(self) -> ColumnSpec {
        use FieldKind as K;
        #[rustfmt::skip]
        let (key, label, kind, storage, path, folded, nullable, filtered, written) = match self {
            //                           key               label                kind            storage           path              folded                      null   filter written
            CoreColumn::Name =>         ("name",           "Name",              K::Text,        "name",           "name",           Some("name_folded"),        false, true,  true),
            CoreColumn::Email =>        ("email",          "Email",             K::Email,       "email",          "email",          Some("email_folded"),       true,  true,  true),
            CoreColumn::Phone =>        ("phone",          "Phone",             K::Phone,       "phone",          "phone",          Some("phone_folded"),       true,  true,  true),
            CoreColumn::Position =>     ("position",       "Position",          K::Text,        "position",       "position",       Some("position_folded"),    true,  true,  true),
            CoreColumn::Street =>       ("street",         "Street",            K::Text,        "street",         "street",         Some("street_folded"),      true,  true,  true),
            CoreColumn::City =>         ("city",           "City",              K::Text,        "city",           "city",           Some("city_folded"),        true,  true,  true),
            CoreColumn::Region =>       ("region",         "Region",            K::Text,        "region",         "region",         Some("region_folded"),      true,  true,  true),
            CoreColumn::Country =>      ("country",        "Country",           K::Text,        "country",        "country",        Some("country_folded"),     true,  true,  true),
            CoreColumn::PostalCode =>   ("postal_code",    "Postal code",       K::Text,        "postal_code",    "postal_code",    Some("postal_code_folded"), true,  true,  true),
            CoreColumn::Kind =>         ("kind",           "Person or company", K::Select,      "kind",           "kind",           None,                       false, true,  true),
            CoreColumn::DoNotContact => ("do_not_contact", "Do not contact",    K::Boolean,     "do_not_contact", "do_not_contact", None,                       false, true,  true),
            CoreColumn::CreatedAt =>    ("created_at",     "Created",           K::Datetime,    "created_at",     "created_at",     None,                       false, true,  false),
            CoreColumn::UpdatedAt =>    ("updated_at",     "Updated",           K::Datetime,    "updated_at",     "updated_at",     None,                       false, true,  false),
            CoreColumn::Score =>        ("score",          "Score",             K::Number,      "score",          "score",          None,                       true,  true,  false),
            CoreColumn::ScoreBand =>    ("score_band",     "Score band",        K::Select,      "score_band",     "score_band",     None,                       true,  true,  false),
            CoreColumn::Type =>         ("type",           "Type",              K::ContactType, "type_id",        "type",           None,                       false, false, true),
            CoreColumn::Company =>      ("company_id",     "Company",           K::Integer,     "company_id",     "company",        None,                       true,  false, true),
            CoreColumn::Owner =>        ("owner",          "Owner",             K::Integer,     "owner_id",       "owner",          None,                       true,  false, true),
            CoreColumn::Latitude =>     ("latitude",       "Latitude",          K::Number,      "latitude",       "latitude",       None,                       true,  false, true),
            CoreColumn::Longitude =>    ("longitude",      "Longitude",         K::Number,      "longitude",      "longitude",      None,                       true,  false, true),
        };
        ColumnSpec {
            key,
            label,
            kind,
            storage,
            path,
            folded,
            nullable,
            filtered,
            written,
        }
    }

    /// The name in the API, the audit trail, filters and exports.
    pub const fn key(self) -> &'static str {
        self.spec().key
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::contacts;
    use sea_orm::{ColumnTrait, IdenStatic, Iterable};

    #[test]
    fn the_lists_are_cut_from_the_table() {
        let written: std::collections::HashSet<CoreColumn> =
            CoreColumn::ALL.into_iter().filter(|c| c.spec().written).collect();
        assert_eq!(written, CoreColumn::WRITTEN.into_iter().collect());
        for c in CoreColumn::EXPORTED {
            assert!(c.spec().written, "{c:?} is exported and written");
        }
        for c in CoreColumn::filtered() {
            assert_eq!(c.spec().path, c.key(), "{c:?}: a filtered column is its own path");
        }
    }

    #[test]
    fn every_column_is_stored_as_the_entity_says() {
        let entity: std::collections::HashMap<String, bool> = contacts::Column::iter()
            .map(|c| (c.as_str().to_owned(), c.def().is_null()))
            .collect();
        for c in CoreColumn::ALL {
            let s = c.spec();
            let nullable = entity
                .get(s.storage)
                .unwrap_or_else(|| panic!("{c:?}: no column {} in the entity", s.storage));
            assert_eq!(*nullable, s.nullable, "{c:?}: nullable");
            if let Some(folded) = s.folded {
                assert!(entity.contains_key(folded), "{c:?}: no column {folded}");
            }
        }
    }
}
