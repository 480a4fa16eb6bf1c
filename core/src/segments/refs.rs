//! Segments in terms of segments: the references a filter makes to other segments (the
//! `segment` field), and the check that refuses a reference to a segment that doesn't exist
//! or one that leads back to the segment being defined (see the module doc of
//! [`super`] for why a reference reads stored members instead of inlining a filter).

use std::collections::{HashMap, HashSet};

use sea_orm::EntityTrait;
use serde_json::Value;

use super::Segments;
use crate::entities::segments;
use crate::filter::Prepared;
use crate::{Error, Result};

impl Segments {
    /// Checks a dynamic segment's filter; errors are at `filter.<node>`. `own` is the
    /// segment the filter is for, when it exists: a filter that leads back to it through
    /// `in_segment` is refused with the cycle (`segment 3 -> segment 5 -> segment 3`).
    pub(super) async fn prepare_segment_filter(&self, own: Option<i64>, filter: &Value) -> Result<Prepared> {
        Ok(self.prepare_segment_filter_at(own, filter).await?.0)
    }

    /// [`Segments::prepare_segment_filter`] with the generations its catalogue was read at.
    pub(super) async fn prepare_segment_filter_at(
        &self,
        own: Option<i64>,
        filter: &Value,
    ) -> Result<(Prepared, (i64, i64))> {
        // As of now, not as of the catalogue a request may trust for a moment: the
        // members are decided with it, and the stored evaluation names its generations.
        let (catalog, generations) = self.filter.current_catalog_at().await?;
        let prepared = self
            .filter
            .prepare_with(filter, catalog)
            .await
            .map_err(|e| e.under("filter"))?;
        let mut refs = Vec::new();
        segment_refs(filter, "filter", &mut refs);
        if refs.is_empty() {
            return Ok((prepared, generations));
        }
        let graph: HashMap<i64, Vec<i64>> = segments::Entity::find()
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(|m| {
                let mut to = Vec::new();
                if let Some(f) = &m.filter {
                    segment_refs(f, "", &mut to);
                }
                (m.id, to.into_iter().map(|(_, id)| id).collect())
            })
            .collect();
        for (path, target) in refs {
            if !graph.contains_key(&target) {
                return Err(Error::invalid(path, format!("no segment {target}")));
            }
            if let Some(own) = own
                && let Some(chain) = path_between(&graph, target, own)
            {
                let mut names = vec![format!("segment {own}")];
                names.extend(chain.iter().map(|id| format!("segment {id}")));
                return Err(Error::invalid(
                    path,
                    format!("a segment can't contain itself: {}", names.join(" -> ")),
                ));
            }
        }
        Ok((prepared, generations))
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The segments `filter` refers to (conditions on `segment`), each with the path of its
/// value (`filter.and[1].value`), in the path scheme of the filter checker.
pub(super) fn segment_refs(filter: &Value, path: &str, out: &mut Vec<(String, i64)>) {
    let Value::Object(map) = filter else { return };
    for logic in ["and", "or"] {
        if let Some(Value::Array(items)) = map.get(logic) {
            let here = join(path, logic);
            for (i, item) in items.iter().enumerate() {
                segment_refs(item, &format!("{here}[{i}]"), out);
            }
        }
    }
    if let Some(inner) = map.get("not") {
        segment_refs(inner, &join(path, "not"), out);
    }
    if map.get("field").and_then(Value::as_str) == Some("segment")
        && let Some(id) = map.get("value").and_then(Value::as_i64)
    {
        out.push((join(path, "value"), id));
    }
}

/// The segments from `from` to `to` following references (both ends included), if any.
fn path_between(graph: &HashMap<i64, Vec<i64>>, from: i64, to: i64) -> Option<Vec<i64>> {
    let mut seen = HashSet::new();
    let mut stack = vec![vec![from]];
    while let Some(chain) = stack.pop() {
        let last = *chain.last()?;
        if last == to {
            return Some(chain);
        }
        if !seen.insert(last) {
            continue;
        }
        for next in graph.get(&last).into_iter().flatten() {
            let mut longer = chain.clone();
            longer.push(*next);
            stack.push(longer);
        }
    }
    None
}
