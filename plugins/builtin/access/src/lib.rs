//! `access`: the built-in bulk action `access.grant_access`, which gives one user, or
//! everyone with a role, read or write access to every contact of the batch.
//!
//! The roles are the server's own: `admin`, `manager`, `agent`; any other is refused at
//! `params.principal.role` before anything happens.

use kartoteka_plugin_sdk::prelude::*;

/// The parameters of `grant_access`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Who gets access: `{"user": ID}`, one user, or `{"role": "admin" | "manager" |
    /// "agent"}`, everyone with that role.
    pub principal: Who,
    /// The access they get: `"read"` or `"write"`.
    pub level: Level,
}

/// Who gets access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// A user, by id.
    User(i64),
    /// Everyone with a role.
    Role(Role),
}

/// A user role of the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Agent,
}

impl Role {
    /// The role's name, as the server spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
        }
    }
}

/// An access level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Read access.
    Read,
    /// Write access.
    Write,
}

impl Params {
    /// The grant every contact of the batch gets.
    fn grant(&self) -> GrantAccess {
        GrantAccess {
            principal: match self.principal {
                Who::User(user) => Principal::User(user),
                Who::Role(role) => Principal::Role(role.as_str().to_owned()),
            },
            level: match self.level {
                Level::Read => AccessLevel::Read,
                Level::Write => AccessLevel::Write,
            },
        }
    }
}

/// `access.grant_access`: one grant per contact of the batch.
#[derive(Default)]
pub struct GrantAccessAction;

impl Action for GrantAccessAction {
    const NAME: &'static str = "grant_access";
    const LABEL: &'static str = "Grant access";
    const CAPABILITIES: &'static [Capability] = &[Capability::GrantAccess];
    type Params = Params;

    fn run(&mut self, params: &Params, contacts: &[Contact]) -> Result<Vec<Effect>, PluginError> {
        let grant = params.grant();
        Ok(contacts
            .iter()
            .map(|contact| Effect::grant_access(contact, grant.clone()))
            .collect())
    }
}

/// The plugin.
pub struct Access;

plugin!(Access {
    name: "access",
    description: "Gives users or roles access to contacts.",
    actions: [GrantAccessAction],
});

#[cfg(test)]
mod tests;
