//! The predicate IR on the host side, and the checks every answer passes to become one.
//!
//! A plugin answers `lower` with a flat list of nodes whose children are indices of
//! *earlier* nodes, the root last (`plugins/wit/filter.wit`). [`check_predicate`] walks it
//! once, front to back, and either builds a [`Predicate`] tree or says what is wrong:
//! an index that points at the node itself or at a later one (so no cycle can be
//! expressed), too many nodes, a tree too deep or too large once shared children are
//! counted each time they are used, a non-finite number, a malformed date, an oversized
//! string or list, a field name that isn't one. The reason names the node, so a plugin
//! author can find the bug; the caller adds the plugin's name.
//!
//! The IR never carries SQL: the filter engine turns a [`Predicate`] into sea-query
//! expressions with bound parameters.
//!
//! | module | what |
//! |---|---|
//! | here | the tree: [`Predicate`], its leaves and their scalars |
//! | [`check`] | reading a plugin's flat answer into a tree, and the checks of `matches` and `score` answers |

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value as Json, json};

pub mod check;

pub use check::{check_field, check_matches, check_name, check_predicate, check_scalar, check_scores};

/// A typed scalar, as a predicate compares it.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Boolean(bool),
    Integer(i64),
    /// Always finite.
    Number(f64),
    Text(String),
    Date(NaiveDate),
    Datetime(DateTime<Utc>),
}

/// `field op value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    /// The name in the JSON form of a predicate.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
        }
    }
}

/// Where a needle must occur in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMode {
    Contains,
    Prefix,
    Suffix,
    Equals,
}

impl TextMode {
    /// The name in the JSON form of a predicate.
    pub fn as_str(self) -> &'static str {
        match self {
            TextMode::Contains => "contains",
            TextMode::Prefix => "prefix",
            TextMode::Suffix => "suffix",
            TextMode::Equals => "equals",
        }
    }
}

/// At least `min_count` activities of `kind` in `[since, until)`, each with every listed
/// property equal to its value and at least `min_amount`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityExists {
    pub kind: String,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub min_count: u32,
    pub min_amount: Option<f64>,
    pub properties: Vec<(String, Scalar)>,
}

/// A latitude/longitude box (degrees, `min <= max`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoBox {
    pub min_lat: f64,
    pub max_lat: f64,
    pub min_lon: f64,
    pub max_lon: f64,
}

/// What SQL can't decide: the plugin's `matches(op, args)` on the candidates' `field`.
#[derive(Debug, Clone, PartialEq)]
pub struct Residual {
    /// The plugin that answered it (set by the registry; `matches` goes back to it).
    pub plugin: String,
    pub op: String,
    pub field: String,
    /// The arguments, as JSON (`None`: no argument).
    pub args: Option<Json>,
}

/// A checked predicate: a tree, finite, within the size and depth limits.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    Always,
    Never,
    Compare {
        field: String,
        op: CompareOp,
        value: Scalar,
    },
    /// `low <= field <= high`.
    Range {
        field: String,
        low: Scalar,
        high: Scalar,
    },
    Text {
        field: String,
        mode: TextMode,
        needle: String,
        /// Case- and accent-insensitive.
        fold: bool,
    },
    InSet {
        field: String,
        values: Vec<Scalar>,
    },
    IsNull(String),
    IsEmpty(String),
    Activity(ActivityExists),
    Geo(GeoBox),
    And(Vec<Predicate>),
    Or(Vec<Predicate>),
    Not(Box<Predicate>),
    Residual(Residual),
}

impl Scalar {
    /// The JSON form: `{"text": "x"}`, `{"date": "2026-01-31"}`, `{"null": null}`.
    pub fn to_json(&self) -> Json {
        match self {
            Scalar::Null => json!({"null": null}),
            Scalar::Boolean(b) => json!({"boolean": b}),
            Scalar::Integer(n) => json!({"integer": n}),
            Scalar::Number(n) => json!({"number": n}),
            Scalar::Text(s) => json!({"text": s}),
            Scalar::Date(d) => json!({"date": d.format("%Y-%m-%d").to_string()}),
            Scalar::Datetime(t) => json!({"datetime": t.to_rfc3339()}),
        }
    }
}

impl Predicate {
    /// The JSON form, for people and API clients: one key per node kind,
    /// `{"and": [{"compare": {"field": "name", "op": "eq", "value": {"text": "Ola"}}}, ...]}`.
    pub fn to_json(&self) -> Json {
        match self {
            Predicate::Always => json!("always"),
            Predicate::Never => json!("never"),
            Predicate::Compare { field, op, value } => {
                json!({"compare": {"field": field, "op": op.as_str(), "value": value.to_json()}})
            }
            Predicate::Range { field, low, high } => {
                json!({"range": {"field": field, "low": low.to_json(), "high": high.to_json()}})
            }
            Predicate::Text {
                field,
                mode,
                needle,
                fold,
            } => json!({"text": {"field": field, "mode": mode.as_str(), "needle": needle, "fold": fold}}),
            Predicate::InSet { field, values } => {
                json!({"in_set": {"field": field, "values": values.iter().map(Scalar::to_json).collect::<Vec<_>>()}})
            }
            Predicate::IsNull(field) => json!({"is_null": field}),
            Predicate::IsEmpty(field) => json!({"is_empty": field}),
            Predicate::Activity(a) => {
                let properties: Map<String, Json> =
                    a.properties.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                json!({"activity": {
                    "kind": a.kind,
                    "since": a.since.map(|t| t.to_rfc3339()),
                    "until": a.until.map(|t| t.to_rfc3339()),
                    "min_count": a.min_count,
                    "min_amount": a.min_amount,
                    "properties": properties,
                }})
            }
            Predicate::Geo(g) => json!({"geo": {
                "min_lat": g.min_lat, "max_lat": g.max_lat, "min_lon": g.min_lon, "max_lon": g.max_lon,
            }}),
            Predicate::And(items) => json!({"and": items.iter().map(Predicate::to_json).collect::<Vec<_>>()}),
            Predicate::Or(items) => json!({"or": items.iter().map(Predicate::to_json).collect::<Vec<_>>()}),
            Predicate::Not(inner) => json!({"not": inner.to_json()}),
            Predicate::Residual(r) => json!({"residual": {"op": r.op, "field": r.field, "args": r.args}}),
        }
    }

    /// Sets the plugin of every residual in the tree.
    pub fn tag_residuals(&mut self, plugin: &str) {
        match self {
            Predicate::Residual(r) => plugin.clone_into(&mut r.plugin),
            Predicate::And(items) | Predicate::Or(items) => items.iter_mut().for_each(|p| p.tag_residuals(plugin)),
            Predicate::Not(inner) => inner.tag_residuals(plugin),
            _ => {}
        }
    }

    /// Whether the tree holds a residual.
    pub fn has_residual(&self) -> bool {
        match self {
            Predicate::Residual(_) => true,
            Predicate::And(items) | Predicate::Or(items) => items.iter().any(Predicate::has_residual),
            Predicate::Not(inner) => inner.has_residual(),
            _ => false,
        }
    }

    /// Every residual in the tree, depth first.
    pub fn residuals(&self) -> Vec<&Residual> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(p) = stack.pop() {
            match p {
                Predicate::Residual(r) => out.push(r),
                Predicate::And(items) | Predicate::Or(items) => stack.extend(items.iter().rev()),
                Predicate::Not(inner) => stack.push(inner),
                _ => {}
            }
        }
        out
    }
}
