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

pub mod cursor;
pub mod derived;
pub mod ownership;
pub mod recompute;
pub mod search;
pub mod visibility;
pub mod write;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::{Map, Value, json};

pub use cursor::{Cursor, Sort, SortKey};
/// What [`Core::list_contacts_where`] and [`Core::count_contacts_where`] take, re-exported
/// so that callers can AND their criteria without depending on sea-orm.
pub use sea_orm::sea_query::Condition;
pub use search::{SearchQuery, search_condition};
pub use visibility::{Access, Grantee};

use crate::auth::Actor;
use crate::clock::stored;
use crate::entities::{contact_events, contact_types, contacts, grants, users};
use crate::error::Problems;
use crate::fields::{Schema, value};
use crate::{Core, Error, Result};

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

    fn parse(s: &str) -> Result<Self> {
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
    /// Who made the change, as the reader may see them ([`Core::people`]).
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

/// Trims a text column, maps empty to `None`, and checks its length and characters.
fn clean_text(path: &str, value: &Option<String>, max: usize) -> Result<Option<String>> {
    let Some(v) = value else { return Ok(None) };
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.chars().count() > max {
        return Err(Error::invalid(path, format!("must be at most {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(path, "must not contain control characters"));
    }
    Ok(Some(v.to_owned()))
}

/// [`clean_text`], noting a problem instead of stopping (the value is then left out).
fn clean(problems: &mut Problems, path: &str, value: &Option<String>, max: usize) -> Result<Option<String>> {
    Ok(problems.take(clean_text(path, value, max))?.flatten())
}

/// The checked form of a draft, ready to store.
struct Checked {
    kind: ContactKind,
    type_id: i64,
    draft: ContactDraft,
}

impl Checked {
    /// The writable columns, set from the draft; the rest left unset.
    fn columns(&self) -> contacts::ActiveModel {
        let d = &self.draft;
        contacts::ActiveModel {
            kind: Set(self.kind.as_str().to_owned()),
            type_id: Set(self.type_id),
            name: Set(d.name.clone()),
            email: Set(d.email.clone()),
            phone: Set(d.phone.clone()),
            position: Set(d.position.clone()),
            company_id: Set(d.company_id),
            street: Set(d.street.clone()),
            city: Set(d.city.clone()),
            region: Set(d.region.clone()),
            country: Set(d.country.clone()),
            postal_code: Set(d.postal_code.clone()),
            latitude: Set(d.latitude),
            longitude: Set(d.longitude),
            owner_id: Set(d.owner_id),
            do_not_contact: Set(d.do_not_contact),
            fields: Set(Value::Object(d.fields.clone())),
            ..Default::default()
        }
    }

    /// [`Checked::columns`] and the derived columns under `schema` (read inside the write
    /// transaction; see [`derived`]).
    fn columns_with_derived(&self, schema: &derived::FoldSchema) -> contacts::ActiveModel {
        let mut row = self.columns();
        derived::Derived::compute(&derived::Source::of_draft(&self.draft), schema).set_on(&mut row);
        row
    }
}

impl Core {
    /// Checks a draft: core columns here, extra fields against the schema (merging
    /// `changes` into `current_fields`). Every problem is reported at once
    /// ([`Error::Invalid`]), each at its path: a person fixes a form in one round.
    async fn check_draft(
        &self,
        actor: &Actor,
        schema: &Schema,
        mut draft: ContactDraft,
        current: Option<&Contact>,
        changes: &Map<String, Value>,
    ) -> Result<Checked> {
        let mut problems = Problems::default();
        let self_id = current.map(|c| c.id);
        let kind = problems.take(ContactKind::parse(draft.kind.trim()))?;
        if let Some(kind) = kind {
            draft.kind = kind.as_str().to_owned();
        }
        if let Some(current) = current
            && current.kind == ContactKind::Company
            && kind == Some(ContactKind::Person)
        {
            let people = contacts::Entity::find()
                .filter(contacts::Column::CompanyId.eq(current.id))
                .count(&self.db)
                .await?;
            if people > 0 {
                problems.add(
                    "kind",
                    format!("this company has {people} people; move them to another company before making it a person"),
                );
            }
        }
        let type_key = draft.type_key.trim().to_owned();
        let contact_type = schema.types.by_key(&type_key);
        if contact_type.is_none() {
            problems.add("type", crate::contact_types::unknown_type(&type_key));
        }
        draft.type_key = type_key;
        match problems.take(clean_text("name", &Some(draft.name.clone()), 200))? {
            Some(Some(name)) => draft.name = name,
            Some(None) => problems.add("name", "is required"),
            None => {}
        }
        draft.email = clean(&mut problems, "email", &draft.email, 254)?.map(|e| e.to_lowercase());
        if let Some(email) = &draft.email
            && !crate::auth::valid_email(email)
        {
            problems.add("email", format!("`{email}` is not an email address"));
        }
        draft.phone = clean(&mut problems, "phone", &draft.phone, 40)?;
        if let Some(phone) = &draft.phone
            && !value::valid_phone(phone)
        {
            problems.add(
                "phone",
                format!("`{phone}` is not a phone number (digits, spaces, +, -, parentheses)"),
            );
        }
        draft.position = clean(&mut problems, "position", &draft.position, 200)?;
        draft.street = clean(&mut problems, "street", &draft.street, 200)?;
        draft.city = clean(&mut problems, "city", &draft.city, 100)?;
        draft.region = clean(&mut problems, "region", &draft.region, 100)?;
        draft.country = clean(&mut problems, "country", &draft.country, 100)?;
        draft.postal_code = clean(&mut problems, "postal_code", &draft.postal_code, 20)?;
        match (draft.latitude, draft.longitude) {
            (Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    problems.add("latitude", format!("latitude {lat} is outside -90..90"));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    problems.add("longitude", format!("longitude {lon} is outside -180..180"));
                }
            }
            (None, None) => {}
            (Some(_), None) => problems.add("longitude", "is required when latitude is given"),
            (None, Some(_)) => problems.add("latitude", "is required when longitude is given"),
        }
        // A link that is already stored stays valid even where the actor can't see the
        // company (an agent editing their own contact at someone else's company).
        let company_changed = current.is_none_or(|c| c.company_id != draft.company_id);
        if let Some(company_id) = draft.company_id {
            if kind == Some(ContactKind::Company) {
                problems.add("company_id", "a company can't belong to a company");
            } else if Some(company_id) == self_id {
                problems.add("company_id", "a contact can't belong to itself");
            } else if company_changed {
                let company = contacts::Entity::find_by_id(company_id)
                    .filter(visibility::condition(actor, Access::Read))
                    .one(&self.db)
                    .await?;
                match company {
                    None => problems.add("company_id", format!("no company with id {company_id}")),
                    Some(c) if c.kind != ContactKind::Company.as_str() => {
                        problems.add("company_id", format!("contact {company_id} is a person, not a company"))
                    }
                    Some(_) => {}
                }
            }
        }
        problems.take(self.check_owner(actor, current, draft.owner_id).await)?;
        let empty = Map::new();
        let current_fields = current.map(|c| &c.fields).unwrap_or(&empty);
        let type_for_fields = contact_type.map(|_| draft.type_key.as_str());
        if let Some(fields) = problems.take(schema.merge_fields(type_for_fields, current_fields, changes))? {
            draft.fields = fields;
        }
        problems.into_result()?;
        match (kind, contact_type) {
            (Some(kind), Some(contact_type)) => Ok(Checked {
                kind,
                type_id: contact_type.id,
                draft,
            }),
            _ => Err(Error::Internal(
                "a draft without problems lacks its kind or type".into(),
            )),
        }
    }

    /// Reads one contact visible to `actor` at `level`.
    async fn find_contact(
        &self,
        db: &impl ConnectionTrait,
        actor: &Actor,
        id: i64,
        level: Access,
    ) -> Result<contacts::Model> {
        contacts::Entity::find_by_id(id)
            .filter(visibility::condition(actor, level))
            .one(db)
            .await?
            .ok_or(Error::NotFound { what: "contact" })
    }

    /// A contact with its type, visible to `actor` at `level`.
    async fn read_contact(&self, actor: &Actor, id: i64, level: Access) -> Result<Contact> {
        let joined = contacts::Entity::find_by_id(id)
            .find_also_related(contact_types::Entity)
            .filter(visibility::condition(actor, level))
            .one(&self.db)
            .await?
            .ok_or(Error::NotFound { what: "contact" })?;
        to_contact(joined)
    }

    /// One contact.
    pub async fn get_contact(&self, actor: &Actor, id: i64) -> Result<Contact> {
        self.read_contact(actor, id, Access::Read).await
    }

    /// Whether `actor` may change contact `id`.
    pub async fn can_write_contact(&self, actor: &Actor, id: i64) -> Result<bool> {
        Ok(self.find_contact(&self.db, actor, id, Access::Write).await.is_ok())
    }

    /// Creates a contact owned by `draft.owner_id`, or by the actor when that is empty; of
    /// the base's default type (see [`crate::settings`]) when `draft.type_key` is empty.
    pub async fn create_contact(&self, actor: &Actor, mut draft: ContactDraft) -> Result<Contact> {
        let schema = self.schema().current().await?;
        draft.owner_id = draft.owner_id.or(Some(actor.user_id));
        // Without a default either, the type stays empty and is reported with every
        // other problem of the draft.
        if draft.type_key.trim().is_empty()
            && let Some(default) = self.schema().settings().await?.default_contact_type
        {
            draft.type_key = default;
        }
        let changes = std::mem::take(&mut draft.fields);
        let checked = self.check_draft(actor, &schema, draft, None, &changes).await?;
        let mut write = self.contact_write(actor).await?;
        let columns = checked.columns_with_derived(&derived::FoldSchema::read(write.txn()).await?);
        let model = write.insert(columns, snapshot(&checked.draft)).await?;
        write.commit().await?;
        let mut contact = to_contact((model, None))?;
        contact.type_key = checked.draft.type_key;
        Ok(contact)
    }

    /// Checks a new contact as [`Core::create_contact`] would, without writing it: a form
    /// that could not read some of its inputs reports these problems with its own.
    pub async fn check_new_contact(&self, actor: &Actor, mut draft: ContactDraft) -> Result<()> {
        let schema = self.schema().current().await?;
        draft.owner_id = draft.owner_id.or(Some(actor.user_id));
        let changes = std::mem::take(&mut draft.fields);
        self.check_draft(actor, &schema, draft, None, &changes)
            .await
            .map(|_| ())
    }

    /// Checks `patch` to contact `id` as [`Core::update_contact`] would, without writing.
    pub async fn check_contact_patch(&self, actor: &Actor, id: i64, patch: &ContactPatch) -> Result<()> {
        let schema = self.schema().current().await?;
        let current = self.read_contact(actor, id, Access::Write).await?;
        let changes = patch.fields.clone().unwrap_or_default();
        self.check_draft(actor, &schema, patch.apply(current.draft()), Some(&current), &changes)
            .await
            .map(|_| ())
    }

    /// Applies `patch` to contact `id` if it is still at `patch.version`.
    pub async fn update_contact(&self, actor: &Actor, id: i64, patch: ContactPatch) -> Result<Contact> {
        let schema = self.schema().current().await?;
        let current = self.read_contact(actor, id, Access::Write).await?;
        if current.version != patch.version {
            return Err(stale(current.version, patch.version));
        }
        let before = current.draft();
        let changes = patch.fields.clone().unwrap_or_default();
        let checked = self
            .check_draft(actor, &schema, patch.apply(before.clone()), Some(&current), &changes)
            .await?;
        let diff = difference(&before, &checked.draft);
        if diff.is_empty() {
            return Ok(current);
        }
        let mut write = self.contact_write(actor).await?;
        let columns = checked.columns_with_derived(&derived::FoldSchema::read(write.txn()).await?);
        if !write.update(id, patch.version, columns, Value::Object(diff)).await? {
            write.rollback().await?;
            // Someone wrote in between our read and our write.
            let now_version = contacts::Entity::find_by_id(id).one(&self.db).await?.map(|c| c.version);
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
        if !write.delete(id, version, snapshot(&current.draft())).await? {
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
        self.find_contact(&self.db, actor, id, Access::Read).await?;
        let (user_id, role) = match grantee {
            Grantee::User(user) => {
                users::Entity::find_by_id(user)
                    .one(&self.db)
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
            created_at: Set(stored(self.clock.now())),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// A page of the contacts visible to `actor`, in `query.sort` order.
    pub async fn list_contacts(&self, actor: &Actor, query: &ListQuery) -> Result<Page<Contact>> {
        self.list_contacts_where(actor, query, Condition::all()).await
    }

    /// A page of visible contacts that also satisfy `extra`.
    pub async fn list_contacts_where(
        &self,
        actor: &Actor,
        query: &ListQuery,
        extra: Condition,
    ) -> Result<Page<Contact>> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let select = self.page_select(actor, query, extra)?;
        let mut rows = select.all(&self.db).await?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = match (more, rows.last().map(|(m, _)| m)) {
            (true, Some(last)) => Some(Cursor::after_row(query.sort, last).encode()),
            _ => None,
        };
        let items = rows.into_iter().map(to_contact).collect::<Result<_>>()?;
        Ok(Page { items, next })
    }

    /// The query of a page of [`Core::list_contacts_where`]: the visible contacts that
    /// satisfy `extra`, after the cursor, in `query.sort` order, one row more than the page
    /// (to tell whether there is a next one). Public so that a test can ask the database
    /// for its plan (see [`cursor`]).
    pub fn page_select(
        &self,
        actor: &Actor,
        query: &ListQuery,
        extra: Condition,
    ) -> Result<sea_orm::SelectTwo<contacts::Entity, contact_types::Entity>> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let sort = query.sort;
        let after = query
            .after
            .as_deref()
            .filter(|a| !a.is_empty())
            .map(|a| Cursor::decode(a, sort))
            .transpose()?;
        let key_col = sort.key.column();
        let mut select = contacts::Entity::find()
            .find_also_related(contact_types::Entity)
            .filter(visibility::condition(actor, Access::Read))
            .filter(extra);
        if let Some(cursor) = &after {
            let left = Expr::tuple([
                Expr::col((contacts::Entity, key_col)),
                Expr::col((contacts::Entity, contacts::Column::Id)),
            ]);
            let right = Expr::tuple([Expr::val(cursor.value()), Expr::val(cursor.id)]);
            select = select.filter(if sort.descending {
                left.lt(right)
            } else {
                left.gt(right)
            });
        }
        select = if sort.descending {
            select.order_by_desc(key_col).order_by_desc(contacts::Column::Id)
        } else {
            select.order_by_asc(key_col).order_by_asc(contacts::Column::Id)
        };
        Ok(select.limit(limit + 1))
    }

    /// How many contacts `actor` sees.
    pub async fn count_contacts(&self, actor: &Actor) -> Result<u64> {
        self.count_contacts_where(actor, Condition::all()).await
    }

    /// How many contacts `actor` sees that also satisfy `extra`.
    pub async fn count_contacts_where(&self, actor: &Actor, extra: Condition) -> Result<u64> {
        Ok(contacts::Entity::find()
            .filter(visibility::condition(actor, Access::Read))
            .filter(extra)
            .count(&self.db)
            .await?)
    }

    /// The condition of global search `q` on this database, to AND into
    /// [`Core::list_contacts_where`] or [`Core::count_contacts_where`]; `None` when `q`
    /// has no words. See [`search`].
    pub fn search_condition(&self, q: &str) -> Result<Option<Condition>> {
        search_condition(self.db.get_database_backend(), q)
    }

    /// Companies visible to `actor`, by name: id and name, at most `limit`.
    pub async fn list_companies(&self, actor: &Actor, limit: u64) -> Result<Vec<(i64, String)>> {
        Ok(contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Kind.eq(ContactKind::Company.as_str()))
            .order_by_asc(contacts::Column::NameSort)
            .order_by_asc(contacts::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Companies visible to `actor` matching global search `q` (every company when it has
    /// no words), by name: at most `limit`, each with its city, which tells apart
    /// companies of the same name. The forms' company picker reads this.
    pub async fn search_companies(&self, actor: &Actor, q: &str, limit: u64) -> Result<Vec<CompanyChoice>> {
        let mut select = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .column(contacts::Column::City)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Kind.eq(ContactKind::Company.as_str()));
        if let Some(search) = self.search_condition(q)? {
            select = select.filter(search);
        }
        let rows: Vec<(i64, String, Option<String>)> = select
            .order_by_asc(contacts::Column::Name)
            .order_by_asc(contacts::Column::Id)
            .limit(limit.clamp(1, MAX_PAGE))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, city)| CompanyChoice { id, name, city })
            .collect())
    }

    /// Company `id` as a picker shows it, if `actor` sees it.
    pub async fn company_choice(&self, actor: &Actor, id: i64) -> Result<Option<CompanyChoice>> {
        let row: Option<(i64, String, Option<String>)> = contacts::Entity::find_by_id(id)
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .column(contacts::Column::City)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Kind.eq(ContactKind::Company.as_str()))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(row.map(|(id, name, city)| CompanyChoice { id, name, city }))
    }

    /// The names of the visible contacts among `ids`.
    pub async fn contact_names(&self, actor: &Actor, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let rows: Vec<(i64, String)> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }

    /// The people of a company, visible to `actor`, by name (at most 200).
    pub async fn company_members(&self, actor: &Actor, company_id: i64) -> Result<Vec<(i64, String)>> {
        Ok(contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(visibility::condition(actor, Access::Read))
            .filter(contacts::Column::CompanyId.eq(company_id))
            .order_by_asc(contacts::Column::NameSort)
            .order_by_asc(contacts::Column::Id)
            .limit(200)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// A visible contact's audit trail, newest first.
    pub async fn contact_history(&self, actor: &Actor, id: i64) -> Result<Vec<ContactEvent>> {
        self.find_contact(&self.db, actor, id, Access::Read).await?;
        let events = contact_events::Entity::find()
            .filter(contact_events::Column::ContactId.eq(id))
            .order_by_desc(contact_events::Column::Id)
            .limit(200)
            .all(&self.db)
            .await?;
        // Named as the actor may see them: no e-mail addresses for managers and agents.
        let users: std::collections::HashMap<i64, String> = self.people(actor).await?.into_iter().collect();
        Ok(events
            .into_iter()
            .map(|e| ContactEvent {
                id: e.id,
                at: e.at,
                user_email: e.user_id.and_then(|u| users.get(&u).cloned()),
                action: e.action,
                changes: e.changes,
            })
            .collect())
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

/// The core columns of a draft and its extra fields, as `name -> value`.
fn columns(d: &ContactDraft) -> Vec<(String, Value)> {
    let mut out = vec![
        ("kind".to_owned(), json!(d.kind)),
        ("type".to_owned(), json!(d.type_key)),
        ("name".to_owned(), json!(d.name)),
        ("email".to_owned(), json!(d.email)),
        ("phone".to_owned(), json!(d.phone)),
        ("position".to_owned(), json!(d.position)),
        ("company_id".to_owned(), json!(d.company_id)),
        ("street".to_owned(), json!(d.street)),
        ("city".to_owned(), json!(d.city)),
        ("region".to_owned(), json!(d.region)),
        ("country".to_owned(), json!(d.country)),
        ("postal_code".to_owned(), json!(d.postal_code)),
        ("latitude".to_owned(), json!(d.latitude)),
        ("longitude".to_owned(), json!(d.longitude)),
        ("owner".to_owned(), json!(d.owner_id)),
        ("do_not_contact".to_owned(), json!(d.do_not_contact)),
    ];
    out.extend(d.fields.iter().map(|(k, v)| (format!("fields.{k}"), v.clone())));
    out
}

fn snapshot(d: &ContactDraft) -> Value {
    Value::Object(columns(d).into_iter().filter(|(_, v)| !v.is_null()).collect())
}

/// `{property: [old, new]}` for every property that differs.
fn difference(before: &ContactDraft, after: &ContactDraft) -> Map<String, Value> {
    let old: Map<String, Value> = columns(before).into_iter().collect();
    let new: Map<String, Value> = columns(after).into_iter().collect();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|k| {
            let a = old.get(k).unwrap_or(&Value::Null);
            let b = new.get(k).unwrap_or(&Value::Null);
            (a != b).then(|| (k.clone(), json!([a, b])))
        })
        .collect()
}
