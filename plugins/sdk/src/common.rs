//! Helpers on the shapes every kind of plugin shares: errors, values, field kinds.

use crate::{Capability, FieldKind, Manifest, PluginError, Value};

impl PluginError {
    /// An error that is not about the arguments.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            path: None,
        }
    }

    /// An error about the argument at `path` (`value`, `value[1]`, `value.within.amount`).
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            path: Some(path.into()),
        }
    }

    /// The error for an operator name the plugin doesn't offer.
    pub fn unknown_operator(name: &str) -> Self {
        Self::new(format!("unknown operator `{name}`"))
    }

    /// The error for a criterion name the plugin doesn't offer.
    pub fn unknown_criterion(name: &str) -> Self {
        Self::new(format!("unknown criterion `{name}`"))
    }

    /// The error for an action name the plugin doesn't offer.
    pub fn unknown_action(name: &str) -> Self {
        Self::new(format!("unknown action `{name}`"))
    }

    /// `path: message`, or the message alone: how the error reads to a user.
    pub fn to_text(&self) -> String {
        match &self.path {
            Some(path) => format!("{path}: {}", self.message),
            None => self.message.clone(),
        }
    }
}

impl Manifest {
    /// A manifest asking for no capability.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            description: description.to_owned(),
            capabilities: Vec::new(),
        }
    }

    /// The same manifest, asking for `capabilities` as well.
    pub fn with_capabilities(mut self, capabilities: &[Capability]) -> Self {
        self.capabilities.extend_from_slice(capabilities);
        self
    }
}

impl FieldKind {
    /// Every field kind, in WIT order.
    pub const ALL: [FieldKind; 18] = [
        FieldKind::Text,
        FieldKind::LongText,
        FieldKind::Number,
        FieldKind::Integer,
        FieldKind::Money,
        FieldKind::Date,
        FieldKind::Datetime,
        FieldKind::Boolean,
        FieldKind::Select,
        FieldKind::Multiselect,
        FieldKind::Email,
        FieldKind::Phone,
        FieldKind::Url,
        FieldKind::Geo,
        FieldKind::Activity,
        FieldKind::Location,
        FieldKind::Segment,
        FieldKind::ContactType,
    ];

    /// The kind's name as the JSON API spells it (`long_text`, `contact_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::LongText => "long_text",
            FieldKind::Number => "number",
            FieldKind::Integer => "integer",
            FieldKind::Money => "money",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Boolean => "boolean",
            FieldKind::Select => "select",
            FieldKind::Multiselect => "multiselect",
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
            FieldKind::Url => "url",
            FieldKind::Geo => "geo",
            FieldKind::Activity => "activity",
            FieldKind::Location => "location",
            FieldKind::Segment => "segment",
            FieldKind::ContactType => "contact_type",
        }
    }
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl std::error::Error for PluginError {}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Boolean(value)
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Integer(value)
    }
}

impl From<i32> for Value {
    fn from(value: i32) -> Self {
        Value::Integer(value.into())
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Number(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_owned())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}
