//! Before a run: what an action answers for one contact (a message rendered for a
//! contact of the segment, a task's title), and a test message to the user who asks,
//! rendered for that contact. Nothing of a job is made; a test message is queued in the
//! outbox with no job and goes to the asking user's own address.

use sea_orm::{EntityTrait, Set};
use serde_json::Value as Json;

use super::{Jobs, action_contact};
use crate::auth::Actor;
use crate::clock::stored;
use crate::entities::outbox;
use crate::plugin::CallContext;
use crate::plugin::values::{Capability, Effect, EffectKind};
use crate::{Error, Result};

impl Jobs {
    /// The effects action `name` answers for contact `contact_id` (which `actor` must
    /// see) with `params`, applying none. Errors as [`Jobs::start`] gives them for the
    /// action and its parameters (`params.*`), [`Error::NotFound`] for the contact.
    pub async fn preview(
        &self,
        actor: &Actor,
        name: &str,
        params: Option<&Json>,
        contact_id: i64,
    ) -> Result<Vec<Effect>> {
        if !actor.may_change_segments() {
            return Err(Error::Forbidden("only admins and managers may run bulk actions".into()));
        }
        let action = self.action(actor, name).await?;
        let contact = action_contact(&self.reader.get_contact(actor, contact_id).await?);
        let now = self.base.clock.now().timestamp();
        if super::native::is_native(&action.name) {
            super::native::check(&action.name, params)?;
            return super::native::run(&action.name, params, std::slice::from_ref(&contact));
        }
        self.plugins
            .run(
                &action.plugin,
                &action.action,
                params,
                vec![contact],
                now,
                CallContext::Request,
            )
            .await
    }

    /// Renders action `name` (one that sends e-mail) for contact `contact_id` and queues
    /// the message to `actor`'s own address: the outbox id. Refused, saying why, when the
    /// server can't send, the action sends no e-mail, or it answers none for the contact.
    pub async fn send_test(&self, actor: &Actor, name: &str, params: Option<&Json>, contact_id: i64) -> Result<i64> {
        let action = self.action(actor, name).await?;
        if !action.capabilities.contains(&Capability::SendEmail) {
            return Err(Error::invalid("action", format!("`{name}` sends no e-mail")));
        }
        if let Some(reason) = self.mail.get().refusal() {
            return Err(Error::conflict(reason));
        }
        let effects = self.preview(actor, name, params, contact_id).await?;
        let Some((subject, html, text)) = effects.into_iter().find_map(|e| match e.effect {
            EffectKind::SendEmail {
                subject, html, text, ..
            } => Some((subject, html, text)),
            _ => None,
        }) else {
            return Err(Error::invalid(
                "contact_id",
                format!("`{name}` makes no message for contact {contact_id} (has it an e-mail address?)"),
            ));
        };
        let now = stored(self.base.clock.now());
        let id = outbox::Entity::insert(outbox::ActiveModel {
            job_id: Set(None),
            contact_id: Set(contact_id),
            effect_index: Set(0),
            recipient: Set(actor.email.clone()),
            subject: Set(format!("[Test] {subject}")),
            html: Set(html),
            plain: Set(text),
            state: Set("queued".into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            ..Default::default()
        })
        .exec(&self.base.db)
        .await?
        .last_insert_id;
        self.mail.wake();
        Ok(id)
    }
}
