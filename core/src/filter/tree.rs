//! The filter JSON as a typed tree: parsed ([`Unchecked`]), then checked against the
//! catalogue ([`Checked`]), then lowered through the plugins into one [`Predicate`].
//!
//! The stage is a type parameter, so a filter that wasn't checked can't be lowered and a
//! filter that wasn't lowered can't be run: `Filter<Unchecked>::check` is the only way to a
//! `Filter<Checked>`, and `Filter<Checked>::lower` (in [`super::lower`]) the only way to
//! a [`Plan`].

use std::marker::PhantomData;

use serde_json::{Map, Value as Json};

use super::catalog::{Catalog, FieldSpec, at};
pub use super::lower::Plan;
use crate::plugin::limits::{MAX_DEPTH, MAX_LIST, MAX_STRING};
use crate::{Error, Result};

/// How many conditions one filter may hold.
pub const MAX_CONDITIONS: usize = 256;

/// The largest value one condition may carry, as JSON: checked before any plugin sees it
/// (the same bound as a string a plugin may answer, `plugin::limits::MAX_STRING`).
pub const MAX_VALUE_BYTES: usize = MAX_STRING;

/// The longest text inside a value, in bytes. A text match becomes a SQLite `GLOB`
/// pattern, in which each character may take three (`*` is written `[*]`), and SQLite
/// refuses patterns over 50,000 bytes; no one searches for more.
pub const MAX_TEXT_BYTES: usize = 16 << 10;

/// Parsed from JSON, not yet checked against fields and operators.
#[derive(Debug, Clone, Copy)]
pub enum Unchecked {}

/// Every field and operator known, every operator applicable to its field.
#[derive(Debug, Clone, Copy)]
pub enum Checked {}

/// A stage of a filter.
pub trait Stage {
    /// What a condition holds at this stage.
    type Cond: std::fmt::Debug + Clone;
}

impl Stage for Unchecked {
    type Cond = RawCondition;
}

impl Stage for Checked {
    type Cond = Condition;
}

/// `{"field", "op", "value"}` as written.
#[derive(Debug, Clone, PartialEq)]
pub struct RawCondition {
    pub field: String,
    pub op: String,
    pub value: Option<Json>,
}

/// A condition whose field and operator are known.
#[derive(Debug, Clone)]
pub struct Condition {
    pub field: FieldSpec,
    /// The plugin and its operator (`std`, `eq`).
    pub plugin: String,
    pub op: String,
    pub value: Option<Json>,
}

/// A node of the filter tree. `path` is where it sits in the JSON (`and[1].or[0]`), for
/// error messages.
#[derive(Debug, Clone)]
pub enum Node<S: Stage> {
    And(Vec<Node<S>>),
    Or(Vec<Node<S>>),
    Not(Box<Node<S>>),
    Cond { path: String, cond: S::Cond },
}

/// A filter at stage `S`.
#[derive(Debug, Clone)]
pub struct Filter<S: Stage> {
    root: Node<S>,
    stage: PhantomData<S>,
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

impl Filter<Unchecked> {
    /// Parses the filter JSON. `{}` and `null` are the empty filter (every contact).
    pub fn parse(json: &Json) -> Result<Self> {
        let mut count = 0usize;
        let root = match json {
            Json::Null => Node::And(Vec::new()),
            Json::Object(map) if map.is_empty() => Node::And(Vec::new()),
            other => parse_node(other, "", 1, &mut count)?,
        };
        Ok(Filter {
            root,
            stage: PhantomData,
        })
    }

    /// Parses filter text (a query parameter, a form field).
    pub fn parse_str(text: &str) -> Result<Self> {
        Self::parse(&parse_json(text)?)
    }

    /// Checks every condition against the catalogue: the field exists, the operator is
    /// offered by an enabled plugin and applies to the field's kind.
    pub fn check(self, catalog: &Catalog) -> Result<Filter<Checked>> {
        Ok(Filter {
            root: check_node(self.root, catalog)?,
            stage: PhantomData,
        })
    }
}

/// Filter text as JSON (empty text is `null`, the empty filter); malformed JSON is a
/// validation error at `filter` with the line and column.
pub fn parse_json(text: &str) -> Result<Json> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Json::Null);
    }
    serde_json::from_str(trimmed).map_err(|e| {
        Error::invalid(
            "filter",
            format!("not valid JSON (line {}, column {}): {e}", e.line(), e.column()),
        )
    })
}

fn parse_node(json: &Json, path: &str, depth: usize, count: &mut usize) -> Result<Node<Unchecked>> {
    if depth > MAX_DEPTH {
        return Err(at(path, format!("the filter is nested deeper than {MAX_DEPTH} levels")));
    }
    let Json::Object(map) = json else {
        return Err(at(
            path,
            format!(
                "expected an object: {{\"and\": [...]}}, {{\"or\": [...]}}, {{\"not\": {{...}}}} or {{\"field\", \"op\", \"value\"}}, found {}",
                describe(json)
            ),
        ));
    };
    for logic in ["and", "or", "not"] {
        if let Some(inner) = map.get(logic) {
            if map.len() > 1 {
                let other = map.keys().find(|k| *k != logic).cloned().unwrap_or_default();
                return Err(at(
                    &join(path, &other),
                    format!("`{logic}` stands alone in its object; put `{other}` in a condition of its own"),
                ));
            }
            let here = join(path, logic);
            if logic == "not" {
                return Ok(Node::Not(Box::new(parse_node(inner, &here, depth + 1, count)?)));
            }
            let Json::Array(items) = inner else {
                return Err(at(
                    &here,
                    format!("expected an array of filters, found {}", describe(inner)),
                ));
            };
            if items.len() > MAX_LIST {
                return Err(at(&here, format!("at most {MAX_LIST} items")));
            }
            let children = items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_node(item, &format!("{here}[{i}]"), depth + 1, count))
                .collect::<Result<Vec<_>>>()?;
            return Ok(if logic == "and" {
                Node::And(children)
            } else {
                Node::Or(children)
            });
        }
    }
    parse_condition(map, path, count)
}

fn parse_condition(map: &Map<String, Json>, path: &str, count: &mut usize) -> Result<Node<Unchecked>> {
    if let Some(unknown) = map.keys().find(|k| !matches!(k.as_str(), "field" | "op" | "value")) {
        return Err(at(
            &join(path, unknown),
            "unknown key; a condition has `field`, `op` and `value`, a group `and`, `or` or `not`",
        ));
    }
    *count += 1;
    if *count > MAX_CONDITIONS {
        return Err(at(path, format!("a filter holds at most {MAX_CONDITIONS} conditions")));
    }
    let text = |key: &str| -> Result<String> {
        match map.get(key) {
            None => Err(at(&join(path, key), "missing")),
            Some(Json::String(s)) if s.trim().is_empty() => Err(at(&join(path, key), "must not be empty")),
            Some(Json::String(s)) => Ok(s.trim().to_owned()),
            Some(other) => Err(at(
                &join(path, key),
                format!("expected a string, found {}", describe(other)),
            )),
        }
    };
    let field = text("field")?;
    let op = text("op")?;
    let value = map.get("value").filter(|v| !v.is_null()).cloned();
    if let Some(value) = &value {
        check_value(value, &join(path, "value"))?;
    }
    Ok(Node::Cond {
        path: path.to_owned(),
        cond: RawCondition { field, op, value },
    })
}

/// Refuses a value no query may carry, before it reaches a plugin or the database: a
/// control character (PostgreSQL refuses NUL in text and JSON; SQLite would cut the text
/// at it), more than [`MAX_VALUE_BYTES`] of JSON or a text over [`MAX_TEXT_BYTES`].
fn check_value(value: &Json, path: &str) -> Result<()> {
    if crate::error::has_control_chars(value) {
        return Err(at(path, "must not contain control characters"));
    }
    let size = serde_json::to_vec(value).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_VALUE_BYTES {
        return Err(at(
            path,
            format!("is {size} bytes as JSON; a filter value may have at most {MAX_VALUE_BYTES}"),
        ));
    }
    if let Some(len) = longest_text(value).filter(|len| *len > MAX_TEXT_BYTES) {
        return Err(at(
            path,
            format!("holds a text of {len} bytes; a text in a filter may have at most {MAX_TEXT_BYTES}"),
        ));
    }
    Ok(())
}

/// The length of the longest string in `value` (keys included).
fn longest_text(value: &Json) -> Option<usize> {
    match value {
        Json::String(s) => Some(s.len()),
        Json::Array(items) => items.iter().filter_map(longest_text).max(),
        Json::Object(map) => map.iter().map(|(k, v)| longest_text(v).unwrap_or(0).max(k.len())).max(),
        _ => None,
    }
}

fn check_node(node: Node<Unchecked>, catalog: &Catalog) -> Result<Node<Checked>> {
    Ok(match node {
        Node::And(items) => Node::And(
            items
                .into_iter()
                .map(|n| check_node(n, catalog))
                .collect::<Result<_>>()?,
        ),
        Node::Or(items) => Node::Or(
            items
                .into_iter()
                .map(|n| check_node(n, catalog))
                .collect::<Result<_>>()?,
        ),
        Node::Not(inner) => Node::Not(Box::new(check_node(*inner, catalog)?)),
        Node::Cond { path, cond } => {
            let field = catalog.field(&cond.field).ok_or_else(|| {
                let hint = if let Some(key) = cond.field.strip_prefix("fields.") {
                    format!("there is no extra field `{key}`")
                } else if let Some(kind) = cond.field.strip_prefix("activity.") {
                    format!("there is no activity kind `{kind}`")
                } else {
                    "unknown field; use a core field (name, email, city, type, ...), `fields.<key>`, `activity.<kind>` or `location`".to_owned()
                };
                at(&join(&path, "field"), hint)
            })?;
            let entry = catalog
                .operator(&cond.op, field.kind)
                .map_err(|message| at(&join(&path, "op"), message))?;
            if !entry.applies_to.contains(&field.kind) {
                return Err(at(
                    &join(&path, "op"),
                    format!(
                        "{} does not apply to `{}` (a {} field)",
                        entry.name,
                        field.path,
                        field.kind.as_str()
                    ),
                ));
            }
            Node::Cond {
                cond: Condition {
                    field: field.clone(),
                    plugin: entry.plugin.clone(),
                    op: entry.op.clone(),
                    value: cond.value,
                },
                path,
            }
        }
    })
}

impl Filter<Checked> {
    /// The root node.
    pub fn root(&self) -> &Node<Checked> {
        &self.root
    }

    /// Every condition with its path, depth first.
    pub fn conditions(&self) -> Vec<(&str, &Condition)> {
        let mut out = Vec::new();
        let mut stack = vec![&self.root];
        while let Some(node) = stack.pop() {
            match node {
                Node::And(items) | Node::Or(items) => stack.extend(items.iter().rev()),
                Node::Not(inner) => stack.push(inner),
                Node::Cond { path, cond } => out.push((path.as_str(), cond)),
            }
        }
        out
    }
}

/// A JSON value's kind, for messages.
pub fn describe(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path_of(json: Json) -> String {
        match Filter::<Unchecked>::parse(&json) {
            Err(Error::Validation { path, .. }) => path,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn errors_name_the_bad_node() {
        assert_eq!(
            path_of(json!({"and": [{"field": "a", "op": "eq"}, {"or": [5]}]})),
            "and[1].or[0]"
        );
        assert_eq!(path_of(json!({"not": {"field": "a"}})), "not.op");
        assert_eq!(path_of(json!({"and": {"field": "a"}})), "and");
        assert_eq!(path_of(json!({"and": [], "or": []})), "or");
        assert_eq!(path_of(json!({"field": "a", "op": "eq", "valeu": 1})), "valeu");
        assert_eq!(path_of(json!({"field": 3, "op": "eq"})), "field");
        assert_eq!(path_of(json!({"field": " ", "op": "eq"})), "field");
        assert_eq!(path_of(json!([1])), "");
        assert_eq!(
            path_of(json!({"and": [{"field": "name", "op": "contains", "value": "a\u{0}b"}]})),
            "and[0].value"
        );
        assert_eq!(
            path_of(json!({"field": "name", "op": "in_list", "value": ["x", "\u{7}"]})),
            "value"
        );
        let big: Vec<String> = (0..MAX_VALUE_BYTES / 8).map(|i| format!("{i:08}")).collect();
        assert_eq!(
            path_of(json!({"or": [{"field": "name", "op": "in_list", "value": big}]})),
            "or[0].value"
        );
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        assert_eq!(
            path_of(json!({"not": {"field": "name", "op": "eq", "value": long}})),
            "not.value"
        );
        let mut deep = json!({"field": "a", "op": "eq"});
        for _ in 0..MAX_DEPTH + 1 {
            deep = json!({"not": deep});
        }
        assert!(path_of(deep).starts_with("not.not"));
        assert!(matches!(
            Filter::<Unchecked>::parse_str("{\"and\": ["),
            Err(Error::Validation { path, .. }) if path == "filter"
        ));
    }

    #[test]
    fn empty_filters_are_every_contact() {
        for text in ["", "  ", "null", "{}", "{\"and\": []}"] {
            let f = Filter::<Unchecked>::parse_str(text).unwrap();
            assert!(matches!(f.root, Node::And(ref items) if items.is_empty()), "{text}");
        }
    }
}
