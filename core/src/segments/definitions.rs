//! Segment definitions: create, list, read, update (rename, a new filter) and delete, with
//! the checks a definition passes (who may change it, its name, its filter through
//! [`super::refs`]) and the rebuild a new filter asks for.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};
use serde_json::Value;

use super::Segments;
use super::refs::segment_refs;
use super::store::lock;
use super::{Segment, SegmentDraft, SegmentKind, SegmentPatch, jobs, require_editor};
use crate::auth::Actor;
use crate::clock::stored;
use crate::entities::{contacts, segment_events, segment_members, segments};
use crate::{Error, Result};

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "a segment needs a name"));
    }
    if name.chars().count() > 200 {
        return Err(Error::invalid("name", "at most 200 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "control characters are not allowed"));
    }
    Ok(name.to_owned())
}

impl Segments {
    pub(super) async fn segment_row(&self, id: i64) -> Result<segments::Model> {
        segments::Entity::find_by_id(id)
            .one(&self.base.db)
            .await?
            .ok_or(Error::NotFound { what: "segment" })
    }

    async fn to_segment(&self, actor: &Actor, m: segments::Model) -> Result<Segment> {
        let count = if actor.is_admin() {
            segment_members::Entity::find()
                .filter(segment_members::Column::SegmentId.eq(m.id))
                .count(&self.base.db)
                .await?
        } else {
            self.contacts
                .count_contacts_where(actor, Self::member_condition(m.id))
                .await?
        };
        Ok(Segment {
            id: m.id,
            name: m.name,
            kind: SegmentKind::parse(&m.kind)?,
            filter: m.filter,
            count,
            status: m.status,
            status_message: m.status_message,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
            progress_done: u64::try_from(m.progress_done).unwrap_or(0),
            progress_total: u64::try_from(m.progress_total).unwrap_or(0),
        })
    }

    async fn name_taken(&self, name: &str, except: Option<i64>) -> Result<()> {
        let mut q = segments::Entity::find().filter(segments::Column::Name.eq(name));
        if let Some(id) = except {
            q = q.filter(segments::Column::Id.ne(id));
        }
        if q.count(&self.base.db).await? > 0 {
            return Err(Error::conflict(format!("a segment called `{name}` already exists")));
        }
        Ok(())
    }

    /// Creates a segment; a dynamic one is built at once.
    pub async fn create_segment(&self, actor: &Actor, draft: SegmentDraft) -> Result<Segment> {
        require_editor(actor)?;
        let name = check_name(&draft.name)?;
        let kind = SegmentKind::parse(&draft.kind)?;
        let (filter, prepared) = match (kind, draft.filter) {
            (SegmentKind::Dynamic, Some(f)) => {
                let prepared = self.prepare_segment_filter(None, &f).await?;
                (Some(f), Some(prepared))
            }
            (SegmentKind::Dynamic, None) => {
                return Err(Error::invalid("filter", "a dynamic segment needs a filter"));
            }
            (SegmentKind::Static, Some(f)) if !Value::is_null(&f) => {
                return Err(Error::invalid("filter", "a static list has no filter"));
            }
            (SegmentKind::Static, _) => (None, None),
        };
        self.name_taken(&name, None).await?;
        let now = stored(self.base.clock.now());
        let status = if prepared.is_some() { "rebuilding" } else { "ok" };
        let model = segments::ActiveModel {
            name: Set(name),
            kind: Set(kind.as_str().to_owned()),
            filter: Set(filter),
            status: Set(status.to_owned()),
            status_message: Set(None),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            version: Set(1),
            progress_done: Set(0),
            progress_total: Set(0),
            lease_until: Set(None),
            ..Default::default()
        }
        .insert(&self.base.db)
        .await?;
        if prepared.is_some() {
            self.build_soon(model.id).await?;
        }
        self.get_segment(actor, model.id).await
    }

    /// Builds segment `id` (already asked for) in this request when the base is small,
    /// otherwise wakes the background worker (see [`jobs`]).
    async fn build_soon(&self, id: i64) -> Result<()> {
        let size = contacts::Entity::find().count(&self.base.db).await?;
        if size <= self.state.inline_limit() {
            self.rebuild_now(id).await?;
        } else {
            self.state.wake.notify_one();
        }
        Ok(())
    }

    /// Every segment, by name (in collation order, [`crate::collation`]).
    pub async fn list_segments(&self, actor: &Actor) -> Result<Vec<Segment>> {
        let mut rows = segments::Entity::find().all(&self.base.db).await?;
        rows.sort_by(|a, b| crate::collation::compare(&a.name, &b.name).then(a.id.cmp(&b.id)));
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            out.push(self.to_segment(actor, m).await?);
        }
        Ok(out)
    }

    /// One segment, with the count of the members `actor` sees.
    pub async fn get_segment(&self, actor: &Actor, id: i64) -> Result<Segment> {
        let m = self.segment_row(id).await?;
        self.to_segment(actor, m).await
    }

    /// Renames a segment or changes a dynamic segment's filter (which rebuilds it).
    pub async fn update_segment(&self, actor: &Actor, id: i64, patch: SegmentPatch) -> Result<Segment> {
        require_editor(actor)?;
        let current = self.segment_row(id).await?;
        let kind = SegmentKind::parse(&current.kind)?;
        let name = patch.name.as_deref().map(check_name).transpose()?;
        if let Some(name) = &name {
            self.name_taken(name, Some(id)).await?;
        }
        let prepared = match (&patch.filter, kind) {
            (Some(Value::Null), SegmentKind::Dynamic) => {
                return Err(Error::invalid("filter", "a dynamic segment needs a filter"));
            }
            (Some(f), SegmentKind::Dynamic) => Some(self.prepare_segment_filter(Some(id), f).await?),
            (Some(f), SegmentKind::Static) if !Value::is_null(f) => {
                return Err(Error::invalid("filter", "a static list has no filter"));
            }
            _ => None,
        };
        let txn = self.base.db.begin().await?;
        let version = current.version;
        let mut active = current.into_active_model();
        if let Some(name) = name {
            active.name = Set(name);
        }
        if prepared.is_some() {
            active.filter = Set(patch.filter.clone());
            // A new definition is built from scratch, also when the old one was broken.
            active.status = Set("rebuilding".to_owned());
            active.status_message = Set(None);
            active.lease_until = Set(None);
            active.progress_done = Set(0);
            active.progress_total = Set(0);
        }
        active.updated_at = Set(stored(self.base.clock.now()));
        active.version = Set(version + 1);
        let result = segments::Entity::update_many()
            .set(active)
            .filter(segments::Column::Id.eq(id))
            .filter(segments::Column::Version.eq(version))
            .exec(&txn)
            .await?;
        if result.rows_affected == 0 {
            return Err(Error::conflict(
                "the segment was changed meanwhile; reload and try again",
            ));
        }
        txn.commit().await?;
        if prepared.is_some() {
            self.build_soon(id).await?;
        }
        self.get_segment(actor, id).await
    }

    /// Deletes a segment with its members and history; refused while another segment's
    /// filter refers to it (that filter would silently become empty).
    pub async fn delete_segment(&self, actor: &Actor, id: i64) -> Result<()> {
        require_editor(actor)?;
        let txn = self.base.db.begin().await?;
        lock(&txn, id).await?;
        let users: Vec<String> = segments::Entity::find()
            .filter(segments::Column::Id.ne(id))
            .filter(segments::Column::Filter.is_not_null())
            .order_by_asc(segments::Column::Name)
            .all(&txn)
            .await?
            .into_iter()
            .filter(|m| {
                let mut to = Vec::new();
                if let Some(f) = &m.filter {
                    segment_refs(f, "", &mut to);
                }
                to.iter().any(|(_, target)| *target == id)
            })
            .map(|m| m.name)
            .collect();
        if !users.is_empty() {
            return Err(Error::conflict(format!(
                "other segments are defined in terms of this one: {}; change them first",
                users.join(", ")
            )));
        }
        segment_events::Entity::delete_many()
            .filter(segment_events::Column::SegmentId.eq(id))
            .exec(&txn)
            .await?;
        segment_members::Entity::delete_many()
            .filter(segment_members::Column::SegmentId.eq(id))
            .exec(&txn)
            .await?;
        let gone = segments::Entity::delete_by_id(id).exec(&txn).await?;
        if gone.rows_affected == 0 {
            return Err(Error::NotFound { what: "segment" });
        }
        txn.commit().await?;
        Ok(())
    }

    /// Rebuilds the dynamic segment `id` from its saved filter (in the background on a
    /// large base).
    pub async fn rebuild_segment(&self, actor: &Actor, id: i64) -> Result<Segment> {
        require_editor(actor)?;
        let m = self.segment_row(id).await?;
        if m.kind != SegmentKind::Dynamic.as_str() {
            return Err(Error::conflict("only a dynamic segment can be rebuilt"));
        }
        jobs::request(&self.base.db, id).await?;
        self.build_soon(id).await?;
        self.get_segment(actor, id).await
    }
}
