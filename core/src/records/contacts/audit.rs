//! The audit trail's view of a contact: a draft as `name -> value` by the column table's
//! keys ([`super::columns`]), what a create or a delete records (a snapshot) and what a
//! change records (`{name: [old, new]}` for what differs).

use serde_json::{Map, Value, json};

use super::{ContactDraft, CoreColumn};

impl ContactDraft {
    /// The value of core column `column` as the API and the audit trail write it; `null`
    /// for one a draft doesn't hold (those the system keeps).
    pub fn value(&self, column: CoreColumn) -> Value {
        match column {
            CoreColumn::Kind => json!(self.kind),
            CoreColumn::Type => json!(self.type_key),
            CoreColumn::Name => json!(self.name),
            CoreColumn::Email => json!(self.email),
            CoreColumn::Phone => json!(self.phone),
            CoreColumn::Position => json!(self.position),
            CoreColumn::Company => json!(self.company_id),
            CoreColumn::Street => json!(self.street),
            CoreColumn::City => json!(self.city),
            CoreColumn::Region => json!(self.region),
            CoreColumn::Country => json!(self.country),
            CoreColumn::PostalCode => json!(self.postal_code),
            CoreColumn::Latitude => json!(self.latitude),
            CoreColumn::Longitude => json!(self.longitude),
            CoreColumn::Owner => json!(self.owner_id),
            CoreColumn::DoNotContact => json!(self.do_not_contact),
            CoreColumn::CreatedAt | CoreColumn::UpdatedAt | CoreColumn::Score | CoreColumn::ScoreBand => Value::Null,
        }
    }
}

/// The written core columns of a draft (by their keys, [`columns::CoreColumn::WRITTEN`])
/// and its extra fields (`fields.<key>`), as `name -> value`.
fn columns(d: &ContactDraft) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = CoreColumn::WRITTEN
        .iter()
        .map(|c| (c.key().to_owned(), d.value(*c)))
        .collect();
    out.extend(d.fields.iter().map(|(k, v)| (format!("fields.{k}"), v.clone())));
    out
}

pub(super) fn snapshot(d: &ContactDraft) -> Value {
    Value::Object(columns(d).into_iter().filter(|(_, v)| !v.is_null()).collect())
}

/// `{property: [old, new]}` for every property that differs.
pub(super) fn difference(before: &ContactDraft, after: &ContactDraft) -> Map<String, Value> {
    let old: Map<String, Value> = columns(before).into_iter().collect();
    let new: Map<String, Value> = columns(after).into_iter().collect();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let a = old.get(k).unwrap_or(&Value::Null);
            let b = new.get(k).unwrap_or(&Value::Null);
            (a != b).then(|| (k.clone(), json!([a, b])))
        })
        .collect()
}
