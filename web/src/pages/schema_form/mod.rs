//! A form for a bulk action's parameters, made from their JSON Schema (the plugin's
//! `params_schema`), and the parameters read back from the posted form.
//!
//! The renderer is generic over the shapes plugins' schemas take:
//!
//! - a string is a text input (a textarea for a field called `body`, `text`, `html` or
//!   `description`, or a long one), a `date` string a date input;
//! - an integer or a number is a number input (with the schema's bounds), a boolean a
//!   checkbox;
//! - an `enum`, or a `oneOf`/`anyOf` of constants, is a select;
//! - a `oneOf`/`anyOf` of objects and constants (`"owner"` or `{"user": id}`) is a choice
//!   of alternatives: a radio button each, with the inputs of an object's properties;
//! - `null` in a type list or among the alternatives makes the field optional.
//!
//! Anything else (arrays, nested objects, an alternative with a nested choice) is a JSON
//! textarea for that field; a schema whose root isn't an object with properties is one
//! JSON textarea for all the parameters, pre-filled with `{}`. Either way the server
//! checks what is sent.
//!
//! Every input is named by its problem path (`params.title`, `params.due.in_days`), so a
//! problem the server answers lands next to its input. The form checks what it can itself
//! (required fields, numbers, bounds, dates, JSON) and reports every problem at once; the
//! plugin's own checks (a template's syntax) come back from starting the job.

use kartoteka_core::error::Problem;
use serde_json::{Map, Value as Json};

use crate::auth::FormData;

mod schema;
#[cfg(test)]
mod tests;

use schema::{field, json_input, non_null, rank, required_keys};

/// The name of the parameters in problem paths and input names.
pub const ROOT: &str = "params";

/// One input of the form.
#[derive(Debug, Clone)]
pub struct Input {
    /// The input's name and problem path: `params.title`.
    pub name: String,
    pub label: String,
    /// The schema's description.
    pub help: String,
    pub required: bool,
    /// Whether it belongs to an alternative of a [`Choice`] (required only when that one
    /// is chosen, so the browser mustn't insist).
    pub nested: bool,
    kind: Kind,
    /// What the input holds (as typed; `1` for a ticked checkbox).
    pub value: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Text,
    TextArea,
    Integer { min: Option<i64>, max: Option<i64> },
    Number,
    Date,
    Checkbox,
    Select(Vec<Opt>),
    Json,
}

/// An option of a select.
#[derive(Debug, Clone, PartialEq)]
pub struct Opt {
    pub value: String,
    pub label: String,
    pub help: String,
    json: Json,
}

impl Input {
    /// What the template renders: `text`, `textarea`, `integer`, `number`, `date`,
    /// `checkbox`, `select` or `json`.
    pub fn widget(&self) -> &'static str {
        match self.kind {
            Kind::Text => "text",
            Kind::TextArea => "textarea",
            Kind::Integer { .. } => "integer",
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::Checkbox => "checkbox",
            Kind::Select(_) => "select",
            Kind::Json => "json",
        }
    }

    /// The options of a select.
    pub fn options(&self) -> &[Opt] {
        match &self.kind {
            Kind::Select(options) => options,
            _ => &[],
        }
    }

    /// The lower bound of an integer input, as its `min` attribute (empty: none).
    pub fn min(&self) -> String {
        match self.kind {
            Kind::Integer { min: Some(min), .. } => min.to_string(),
            _ => String::new(),
        }
    }

    /// The upper bound of an integer input, as its `max` attribute (empty: none).
    pub fn max(&self) -> String {
        match self.kind {
            Kind::Integer { max: Some(max), .. } => max.to_string(),
            _ => String::new(),
        }
    }

    /// The element id of the input.
    pub fn id(&self) -> String {
        format!("input-{}", self.name)
    }

    /// The value the input stands for: `None` when empty, an error message when it can't
    /// be read.
    fn json(&self) -> Result<Option<Json>, String> {
        let text = self.value.trim();
        if self.kind == Kind::Checkbox {
            return Ok(Some(Json::Bool(text == "1")));
        }
        if text.is_empty() {
            return Ok(None);
        }
        let value = match &self.kind {
            Kind::Text | Kind::TextArea | Kind::Checkbox => Json::String(text.to_owned()),
            Kind::Date => {
                chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| format!("expected a date as YYYY-MM-DD, found “{text}”"))?;
                Json::String(text.to_owned())
            }
            Kind::Integer { min, max } => {
                let n: i64 = text
                    .parse()
                    .map_err(|_| format!("expected a whole number, found “{text}”"))?;
                if let Some(min) = min
                    && n < *min
                {
                    return Err(format!("must be at least {min}, found {n}"));
                }
                if let Some(max) = max
                    && n > *max
                {
                    return Err(format!("must be at most {max}, found {n}"));
                }
                Json::from(n)
            }
            Kind::Number => {
                let n: f64 = text
                    .parse()
                    .ok()
                    .filter(|n: &f64| n.is_finite())
                    .ok_or_else(|| format!("expected a number, found “{text}”"))?;
                serde_json::Number::from_f64(n).map(Json::Number).unwrap_or(Json::Null)
            }
            Kind::Select(options) => options
                .iter()
                .find(|o| o.value == text)
                .map(|o| o.json.clone())
                .ok_or_else(|| {
                    let names: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                    format!("choose one of: {}", names.join(", "))
                })?,
            Kind::Json => serde_json::from_str(text)
                .map_err(|e| format!("not valid JSON (line {}, column {}): {e}", e.line(), e.column()))?,
        };
        Ok(Some(value))
    }
}

/// A field that is one of several alternatives (`"owner"` or `{"user": id}`): a radio
/// button each.
#[derive(Debug, Clone)]
pub struct Choice {
    /// The radio buttons' name and the field's problem path: `params.assignee`.
    pub name: String,
    pub label: String,
    pub help: String,
    pub required: bool,
    /// The chosen alternative's value; empty for none.
    pub selected: String,
    pub alternatives: Vec<Alternative>,
    pub error: Option<String>,
}

/// One alternative of a [`Choice`].
#[derive(Debug, Clone)]
pub struct Alternative {
    /// The radio button's value: the constant, or the object's property names.
    pub value: String,
    pub label: String,
    pub help: String,
    /// The inputs of an object's properties (none for a constant).
    pub inputs: Vec<Input>,
    constant: Option<Json>,
}

impl Choice {
    /// The element id of the field.
    pub fn id(&self) -> String {
        format!("field-{}", self.name)
    }

    /// The element id of alternative `value`'s radio button.
    pub fn radio_id(&self, value: &str) -> String {
        format!("choice-{}-{value}", self.name)
    }
}

/// One field of the form.
#[derive(Debug, Clone)]
pub enum Field {
    Input(Input),
    Choice(Choice),
}

impl Field {
    /// The field when it is a plain input.
    pub fn input(&self) -> Option<&Input> {
        match self {
            Field::Input(input) => Some(input),
            Field::Choice(_) => None,
        }
    }

    /// The field when it is a choice of alternatives.
    pub fn choice(&self) -> Option<&Choice> {
        match self {
            Field::Choice(choice) => Some(choice),
            Field::Input(_) => None,
        }
    }
}

/// The parameters form of one action.
#[derive(Debug, Clone, Default)]
pub struct ParamsForm {
    pub fields: Vec<Field>,
    /// Problems no input is named by (`action`, `contact_ids[3]`), as `path: message`.
    pub errors: Vec<String>,
}

impl ParamsForm {
    /// The empty form for an action whose parameters have JSON Schema `schema`.
    pub fn new(schema: &Json) -> Self {
        let (root, _) = non_null(schema);
        let Some(properties) = root.get("properties").and_then(Json::as_object) else {
            let mut whole = json_input(ROOT.into(), "parameters", &root, false);
            if whole.value.is_empty() {
                whole.value = "{}".into();
            }
            return ParamsForm {
                fields: vec![Field::Input(whole)],
                errors: Vec::new(),
            };
        };
        let required = required_keys(&root);
        let mut fields: Vec<Field> = properties
            .iter()
            .map(|(key, sub)| field(key, sub, required.contains(key)))
            .collect();
        fields.sort_by_key(rank);
        ParamsForm {
            fields,
            errors: Vec::new(),
        }
    }

    /// Whether the form is one JSON textarea for all the parameters.
    fn is_whole_json(&self) -> bool {
        matches!(self.fields.as_slice(), [Field::Input(i)] if i.name == ROOT)
    }

    /// The form as posted in `form`: the values typed, kept to show again.
    pub fn fill(&mut self, form: &FormData) {
        let text = |name: &str| form.get(name).unwrap_or_default().to_owned();
        let fill_input = |input: &mut Input| {
            input.value = if input.kind == Kind::Checkbox {
                if form.checked(&input.name) {
                    "1".into()
                } else {
                    String::new()
                }
            } else {
                text(&input.name)
            };
        };
        for field in &mut self.fields {
            match field {
                Field::Input(input) => fill_input(input),
                Field::Choice(choice) => {
                    choice.selected = text(&choice.name);
                    for alternative in &mut choice.alternatives {
                        alternative.inputs.iter_mut().for_each(fill_input);
                    }
                    // Typed into one alternative's inputs without picking it: that one.
                    if choice.selected.is_empty() {
                        let typed: Vec<&Alternative> = choice
                            .alternatives
                            .iter()
                            .filter(|a| a.inputs.iter().any(|i| !i.value.trim().is_empty()))
                            .collect();
                        if let [only] = typed.as_slice() {
                            choice.selected = only.value.clone();
                        }
                    }
                }
            }
        }
    }

    /// The parameters the form stands for, or every problem with what was typed (each
    /// also shown next to its input).
    pub fn params(&mut self) -> Result<Json, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |path: &str, message: String| {
            problems.push(Problem {
                path: path.to_owned(),
                message,
            });
        };
        if self.is_whole_json()
            && let Some(Field::Input(whole)) = self.fields.first()
        {
            return match whole.json() {
                Ok(value) => Ok(value.unwrap_or_else(|| Json::Object(Map::new()))),
                Err(message) => {
                    problem(ROOT, message);
                    self.show(problems.clone());
                    Err(problems)
                }
            };
        }
        let mut params = Map::new();
        let key = |name: &str| name.rsplit('.').next().unwrap_or(name).to_owned();
        for field in &self.fields {
            match field {
                Field::Input(input) => match input.json() {
                    Ok(Some(value)) => {
                        params.insert(key(&input.name), value);
                    }
                    Ok(None) if input.required => problem(&input.name, "is required".into()),
                    Ok(None) => {}
                    Err(message) => problem(&input.name, message),
                },
                Field::Choice(choice) => {
                    let Some(chosen) = choice.alternatives.iter().find(|a| a.value == choice.selected) else {
                        if choice.selected.is_empty() {
                            if choice.required {
                                problem(&choice.name, "choose one".into());
                            }
                        } else {
                            problem(&choice.name, format!("no alternative “{}”", choice.selected));
                        }
                        continue;
                    };
                    if let Some(c) = &chosen.constant {
                        params.insert(key(&choice.name), c.clone());
                        continue;
                    }
                    let mut object = Map::new();
                    for input in &chosen.inputs {
                        match input.json() {
                            Ok(Some(value)) => {
                                object.insert(key(&input.name), value);
                            }
                            Ok(None) if input.required => problem(&input.name, "is required".into()),
                            Ok(None) => {}
                            Err(message) => problem(&input.name, message),
                        }
                    }
                    params.insert(key(&choice.name), Json::Object(object));
                }
            }
        }
        if problems.is_empty() {
            Ok(Json::Object(params))
        } else {
            self.show(problems.clone());
            Err(problems)
        }
    }

    /// Shows `problems` next to their inputs: each at the input its path names, or under
    /// (`params.due.in_days` at `params.due.in_days`, `params.tags[2]` at `params.tags`);
    /// the others above the form.
    pub fn show(&mut self, problems: Vec<Problem>) {
        for p in problems {
            if !self.attach(&p) {
                self.errors.push(if p.path.is_empty() {
                    p.message
                } else {
                    format!("{}: {}", p.path, p.message)
                });
            }
        }
    }

    fn attach(&mut self, p: &Problem) -> bool {
        let under = |name: &str| {
            p.path == name
                || p.path
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        };
        // The longest name the path is at or under wins.
        let mut best: Option<(usize, &mut Option<String>, &str)> = None;
        for field in &mut self.fields {
            let mut slots: Vec<(&str, &mut Option<String>)> = Vec::new();
            match field {
                Field::Input(input) => slots.push((&input.name, &mut input.error)),
                Field::Choice(choice) => {
                    slots.push((&choice.name, &mut choice.error));
                    for alternative in &mut choice.alternatives {
                        for input in &mut alternative.inputs {
                            slots.push((&input.name, &mut input.error));
                        }
                    }
                }
            }
            for (name, slot) in slots {
                if under(name) && best.as_ref().is_none_or(|(len, _, _)| name.len() > *len) {
                    best = Some((name.len(), slot, name));
                }
            }
        }
        let Some((_, slot, name)) = best else {
            return false;
        };
        let rest = p.path.get(name.len()..).unwrap_or_default().trim_start_matches('.');
        let message = if rest.is_empty() {
            p.message.clone()
        } else {
            format!("{rest}: {}", p.message)
        };
        *slot = Some(match slot.take() {
            Some(before) => format!("{before}; {message}"),
            None => message,
        });
        true
    }
}
