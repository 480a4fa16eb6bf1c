//! How many contacts each band of a model holds, as stored in `contact_scores`: the
//! models' list shows it.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Scoring;
use crate::Result;
use crate::entities::contact_scores;

impl Scoring {
    /// The stored scores of model `id` per band: the definition's bands from the lowest,
    /// each with its count (0 when empty), then any band the scores still name that the
    /// definition no longer has (until the rescore after a change ends). Every contact
    /// counts, whoever may see it: for admins' pages.
    pub async fn band_counts(&self, model_id: i64) -> Result<Vec<(String, u64)>> {
        let model = self.get_model(model_id).await?;
        let stored: Vec<(String, i64)> = contact_scores::Entity::find()
            .select_only()
            .column(contact_scores::Column::Band)
            .column_as(contact_scores::Column::ContactId.count(), "n")
            .filter(contact_scores::Column::ModelId.eq(model_id))
            .group_by(contact_scores::Column::Band)
            .into_tuple()
            .all(&self.base.db)
            .await?;
        let mut counts: BTreeMap<String, u64> = stored
            .into_iter()
            .map(|(band, n)| (band, u64::try_from(n).unwrap_or(0)))
            .collect();
        let mut bands = model.definition.bands;
        bands.sort_by(|a, b| a.from.total_cmp(&b.from));
        let mut out: Vec<(String, u64)> = bands
            .into_iter()
            .map(|b| {
                let name = b.name.trim().to_owned();
                let n = counts.remove(&name).unwrap_or(0);
                (name, n)
            })
            .collect();
        out.extend(counts);
        Ok(out)
    }
}
