//! What a bulk action sees of a contact ([`ActionContact`]) and what it answers
//! ([`Effect`]), as host types, with the checks an answer passes before anything applies it.
//!
//! An answer is refused whole (a malformed answer is the plugin's bug, not a partial
//! result) when an effect names a contact that is not in the batch, needs a capability
//! the plugin may not use, or carries a text past its limit: an e-mail address or a title
//! of [`MAX_STRING`] bytes at most, a body of [`MAX_BODY`] (the answer as a whole is
//! bounded by [`super::super::limits::MAX_ANSWER_BYTES`] while it is copied out).

use serde::Serialize;
use serde_json::{Map, Value as Json};

use super::describe::Capability;
use crate::plugin::bindings::action::exports::kartoteka::plugin::action as wit;
use crate::plugin::limits::MAX_STRING;

/// The longest body (an e-mail's HTML or text, a task's body) an effect may carry.
pub const MAX_BODY: usize = 1 << 20;

/// A contact as a bulk action sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionContact {
    pub id: i64,
    /// The contact type's key.
    pub kind: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The owning user.
    pub owner: Option<i64>,
    /// The extra fields.
    pub fields: Map<String, Json>,
}

impl ActionContact {
    fn to_wit(&self) -> wit::Contact {
        wit::Contact {
            id: self.id,
            kind: self.kind.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            owner: self.owner,
            fields_json: Json::Object(self.fields.clone()).to_string(),
        }
    }
}

/// The contacts of a batch as the contract carries them.
pub fn contacts_to_wit(contacts: &[ActionContact]) -> Vec<wit::Contact> {
    contacts.iter().map(ActionContact::to_wit).collect()
}

/// Who gets access.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    User(i64),
    Role(String),
}

/// What should happen to a contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EffectKind {
    SendEmail {
        to: String,
        subject: String,
        html: String,
        text: String,
    },
    CreateTask {
        title: String,
        body: String,
        assignee: Option<i64>,
        /// Seconds since the Unix epoch.
        due: Option<i64>,
    },
    GrantAccess {
        principal: Principal,
        /// `read` or `write`.
        level: &'static str,
    },
    /// Takes back every grant of `principal` on the contact. No plugin answers it (the
    /// contract has no such effect yet): the host's own `access.revoke_access` action
    /// does (`crate::jobs::native`).
    RevokeAccess { principal: Principal },
}

impl EffectKind {
    /// The capability applying it needs.
    pub fn capability(&self) -> Capability {
        match self {
            EffectKind::SendEmail { .. } => Capability::SendEmail,
            EffectKind::CreateTask { .. } => Capability::CreateTask,
            EffectKind::GrantAccess { .. } | EffectKind::RevokeAccess { .. } => Capability::GrantAccess,
        }
    }
}

/// An effect on one contact of the batch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    pub contact_id: i64,
    #[serde(flatten)]
    pub effect: EffectKind,
}

fn limited(text: String, limit: usize, what: &str, at: usize) -> Result<String, String> {
    if text.len() > limit {
        Err(format!(
            "effect {at}: {what} is {} bytes long; at most {limit}",
            text.len()
        ))
    } else {
        Ok(text)
    }
}

/// Checks a `run` answer against its batch and the capabilities the plugin may use.
pub fn check_effects(
    answer: Vec<wit::Effect>,
    contacts: &[ActionContact],
    allowed: &[Capability],
) -> Result<Vec<Effect>, String> {
    answer
        .into_iter()
        .enumerate()
        .map(|(at, raw)| {
            if !contacts.iter().any(|c| c.id == raw.contact_id) {
                return Err(format!(
                    "effect {at} is on contact {}, which is not in the batch",
                    raw.contact_id
                ));
            }
            let effect = match raw.effect {
                wit::EffectKind::SendEmail(e) => EffectKind::SendEmail {
                    to: limited(e.to, MAX_STRING, "the address", at)?,
                    subject: limited(e.subject, MAX_STRING, "the subject", at)?,
                    html: limited(e.html, MAX_BODY, "the HTML body", at)?,
                    text: limited(e.text, MAX_BODY, "the text body", at)?,
                },
                wit::EffectKind::CreateTask(t) => EffectKind::CreateTask {
                    title: limited(t.title, MAX_STRING, "the title", at)?,
                    body: limited(t.body, MAX_BODY, "the body", at)?,
                    assignee: t.assignee,
                    due: t.due,
                },
                wit::EffectKind::GrantAccess(g) => EffectKind::GrantAccess {
                    principal: match g.principal {
                        wit::Principal::User(id) => Principal::User(id),
                        wit::Principal::Role(role) => Principal::Role(limited(role, MAX_STRING, "the role", at)?),
                    },
                    level: match g.level {
                        wit::AccessLevel::Read => "read",
                        wit::AccessLevel::Write => "write",
                    },
                },
            };
            let needs = effect.capability();
            if !allowed.contains(&needs) {
                return Err(format!(
                    "effect {at} needs the `{}` capability, which the plugin may not use",
                    needs.as_str()
                ));
            }
            Ok(Effect {
                contact_id: raw.contact_id,
                effect,
            })
        })
        .collect()
}
