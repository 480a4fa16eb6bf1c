//! Writes of many contacts at once (an import's batch): each row checked on its own as a
//! single write checks it, the rows that pass written in one [`write::ContactWrite`], so
//! the upkeep (scores, segment memberships) runs once over the whole batch.
//!
//! A row that fails its check is answered with its problems and left out; the others are
//! written. A row updating a contact that someone changed since it was read is answered
//! as stale, the others are written.

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};
use serde_json::Value;

use super::{
    Access, Contact, ContactDraft, ContactKind, ContactPatch, Contacts, audit, derived, to_contact, visibility,
};
use crate::auth::Actor;
use crate::entities::{contact_types, contacts};
use crate::error::Problem;
use crate::{Error, Result};

/// One row of a batch.
#[derive(Debug, Clone)]
pub enum BatchRow {
    /// A new contact (its type empty: the base's default type; its owner empty: the actor).
    Create(ContactDraft),
    /// A change to contact `id`: made against `patch.version`, or with `current` against
    /// whatever version the batch reads (an import row, which saw no version).
    Update {
        id: i64,
        patch: ContactPatch,
        current: bool,
    },
}

/// What became of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOutcome {
    /// Created with this id (0 in a dry run).
    Created(i64),
    Updated(i64),
    /// The row asked for no change.
    Unchanged(i64),
    /// Not written, with every problem, each at its path.
    Refused(Vec<Problem>),
}

/// What identifies an existing contact in [`Contacts::find_by`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Email,
    Phone,
    Field(String),
}

impl Contacts {
    /// Checks `rows` and, unless `dry_run`, writes those that pass in one transaction.
    /// The answer has one outcome per row, in order.
    pub async fn write_batch(&self, actor: &Actor, rows: Vec<BatchRow>, dry_run: bool) -> Result<Vec<BatchOutcome>> {
        let schema = self.schema.current().await?;
        let default_type = self.schema.settings().await?.default_contact_type;
        let updated_ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| match r {
                BatchRow::Update { id, .. } => Some(*id),
                BatchRow::Create(_) => None,
            })
            .collect();
        let mut current: HashMap<i64, Contact> = self
            .writable(actor, &updated_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let company_ids: Vec<i64> = rows
            .iter()
            .filter_map(|r| match r {
                BatchRow::Create(d) => d.company_id,
                BatchRow::Update { patch, .. } => patch.company_id.flatten(),
            })
            .collect();
        let companies = self.visible_companies(actor, &company_ids).await?;
        let mut outcomes = Vec::with_capacity(rows.len());
        let mut checked = Vec::with_capacity(rows.len());
        for row in rows {
            let result = match row {
                BatchRow::Create(mut draft) => {
                    draft.owner_id = draft.owner_id.or(Some(actor.user_id));
                    if draft.type_key.trim().is_empty()
                        && let Some(default) = &default_type
                    {
                        draft.type_key.clone_from(default);
                    }
                    let changes = std::mem::take(&mut draft.fields);
                    self.check_draft_knowing(actor, &schema, draft, None, &changes, &companies)
                        .await
                        .map(|c| (None, c))
                }
                BatchRow::Update {
                    id,
                    mut patch,
                    current: any,
                } => match current.remove(&id) {
                    None => Err(Error::invalid(
                        "",
                        format!("contact {id} was deleted while the import read it, or you may no longer change it"),
                    )),
                    Some(contact) if !any && contact.version != patch.version => Err(Error::invalid(
                        "",
                        format!("contact {id} changed while the import read it; import the row again"),
                    )),
                    Some(contact) => {
                        patch.version = contact.version;
                        let before = contact.draft();
                        let changes = patch.fields.clone().unwrap_or_default();
                        self.check_draft_knowing(
                            actor,
                            &schema,
                            patch.apply(before.clone()),
                            Some(&contact),
                            &changes,
                            &companies,
                        )
                        .await
                        .map(|c| (Some((contact, before)), c))
                    }
                },
            };
            match result {
                Ok(ok) => {
                    outcomes.push(None);
                    checked.push(Some(ok));
                }
                Err(e @ (Error::Invalid(_) | Error::Validation { .. })) => {
                    outcomes.push(Some(BatchOutcome::Refused(e.problems())));
                    checked.push(None);
                }
                Err(other) => return Err(other),
            }
        }
        let mut write = if dry_run {
            None
        } else {
            Some(self.contact_write(actor).await?)
        };
        let fold = match &write {
            Some(w) => Some(derived::FoldSchema::read(w.txn()).await?),
            None => None,
        };
        // New contacts go in together, in multi-row inserts, after the updates.
        let mut creates: Vec<(usize, contacts::ActiveModel, Value)> = Vec::new();
        for (i, (slot, checked)) in outcomes.iter_mut().zip(checked).enumerate() {
            let Some((existing, checked)) = checked else { continue };
            let outcome = match existing {
                None => {
                    if let Some(fold) = &fold {
                        creates.push((i, checked.columns_with_derived(fold), audit::snapshot(&checked.draft)));
                    }
                    BatchOutcome::Created(0)
                }
                Some((contact, before)) => {
                    let diff = audit::difference(&before, &checked.draft);
                    if diff.is_empty() {
                        BatchOutcome::Unchanged(contact.id)
                    } else if let (Some(w), Some(fold)) = (&mut write, &fold) {
                        let columns = checked.columns_with_derived(fold);
                        if w.update(contact.id, contact.version, columns, Value::Object(diff))
                            .await?
                        {
                            if contact.kind == ContactKind::Company && contact.name != checked.draft.name {
                                let people = super::write::people_of(w.txn(), contact.id).await?;
                                w.affects(people);
                            }
                            BatchOutcome::Updated(contact.id)
                        } else {
                            BatchOutcome::Refused(vec![Problem {
                                path: String::new(),
                                message: format!(
                                    "contact {} changed while the import wrote it; import the row again",
                                    contact.id
                                ),
                            }])
                        }
                    } else {
                        BatchOutcome::Updated(contact.id)
                    }
                }
            };
            *slot = Some(outcome);
        }
        if let Some(w) = &mut write
            && !creates.is_empty()
        {
            let (positions, rows): (Vec<usize>, Vec<(contacts::ActiveModel, Value)>) = creates
                .into_iter()
                .map(|(i, columns, snapshot)| (i, (columns, snapshot)))
                .unzip();
            let ids = w.insert_many(rows).await?;
            for (i, id) in positions.into_iter().zip(ids) {
                if let Some(slot) = outcomes.get_mut(i) {
                    *slot = Some(BatchOutcome::Created(id));
                }
            }
        }
        if let Some(w) = write {
            w.commit().await?;
        }
        outcomes
            .into_iter()
            .map(|o| o.ok_or_else(|| Error::Internal("a batch row was left without an outcome".into())))
            .collect()
    }

    /// The companies among `ids` that `actor` sees, in one query.
    async fn visible_companies(&self, actor: &Actor, ids: &[i64]) -> Result<HashSet<i64>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let found: Vec<i64> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .filter(contacts::Column::Kind.eq(ContactKind::Company.as_str()))
            .filter(contacts::Column::Id.is_in(ids))
            .filter(visibility::condition(actor, Access::Read))
            .into_tuple()
            .all(&self.base.db)
            .await?;
        Ok(found.into_iter().collect())
    }

    /// The contacts among `ids` that `actor` may change, in one query.
    pub async fn writable(&self, actor: &Actor, ids: &[i64]) -> Result<Vec<Contact>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        contacts::Entity::find()
            .find_also_related(contact_types::Entity)
            .filter(visibility::condition(actor, Access::Write))
            .filter(contacts::Column::Id.is_in(ids.iter().copied()))
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(to_contact)
            .collect()
    }

    /// The ids of the contacts `actor` may change whose `identity` is one of `values`
    /// (e-mails compared in lower case, phones and field values as given), by value; the
    /// lowest id first where several share a value. A contact the actor can't change is
    /// not matched (as a single create doesn't look at it either), so an import tells
    /// nobody what exists out of their sight.
    pub async fn find_by(
        &self,
        actor: &Actor,
        identity: &Identity,
        values: &[String],
    ) -> Result<HashMap<String, Vec<i64>>> {
        let mut found: HashMap<String, Vec<i64>> = HashMap::new();
        if values.is_empty() {
            return Ok(found);
        }
        let backend = self.base.db.get_database_backend();
        let column: SimpleExpr = match identity {
            Identity::Email => Expr::col(contacts::Column::Email),
            Identity::Phone => Expr::col(contacts::Column::Phone),
            Identity::Field(key) => field_text(backend, key),
        };
        let rows: Vec<(i64, Option<String>)> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column_as(column.clone(), "value")
            .filter(Expr::expr(column).is_in(values.iter().cloned()))
            .filter(visibility::condition(actor, Access::Write))
            .into_tuple()
            .all(&self.base.db)
            .await?;
        for (id, value) in rows {
            if let Some(value) = value {
                found.entry(value).or_default().push(id);
            }
        }
        for ids in found.values_mut() {
            ids.sort_unstable();
        }
        Ok(found)
    }

    /// The companies named exactly one of `names`, that `actor` may see: name to the
    /// lowest id.
    pub async fn companies_named(&self, actor: &Actor, names: &[String]) -> Result<HashMap<String, i64>> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i64, String)> = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Name)
            .filter(contacts::Column::Kind.eq(ContactKind::Company.as_str()))
            .filter(contacts::Column::Name.is_in(names.iter().cloned()))
            .filter(visibility::condition(actor, Access::Read))
            .into_tuple()
            .all(&self.base.db)
            .await?;
        let mut out: HashMap<String, i64> = HashMap::new();
        for (id, name) in rows {
            let slot = out.entry(name).or_insert(id);
            *slot = std::cmp::min(*slot, id);
        }
        Ok(out)
    }
}

/// The text of extra field `key` as SQL.
fn field_text(backend: DbBackend, key: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values("(\"contacts\".\"fields\" ->> $1)", [key.to_owned()]),
        _ => Expr::cust_with_values("json_extract(\"contacts\".\"fields\", ?)", [format!("$.\"{key}\"")]),
    }
}
