//! The host's check of a lowered predicate against the catalogue.
//!
//! `plugin::ir` already checked the shape (acyclic, finite, within limits). Here every
//! field a node names must exist, and values must fit the field's kind: a plugin that
//! compares a date field with a number, or asks for a text match on a boolean, fails its
//! query with a message naming the node, rather than leaving the databases to disagree
//! (SQLite would compare the two, PostgreSQL would refuse).

use super::catalog::{Catalog, FieldSpec, Source};
use crate::activities::KINDS;
use crate::plugin::ir::{Predicate, Scalar};
use crate::plugin::values::FieldKind;

/// The class of scalar a field's values compare with.
fn fits(field: &FieldSpec, value: &Scalar) -> bool {
    matches!(
        (field.kind, value),
        (
            FieldKind::Text
                | FieldKind::LongText
                | FieldKind::Email
                | FieldKind::Phone
                | FieldKind::Url
                | FieldKind::Select
                | FieldKind::Multiselect
                | FieldKind::ContactType,
            Scalar::Text(_),
        ) | (
            FieldKind::Number | FieldKind::Money | FieldKind::Integer,
            Scalar::Number(_) | Scalar::Integer(_)
        ) | (FieldKind::Date, Scalar::Date(_))
            | (FieldKind::Datetime, Scalar::Datetime(_))
            | (FieldKind::Boolean, Scalar::Boolean(_))
            | (FieldKind::Segment, Scalar::Integer(_))
    )
}

fn kind_name(value: &Scalar) -> &'static str {
    match value {
        Scalar::Null => "null",
        Scalar::Boolean(_) => "a boolean",
        Scalar::Integer(_) => "an integer",
        Scalar::Number(_) => "a number",
        Scalar::Text(_) => "a text",
        Scalar::Date(_) => "a date",
        Scalar::Datetime(_) => "a datetime",
    }
}

fn field<'a>(catalog: &'a Catalog, path: &str) -> Result<&'a FieldSpec, String> {
    catalog
        .field(path)
        .ok_or_else(|| format!("it names the field `{path}`, which doesn't exist"))
}

fn value_fits(spec: &FieldSpec, value: &Scalar) -> Result<(), String> {
    if fits(spec, value) {
        Ok(())
    } else {
        Err(format!(
            "it compares `{}` (a {} field) with {}",
            spec.path,
            spec.kind.as_str(),
            kind_name(value)
        ))
    }
}

/// A field compared as one value (a multiselect holds several: use `in-set`).
fn ordered(spec: &FieldSpec) -> Result<&FieldSpec, String> {
    if spec.kind == FieldKind::Multiselect {
        Err(format!(
            "it compares `{}`, a multiselect field, as one value; use in-set",
            spec.path
        ))
    } else {
        Ok(spec)
    }
}

/// Checks every node of `p`.
pub fn predicate(p: &Predicate, catalog: &Catalog) -> Result<(), String> {
    match p {
        Predicate::Always | Predicate::Never | Predicate::Geo(_) => Ok(()),
        Predicate::Compare { field: f, value, .. } => value_fits(ordered(field(catalog, f)?)?, value),
        Predicate::Range { field: f, low, high } => {
            let spec = ordered(field(catalog, f)?)?;
            value_fits(spec, low)?;
            value_fits(spec, high)
        }
        Predicate::InSet { field: f, values } => {
            let spec = field(catalog, f)?;
            values.iter().try_for_each(|v| value_fits(spec, v))
        }
        Predicate::Text { field: f, fold, .. } => {
            let spec = field(catalog, f)?;
            let text = spec.is_text() || (!fold && spec.kind == FieldKind::Select);
            if text {
                Ok(())
            } else {
                Err(format!(
                    "it asks for a text match on `{}`, a {} field",
                    spec.path,
                    spec.kind.as_str()
                ))
            }
        }
        Predicate::IsNull(f) => {
            let spec = field(catalog, f)?;
            if matches!(spec.source, Source::Activity(_)) {
                Err(format!("`{f}` can't be null; use an activity node"))
            } else {
                Ok(())
            }
        }
        Predicate::IsEmpty(f) => {
            let spec = field(catalog, f)?;
            if spec.is_text() || spec.kind == FieldKind::Multiselect {
                Ok(())
            } else {
                Err(format!("`{f}` (a {} field) can't be empty", spec.kind.as_str()))
            }
        }
        Predicate::Activity(a) => {
            if KINDS.contains(&a.kind.as_str()) {
                Ok(())
            } else {
                Err(format!("there is no activity kind `{}`", a.kind))
            }
        }
        Predicate::And(items) | Predicate::Or(items) => items.iter().try_for_each(|i| predicate(i, catalog)),
        Predicate::Not(inner) => predicate(inner, catalog),
        Predicate::Residual(r) => field(catalog, &r.field).map(|_| ()),
    }
}
