//! Activities: what happened with a contact (a page visit, a purchase, a call).
//!
//! Integrators push them in batches through the API; users log them from the contact card.
//! A batch is checked whole and stored in one transaction: all or nothing, with the index
//! of the bad item in the error path.
//!
//! Recording is a write: it needs the access that changing the contact needs (its owner,
//! an admin, or a write grant). A contact the actor may only read is refused like one they
//! can't see (400 at `contact_id`, the same message), as a contact write answers 404 for
//! both; reading a contact's activities needs only read access.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde_json::{Map, Value};

use crate::auth::Actor;
use crate::clock::stored;
use crate::contacts::{Access, Contacts, visibility};
use crate::entities::{activities, contacts};
use crate::error::Problems;
use crate::{Error, Result};

/// The activities service. Recording goes through the contacts' writer (see
/// [`Contacts`]), so the segments their contacts are in follow in the same transaction.
#[derive(Debug, Clone)]
pub struct Activities {
    contacts: Contacts,
}

pub use crate::kernel::kinds::{ActivityKind, activity_label as kind_label};

/// The kinds of activity Kartoteka knows, by stored name.
pub const KINDS: [&str; 11] = ActivityKind::NAMES;

/// Kinds that count as being in touch with the contact ("last contact date").
pub const CONTACT_KINDS: [&str; 4] = [
    ActivityKind::CONTACT[0].as_str(),
    ActivityKind::CONTACT[1].as_str(),
    ActivityKind::CONTACT[2].as_str(),
    ActivityKind::CONTACT[3].as_str(),
];

/// The most activities one request may record.
pub const MAX_BATCH: usize = 1_000;

/// An activity to record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewActivity {
    pub contact_id: i64,
    pub kind: String,
    /// Defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
    pub properties: Map<String, Value>,
    pub amount: Option<f64>,
}

/// A recorded activity.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: i64,
    pub contact_id: i64,
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
    pub properties: Map<String, Value>,
    pub amount: Option<f64>,
    pub recorded_by: Option<i64>,
}

impl From<activities::Model> for Activity {
    fn from(m: activities::Model) -> Self {
        Activity {
            id: m.id,
            contact_id: m.contact_id,
            kind: m.kind,
            occurred_at: m.occurred_at,
            properties: match m.properties {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            amount: m.amount,
            recorded_by: m.recorded_by,
        }
    }
}

/// Checks an activity's own values (not its contact), every problem at once. The card's
/// form calls it to report them together with the inputs it could not read.
pub fn check(item: &NewActivity) -> Result<()> {
    let mut problems = Problems::default();
    if !KINDS.contains(&item.kind.as_str()) {
        problems.add(
            "kind",
            format!(
                "unknown activity kind `{}`; expected one of {}",
                item.kind,
                KINDS.join(", ")
            ),
        );
    }
    if let Some(amount) = item.amount
        && (!amount.is_finite() || amount.abs() > 1e13)
    {
        problems.add("amount", "must be a finite number below 10^13");
    }
    let size = serde_json::to_vec(&item.properties)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if item
        .properties
        .iter()
        .any(|(k, v)| k.chars().any(char::is_control) || crate::error::has_control_chars(v))
    {
        problems.add("properties", "must not contain control characters");
    } else if item.properties.len() > 50 {
        problems.add("properties", "at most 50 properties");
    } else if size > 16 * 1024 {
        problems.add("properties", "must be at most 16 KiB as JSON");
    }
    problems.into_result()
}

impl Activities {
    /// Activities of `contacts`.
    pub fn new(contacts: Contacts) -> Self {
        Activities { contacts }
    }

    /// Records activities on contacts `actor` may change (own, or write-granted); all or
    /// none. A contact the actor can't change is refused at `contact_id` exactly like one
    /// that doesn't exist.
    pub async fn record_activities(&self, actor: &Actor, items: Vec<NewActivity>) -> Result<Vec<Activity>> {
        if items.is_empty() {
            return Err(Error::invalid("", "no activities given"));
        }
        if items.len() > MAX_BATCH {
            return Err(Error::invalid(
                "",
                format!("at most {MAX_BATCH} activities per request"),
            ));
        }
        let batch = items.len() > 1;
        let at = |i: usize, e: Error| if batch { e.under(&format!("[{i}]")) } else { e };
        let mut problems = Problems::default();
        for (i, item) in items.iter().enumerate() {
            problems.take(check(item).map_err(|e| at(i, e)))?;
        }
        problems.into_result()?;
        let mut ids: Vec<i64> = items.iter().map(|i| i.contact_id).collect();
        ids.sort_unstable();
        ids.dedup();
        // Recording an activity is a write: a read-only grant doesn't allow it, and a
        // contact the actor may only read answers as one they can't see.
        let writable: Vec<i64> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .filter(contacts::Column::Id.is_in(ids))
            .filter(visibility::condition(actor, Access::Write))
            .into_tuple()
            .all(&self.contacts.base.db)
            .await?;
        if let Some((i, item)) = items
            .iter()
            .enumerate()
            .find(|(_, item)| !writable.contains(&item.contact_id))
        {
            return Err(at(
                i,
                Error::invalid(
                    "contact_id",
                    format!("no contact with id {} that you may change", item.contact_id),
                ),
            ));
        }
        let now = stored(self.contacts.base.clock.now());
        // Activities aren't contact rows, but they move contacts in and out of segments:
        // they are written in a contact write, whose upkeep looks at their contacts.
        let mut write = self.contacts.contact_write(actor).await?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let model = activities::ActiveModel {
                contact_id: Set(item.contact_id),
                kind: Set(item.kind),
                occurred_at: Set(stored(item.occurred_at.unwrap_or(now))),
                properties: Set(Value::Object(item.properties)),
                amount: Set(item.amount),
                recorded_by: Set(Some(actor.user_id)),
                created_at: Set(now),
                ..Default::default()
            };
            out.push(Activity::from(
                sea_orm::ActiveModelTrait::insert(model, write.txn()).await?,
            ));
        }
        write.affects(out.iter().map(|a| a.contact_id));
        write.commit().await?;
        Ok(out)
    }

    /// Begins a write of activities that no user makes (the mail worker's `email_sent`,
    /// a recipient's open or click), stamped with `by` (0 for none): the caller adds rows
    /// of its own tables to the same transaction, then [`Activities::insert_system`].
    pub(crate) async fn system_write(&self, by: i64) -> Result<crate::contacts::write::ContactWrite> {
        self.contacts.system_write(by).await
    }

    /// Inserts `items` (of known kinds, on existing contacts) in `write`, recorded by no
    /// user, and lets the segments look at their contacts when it commits.
    pub(crate) async fn insert_system(
        write: &mut crate::contacts::write::ContactWrite,
        items: Vec<NewActivity>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let now = stored(now);
        let ids: Vec<i64> = items.iter().map(|i| i.contact_id).collect();
        let models = items.into_iter().map(|item| activities::ActiveModel {
            contact_id: Set(item.contact_id),
            kind: Set(item.kind),
            occurred_at: Set(stored(item.occurred_at.unwrap_or(now))),
            properties: Set(Value::Object(item.properties)),
            amount: Set(item.amount),
            recorded_by: Set(None),
            created_at: Set(now),
            ..Default::default()
        });
        activities::Entity::insert_many(models)
            .exec_without_returning(write.txn())
            .await?;
        write.affects(ids);
        Ok(())
    }

    /// The latest activities of a visible contact, newest first.
    pub async fn list_activities(&self, actor: &Actor, contact_id: i64, limit: u64) -> Result<Vec<Activity>> {
        contacts::Entity::find_by_id(contact_id)
            .filter(visibility::condition(actor, Access::Read))
            .one(&self.contacts.base.db)
            .await?
            .ok_or(Error::NotFound { what: "contact" })?;
        Ok(activities::Entity::find()
            .filter(activities::Column::ContactId.eq(contact_id))
            .order_by_desc(activities::Column::OccurredAt)
            .order_by_desc(activities::Column::Id)
            .limit(limit.clamp(1, 500))
            .all(&self.contacts.base.db)
            .await?
            .into_iter()
            .map(Activity::from)
            .collect())
    }

    /// When the contact was last in touch (a call, meeting, email sent or SMS).
    pub async fn last_contacted(&self, contact_id: i64) -> Result<Option<DateTime<Utc>>> {
        Ok(activities::Entity::find()
            .filter(activities::Column::ContactId.eq(contact_id))
            .filter(activities::Column::Kind.is_in(CONTACT_KINDS))
            .order_by_desc(activities::Column::OccurredAt)
            .one(&self.contacts.base.db)
            .await?
            .map(|a| a.occurred_at))
    }
}
