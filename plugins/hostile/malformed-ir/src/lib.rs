//! `hostile-malformed-ir`: predicates that break the IR's rules, chosen by the op name;
//! `matches` answers fewer values than the batch has.

use kartoteka_plugin_sdk::prelude::*;

struct MalformedIr;

const OPS: &[&str] = &[
    "bad_index",
    "self_reference",
    "forward_reference",
    "cycle",
    "empty",
    "bad_residual_args",
    "unknown_residual",
];

impl FilterPlugin for MalformedIr {
    fn description() -> Description {
        hostile_common::describe("malformed-ir", OPS)
    }

    fn lower(op: &str, field: &Field, _: &Args, _: i64) -> Result<Predicate, PluginError> {
        let path = field.path.clone();
        let nodes = match op {
            // A child index past the end of the list.
            "bad_index" => vec![IrNode::IsNull(path), IrNode::And(vec![0, 7])],
            // The root's child is the root itself.
            "self_reference" => vec![IrNode::Always, IrNode::Not(1)],
            // Node 0 refers to node 2, which comes after it.
            "forward_reference" => vec![IrNode::Not(2), IrNode::Never, IrNode::And(vec![0, 1])],
            // Two `and`s naming each other.
            "cycle" => vec![IrNode::And(vec![1]), IrNode::And(vec![0])],
            // No root at all.
            "empty" => vec![],
            // A residual whose argument tree is a list containing itself.
            "bad_residual_args" => vec![IrNode::Residual(Residual {
                op: "bad_residual_args".into(),
                field: path,
                args: Args {
                    nodes: vec![ArgNode::List(vec![0])],
                },
            })],
            // A residual of an op this plugin doesn't offer.
            _ => vec![IrNode::Residual(Residual {
                op: "no_such_op".into(),
                field: path,
                args: Args::none(),
            })],
        };
        Ok(Predicate { nodes })
    }

    fn matches(_: &str, _: &Args, values: &Batch) -> Result<Vec<bool>, PluginError> {
        Ok(vec![true; values.len() / 2])
    }
}

export_filter_plugin!(MalformedIr);
