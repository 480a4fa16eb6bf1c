//! A filter in words: "all of: City equals “Kraków”; Industry is one of “IT”, “Retail”".
//!
//! The segment page, the card's "why" and anything else that shows a filter to people
//! renders it here, so they read the same. Fields are named by their catalogue labels,
//! operators by the label their plugin gives them, and values by what they stand for: a
//! contact type by its label, an owner and a segment by their names, a yes/no by yes or
//! no, text in quotes.
//!
//! Nothing here knows an operator. An operator's value is read with its plugin's
//! description (the `args` JSON Schema in the catalogue):
//!
//! - a scalar or a list is shown as it is (`“IT”, “Retail”`; a pair, as for `between`,
//!   as `10 and 20`);
//! - an object whose properties are all required is one compound value, its parts in the
//!   order of the schema's `required` list (`30 days`);
//! - any other object is a list of "title value" parts, each named by its property's
//!   `title` in the schema (`with an amount of at least 500, within the last 30 days`); a
//!   part without a title is named by its key. The parts come in the order of `required`,
//!   then by key: a parsed JSON Schema keeps no order of its properties.
//!
//! So a third-party operator reads as well as its description: its label and its
//! properties' titles. A filter that no longer checks (a deleted field, a disabled
//! plugin) is still described, with the names it was written with.
//!
//! Groups read "all of", "any of" and "not"; a nested group sits in parentheses and the
//! parts of a group are separated by semicolons (commas separate the items of a list).

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::catalog::{Catalog, CoreColumn, FieldSpec, Source};
use crate::plugin::registry::OperatorEntry;

/// The names a filter's values may refer to, as the reader may see them.
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Users by email (the `owner` field compares emails): their names.
    pub users: HashMap<String, String>,
    /// Segments by id: their names.
    pub segments: HashMap<i64, String>,
}

/// A filter as words, group by group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Described {
    /// Every part holds ("all of").
    All(Vec<Described>),
    /// At least one part holds ("any of").
    Any(Vec<Described>),
    /// The part doesn't hold.
    Not(Box<Described>),
    /// One condition in words.
    Condition(String),
}

impl Described {
    /// The whole filter as one sentence.
    pub fn sentence(&self) -> String {
        self.render(false)
    }

    fn render(&self, nested: bool) -> String {
        let group = |word: &str, parts: &[Described]| {
            let inner = parts.iter().map(|p| p.render(true)).collect::<Vec<_>>().join("; ");
            if nested {
                format!("{word} ({inner})")
            } else {
                format!("{word}: {inner}")
            }
        };
        match self {
            Described::Condition(text) => text.clone(),
            Described::All(parts) if parts.is_empty() => "every contact".to_owned(),
            Described::Any(parts) if parts.is_empty() => "no contact".to_owned(),
            Described::All(parts) | Described::Any(parts) if parts.len() == 1 => {
                parts.first().map(|p| p.render(nested)).unwrap_or_default()
            }
            Described::All(parts) => group("all of", parts),
            Described::Any(parts) => group("any of", parts),
            Described::Not(inner) => format!("not ({})", inner.render(true)),
        }
    }
}

/// Describes filters against one catalogue and one set of names.
#[derive(Debug, Clone)]
pub struct Describer {
    catalog: Catalog,
    names: Names,
}

impl Describer {
    /// A describer over `catalog`, naming users and segments from `names`.
    pub fn new(catalog: Catalog, names: Names) -> Self {
        Describer { catalog, names }
    }

    /// The filter JSON (DESIGN §5) in words; `null` and `{}` are every contact.
    pub fn filter(&self, filter: &Json) -> Described {
        match filter {
            Json::Null => Described::All(Vec::new()),
            Json::Object(map) if map.is_empty() => Described::All(Vec::new()),
            other => self.node(other),
        }
    }

    /// The filter JSON as one sentence.
    pub fn sentence(&self, filter: &Json) -> String {
        self.filter(filter).sentence()
    }

    fn node(&self, json: &Json) -> Described {
        let Json::Object(map) = json else {
            return Described::Condition(compact(json));
        };
        let items = |key: &str| -> Option<Vec<Described>> {
            map.get(key).map(|v| {
                v.as_array()
                    .map(|a| a.iter().map(|n| self.node(n)).collect())
                    .unwrap_or_default()
            })
        };
        if let Some(parts) = items("and") {
            return Described::All(parts);
        }
        if let Some(parts) = items("or") {
            return Described::Any(parts);
        }
        if let Some(inner) = map.get("not") {
            return Described::Not(Box::new(self.node(inner)));
        }
        let text = |key: &str| map.get(key).and_then(Json::as_str).map(str::trim).unwrap_or_default();
        Described::Condition(self.condition(text("field"), text("op"), map.get("value")))
    }

    /// One condition in words: `field` and `op` as written in the filter.
    pub fn condition(&self, field: &str, op: &str, value: Option<&Json>) -> String {
        let spec = self.catalog.field(field);
        let label = match spec.map(|f| (&f.source, f)) {
            // "Purchase happened ...": the kind is the subject.
            Some((Source::Activity(kind), _)) => crate::activities::kind_label(kind),
            Some((_, f)) => f.label.clone(),
            None => field.to_owned(),
        };
        let operator = spec.and_then(|f| self.catalog.operator(op, f.kind).ok()).or_else(|| {
            // A field that is gone: the operator's label still reads better than its name.
            self.catalog
                .operators()
                .iter()
                .find(|o| o.name == op || (o.op == op && !op.contains('.')))
        });
        let op_label = operator.map_or_else(|| op.replace('_', " "), |o| o.label.clone());
        let value = value.filter(|v| !v.is_null());
        match value {
            None => format!("{label} {op_label}"),
            Some(v) => {
                let schema = operator.map(|o: &OperatorEntry| &o.args_schema).unwrap_or(&Json::Null);
                format!("{label} {op_label} {}", self.value(v, schema, spec))
            }
        }
    }

    /// A contact's value of `field` (a path as written) in words: a type by its label, an
    /// owner by name, a place by its city, region and country.
    pub fn field_value(&self, field: &str, value: &Json) -> String {
        let spec = self.catalog.field(field);
        match (spec.map(|f| &f.source), value) {
            (_, Json::Null) => "—".to_owned(),
            (Some(Source::Location), Json::Object(map)) => {
                let text = |k: &str| map.get(k).and_then(Json::as_str).filter(|s| !s.trim().is_empty());
                let place: Vec<&str> = ["city", "region", "country"].into_iter().filter_map(text).collect();
                let number = |k: &str| map.get(k).and_then(Json::as_f64);
                let point = match (number("latitude"), number("longitude")) {
                    (Some(lat), Some(lon)) => Some(format!("{lat}, {lon}")),
                    _ => None,
                };
                match (place.is_empty(), point) {
                    (true, None) => "no place".to_owned(),
                    (true, Some(point)) => point,
                    (false, None) => place.join(", "),
                    (false, Some(point)) => format!("{} ({point})", place.join(", ")),
                }
            }
            _ => self.value(value, &Json::Null, spec),
        }
    }

    /// A condition's value, read with its operator's schema and its field.
    fn value(&self, value: &Json, schema: &Json, field: Option<&FieldSpec>) -> String {
        match value {
            Json::Object(map) => self.object(map, schema, field),
            Json::Array(items) => match items.as_slice() {
                [low, high] if is_pair(schema) => {
                    format!("{} and {}", self.scalar(low, field), self.scalar(high, field))
                }
                _ => items
                    .iter()
                    .map(|v| self.scalar(v, field))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            other => self.scalar(other, field),
        }
    }

    fn object(&self, map: &Map<String, Json>, schema: &Json, field: Option<&FieldSpec>) -> String {
        let properties = schema.get("properties").and_then(Json::as_object);
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        // The required keys in their list's order, then the others by name (a JSON object
        // keeps no order of its own).
        let mut keys: Vec<&String> = required
            .iter()
            .filter_map(|r| map.get_key_value(*r).map(|(k, _)| k))
            .collect();
        keys.extend(map.keys().filter(|k| !required.contains(&k.as_str())));
        let compound = properties.is_some_and(|p| !p.is_empty() && p.keys().all(|k| required.contains(&k.as_str())));
        let sub = |key: &str| properties.and_then(|p| p.get(key)).unwrap_or(&Json::Null);
        let mut parts = Vec::new();
        for key in keys {
            let Some(v) = map.get(key) else { continue };
            let shown = match v {
                Json::Object(inner) => self.object(inner, sub(key), None),
                // A compound value is plain words (`30 days`); elsewhere text is quoted.
                Json::String(s) if compound => s.clone(),
                other => self.value(other, sub(key), named(field)),
            };
            if compound {
                parts.push(shown);
                continue;
            }
            let title = sub(key).get("title").and_then(Json::as_str);
            parts.push(match title {
                Some(t) => format!("{} {shown}", lower_first(t)),
                None => format!("{key} {shown}"),
            });
        }
        if compound {
            singular_after_one(&parts).join(" ")
        } else {
            parts.join(", ")
        }
    }

    /// One value of `field`, by what it stands for.
    fn scalar(&self, value: &Json, field: Option<&FieldSpec>) -> String {
        let source = field.map(|f| &f.source);
        match (source, value) {
            (Some(Source::Type), Json::String(key)) => {
                let key = key.rsplit('/').next().unwrap_or(key);
                match self.catalog.types.by_key(key) {
                    Some(t) => t.label.clone(),
                    None => quoted(key),
                }
            }
            (Some(Source::Owner), Json::String(email)) => match self.names.users.get(&email.to_lowercase()) {
                Some(name) if !name.trim().is_empty() => name.clone(),
                _ => quoted(email),
            },
            (Some(Source::Segment), v) => match v.as_i64().and_then(|id| self.names.segments.get(&id).map(|n| (id, n)))
            {
                Some((_, name)) => quoted(name),
                None => match v.as_i64() {
                    Some(id) => format!("segment {id}"),
                    None => compact(v),
                },
            },
            (Some(Source::Column(CoreColumn::Kind)), Json::String(kind)) => match kind.as_str() {
                "person" => "a person".to_owned(),
                "company" => "a company".to_owned(),
                other => quoted(other),
            },
            (_, Json::Bool(true)) => "yes".to_owned(),
            (_, Json::Bool(false)) => "no".to_owned(),
            (_, Json::String(s)) => quoted(s),
            (_, Json::Null) => "nothing".to_owned(),
            (_, Json::Array(items)) => items
                .iter()
                .map(|v| self.scalar(v, field))
                .collect::<Vec<_>>()
                .join(", "),
            (_, Json::Object(map)) => self.object(map, &Json::Null, None),
            (_, n @ Json::Number(_)) => n.to_string(),
        }
    }
}

/// The field whose values the parts of an object value name: a type, a segment or an
/// owner are still named inside an operator's object; other parts are values of their own.
fn named(field: Option<&FieldSpec>) -> Option<&FieldSpec> {
    field.filter(|f| matches!(f.source, Source::Type | Source::Segment | Source::Owner))
}

/// Whether the schema is a pair (`minItems` and `maxItems` both 2), as `between` takes.
fn is_pair(schema: &Json) -> bool {
    let n = |k: &str| schema.get(k).and_then(Json::as_u64);
    n("minItems") == Some(2) && n("maxItems") == Some(2)
}

fn quoted(s: &str) -> String {
    format!("“{s}”")
}

/// A value that has no better words, as compact JSON.
fn compact(v: &Json) -> String {
    v.to_string()
}

/// "At least this many times" reads "at least this many times" inside a sentence; an
/// acronym ("URL of the page") keeps its capitals.
fn lower_first(title: &str) -> String {
    let mut chars = title.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            let mut out: String = first.to_lowercase().collect();
            out.push(second);
            out.extend(chars);
            out
        }
        _ => title.to_owned(),
    }
}

/// "1 days" reads "1 day": a unit right after the number one loses its plural `s`.
fn singular_after_one(parts: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(parts.len());
    let mut after_one = false;
    for part in parts {
        let shown = match part.strip_suffix('s') {
            Some(stem) if after_one && part.chars().all(char::is_alphabetic) => stem.to_owned(),
            _ => part.clone(),
        };
        after_one = part == "1";
        out.push(shown);
    }
    out
}

#[cfg(test)]
#[path = "describe_tests.rs"]
mod tests;
