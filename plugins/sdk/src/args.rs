//! Reading arguments: deserializing the flat [`Args`] tree into a type ([`Args::parse`]),
//! or walking it with [`Arg`], a view that keeps the path.
//!
//! An argument tree travels as a list of [`ArgNode`]s whose root is the last node; a node
//! refers to its items by index, always to smaller indices. [`Arg`] walks that list and
//! keeps the path of where it is (`value`, `value[1]`, `value.within.amount`), so every
//! error it returns points at the offending argument.

use crate::{ArgNode, Args, PluginError, Value};

impl Args {
    /// No argument at all (the filter node had no `value`).
    pub fn none() -> Self {
        Self { nodes: Vec::new() }
    }

    /// The root argument, named `value` in error paths: a filter operator's arguments.
    pub fn value(&self) -> Arg<'_> {
        self.root("value")
    }

    /// The root argument, named `params` in error paths: a criterion's or an action's.
    pub fn params(&self) -> Arg<'_> {
        self.root("params")
    }

    /// The root argument, named `name` in error paths.
    pub fn root(&self, name: &str) -> Arg<'_> {
        Arg {
            nodes: &self.nodes,
            index: self.nodes.len().checked_sub(1),
            path: name.to_owned(),
        }
    }

    /// Whether every node refers only to nodes before it (the contract's only rule).
    pub fn is_well_formed(&self) -> bool {
        self.nodes.iter().enumerate().all(|(at, node)| match node {
            ArgNode::List(items) => items.iter().all(|&item| (item as usize) < at),
            ArgNode::Object(entries) => entries.iter().all(|(_, item)| (*item as usize) < at),
            _ => true,
        })
    }
}

/// One argument of a tree: absent, or a node, with its path for error messages.
#[derive(Clone, Debug)]
pub struct Arg<'a> {
    nodes: &'a [ArgNode],
    /// `None` when the argument is absent (no value, or a missing key).
    index: Option<usize>,
    path: String,
}

impl<'a> Arg<'a> {
    /// Where this argument is: `value`, `value[1]`, `value.within.amount`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The node itself; `None` when the argument is absent.
    pub fn node(&self) -> Option<&'a ArgNode> {
        self.index.and_then(|index| self.nodes.get(index))
    }

    /// Whether the argument is missing (no value, or a key the object doesn't have).
    pub fn is_absent(&self) -> bool {
        self.node().is_none()
    }

    /// Whether the argument is an explicit `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.node(), Some(ArgNode::Null))
    }

    /// The argument, or `None` when it is absent or `null`: for optional arguments.
    pub fn optional(self) -> Option<Self> {
        match self.node() {
            None | Some(ArgNode::Null) => None,
            Some(_) => Some(self),
        }
    }

    /// An error about this argument: `PluginError { message, path: Some(self.path()) }`.
    pub fn error(&self, message: impl Into<String>) -> PluginError {
        PluginError::at(self.path.clone(), message)
    }

    /// What the argument is, for messages: `a number`, `a list`, `nothing`, ...
    pub fn describe(&self) -> &'static str {
        match self.node() {
            None => "nothing",
            Some(ArgNode::Null) => "null",
            Some(ArgNode::Boolean(_)) => "a boolean",
            Some(ArgNode::Integer(_)) => "a whole number",
            Some(ArgNode::Number(_)) => "a number",
            Some(ArgNode::Text(_)) => "a string",
            Some(ArgNode::List(_)) => "a list",
            Some(ArgNode::Object(_)) => "an object",
        }
    }

    fn expected(&self, what: &str) -> PluginError {
        self.error(format!("expected {what}, found {}", self.describe()))
    }

    /// A boolean.
    pub fn as_bool(&self) -> Result<bool, PluginError> {
        match self.node() {
            Some(ArgNode::Boolean(value)) => Ok(*value),
            _ => Err(self.expected("a boolean")),
        }
    }

    /// A whole number; a number without a fraction (`3.0`) is accepted too.
    pub fn as_i64(&self) -> Result<i64, PluginError> {
        match self.node() {
            Some(ArgNode::Integer(value)) => Ok(*value),
            Some(ArgNode::Number(value)) if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 =>
            {
                #[allow(clippy::cast_possible_truncation)]
                Ok(*value as i64)
            }
            _ => Err(self.expected("a whole number")),
        }
    }

    /// A number; whole numbers are accepted too.
    pub fn as_f64(&self) -> Result<f64, PluginError> {
        match self.node() {
            #[allow(clippy::cast_precision_loss)]
            Some(ArgNode::Integer(value)) => Ok(*value as f64),
            Some(ArgNode::Number(value)) if value.is_finite() => Ok(*value),
            _ => Err(self.expected("a number")),
        }
    }

    /// A string, borrowed from the tree.
    pub fn as_str(&self) -> Result<&'a str, PluginError> {
        match self.node() {
            Some(ArgNode::Text(value)) => Ok(value),
            _ => Err(self.expected("a string")),
        }
    }

    /// The items of a list, each with its path (`value[0]`, `value[1]`, ...).
    pub fn items(&self) -> Result<Vec<Arg<'a>>, PluginError> {
        match self.node() {
            Some(ArgNode::List(items)) => items
                .iter()
                .enumerate()
                .map(|(at, &item)| self.child(item, format!("{}[{at}]", self.path)))
                .collect(),
            _ => Err(self.expected("a list")),
        }
    }

    /// The value of `key` in an object; absent (see [`Arg::optional`]) if the object has
    /// no such key. Fails if this argument is not an object.
    pub fn get(&self, key: &str) -> Result<Arg<'a>, PluginError> {
        match self.node() {
            Some(ArgNode::Object(entries)) => {
                let path = format!("{}.{key}", self.path);
                match entries.iter().find(|(name, _)| name == key) {
                    Some((_, item)) => self.child(*item, path),
                    None => Ok(Arg {
                        nodes: self.nodes,
                        index: None,
                        path,
                    }),
                }
            }
            _ => Err(self.expected("an object")),
        }
    }

    /// The keys and values of an object, in the order they came.
    pub fn entries(&self) -> Result<Vec<(&'a str, Arg<'a>)>, PluginError> {
        match self.node() {
            Some(ArgNode::Object(entries)) => entries
                .iter()
                .map(|(key, item)| {
                    let arg = self.child(*item, format!("{}.{key}", self.path))?;
                    Ok((key.as_str(), arg))
                })
                .collect(),
            _ => Err(self.expected("an object")),
        }
    }

    /// Fails on the first key of this object that is not in `allowed`.
    pub fn deny_unknown_keys(&self, allowed: &[&str]) -> Result<(), PluginError> {
        for (key, arg) in self.entries()? {
            if !allowed.contains(&key) {
                return Err(arg.error(format!("unknown key; expected one of: {}", allowed.join(", "))));
            }
        }
        Ok(())
    }

    /// A scalar as an IR [`Value`]: null, boolean, integer, number or text, unchanged.
    pub fn to_value(&self) -> Result<Value, PluginError> {
        match self.node() {
            Some(ArgNode::Null) => Ok(Value::Null),
            Some(ArgNode::Boolean(value)) => Ok(Value::Boolean(*value)),
            Some(ArgNode::Integer(value)) => Ok(Value::Integer(*value)),
            Some(ArgNode::Number(value)) => Ok(Value::Number(*value)),
            Some(ArgNode::Text(value)) => Ok(Value::Text(value.clone())),
            _ => Err(self.expected("a single value")),
        }
    }

    /// The node at `item`, which must come before this one.
    fn child(&self, item: u32, path: String) -> Result<Arg<'a>, PluginError> {
        let item = item as usize;
        match self.index {
            Some(parent) if item < parent => Ok(Arg {
                nodes: self.nodes,
                index: Some(item),
                path,
            }),
            _ => Err(PluginError::at(
                path,
                "malformed argument tree (an item must come before its parent)",
            )),
        }
    }
}

mod json {
    use std::any::{Any, TypeId};

    use schemars::{JsonSchema, Schema, SchemaGenerator};
    use serde::de::{DeserializeOwned, Deserializer};
    use serde::{Deserialize, Serialize, Serializer};
    use serde_json::Value as Json;
    use serde_path_to_error::Segment;

    use crate::{ArgNode, Args, PluginError};

    impl Args {
        /// The tree of a JSON value, as the host builds it from a filter's `value`:
        /// integers that fit `i64` become `integer`, other numbers `number`, items and
        /// object values come before their parent, object keys keep the JSON's order.
        pub fn from_json(value: &Json) -> Self {
            let mut nodes = Vec::new();
            push(&mut nodes, value);
            Self { nodes }
        }

        /// The JSON value of the tree; `None` for no argument or a malformed tree.
        pub fn to_json(&self) -> Option<Json> {
            if !self.is_well_formed() {
                return None;
            }
            read(&self.nodes, self.nodes.len().checked_sub(1)?)
        }
    }

    impl Args {
        /// The tree deserialized as `T` (serde), or an error at the path of the part that
        /// doesn't fit, under `root`: `value.within.amount: invalid type: string "x",
        /// expected f64`. No argument reads as `null`, so `()` and `Option<T>` accept it.
        pub fn parse<T: DeserializeOwned + 'static>(&self, root: &str) -> Result<T, PluginError> {
            // `Args` itself: the tree as it is.
            if TypeId::of::<T>() == TypeId::of::<Args>() {
                let tree: Box<dyn Any> = Box::new(self.clone());
                if let Ok(tree) = tree.downcast::<T>() {
                    return Ok(*tree);
                }
            }
            if !self.is_well_formed() {
                return Err(PluginError::at(
                    root,
                    "malformed argument tree (an item must come before its parent)",
                ));
            }
            let json = self.to_json().unwrap_or(Json::Null);
            serde_path_to_error::deserialize(json).map_err(|error| {
                let mut path = root.to_owned();
                for segment in error.path().iter() {
                    match segment {
                        Segment::Seq { index } => path.push_str(&format!("[{index}]")),
                        Segment::Map { key } | Segment::Enum { variant: key } => {
                            path.push('.');
                            path.push_str(key);
                        }
                        Segment::Unknown => {}
                    }
                }
                PluginError::at(path, error.into_inner().to_string())
            })
        }
    }

    /// Any JSON value, kept as a tree: the type of an operator's arguments that reads them
    /// with [`Args::value`] (its schema is "anything"; give one with `ARGS_SCHEMA`).
    impl<'de> Deserialize<'de> for Args {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let json = Json::deserialize(deserializer)?;
            Ok(Args::from_json(&json))
        }
    }

    impl Serialize for Args {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.to_json().unwrap_or(Json::Null).serialize(serializer)
        }
    }

    impl JsonSchema for Args {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "Args".into()
        }

        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            Schema::default()
        }
    }

    impl From<Json> for Args {
        fn from(value: Json) -> Self {
            Args::from_json(&value)
        }
    }

    impl From<&Json> for Args {
        fn from(value: &Json) -> Self {
            Args::from_json(value)
        }
    }

    fn push(nodes: &mut Vec<ArgNode>, value: &Json) -> u32 {
        let node = match value {
            Json::Null => ArgNode::Null,
            Json::Bool(value) => ArgNode::Boolean(*value),
            Json::Number(number) => match number.as_i64() {
                Some(value) => ArgNode::Integer(value),
                None => ArgNode::Number(number.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(value) => ArgNode::Text(value.clone()),
            Json::Array(items) => ArgNode::List(items.iter().map(|item| push(nodes, item)).collect()),
            Json::Object(entries) => ArgNode::Object(
                entries
                    .iter()
                    .map(|(key, item)| (key.clone(), push(nodes, item)))
                    .collect(),
            ),
        };
        nodes.push(node);
        u32::try_from(nodes.len() - 1).unwrap_or(u32::MAX)
    }

    fn read(nodes: &[ArgNode], at: usize) -> Option<Json> {
        Some(match nodes.get(at)? {
            ArgNode::Null => Json::Null,
            ArgNode::Boolean(value) => Json::Bool(*value),
            ArgNode::Integer(value) => Json::from(*value),
            ArgNode::Number(value) => serde_json::Number::from_f64(*value).map_or(Json::Null, Json::Number),
            ArgNode::Text(value) => Json::String(value.clone()),
            ArgNode::List(items) => Json::Array(
                items
                    .iter()
                    .map(|&item| read(nodes, item as usize))
                    .collect::<Option<_>>()?,
            ),
            ArgNode::Object(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(key, item)| Some((key.clone(), read(nodes, *item as usize)?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }
}
