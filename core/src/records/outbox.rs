//! The outbox: messages waiting for the delivery worker (`crate::mail`), and the contacts
//! who asked for no more mail.
//!
//! A bulk send writes its messages here in the same transaction as the job's checkpoint
//! ([`insert_keyed`]), each under its effect key `(job_id, contact_id, effect_index)`
//! with a unique index, so a batch committed twice (a crash before the checkpoint, a
//! lease taken over) queues each message once. What happens to a message afterwards
//! (handed to SMTP, refused, skipped) is the delivery worker's.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::Result;
use crate::clock::stored;
use crate::entities::{contacts, email_unsubscribes, outbox};

/// A message a job queues, with its effect key.
#[derive(Debug, Clone)]
pub struct KeyedEmail {
    pub job_id: i64,
    pub contact_id: i64,
    pub effect_index: i32,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub created_by: Option<i64>,
}

/// Queues messages a job sent, skipping those whose effect key is already there: the
/// number queued.
pub async fn insert_keyed(conn: &impl ConnectionTrait, rows: Vec<KeyedEmail>, now: DateTime<Utc>) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let now = stored(now);
    let models = rows.into_iter().map(|m| outbox::ActiveModel {
        job_id: Set(Some(m.job_id)),
        contact_id: Set(m.contact_id),
        effect_index: Set(m.effect_index),
        recipient: Set(m.to),
        subject: Set(m.subject),
        html: Set(m.html),
        plain: Set(m.text),
        state: Set("queued".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_by: Set(m.created_by),
        created_at: Set(now),
        ..Default::default()
    });
    let written = outbox::Entity::insert_many(models)
        .on_conflict(
            OnConflict::columns([
                outbox::Column::JobId,
                outbox::Column::ContactId,
                outbox::Column::EffectIndex,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(written)
}

/// Why a contact gets no mail now, if it doesn't.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMail {
    DoNotContact,
    Unsubscribed,
    NoAddress,
}

impl NoMail {
    /// The reason, as outcomes and the outbox record it.
    pub fn reason(self) -> &'static str {
        match self {
            NoMail::DoNotContact => "do not contact",
            NoMail::Unsubscribed => "unsubscribed",
            NoMail::NoAddress => "no e-mail address",
        }
    }
}

/// Of `ids`, the contacts that are do-not-contact and those that unsubscribed, read now.
pub async fn no_mail(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<(HashSet<i64>, HashSet<i64>)> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut dnc = HashSet::new();
    let mut unsubscribed = HashSet::new();
    for chunk in ids.chunks(5_000) {
        let found: Vec<i64> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .filter(contacts::Column::Id.is_in(chunk.iter().copied()))
            .filter(contacts::Column::DoNotContact.eq(true))
            .into_tuple()
            .all(conn)
            .await?;
        dnc.extend(found);
        let found: Vec<i64> = email_unsubscribes::Entity::find()
            .select_only()
            .column(email_unsubscribes::Column::ContactId)
            .filter(email_unsubscribes::Column::ContactId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        unsubscribed.extend(found);
    }
    Ok((dnc, unsubscribed))
}
