//! Contact types: a tree that admins shape at run time.
//!
//! Types are few (tens), so the whole tree is read in one query and walked in memory
//! ([`TypeTree`]); filtering on a type includes its descendants, which the tree computes.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde_json::json;

use crate::entities::{contact_types, contacts, field_defs};
use crate::kernel::identity::Actor;
use crate::kernel::validate::check_key;
use crate::schema::{SchemaChange, SchemaService};
use crate::{Error, Result};

/// A contact type as the rest of the system sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactType {
    pub id: i64,
    pub key: String,
    pub label: String,
    pub parent: Option<String>,
    pub position: i32,
    /// Depth in the tree: 0 for a root.
    pub depth: usize,
}

/// What to say about a type key that names no type: "choose a contact type" when none
/// was given, "there is no contact type “x”" otherwise.
pub fn unknown_type(key: &str) -> String {
    let key = key.trim();
    if key.is_empty() {
        "choose a contact type".to_owned()
    } else {
        format!("there is no contact type “{key}”")
    }
}

/// The seeded tree: (key, label, children).
/// A seeded type: key, label, children (key, label).
type SeedType = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

const SEED: &[SeedType] = &[
    (
        "lead",
        "Lead",
        &[
            ("cold", "Cold"),
            ("warm", "Warm"),
            ("hot", "Hot"),
            ("refused", "Refused"),
        ],
    ),
    ("client", "Client", &[]),
    (
        "employee",
        "Employee",
        &[
            ("staff", "Staff"),
            ("freelance", "Freelance"),
            ("temporary", "Temporary"),
            ("remote", "Remote"),
        ],
    ),
    ("supplier", "Supplier", &[]),
    ("contractor", "Contractor", &[]),
];

/// The type a contact created without one gets on a new base (see [`crate::settings`]).
const DEFAULT_TYPE: &str = "lead";

/// Seeds the default types into an empty table, `lead` as the default type; does nothing
/// otherwise.
pub(crate) async fn seed(db: &DatabaseConnection) -> Result<()> {
    if contact_types::Entity::find().count(db).await? > 0 {
        return Ok(());
    }
    let txn = db.begin().await?;
    for (position, (key, label, children)) in (0i32..).zip(SEED.iter()) {
        let parent = insert_type(&txn, key, label, None, position).await?;
        if *key == DEFAULT_TYPE {
            crate::settings::set_default_type(&txn, Some(parent)).await?;
        }
        for (child_position, (child_key, child_label)) in (0i32..).zip(children.iter()) {
            insert_type(&txn, child_key, child_label, Some(parent), child_position).await?;
        }
    }
    crate::kernel::generations::catalog_changed(&txn).await?;
    txn.commit().await?;
    Ok(())
}

async fn insert_type(
    db: &impl ConnectionTrait,
    key: &str,
    label: &str,
    parent_id: Option<i64>,
    position: i32,
) -> Result<i64> {
    let model = contact_types::ActiveModel {
        key: Set(key.to_owned()),
        label: Set(label.to_owned()),
        parent_id: Set(parent_id),
        position: Set(position),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(model.id)
}

pub use crate::kernel::validate::valid_key;

/// The whole tree of types, in display order (depth first, by position).
#[derive(Debug, Clone, Default)]
pub struct TypeTree {
    ordered: Vec<ContactType>,
    by_id: HashMap<i64, usize>,
    by_key: HashMap<String, usize>,
}

impl TypeTree {
    /// Builds the tree from its rows.
    pub fn from_rows(rows: Vec<contact_types::Model>) -> Self {
        let key_of: HashMap<i64, String> = rows.iter().map(|r| (r.id, r.key.clone())).collect();
        let mut children: HashMap<Option<i64>, Vec<&contact_types::Model>> = HashMap::new();
        for row in &rows {
            // A parent that vanished would orphan the row; show it as a root instead.
            let parent = row.parent_id.filter(|p| key_of.contains_key(p));
            children.entry(parent).or_default().push(row);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| (a.position, &a.label).cmp(&(b.position, &b.label)));
        }
        let mut ordered = Vec::with_capacity(rows.len());
        let mut stack: Vec<(&contact_types::Model, usize)> = children
            .get(&None)
            .map(|roots| roots.iter().rev().map(|r| (*r, 0)).collect())
            .unwrap_or_default();
        while let Some((row, depth)) = stack.pop() {
            ordered.push(ContactType {
                id: row.id,
                key: row.key.clone(),
                label: row.label.clone(),
                parent: row.parent_id.and_then(|p| key_of.get(&p).cloned()),
                position: row.position,
                depth,
            });
            if let Some(kids) = children.get(&Some(row.id)) {
                stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
            }
        }
        let by_id = ordered.iter().enumerate().map(|(i, t)| (t.id, i)).collect();
        let by_key = ordered.iter().enumerate().map(|(i, t)| (t.key.clone(), i)).collect();
        TypeTree { ordered, by_id, by_key }
    }

    /// Every type, depth first.
    pub fn all(&self) -> &[ContactType] {
        &self.ordered
    }

    /// The type with this key.
    pub fn by_key(&self, key: &str) -> Option<&ContactType> {
        self.by_key.get(key).and_then(|&i| self.ordered.get(i))
    }

    /// The type with this id.
    pub fn by_id(&self, id: i64) -> Option<&ContactType> {
        self.by_id.get(&id).and_then(|&i| self.ordered.get(i))
    }

    /// The key of a type and of each of its ancestors, nearest first.
    pub fn lineage(&self, key: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut current = self.by_key(key);
        while let Some(t) = current {
            if out.contains(&t.key.as_str()) {
                break;
            }
            out.push(t.key.as_str());
            current = t.parent.as_deref().and_then(|p| self.by_key(p));
        }
        out
    }

    /// The ids of a type and all its descendants.
    pub fn descendant_ids(&self, key: &str) -> Vec<i64> {
        self.ordered
            .iter()
            .filter(|t| self.lineage(&t.key).contains(&key))
            .map(|t| t.id)
            .collect()
    }
}

/// What an admin sends to create a type.
#[derive(Debug, Clone, Default)]
pub struct NewContactType {
    pub key: String,
    pub label: String,
    pub parent: Option<String>,
}

/// What an admin sends to change a type: a new label, a new parent (`Some(None)` makes it a
/// root), or both.
#[derive(Debug, Clone, Default)]
pub struct ContactTypePatch {
    pub label: Option<String>,
    pub parent: Option<Option<String>>,
}

fn check_label(label: &str) -> Result<String> {
    let label = label.trim();
    if label.is_empty() {
        return Err(Error::invalid("label", "must not be empty"));
    }
    if label.chars().any(char::is_control) {
        return Err(Error::invalid("label", "must not contain control characters"));
    }
    if label.chars().count() > 100 {
        return Err(Error::invalid("label", "must be at most 100 characters"));
    }
    Ok(label.to_owned())
}

impl SchemaService {
    /// The tree of contact types.
    pub async fn type_tree(&self) -> Result<TypeTree> {
        Ok(TypeTree::from_rows(
            contact_types::Entity::find()
                .order_by_asc(contact_types::Column::Id)
                .all(&self.base.db)
                .await?,
        ))
    }

    /// Creates a type under `parent` (or as a root).
    pub async fn create_contact_type(
        &self,
        actor: &Actor,
        input: NewContactType,
    ) -> Result<(ContactType, SchemaChange)> {
        actor.require_admin()?;
        let key = check_key(&input.key)?;
        let label = check_label(&input.label)?;
        let tree = self.type_tree().await?;
        if tree.by_key(&key).is_some() {
            return Err(Error::conflict(format!(
                "a contact type with key `{key}` already exists"
            )));
        }
        let parent_id = match input.parent.as_deref().filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => Some(
                tree.by_key(p)
                    .ok_or_else(|| Error::invalid("parent", unknown_type(p)))?
                    .id,
            ),
        };
        let siblings = tree
            .all()
            .iter()
            .filter(|t| t.parent.as_deref() == input.parent.as_deref())
            .count();
        insert_type(
            &self.base.db,
            &key,
            &label,
            parent_id,
            i32::try_from(siblings).unwrap_or(i32::MAX),
        )
        .await?;
        let created = self
            .type_tree()
            .await?
            .by_key(&key)
            .cloned()
            .ok_or(Error::NotFound { what: "contact type" })?;
        Ok((created, SchemaChange::default()))
    }

    /// Renames or moves a type. A type can't move under itself or its own descendants.
    pub async fn update_contact_type(
        &self,
        actor: &Actor,
        key: &str,
        patch: ContactTypePatch,
    ) -> Result<(ContactType, SchemaChange)> {
        actor.require_admin()?;
        let tree = self.type_tree().await?;
        let current = tree.by_key(key).ok_or(Error::NotFound { what: "contact type" })?;
        let mut active: contact_types::ActiveModel = contact_types::ActiveModel {
            id: Set(current.id),
            ..Default::default()
        };
        if let Some(label) = &patch.label {
            active.label = Set(check_label(label)?);
        }
        if let Some(parent) = &patch.parent {
            let parent = parent.as_deref().filter(|p| !p.is_empty());
            active.parent_id = Set(match parent {
                None => None,
                Some(p) => {
                    let target = tree
                        .by_key(p)
                        .ok_or_else(|| Error::invalid("parent", unknown_type(p)))?;
                    if tree.lineage(p).contains(&key) {
                        return Err(Error::invalid(
                            "parent",
                            format!("`{p}` is `{key}` itself or lies under it; a type can't move into its own subtree"),
                        ));
                    }
                    Some(target.id)
                }
            });
        }
        // Removed by another request since it was read.
        active.update(&self.base.db).await.map_err(|e| match e {
            sea_orm::DbErr::RecordNotUpdated => Error::NotFound { what: "contact type" },
            e => e.into(),
        })?;
        let updated = self
            .type_tree()
            .await?
            .by_key(key)
            .cloned()
            .ok_or(Error::NotFound { what: "contact type" })?;
        // A move changes which types `is` includes.
        Ok((updated, SchemaChange::rebuild()))
    }

    /// Checks the removal of a type: its subtypes must go first; its contacts move to
    /// `reassign_to`, which is required when any contact (or field) uses the type. Answers
    /// what [`SchemaService::remove_type`] does, after the facade has moved the contacts.
    pub async fn check_type_removal(&self, actor: &Actor, key: &str, reassign_to: Option<&str>) -> Result<TypeRemoval> {
        actor.require_admin()?;
        let tree = self.type_tree().await?;
        let current = tree
            .by_key(key)
            .ok_or(Error::NotFound { what: "contact type" })?
            .clone();
        let subtypes: Vec<&str> = tree
            .all()
            .iter()
            .filter(|t| t.parent.as_deref() == Some(key))
            .map(|t| t.key.as_str())
            .collect();
        if !subtypes.is_empty() {
            return Err(Error::conflict(format!(
                "`{key}` has subtypes ({}); move or remove them first",
                subtypes.join(", ")
            )));
        }
        let target = match reassign_to.filter(|t| !t.is_empty()) {
            None => None,
            Some(t) if t == key => {
                return Err(Error::invalid("reassign_to", "must be another type"));
            }
            Some(t) => Some(
                tree.by_key(t)
                    .ok_or_else(|| Error::invalid("reassign_to", unknown_type(t)))?
                    .clone(),
            ),
        };
        let in_use = contacts::Entity::find()
            .filter(contacts::Column::TypeId.eq(current.id))
            .count(&self.base.db)
            .await?;
        let fields = field_defs::Entity::find().all(&self.base.db).await?;
        let fields_using: Vec<field_defs::Model> = fields
            .into_iter()
            .filter(|f| json_strings(&f.applies_to).iter().any(|k| k == key))
            .collect();
        if target.is_none() && (in_use > 0 || !fields_using.is_empty()) {
            let mut why = Vec::new();
            if in_use > 0 {
                why.push(if in_use == 1 {
                    "1 contact has this type".to_owned()
                } else {
                    format!("{in_use} contacts have this type")
                });
            }
            if !fields_using.is_empty() {
                let keys: Vec<&str> = fields_using.iter().map(|f| f.key.as_str()).collect();
                why.push(format!("fields {} apply to it", keys.join(", ")));
            }
            return Err(Error::Conflict {
                message: format!(
                    "`{key}` is in use ({}); say which type its contacts move to",
                    why.join("; ")
                ),
                details: Some(
                    json!({"contacts": in_use, "fields": fields_using.iter().map(|f| &f.key).collect::<Vec<_>>()}),
                ),
            });
        }
        Ok(TypeRemoval {
            current,
            target,
            fields_using,
        })
    }

    /// Removes the type `removal` names in `txn` (its contacts already moved): the fields
    /// that applied to it apply to the target, the default type follows it.
    pub async fn remove_type(&self, txn: &DatabaseTransaction, removal: TypeRemoval) -> Result<SchemaChange> {
        let now = self.base.now();
        let key = removal.current.key.as_str();
        if let Some(target) = &removal.target {
            for field in removal.fields_using {
                let mut keys = json_strings(&field.applies_to);
                keys.retain(|k| k != key);
                if !keys.contains(&target.key) {
                    keys.push(target.key.clone());
                }
                let mut active: field_defs::ActiveModel = field.into();
                active.applies_to = Set(json!(keys));
                active.updated_at = Set(now);
                active.update(txn).await?;
            }
        }
        crate::settings::move_default_type(txn, removal.current.id, removal.target.as_ref().map(|t| t.id)).await?;
        crate::entities::card_layouts::Entity::delete_by_id(removal.current.id)
            .exec(txn)
            .await?;
        contact_types::Entity::delete_by_id(removal.current.id)
            .exec(txn)
            .await?;
        // Contacts moved to another type: the segments are decided again.
        Ok(SchemaChange {
            rebuild: removal.target.is_some(),
        })
    }
}

/// A checked removal of a contact type (see [`SchemaService::check_type_removal`]).
#[derive(Debug)]
pub struct TypeRemoval {
    /// The type that goes.
    pub current: ContactType,
    /// Where its contacts move.
    pub target: Option<ContactType>,
    fields_using: Vec<field_defs::Model>,
}

/// The strings of a JSON array (anything else reads as empty).
pub(crate) fn json_strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
