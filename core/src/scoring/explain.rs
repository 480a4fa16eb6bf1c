//! A contact's scores, explained: for each model, the score and band as stored, and for
//! each parameter the value it read (now), the points it got (stored with the score), its
//! weight, its share of the score and what it added; and the contact's band changes.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Scoring;
use super::compute::measures;
use super::model::{self, Measure, ValueSource};
use super::upkeep::kind_of;
use crate::Result;
use crate::auth::Actor;
use crate::entities::{contact_scores, score_events, scoring_models};
use crate::filter::memory::{Val, value};

/// One parameter of a contact's score.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterPoints {
    pub label: String,
    /// `plugin.criterion`.
    pub criterion: String,
    /// The value as it reads now (text; empty when the contact has none).
    pub value: String,
    /// Points stored with the score (`None` for a disabled parameter).
    pub points: Option<f64>,
    pub weight: i64,
    pub enabled: bool,
    /// The weight's share of the enabled weights, in percent.
    pub share: f64,
    /// What it added to the score: points × share.
    pub contribution: f64,
}

/// A contact's score under one model.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactScore {
    pub model_id: i64,
    pub model_key: String,
    pub model_name: String,
    /// `ready`, `rescoring` or `needs_attention`: how current the score is.
    pub model_status: String,
    /// `None` when the contact has no score yet.
    pub score: Option<f64>,
    pub band: Option<String>,
    pub computed_at: Option<DateTime<Utc>>,
    pub parameters: Vec<ParameterPoints>,
}

/// A band change in a contact's history.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreChange {
    pub model_id: i64,
    pub model_name: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub score: Option<f64>,
    pub at: DateTime<Utc>,
}

fn text_of(v: &Val<'_>) -> String {
    match v {
        Val::Null => String::new(),
        Val::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        Val::Num(n) => format!("{n}"),
        Val::Text(t) => t.to_string(),
        Val::Date(d) => d.format("%Y-%m-%d").to_string(),
        Val::Datetime(t) => t.format("%Y-%m-%d %H:%M").to_string(),
        Val::List(items) => items.join(", "),
        Val::Point(lat, lon) => format!("{lat}, {lon}"),
    }
}

impl Scoring {
    /// Contact `id`'s scores under every model of its kind, explained (as `actor` may see
    /// the contact).
    pub async fn contact_scores(&self, actor: &Actor, id: i64) -> Result<Vec<ContactScore>> {
        let contact = self.contacts.get_contact(actor, id).await?;
        let kind = kind_of(contact.kind);
        let models = scoring_models::Entity::find()
            .filter(scoring_models::Column::Kind.eq(kind.as_str()))
            .order_by_asc(scoring_models::Column::Id)
            .all(&self.base.db)
            .await?;
        if models.is_empty() {
            return Ok(Vec::new());
        }
        let stored: Vec<contact_scores::Model> = contact_scores::Entity::find()
            .filter(contact_scores::Column::ContactId.eq(id))
            .all(&self.base.db)
            .await?;
        let catalog = self.filter.current_catalog().await?;
        let records = crate::filter::run::records_in(&self.base.db, vec![contact], false).await?;
        let record = records.first();
        let mut out = Vec::new();
        for m in models {
            let row = stored.iter().find(|s| s.model_id == m.id);
            let definition: model::Definition = serde_json::from_value(m.definition.clone()).unwrap_or_default();
            let points: Vec<Option<f64>> = row
                .and_then(|r| serde_json::from_value(r.points.clone()).ok())
                .unwrap_or_default();
            let enabled_weights: i64 = definition
                .parameters
                .iter()
                .filter(|p| p.enabled)
                .map(|p| p.weight)
                .sum();
            let mut parameters = Vec::new();
            for (i, p) in definition.parameters.iter().enumerate() {
                let value = match (&p.source, record) {
                    (ValueSource::Field { field }, Some(r)) => catalog
                        .field(field)
                        .map(|spec| text_of(&value(r, spec, &catalog)))
                        .unwrap_or_default(),
                    (
                        ValueSource::Activity {
                            activity,
                            measure,
                            within_days,
                        },
                        _,
                    ) => {
                        let now = self.base.clock.now();
                        let since = within_days.map(|d| crate::clock::stored(now - chrono::Duration::days(d)));
                        let found = measures(&self.base.db, activity, &[id], since).await?;
                        let m = found.get(&id);
                        match measure {
                            Measure::Count => m.map_or(0, |m| m.count).to_string(),
                            Measure::Sum => format!("{}", m.and_then(|m| m.sum).unwrap_or(0.0)),
                            Measure::DaysSinceLast => m
                                .and_then(|m| m.last)
                                .map(|last| (now - last).num_days().max(0).to_string())
                                .unwrap_or_default(),
                        }
                    }
                    (_, None) => String::new(),
                };
                #[allow(clippy::cast_precision_loss)]
                let share = if p.enabled && enabled_weights > 0 {
                    p.weight as f64 * 100.0 / enabled_weights as f64
                } else {
                    0.0
                };
                let got = points.get(i).copied().flatten();
                parameters.push(ParameterPoints {
                    label: p
                        .label
                        .clone()
                        .unwrap_or_else(|| model::default_label(&p.source, &catalog)),
                    criterion: p.criterion.clone(),
                    value,
                    points: got,
                    weight: p.weight,
                    enabled: p.enabled,
                    share: (share * 10.0).round() / 10.0,
                    contribution: ((got.unwrap_or(0.0) * share / 100.0) * 100.0).round() / 100.0,
                });
            }
            out.push(ContactScore {
                model_id: m.id,
                model_key: m.key,
                model_name: m.name,
                model_status: m.status,
                score: row.map(|r| r.score),
                band: row.map(|r| r.band.clone()),
                computed_at: row.map(|r| r.computed_at),
                parameters,
            });
        }
        Ok(out)
    }

    /// Contact `id`'s scores as `(model key, score, band)`, by model (the caller has
    /// checked that the contact is visible).
    pub async fn score_summary(&self, id: i64) -> Result<Vec<(String, f64, String)>> {
        let keys: std::collections::HashMap<i64, String> = scoring_models::Entity::find()
            .select_only()
            .column(scoring_models::Column::Id)
            .column(scoring_models::Column::Key)
            .into_tuple::<(i64, String)>()
            .all(&self.base.db)
            .await?
            .into_iter()
            .collect();
        Ok(contact_scores::Entity::find()
            .filter(contact_scores::Column::ContactId.eq(id))
            .order_by_asc(contact_scores::Column::ModelId)
            .all(&self.base.db)
            .await?
            .into_iter()
            .filter_map(|s| Some((keys.get(&s.model_id)?.clone(), s.score, s.band)))
            .collect())
    }

    /// Contact `id`'s band changes, newest first (as `actor` may see the contact).
    pub async fn score_history(&self, actor: &Actor, id: i64, limit: u64) -> Result<Vec<ScoreChange>> {
        self.contacts.get_contact(actor, id).await?;
        let names: std::collections::HashMap<i64, String> = scoring_models::Entity::find()
            .select_only()
            .column(scoring_models::Column::Id)
            .column(scoring_models::Column::Name)
            .into_tuple::<(i64, String)>()
            .all(&self.base.db)
            .await?
            .into_iter()
            .collect();
        Ok(score_events::Entity::find()
            .filter(score_events::Column::ContactId.eq(id))
            .order_by_desc(score_events::Column::At)
            .order_by_desc(score_events::Column::Id)
            .limit(limit)
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(|e| ScoreChange {
                model_name: names.get(&e.model_id).cloned().unwrap_or_default(),
                model_id: e.model_id,
                from: e.from_band,
                to: e.to_band,
                score: e.score,
                at: e.at,
            })
            .collect())
    }
}
