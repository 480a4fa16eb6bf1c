//! Extra fields: defined by admins at run time, validated on every write.
//!
//! # Where the values live
//!
//! Values sit in one JSON column per contact, `contacts.fields` (JSONB on PostgreSQL, JSON
//! text on SQLite), keyed by the field's key. The alternatives weighed:
//!
//! - **A column per field** (`ALTER TABLE` when an admin adds one): the fastest reads and
//!   the simplest indexes, but DDL at run time on a shared table, a migration story per
//!   backend, and locks on PostgreSQL while a big table is rewritten. Rejected.
//! - **Entity-attribute-value rows** (`contact_id, field_id, value`): flexible, but every
//!   contact read becomes a join or a second query, a filter on two fields two self-joins,
//!   and typed comparison needs one value column per type. Rejected.
//! - **A JSON document per contact** (chosen): one row per contact, read and written whole;
//!   both databases index an expression on it (`json_extract(fields, '$.k')` on SQLite,
//!   `(fields->>'k')` with a cast on PostgreSQL), so a hot field gets a real index without
//!   DDL on the table itself. Types are enforced here, in [`value::normalize`], on every
//!   write, and stored in forms that compare correctly in SQL (fixed-width dates).
//!
//! # Changing a field
//!
//! Changing a field's kind, or the options of a select, may make existing values invalid.
//! [`Core::update_field`] converts every stored value first and reports what could not be
//! converted. If anything can't be, the change is refused with that report, unless the
//! admin says `drop_unconvertible`; then the values that can't be converted are removed,
//! and each removal is written to the contact's audit trail with the old value, so nothing
//! is lost without a trace.
//!
//! Each rewritten contact gets its folded text and search words recomputed
//! ([`crate::contacts::derived`]); a change of kind or of `searchable` recomputes them for
//! every contact holding a value, in the same transaction, so global search follows the
//! new definition at once.

pub mod value;

use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Map, Value, json};

pub use value::FieldKind;

use crate::contact_types::{TypeTree, json_strings};
use crate::entities::{contacts, field_defs};
use crate::error::Problems;
use crate::{Error, Result};

/// An extra field's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub options: Vec<String>,
    pub required: bool,
    pub searchable: bool,
    /// Contact type keys the field applies to (with their subtypes); empty means all.
    pub applies_to: Vec<String>,
    pub position: i32,
}

impl FieldDef {
    pub(crate) fn from_model(m: field_defs::Model) -> Result<Self> {
        let kind = FieldKind::parse_field(&m.kind)
            .ok_or_else(|| Error::Internal(format!("field `{}` has unknown kind `{}`", m.key, m.kind)))?;
        Ok(FieldDef {
            options: json_strings(&m.options),
            applies_to: json_strings(&m.applies_to),
            key: m.key,
            label: m.label,
            kind,
            required: m.required,
            searchable: m.searchable,
            position: m.position,
        })
    }

    /// Whether the field applies to a contact of type `type_key`.
    pub fn applies_to_type(&self, tree: &TypeTree, type_key: &str) -> bool {
        self.applies_to.is_empty()
            || tree
                .lineage(type_key)
                .iter()
                .any(|k| self.applies_to.iter().any(|a| a == k))
    }
}

/// What an admin sends to define a field.
#[derive(Debug, Clone, Default)]
pub struct NewField {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub options: Vec<String>,
    pub required: bool,
    pub searchable: bool,
    pub applies_to: Vec<String>,
}

/// What an admin sends to change a field; `None` leaves a property as it is.
#[derive(Debug, Clone, Default)]
pub struct FieldPatch {
    pub label: Option<String>,
    pub kind: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
    pub searchable: Option<bool>,
    pub applies_to: Option<Vec<String>>,
    /// Remove (with an audit record) the values that can't be converted, instead of refusing.
    pub drop_unconvertible: bool,
}

/// One value that could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub struct Unconvertible {
    pub contact_id: i64,
    pub value: Value,
    pub reason: String,
}

/// What a change of kind or options did, or would do, to the stored values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversionReport {
    /// Values checked.
    pub checked: u64,
    /// Values rewritten to the new form.
    pub converted: u64,
    /// Values that could not be converted (all of them).
    pub failed: Vec<Unconvertible>,
    /// Whether the failed values were removed (only with `drop_unconvertible`).
    pub dropped: bool,
}

impl ConversionReport {
    /// The report as JSON, for an API answer or an error's details.
    pub fn to_json(&self) -> Value {
        json!({
            "checked": self.checked,
            "converted": self.converted,
            "dropped": self.dropped,
            "failed": self.failed.iter().map(|f| json!({"contact_id": f.contact_id, "value": f.value, "reason": f.reason})).collect::<Vec<_>>(),
        })
    }
}

/// The field definitions and the type tree: what a contact write is checked against.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub fields: Vec<FieldDef>,
    pub types: TypeTree,
}

impl Schema {
    /// The definition of `key`.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Applies `changes` (a `null` removes a value) to `current` for a contact of type
    /// `type_key`, checking each changed value and every required field. Errors carry the
    /// path `fields.<key>`, every problem at once.
    ///
    /// A value for a field that doesn't apply to the type is refused, never dropped; a
    /// value sent unchanged (a form sends back what it showed) is not judged again, so a
    /// value stored before the field's types changed doesn't block other edits. With
    /// `type_key` `None` (the type itself is wrong) only the values are checked.
    pub fn merge_fields(
        &self,
        type_key: Option<&str>,
        current: &Map<String, Value>,
        changes: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let mut problems = Problems::default();
        let mut out = current.clone();
        for (key, value) in changes {
            let path = format!("fields.{key}");
            let Some(def) = self.field(key) else {
                problems.add(&path, "no such field; define it first");
                continue;
            };
            if value::is_blank(value) {
                out.remove(key);
                continue;
            }
            let normalized = match value::normalize(def.kind, &def.options, value) {
                Ok(v) => v,
                Err(m) => {
                    problems.add(&path, m);
                    continue;
                }
            };
            if let Some(type_key) = type_key
                && current.get(key) != Some(&normalized)
                && !def.applies_to_type(&self.types, type_key)
            {
                let label = self.types.by_key(type_key).map_or(type_key, |t| t.label.as_str());
                problems.add(
                    &path,
                    format!(
                        "{} does not apply to contacts of type {label}; clear it or choose another type",
                        def.label
                    ),
                );
                continue;
            }
            out.insert(key.clone(), normalized);
        }
        if let Some(type_key) = type_key {
            for def in &self.fields {
                let path = format!("fields.{}", def.key);
                if def.required
                    && def.applies_to_type(&self.types, type_key)
                    && !out.contains_key(&def.key)
                    && !problems.has(&path)
                {
                    problems.add(path, "is required");
                }
            }
        }
        problems.into_result()?;
        Ok(out)
    }
}

pub(crate) fn check_definition(
    kind: &str,
    label: &str,
    options: &[String],
    applies_to: &[String],
    tree: &TypeTree,
) -> Result<(FieldKind, String, Vec<String>)> {
    let kind = FieldKind::parse_field(kind).ok_or_else(|| {
        let all: Vec<&str> = FieldKind::FIELDS.iter().map(|k| k.as_str()).collect();
        Error::invalid(
            "kind",
            format!("unknown kind `{kind}`; expected one of {}", all.join(", ")),
        )
    })?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(Error::invalid("label", "must have 1 to 100 characters"));
    }
    if label.chars().any(char::is_control) {
        return Err(Error::invalid("label", "must not contain control characters"));
    }
    let mut clean: Vec<String> = Vec::new();
    for (i, option) in options.iter().enumerate() {
        let o = option.trim();
        if o.is_empty() {
            return Err(Error::invalid(format!("options[{i}]"), "must not be empty"));
        }
        if o.chars().any(char::is_control) || o.chars().count() > 200 {
            return Err(Error::invalid(
                format!("options[{i}]"),
                "must be at most 200 characters, without control characters",
            ));
        }
        if clean.iter().any(|c| c == o) {
            return Err(Error::invalid(
                format!("options[{i}]"),
                format!("`{o}` is listed twice"),
            ));
        }
        clean.push(o.to_owned());
    }
    if kind.has_options() && clean.is_empty() {
        return Err(Error::invalid(
            "options",
            format!("a {kind} field needs at least one option"),
        ));
    }
    if !kind.has_options() && !clean.is_empty() {
        return Err(Error::invalid("options", format!("a {kind} field takes no options")));
    }
    for (i, key) in applies_to.iter().enumerate() {
        if tree.by_key(key).is_none() {
            return Err(Error::invalid(
                format!("applies_to[{i}]"),
                crate::contact_types::unknown_type(key),
            ));
        }
    }
    Ok((kind, label.to_owned(), clean))
}

/// A condition true where `contacts.fields` holds `key`.
pub(crate) fn has_field(backend: DbBackend, key: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values("jsonb_exists(\"contacts\".\"fields\", $1)", [key.to_owned()]),
        _ => Expr::cust_with_values(
            "json_type(\"contacts\".\"fields\", ?) IS NOT NULL",
            [format!("$.\"{key}\"")],
        ),
    }
}

/// Every stored value of field `key`, by contact id.
pub(crate) async fn values_of(db: &impl ConnectionTrait, key: &str) -> Result<Vec<(i64, Value)>> {
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let page = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Fields)
            .filter(contacts::Column::Id.gt(after))
            .filter(has_field(backend, key))
            .order_by_asc(contacts::Column::Id)
            .limit(1000)
            .into_tuple::<(i64, Value)>()
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        out.extend(
            page.into_iter()
                .filter_map(|(id, fields)| fields.get(key).cloned().map(|v| (id, v))),
        );
    }
    Ok(out)
}
