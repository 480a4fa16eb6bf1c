//! Reading a parameters schema into the form's fields: which input kind a schema is, its
//! `null` alternative, the alternatives of a choice, the labels and the order.

use serde_json::Value as Json;

use super::{Alternative, Choice, Field, Input, Kind, Opt, ROOT};

/// `key` as a label: `in_days` as `In days`.
fn humanize(key: &str) -> String {
    let words = key.replace(['_', '-'], " ");
    let mut chars = words.trim().chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn description(schema: &Json) -> String {
    schema
        .get("description")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_null_schema(schema: &Json) -> bool {
    schema.get("type").and_then(Json::as_str) == Some("null") || schema.get("const") == Some(&Json::Null)
}

/// `schema` without its `null` alternative, and whether it had one (`["string", "null"]`,
/// an `anyOf` with `{"type": "null"}`).
pub(super) fn non_null(schema: &Json) -> (Json, bool) {
    let Some(object) = schema.as_object() else {
        return (schema.clone(), false);
    };
    if let Some(Json::Array(types)) = object.get("type") {
        let rest: Vec<Json> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
        if rest.len() < types.len() {
            let mut out = object.clone();
            let single = rest.len() == 1;
            let rest = if single {
                rest.into_iter().next().unwrap_or(Json::Null)
            } else {
                Json::Array(rest)
            };
            out.insert("type".into(), rest);
            return (Json::Object(out), true);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Json::Array(alternatives)) = object.get(key) {
            let rest: Vec<&Json> = alternatives.iter().filter(|a| !is_null_schema(a)).collect();
            if rest.len() < alternatives.len() {
                let mut out = object.clone();
                out.remove(key);
                match rest.as_slice() {
                    [only] => {
                        // The one alternative left, under the outer description.
                        if let Some(inner) = only.as_object() {
                            for (k, v) in inner {
                                out.entry(k.clone()).or_insert_with(|| v.clone());
                            }
                        }
                    }
                    _ => {
                        out.insert(key.into(), Json::Array(rest.into_iter().cloned().collect()));
                    }
                }
                return (Json::Object(out), true);
            }
        }
    }
    (schema.clone(), false)
}

/// A scalar constant as an option value: a string as itself, anything else as JSON.
fn option_value(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The constant a schema allows, if it allows exactly one.
fn constant(schema: &Json) -> Option<Json> {
    if let Some(c) = schema.get("const") {
        return Some(c.clone());
    }
    match schema.get("enum") {
        Some(Json::Array(values)) if values.len() == 1 => values.first().cloned(),
        _ => None,
    }
}

/// The leaf input kind of `schema` for field `key`, if it is one.
fn leaf_kind(key: &str, schema: &Json) -> Option<Kind> {
    if let Some(Json::Array(values)) = schema.get("enum")
        && !values.is_empty()
        && values.iter().all(|v| !v.is_object() && !v.is_array())
    {
        let options = values
            .iter()
            .map(|v| Opt {
                value: option_value(v),
                label: humanize(&option_value(v)),
                help: String::new(),
                json: v.clone(),
            })
            .collect();
        return Some(Kind::Select(options));
    }
    for list in ["oneOf", "anyOf"] {
        if let Some(Json::Array(alternatives)) = schema.get(list) {
            let constants: Option<Vec<Opt>> = alternatives
                .iter()
                .map(|a| {
                    constant(a).filter(|c| !c.is_object() && !c.is_array()).map(|c| Opt {
                        value: option_value(&c),
                        label: humanize(&option_value(&c)),
                        help: description(a),
                        json: c,
                    })
                })
                .collect();
            return match constants {
                Some(options) if !options.is_empty() => Some(Kind::Select(options)),
                _ => None,
            };
        }
    }
    if let Some(c) = constant(schema)
        && !c.is_object()
        && !c.is_array()
    {
        let value = option_value(&c);
        return Some(Kind::Select(vec![Opt {
            label: humanize(&value),
            value,
            help: String::new(),
            json: c,
        }]));
    }
    let bound = |name: &str| schema.get(name).and_then(Json::as_i64);
    match schema.get("type").and_then(Json::as_str)? {
        "string" if schema.get("format").and_then(Json::as_str) == Some("date") => Some(Kind::Date),
        "string" => {
            let long = schema.get("maxLength").and_then(Json::as_u64).is_none_or(|n| n > 200);
            let prose = matches!(key, "body" | "text" | "html" | "description" | "message");
            Some(if prose && long { Kind::TextArea } else { Kind::Text })
        }
        "integer" => Some(Kind::Integer {
            min: bound("minimum"),
            max: bound("maximum"),
        }),
        "number" => Some(Kind::Number),
        "boolean" => Some(Kind::Checkbox),
        _ => None,
    }
}

/// The initial value of an input from the schema's `default`.
fn default_text(schema: &Json) -> String {
    match schema.get("default") {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Bool(true)) => "1".into(),
        Some(n @ Json::Number(_)) => n.to_string(),
        _ => String::new(),
    }
}

fn input(name: String, key: &str, schema: &Json, required: bool, kind: Kind) -> Input {
    Input {
        value: default_text(schema),
        label: humanize(key),
        help: description(schema),
        name,
        required,
        nested: false,
        kind,
        error: None,
    }
}

pub(super) fn json_input(name: String, key: &str, schema: &Json, required: bool) -> Input {
    let mut help = description(schema);
    if !help.is_empty() {
        help.push(' ');
    }
    help.push_str("(as JSON)");
    Input {
        value: schema.get("default").map(Json::to_string).unwrap_or_default(),
        label: humanize(key),
        help,
        name,
        required,
        nested: false,
        kind: Kind::Json,
        error: None,
    }
}

/// The alternative `schema` of a choice at `name`, if the form can show it: a constant,
/// or an object whose properties are all leaf inputs.
fn alternative(name: &str, schema: &Json) -> Option<Alternative> {
    if let Some(c) = constant(schema) {
        let value = option_value(&c);
        return Some(Alternative {
            label: humanize(&value),
            value,
            help: description(schema),
            inputs: Vec::new(),
            constant: Some(c),
        });
    }
    let properties = schema.get("properties")?.as_object()?;
    if properties.is_empty() {
        return None;
    }
    let required = required_keys(schema);
    let mut inputs = Vec::new();
    for (key, sub) in properties {
        let (sub, nullable) = non_null(sub);
        let kind = leaf_kind(key, &sub)?;
        let is_required = required.contains(key) && !nullable;
        let mut shown = input(format!("{name}.{key}"), key, &sub, is_required, kind);
        shown.nested = true;
        inputs.push(shown);
    }
    let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
    Some(Alternative {
        value: keys.join("+"),
        label: keys.iter().map(|k| humanize(k)).collect::<Vec<_>>().join(" and "),
        help: description(schema),
        inputs,
        constant: None,
    })
}

pub(super) fn required_keys(schema: &Json) -> Vec<String> {
    schema
        .get("required")
        .and_then(Json::as_array)
        .map(|keys| keys.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The field for property `key` with `schema`.
pub(super) fn field(key: &str, schema: &Json, required: bool) -> Field {
    let name = format!("{ROOT}.{key}");
    let (schema, nullable) = non_null(schema);
    let required = required && !nullable;
    if let Some(kind) = leaf_kind(key, &schema) {
        return Field::Input(input(name, key, &schema, required, kind));
    }
    let alternatives = ["oneOf", "anyOf"]
        .iter()
        .find_map(|list| schema.get(*list).and_then(Json::as_array));
    if let Some(list) = alternatives {
        let shown: Option<Vec<Alternative>> = list.iter().map(|a| alternative(&name, a)).collect();
        if let Some(shown) = shown {
            // Two alternatives with the same value or input names can't share one form.
            let mut names: Vec<&str> = shown.iter().map(|a| a.value.as_str()).collect();
            names.extend(shown.iter().flat_map(|a| a.inputs.iter().map(|i| i.name.as_str())));
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            if names.len() == count && !shown.is_empty() {
                let selected = match schema.get("default") {
                    Some(d) => shown
                        .iter()
                        .find(|a| a.constant.as_ref() == Some(d))
                        .map(|a| a.value.clone())
                        .unwrap_or_default(),
                    None if required => shown.first().map(|a| a.value.clone()).unwrap_or_default(),
                    None => String::new(),
                };
                return Field::Choice(Choice {
                    label: humanize(key),
                    help: description(&schema),
                    required,
                    selected,
                    alternatives: shown,
                    error: None,
                    name,
                });
            }
        }
    }
    Field::Input(json_input(name, key, &schema, required))
}

/// The order fields are shown in: required first, then text, then the rest; by name
/// within each.
pub(super) fn rank(field: &Field) -> (u8, u8) {
    match field {
        Field::Input(i) => (
            u8::from(!i.required),
            u8::from(!matches!(i.kind, Kind::Text | Kind::TextArea)),
        ),
        Field::Choice(c) => (u8::from(!c.required), 1),
    }
}
