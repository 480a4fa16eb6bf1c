//! Base-wide settings that admins change at run time, kept in the one row of `settings`.
//!
//! - **Default contact type**: a contact created without a type gets this one (the API's
//!   `POST /api/v1/contacts` without `type`, an import row without one). Seeded as `lead`
//!   on new and migrated bases; an admin changes it on the contact types page or with
//!   `PUT /api/v1/settings`, or clears it, after which a contact without a type is refused
//!   at `type`. Removing the default type moves the default along with its contacts when
//!   they move to another type, and clears it otherwise.
//!
//! A typed column per setting, not key/value rows: the default type is a foreign key to
//! `contact_types`, so the database itself keeps it pointing at a type that exists.

use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entities::settings;
use crate::kernel::identity::Actor;
use crate::schema::SchemaService;
use crate::{Error, Result};

/// The settings as read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// The key of the type a contact created without one gets; `None`: a type is required.
    pub default_contact_type: Option<String>,
}

/// A change to the settings; `None` leaves a setting alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsPatch {
    /// `Some(None)` clears the default type.
    pub default_contact_type: Option<Option<String>>,
}

/// The id of the one settings row.
const ROW: i32 = 1;

/// Sets the default type's id (`None` clears it), creating the row if it is missing.
pub(crate) async fn set_default_type(db: &impl ConnectionTrait, type_id: Option<i64>) -> Result<()> {
    settings::Entity::insert(settings::ActiveModel {
        id: Set(ROW),
        default_type_id: Set(type_id),
    })
    .on_conflict(
        OnConflict::column(settings::Column::Id)
            .update_column(settings::Column::DefaultTypeId)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Moves the default from type `from` to `to` (`None` clears it) when `from` is the
/// default; used when a type is removed.
pub(crate) async fn move_default_type(db: &impl ConnectionTrait, from: i64, to: Option<i64>) -> Result<()> {
    settings::Entity::update_many()
        .col_expr(settings::Column::DefaultTypeId, Expr::value(to))
        .filter(settings::Column::DefaultTypeId.eq(from))
        .exec(db)
        .await?;
    Ok(())
}

impl SchemaService {
    /// The settings.
    pub async fn settings(&self) -> Result<Settings> {
        let row = settings::Entity::find_by_id(ROW).one(&self.base.db).await?;
        let default_contact_type = match row.and_then(|r| r.default_type_id) {
            Some(id) => self.type_tree().await?.by_id(id).map(|t| t.key.clone()),
            None => None,
        };
        Ok(Settings { default_contact_type })
    }

    /// Changes the settings (admins); errors are at the setting's name.
    pub async fn update_settings(&self, actor: &Actor, patch: SettingsPatch) -> Result<Settings> {
        actor.require_admin()?;
        if let Some(key) = patch.default_contact_type {
            let type_id = match key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                None => None,
                Some(key) => Some(
                    self.type_tree()
                        .await?
                        .by_key(key)
                        .ok_or_else(|| Error::invalid("default_contact_type", crate::contact_types::unknown_type(key)))?
                        .id,
                ),
            };
            set_default_type(&self.base.db, type_id).await?;
        }
        self.settings().await
    }
}
