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
//! A deactivated user is given nothing new: choosing them as the owner is refused (a
//! contact they own keeps them until someone changes it), and pickers offer active users
//! ([`ContactReader::choosable_people`]).
//!
//! An owner a non-admin may not choose answers the same message whether or not a user with
//! that id exists, so the answer doesn't tell which user ids exist. Where people are
//! named (the owner on a card, the owner picker), managers and agents see names; only
//! admins see e-mail addresses ([`ContactReader::people`]).

use sea_orm::{EntityTrait, QueryOrder};

use super::Contact;
use super::ContactReader;
use crate::auth::Actor;
use crate::entities::users;
use crate::{Error, Result};

/// The answer to a manager or agent creating a contact for someone else.
pub const ONLY_YOURSELF: &str = "you may only create contacts that you own; an admin may assign them to another user";

/// The answer to a non-owner changing the owner.
pub const ONLY_OWNER: &str = "only the contact's owner or an admin may change its owner";

/// Why deactivated user `u` can't be given new contacts or tasks.
pub fn deactivated(u: &users::Model) -> String {
    let name = if u.name.trim().is_empty() { &u.email } else { &u.name };
    format!("{name} is deactivated and gets no new contacts or tasks; choose an active user")
}

impl ContactReader {
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
        // The actor exists: they are acting.
        if let Some(owner) = wanted
            && owner != actor.user_id
        {
            match users::Entity::find_by_id(owner).one(&self.base.db).await? {
                None => return Err(Error::invalid("owner", format!("no user with id {owner}"))),
                Some(u) if u.deactivated_at.is_some() => return Err(Error::invalid("owner", deactivated(&u))),
                Some(_) => {}
            }
        }
        Ok(())
    }
}

impl ContactReader {
    /// Every user as `actor` may see them, by name: `(id, label)`, the label being the
    /// name, with the e-mail address for admins (and the address for a user without a
    /// name, to admins; `user <id>` to others). Deactivated users are in it: they still
    /// name the contacts and tasks they had.
    pub async fn people(&self, actor: &Actor) -> Result<Vec<(i64, String)>> {
        Ok(self
            .labelled(actor)
            .await?
            .into_iter()
            .map(|(id, label, _)| (id, label))
            .collect())
    }

    /// The users a picker offers for a new owner or assignee: the active ones, and `keep`
    /// (the one chosen now) even when deactivated, so that a form shows what is stored.
    pub async fn choosable_people(&self, actor: &Actor, keep: Option<i64>) -> Result<Vec<(i64, String)>> {
        Ok(self
            .labelled(actor)
            .await?
            .into_iter()
            .filter(|(id, _, active)| *active || Some(*id) == keep)
            .map(|(id, label, _)| (id, label))
            .collect())
    }

    async fn labelled(&self, actor: &Actor) -> Result<Vec<(i64, String, bool)>> {
        let users = users::Entity::find()
            .order_by_asc(users::Column::Name)
            .order_by_asc(users::Column::Id)
            .all(&self.base.db)
            .await?;
        Ok(users
            .into_iter()
            .map(|u| {
                let label = match (u.name.trim(), actor.is_admin()) {
                    ("", true) => u.email,
                    ("", false) => format!("user {}", u.id),
                    (name, true) => format!("{name} <{}>", u.email),
                    (name, false) => name.to_owned(),
                };
                (u.id, label, u.deactivated_at.is_none())
            })
            .collect())
    }
}
