//! What recipients do with a message: open it (the pixel), click a link (the redirect),
//! unsubscribe (the one-click POST, or the button on the confirmation page).
//!
//! None of these needs a session: the signed token is the permission. An open and a click
//! are `email_open` / `email_click` activities on the contact (segments and scores follow
//! at once); the first of each is also stamped on the message for the campaign's counts.
//! An unsubscribe is a row in `email_unsubscribes`: every later send skips the contact,
//! the messages already queued included (checked at the handoff).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use super::Mail;
use super::links::{self, Purpose};
use crate::activities::{Activities, NewActivity};
use crate::clock::stored;
use crate::entities::{email_unsubscribes, outbox};
use crate::{Error, Result};

/// What the unsubscribe page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The address, partly hidden (`a***@example.com`).
    pub address: String,
    /// Whether the contact has unsubscribed already.
    pub done: bool,
}

/// `ada@example.com` as `a***@example.com`.
fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((user, domain)) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

impl Mail {
    /// The message a token names for `purpose`, when the signature is right.
    async fn signed(&self, purpose: Purpose, token: &str, url: &str) -> Result<outbox::Model> {
        let config = self.settings.get();
        let secret = config.secret.as_deref().ok_or(Error::NotFound { what: "link" })?;
        let id = links::verify(secret, purpose, token, url).ok_or(Error::NotFound { what: "link" })?;
        outbox::Entity::find_by_id(id)
            .one(&self.base.db)
            .await?
            .ok_or(Error::NotFound { what: "link" })
    }

    /// Records an event of a recipient as an activity, and stamps the first on the message.
    async fn event(&self, row: &outbox::Model, kind: &str, url: Option<&str>) -> Result<()> {
        let now = stored(self.base.clock.now());
        let mut write = self.activities.system_write(0).await?;
        let column = if kind == "email_open" {
            outbox::Column::OpenedAt
        } else {
            outbox::Column::ClickedAt
        };
        outbox::Entity::update_many()
            .col_expr(column, Expr::value(Some(now)))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(column.is_null())
            .exec(write.txn())
            .await?;
        if row.job_id.is_some() {
            let mut properties = serde_json::Map::new();
            properties.insert("job_id".into(), json!(row.job_id));
            properties.insert("message_id".into(), json!(row.id));
            if let Some(url) = url {
                properties.insert("url".into(), json!(url));
            }
            Activities::insert_system(
                &mut write,
                vec![NewActivity {
                    contact_id: row.contact_id,
                    kind: kind.into(),
                    occurred_at: Some(now),
                    properties,
                    amount: None,
                }],
                now,
            )
            .await?;
        }
        write.commit().await?;
        Ok(())
    }

    /// The open pixel was loaded. A bad token is [`Error::NotFound`].
    pub async fn opened(&self, token: &str) -> Result<()> {
        let row = self.signed(Purpose::Open, token, "").await?;
        self.event(&row, "email_open", None).await
    }

    /// A link was clicked: the URL to redirect to, which is the one the message had.
    pub async fn clicked(&self, token: &str, url: &str) -> Result<String> {
        let row = self.signed(Purpose::Click, token, url).await?;
        self.event(&row, "email_click", Some(url)).await?;
        Ok(url.to_owned())
    }

    /// What the unsubscribe page of `token` shows (changes nothing: link scanners GET).
    pub async fn unsubscribe_page(&self, token: &str) -> Result<Unsubscribe> {
        let row = self.signed(Purpose::Unsubscribe, token, "").await?;
        let done = email_unsubscribes::Entity::find_by_id(row.contact_id)
            .one(&self.base.db)
            .await?
            .is_some();
        Ok(Unsubscribe {
            address: masked(&row.recipient),
            done,
        })
    }

    /// Unsubscribes the contact `token`'s message went to, at once (RFC 8058's one-click
    /// POST, or the confirmation page's button). Doing it twice is doing it once.
    pub async fn unsubscribe(&self, token: &str) -> Result<Unsubscribe> {
        let row = self.signed(Purpose::Unsubscribe, token, "").await?;
        let now: DateTime<Utc> = stored(self.base.clock.now());
        email_unsubscribes::Entity::insert(email_unsubscribes::ActiveModel {
            contact_id: Set(row.contact_id),
            job_id: Set(row.job_id),
            outbox_id: Set(Some(row.id)),
            created_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(email_unsubscribes::Column::ContactId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.base.db)
        .await?;
        Ok(Unsubscribe {
            address: masked(&row.recipient),
            done: true,
        })
    }
}
