//! Conditions that read other rows than the contact's own: its company's name, its
//! activities, and segment membership.
//!
//! - `company` is a subquery on `contacts` under the alias `co`. For a viewer it carries
//!   the viewer's visibility over the alias (owned, or granted to them or their role), so
//!   a company they can't see reads as no company (see the parent module's docs).
//! - `activity.<kind>` is an uncorrelated `id IN (SELECT contact_id FROM activities ...)`,
//!   with `GROUP BY ... HAVING COUNT(*) >= n` for "n times": each backend builds the id
//!   list once (a range over `kind` in `(kind, contact_id, occurred_at)`) and probes it,
//!   rather than one correlated lookup per contact. Property filters compare JSON values
//!   by type on both backends (`json_type` + `json_extract` on SQLite, `->` and a `jsonb`
//!   parameter on PostgreSQL).
//! - `segment` reads the stored members (`segment_members`), never another segment's
//!   filter.

use sea_orm::sea_query::{Expr, ExprTrait, Value};

use super::{Builder, cust, f, t};
use crate::entities::contacts;
use crate::plugin::ir::{ActivityExists, Scalar};

impl Builder<'_> {
    /// Column `column` of the person's company, as the viewer sees it (NULL for a company
    /// they can't see).
    pub(super) fn company(&self, column: &str) -> Expr {
        let base = format!(
            "(SELECT \"co\".\"{column}\" FROM \"contacts\" AS \"co\" WHERE \"co\".\"id\" = \"contacts\".\"company_id\""
        );
        match self.viewer.filter(|v| !v.is_admin()) {
            None => Expr::cust(format!("{base})")),
            // `visibility::condition` over the alias: owned, or granted to the viewer or
            // their role.
            Some(viewer) => cust(
                self.pg(),
                format!(
                    "{base} AND (\"co\".\"owner_id\" = ? OR \"co\".\"id\" IN (SELECT \"g\".\"contact_id\" FROM \"grants\" AS \"g\" WHERE \"g\".\"user_id\" = ? OR \"g\".\"role\" = ?)))"
                ),
                [
                    Expr::val(viewer.user_id),
                    Expr::val(viewer.user_id),
                    Expr::val(viewer.role.as_str()),
                ],
            ),
        }
    }

    pub(super) fn activity(&self, a: &ActivityExists) -> Expr {
        if a.min_count == 0 {
            return t();
        }
        let mut sql = String::from("\"a\".\"kind\" = ?");
        let mut values: Vec<Expr> = vec![Expr::val(a.kind.clone())];
        if let Some(since) = a.since {
            sql.push_str(" AND \"a\".\"occurred_at\" >= ?");
            values.push(Expr::val(since));
        }
        if let Some(until) = a.until {
            sql.push_str(" AND \"a\".\"occurred_at\" < ?");
            values.push(Expr::val(until));
        }
        if let Some(min) = a.min_amount {
            sql.push_str(" AND \"a\".\"amount\" >= ?");
            values.push(Expr::val(min));
        }
        for (key, value) in &a.properties {
            if self.pg() {
                let json = match value {
                    Scalar::Text(s) => serde_json::Value::from(s.clone()),
                    Scalar::Boolean(b) => serde_json::Value::from(*b),
                    Scalar::Integer(n) => serde_json::Value::from(*n),
                    Scalar::Number(n) => serde_json::Value::from(*n),
                    _ => serde_json::Value::Null,
                };
                sql.push_str(" AND (\"a\".\"properties\" -> ?) = ?");
                values.push(Expr::val(key.clone()));
                values.push(Expr::val(json));
            } else {
                let path = format!("$.\"{key}\"");
                let (types, bound): (&str, Value) = match value {
                    Scalar::Text(s) => ("'text'", s.clone().into()),
                    Scalar::Boolean(b) => ("'true', 'false'", i64::from(*b).into()),
                    Scalar::Integer(n) => ("'integer', 'real'", (*n).into()),
                    Scalar::Number(n) => ("'integer', 'real'", (*n).into()),
                    _ => ("'null'", Value::String(None)),
                };
                sql.push_str(&format!(
                    " AND json_type(\"a\".\"properties\", ?) IN ({types}) AND json_extract(\"a\".\"properties\", ?) = ?"
                ));
                values.push(Expr::val(path.clone()));
                values.push(Expr::val(path));
                values.push(Expr::val(bound));
            }
        }
        // Uncorrelated: each backend builds the id list once (the plans in BENCHMARKS.md:
        // a range over `kind` in `(kind, contact_id, occurred_at)`, time and amount checked
        // per row) and probes it, rather than one correlated lookup per contact.
        if a.min_count == 1 {
            cust(
                self.pg(),
                format!(
                    "(\"contacts\".\"id\" IN (SELECT \"a\".\"contact_id\" FROM \"activities\" AS \"a\" WHERE {sql}))"
                ),
                values,
            )
        } else {
            values.push(Expr::val(i64::from(a.min_count)));
            cust(
                self.pg(),
                format!(
                    "(\"contacts\".\"id\" IN (SELECT \"a\".\"contact_id\" FROM \"activities\" AS \"a\" WHERE {sql} GROUP BY \"a\".\"contact_id\" HAVING COUNT(*) >= ?))"
                ),
                values,
            )
        }
    }
}

/// `contacts.id IN (SELECT contact_id FROM segment_members WHERE segment_id IN (...))`:
/// membership reads the stored members, never another segment's filter.
pub(super) fn segment_in(values: &[Scalar]) -> Expr {
    use crate::entities::segment_members as m;
    let ids: Vec<i64> = values
        .iter()
        .filter_map(|v| match v {
            Scalar::Integer(id) => Some(*id),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return f();
    }
    Expr::col((contacts::Entity, contacts::Column::Id)).in_subquery(
        sea_orm::sea_query::Query::select()
            .column(m::Column::ContactId)
            .from(m::Entity)
            .and_where(Expr::col(m::Column::SegmentId).is_in(ids))
            .to_owned(),
    )
}
