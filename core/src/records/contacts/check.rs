//! Checking a contact draft as a whole: the core columns here, the extra fields against
//! the schema, the type, the company and the owner; every problem at once, each at its
//! path ([`crate::Error::Invalid`]).

use std::collections::HashSet;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Map, Value};

use super::ContactReader;
use super::{Access, Contact, ContactDraft, ContactKind, ContactPatch, derived, visibility};
use crate::auth::Actor;
use crate::entities::contacts;
use crate::error::Problems;
use crate::fields::{Schema, value};
use crate::{Error, Result};

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
pub(super) struct Checked {
    kind: ContactKind,
    type_id: i64,
    pub(super) draft: ContactDraft,
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
    pub(super) fn columns_with_derived(&self, schema: &derived::FoldSchema) -> contacts::ActiveModel {
        let mut row = self.columns();
        derived::Derived::compute(&derived::Source::of_draft(&self.draft), schema).set_on(&mut row);
        row
    }
}

impl ContactReader {
    /// Checks a draft: core columns here, extra fields against the schema (merging
    /// `changes` into `current_fields`). Every problem is reported at once
    /// ([`Error::Invalid`]), each at its path: a person fixes a form in one round.
    pub(super) async fn check_draft(
        &self,
        actor: &Actor,
        schema: &Schema,
        draft: ContactDraft,
        current: Option<&Contact>,
        changes: &Map<String, Value>,
    ) -> Result<Checked> {
        self.check_draft_knowing(actor, schema, draft, current, changes, &HashSet::new())
            .await
    }

    /// [`ContactReader::check_draft`], where `companies` are ids already known to be
    /// companies the actor sees (read for a whole batch at once), so they aren't read again.
    pub(super) async fn check_draft_knowing(
        &self,
        actor: &Actor,
        schema: &Schema,
        mut draft: ContactDraft,
        current: Option<&Contact>,
        changes: &Map<String, Value>,
        companies: &HashSet<i64>,
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
                .count(&self.base.db)
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
            } else if company_changed && !companies.contains(&company_id) {
                let company = contacts::Entity::find_by_id(company_id)
                    .filter(visibility::condition(actor, Access::Read))
                    .one(&self.base.db)
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

    /// Checks a new contact as [`Contacts::create_contact`] would, without writing it: a form
    /// that could not read some of its inputs reports these problems with its own.
    pub async fn check_new_contact(&self, actor: &Actor, mut draft: ContactDraft) -> Result<()> {
        let schema = self.schema.current().await?;
        draft.owner_id = draft.owner_id.or(Some(actor.user_id));
        let changes = std::mem::take(&mut draft.fields);
        self.check_draft(actor, &schema, draft, None, &changes)
            .await
            .map(|_| ())
    }

    /// Checks `patch` to contact `id` as [`Contacts::update_contact`] would, without writing.
    pub async fn check_contact_patch(&self, actor: &Actor, id: i64, patch: &ContactPatch) -> Result<()> {
        let schema = self.schema.current().await?;
        let current = self.read_contact(actor, id, Access::Write).await?;
        let changes = patch.fields.clone().unwrap_or_default();
        self.check_draft(actor, &schema, patch.apply(current.draft()), Some(&current), &changes)
            .await
            .map(|_| ())
    }
}
