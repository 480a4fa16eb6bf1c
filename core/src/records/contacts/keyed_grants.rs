//! Access grants a job gives, written with their effect key `(job_id, contact_id,
//! effect_index)` so a batch committed twice grants once. One grant by hand is
//! [`super::Contacts::grant_access`]; revoking deletes the rows of a principal.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{Access, Grantee};
use crate::Result;
use crate::clock::stored;
use crate::entities::grants;

/// A grant a job gives.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedGrant {
    pub job_id: i64,
    pub contact_id: i64,
    pub effect_index: i32,
    pub grantee: Grantee,
    pub level: Access,
}

fn principal(grantee: &Grantee) -> (Option<i64>, Option<String>) {
    match grantee {
        Grantee::User(user) => (Some(*user), None),
        Grantee::Role(role) => (None, Some(role.as_str().to_owned())),
    }
}

/// Writes the grants, skipping those whose effect key is already there: the number written.
pub async fn insert_keyed(conn: &impl ConnectionTrait, rows: Vec<KeyedGrant>, now: DateTime<Utc>) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let now = stored(now);
    let models = rows.into_iter().map(|g| {
        let (user_id, role) = principal(&g.grantee);
        grants::ActiveModel {
            contact_id: Set(g.contact_id),
            user_id: Set(user_id),
            role: Set(role),
            level: Set(g.level.as_str().to_owned()),
            created_at: Set(now),
            job_id: Set(Some(g.job_id)),
            effect_index: Set(Some(g.effect_index)),
            ..Default::default()
        }
    });
    Ok(grants::Entity::insert_many(models)
        .on_conflict(
            OnConflict::columns([
                grants::Column::JobId,
                grants::Column::ContactId,
                grants::Column::EffectIndex,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?)
}

/// Removes every grant of `grantee` on `contact_ids`: the number removed.
pub async fn revoke(conn: &impl ConnectionTrait, grantee: &Grantee, contact_ids: &[i64]) -> Result<u64> {
    if contact_ids.is_empty() {
        return Ok(0);
    }
    let (user_id, role) = principal(grantee);
    let mut delete = grants::Entity::delete_many().filter(grants::Column::ContactId.is_in(contact_ids.iter().copied()));
    delete = match (user_id, role) {
        (Some(user), _) => delete.filter(grants::Column::UserId.eq(user)),
        (None, Some(role)) => delete.filter(grants::Column::Role.eq(role)),
        (None, None) => return Ok(0),
    };
    Ok(delete.exec(conn).await?.rows_affected)
}
