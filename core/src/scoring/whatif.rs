//! The what-if: a draft definition scored over the whole base against the saved model's
//! stored scores, before anything is saved. Nothing is written.
//!
//! The draft is scored chunk by chunk outside any transaction (a read of the base as it
//! is, the same code as a rescore: [`super::compute`]); the saved side is what
//! `contact_scores` holds, read in the same chunks. The answer: how many contacts each
//! band holds under each, and who would move between which bands (counts, and the first
//! few names per move).

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use serde_json::Value as Json;

use super::Scoring;
use super::compute::Scorer;
use super::model::{Checked, ModelKind};
use super::read::{Reads, Which, read_records};
use crate::auth::Actor;
use crate::entities::{contact_scores, contacts};
use crate::plugin::CallContext;
use crate::{Error, Result};

/// Contacts scored per round of the what-if.
const CHUNK: u64 = 4096;
/// Names kept per move.
const SAMPLE: usize = 5;

/// A band's count under the saved model and under the draft.
#[derive(Debug, Clone, PartialEq)]
pub struct BandCount {
    pub band: String,
    pub saved: u64,
    pub draft: u64,
}

/// Contacts that would move from one band to another (`from` is `None` for contacts
/// without a saved score).
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub from: Option<String>,
    pub to: String,
    pub count: u64,
    /// The first few, `(id, name)`.
    pub sample: Vec<(i64, String)>,
}

/// The what-if's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    /// Contacts of the model's kind.
    pub total: u64,
    /// Contacts with a stored score under the saved model.
    pub scored_before: u64,
    /// The draft's bands in order, then saved bands the draft no longer has.
    pub bands: Vec<BandCount>,
    /// Moves between different bands, the largest first.
    pub moves: Vec<Move>,
    /// Contacts whose band stays.
    pub unchanged: u64,
    /// The mean score under the draft.
    pub mean_draft: f64,
    pub elapsed_ms: u64,
}

impl Scoring {
    /// Who may try a draft (admins), and the kind it scores: `kind`, else the saved
    /// model's.
    pub(crate) async fn what_if_target(&self, actor: &Actor, kind: &str, against: Option<i64>) -> Result<ModelKind> {
        if !actor.is_admin() {
            return Err(Error::Forbidden("only admins may try scoring models".into()));
        }
        let saved = match against {
            Some(id) => Some(self.model_row(id).await?),
            None => None,
        };
        match (ModelKind::parse(kind), &saved) {
            (Some(k), _) => Ok(k),
            (None, Some(m)) => Ok(ModelKind::parse(&m.kind).unwrap_or(ModelKind::Person)),
            (None, None) => Err(Error::invalid("kind", "expected `person` or `company`")),
        }
    }

    /// Scores `definition` for contacts of `kind` over the whole base, against saved model
    /// `against` (its stored scores) when given. Admins only. `progress(done, total)` is
    /// called after every chunk.
    pub async fn what_if(
        &self,
        actor: &Actor,
        kind: &str,
        definition: &Json,
        against: Option<i64>,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
    ) -> Result<WhatIf> {
        let started = std::time::Instant::now();
        let (kind, checked) = self.prepare_what_if(actor, kind, definition, against).await?;
        self.score_draft(kind, &checked, against, progress, started).await
    }

    /// Who may try the draft, the kind it scores and the draft checked (also by its
    /// criteria): what a what-if refuses before it scores anything.
    pub(crate) async fn prepare_what_if(
        &self,
        actor: &Actor,
        kind: &str,
        definition: &Json,
        against: Option<i64>,
    ) -> Result<(ModelKind, Checked)> {
        let kind = self.what_if_target(actor, kind, against).await?;
        Ok((kind, self.check_with_criteria(definition).await?))
    }

    /// Scores the checked draft over every contact of `kind` (see [`Scoring::what_if`]).
    pub(crate) async fn score_draft(
        &self,
        kind: ModelKind,
        checked: &Checked,
        against: Option<i64>,
        progress: &(dyn Fn(u64, u64) + Send + Sync),
        started: std::time::Instant,
    ) -> Result<WhatIf> {
        let catalog = self.filter.current_catalog().await?;
        let reads = Reads::of(checked, &catalog);
        let total = contacts::Entity::find()
            .filter(contacts::Column::Kind.eq(kind.as_str()))
            .count(&self.base.db)
            .await?;
        progress(0, total);
        let mut saved_counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut draft_counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut moves: BTreeMap<(Option<String>, String), Move> = BTreeMap::new();
        let (mut unchanged, mut scored_before, mut done) = (0u64, 0u64, 0u64);
        let mut sum = 0.0;
        let mut after = 0i64;
        loop {
            let records = read_records(
                &self.base.db,
                &reads,
                Which::After {
                    kind,
                    after,
                    limit: CHUNK,
                },
            )
            .await?;
            let Some(last) = records.last().map(|r| r.contact.id) else {
                break;
            };
            let names: BTreeMap<i64, &str> = records
                .iter()
                .map(|r| (r.contact.id, r.contact.name.as_str()))
                .collect();
            let scorer = Scorer {
                plugins: &self.plugins,
                catalog: &catalog,
                now: self.base.clock.now(),
                ctx: CallContext::Request,
            };
            let scored = scorer.score(&self.base.db, checked, &records).await?;
            let before: BTreeMap<i64, String> = match against {
                Some(model) => contact_scores::Entity::find()
                    .select_only()
                    .column(contact_scores::Column::ContactId)
                    .column(contact_scores::Column::Band)
                    .filter(contact_scores::Column::ModelId.eq(model))
                    .filter(contact_scores::Column::ContactId.gt(after))
                    .filter(contact_scores::Column::ContactId.lte(last))
                    .into_tuple::<(i64, String)>()
                    .all(&self.base.db)
                    .await?
                    .into_iter()
                    .collect(),
                None => BTreeMap::new(),
            };
            for s in &scored {
                sum += s.score;
                *draft_counts.entry(s.band.clone()).or_default() += 1;
                let from = before.get(&s.contact_id).cloned();
                if let Some(b) = &from {
                    scored_before += 1;
                    *saved_counts.entry(b.clone()).or_default() += 1;
                }
                if from.as_deref() == Some(s.band.as_str()) {
                    unchanged += 1;
                    continue;
                }
                let m = moves.entry((from.clone(), s.band.clone())).or_insert_with(|| Move {
                    from,
                    to: s.band.clone(),
                    count: 0,
                    sample: Vec::new(),
                });
                m.count += 1;
                if m.sample.len() < SAMPLE {
                    m.sample.push((
                        s.contact_id,
                        names.get(&s.contact_id).copied().unwrap_or_default().to_owned(),
                    ));
                }
            }
            done += scored.len() as u64;
            progress(done, total.max(done));
            after = last;
        }
        let mut bands: Vec<BandCount> = checked
            .bands
            .iter()
            .map(|b| BandCount {
                band: b.name.clone(),
                saved: saved_counts.remove(&b.name).unwrap_or(0),
                draft: draft_counts.get(&b.name).copied().unwrap_or(0),
            })
            .collect();
        bands.extend(
            saved_counts
                .into_iter()
                .map(|(band, saved)| BandCount { band, saved, draft: 0 }),
        );
        let mut moves: Vec<Move> = moves.into_values().collect();
        moves.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.to.cmp(&b.to)));
        #[allow(clippy::cast_precision_loss)]
        let mean_draft = if done == 0 { 0.0 } else { sum / done as f64 };
        Ok(WhatIf {
            total: done,
            scored_before,
            bands,
            moves,
            unchanged,
            mean_draft: (mean_draft * 100.0).round() / 100.0,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }
}
