//! The actions the host runs itself: `access.revoke_access`, which takes back the
//! grants a user or a role has on the targets.
//!
//! Why not in the `access` plugin beside `grant_access`: the contract
//! (`kartoteka:plugin@0.1.0`) has no revoke effect, and a variant can't be added to it
//! without a new contract version that every action plugin would have to follow. So the
//! host offers it, with the same jobs, dry runs, outcomes and rights (admins only, as
//! granting), and it works even while the `access` plugin is disabled: taking access
//! back must never depend on a plugin.

use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::auth::Role;
use crate::plugin::ActionEntry;
use crate::plugin::values::{ActionContact, Capability, Effect, EffectKind, Principal};
use crate::{Error, Result};

/// The name of the host's revoke action.
pub const REVOKE_ACCESS: &str = "access.revoke_access";

/// The host's actions, for the actions menu.
pub fn actions() -> Vec<ActionEntry> {
    vec![ActionEntry {
        name: REVOKE_ACCESS.into(),
        plugin: "access".into(),
        action: "revoke_access".into(),
        label: "Revoke access".into(),
        capabilities: vec![Capability::GrantAccess],
        params_schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Revoke",
            "type": "object",
            "properties": {
                "principal": {
                    "description": "Whose access to take back: a user, or everyone with a role.",
                    "oneOf": [
                        {"type": "object", "properties": {"user": {"type": "integer", "description": "The user's id."}},
                         "required": ["user"], "additionalProperties": false},
                        {"type": "object", "properties": {"role": {"type": "string", "enum": ["admin", "manager", "agent"]}},
                         "required": ["role"], "additionalProperties": false}
                    ]
                }
            },
            "required": ["principal"],
            "additionalProperties": false
        }),
    }]
}

/// Whether `name` is one of the host's actions.
pub fn is_native(name: &str) -> bool {
    name == REVOKE_ACCESS
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeParams {
    principal: PrincipalParam,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum PrincipalParam {
    User(i64),
    Role(String),
}

/// The principal of `params`, checked; errors at `params.<path>`.
fn principal(params: Option<&Json>) -> Result<Principal> {
    let params = params.cloned().unwrap_or(Json::Null);
    let parsed: RevokeParams = serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." {
            "params".to_owned()
        } else {
            format!("params.{path}")
        };
        Error::invalid(at, e.into_inner().to_string())
    })?;
    Ok(match parsed.principal {
        PrincipalParam::User(id) => Principal::User(id),
        PrincipalParam::Role(role) => {
            role.parse::<Role>()
                .map_err(|e| Error::invalid("params.principal.role", e.to_string()))?;
            Principal::Role(role)
        }
    })
}

/// Checks the parameters of host action `name`.
pub fn check(name: &str, params: Option<&Json>) -> Result<()> {
    match name {
        REVOKE_ACCESS => principal(params).map(|_| ()),
        other => Err(Error::Internal(format!("`{other}` is not a host action"))),
    }
}

/// The effects of host action `name` on a batch.
pub fn run(name: &str, params: Option<&Json>, contacts: &[ActionContact]) -> Result<Vec<Effect>> {
    match name {
        REVOKE_ACCESS => {
            let principal = principal(params)?;
            Ok(contacts
                .iter()
                .map(|c| Effect {
                    contact_id: c.id,
                    effect: EffectKind::RevokeAccess {
                        principal: principal.clone(),
                    },
                })
                .collect())
        }
        other => Err(Error::Internal(format!("`{other}` is not a host action"))),
    }
}
