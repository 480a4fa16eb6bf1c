//! A plugin as installed ([`PluginInfo`]), the operators the catalogue lists, and the
//! snapshot of every installed plugin with its loaded component; the JSON their rows
//! store capabilities and offers in.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};

use crate::entities::plugins;
use crate::plugin::engine::Loaded;
use crate::plugin::limits::Grant;
use crate::plugin::values::{Capability, FieldKind, Kind, Offer};

/// A plugin as installed.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub kind: Kind,
    pub description: String,
    /// Shipped inside the binary.
    pub builtin: bool,
    pub enabled: bool,
    /// What it asks for.
    pub capabilities: Vec<Capability>,
    /// What an admin granted.
    pub approved_capabilities: Vec<Capability>,
    /// The limits an admin granted beyond the defaults.
    pub grant: Grant,
    /// Its operators, criteria or actions.
    pub offers: Vec<Offer>,
    pub sha256: String,
    pub size: i64,
    pub installed_by: Option<String>,
    pub installed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Why it can't run on this server (it doesn't compile here, or it is a built-in this
    /// binary doesn't carry); `None` when it can.
    pub problem: Option<String>,
}

impl PluginInfo {
    /// Whether every capability it asks for is approved.
    pub fn approved(&self) -> bool {
        self.capabilities.iter().all(|c| self.approved_capabilities.contains(c))
    }

    /// The capabilities asked for and not approved.
    pub fn unapproved(&self) -> Vec<Capability> {
        self.capabilities
            .iter()
            .copied()
            .filter(|c| !self.approved_capabilities.contains(c))
            .collect()
    }

    /// Whether it offers `op`.
    pub fn offers(&self, op: &str) -> bool {
        self.offers.iter().any(|o| o.name == op)
    }
}

/// An operator of an enabled filter-operator plugin, for the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorEntry {
    /// `std.eq`.
    pub name: String,
    pub plugin: String,
    pub op: String,
    pub label: String,
    pub applies_to: Vec<FieldKind>,
    /// JSON Schema of the operator's value.
    pub args_schema: Json,
}

/// An action of an enabled, approved bulk-action plugin, for the actions menu.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionEntry {
    /// `tasks.create_task`.
    pub name: String,
    pub plugin: String,
    pub action: String,
    pub label: String,
    /// The kinds of effect its plugin may return.
    pub capabilities: Vec<Capability>,
    /// JSON Schema of the parameters.
    pub params_schema: Json,
}

/// A criterion of an enabled segment-criterion plugin, for the scoring-model editor.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionEntry {
    /// `scoring.ranges`.
    pub name: String,
    pub plugin: String,
    pub criterion: String,
    pub label: String,
    pub applies_to: Vec<FieldKind>,
    /// JSON Schema of the parameters.
    pub params_schema: Json,
}

/// An installed plugin and its component, as loaded by this instance.
#[derive(Debug)]
pub struct Entry {
    pub info: PluginInfo,
    pub(super) loaded: Option<Arc<Loaded>>,
}

/// The installed plugins as of one generation.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub(super) generation: Option<i64>,
    pub(super) plugins: HashMap<String, Arc<Entry>>,
}

impl Snapshot {
    /// Every installed plugin, built-ins first, then by name.
    pub fn list(&self) -> Vec<&PluginInfo> {
        let mut out: Vec<&PluginInfo> = self.plugins.values().map(|e| &e.info).collect();
        out.sort_by(|a, b| b.builtin.cmp(&a.builtin).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// The plugin named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Entry>> {
        self.plugins.get(name)
    }
}

pub(crate) fn capabilities_json(caps: &[Capability]) -> Json {
    Json::Array(caps.iter().map(|c| Json::from(c.as_str())).collect())
}

pub(crate) fn capabilities_from(json: &Json) -> Vec<Capability> {
    json.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str())
                .filter_map(Capability::parse)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn offers_json(offers: &[Offer]) -> Json {
    Json::Array(
        offers
            .iter()
            .map(|o| {
                json!({
                    "name": o.name,
                    "label": o.label,
                    "applies_to": o.applies_to.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "schema": o.schema,
                })
            })
            .collect(),
    )
}

fn offers_of(json: &Json) -> Vec<Offer> {
    json.as_array()
        .map(|items| {
            items
                .iter()
                .map(|o| Offer {
                    name: o.get("name").and_then(Json::as_str).unwrap_or_default().to_owned(),
                    label: o.get("label").and_then(Json::as_str).unwrap_or_default().to_owned(),
                    applies_to: o
                        .get("applies_to")
                        .and_then(Json::as_array)
                        .map(|k| k.iter().filter_map(Json::as_str).filter_map(FieldKind::parse).collect())
                        .unwrap_or_default(),
                    schema: o.get("schema").cloned().unwrap_or(Json::Null),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn info_of(m: &plugins::Model, problem: Option<String>) -> PluginInfo {
    PluginInfo {
        name: m.name.clone(),
        version: m.version.clone(),
        kind: Kind::parse(&m.kind).unwrap_or(Kind::FilterOperator),
        description: m.description.clone(),
        builtin: m.builtin,
        enabled: m.enabled,
        capabilities: capabilities_from(&m.capabilities),
        approved_capabilities: capabilities_from(&m.approved_capabilities),
        grant: Grant::from_json(m.limits.as_ref()),
        offers: offers_of(&m.offers),
        sha256: m.sha256.clone(),
        size: m.size,
        installed_by: m.installed_by.clone(),
        installed_at: m.installed_at,
        updated_at: m.updated_at,
        problem,
    }
}
