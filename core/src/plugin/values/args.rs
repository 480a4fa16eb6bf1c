//! Argument trees: a filter node's value (any JSON) as the flat list of nodes WIT can
//! carry, children first and the root last, and the check of a tree a plugin sends back.

use serde_json::{Map, Number, Value as Json};

use super::check_text;
use crate::plugin::bindings::types;
use crate::plugin::limits::{MAX_ARG_NODES, MAX_DEPTH, MAX_LIST};

/// Flattens a JSON value into an argument tree, children first and the root last;
/// `None` is the empty tree (no argument).
pub fn args_to_wit(value: Option<&Json>) -> Result<types::Args, String> {
    fn push(value: &Json, nodes: &mut Vec<types::ArgNode>, depth: usize) -> Result<u32, String> {
        if depth > MAX_DEPTH {
            return Err(format!("the value is nested deeper than {MAX_DEPTH} levels"));
        }
        if nodes.len() >= MAX_ARG_NODES {
            return Err(format!("the value has more than {MAX_ARG_NODES} parts"));
        }
        let node = match value {
            Json::Null => types::ArgNode::Null,
            Json::Bool(b) => types::ArgNode::Boolean(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => types::ArgNode::Integer(i),
                None => types::ArgNode::Number(n.as_f64().unwrap_or(f64::NAN)),
            },
            Json::String(s) => types::ArgNode::Text(s.clone()),
            Json::Array(items) => {
                let mut children = Vec::with_capacity(items.len());
                for item in items {
                    children.push(push(item, nodes, depth + 1)?);
                }
                types::ArgNode::List(children)
            }
            Json::Object(map) => {
                let mut entries = Vec::with_capacity(map.len());
                for (k, v) in map {
                    entries.push((k.clone(), push(v, nodes, depth + 1)?));
                }
                types::ArgNode::Object(entries)
            }
        };
        if nodes.len() >= MAX_ARG_NODES {
            return Err(format!("the value has more than {MAX_ARG_NODES} parts"));
        }
        nodes.push(node);
        u32::try_from(nodes.len() - 1).map_err(|_| "the value is too large".to_owned())
    }
    let mut nodes = Vec::new();
    if let Some(value) = value {
        push(value, &mut nodes, 1)?;
    }
    Ok(types::Args { nodes })
}

/// Reads an argument tree from a plugin back into JSON, checking its indices (children
/// before parents, root last), size and depth; `None` for the empty tree.
pub fn args_from_wit(args: &types::Args) -> Result<Option<Json>, String> {
    if args.nodes.len() > MAX_ARG_NODES {
        return Err(format!("{} argument nodes; at most {MAX_ARG_NODES}", args.nodes.len()));
    }
    // (value, expanded size, depth) of each node so far.
    let mut built: Vec<(Json, usize, usize)> = Vec::with_capacity(args.nodes.len());
    for (i, node) in args.nodes.iter().enumerate() {
        let child = |c: u32| -> Result<&(Json, usize, usize), String> {
            let c = usize::try_from(c).unwrap_or(usize::MAX);
            if c == i {
                return Err(format!("argument node {i} refers to itself"));
            }
            built
                .get(c)
                .ok_or_else(|| format!("argument node {i} refers to node {c}, which is not an earlier node"))
        };
        let entry = match node {
            types::ArgNode::Null => (Json::Null, 1, 1),
            types::ArgNode::Boolean(b) => (Json::Bool(*b), 1, 1),
            types::ArgNode::Integer(n) => (Json::from(*n), 1, 1),
            types::ArgNode::Number(n) => (
                Json::Number(Number::from_f64(*n).ok_or_else(|| format!("argument node {i} is not a finite number"))?),
                1,
                1,
            ),
            types::ArgNode::Text(s) => (Json::String(check_text(s.clone(), "an argument")?), 1, 1),
            types::ArgNode::List(items) => {
                if items.len() > MAX_LIST {
                    return Err(format!("argument node {i} has more than {MAX_LIST} items"));
                }
                let (mut size, mut depth, mut out) = (1usize, 1usize, Vec::with_capacity(items.len()));
                for &c in items {
                    let (v, s, d) = child(c)?;
                    size = size.saturating_add(*s);
                    depth = depth.max(d + 1);
                    if size > MAX_ARG_NODES {
                        return Err(format!("the arguments expand to more than {MAX_ARG_NODES} nodes"));
                    }
                    out.push(v.clone());
                }
                (Json::Array(out), size, depth)
            }
            types::ArgNode::Object(entries) => {
                if entries.len() > MAX_LIST {
                    return Err(format!("argument node {i} has more than {MAX_LIST} keys"));
                }
                let (mut size, mut depth, mut out) = (1usize, 1usize, Map::new());
                for (k, c) in entries {
                    let (v, s, d) = child(*c)?;
                    size = size.saturating_add(*s);
                    depth = depth.max(d + 1);
                    if size > MAX_ARG_NODES {
                        return Err(format!("the arguments expand to more than {MAX_ARG_NODES} nodes"));
                    }
                    out.insert(check_text(k.clone(), "an argument key")?, v.clone());
                }
                (Json::Object(out), size, depth)
            }
        };
        if entry.2 > MAX_DEPTH {
            return Err(format!("the arguments are nested deeper than {MAX_DEPTH} levels"));
        }
        built.push(entry);
    }
    Ok(built.pop().map(|(v, _, _)| v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn args_round_trip() {
        for value in [
            json!(null),
            json!(3),
            json!(2.5),
            json!("Łódź"),
            json!([1, [2, 3], {"a": true}]),
            json!({"amount": 30, "unit": "days", "where": {"path": "/pricing"}}),
        ] {
            let args = args_to_wit(Some(&value)).unwrap();
            assert_eq!(args_from_wit(&args).unwrap(), Some(value.clone()), "{value}");
        }
        assert_eq!(args_from_wit(&args_to_wit(None).unwrap()).unwrap(), None);
    }

    #[test]
    fn args_from_a_plugin_are_checked() {
        let bad = types::Args {
            nodes: vec![types::ArgNode::List(vec![0])],
        };
        assert!(args_from_wit(&bad).unwrap_err().contains("itself"));
        let forward = types::Args {
            nodes: vec![types::ArgNode::List(vec![1]), types::ArgNode::Null],
        };
        assert!(args_from_wit(&forward).unwrap_err().contains("not an earlier node"));
        let mut nodes = vec![types::ArgNode::Null];
        for i in 0..40u32 {
            nodes.push(types::ArgNode::List(vec![i, i]));
        }
        assert!(args_from_wit(&types::Args { nodes }).is_err());
    }
}
