//! Extra fields in SQL: the expression of a field's value inside the `fields` JSON (and
//! its folded twin `fields_folded`), shared by the filter's conditions and the expression
//! indexes ([`crate::filter::indexes`]), which only apply when a condition repeats the
//! index's expression exactly.

use super::Class;
use crate::fields::FieldKind as ExtraKind;

/// An extra field's value in SQL: `json_extract(<column>, '$."k"')` on SQLite,
/// `(<column> ->> 'k')` with a cast by class on PostgreSQL. The expression indexes
/// (`super::indexes`) are built from the same text.
pub fn extra_sql(pg: bool, column: &str, key: &str, class_hint: impl Into<ExtraClass>) -> String {
    extra_expr(pg, &format!("\"contacts\".\"{column}\""), key, class_hint.into())
}

/// [`extra_sql`] over an unqualified column (index expressions may not name the table).
pub fn extra_index_sql(pg: bool, column: &str, key: &str, class: ExtraClass) -> String {
    extra_expr(pg, &format!("\"{column}\""), key, class)
}

fn extra_expr(pg: bool, column: &str, key: &str, class: ExtraClass) -> String {
    // The casts only apply to a value of the right JSON type, so the expression can't
    // fail: PostgreSQL evaluates an index expression on every row version, including a
    // just-replaced value of the field's previous kind.
    if pg {
        match class {
            ExtraClass::Number => format!(
                "(CASE WHEN jsonb_typeof({column} -> '{key}') = 'number' THEN ({column} ->> '{key}')::double precision END)"
            ),
            ExtraClass::Boolean => format!(
                "(CASE WHEN jsonb_typeof({column} -> '{key}') = 'boolean' THEN ({column} ->> '{key}')::boolean END)"
            ),
            ExtraClass::Text => format!("({column} ->> '{key}')"),
        }
    } else {
        format!("json_extract({column}, '$.\"{key}\"')")
    }
}

/// The SQL class of an extra field's value, for [`extra_sql`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraClass {
    Text,
    Number,
    Boolean,
}

impl From<Class> for ExtraClass {
    fn from(c: Class) -> Self {
        match c {
            Class::Number => ExtraClass::Number,
            Class::Boolean => ExtraClass::Boolean,
            _ => ExtraClass::Text,
        }
    }
}

impl From<ExtraKind> for ExtraClass {
    fn from(kind: ExtraKind) -> Self {
        match kind {
            ExtraKind::Number | ExtraKind::Integer | ExtraKind::Money => ExtraClass::Number,
            ExtraKind::Boolean => ExtraClass::Boolean,
            _ => ExtraClass::Text,
        }
    }
}
