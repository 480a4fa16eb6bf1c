//! Contacts: people and companies.
//!
//! Every write goes through one path: the current state (or an empty one) plus the
//! requested changes make a [`ContactDraft`], the draft is checked as a whole against the
//! schema, and the row is written with `WHERE id = ? AND version = ?`. A write that meets a
//! newer version changes nothing and answers [`Error::Conflict`]; two writers can't lose
//! each other's changes, on one server or several. Each write appends an audit event
//! (who, when, what changed) in the same transaction.
//!
//! Write access (owner, admin, write grant) lets a user change a contact; choosing its
//! owner is narrower (admins, or the owner handing it on): see [`ownership`].
//!
//! Two handles: [`ContactReader`] reads and checks (the query engine and segments read
//! through it), and [`Contacts`] adds the writes, each of which runs the upkeep the layer
//! above registered ([`write::UpkeepSource`], the segment memberships). A layer below
//! segments can't be handed a writer that skips the upkeep: the only writer it gets is
//! [`Contacts`], built by the facade with the upkeep in it.

mod audit;
pub mod batch;
mod check;
pub mod columns;
pub mod cursor;
pub mod derived;
pub mod keyed_grants;
pub mod ownership;
mod read;
pub mod recompute;
pub mod search;
pub mod visibility;
pub mod write;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Map, Value, json};

pub use batch::{BatchOutcome, BatchRow, Identity};
pub use columns::CoreColumn;
pub use cursor::{Cursor, Sort, SortKey};
pub(crate) use read::score_of;
/// What [`ContactReader::list_contacts_where`] and [`ContactReader::count_contacts_where`] take, re-exported
/// so that callers can AND their criteria without depending on sea-orm.
pub use sea_orm::sea_query::Condition;
pub use search::{SearchQuery, search_condition};
pub use visibility::{Access, Grantee};

use crate::auth::Actor;
use crate::clock::stored;
use crate::entities::{contact_types, contacts, grants, users};
use crate::kernel::base::Base;
use crate::schema::SchemaService;
use crate::{Error, Result};

/// Reading and checking contacts, always as an actor sees them. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ContactReader {
    pub(crate) base: Base,
    pub(crate) schema: SchemaService,
}

impl ContactReader {
    /// Reads over `base`, checking drafts against `schema`.
    pub fn new(base: Base, schema: SchemaService) -> Self {
        ContactReader { base, schema }
    }
}

/// The contacts service: the reads of [`ContactReader`] (through `Deref`) and the writes,
/// each in a [`write::ContactWrite`] that runs `upkeep` before it commits.
#[derive(Clone)]
pub struct Contacts {
    read: ContactReader,
    upkeep: std::sync::Arc<dyn write::UpkeepSource>,
}

impl std::fmt::Debug for Contacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contacts")
            .field("read", &self.read)
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for Contacts {
    type Target = ContactReader;
    fn deref(&self) -> &ContactReader {
        &self.read
    }
}

impl Contacts {
    /// Reads and writes; every write runs the upkeep `upkeep` begins.
    pub fn new(read: ContactReader, upkeep: std::sync::Arc<dyn write::UpkeepSource>) -> Self {
        Contacts { read, upkeep }
    }

    /// Begins a write of contacts by `actor`, with the upkeep in it (see [`write`]).
    pub(crate) async fn contact_write(&self, actor: &Actor) -> Result<write::ContactWrite> {
        let stamp = write::Stamp::now(actor.user_id, self.base.clock.as_ref());
        write::ContactWrite::begin(&self.base.writers, self.upkeep.as_ref(), stamp).await
    }

    /// A write on behalf of no request (mail delivery, a recipient's click), stamped with
    /// `user_id` (the user who started what it follows from; 0 for none).
    pub(crate) async fn system_write(&self, user_id: i64) -> Result<write::ContactWrite> {
        let stamp = write::Stamp::now(user_id, self.base.clock.as_ref());
        write::ContactWrite::begin(&self.base.writers, self.upkeep.as_ref(), stamp).await
    }
}

/// A person or a company.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    Person,
    Company,
}

impl ContactKind {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContactKind::Person => "person",
            ContactKind::Company => "company",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "person" => Ok(ContactKind::Person),
            "company" => Ok(ContactKind::Company),
            other => Err(Error::invalid(
                "kind",
                format!("expected `person` or `company`, got `{other}`"),
            )),
        }
    }
}

/// A contact as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    pub id: i64,
    pub kind: ContactKind,
    pub type_key: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub company_id: Option<i64>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub owner_id: Option<i64>,
    pub do_not_contact: bool,
    pub score: Option<f64>,
    pub score_band: Option<String>,
    pub fields: Map<String, Value>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Every writable property of a contact: what a create sends, and what a patch produces
/// when applied to the current state. Checked as a whole before it is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactDraft {
    pub kind: String,
    pub type_key: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub company_id: Option<i64>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// `None` on create means "the creator".
    pub owner_id: Option<i64>,
    pub do_not_contact: bool,
    /// On create: the extra-field values. On a patch: replaced by the merged values.
    pub fields: Map<String, Value>,
}

/// A partial update. `None` leaves a property alone; for nullable properties `Some(None)`
/// clears it. `fields` is merged key by key (a `null` value removes that key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactPatch {
    /// The version the change was made against.
    pub version: i64,
    pub kind: Option<String>,
    pub type_key: Option<String>,
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub position: Option<Option<String>>,
    pub company_id: Option<Option<i64>>,
    pub street: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub postal_code: Option<Option<String>>,
    pub latitude: Option<Option<f64>>,
    pub longitude: Option<Option<f64>>,
    pub owner_id: Option<Option<i64>>,
    pub do_not_contact: Option<bool>,
    pub fields: Option<Map<String, Value>>,
}

/// A company as a picker offers it.
#[derive(Debug, Clone, PartialEq)]
pub struct CompanyChoice {
    pub id: i64,
    pub name: String,
    pub city: Option<String>,
}

/// A page of a keyset-paged list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<String>,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub sort: Sort,
    pub limit: u64,
    pub after: Option<String>,
}

/// The largest page a caller may ask for.
pub const MAX_PAGE: u64 = 500;

/// One entry of a contact's audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who made the change, as the reader may see them ([`ContactReader::people`]).
    pub user_email: Option<String>,
    pub action: String,
    pub changes: Value,
}

/// A contact row with its type, as read in one query.
type Joined = (contacts::Model, Option<contact_types::Model>);

pub(crate) fn to_contact((m, contact_type): Joined) -> Result<Contact> {
    let type_key = contact_type.map(|t| t.key).unwrap_or_default();
    Ok(Contact {
        id: m.id,
        kind: ContactKind::parse(&m.kind)?,
        type_key,
        name: m.name,
        email: m.email,
        phone: m.phone,
        position: m.position,
        company_id: m.company_id,
        street: m.street,
        city: m.city,
        region: m.region,
        country: m.country,
        postal_code: m.postal_code,
        latitude: m.latitude,
        longitude: m.longitude,
        owner_id: m.owner_id,
        do_not_contact: m.do_not_contact,
        score: m.score,
        score_band: m.score_band,
        fields: match m.fields {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        version: m.version,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

impl Contact {
    /// The writable part of the contact.
    pub fn draft(&self) -> ContactDraft {
        ContactDraft {
            kind: self.kind.as_str().to_owned(),
            type_key: self.type_key.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            position: self.position.clone(),
            company_id: self.company_id,
            street: self.street.clone(),
            city: self.city.clone(),
            region: self.region.clone(),
            country: self.country.clone(),
            postal_code: self.postal_code.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            owner_id: self.owner_id,
            do_not_contact: self.do_not_contact,
            fields: self.fields.clone(),
        }
    }
}

impl ContactPatch {
    /// The draft that results from applying this patch to `base`.
    fn apply(&self, mut base: ContactDraft) -> ContactDraft {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *target = v.clone();
            }
        }
        set(&mut base.kind, &self.kind);
        set(&mut base.type_key, &self.type_key);
        set(&mut base.name, &self.name);
        set(&mut base.email, &self.email);
        set(&mut base.phone, &self.phone);
        set(&mut base.position, &self.position);
        set(&mut base.company_id, &self.company_id);
        set(&mut base.street, &self.street);
        set(&mut base.city, &self.city);
        set(&mut base.region, &self.region);
        set(&mut base.country, &self.country);
        set(&mut base.postal_code, &self.postal_code);
        set(&mut base.latitude, &self.latitude);
        set(&mut base.longitude, &self.longitude);
        set(&mut base.owner_id, &self.owner_id);
        set(&mut base.do_not_contact, &self.do_not_contact);
        base
    }
}

impl Contacts {
    /// Creates a contact owned by `draft.owner_id`, or by the actor when that is empty; of
    /// the base's default type (see [`crate::settings`]) when `draft.type_key` is empty.
    pub async fn create_contact(&self, actor: &Actor, mut draft: ContactDraft) -> Result<Contact> {
        let schema = self.schema.current().await?;
        draft.owner_id = draft.owner_id.or(Some(actor.user_id));
        // Without a default either, the type stays empty and is reported with every
        // other problem of the draft.
        if draft.type_key.trim().is_empty()
            && let Some(default) = self.schema.settings().await?.default_contact_type
        {
            draft.type_key = default;
        }
        let changes = std::mem::take(&mut draft.fields);
        let checked = self.check_draft(actor, &schema, draft, None, &changes).await?;
        let mut write = self.contact_write(actor).await?;
        let columns = checked.columns_with_derived(&derived::FoldSchema::read(write.txn()).await?);
        let model = write.insert(columns, audit::snapshot(&checked.draft)).await?;
        write.commit().await?;
        let mut contact = to_contact((model, None))?;
        contact.type_key = checked.draft.type_key;
        Ok(contact)
    }

    /// Applies `patch` to contact `id` if it is still at `patch.version`.
    pub async fn update_contact(&self, actor: &Actor, id: i64, patch: ContactPatch) -> Result<Contact> {
        let schema = self.schema.current().await?;
        let current = self.read_contact(actor, id, Access::Write).await?;
        if current.version != patch.version {
            return Err(stale(current.version, patch.version));
        }
        let before = current.draft();
        let changes = patch.fields.clone().unwrap_or_default();
        let checked = self
            .check_draft(actor, &schema, patch.apply(before.clone()), Some(&current), &changes)
            .await?;
        let diff = audit::difference(&before, &checked.draft);
        if diff.is_empty() {
            return Ok(current);
        }
        let mut write = self.contact_write(actor).await?;
        let columns = checked.columns_with_derived(&derived::FoldSchema::read(write.txn()).await?);
        if !write.update(id, patch.version, columns, Value::Object(diff)).await? {
            write.rollback().await?;
            // Someone wrote in between our read and our write.
            let now_version = contacts::Entity::find_by_id(id)
                .one(&self.base.db)
                .await?
                .map(|c| c.version);
            return match now_version {
                Some(v) => Err(stale(v, patch.version)),
                None => Err(Error::NotFound { what: "contact" }),
            };
        }
        // A company's people see its name as their `company`.
        if current.kind == ContactKind::Company && current.name != checked.draft.name {
            write.affects(write::people_of(write.txn(), id).await?);
        }
        // The state written, read before the commit: handing a contact to someone else
        // takes it out of the writer's sight, and they still get their answer.
        let written = contacts::Entity::find_by_id(id)
            .find_also_related(contact_types::Entity)
            .one(write.txn())
            .await?
            .ok_or(Error::NotFound { what: "contact" })?;
        write.commit().await?;
        to_contact(written)
    }

    /// Deletes contact `id`; with `version`, only if it is still at that version. A
    /// company's people stay, without a company.
    pub async fn delete_contact(&self, actor: &Actor, id: i64, version: Option<i64>) -> Result<()> {
        let current = self.read_contact(actor, id, Access::Write).await?;
        if let Some(v) = version
            && v != current.version
        {
            return Err(stale(current.version, v));
        }
        let mut write = self.contact_write(actor).await?;
        if current.kind == ContactKind::Company {
            write.detach_people(id).await?;
        }
        if !write.delete(id, version, audit::snapshot(&current.draft())).await? {
            write.rollback().await?;
            return Err(Error::conflict(
                "the contact changed while it was being deleted; reload and try again",
            ));
        }
        write.commit().await?;
        Ok(())
    }

    /// Lets `grantee` see (and with `Access::Write`, change) contact `id`. Admins only;
    /// the bulk "grant access" action builds on this.
    pub async fn grant_access(&self, actor: &Actor, id: i64, grantee: Grantee, level: Access) -> Result<()> {
        actor.require_admin()?;
        self.find_contact(&self.base.db, actor, id, Access::Read).await?;
        let (user_id, role) = match grantee {
            Grantee::User(user) => {
                users::Entity::find_by_id(user)
                    .one(&self.base.db)
                    .await?
                    .ok_or_else(|| Error::invalid("user_id", format!("no user with id {user}")))?;
                (Some(user), None)
            }
            Grantee::Role(role) => (None, Some(role.as_str().to_owned())),
        };
        grants::ActiveModel {
            contact_id: Set(id),
            user_id: Set(user_id),
            role: Set(role),
            level: Set(level.as_str().to_owned()),
            created_at: Set(stored(self.base.clock.now())),
            ..Default::default()
        }
        .insert(&self.base.db)
        .await?;
        Ok(())
    }
}

fn stale(current: i64, sent: i64) -> Error {
    Error::Conflict {
        message: format!(
            "the contact was changed by someone else (you edited version {sent}, it is now at version {current}); reload it and apply your change again"
        ),
        details: Some(json!({"current_version": current, "your_version": sent})),
    }
}
