//! One `contacts` row of the demo: the core contact columns it writes, in order, and the
//! values of a row in that same order.
//!
//! The columns come from the contacts' column table: the written core columns in their
//! order ([`CoreColumn::WRITTEN`]), then the extra fields, the times and the version
//! ([`contact_columns`]); [`ContactRow::into_exprs`] gives the values in that order. The
//! derived columns (folded text, search words) follow them, named and computed by
//! [`crate::contacts::derived`].

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Value as SqlValue};
use serde_json::{Map, Value as Json};

use super::insert::{json_value, text, timestamp};
use super::names::City;
use crate::contacts::CoreColumn;
use crate::contacts::derived::{self, Derived, FoldSchema, Source};

/// The columns of a contacts INSERT, in the order of [`ContactRow::into_exprs`]: the
/// written core columns, the extra fields, the times and the version, then the derived
/// ones.
pub(super) fn contact_columns() -> Vec<&'static str> {
    CoreColumn::WRITTEN
        .iter()
        .map(|c| c.spec().storage)
        .chain(["fields", "created_at", "updated_at", "version"])
        .chain(derived::COLUMNS.iter().copied())
        .collect()
}

/// One `contacts` row.
pub(super) struct ContactRow {
    pub(super) kind: &'static str,
    pub(super) type_id: i64,
    pub(super) name: String,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) position: Option<String>,
    pub(super) company_id: Option<i64>,
    pub(super) street: Option<String>,
    pub(super) city: City,
    pub(super) country: &'static str,
    pub(super) postal_code: Option<String>,
    pub(super) point: (f64, f64),
    pub(super) owner_id: Option<i64>,
    pub(super) do_not_contact: bool,
    pub(super) fields: Map<String, Json>,
    pub(super) created: DateTime<Utc>,
    pub(super) updated: DateTime<Utc>,
}

impl ContactRow {
    /// The row's values in the order of [`contact_columns`], derived columns computed
    /// under `fold`.
    pub(super) fn into_exprs(self, fold: &FoldSchema) -> Vec<Expr> {
        let derived = Derived::compute(
            &Source {
                name: &self.name,
                email: self.email.as_deref(),
                phone: self.phone.as_deref(),
                position: self.position.as_deref(),
                street: self.street.as_deref(),
                city: Some(self.city.name),
                region: Some(self.city.region),
                country: Some(self.country),
                postal_code: self.postal_code.as_deref(),
                fields: &self.fields,
            },
            fold,
        );
        let mut exprs = vec![
            text(self.kind),
            Expr::val(self.type_id),
            text(self.name),
            Expr::val(SqlValue::String(self.email)),
            Expr::val(SqlValue::String(self.phone)),
            Expr::val(SqlValue::String(self.position)),
            Expr::val(SqlValue::BigInt(self.company_id)),
            Expr::val(SqlValue::String(self.street)),
            text(self.city.name),
            text(self.city.region),
            text(self.country),
            Expr::val(SqlValue::String(self.postal_code)),
            Expr::val(self.point.0),
            Expr::val(self.point.1),
            Expr::val(SqlValue::BigInt(self.owner_id)),
            Expr::val(self.do_not_contact),
            json_value(Json::Object(self.fields)),
            timestamp(self.created),
            timestamp(self.updated),
            Expr::val(1i64),
        ];
        exprs.extend(derived.into_values().into_iter().map(Expr::val));
        exprs
    }
}
