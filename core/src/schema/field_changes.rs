//! Reading and changing extra-field definitions (the rules are in [`crate::fields`]).
//!
//! A change of kind or options and a removal with values come in two steps, so that the
//! values are rewritten by the one writer of contacts in the same transaction as the
//! definition: [`SchemaService::plan_field_change`] checks the change outside any
//! transaction, [`SchemaService::apply_field_change`] converts the values and changes the
//! definition inside the contact write the facade opened under the schema lock, and
//! answers the rewrites for the facade to make.

use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Value, json};

use super::{SchemaChange, SchemaService};
use crate::entities::field_defs;
use crate::fields::{
    ConversionReport, FieldDef, FieldKind, FieldPatch, NewField, Schema, Unconvertible, check_definition, value,
    values_of,
};
use crate::kernel::identity::Actor;
use crate::kernel::validate::{check_key, valid_key};
use crate::{Error, Result};

/// A checked change of a field (see [`SchemaService::plan_field_change`]).
#[derive(Debug)]
pub struct FieldChangePlan {
    model: field_defs::Model,
    current: FieldDef,
    patch: FieldPatch,
    kind: FieldKind,
    label: String,
    options: Vec<String>,
    applies_to: Vec<String>,
}

/// A field change made in its transaction: what the facade does next.
#[derive(Debug)]
pub struct FieldChange {
    /// What happened, or would have, to the stored values.
    pub report: ConversionReport,
    /// `(contact, new value or None to remove it, old value)` to write.
    pub rewrites: Vec<(i64, Option<Value>, Value)>,
    /// The contacts' folded text and search words depend on what changed: recompute
    /// them for every holder of a value.
    pub derived_change: bool,
    /// The kind changed: the field's expression index is typed by kind, so it is made
    /// again, and the filters read the values differently.
    pub kind_changed: bool,
    /// The kind the field has now.
    pub kind: FieldKind,
}

/// A field to remove (see [`SchemaService::check_field_removal`]).
#[derive(Debug)]
pub struct FieldRemoval {
    model: field_defs::Model,
}

impl SchemaService {
    /// Every field definition, in display order.
    pub async fn list_fields(&self) -> Result<Vec<FieldDef>> {
        field_defs::Entity::find()
            .order_by_asc(field_defs::Column::Position)
            .order_by_asc(field_defs::Column::Id)
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(FieldDef::from_model)
            .collect()
    }

    /// One field definition.
    pub async fn get_field(&self, key: &str) -> Result<FieldDef> {
        FieldDef::from_model(self.field_model(key).await?)
    }

    async fn field_model(&self, key: &str) -> Result<field_defs::Model> {
        if !valid_key(key) {
            return Err(Error::NotFound { what: "field" });
        }
        field_defs::Entity::find()
            .filter(field_defs::Column::Key.eq(key))
            .one(&self.base.db)
            .await?
            .ok_or(Error::NotFound { what: "field" })
    }

    /// The schema contact writes are checked against: the fields and the type tree.
    pub async fn current(&self) -> Result<Schema> {
        Ok(Schema {
            fields: self.list_fields().await?,
            types: self.type_tree().await?,
        })
    }

    /// Defines a new field; the facade makes its expression index.
    pub async fn create_field(&self, actor: &Actor, input: NewField) -> Result<FieldDef> {
        actor.require_admin()?;
        let key = check_key(&input.key)?;
        let schema = self.current().await?;
        if schema.field(&key).is_some() {
            return Err(Error::conflict(format!("a field with key `{key}` already exists")));
        }
        let (kind, label, options) = check_definition(
            &input.kind,
            &input.label,
            &input.options,
            &input.applies_to,
            &schema.types,
        )?;
        let now = self.base.now();
        let position = i32::try_from(schema.fields.len()).unwrap_or(i32::MAX);
        field_defs::ActiveModel {
            key: Set(key.clone()),
            label: Set(label),
            kind: Set(kind.as_str().to_owned()),
            options: Set(json!(options)),
            required: Set(input.required),
            searchable: Set(input.searchable),
            applies_to: Set(json!(input.applies_to)),
            position: Set(position),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.base.db)
        .await?;
        self.get_field(&key).await
    }

    /// Checks a change of field `key` (admins): the new definition as a whole.
    pub async fn plan_field_change(&self, actor: &Actor, key: &str, patch: FieldPatch) -> Result<FieldChangePlan> {
        actor.require_admin()?;
        let model = self.field_model(key).await?;
        let current = FieldDef::from_model(model.clone())?;
        let types = self.type_tree().await?;
        let kind_name = patch.kind.clone().unwrap_or_else(|| current.kind.as_str().to_owned());
        let label = patch.label.clone().unwrap_or_else(|| current.label.clone());
        let applies_to = patch.applies_to.clone().unwrap_or_else(|| current.applies_to.clone());
        let proposed_options = match (&patch.options, patch.kind.as_deref().and_then(FieldKind::parse_field)) {
            (Some(options), _) => options.clone(),
            // A kind without options drops the old ones rather than failing the check.
            (None, Some(k)) if !k.has_options() => Vec::new(),
            (None, _) => current.options.clone(),
        };
        let (kind, label, options) = check_definition(&kind_name, &label, &proposed_options, &applies_to, &types)?;
        Ok(FieldChangePlan {
            model,
            current,
            patch,
            kind,
            label,
            options,
            applies_to,
        })
    }

    /// Makes a planned change in `txn` (a contact write under the schema lock): converts
    /// the stored values (refused with every unconvertible value listed, unless the patch
    /// drops them) and changes the definition. The rewrites are for the facade to write.
    pub async fn apply_field_change(&self, txn: &DatabaseTransaction, plan: FieldChangePlan) -> Result<FieldChange> {
        let FieldChangePlan {
            model,
            current,
            patch,
            kind,
            label,
            options,
            applies_to,
        } = plan;
        let key = current.key.clone();
        let values_change = kind != current.kind || options != current.options;
        // What the contacts' folded text and search words depend on (see
        // `contacts::derived`): when it changes, every holder of a value is recomputed.
        let derived_change = kind != current.kind || patch.searchable.is_some_and(|s| s != current.searchable);
        let mut report = ConversionReport::default();
        let mut rewrites = Vec::new();
        if values_change {
            for (id, old) in values_of(txn, &key).await? {
                report.checked += 1;
                match value::convert(current.kind, kind, &options, &old) {
                    Ok(new) => {
                        if new != old {
                            rewrites.push((id, Some(new), old));
                        }
                        report.converted += 1;
                    }
                    Err(reason) => {
                        report.failed.push(Unconvertible {
                            contact_id: id,
                            value: old.clone(),
                            reason,
                        });
                        rewrites.push((id, None, old));
                    }
                }
            }
        }
        if !report.failed.is_empty() && !patch.drop_unconvertible {
            return Err(Error::Conflict {
                message: format!(
                    "{} of {} {} of `{key}` can't be converted to {kind}; fix {}, or confirm that {} removed (kept in each contact's history)",
                    report.failed.len(),
                    report.checked,
                    if report.checked == 1 { "value" } else { "values" },
                    if report.failed.len() == 1 { "it" } else { "them" },
                    if report.failed.len() == 1 { "it is" } else { "they are" },
                ),
                details: Some(report.to_json()),
            });
        }
        report.dropped = !report.failed.is_empty();

        let mut active: field_defs::ActiveModel = model.into();
        active.label = Set(label);
        active.kind = Set(kind.as_str().to_owned());
        active.options = Set(json!(options));
        if let Some(required) = patch.required {
            active.required = Set(required);
        }
        if let Some(searchable) = patch.searchable {
            active.searchable = Set(searchable);
        }
        active.applies_to = Set(json!(applies_to));
        active.updated_at = Set(self.base.now());
        // Removed by a request that took the schema lock between the plan and here.
        active.update(txn).await.map_err(|e| match e {
            sea_orm::DbErr::RecordNotUpdated => Error::NotFound { what: "field" },
            e => e.into(),
        })?;
        Ok(FieldChange {
            report,
            rewrites,
            derived_change,
            kind_changed: kind != current.kind,
            kind,
        })
    }

    /// Checks the removal of field `key` (admins).
    pub async fn check_field_removal(&self, actor: &Actor, key: &str) -> Result<FieldRemoval> {
        actor.require_admin()?;
        Ok(FieldRemoval {
            model: self.field_model(key).await?,
        })
    }

    /// Removes the field in `txn` (a contact write under the schema lock). Refused while
    /// contacts hold values, unless `drop_values`; answers the values, for the facade to
    /// remove each with an audit record.
    pub async fn remove_field(
        &self,
        txn: &DatabaseTransaction,
        removal: FieldRemoval,
        drop_values: bool,
    ) -> Result<(Vec<(i64, Value)>, SchemaChange)> {
        let key = removal.model.key.clone();
        let values = values_of(txn, &key).await?;
        if !values.is_empty() && !drop_values {
            return Err(Error::Conflict {
                message: if values.len() == 1 {
                    format!("1 contact has a value in `{key}`; confirm that the value is removed with the field")
                } else {
                    format!(
                        "{} contacts have a value in `{key}`; confirm that the values are removed with the field",
                        values.len()
                    )
                },
                details: Some(json!({"contacts": values.len()})),
            });
        }
        field_defs::Entity::delete_by_id(removal.model.id).exec(txn).await?;
        // A filter on the field can't be prepared any more: its segments keep their
        // members and need attention (see `segments::jobs`), so nothing to rebuild.
        Ok((values, SchemaChange::default()))
    }
}
