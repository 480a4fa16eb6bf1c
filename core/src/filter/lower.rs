//! Lowering a checked filter: each condition through its plugin's `lower`, once per query,
//! into one [`Predicate`] (the [`Plan`]), simplified.
//!
//! The plugin's answer is checked against the catalogue ([`super::validate`]) before it is
//! used: a predicate naming a field that doesn't exist or a value that doesn't fit its
//! field's kind is the plugin's error, never a bad statement. Constant and single-child
//! groups are folded away ([`simplify`]), so `{"and": []}` is [`Predicate::Always`] and
//! costs no condition at all.
//!
//! The same filter against the same catalogue in the same second lowers once: the
//! engine keeps its plans for the second ([`PlanCache`]).

use chrono::{DateTime, Utc};

use super::catalog::Catalog;
use super::tree::{Checked, Filter, Node};
use crate::plugin::ir::Predicate;
use crate::plugin::{CallContext, Registry};
use crate::{Error, Result};

/// A lowered filter: the predicate the database and the evaluator run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub predicate: Predicate,
    /// Each condition's own lowered predicate, in [`Filter::conditions`] order (for
    /// explaining a filter condition by condition).
    pub conditions: Vec<Predicate>,
    /// When it was lowered (time-relative operators were resolved against this).
    pub now: DateTime<Utc>,
}

impl Filter<Checked> {
    /// Lowers each condition once through its plugin and checks the answer against the
    /// catalogue (every field it names exists, values fit the field's kind); `ctx` says
    /// where the plugins are called from (see [`CallContext`]).
    pub async fn lower(
        &self,
        registry: &Registry,
        catalog: &Catalog,
        now: DateTime<Utc>,
        ctx: CallContext,
    ) -> Result<Plan> {
        let mut lowered = Vec::new();
        for (path, cond) in self.conditions() {
            let field_ref = cond.field.field_ref();
            let predicate = registry
                .lower(&cond.plugin, &cond.op, &field_ref, cond.value.as_ref(), now, ctx)
                .await
                .map_err(|e| if path.is_empty() { e } else { e.under(path) })?;
            super::validate::predicate(&predicate, catalog).map_err(|message| Error::Plugin {
                name: cond.plugin.clone(),
                message: format!("lower({}) answered a predicate the host refuses: {message}", cond.op),
            })?;
            lowered.push(predicate);
        }
        let predicate = assemble(self.root(), &mut lowered.iter().cloned());
        Ok(Plan {
            predicate: simplify(predicate),
            conditions: lowered,
            now,
        })
    }
}

/// How many lowered plans an engine keeps (see [`PlanCache`]).
pub const PLANS_KEPT: usize = 256;

/// The plans lowered lately, by filter and second, for the catalogue they were lowered
/// against.
///
/// A plugin's `lower` sees the operator, the field, the value and `now` in whole seconds,
/// and nothing else (the sandbox gives it no other clock, no database and no network);
/// its answer is a function of those (`plugins/wit/filter.wit`). So the same filter,
/// against the same catalogue (the same fields, users and plugins: a change builds a new
/// one), in the same second, lowers to the same plan, and the engine takes it from here
/// instead of calling every condition's plugin again: a page and its count, a count asked
/// twice, the writes of one second re-lowering the segments' time-relative plans.
///
/// Alternatives considered: keying by the catalogue's generations instead of the
/// catalogue itself (the same, but the generations aren't at hand where a catalogue is
/// passed in); keeping plans across seconds for filters that aren't time-relative (one
/// more lowering per filter to find out, for a saving of one call a second).
#[derive(Debug, Default)]
pub struct PlanCache {
    plans: std::sync::Mutex<std::collections::HashMap<(String, i64), (Catalog, Plan)>>,
}

impl PlanCache {
    /// The plan `filter` lowered to at `now`'s second against `catalog`, if kept; with
    /// `now` as its instant.
    pub(crate) fn get(&self, filter: &str, catalog: &Catalog, now: DateTime<Utc>) -> Option<Plan> {
        let plans = self.plans.lock().ok()?;
        let (at, plan) = plans.get(&(filter.to_owned(), now.timestamp()))?;
        at.same_as(catalog).then(|| Plan { now, ..plan.clone() })
    }

    /// Keeps `plan`, lowered from `filter` against `catalog`; the oldest second's plans
    /// make room when [`PLANS_KEPT`] are kept.
    pub(crate) fn put(&self, filter: String, catalog: &Catalog, plan: &Plan) {
        let Ok(mut plans) = self.plans.lock() else { return };
        if plans.len() >= PLANS_KEPT {
            let oldest = plans.keys().map(|(_, second)| *second).min();
            plans.retain(|(_, second), _| Some(*second) != oldest);
            if plans.len() >= PLANS_KEPT {
                plans.clear();
            }
        }
        plans.insert((filter, plan.now.timestamp()), (catalog.clone(), plan.clone()));
    }
}

/// The tree with each condition replaced by its lowered predicate, in `conditions` order.
fn assemble(node: &Node<Checked>, lowered: &mut impl Iterator<Item = Predicate>) -> Predicate {
    match node {
        Node::And(items) => Predicate::And(items.iter().map(|n| assemble(n, lowered)).collect()),
        Node::Or(items) => Predicate::Or(items.iter().map(|n| assemble(n, lowered)).collect()),
        Node::Not(inner) => Predicate::Not(Box::new(assemble(inner, lowered))),
        Node::Cond { .. } => lowered.next().unwrap_or(Predicate::Never),
    }
}

/// Removes constant and single-child groups, flattens nested ANDs and ORs.
pub fn simplify(p: Predicate) -> Predicate {
    match p {
        Predicate::And(items) => {
            let mut out = Vec::new();
            for item in items.into_iter().map(simplify) {
                match item {
                    Predicate::Always => {}
                    Predicate::Never => return Predicate::Never,
                    Predicate::And(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            match out.len() {
                0 => Predicate::Always,
                1 => out.pop().unwrap_or(Predicate::Always),
                _ => Predicate::And(out),
            }
        }
        Predicate::Or(items) => {
            let mut out = Vec::new();
            for item in items.into_iter().map(simplify) {
                match item {
                    Predicate::Never => {}
                    Predicate::Always => return Predicate::Always,
                    Predicate::Or(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            match out.len() {
                0 => Predicate::Never,
                1 => out.pop().unwrap_or(Predicate::Never),
                _ => Predicate::Or(out),
            }
        }
        Predicate::Not(inner) => match simplify(*inner) {
            Predicate::Always => Predicate::Never,
            Predicate::Never => Predicate::Always,
            Predicate::Not(x) => *x,
            other => Predicate::Not(Box::new(other)),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplify_folds_constants_and_flattens() {
        let leaf = || Predicate::IsNull("email".into());
        assert_eq!(
            simplify(Predicate::And(vec![
                Predicate::Always,
                Predicate::And(vec![leaf(), leaf()]),
                Predicate::Not(Box::new(Predicate::Not(Box::new(leaf())))),
            ])),
            Predicate::And(vec![leaf(), leaf(), leaf()])
        );
        assert_eq!(
            simplify(Predicate::Or(vec![leaf(), Predicate::Not(Box::new(Predicate::Never))])),
            Predicate::Always
        );
        assert_eq!(simplify(Predicate::Or(vec![])), Predicate::Never);
        assert_eq!(
            simplify(Predicate::And(vec![leaf(), Predicate::Never])),
            Predicate::Never
        );
    }
}
