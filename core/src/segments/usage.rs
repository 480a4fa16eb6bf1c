//! Which segments a plugin serves: what disabling or removing it leaves needing
//! attention, so the Plugins page can say so before it happens.
//!
//! A condition uses a plugin when its operator is written `<plugin>.<op>`, or written bare
//! (`eq`) and resolved to that plugin's operator for the condition's field, as the filter
//! checker resolves it.

use serde_json::Value as Json;

use super::Segment;
use super::Segments;
use crate::Result;
use crate::auth::Actor;
use crate::filter::Catalog;

impl Segments {
    /// The segments `actor` sees whose filter has a condition served by plugin `plugin`.
    pub async fn segments_using_plugin(&self, actor: &Actor, plugin: &str) -> Result<Vec<Segment>> {
        let catalog = self.filter.filter_catalog().await?;
        Ok(self
            .list_segments(actor)
            .await?
            .into_iter()
            .filter(|s| s.filter.as_ref().is_some_and(|f| uses(f, plugin, &catalog)))
            .collect())
    }
}

/// Whether a condition anywhere in `filter` is served by `plugin`.
fn uses(filter: &Json, plugin: &str, catalog: &Catalog) -> bool {
    let Json::Object(map) = filter else {
        return false;
    };
    for group in ["and", "or"] {
        if let Some(items) = map.get(group) {
            return items
                .as_array()
                .is_some_and(|items| items.iter().any(|i| uses(i, plugin, catalog)));
        }
    }
    if let Some(inner) = map.get("not") {
        return uses(inner, plugin, catalog);
    }
    let Some(op) = map.get("op").and_then(Json::as_str).map(str::trim) else {
        return false;
    };
    if let Some((named, _)) = op.split_once('.') {
        return named == plugin;
    }
    map.get("field")
        .and_then(Json::as_str)
        .and_then(|f| catalog.field(f.trim()))
        .and_then(|f| catalog.operator(op, f.kind).ok())
        .is_some_and(|o| o.plugin == plugin)
}
