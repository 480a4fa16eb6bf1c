//! Reading a segment's members (a page of the contacts `actor` sees) and changing the
//! members of a static list by hand.

use std::collections::HashSet;

use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};

use super::Segments;
use super::store::{contact_id, lock, members_of, record};
use super::{Rebuilt, SegmentKind, require_editor};
use crate::auth::Actor;
use crate::clock::stored;
use crate::contacts::visibility::{self, Access};
use crate::contacts::{Contact, Page};
use crate::entities::{contacts, segment_members, segments};
use crate::filter::ContactQuery;
use crate::{Error, Result};

impl Segments {
    /// Visible members of `id`, as a condition on `contacts`.
    pub(super) fn member_condition(id: i64) -> Condition {
        Condition::all().add(contact_id().in_subquery(members_of(id)))
    }

    /// A page of the members of segment `id` that `actor` sees that match `query`, like
    /// the contacts table.
    pub async fn segment_members(&self, actor: &Actor, id: i64, query: &ContactQuery) -> Result<Page<Contact>> {
        self.segment_row(id).await?;
        self.filter
            .query_contacts_within(actor, query, Self::member_condition(id))
            .await
    }

    /// The static list `id`, for a change of its members by `actor`.
    pub(super) async fn static_list(&self, actor: &Actor, id: i64) -> Result<segments::Model> {
        require_editor(actor)?;
        let m = self.segment_row(id).await?;
        if SegmentKind::parse(&m.kind)? != SegmentKind::Static {
            return Err(Error::conflict(
                "a dynamic segment's members follow its filter; change the filter instead",
            ));
        }
        Ok(m)
    }

    /// Checks that every id is a contact `actor` sees (errors at `contact_ids[i]`).
    async fn visible_ids(&self, actor: &Actor, ids: &[i64]) -> Result<Vec<i64>> {
        let mut unique: Vec<i64> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let mut seen = HashSet::with_capacity(unique.len());
        for chunk in unique.chunks(500) {
            let rows: Vec<i64> = contacts::Entity::find()
                .select_only()
                .column(contacts::Column::Id)
                .filter(visibility::condition(actor, Access::Read))
                .filter(contacts::Column::Id.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&self.base.db)
                .await?;
            seen.extend(rows);
        }
        if let Some((i, id)) = ids.iter().enumerate().find(|(_, id)| !seen.contains(id)) {
            return Err(Error::invalid(format!("contact_ids[{i}]"), format!("no contact {id}")));
        }
        Ok(unique)
    }

    /// Adds contacts to the static list `id`; those already in it stay as they were.
    pub async fn add_segment_members(&self, actor: &Actor, id: i64, ids: &[i64]) -> Result<Rebuilt> {
        self.static_list(actor, id).await?;
        let ids = self.visible_ids(actor, ids).await?;
        let now = stored(self.base.clock.now());
        let txn = self.base.db.begin().await?;
        lock(&txn, id).await?;
        let mut present = HashSet::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<i64> = segment_members::Entity::find()
                .select_only()
                .column(segment_members::Column::ContactId)
                .filter(segment_members::Column::SegmentId.eq(id))
                .filter(segment_members::Column::ContactId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&txn)
                .await?;
            present.extend(rows);
        }
        let joined: Vec<i64> = ids.into_iter().filter(|c| !present.contains(c)).collect();
        record(&txn, id, &joined, &[], now).await?;
        txn.commit().await?;
        Ok(Rebuilt {
            joined: joined.len() as u64,
            left: 0,
        })
    }

    /// Removes contacts from the static list `id`.
    pub async fn remove_segment_members(&self, actor: &Actor, id: i64, ids: &[i64]) -> Result<Rebuilt> {
        self.static_list(actor, id).await?;
        let ids = self.visible_ids(actor, ids).await?;
        let now = stored(self.base.clock.now());
        let txn = self.base.db.begin().await?;
        lock(&txn, id).await?;
        let mut present = Vec::new();
        for chunk in ids.chunks(500) {
            let rows: Vec<i64> = segment_members::Entity::find()
                .select_only()
                .column(segment_members::Column::ContactId)
                .filter(segment_members::Column::SegmentId.eq(id))
                .filter(segment_members::Column::ContactId.is_in(chunk.to_vec()))
                .into_tuple()
                .all(&txn)
                .await?;
            present.extend(rows);
        }
        record(&txn, id, &[], &present, now).await?;
        txn.commit().await?;
        Ok(Rebuilt {
            joined: 0,
            left: present.len() as u64,
        })
    }
}
