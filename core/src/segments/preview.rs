//! What saving a dynamic segment's filter would do: its count, and who would join and
//! who would leave compared with the saved members.
//!
//! Like membership, the filter is about the whole base; like every read, the answer shows
//! only the contacts the reader may see. Nothing is written.
//!
//! Without residuals the engine's condition is exact, and each number is one `COUNT(*)`:
//! joining is `condition AND id NOT IN (members)`, leaving is
//! `id IN (members) AND id NOT IN (SELECT id FROM contacts WHERE condition)` (not
//! `NOT condition`, which SQL's three-valued logic would make miss the contacts whose
//! value is null). With residuals the condition is a superset: the filter's candidate
//! walk ([`crate::filter::walk`]) decides the visible candidates by id in chunks, as a
//! rebuild does, and each chunk's saved members are read with one query; the members
//! outside the superset are leaving without asking a plugin.

use std::collections::HashSet;

use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;

use super::Segments;
use super::{SegmentKind, contact_id, matching, members_of};
use crate::auth::Actor;
use crate::contacts::visibility::{self, Access};
use crate::entities::{contacts, segment_members, segments};
use crate::filter::{Prepared, Walk};
use crate::{Error, Result};

/// How many names a preview shows of those joining and of those leaving.
pub const SAMPLE: usize = 10;

/// A contact named in a preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

/// Contacts that would join, or leave: how many, and the first few by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Change {
    pub count: u64,
    /// At most [`SAMPLE`], by name then id.
    pub sample: Vec<Named>,
}

/// What saving a filter would do, as the reader sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    /// How many contacts the filter holds.
    pub count: u64,
    /// Held by the filter, not saved members.
    pub joining: Change,
    /// Saved members the filter no longer holds.
    pub leaving: Change,
}

/// Adds `named` to a sample kept to the first [`SAMPLE`] by name, then id.
fn keep(sample: &mut Vec<Named>, named: Named) {
    sample.push(named);
    sample.sort_by(|a, b| crate::collation::compare(&a.name, &b.name).then(a.id.cmp(&b.id)));
    sample.truncate(SAMPLE);
}

impl Segments {
    /// What saving `filter` as the filter of `segment` (a new segment when `None`) would
    /// do: the count, and who would join and leave compared with its saved members.
    ///
    /// Errors: a bad filter at `filter.<node>` (a reference to a missing segment, or one
    /// that leads back to `segment`, too); `segment_id` when `segment` is not a dynamic
    /// segment.
    pub async fn preview_segment(&self, actor: &Actor, segment: Option<i64>, filter: &Value) -> Result<Preview> {
        if let Some(id) = segment {
            let row = segments::Entity::find_by_id(id)
                .one(&self.base.db)
                .await?
                .ok_or_else(|| Error::invalid("segment_id", format!("no segment {id}")))?;
            if SegmentKind::parse(&row.kind)? != SegmentKind::Dynamic {
                return Err(Error::invalid(
                    "segment_id",
                    format!("segment {id} is a static list; only a dynamic segment has a filter"),
                ));
            }
        }
        // As the actor sees the base (a condition on `company` reads only the companies they
        // may see), like the contacts list: a preview is not an oracle for hidden records.
        let prepared = self.prepare_segment_filter(segment, filter).await?.seen_by(actor);
        if prepared.has_residual() {
            self.preview_by_walk(actor, segment, &prepared).await
        } else {
            self.preview_exact(actor, segment, &prepared).await
        }
    }

    /// The preview of a filter whose condition is exact in SQL.
    async fn preview_exact(&self, actor: &Actor, segment: Option<i64>, prepared: &Prepared) -> Result<Preview> {
        let condition = prepared.condition(self.base.db.get_database_backend());
        let count = self.contacts.count_contacts_where(actor, condition.clone()).await?;
        let Some(id) = segment else {
            return Ok(Preview {
                count,
                joining: self.change(actor, condition).await?,
                leaving: Change::default(),
            });
        };
        let joining = condition.clone().add(contact_id().not_in_subquery(members_of(id)));
        let leaving = Condition::all()
            .add(contact_id().in_subquery(members_of(id)))
            .add(contact_id().not_in_subquery(matching(condition)));
        Ok(Preview {
            count,
            joining: self.change(actor, joining).await?,
            leaving: self.change(actor, leaving).await?,
        })
    }

    /// How many visible contacts satisfy `condition`, and the first few by name.
    async fn change(&self, actor: &Actor, condition: Condition) -> Result<Change> {
        let count = self.contacts.count_contacts_where(actor, condition.clone()).await?;
        let sample = if count == 0 {
            Vec::new()
        } else {
            self.sample(actor, condition).await?
        };
        Ok(Change { count, sample })
    }

    /// The first [`SAMPLE`] visible contacts satisfying `condition`, by name (in collation
    /// order, [`crate::collation`]) then id.
    async fn sample(&self, actor: &Actor, condition: Condition) -> Result<Vec<Named>> {
        let rows: Vec<(i64, String)> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(visibility::condition(actor, Access::Read))
            .filter(condition)
            .order_by_asc(contacts::Column::NameSort)
            .order_by_asc(contacts::Column::Id)
            .limit(SAMPLE as u64)
            .into_tuple()
            .all(&self.base.db)
            .await?;
        Ok(rows.into_iter().map(|(id, name)| Named { id, name }).collect())
    }

    /// The preview of a filter with residuals: the superset's candidates are decided in
    /// chunks; saved members outside the superset are leaving.
    async fn preview_by_walk(&self, actor: &Actor, segment: Option<i64>, prepared: &Prepared) -> Result<Preview> {
        let superset = prepared.condition(self.base.db.get_database_backend());
        let mut preview = match segment {
            Some(id) => Preview {
                leaving: self
                    .change(
                        actor,
                        Condition::all()
                            .add(contact_id().in_subquery(members_of(id)))
                            .add(contact_id().not_in_subquery(matching(superset.clone()))),
                    )
                    .await?,
                ..Preview::default()
            },
            None => Preview::default(),
        };
        let candidates = Condition::all()
            .add(visibility::condition(actor, Access::Read))
            .add(superset);
        let mut walk = Walk::by_id(&self.filter, prepared, candidates);
        while let Some(chunk) = walk.next().await? {
            let saved: HashSet<i64> = match segment {
                Some(id) => segment_members::Entity::find()
                    .select_only()
                    .column(segment_members::Column::ContactId)
                    .filter(segment_members::Column::SegmentId.eq(id))
                    .filter(segment_members::Column::ContactId.is_in(chunk.ids.clone()))
                    .into_tuple::<i64>()
                    .all(&self.base.db)
                    .await?
                    .into_iter()
                    .collect(),
                None => HashSet::new(),
            };
            for (contact, matches) in chunk.into_contacts() {
                let member = saved.contains(&contact.id);
                let named = || Named {
                    id: contact.id,
                    name: contact.name.clone(),
                };
                if matches {
                    preview.count += 1;
                }
                if matches && !member {
                    preview.joining.count += 1;
                    keep(&mut preview.joining.sample, named());
                } else if !matches && member {
                    preview.leaving.count += 1;
                    keep(&mut preview.leaving.sample, named());
                }
            }
        }
        Ok(preview)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(id: i64, name: &str) -> Named {
        Named { id, name: name.into() }
    }

    #[test]
    fn a_sample_keeps_the_first_names() {
        let mut sample = Vec::new();
        for i in (0..25).rev() {
            keep(&mut sample, named(i, &format!("n{i:02}")));
        }
        keep(&mut sample, named(99, "n03"));
        let names: Vec<(i64, &str)> = sample.iter().map(|n| (n.id, n.name.as_str())).collect();
        assert_eq!(
            names,
            [
                (0, "n00"),
                (1, "n01"),
                (2, "n02"),
                (3, "n03"),
                (99, "n03"),
                (4, "n04"),
                (5, "n05"),
                (6, "n06"),
                (7, "n07"),
                (8, "n08")
            ]
        );
    }
}
