//! The predicate IR as sea-query expressions over `contacts`, with bound parameters.
//!
//! No text from a filter or a plugin is ever spliced into SQL: values are parameters, and
//! the only names written into the statement are column names from the catalogue and
//! extra-field keys, which `contact_types::valid_key` restricts to `[a-z][a-z0-9_]*`
//! (the expression must be literal for the expression indexes to apply).
//!
//! ## Two-valued leaves from three-valued SQL
//!
//! SQL's comparisons are NULL when the column is; the filter semantics (see
//! [`super::memory`]) are two-valued. In a positive position NULL and FALSE filter alike,
//! so a leaf is written plainly (`city = ?`, which keeps indexes usable). Under an odd
//! number of `NOT`s the builder guards each nullable leaf (`city IS NOT NULL AND city = ?`,
//! which is FALSE, never NULL, for a missing city), so `NOT` negates a definite value.
//! `ne` is `x IS NULL OR x <> ?` everywhere: true for a missing value, on both sides.
//!
//! ## Residuals
//!
//! A residual is what SQL can't decide. [`Builder::expr`] writes it as TRUE in a positive
//! position and FALSE under a `NOT`, so the statement returns a superset of the matches;
//! the candidate walk (`super::walk`) then has the plugin decide the candidates.
//!
//! ## Related records
//!
//! `company` reads another row of `contacts`: the name of the person's company. For a
//! viewer (a list, a count, a preview, adding matches to a list) the subquery carries the
//! viewer's visibility, so a company they can't see reads as no company, exactly as the
//! contact card shows it, and `company contains "..."` can't count by the names of hidden
//! companies. Segment membership is about the whole base (`crate::segments`) and is built
//! without a viewer. The other paths name no other contact: `type` and `segment` read
//! definitions every user sees, `activity.<kind>` the contact's own activities. These
//! conditions are written in `sql/related.rs`; an extra field's expression in `sql/extra.rs`.
//!
//! ## Per backend
//!
//! | IR | SQLite | PostgreSQL |
//! |---|---|---|
//! | extra field `k` | `json_extract(fields, '$."k"')` | `(fields ->> 'k')`, cast to `double precision` / `boolean` by kind when the JSON type fits |
//! | ordered text compare | BINARY collation | `COLLATE "C"` |
//! | text match | `GLOB` (case-sensitive, `*?[` escaped) | `LIKE` (`%_\` escaped) |
//! | folded text | `<col>_folded`, `fields_folded` | same |
//! | multiselect in-set | `EXISTS (SELECT 1 FROM json_each(...))` | `EXISTS (SELECT 1 FROM jsonb_array_elements_text(...))` |
//! | activity property | `json_type` + `json_extract(properties, ?)` | `properties -> ? = ?::jsonb` |

use sea_orm::DbBackend;
use sea_orm::sea_query::{Expr, ExprTrait, Value};

mod extra;
mod related;

pub use extra::{ExtraClass, extra_index_sql, extra_sql};
use related::segment_in;

use super::catalog::{Catalog, CoreColumn, FieldSpec, Source};
use crate::auth::Actor;
use crate::entities::contacts;
use crate::fields::FieldKind as ExtraKind;
use crate::plugin::ir::{CompareOp, GeoBox, Predicate, Scalar, TextMode};
use crate::text::fold;

/// Builds SQL for one backend against one catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Builder<'a> {
    pub backend: DbBackend,
    pub catalog: &'a Catalog,
    /// Whose sight a condition on a related record is limited to (see the module docs);
    /// `None` reads the whole base (segment membership).
    pub viewer: Option<&'a Actor>,
}

/// How a field's values are held in SQL, for binding scalars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Text, ordered by code point.
    Text,
    /// Dates and datetimes of extra fields: fixed-width ISO text, which every collation
    /// orders chronologically (so no `COLLATE` that would keep the index out).
    Iso,
    Number,
    Boolean,
    /// A core timestamp column.
    Timestamp,
    Other,
}

struct Operand {
    expr: Expr,
    class: Class,
    nullable: bool,
}

fn t() -> Expr {
    Expr::cust("1 = 1")
}

fn f() -> Expr {
    Expr::cust("1 = 0")
}

fn col(name: &str) -> Expr {
    Expr::cust(format!("\"contacts\".\"{name}\""))
}

/// A custom expression with `?` placeholders (sea-query's PostgreSQL builder wants `$`).
fn cust(pg: bool, sql: impl Into<String>, exprs: impl IntoIterator<Item = Expr>) -> Expr {
    let sql: String = sql.into();
    let sql = if pg { sql.replace('?', "$") } else { sql };
    Expr::cust_with_exprs(sql, exprs)
}

fn all(items: Vec<Expr>) -> Expr {
    items.into_iter().reduce(|a, b| a.and(b)).unwrap_or_else(t)
}

fn any(items: Vec<Expr>) -> Expr {
    items.into_iter().reduce(|a, b| a.or(b)).unwrap_or_else(f)
}

impl Builder<'_> {
    fn pg(&self) -> bool {
        self.backend == DbBackend::Postgres
    }

    /// `p` as a condition. Exact when `p` has no residual; a superset otherwise.
    pub fn condition(&self, p: &Predicate) -> Expr {
        self.expr(p, false)
    }

    /// `p` under `negated` NOTs (see the module docs).
    pub fn expr(&self, p: &Predicate, negated: bool) -> Expr {
        match p {
            Predicate::Always => t(),
            Predicate::Never => f(),
            Predicate::And(items) => all(items.iter().map(|i| self.expr(i, negated)).collect()),
            Predicate::Or(items) => any(items.iter().map(|i| self.expr(i, negated)).collect()),
            Predicate::Not(inner) => self.expr(inner, !negated).not(),
            Predicate::Residual(_) => {
                if negated {
                    f()
                } else {
                    t()
                }
            }
            Predicate::Activity(a) => self.activity(a),
            Predicate::Geo(g) => self.geo(g),
            Predicate::IsNull(field) => match self.spec(field) {
                Some(spec) => self.is_null(spec),
                None => f(),
            },
            Predicate::IsEmpty(field) => match self.spec(field) {
                Some(spec) => self.guard(spec, self.is_empty(spec), negated),
                None => f(),
            },
            Predicate::Compare { field, op, value } => match self.spec(field) {
                Some(spec) => self.compare(spec, *op, value, negated),
                None => f(),
            },
            Predicate::Range { field, low, high } => match self.spec(field) {
                Some(spec) => {
                    let o = self.operand(spec);
                    let (ordered, nullable) = (self.ordered(&o), o.nullable);
                    let e = ordered
                        .clone()
                        .gte(self.bind(o.class, low))
                        .and(ordered.lte(self.bind(o.class, high)));
                    self.guard_with(nullable, o.expr, e, negated)
                }
                None => f(),
            },
            Predicate::InSet { field, values } => match self.spec(field) {
                Some(spec) => self.in_set(spec, values, negated),
                None => f(),
            },
            Predicate::Text {
                field,
                mode,
                needle,
                fold: folded,
            } => match self.spec(field) {
                Some(spec) => self.text(spec, *mode, needle, *folded, negated),
                None => f(),
            },
        }
    }

    fn spec(&self, path: &str) -> Option<&FieldSpec> {
        self.catalog.field(path)
    }

    /// The operand of a field.
    fn operand(&self, spec: &FieldSpec) -> Operand {
        let pg = self.pg();
        match &spec.source {
            Source::Column(c) => Operand {
                expr: col(c.spec().storage),
                class: match c {
                    CoreColumn::CreatedAt | CoreColumn::UpdatedAt => Class::Timestamp,
                    CoreColumn::Score => Class::Number,
                    CoreColumn::DoNotContact => Class::Boolean,
                    _ => Class::Text,
                },
                nullable: c.spec().nullable,
            },
            Source::Type => Operand {
                expr: Expr::cust(
                    "(SELECT \"contact_types\".\"key\" FROM \"contact_types\" WHERE \"contact_types\".\"id\" = \"contacts\".\"type_id\")",
                ),
                class: Class::Text,
                nullable: false,
            },
            Source::Company => Operand {
                expr: self.company("name"),
                class: Class::Text,
                nullable: true,
            },
            Source::Owner => Operand {
                expr: Expr::cust(
                    "(SELECT \"users\".\"email\" FROM \"users\" WHERE \"users\".\"id\" = \"contacts\".\"owner_id\")",
                ),
                class: Class::Text,
                nullable: true,
            },
            Source::Extra { key, kind } => {
                let class = match kind {
                    ExtraKind::Number | ExtraKind::Integer | ExtraKind::Money => Class::Number,
                    ExtraKind::Boolean => Class::Boolean,
                    ExtraKind::Multiselect | ExtraKind::Geo => Class::Other,
                    ExtraKind::Date | ExtraKind::Datetime => Class::Iso,
                    _ => Class::Text,
                };
                Operand {
                    expr: Expr::cust(extra_sql(pg, "fields", key, class)),
                    class,
                    nullable: true,
                }
            }
            Source::Score { model, band } => Operand {
                expr: Expr::cust(format!(
                    "(SELECT \"contact_scores\".\"{}\" FROM \"contact_scores\" WHERE \"contact_scores\".\"model_id\" = {model} AND \"contact_scores\".\"contact_id\" = \"contacts\".\"id\")",
                    if *band { "band" } else { "score" }
                )),
                class: if *band { Class::Text } else { Class::Number },
                nullable: true,
            },
            Source::Activity(_) | Source::Location | Source::Segment => Operand {
                expr: f(),
                class: Class::Other,
                nullable: false,
            },
        }
    }

    /// The operand holding folded text, if the field has one.
    fn folded(&self, spec: &FieldSpec) -> Option<Expr> {
        match &spec.source {
            Source::Column(c) => c.spec().folded.map(col),
            Source::Company => Some(self.company("name_folded")),
            Source::Extra {
                key,
                kind: ExtraKind::Text | ExtraKind::LongText | ExtraKind::Email | ExtraKind::Phone | ExtraKind::Url,
            } => Some(Expr::cust(extra_sql(self.pg(), "fields_folded", key, Class::Text))),
            _ => None,
        }
    }

    /// The operand as ordered text compares it (code point order on both backends).
    fn ordered(&self, o: &Operand) -> Expr {
        if self.pg() && o.class == Class::Text {
            cust(self.pg(), "(? COLLATE \"C\")", [o.expr.clone()])
        } else {
            o.expr.clone()
        }
    }

    /// A scalar as a parameter for an operand of `class`.
    fn bind(&self, class: Class, value: &Scalar) -> Expr {
        let v: Value = match (class, value) {
            (Class::Number, Scalar::Integer(n)) => {
                #[allow(clippy::cast_precision_loss)]
                let n = *n as f64;
                n.into()
            }
            (_, Scalar::Integer(n)) => (*n).into(),
            (_, Scalar::Number(n)) => (*n).into(),
            (_, Scalar::Boolean(b)) => (*b).into(),
            (_, Scalar::Text(s)) => s.clone().into(),
            (_, Scalar::Date(d)) => d.format("%Y-%m-%d").to_string().into(),
            (Class::Timestamp, Scalar::Datetime(at)) => (*at).into(),
            (_, Scalar::Datetime(at)) => at.format("%Y-%m-%dT%H:%M:%SZ").to_string().into(),
            (_, Scalar::Null) => Value::String(None),
        };
        Expr::val(v)
    }

    /// `e` made two-valued under a NOT: FALSE, not NULL, when the operand is null.
    fn guard(&self, spec: &FieldSpec, e: Expr, negated: bool) -> Expr {
        let o = self.operand(spec);
        self.guard_with(o.nullable, o.expr, e, negated)
    }

    fn guard_with(&self, nullable: bool, operand: Expr, e: Expr, negated: bool) -> Expr {
        if negated && nullable {
            operand.is_not_null().and(e)
        } else {
            e
        }
    }

    fn is_null(&self, spec: &FieldSpec) -> Expr {
        match &spec.source {
            Source::Location => col("latitude").is_null().or(col("longitude").is_null()),
            Source::Company => match self.viewer.filter(|v| !v.is_admin()) {
                // A company the viewer can't see is no company.
                Some(_) => self.company("name").is_null(),
                None => col("company_id").is_null(),
            },
            Source::Owner => col("owner_id").is_null(),
            Source::Type | Source::Activity(_) | Source::Segment => f(),
            Source::Column(c) if !c.spec().nullable => f(),
            Source::Extra { key, .. } => Expr::cust(extra_sql(self.pg(), "fields", key, Class::Text)).is_null(),
            _ => self.operand(spec).expr.is_null(),
        }
    }

    fn is_empty(&self, spec: &FieldSpec) -> Expr {
        match &spec.source {
            Source::Extra {
                key,
                kind: ExtraKind::Multiselect,
            } => {
                if self.pg() {
                    Expr::cust(format!(
                        "(jsonb_typeof(\"contacts\".\"fields\" -> '{key}') = 'array' AND jsonb_array_length(\"contacts\".\"fields\" -> '{key}') = 0)"
                    ))
                } else {
                    Expr::cust(format!("json_array_length(\"contacts\".\"fields\", '$.\"{key}\"') = 0"))
                }
            }
            _ => self.operand(spec).expr.eq(""),
        }
    }

    fn compare(&self, spec: &FieldSpec, op: CompareOp, value: &Scalar, negated: bool) -> Expr {
        if let (Source::Type, CompareOp::Eq | CompareOp::Ne) = (&spec.source, op) {
            let found = self.type_in(std::slice::from_ref(value));
            return if op == CompareOp::Eq { found } else { found.not() };
        }
        let o = self.operand(spec);
        let v = self.bind(o.class, value);
        let e = match op {
            CompareOp::Eq => o.expr.clone().eq(v),
            CompareOp::Ne => {
                let ne = o.expr.clone().ne(v);
                return if o.nullable { o.expr.is_null().or(ne) } else { ne };
            }
            CompareOp::Lt => self.ordered(&o).lt(v),
            CompareOp::Le => self.ordered(&o).lte(v),
            CompareOp::Gt => self.ordered(&o).gt(v),
            CompareOp::Ge => self.ordered(&o).gte(v),
        };
        self.guard_with(o.nullable, o.expr, e, negated)
    }

    /// `type_id IN (...)` for type keys (the type tree is in the catalogue).
    fn type_in(&self, values: &[Scalar]) -> Expr {
        let ids: Vec<i64> = values
            .iter()
            .filter_map(|v| match v {
                Scalar::Text(key) => self.catalog.types.by_key(key).map(|t| t.id),
                _ => None,
            })
            .collect();
        if ids.is_empty() {
            f()
        } else {
            Expr::col((contacts::Entity, contacts::Column::TypeId)).is_in(ids)
        }
    }

    fn in_set(&self, spec: &FieldSpec, values: &[Scalar], negated: bool) -> Expr {
        if values.is_empty() {
            return f();
        }
        match &spec.source {
            Source::Type => self.type_in(values),
            Source::Segment => segment_in(values),
            Source::Extra {
                key,
                kind: ExtraKind::Multiselect,
            } => {
                let list = values.iter().map(|v| self.bind(Class::Text, v)).collect::<Vec<_>>();
                let placeholders = vec!["?"; list.len()].join(", ");
                let sql = if self.pg() {
                    format!(
                        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(\"contacts\".\"fields\" -> '{key}') = 'array' THEN \"contacts\".\"fields\" -> '{key}' ELSE '[]'::jsonb END) AS \"item\"(\"value\") WHERE \"item\".\"value\" IN ({placeholders}))"
                    )
                } else {
                    format!(
                        "EXISTS (SELECT 1 FROM json_each(\"contacts\".\"fields\", '$.\"{key}\"') AS \"item\" WHERE \"item\".\"value\" IN ({placeholders}))"
                    )
                };
                cust(self.pg(), sql, list)
            }
            _ => {
                let o = self.operand(spec);
                let list = values.iter().map(|v| self.bind(o.class, v)).collect::<Vec<_>>();
                let e = o.expr.clone().is_in(list);
                self.guard_with(o.nullable, o.expr, e, negated)
            }
        }
    }

    fn text(&self, spec: &FieldSpec, mode: TextMode, needle: &str, folded: bool, negated: bool) -> Expr {
        let (operand, needle) = match (folded, self.folded(spec)) {
            (true, Some(e)) => (e, fold(needle)),
            _ => (self.operand(spec).expr, needle.to_owned()),
        };
        let e = if mode == TextMode::Equals {
            operand.clone().eq(needle)
        } else if self.pg() {
            let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = match mode {
                TextMode::Prefix => format!("{escaped}%"),
                TextMode::Suffix => format!("%{escaped}"),
                _ => format!("%{escaped}%"),
            };
            cust(self.pg(), "(? LIKE ?)", [operand.clone(), Expr::val(pattern)])
        } else {
            let mut escaped = String::with_capacity(needle.len() + 2);
            for ch in needle.chars() {
                match ch {
                    '*' => escaped.push_str("[*]"),
                    '?' => escaped.push_str("[?]"),
                    '[' => escaped.push_str("[[]"),
                    c => escaped.push(c),
                }
            }
            let pattern = match mode {
                TextMode::Prefix => format!("{escaped}*"),
                TextMode::Suffix => format!("*{escaped}"),
                _ => format!("*{escaped}*"),
            };
            cust(self.pg(), "(? GLOB ?)", [operand.clone(), Expr::val(pattern)])
        };
        let nullable = !matches!(spec.source, Source::Column(c) if !c.spec().nullable);
        self.guard_with(nullable, operand, e, negated)
    }

    fn geo(&self, g: &GeoBox) -> Expr {
        let lat = col("latitude");
        let lon = col("longitude");
        lat.clone()
            .is_not_null()
            .and(lon.clone().is_not_null())
            .and(lat.between(g.min_lat, g.max_lat))
            .and(lon.between(g.min_lon, g.max_lon))
    }
}
