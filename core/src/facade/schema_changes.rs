//! Schema changes and what follows them: the definitions change in the schema layer, the
//! contacts' values move through the one writer of contacts in the same transaction, the
//! expression indexes follow the fields, and the segments are prepared (or rebuilt) again.

use sea_orm::ConnectionTrait;
use sea_orm::sea_query::Condition;

use crate::auth::Actor;
use crate::contact_types::{ContactType, ContactTypePatch, NewContactType};
use crate::contacts::derived::FoldSchema;
use crate::contacts::recompute;
use crate::fields::{ConversionReport, FieldDef, FieldPatch, NewField, has_field};
use crate::schema::SchemaChange;
use crate::{Core, Result};

impl Core {
    /// Creates a contact type under `parent` (or as a root).
    pub async fn create_contact_type(&self, actor: &Actor, input: NewContactType) -> Result<ContactType> {
        let (created, change) = self.schema().create_contact_type(actor, input).await?;
        self.schema_changed(change).await?;
        Ok(created)
    }

    /// Renames or moves a contact type; a move rebuilds the segments.
    pub async fn update_contact_type(&self, actor: &Actor, key: &str, patch: ContactTypePatch) -> Result<ContactType> {
        let (updated, change) = self.schema().update_contact_type(actor, key, patch).await?;
        self.schema_changed(change).await?;
        Ok(updated)
    }

    /// Removes a contact type, moving its contacts to `reassign_to` (see
    /// [`crate::schema::SchemaService::check_type_removal`]).
    pub async fn delete_contact_type(&self, actor: &Actor, key: &str, reassign_to: Option<&str>) -> Result<()> {
        let removal = self.schema().check_type_removal(actor, key, reassign_to).await?;
        // Under the schema lock: no contact write picks the type while it goes.
        let mut write = self.schema_write(actor).await?;
        if let Some(target) = &removal.target {
            let changes = serde_json::json!({"type": [removal.current.key, target.key]});
            write.retype(removal.current.id, target.id, changes).await?;
        }
        let change = self.schema().remove_type(write.txn(), removal).await?;
        write.commit().await?;
        self.schema_changed(change).await
    }

    /// Defines a new field, with its expression index.
    pub async fn create_field(&self, actor: &Actor, input: NewField) -> Result<FieldDef> {
        let def = self.schema().create_field(actor, input).await?;
        crate::filter::indexes::ensure_field_index(&self.db, &def.key, def.kind).await?;
        self.schema_changed(SchemaChange::default()).await?;
        Ok(def)
    }

    /// Changes a field. A new kind or new options convert the stored values; see
    /// [`crate::fields`] for what happens to values that can't be converted.
    pub async fn update_field(
        &self,
        actor: &Actor,
        key: &str,
        patch: FieldPatch,
    ) -> Result<(FieldDef, ConversionReport)> {
        let plan = self.schema().plan_field_change(actor, key, patch).await?;
        // The values are read, converted and rewritten, and the definition changed, under
        // the schema lock: no contact write slips an old-kind value in between.
        let mut write = self.schema_write(actor).await?;
        let change = match self.schema().apply_field_change(write.txn(), plan).await {
            Ok(change) => change,
            Err(e) => {
                write.rollback().await?;
                return Err(e);
            }
        };
        // The new definition first: the values below are folded and indexed under it.
        let fold_schema = FoldSchema::read(write.txn()).await?;
        for (id, new, old) in change.rewrites {
            write.set_field_value(&fold_schema, id, key, new, old).await?;
        }
        if change.derived_change {
            let txn = write.txn();
            let backend = txn.get_database_backend();
            recompute::recompute(txn, &fold_schema, Condition::all().add(has_field(backend, key))).await?;
        }
        let written = write.commit().await?;
        if change.kind_changed {
            // The expression index is typed by kind (a number cast, text): make it again.
            crate::filter::indexes::drop_field_index(&self.db, key).await?;
            crate::filter::indexes::ensure_field_index(&self.db, key, change.kind).await?;
        }
        // A new kind reads the values differently under the filters; converted or dropped
        // values move their contacts (the schema write ran no membership upkeep).
        self.schema_changed(SchemaChange {
            rebuild: change.kind_changed || !written.ids.is_empty(),
        })
        .await?;
        Ok((self.schema().get_field(key).await?, change.report))
    }

    /// Removes a field. Refused while contacts hold values, unless `drop_values`; then the
    /// values are removed, each with an audit record. Answers how many were.
    pub async fn delete_field(&self, actor: &Actor, key: &str, drop_values: bool) -> Result<u64> {
        let removal = self.schema().check_field_removal(actor, key).await?;
        let mut write = self.schema_write(actor).await?;
        let (values, change) = match self.schema().remove_field(write.txn(), removal, drop_values).await {
            Ok(done) => done,
            Err(e) => {
                write.rollback().await?;
                return Err(e);
            }
        };
        let removed = values.len() as u64;
        let fold_schema = FoldSchema::read(write.txn()).await?;
        for (id, old) in values {
            write.set_field_value(&fold_schema, id, key, None, old).await?;
        }
        write.commit().await?;
        crate::filter::indexes::drop_field_index(&self.db, key).await?;
        self.schema_changed(change).await?;
        Ok(removed)
    }

    /// Acts on what a schema change says must follow.
    async fn schema_changed(&self, change: SchemaChange) -> Result<()> {
        self.segments.definitions_changed(change.rebuild).await
    }
}
