//! The "Changes" section of the contact card: the audit trail in words (with the
//! contact's band changes merged in by [`super::contact_scores`]).
//!
//! The trail stores what changed as the storage has it (`{"owner": [1, 2]}`, a type key, a
//! company id). Here each property is named by its label (the filter catalogue's, so the
//! card and the filter builder call it the same), people by their names, types by their
//! labels, companies by their names (as far as the reader may see them), yes/no as words.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use kartoteka_core::Error;
use kartoteka_core::auth::Actor;
use kartoteka_core::contacts::ContactEvent;
use kartoteka_core::filter::Catalog;
use serde_json::Value;

use crate::app::AppState;

/// One audit entry on the card.
#[derive(Debug, Clone)]
pub struct ShownEvent {
    pub at: String,
    /// When, for merging the entries of other sources in time order.
    pub when: DateTime<Utc>,
    pub who: String,
    pub action: String,
    /// (property, old value, new value); the old value is empty for a creation.
    pub changes: Vec<(String, String, String)>,
    /// A scoring model's band change ([`super::contact_scores`]), not an audit entry.
    pub band_change: bool,
}

/// What the values of a trail refer to.
struct Lookup {
    catalog: Catalog,
    /// User id → name, as the reader may see it.
    users: HashMap<i64, String>,
    /// Company id → name, for the companies the reader may see.
    companies: HashMap<i64, String>,
}

/// The trail `events` in words, as `actor` may read it; `people` are the users as the
/// actor may see them (`contacts::ContactReader::people`: no e-mail addresses for managers and agents).
pub async fn shown(
    state: &AppState,
    actor: &Actor,
    people: &[(i64, String)],
    events: &[ContactEvent],
) -> Result<Vec<ShownEvent>, Error> {
    let company_ids: Vec<i64> = events
        .iter()
        .filter_map(|e| e.changes.get("company_id"))
        .flat_map(|v| match v {
            Value::Array(pair) => pair.iter().filter_map(Value::as_i64).collect(),
            other => other.as_i64().into_iter().collect::<Vec<_>>(),
        })
        .collect();
    let lookup = Lookup {
        catalog: state.core.filter().filter_catalog().await?,
        companies: state.core.contacts().contact_names(actor, &company_ids).await?,
        users: people.iter().cloned().collect(),
    };
    Ok(events.iter().map(|e| lookup.event(e)).collect())
}

impl Lookup {
    fn event(&self, e: &ContactEvent) -> ShownEvent {
        let changes = match &e.changes {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| match v.as_array().map(Vec::as_slice) {
                    Some([old, new]) if e.action != "created" && e.action != "deleted" => {
                        (self.label(k), self.value(k, old), self.value(k, new))
                    }
                    _ => (self.label(k), String::new(), self.value(k, v)),
                })
                .collect(),
            _ => vec![],
        };
        ShownEvent {
            at: e.at.format("%Y-%m-%d %H:%M").to_string(),
            when: e.at,
            // Core names the author as the reader may see them (`contacts::ContactReader::people`).
            who: e.user_email.clone().unwrap_or_else(|| "system".into()),
            action: e.action.replace('_', " "),
            changes,
            band_change: false,
        }
    }

    /// A property's label: the catalogue's (`Postal code`, `Industry`), else its words.
    fn label(&self, key: &str) -> String {
        match key {
            "company_id" => "Company".to_owned(),
            "latitude" => "Latitude".to_owned(),
            "longitude" => "Longitude".to_owned(),
            _ => match self.catalog.field(key) {
                Some(f) => f.label.clone(),
                None => {
                    let words = key.strip_prefix("fields.").unwrap_or(key).replace('_', " ");
                    let mut chars = words.chars();
                    match chars.next() {
                        Some(first) => first.to_uppercase().chain(chars).collect(),
                        None => words,
                    }
                }
            },
        }
    }

    /// A stored value by what it stands for.
    fn value(&self, key: &str, v: &Value) -> String {
        match (key, v) {
            (_, Value::Null) => "—".to_owned(),
            ("owner", Value::Number(n)) => n
                .as_i64()
                .and_then(|id| self.users.get(&id).cloned())
                .unwrap_or_else(|| format!("user {n}")),
            ("company_id", Value::Number(n)) => n
                .as_i64()
                .and_then(|id| self.companies.get(&id).cloned())
                .unwrap_or_else(|| "a company you can't see".to_owned()),
            ("type", Value::String(k)) => self
                .catalog
                .types
                .by_key(k)
                .map_or_else(|| k.clone(), |t| t.label.clone()),
            ("kind", Value::String(k)) => match k.as_str() {
                "person" => "Person".to_owned(),
                "company" => "Company".to_owned(),
                other => other.to_owned(),
            },
            (_, Value::Bool(true)) => "Yes".to_owned(),
            (_, Value::Bool(false)) => "No".to_owned(),
            (_, Value::String(s)) => s.clone(),
            (_, Value::Array(items)) => items.iter().map(|i| self.value("", i)).collect::<Vec<_>>().join(", "),
            (_, other) => other.to_string(),
        }
    }
}
