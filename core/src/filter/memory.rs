//! The in-memory evaluator of the predicate IR.
//!
//! It decides the same thing the SQL of [`super::sql`] decides, for one contact already in
//! memory: incremental segment membership evaluates every dynamic segment against the
//! contact a request just changed without a query per segment, and the property test
//! holds SQLite, PostgreSQL and this evaluator to the same answers.
//!
//! Semantics, shared with the SQL builder (which documents how it gets them from SQL's
//! three-valued logic):
//! - every leaf is two-valued; a null value makes `compare`, `range`, `text`, `in-set`
//!   false, except `compare ne`, which is true for null;
//! - `not` is plain negation, so `not(range)` matches the contacts with no value;
//! - text orders by code point (SQLite's BINARY, PostgreSQL's `COLLATE "C"`), numbers
//!   numerically (integers and decimals together), dates and datetimes chronologically;
//! - folded text matches compare `crate::text::fold` of both sides, as the stored folded
//!   columns do.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value as Json};

use super::catalog::{Catalog, CoreColumn, FieldSpec, Source};
use crate::contacts::Contact;
use crate::fields::FieldKind as ExtraKind;
use crate::plugin::ir::{ActivityExists, CompareOp, GeoBox, Predicate, Residual, Scalar, TextMode};
use crate::text::fold;

/// One activity, as the evaluator needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityFact {
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub amount: Option<f64>,
    pub properties: Map<String, Json>,
}

/// A contact with what filters may look at besides its own columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub contact: Contact,
    /// The name of its company (`company`).
    pub company_name: Option<String>,
    /// Its activities (only those of the kinds the predicate uses are needed).
    pub activities: Vec<ActivityFact>,
    /// The ids of the segments it is a member of (`segment`).
    pub segments: Vec<i64>,
    /// Its scores: `(model id, score, band)` (`score.<key>`, `score_band.<key>`).
    pub scores: Vec<(i64, f64, String)>,
}

/// A field's value, borrowed where it can be.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Num(f64),
    Text(Cow<'a, str>),
    Date(NaiveDate),
    Datetime(DateTime<Utc>),
    List(Vec<&'a str>),
    Point(f64, f64),
}

fn opt_text(s: &Option<String>) -> Val<'_> {
    s.as_deref().map_or(Val::Null, |t| Val::Text(Cow::Borrowed(t)))
}

/// The value of `spec` for `record`.
pub fn value<'a>(record: &'a Record, spec: &FieldSpec, catalog: &'a Catalog) -> Val<'a> {
    let c = &record.contact;
    match &spec.source {
        Source::Column(column) => match column {
            CoreColumn::Name => Val::Text(Cow::Borrowed(&c.name)),
            CoreColumn::Email => opt_text(&c.email),
            CoreColumn::Phone => opt_text(&c.phone),
            CoreColumn::Position => opt_text(&c.position),
            CoreColumn::Street => opt_text(&c.street),
            CoreColumn::City => opt_text(&c.city),
            CoreColumn::Region => opt_text(&c.region),
            CoreColumn::Country => opt_text(&c.country),
            CoreColumn::PostalCode => opt_text(&c.postal_code),
            CoreColumn::Kind => Val::Text(Cow::Borrowed(c.kind.as_str())),
            CoreColumn::DoNotContact => Val::Bool(c.do_not_contact),
            CoreColumn::CreatedAt => Val::Datetime(c.created_at),
            CoreColumn::UpdatedAt => Val::Datetime(c.updated_at),
            CoreColumn::Score => c.score.map_or(Val::Null, Val::Num),
            CoreColumn::ScoreBand => opt_text(&c.score_band),
            // Not filtered as columns (`CoreColumn::filtered`): the type, the company and
            // the owner have sources of their own, the coordinates are read as `location`.
            CoreColumn::Type
            | CoreColumn::Company
            | CoreColumn::Owner
            | CoreColumn::Latitude
            | CoreColumn::Longitude => Val::Null,
        },
        Source::Type => Val::Text(Cow::Borrowed(&c.type_key)),
        Source::Company => match c.company_id {
            Some(_) => opt_text(&record.company_name),
            None => Val::Null,
        },
        Source::Owner => c
            .owner_id
            .and_then(|id| catalog.owners.get(&id))
            .map_or(Val::Null, |e| Val::Text(Cow::Borrowed(e))),
        Source::Extra { key, kind } => extra(c.fields.get(key), *kind),
        Source::Location => match (c.latitude, c.longitude) {
            (Some(lat), Some(lon)) => Val::Point(lat, lon),
            _ => Val::Null,
        },
        Source::Score { model, band } => match record.scores.iter().find(|s| s.0 == *model) {
            Some((_, _, b)) if *band => Val::Text(Cow::Borrowed(b)),
            Some((_, score, _)) => Val::Num(*score),
            None => Val::Null,
        },
        Source::Activity(_) | Source::Segment => Val::Null,
    }
}

fn extra(value: Option<&Json>, kind: ExtraKind) -> Val<'_> {
    let Some(value) = value else { return Val::Null };
    match (kind, value) {
        (_, Json::Null) => Val::Null,
        (ExtraKind::Number | ExtraKind::Integer | ExtraKind::Money, Json::Number(n)) => {
            n.as_f64().map_or(Val::Null, Val::Num)
        }
        (ExtraKind::Boolean, Json::Bool(b)) => Val::Bool(*b),
        (ExtraKind::Date, Json::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or(Val::Null, Val::Date),
        (ExtraKind::Datetime, Json::String(s)) => {
            DateTime::parse_from_rfc3339(s).map_or(Val::Null, |t| Val::Datetime(t.with_timezone(&Utc)))
        }
        (ExtraKind::Multiselect, Json::Array(items)) => Val::List(items.iter().filter_map(Json::as_str).collect()),
        (ExtraKind::Geo, Json::Object(o)) => {
            match (o.get("lat").and_then(Json::as_f64), o.get("lon").and_then(Json::as_f64)) {
                (Some(lat), Some(lon)) => Val::Point(lat, lon),
                _ => Val::Null,
            }
        }
        (_, Json::String(s)) => Val::Text(Cow::Borrowed(s)),
        _ => Val::Null,
    }
}

/// How a value orders against a scalar; `None` when they don't compare.
fn order(value: &Val<'_>, scalar: &Scalar) -> Option<Ordering> {
    match (value, scalar) {
        (Val::Num(a), Scalar::Number(b)) => a.partial_cmp(b),
        #[allow(clippy::cast_precision_loss)]
        (Val::Num(a), Scalar::Integer(b)) => a.partial_cmp(&(*b as f64)),
        (Val::Text(a), Scalar::Text(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (Val::Date(a), Scalar::Date(b)) => Some(a.cmp(b)),
        (Val::Datetime(a), Scalar::Datetime(b)) => Some(a.cmp(b)),
        (Val::Bool(a), Scalar::Boolean(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

fn equals(value: &Val<'_>, scalar: &Scalar) -> bool {
    match value {
        Val::List(items) => match scalar {
            Scalar::Text(t) => items.iter().any(|i| i == t),
            _ => false,
        },
        _ => order(value, scalar) == Some(Ordering::Equal),
    }
}

/// Whether `haystack` matches `needle` in `mode`.
pub fn text_matches(haystack: &str, mode: TextMode, needle: &str) -> bool {
    match mode {
        TextMode::Contains => haystack.contains(needle),
        TextMode::Prefix => haystack.starts_with(needle),
        TextMode::Suffix => haystack.ends_with(needle),
        TextMode::Equals => haystack == needle,
    }
}

/// Whether the activities satisfy `a`.
pub fn activity_matches(a: &ActivityExists, activities: &[ActivityFact]) -> bool {
    if a.min_count == 0 {
        return true;
    }
    let count = activities
        .iter()
        .filter(|f| f.kind == a.kind)
        .filter(|f| a.since.is_none_or(|s| f.occurred_at >= s))
        .filter(|f| a.until.is_none_or(|u| f.occurred_at < u))
        .filter(|f| a.min_amount.is_none_or(|m| f.amount.is_some_and(|x| x >= m)))
        .filter(|f| {
            a.properties
                .iter()
                .all(|(k, v)| property_equals(f.properties.get(k), v))
        })
        .take(a.min_count as usize)
        .count();
    count >= a.min_count as usize
}

/// A property's JSON value against a scalar: same type, numbers compared numerically.
pub fn property_equals(value: Option<&Json>, scalar: &Scalar) -> bool {
    match (value, scalar) {
        (Some(Json::String(s)), Scalar::Text(t)) => s == t,
        (Some(Json::Bool(b)), Scalar::Boolean(c)) => b == c,
        (Some(Json::Number(n)), Scalar::Integer(i)) => {
            #[allow(clippy::cast_precision_loss)]
            let i = *i as f64;
            n.as_f64() == Some(i)
        }
        (Some(Json::Number(n)), Scalar::Number(x)) => n.as_f64() == Some(*x),
        _ => false,
    }
}

/// Whether a point lies in the box.
pub fn in_box(g: &GeoBox, lat: f64, lon: f64) -> bool {
    (g.min_lat..=g.max_lat).contains(&lat) && (g.min_lon..=g.max_lon).contains(&lon)
}

/// Evaluates `p` for `record`. `residual` answers the residual nodes (the plugin's
/// `matches`, asked in batches by the caller).
pub fn eval(p: &Predicate, record: &Record, catalog: &Catalog, residual: &mut dyn FnMut(&Residual) -> bool) -> bool {
    let spec = |path: &str| catalog.field(path);
    match p {
        Predicate::Always => true,
        Predicate::Never => false,
        Predicate::Compare {
            field,
            op,
            value: scalar,
        } => {
            let Some(spec) = spec(field) else { return false };
            let v = value(record, spec, catalog);
            if v == Val::Null {
                return *op == CompareOp::Ne;
            }
            match op {
                CompareOp::Eq => equals(&v, scalar),
                CompareOp::Ne => !equals(&v, scalar),
                CompareOp::Lt => order(&v, scalar) == Some(Ordering::Less),
                CompareOp::Le => matches!(order(&v, scalar), Some(Ordering::Less | Ordering::Equal)),
                CompareOp::Gt => order(&v, scalar) == Some(Ordering::Greater),
                CompareOp::Ge => matches!(order(&v, scalar), Some(Ordering::Greater | Ordering::Equal)),
            }
        }
        Predicate::Range { field, low, high } => {
            let Some(spec) = spec(field) else { return false };
            let v = value(record, spec, catalog);
            matches!(order(&v, low), Some(Ordering::Greater | Ordering::Equal))
                && matches!(order(&v, high), Some(Ordering::Less | Ordering::Equal))
        }
        Predicate::Text {
            field,
            mode,
            needle,
            fold: folded,
        } => {
            let Some(spec) = spec(field) else { return false };
            match value(record, spec, catalog) {
                Val::Text(t) if *folded => text_matches(&fold(&t), *mode, &fold(needle)),
                Val::Text(t) => text_matches(&t, *mode, needle),
                _ => false,
            }
        }
        Predicate::InSet { field, values } => {
            let Some(spec) = spec(field) else { return false };
            if spec.source == Source::Segment {
                return values
                    .iter()
                    .any(|s| matches!(s, Scalar::Integer(id) if record.segments.contains(id)));
            }
            let v = value(record, spec, catalog);
            v != Val::Null && values.iter().any(|s| equals(&v, s))
        }
        Predicate::IsNull(field) => spec(field).is_some_and(|s| value(record, s, catalog) == Val::Null),
        Predicate::IsEmpty(field) => spec(field).is_some_and(|s| match value(record, s, catalog) {
            Val::Text(t) => t.is_empty(),
            Val::List(items) => items.is_empty(),
            _ => false,
        }),
        Predicate::Activity(a) => activity_matches(a, &record.activities),
        Predicate::Geo(g) => match (record.contact.latitude, record.contact.longitude) {
            (Some(lat), Some(lon)) => in_box(g, lat, lon),
            _ => false,
        },
        Predicate::And(items) => items.iter().all(|i| eval(i, record, catalog, residual)),
        Predicate::Or(items) => items.iter().any(|i| eval(i, record, catalog, residual)),
        Predicate::Not(inner) => !eval(inner, record, catalog, residual),
        Predicate::Residual(r) => residual(r),
    }
}
