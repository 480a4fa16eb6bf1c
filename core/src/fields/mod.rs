//! Extra fields: defined by admins at run time, validated on every write.
//!
//! # Where the values live
//!
//! Values sit in one JSON column per contact, `contacts.fields` (JSONB on PostgreSQL, JSON
//! text on SQLite), keyed by the field's key. The alternatives weighed:
//!
//! - **A column per field** (`ALTER TABLE` when an admin adds one): the fastest reads and
//!   the simplest indexes, but DDL at run time on a shared table, a migration story per
//!   backend, and locks on PostgreSQL while a big table is rewritten. Rejected.
//! - **Entity-attribute-value rows** (`contact_id, field_id, value`): flexible, but every
//!   contact read becomes a join or a second query, a filter on two fields two self-joins,
//!   and typed comparison needs one value column per type. Rejected.
//! - **A JSON document per contact** (chosen): one row per contact, read and written whole;
//!   both databases index an expression on it (`json_extract(fields, '$.k')` on SQLite,
//!   `(fields->>'k')` with a cast on PostgreSQL), so a hot field gets a real index without
//!   DDL on the table itself. Types are enforced here, in [`value::normalize`], on every
//!   write, and stored in forms that compare correctly in SQL (fixed-width dates).
//!
//! # Changing a field
//!
//! Changing a field's kind, or the options of a select, may make existing values invalid.
//! [`Core::update_field`] converts every stored value first and reports what could not be
//! converted. If anything can't be, the change is refused with that report, unless the
//! admin says `drop_unconvertible`; then the values that can't be converted are removed,
//! and each removal is written to the contact's audit trail with the old value, so nothing
//! is lost without a trace.
//!
//! Each rewritten contact gets its folded text and search words recomputed
//! ([`crate::contacts::derived`]); a change of kind or of `searchable` recomputes them for
//! every contact holding a value, in the same transaction, so global search follows the
//! new definition at once.

pub mod value;

use std::collections::BTreeMap;

use sea_orm::sea_query::{Condition, Expr, ExprTrait, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Map, Value, json};

pub use value::FieldKind;

use crate::auth::Actor;
use crate::clock::stored;
use crate::contact_types::{TypeTree, json_strings};
use crate::contacts::derived::{self, Derived, FoldSchema, Source};
use crate::entities::{contact_events, contacts, field_defs};
use crate::error::Problems;
use crate::kernel::validate::valid_key;
use crate::{Core, Error, Result};

/// An extra field's definition.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    pub key: String,
    pub label: String,
    pub kind: FieldKind,
    pub options: Vec<String>,
    pub required: bool,
    pub searchable: bool,
    /// Contact type keys the field applies to (with their subtypes); empty means all.
    pub applies_to: Vec<String>,
    pub position: i32,
}

impl FieldDef {
    fn from_model(m: field_defs::Model) -> Result<Self> {
        let kind = FieldKind::parse_field(&m.kind)
            .ok_or_else(|| Error::Internal(format!("field `{}` has unknown kind `{}`", m.key, m.kind)))?;
        Ok(FieldDef {
            options: json_strings(&m.options),
            applies_to: json_strings(&m.applies_to),
            key: m.key,
            label: m.label,
            kind,
            required: m.required,
            searchable: m.searchable,
            position: m.position,
        })
    }

    /// Whether the field applies to a contact of type `type_key`.
    pub fn applies_to_type(&self, tree: &TypeTree, type_key: &str) -> bool {
        self.applies_to.is_empty()
            || tree
                .lineage(type_key)
                .iter()
                .any(|k| self.applies_to.iter().any(|a| a == k))
    }
}

/// What an admin sends to define a field.
#[derive(Debug, Clone, Default)]
pub struct NewField {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub options: Vec<String>,
    pub required: bool,
    pub searchable: bool,
    pub applies_to: Vec<String>,
}

/// What an admin sends to change a field; `None` leaves a property as it is.
#[derive(Debug, Clone, Default)]
pub struct FieldPatch {
    pub label: Option<String>,
    pub kind: Option<String>,
    pub options: Option<Vec<String>>,
    pub required: Option<bool>,
    pub searchable: Option<bool>,
    pub applies_to: Option<Vec<String>>,
    /// Remove (with an audit record) the values that can't be converted, instead of refusing.
    pub drop_unconvertible: bool,
}

/// One value that could not be converted.
#[derive(Debug, Clone, PartialEq)]
pub struct Unconvertible {
    pub contact_id: i64,
    pub value: Value,
    pub reason: String,
}

/// What a change of kind or options did, or would do, to the stored values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConversionReport {
    /// Values checked.
    pub checked: u64,
    /// Values rewritten to the new form.
    pub converted: u64,
    /// Values that could not be converted (all of them).
    pub failed: Vec<Unconvertible>,
    /// Whether the failed values were removed (only with `drop_unconvertible`).
    pub dropped: bool,
}

impl ConversionReport {
    /// The report as JSON, for an API answer or an error's details.
    pub fn to_json(&self) -> Value {
        json!({
            "checked": self.checked,
            "converted": self.converted,
            "dropped": self.dropped,
            "failed": self.failed.iter().map(|f| json!({"contact_id": f.contact_id, "value": f.value, "reason": f.reason})).collect::<Vec<_>>(),
        })
    }
}

/// The field definitions and the type tree: what a contact write is checked against.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub fields: Vec<FieldDef>,
    pub types: TypeTree,
}

impl Schema {
    /// The definition of `key`.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Applies `changes` (a `null` removes a value) to `current` for a contact of type
    /// `type_key`, checking each changed value and every required field. Errors carry the
    /// path `fields.<key>`, every problem at once.
    ///
    /// A value for a field that doesn't apply to the type is refused, never dropped; a
    /// value sent unchanged (a form sends back what it showed) is not judged again, so a
    /// value stored before the field's types changed doesn't block other edits. With
    /// `type_key` `None` (the type itself is wrong) only the values are checked.
    pub fn merge_fields(
        &self,
        type_key: Option<&str>,
        current: &Map<String, Value>,
        changes: &Map<String, Value>,
    ) -> Result<Map<String, Value>> {
        let mut problems = Problems::default();
        let mut out = current.clone();
        for (key, value) in changes {
            let path = format!("fields.{key}");
            let Some(def) = self.field(key) else {
                problems.add(&path, "no such field; define it first");
                continue;
            };
            if value::is_blank(value) {
                out.remove(key);
                continue;
            }
            let normalized = match value::normalize(def.kind, &def.options, value) {
                Ok(v) => v,
                Err(m) => {
                    problems.add(&path, m);
                    continue;
                }
            };
            if let Some(type_key) = type_key
                && current.get(key) != Some(&normalized)
                && !def.applies_to_type(&self.types, type_key)
            {
                let label = self.types.by_key(type_key).map_or(type_key, |t| t.label.as_str());
                problems.add(
                    &path,
                    format!(
                        "{} does not apply to contacts of type {label}; clear it or choose another type",
                        def.label
                    ),
                );
                continue;
            }
            out.insert(key.clone(), normalized);
        }
        if let Some(type_key) = type_key {
            for def in &self.fields {
                let path = format!("fields.{}", def.key);
                if def.required
                    && def.applies_to_type(&self.types, type_key)
                    && !out.contains_key(&def.key)
                    && !problems.has(&path)
                {
                    problems.add(path, "is required");
                }
            }
        }
        problems.into_result()?;
        Ok(out)
    }
}

fn check_definition(
    kind: &str,
    label: &str,
    options: &[String],
    applies_to: &[String],
    tree: &TypeTree,
) -> Result<(FieldKind, String, Vec<String>)> {
    let kind = FieldKind::parse_field(kind).ok_or_else(|| {
        let all: Vec<&str> = FieldKind::FIELDS.iter().map(|k| k.as_str()).collect();
        Error::invalid(
            "kind",
            format!("unknown kind `{kind}`; expected one of {}", all.join(", ")),
        )
    })?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(Error::invalid("label", "must have 1 to 100 characters"));
    }
    if label.chars().any(char::is_control) {
        return Err(Error::invalid("label", "must not contain control characters"));
    }
    let mut clean: Vec<String> = Vec::new();
    for (i, option) in options.iter().enumerate() {
        let o = option.trim();
        if o.is_empty() {
            return Err(Error::invalid(format!("options[{i}]"), "must not be empty"));
        }
        if o.chars().any(char::is_control) || o.chars().count() > 200 {
            return Err(Error::invalid(
                format!("options[{i}]"),
                "must be at most 200 characters, without control characters",
            ));
        }
        if clean.iter().any(|c| c == o) {
            return Err(Error::invalid(
                format!("options[{i}]"),
                format!("`{o}` is listed twice"),
            ));
        }
        clean.push(o.to_owned());
    }
    if kind.has_options() && clean.is_empty() {
        return Err(Error::invalid(
            "options",
            format!("a {kind} field needs at least one option"),
        ));
    }
    if !kind.has_options() && !clean.is_empty() {
        return Err(Error::invalid("options", format!("a {kind} field takes no options")));
    }
    for (i, key) in applies_to.iter().enumerate() {
        if tree.by_key(key).is_none() {
            return Err(Error::invalid(
                format!("applies_to[{i}]"),
                crate::contact_types::unknown_type(key),
            ));
        }
    }
    Ok((kind, label.to_owned(), clean))
}

/// A condition true where `contacts.fields` holds `key`.
fn has_field(backend: DbBackend, key: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust_with_values("jsonb_exists(\"contacts\".\"fields\", $1)", [key.to_owned()]),
        _ => Expr::cust_with_values(
            "json_type(\"contacts\".\"fields\", ?) IS NOT NULL",
            [format!("$.\"{key}\"")],
        ),
    }
}

impl Core {
    /// Every field definition, in display order.
    pub async fn list_fields(&self) -> Result<Vec<FieldDef>> {
        field_defs::Entity::find()
            .order_by_asc(field_defs::Column::Position)
            .order_by_asc(field_defs::Column::Id)
            .all(&self.db)
            .await?
            .into_iter()
            .map(FieldDef::from_model)
            .collect()
    }

    /// One field definition.
    pub async fn get_field(&self, key: &str) -> Result<FieldDef> {
        if !valid_key(key) {
            return Err(Error::NotFound { what: "field" });
        }
        let model = field_defs::Entity::find()
            .filter(field_defs::Column::Key.eq(key))
            .one(&self.db)
            .await?;
        FieldDef::from_model(model.ok_or(Error::NotFound { what: "field" })?)
    }

    /// The schema contact writes are checked against.
    pub async fn schema(&self) -> Result<Schema> {
        Ok(Schema {
            fields: self.list_fields().await?,
            types: self.type_tree().await?,
        })
    }

    /// Defines a new field.
    pub async fn create_field(&self, actor: &Actor, input: NewField) -> Result<FieldDef> {
        actor.require_admin()?;
        let key = input.key.trim().to_owned();
        if !valid_key(&key) {
            return Err(Error::invalid(
                "key",
                "must start with a lowercase letter and contain only a-z, 0-9 and _ (at most 63)",
            ));
        }
        let schema = self.schema().await?;
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
        let now = stored(self.clock.now());
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
        .insert(&self.db)
        .await?;
        crate::filter::indexes::ensure_field_index(&self.db, &key, kind).await?;
        self.definitions_changed(false).await?;
        self.get_field(&key).await
    }

    /// Changes a field. A new kind or new options convert the stored values; see the module
    /// documentation for what happens to values that can't be converted.
    pub async fn update_field(
        &self,
        actor: &Actor,
        key: &str,
        patch: FieldPatch,
    ) -> Result<(FieldDef, ConversionReport)> {
        actor.require_admin()?;
        self.get_field(key).await?;
        let model = field_defs::Entity::find()
            .filter(field_defs::Column::Key.eq(key))
            .one(&self.db)
            .await?
            .ok_or(Error::NotFound { what: "field" })?;
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

        let values_change = kind != current.kind || options != current.options;
        // What the contacts' folded text and search words depend on (see
        // `contacts::derived`): when it changes, every holder of a value is recomputed.
        let derived_change = kind != current.kind || patch.searchable.is_some_and(|s| s != current.searchable);
        // The values are read, converted and rewritten, and the definition changed, under
        // the schema lock: no contact write slips an old-kind value in between.
        let txn = derived::begin_schema_change(&self.db).await?;
        let mut report = ConversionReport::default();
        let mut rewrites: Vec<(i64, Option<Value>, Value)> = Vec::new();
        if values_change {
            for (id, old) in values_of(&txn, key).await? {
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
            txn.rollback().await?;
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

        let now = stored(self.clock.now());
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
        active.updated_at = Set(now);
        active.update(&txn).await?;
        // The new definition first: the values below are folded and indexed under it.
        let fold_schema = FoldSchema::read(&txn).await?;
        for (id, new, old) in rewrites {
            rewrite_value(&txn, &fold_schema, actor, now, id, key, new, old).await?;
        }
        if derived_change {
            let backend = txn.get_database_backend();
            derived::recompute(&txn, &fold_schema, Condition::all().add(has_field(backend, key))).await?;
        }
        txn.commit().await?;
        if kind != current.kind {
            // The expression index is typed by kind (a number cast, text): rebuild it.
            crate::filter::indexes::drop_field_index(&self.db, key).await?;
            crate::filter::indexes::ensure_field_index(&self.db, key, kind).await?;
        }
        // A new kind or new options convert stored values under the filters.
        self.definitions_changed(kind != current.kind).await?;
        Ok((self.get_field(key).await?, report))
    }

    /// Removes a field. Refused while contacts hold values, unless `drop_values`; then the
    /// values are removed, each with an audit record.
    pub async fn delete_field(&self, actor: &Actor, key: &str, drop_values: bool) -> Result<u64> {
        actor.require_admin()?;
        self.get_field(key).await?;
        let model = field_defs::Entity::find()
            .filter(field_defs::Column::Key.eq(key))
            .one(&self.db)
            .await?
            .ok_or(Error::NotFound { what: "field" })?;
        let txn = derived::begin_schema_change(&self.db).await?;
        let values = values_of(&txn, key).await?;
        if !values.is_empty() && !drop_values {
            txn.rollback().await?;
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
        let now = stored(self.clock.now());
        let removed = values.len() as u64;
        field_defs::Entity::delete_by_id(model.id).exec(&txn).await?;
        let fold_schema = FoldSchema::read(&txn).await?;
        for (id, old) in values {
            rewrite_value(&txn, &fold_schema, actor, now, id, key, None, old).await?;
        }
        txn.commit().await?;
        crate::filter::indexes::drop_field_index(&self.db, key).await?;
        self.definitions_changed(false).await?;
        Ok(removed)
    }
}

/// Every stored value of field `key`, by contact id.
async fn values_of(db: &impl ConnectionTrait, key: &str) -> Result<Vec<(i64, Value)>> {
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let page = contacts::Entity::find()
            .select_only()
            .column(contacts::Column::Id)
            .column(contacts::Column::Fields)
            .filter(contacts::Column::Id.gt(after))
            .filter(has_field(backend, key))
            .order_by_asc(contacts::Column::Id)
            .limit(1000)
            .into_tuple::<(i64, Value)>()
            .all(db)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.0;
        out.extend(
            page.into_iter()
                .filter_map(|(id, fields)| fields.get(key).cloned().map(|v| (id, v))),
        );
    }
    Ok(out)
}

/// Sets (or with `None` removes) one field value of one contact, bumping its version,
/// recomputing its derived columns under `fold_schema` and recording the old and new value
/// in its audit trail.
#[allow(clippy::too_many_arguments)]
async fn rewrite_value(
    db: &impl ConnectionTrait,
    fold_schema: &FoldSchema,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
    contact_id: i64,
    key: &str,
    new: Option<Value>,
    old: Value,
) -> Result<()> {
    let Some(mut row) = contacts::Entity::find_by_id(contact_id).one(db).await? else {
        return Ok(());
    };
    let mut fields: BTreeMap<String, Value> = match std::mem::take(&mut row.fields) {
        Value::Object(map) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    match &new {
        Some(v) => fields.insert(key.to_owned(), v.clone()),
        None => fields.remove(key),
    };
    row.fields = Value::Object(fields.into_iter().collect());
    let mut columns = contacts::ActiveModel {
        fields: Set(row.fields.clone()),
        ..Default::default()
    };
    Derived::compute(&Source::of_model(&row), fold_schema).set_on(&mut columns);
    contacts::Entity::update_many()
        .set(columns)
        .col_expr(contacts::Column::Version, Expr::col(contacts::Column::Version).add(1))
        .col_expr(contacts::Column::UpdatedAt, Expr::value(now))
        .filter(contacts::Column::Id.eq(contact_id))
        .exec(db)
        .await?;
    contact_events::ActiveModel {
        contact_id: Set(contact_id),
        user_id: Set(Some(actor.user_id)),
        at: Set(now),
        action: Set(if new.is_some() {
            "field_converted"
        } else {
            "field_value_removed"
        }
        .into()),
        changes: Set(json!({ format!("fields.{key}"): [old, new] })),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
