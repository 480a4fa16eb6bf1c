//! Who may make whom a contact's owner.
//!
//! Owning a contact is what makes it visible to a manager or an agent, so choosing the
//! owner is not part of ordinary write access:
//!
//! - An **admin** may make any user the owner (or leave a contact without one), on create
//!   and on update.
//! - The **current owner** may hand their contact to any user, or to nobody; the write
//!   answers the state written, even though the contact may now be out of their sight.
//! - Anyone else with write access (a write grant, personal or by role) may change every
//!   other property but not the owner: otherwise a grantee could make the contact theirs
//!   and keep it after the grant is revoked.
//! - A **manager** or an **agent** creates contacts owned by themselves only. The role
//!   model (`crate::auth::Role`) gives managers no rights over other people's contacts
//!   beyond their grants (managers differ from agents in what they may define: segments),
//!   so assigning new contacts to other people is an admin's decision.
//!
//! An owner a non-admin may not choose answers the same message whether or not a user with
//! that id exists, so the answer doesn't tell which user ids exist.

use sea_orm::EntityTrait;

use super::Contact;
use crate::auth::Actor;
use crate::entities::users;
use crate::{Core, Error, Result};

/// The answer to a manager or agent creating a contact for someone else.
pub const ONLY_YOURSELF: &str = "you may only create contacts that you own; an admin may assign them to another user";

/// The answer to a non-owner changing the owner.
pub const ONLY_OWNER: &str = "only the contact's owner or an admin may change its owner";

impl Core {
    /// Checks that `actor` may make `wanted` the owner of `current` (a new contact when
    /// `None`; see the module docs).
    pub(super) async fn check_owner(
        &self,
        actor: &Actor,
        current: Option<&Contact>,
        wanted: Option<i64>,
    ) -> Result<()> {
        if let Some(current) = current
            && current.owner_id == wanted
        {
            return Ok(());
        }
        if !actor.is_admin() {
            match current {
                None if wanted != Some(actor.user_id) => return Err(Error::invalid("owner", ONLY_YOURSELF)),
                Some(c) if c.owner_id != Some(actor.user_id) => return Err(Error::invalid("owner", ONLY_OWNER)),
                _ => {}
            }
        }
        if let Some(owner) = wanted
            && users::Entity::find_by_id(owner).one(&self.db).await?.is_none()
        {
            return Err(Error::invalid("owner", format!("no user with id {owner}")));
        }
        Ok(())
    }
}
