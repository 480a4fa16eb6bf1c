//! Identity: who is acting ([`Actor`]) and what each [`Role`] may do. Every layer checks
//! it, so it sits below all of them; accounts, passwords and sessions are the records
//! layer's ([`crate::auth`]), which re-exports these under their old paths.

use crate::{Error, Result};

/// What a user may do. Admins see and change everything; managers and agents see the
/// contacts they own or were granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Manager,
    Agent,
}

impl Role {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }

    /// Every role, for pickers.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Manager, Role::Agent];
}

impl std::str::FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "admin" => Ok(Role::Admin),
            "manager" => Ok(Role::Manager),
            "agent" => Ok(Role::Agent),
            other => Err(Error::invalid(
                "role",
                format!("unknown role `{other}`; expected admin, manager or agent"),
            )),
        }
    }
}

/// Who is acting: every service call that touches contacts takes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
}

impl Actor {
    /// Whether the actor is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Fails with `Forbidden` unless the actor is an admin.
    pub fn require_admin(&self) -> Result<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(Error::Forbidden("only admins may do this".into()))
        }
    }

    /// Whether the actor may create, change and delete segments and change the members
    /// of static lists (admins and managers).
    pub fn may_change_segments(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Manager)
    }

    /// Fails with `Forbidden` unless the actor may change segments
    /// ([`Actor::may_change_segments`]).
    pub fn require_segment_editor(&self) -> Result<()> {
        if self.may_change_segments() {
            Ok(())
        } else {
            Err(Error::Forbidden("only admins and managers may change segments".into()))
        }
    }
}
