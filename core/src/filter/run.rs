//! Running a lowered filter: preparing it, deciding candidates, and the in-memory
//! evaluation.
//!
//! A predicate without residuals is one condition added to the contacts query (the same
//! query the unfiltered table runs, with visibility and keyset paging), so a count is a
//! `COUNT(*)` and a page is an index walk ([`super::query`]).
//!
//! With residuals, the statement returns a superset (see `super::sql`), whose candidates
//! the walk ([`super::walk`]) hands here a chunk at a time. The runner splits the
//! predicate into a *skeleton*: the root's residual-free conjuncts are exact in SQL and
//! drop out; what remains is AND/OR/NOT over residuals and "known" residual-free
//! subtrees. For each chunk of candidates it asks the database which candidates satisfy
//! each known subtree (`id IN (chunk) AND subtree`), asks each residual's plugin once for
//! the whole chunk (one columnar `matches` call per residual), and evaluates the skeleton.

use std::collections::HashSet;

use sea_orm::sea_query::{Condition, Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::FilterEngine;
use super::catalog::Catalog;
use super::memory::{Record, Val, value};
use super::sql::Builder;
use super::tree::{Filter, Plan};
use crate::Result;
use crate::auth::Actor;
use crate::contacts::Contact;
use crate::contacts::visibility::{self, Access};
use crate::entities::{contact_scores, contacts, segment_members};
use crate::plugin::CallContext;
use crate::plugin::ir::{Predicate, Residual};
use crate::plugin::values::{Batch, FieldKind};

/// A checked, lowered filter with the catalogue it was checked against.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub catalog: Catalog,
    pub plan: Plan,
    /// Whose sight conditions on related records (`company`) are limited to; `None` reads
    /// the whole base, as segment membership does (see `super::sql`). The runners that
    /// answer an actor ([`FilterEngine::query_contacts`], [`FilterEngine::count_query`]) set it.
    pub viewer: Option<Actor>,
}

impl Prepared {
    /// The same filter, as `actor` sees the base.
    pub fn seen_by(&self, actor: &Actor) -> Prepared {
        Prepared {
            viewer: Some(actor.clone()),
            ..self.clone()
        }
    }

    /// Whether part of the filter runs in a plugin after the database.
    pub fn has_residual(&self) -> bool {
        self.plan.predicate.has_residual()
    }

    /// The condition the database runs (exact without residuals, a superset with).
    pub fn condition(&self, backend: sea_orm::DbBackend) -> Condition {
        self.condition_of(&self.plan.predicate, backend)
    }

    /// The condition of another predicate over the same catalogue and viewer (the
    /// boundary of [`super::boundary::moved`]).
    pub fn condition_of(&self, predicate: &Predicate, backend: sea_orm::DbBackend) -> Condition {
        let builder = Builder {
            backend,
            catalog: &self.catalog,
            viewer: self.viewer.as_ref(),
        };
        match predicate {
            Predicate::Always => Condition::all(),
            p => Condition::all().add(builder.condition(p)),
        }
    }
}

/// The residual part of a predicate.
#[derive(Debug)]
enum Skeleton {
    Known(usize),
    Residual(usize),
    And(Vec<Skeleton>),
    Or(Vec<Skeleton>),
    Not(Box<Skeleton>),
}

#[derive(Debug, Default)]
struct Split<'a> {
    known: Vec<&'a Predicate>,
    residuals: Vec<&'a Residual>,
}

impl<'a> Split<'a> {
    fn node(&mut self, p: &'a Predicate) -> Skeleton {
        if !p.has_residual() {
            self.known.push(p);
            return Skeleton::Known(self.known.len() - 1);
        }
        match p {
            Predicate::Residual(r) => {
                self.residuals.push(r);
                Skeleton::Residual(self.residuals.len() - 1)
            }
            Predicate::And(items) => Skeleton::And(items.iter().map(|i| self.node(i)).collect()),
            Predicate::Or(items) => Skeleton::Or(items.iter().map(|i| self.node(i)).collect()),
            Predicate::Not(inner) => Skeleton::Not(Box::new(self.node(inner))),
            _ => Skeleton::And(Vec::new()),
        }
    }

    /// The skeleton of the root: its residual-free conjuncts are exact in SQL.
    fn root(&mut self, p: &'a Predicate) -> Skeleton {
        match p {
            Predicate::And(items) => Skeleton::And(
                items
                    .iter()
                    .filter(|i| i.has_residual())
                    .map(|i| self.node(i))
                    .collect(),
            ),
            other => self.node(other),
        }
    }
}

fn decide(s: &Skeleton, row: usize, id: i64, known: &[HashSet<i64>], answers: &[Vec<bool>]) -> bool {
    match s {
        Skeleton::Known(i) => known.get(*i).is_some_and(|set| set.contains(&id)),
        Skeleton::Residual(i) => answers.get(*i).and_then(|a| a.get(row)).copied().unwrap_or(false),
        Skeleton::And(items) => items.iter().all(|i| decide(i, row, id, known, answers)),
        Skeleton::Or(items) => items.iter().any(|i| decide(i, row, id, known, answers)),
        Skeleton::Not(inner) => !decide(inner, row, id, known, answers),
    }
}

/// The values of `field` for a batch call.
pub fn batch_of(catalog: &Catalog, field: &str, records: &[Record]) -> Batch {
    let Some(spec) = catalog.field(field) else {
        return Batch::texts(records.iter().map(|_| None));
    };
    let values: Vec<Val<'_>> = records.iter().map(|r| value(r, spec, catalog)).collect();
    match spec.kind {
        FieldKind::Location | FieldKind::Geo => Batch::points(values.iter().map(|v| match v {
            Val::Point(lat, lon) => Some((*lat, *lon)),
            _ => None,
        })),
        FieldKind::Number | FieldKind::Money => Batch::numbers(values.iter().map(|v| match v {
            Val::Num(n) => Some(*n),
            _ => None,
        })),
        #[allow(clippy::cast_possible_truncation)]
        FieldKind::Integer | FieldKind::Datetime => Batch::integers(values.iter().map(|v| match v {
            Val::Num(n) => Some(*n as i64),
            Val::Datetime(t) => Some(t.timestamp()),
            _ => None,
        })),
        FieldKind::Boolean => Batch::booleans(values.iter().map(|v| match v {
            Val::Bool(b) => Some(*b),
            _ => None,
        })),
        _ => {
            let texts: Vec<Option<String>> = values
                .iter()
                .map(|v| match v {
                    Val::Text(t) => Some(t.to_string()),
                    Val::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
                    Val::List(items) => Some(items.join(",")),
                    _ => None,
                })
                .collect();
            Batch::texts(texts.iter().map(Option::as_deref))
        }
    }
}

impl FilterEngine {
    /// Parses, checks and lowers filter JSON (`null` or `{}`: every contact).
    ///
    /// Errors: [`crate::Error::Validation`] with the path of the bad node
    /// (`and[1].or[0].value: expected a number`), [`crate::Error::Plugin`] when a plugin
    /// fails.
    pub async fn prepare_filter(&self, filter: &serde_json::Value) -> Result<Prepared> {
        let catalog = self.filter_catalog().await?;
        self.prepare_with(filter, catalog).await
    }

    /// [`FilterEngine::prepare_filter`] with a catalogue already loaded.
    pub async fn prepare_with(&self, filter: &serde_json::Value, catalog: Catalog) -> Result<Prepared> {
        self.prepare_at(filter, catalog, self.base.clock.now()).await
    }

    /// [`FilterEngine::prepare_with`], with time-relative operators resolved against `now`.
    pub async fn prepare_at(
        &self,
        filter: &serde_json::Value,
        catalog: Catalog,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Prepared> {
        self.prepare_in(filter, catalog, now, CallContext::Request).await
    }

    /// [`FilterEngine::prepare_at`], calling the plugins from `ctx` (inside a contact write, for
    /// segment upkeep).
    pub(crate) async fn prepare_in(
        &self,
        filter: &serde_json::Value,
        catalog: Catalog,
        now: chrono::DateTime<chrono::Utc>,
        ctx: CallContext,
    ) -> Result<Prepared> {
        let text = filter.to_string();
        if let Some(plan) = self.plans.get(&text, &catalog, now) {
            return Ok(Prepared {
                catalog,
                plan,
                viewer: None,
            });
        }
        let checked = Filter::<super::tree::Unchecked>::parse(filter)?.check(&catalog)?;
        let plan = checked.lower(&self.plugins, &catalog, now, ctx).await?;
        self.plans.put(text, &catalog, &plan);
        Ok(Prepared {
            catalog,
            plan,
            viewer: None,
        })
    }

    /// For candidates the superset condition returned: which match exactly.
    pub(crate) async fn decide_candidates(&self, prepared: &Prepared, candidates: &[Contact]) -> Result<Vec<bool>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = candidates.iter().map(|c| c.id).collect();
        let records = records_seen(&self.base.db, candidates.to_vec(), false, prepared.viewer.as_ref()).await?;
        self.decide_rows(prepared, &ids, |field| batch_of(&prepared.catalog, field, &records))
            .await
    }

    /// For candidate `ids`: which match exactly, given the values of each residual's field
    /// (`batch(field)`, one value per id, in order).
    pub(crate) async fn decide_rows(
        &self,
        prepared: &Prepared,
        ids: &[i64],
        batch: impl Fn(&str) -> Batch,
    ) -> Result<Vec<bool>> {
        let mut split = Split::default();
        let skeleton = split.root(&prepared.plan.predicate);
        let builder = Builder {
            backend: self.base.db.get_database_backend(),
            catalog: &prepared.catalog,
            viewer: prepared.viewer.as_ref(),
        };
        let mut known = Vec::with_capacity(split.known.len());
        for p in &split.known {
            let rows: Vec<i64> = contacts::Entity::find()
                .select_only()
                .column(contacts::Column::Id)
                .filter(Expr::col((contacts::Entity, contacts::Column::Id)).is_in(ids.to_vec()))
                .filter(builder.condition(p))
                .into_tuple()
                .all(&self.base.db)
                .await?;
            known.push(rows.into_iter().collect::<HashSet<i64>>());
        }
        let answers = self
            .residual_answers(&split.residuals, CallContext::Request, batch)
            .await?;
        Ok(ids
            .iter()
            .enumerate()
            .map(|(row, id)| decide(&skeleton, row, *id, &known, &answers))
            .collect())
    }

    /// Each residual's plugin answers, one `matches` call per residual over the batch of
    /// its field's values, called from `ctx`.
    pub(crate) async fn residual_answers(
        &self,
        residuals: &[&Residual],
        ctx: CallContext,
        batch: impl Fn(&str) -> Batch,
    ) -> Result<Vec<Vec<bool>>> {
        let mut answers = Vec::with_capacity(residuals.len());
        for r in residuals {
            answers.push(
                self.plugins
                    .matches(&r.plugin, &r.op, r.args.as_ref(), batch(&r.field), ctx)
                    .await?,
            );
        }
        Ok(answers)
    }

    /// Records for the evaluator: each contact with its company's name and, when
    /// `activities`, its activities.
    pub async fn records_of(&self, contacts_: Vec<Contact>, activities: bool) -> Result<Vec<Record>> {
        records_in(&self.base.db, contacts_, activities).await
    }

    /// Evaluates `prepared` in memory over `records` (residuals asked in one batch each).
    pub async fn evaluate_in_memory(&self, prepared: &Prepared, records: &[Record]) -> Result<Vec<bool>> {
        self.evaluate_in(prepared, records, CallContext::Request).await
    }

    /// [`FilterEngine::evaluate_in_memory`], calling the plugins from `ctx` (inside a contact
    /// write, for segment upkeep).
    pub(crate) async fn evaluate_in(
        &self,
        prepared: &Prepared,
        records: &[Record],
        ctx: CallContext,
    ) -> Result<Vec<bool>> {
        let predicate = &prepared.plan.predicate;
        let residuals = predicate.residuals();
        let answers = self
            .residual_answers(&residuals, ctx, |field| batch_of(&prepared.catalog, field, records))
            .await?;
        Ok(records
            .iter()
            .enumerate()
            .map(|(row, record)| {
                let mut answer = |r: &Residual| {
                    residuals
                        .iter()
                        .position(|x| std::ptr::eq(*x, r))
                        .and_then(|i| answers.get(i))
                        .and_then(|a| a.get(row))
                        .copied()
                        .unwrap_or(false)
                };
                super::memory::eval(predicate, record, &prepared.catalog, &mut answer)
            })
            .collect())
    }
}

/// [`FilterEngine::records_of`] read through `db` (a transaction sees its own uncommitted writes).
pub(crate) async fn records_in(
    db: &impl sea_orm::ConnectionTrait,
    contacts_: Vec<Contact>,
    activities: bool,
) -> Result<Vec<Record>> {
    records_seen(db, contacts_, activities, None).await
}

/// Records of `contacts_` with their company's name only (no activities, memberships or
/// scores): what reading a field's values needs (scoring).
pub(crate) async fn records_for_values(
    db: &impl sea_orm::ConnectionTrait,
    contacts_: Vec<Contact>,
) -> Result<Vec<Record>> {
    let names = company_names(db, &contacts_, None).await?;
    Ok(contacts_
        .into_iter()
        .map(|contact| Record {
            company_name: contact.company_id.and_then(|id| names.get(&id).cloned()),
            activities: Vec::new(),
            segments: Vec::new(),
            scores: Vec::new(),
            contact,
        })
        .collect())
}

/// The names of the companies of `contacts_`, as `viewer` may see them (all without one).
async fn company_names(
    db: &impl sea_orm::ConnectionTrait,
    contacts_: &[Contact],
    viewer: Option<&Actor>,
) -> Result<std::collections::HashMap<i64, String>> {
    let company_ids: Vec<i64> = contacts_.iter().filter_map(|c| c.company_id).collect();
    if company_ids.is_empty() {
        return Ok(Default::default());
    }
    let mut names = std::collections::HashMap::new();
    for chunk in company_ids.chunks(1000) {
        let mut companies = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(contacts::Column::Id.is_in(chunk.to_vec()));
        if let Some(viewer) = viewer {
            companies = companies.filter(visibility::condition(viewer, Access::Read));
        }
        names.extend(companies.into_tuple::<(i64, String)>().all(db).await?);
    }
    Ok(names)
}

/// [`records_in`] as `viewer` sees the base: a company they can't see has no name, as in
/// SQL (see `super::sql`).
async fn records_seen(
    db: &impl sea_orm::ConnectionTrait,
    contacts_: Vec<Contact>,
    activities: bool,
    viewer: Option<&Actor>,
) -> Result<Vec<Record>> {
    use crate::entities::activities as act;
    let names = company_names(db, &contacts_, viewer).await?;
    let mut facts: std::collections::HashMap<i64, Vec<super::memory::ActivityFact>> = Default::default();
    if activities && !contacts_.is_empty() {
        let ids: Vec<i64> = contacts_.iter().map(|c| c.id).collect();
        for rows in ids.chunks(500) {
            for a in act::Entity::find()
                .filter(act::Column::ContactId.is_in(rows.to_vec()))
                .all(db)
                .await?
            {
                facts
                    .entry(a.contact_id)
                    .or_default()
                    .push(super::memory::ActivityFact {
                        kind: a.kind,
                        occurred_at: a.occurred_at,
                        amount: a.amount,
                        properties: match a.properties {
                            serde_json::Value::Object(m) => m,
                            _ => Default::default(),
                        },
                    });
            }
        }
    }
    let mut memberships: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    let ids: Vec<i64> = contacts_.iter().map(|c| c.id).collect();
    for rows in ids.chunks(500) {
        let pairs: Vec<(i64, i64)> = segment_members::Entity::find()
            .select_only()
            .column(segment_members::Column::ContactId)
            .column(segment_members::Column::SegmentId)
            .filter(segment_members::Column::ContactId.is_in(rows.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        for (contact, segment) in pairs {
            memberships.entry(contact).or_default().push(segment);
        }
    }
    let mut scores: std::collections::HashMap<i64, Vec<(i64, f64, String)>> = Default::default();
    for rows in ids.chunks(500) {
        let found: Vec<(i64, i64, f64, String)> = contact_scores::Entity::find()
            .select_only()
            .column(contact_scores::Column::ContactId)
            .column(contact_scores::Column::ModelId)
            .column(contact_scores::Column::Score)
            .column(contact_scores::Column::Band)
            .filter(contact_scores::Column::ContactId.is_in(rows.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        for (contact, model, score, band) in found {
            scores.entry(contact).or_default().push((model, score, band));
        }
    }
    Ok(contacts_
        .into_iter()
        .map(|contact| Record {
            scores: scores.remove(&contact.id).unwrap_or_default(),
            company_name: contact.company_id.and_then(|id| names.get(&id).cloned()),
            activities: facts.remove(&contact.id).unwrap_or_default(),
            segments: memberships.remove(&contact.id).unwrap_or_default(),
            contact,
        })
        .collect())
}
