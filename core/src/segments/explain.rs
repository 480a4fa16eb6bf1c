//! Why a contact is or isn't in a segment: each condition of the segment's filter, whether
//! it matched, and the contact's value it was compared with.
//!
//! A dynamic segment's filter is checked and lowered as for a query; each condition's own
//! lowered predicate (`Plan::conditions`) is evaluated against the contact's record by the
//! in-memory evaluator (residuals asked of their plugins, one batch of one per residual),
//! and the groups combine their children's answers as written (`and`, `or`, `not`). The
//! evaluator decides what the database decides, so the root's answer is the engine's:
//! the contact is in `GET /contacts?filter=<the segment's filter>` exactly when it matched.
//!
//! The stored membership (`member`, `joined_at`) is reported next to it: it is what counts,
//! pages and bulk actions read, and it follows the filter at the segment's next rebuild.
//!
//! A segment whose filter can't be prepared any more (it needs attention: its operator's
//! plugin was disabled, a field it names was deleted) has no tree but the reason.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value as Json, json};

use super::NEEDS_ATTENTION;
use super::SegmentKind;
use super::Segments;
use crate::auth::Actor;
use crate::entities::{segment_members, segments};
use crate::filter::catalog::{Catalog, Source};
use crate::filter::memory::{self, ActivityFact, Record, Val};
use crate::filter::run::batch_of;
use crate::filter::tree::{Checked, Filter, Node, Unchecked};
use crate::plugin::CallContext;
use crate::plugin::ir::{ActivityExists, Predicate, Residual, Scalar};
use crate::{Error, Result};

/// How a group combines its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logic {
    /// Every child matched.
    And,
    /// At least one child matched.
    Or,
    /// The one child did not match.
    Not,
}

impl Logic {
    /// The key in the filter JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Logic::And => "and",
            Logic::Or => "or",
            Logic::Not => "not",
        }
    }
}

/// One condition of a filter, evaluated for one contact.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionExplained {
    /// Where it sits in the filter (`and[1].or[0]`), as in filter errors.
    pub path: String,
    /// The field as written (`city`, `fields.industry`, `activity.purchase`).
    pub field: String,
    /// The field's label.
    pub label: String,
    /// The operator as written (`eq`, `geo.within_distance`).
    pub op: String,
    /// The value as written.
    pub value: Option<Json>,
    pub matched: bool,
    /// The contact's value that was compared: the stored value of an extra field, the
    /// company's name, `{matching, total, needed}` for an activity, whether the contact is
    /// in the referenced segment for `segment`.
    pub actual: Json,
    /// The same in words, where the value alone doesn't say it.
    pub note: Option<String>,
}

/// A node of a filter, evaluated for one contact.
#[derive(Debug, Clone, PartialEq)]
pub enum ExplainNode {
    Group {
        /// Where the group sits (`` for the root, `and[1]`).
        path: String,
        logic: Logic,
        matched: bool,
        children: Vec<ExplainNode>,
    },
    Condition(ConditionExplained),
}

impl ExplainNode {
    /// Whether the node matched.
    pub fn matched(&self) -> bool {
        match self {
            ExplainNode::Group { matched, .. } => *matched,
            ExplainNode::Condition(c) => c.matched,
        }
    }
}

/// One segment and one contact: whether it is a member, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentExplanation {
    pub segment_id: i64,
    pub name: String,
    pub kind: SegmentKind,
    /// `ok`, `rebuilding` or `needs_attention`.
    pub status: String,
    pub status_message: Option<String>,
    /// Whether the contact is a stored member (what counts and bulk actions read).
    pub member: bool,
    /// Since when, for a member.
    pub joined_at: Option<DateTime<Utc>>,
    /// Whether a dynamic segment's filter matches the contact now; `None` for a static
    /// list, and for a filter that can't be evaluated.
    pub matched: Option<bool>,
    /// A dynamic segment's filter, node by node; `None` when it can't be evaluated.
    pub tree: Option<ExplainNode>,
    /// Why a dynamic segment's filter can't be evaluated.
    pub reason: Option<String>,
}

impl SegmentExplanation {
    /// Whether the contact was put on a static list by hand.
    pub fn added_by_hand(&self) -> bool {
        self.kind == SegmentKind::Static && self.member
    }
}

impl Segments {
    /// For contact `contact_id`, every segment (by name): whether the contact is a member
    /// since when, and for a dynamic segment the filter evaluated condition by condition.
    ///
    /// Errors: [`Error::NotFound`] when `actor` can't see the contact.
    pub async fn explain_contact_segments(&self, actor: &Actor, contact_id: i64) -> Result<Vec<SegmentExplanation>> {
        let contact = self.contacts.get_contact(actor, contact_id).await?;
        let company_visible = match contact.company_id {
            Some(cid) => self.contacts.contact_names(actor, &[cid]).await?.contains_key(&cid),
            None => true,
        };
        let record = self
            .filter
            .records_of(vec![contact], true)
            .await?
            .pop()
            .ok_or_else(|| Error::Internal("no record for a contact just read".into()))?;
        let rows = segments::Entity::find()
            .order_by_asc(segments::Column::Name)
            .order_by_asc(segments::Column::Id)
            .all(&self.base.db)
            .await?;
        let joined: HashMap<i64, DateTime<Utc>> = segment_members::Entity::find()
            .filter(segment_members::Column::ContactId.eq(contact_id))
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(|m| (m.segment_id, m.joined_at))
            .collect();
        let names: HashMap<i64, String> = rows.iter().map(|m| (m.id, m.name.clone())).collect();
        let catalog = if rows.iter().any(|m| m.filter.is_some()) {
            Some(self.filter.filter_catalog().await?)
        } else {
            None
        };
        let context = Context {
            record: &record,
            company_visible,
            names: &names,
        };
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            let kind = SegmentKind::parse(&m.kind)?;
            let mut explanation = SegmentExplanation {
                segment_id: m.id,
                name: m.name,
                kind,
                member: joined.contains_key(&m.id),
                joined_at: joined.get(&m.id).copied(),
                matched: None,
                tree: None,
                reason: None,
                status: m.status,
                status_message: m.status_message,
            };
            if kind == SegmentKind::Dynamic {
                let evaluated = match (&m.filter, &catalog) {
                    _ if explanation.status == NEEDS_ATTENTION => Err(explanation
                        .status_message
                        .clone()
                        .unwrap_or_else(|| "the segment's filter can't be run any more".into())),
                    (Some(filter), Some(catalog)) => self.explain_filter(filter, catalog, &context).await?,
                    _ => Err("the segment has no filter".into()),
                };
                match evaluated {
                    Ok(tree) => {
                        explanation.matched = Some(tree.matched());
                        explanation.tree = Some(tree);
                    }
                    Err(reason) => explanation.reason = Some(reason),
                }
            }
            out.push(explanation);
        }
        Ok(out)
    }

    /// `filter` evaluated node by node for the context's record; `Err(reason)` when it
    /// can't be checked, lowered or decided (only database failures are errors).
    async fn explain_filter(
        &self,
        filter: &Json,
        catalog: &Catalog,
        context: &Context<'_>,
    ) -> Result<std::result::Result<ExplainNode, String>> {
        let prepared = async {
            let checked = Filter::<Unchecked>::parse(filter)?.check(catalog)?;
            let plan = checked
                .lower(&self.plugins, catalog, self.base.clock.now(), CallContext::Request)
                .await?;
            Ok::<_, Error>((checked, plan))
        }
        .await;
        let (checked, plan) = match prepared {
            Ok(p) => p,
            Err(e @ (Error::Db(_) | Error::Internal(_))) => return Err(e),
            Err(e) => return Ok(Err(e.under("filter").to_string())),
        };
        let residuals: Vec<&Residual> = plan.conditions.iter().flat_map(Predicate::residuals).collect();
        let records = std::slice::from_ref(context.record);
        let answers = match self
            .filter
            .residual_answers(&residuals, CallContext::Request, |field| {
                batch_of(catalog, field, records)
            })
            .await
        {
            Ok(a) => a,
            Err(e @ (Error::Db(_) | Error::Internal(_))) => return Err(e),
            Err(e) => return Ok(Err(e.to_string())),
        };
        let mut answer = |r: &Residual| {
            residuals
                .iter()
                .position(|x| std::ptr::eq(*x, r))
                .and_then(|i| answers.get(i))
                .and_then(|a| a.first())
                .copied()
                .unwrap_or(false)
        };
        let mut results = plan
            .conditions
            .iter()
            .map(|p| (p, memory::eval(p, context.record, catalog, &mut answer)));
        Ok(Ok(explain_node(
            checked.root(),
            filter,
            "",
            &mut results,
            catalog,
            context,
        )))
    }
}

/// What every condition of one contact's explanation looks at.
struct Context<'a> {
    record: &'a Record,
    /// Whether the reader sees the contact's company (its name is shown only then).
    company_visible: bool,
    /// Segment names by id.
    names: &'a HashMap<i64, String>,
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// The checked node with its JSON as written, and the conditions' lowered predicates and
/// answers in `Filter::conditions` order (depth first, left to right).
fn explain_node<'p>(
    node: &Node<Checked>,
    json: &Json,
    path: &str,
    results: &mut impl Iterator<Item = (&'p Predicate, bool)>,
    catalog: &Catalog,
    context: &Context<'_>,
) -> ExplainNode {
    let group = |logic: Logic, children: Vec<ExplainNode>| {
        let matched = match logic {
            Logic::And => children.iter().all(ExplainNode::matched),
            Logic::Or => children.iter().any(ExplainNode::matched),
            Logic::Not => !children.iter().all(ExplainNode::matched),
        };
        ExplainNode::Group {
            path: path.to_owned(),
            logic,
            matched,
            children,
        }
    };
    match node {
        Node::And(items) | Node::Or(items) => {
            let logic = if matches!(node, Node::And(_)) {
                Logic::And
            } else {
                Logic::Or
            };
            let written = json.get(logic.as_str()).and_then(Json::as_array);
            let children = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let child_json = written.and_then(|w| w.get(i)).unwrap_or(&Json::Null);
                    let child_path = join(path, &format!("{}[{i}]", logic.as_str()));
                    explain_node(item, child_json, &child_path, results, catalog, context)
                })
                .collect();
            group(logic, children)
        }
        Node::Not(inner) => {
            let child_json = json.get("not").unwrap_or(&Json::Null);
            let child = explain_node(inner, child_json, &join(path, "not"), results, catalog, context);
            group(Logic::Not, vec![child])
        }
        Node::Cond { path, cond } => {
            let (predicate, matched) = results.next().unwrap_or((&Predicate::Never, false));
            let written = |key: &str| json.get(key).and_then(Json::as_str).map(str::trim).map(str::to_owned);
            let (actual, note) = actual(predicate, &cond.field.source, &cond.field, catalog, context);
            ExplainNode::Condition(ConditionExplained {
                path: path.clone(),
                field: written("field").unwrap_or_else(|| cond.field.path.clone()),
                label: cond.field.label.clone(),
                op: written("op").unwrap_or_else(|| format!("{}.{}", cond.plugin, cond.op)),
                value: cond.value.clone(),
                matched,
                actual,
                note,
            })
        }
    }
}

/// The contact's value a condition compared, and a note in words where useful.
fn actual(
    predicate: &Predicate,
    source: &Source,
    spec: &crate::filter::FieldSpec,
    catalog: &Catalog,
    context: &Context<'_>,
) -> (Json, Option<String>) {
    let record = context.record;
    let c = &record.contact;
    match source {
        Source::Extra { key, .. } => (c.fields.get(key).cloned().unwrap_or(Json::Null), None),
        Source::Company if !context.company_visible => (Json::Null, Some("the company is not visible to you".into())),
        Source::Location => (
            json!({
                "latitude": c.latitude,
                "longitude": c.longitude,
                "city": c.city,
                "region": c.region,
                "country": c.country,
            }),
            None,
        ),
        Source::Activity(kind) => activity_summary(predicate, kind, &record.activities),
        Source::Segment => {
            let mut ids = Vec::new();
            segment_ids(predicate, &mut ids);
            let words = |id: &i64| {
                let name = context
                    .names
                    .get(id)
                    .map_or_else(|| format!("segment {id}"), |n| format!("“{n}”"));
                if record.segments.contains(id) {
                    format!("in {name}")
                } else {
                    format!("not in {name}")
                }
            };
            let note = Some(ids.iter().map(words).collect::<Vec<_>>().join(", ")).filter(|n| !n.is_empty());
            match ids.as_slice() {
                [one] => (Json::Bool(record.segments.contains(one)), note),
                _ => (
                    Json::Array(
                        ids.iter()
                            .filter(|id| record.segments.contains(id))
                            .map(|id| json!(id))
                            .collect(),
                    ),
                    note,
                ),
            }
        }
        _ => (to_json(&memory::value(record, spec, catalog)), None),
    }
}

fn to_json(v: &Val<'_>) -> Json {
    match v {
        Val::Null => Json::Null,
        Val::Bool(b) => Json::Bool(*b),
        Val::Num(n) => json!(n),
        Val::Text(t) => Json::String(t.to_string()),
        Val::Date(d) => Json::String(d.format("%Y-%m-%d").to_string()),
        Val::Datetime(t) => Json::String(t.to_rfc3339()),
        Val::List(items) => json!(items),
        Val::Point(lat, lon) => json!({"latitude": lat, "longitude": lon}),
    }
}

/// The segment ids a `segment` condition's predicate names.
fn segment_ids(p: &Predicate, out: &mut Vec<i64>) {
    match p {
        Predicate::InSet { field, values } if field == "segment" => {
            out.extend(values.iter().filter_map(|v| match v {
                Scalar::Integer(id) => Some(*id),
                _ => None,
            }));
        }
        Predicate::And(items) | Predicate::Or(items) => items.iter().for_each(|i| segment_ids(i, out)),
        Predicate::Not(inner) => segment_ids(inner, out),
        _ => {}
    }
}

/// The first activity node of a predicate.
fn activity_node(p: &Predicate) -> Option<&ActivityExists> {
    match p {
        Predicate::Activity(a) => Some(a),
        Predicate::And(items) | Predicate::Or(items) => items.iter().find_map(activity_node),
        Predicate::Not(inner) => activity_node(inner),
        _ => None,
    }
}

/// How many of the contact's activities of `kind` satisfy the condition's window,
/// amount and properties, of how many, and how many it needs.
fn activity_summary(p: &Predicate, kind: &str, activities: &[ActivityFact]) -> (Json, Option<String>) {
    let of_kind: Vec<&ActivityFact> = activities.iter().filter(|f| f.kind == kind).collect();
    let words = kind.replace('_', " ");
    let Some(a) = activity_node(p) else {
        return (
            json!({"total": of_kind.len()}),
            Some(format!(
                "{} {words}{}",
                of_kind.len(),
                if of_kind.len() == 1 { "" } else { "s" }
            )),
        );
    };
    let matching = of_kind
        .iter()
        .filter(|f| a.since.is_none_or(|s| f.occurred_at >= s))
        .filter(|f| a.until.is_none_or(|u| f.occurred_at < u))
        .filter(|f| a.min_amount.is_none_or(|m| f.amount.is_some_and(|x| x >= m)))
        .filter(|f| {
            a.properties
                .iter()
                .all(|(k, v)| memory::property_equals(f.properties.get(k), v))
        })
        .count();
    let total = of_kind.len();
    let note = format!(
        "{matching} of {total} {words}{} {}; at least {} needed",
        if total == 1 { "" } else { "s" },
        if matching == 1 { "qualifies" } else { "qualify" },
        a.min_count
    );
    (
        json!({"matching": matching, "total": total, "needed": a.min_count}),
        Some(note),
    )
}
