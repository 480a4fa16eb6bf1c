//! Scoring a batch of contacts: each parameter's values as one column (a field read from
//! the contacts, or an activity measure in one grouped query), one criterion call per
//! parameter per [`MAX_BATCH`] contacts, the weighted score and its band.
//!
//! The same code scores a write (inside its transaction), a full rescore (one chunk of
//! contacts at a time) and the what-if (a draft over the whole base), so the three can't
//! disagree.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::Value as Json;

use super::model::{Checked, CheckedParameter, Measure, ValueSource, clamp_points};
use crate::Result;
use crate::entities::activities;
use crate::filter::Catalog;
use crate::filter::memory::Record;
use crate::plugin::limits::MAX_BATCH;
use crate::plugin::values::Batch;
use crate::plugin::{CallContext, Registry};

/// One contact's result under one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub contact_id: i64,
    pub score: f64,
    pub band: String,
    /// Each parameter's points (`None` for a disabled one), in the model's order.
    pub points: Vec<Option<f64>>,
}

/// Where a batch is scored: the plugins, the catalogue, the time, the call context.
pub(crate) struct Scorer<'a> {
    pub plugins: &'a Registry,
    pub catalog: &'a Catalog,
    pub now: DateTime<Utc>,
    pub ctx: CallContext,
}

impl Scorer<'_> {
    /// Scores `records` (all of the model's kind) under `model`, reading activity
    /// measures through `db`. A criterion's failure is the error: the caller decides
    /// what it means for the model.
    pub async fn score(&self, db: &impl ConnectionTrait, model: &Checked, records: &[Record]) -> Result<Vec<Scored>> {
        let mut points: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(model.parameters.len()); records.len()];
        // Measures of one activity kind and window, read once for every parameter that
        // uses them (the count, the sum and the latest come from the same query).
        let mut measured: HashMap<(usize, &str, Option<i64>), HashMap<i64, Measured>> = HashMap::new();
        for parameter in &model.parameters {
            if !parameter.enabled {
                for p in &mut points {
                    p.push(None);
                }
                continue;
            }
            let mut row = 0;
            for (n, chunk) in records.chunks(MAX_BATCH).enumerate() {
                let batch = self.values(db, parameter, chunk, n, &mut measured).await?;
                let params = self.params(parameter);
                let answered = self
                    .plugins
                    .score(&parameter.plugin, &parameter.criterion, Some(&params), batch, self.ctx)
                    .await?;
                for value in answered {
                    if let Some(p) = points.get_mut(row) {
                        p.push(Some(clamp_points(value)));
                    }
                    row += 1;
                }
            }
        }
        Ok(records
            .iter()
            .zip(points)
            .map(|(r, points)| {
                let score = model.score_of(&points);
                Scored {
                    contact_id: r.contact.id,
                    score,
                    band: model.band_of(score).to_owned(),
                    points,
                }
            })
            .collect())
    }

    /// The criterion's parameters, with `now` filled when it asks for it.
    fn params(&self, parameter: &CheckedParameter) -> Json {
        let mut params = parameter.params.clone();
        if parameter.wants_now
            && let Json::Object(map) = &mut params
        {
            map.insert("now".into(), Json::from(self.now.timestamp()));
        }
        params
    }

    /// The parameter's values for `records` (chunk `n` of the batch), as the criterion
    /// receives them; activity measures are kept in `measured` for the next parameters.
    async fn values<'p>(
        &self,
        db: &impl ConnectionTrait,
        parameter: &'p CheckedParameter,
        records: &[Record],
        n: usize,
        measured: &mut HashMap<(usize, &'p str, Option<i64>), HashMap<i64, Measured>>,
    ) -> Result<Batch> {
        match &parameter.source {
            ValueSource::Field { field } => Ok(crate::filter::run::batch_of(self.catalog, field, records)),
            ValueSource::Activity {
                activity,
                measure,
                within_days,
            } => {
                let ids: Vec<i64> = records.iter().map(|r| r.contact.id).collect();
                let found = match measured.entry((n, activity.as_str(), *within_days)) {
                    Entry::Occupied(known) => known.into_mut(),
                    Entry::Vacant(slot) => {
                        let since = within_days.map(|d| crate::clock::stored(self.now - chrono::Duration::days(d)));
                        slot.insert(measures(db, activity, &ids, since).await?)
                    }
                };
                Ok(match measure {
                    Measure::Count => Batch::integers(ids.iter().map(|id| Some(found.get(id).map_or(0, |m| m.count)))),
                    Measure::Sum => Batch::numbers(
                        ids.iter()
                            .map(|id| Some(found.get(id).and_then(|m| m.sum).unwrap_or(0.0))),
                    ),
                    #[allow(clippy::cast_precision_loss)]
                    Measure::DaysSinceLast => Batch::numbers(ids.iter().map(|id| {
                        found
                            .get(id)
                            .and_then(|m| m.last)
                            .map(|last| (self.now - last).num_days().max(0) as f64)
                    })),
                })
            }
        }
    }
}

/// What was measured of one contact's activities of a kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measured {
    pub count: i64,
    pub sum: Option<f64>,
    pub last: Option<DateTime<Utc>>,
}

/// `(contact, count, sum, latest)` as the grouped query answers.
type MeasureRow = (i64, i64, Option<f64>, Option<DateTime<Utc>>);

/// Count, sum of amounts and the latest time of `kind` activities of `ids` (since
/// `since`), in one grouped query per 500 contacts (served by the `(kind, contact_id,
/// occurred_at)` index).
pub(crate) async fn measures(
    db: &impl ConnectionTrait,
    kind: &str,
    ids: &[i64],
    since: Option<DateTime<Utc>>,
) -> Result<HashMap<i64, Measured>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut q = activities::Entity::find()
            .select_only()
            .column(activities::Column::ContactId)
            .column_as(Expr::expr(Func::count(Expr::col(activities::Column::Id))), "n")
            .column_as(Expr::expr(Func::sum(Expr::col(activities::Column::Amount))), "total")
            .column_as(Expr::expr(Func::max(Expr::col(activities::Column::OccurredAt))), "last")
            .filter(activities::Column::Kind.eq(kind))
            .filter(activities::Column::ContactId.is_in(chunk.to_vec()))
            .group_by(activities::Column::ContactId);
        if let Some(since) = since {
            q = q.filter(activities::Column::OccurredAt.gte(since));
        }
        let rows: Vec<MeasureRow> = q.into_tuple().all(db).await?;
        for (id, count, sum, last) in rows {
            out.insert(id, Measured { count, sum, last });
        }
    }
    Ok(out)
}
