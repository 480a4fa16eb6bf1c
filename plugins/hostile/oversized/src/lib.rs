//! `hostile-oversized`: answers far larger than any cap.
//!
//! - `lower("many_nodes", ..)`: N `never` nodes under one `or` (a well-formed predicate).
//! - `lower("huge_string", ..)`: one `text` node whose needle is N bytes.
//! - `matches(..)`: N answers, whatever the batch's size.
//!
//! N is the whole-number argument if there is one; the defaults are 10,000,000 nodes,
//! 64 MiB, and 10,000,000 answers.

use kartoteka_plugin_sdk::prelude::*;

struct Oversized;

fn size(args: &Args, default: usize) -> usize {
    args.value()
        .as_i64()
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(default)
}

impl FilterPlugin for Oversized {
    fn description() -> Description {
        hostile_common::describe("oversized", &["many_nodes", "huge_string"])
    }

    fn lower(op: &str, field: &Field, args: &Args, _: i64) -> Result<Predicate, PluginError> {
        match op {
            "huge_string" => {
                let needle = "x".repeat(size(args, 64 << 20));
                let mut b = PredicateBuilder::new();
                let root = b.text(&field.path, TextMode::Contains, &needle, true);
                Ok(b.finish(root))
            }
            _ => {
                let count = size(args, 10_000_000);
                let mut nodes = vec![IrNode::Never; count];
                nodes.push(IrNode::Or(
                    (0..count).map(|i| u32::try_from(i).unwrap_or(u32::MAX)).collect(),
                ));
                Ok(Predicate { nodes })
            }
        }
    }

    fn matches(_: &str, args: &Args, _: &Batch) -> Result<Vec<bool>, PluginError> {
        Ok(vec![true; size(args, 10_000_000)])
    }
}

export_filter_plugin!(Oversized);
