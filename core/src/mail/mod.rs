//! E-mail: the delivery worker that empties the outbox, the signed links in every
//! message, and what recipients do with them (opens, clicks, unsubscribes).
//!
//! ## The path of a message
//!
//! A bulk send (`email.send_email`, or any action with the `send_email` capability) runs
//! as a job ([`crate::jobs`]): the plugin renders each contact's message, and the batch's
//! messages land in the `outbox` table in the same transaction as the job's checkpoint,
//! under their effect key ([`crate::outbox::insert_keyed`]). A delivery worker in every
//! `kartoteka serve` ([`deliver`]) claims due messages with a lease, checks each contact
//! again (do-not-contact, unsubscribed: at the moment of sending, not only when the job
//! started), builds the message ([`message`]) and hands it to SMTP through lettre's pooled
//! async transport, or, with no SMTP configured, to the local outbox an admin reads in
//! the web UI. Then it records the outcome: `sent` with an `email_sent` activity on the
//! contact (segments follow in the same transaction), `failed` with the server's answer
//! (a 5xx, or too many attempts), or back to `queued` with a later attempt (a 4xx, a
//! dropped connection: exponential backoff from [`MailConfig::retry_after`]).
//!
//! ## Exactly once, and the window that is left
//!
//! SMTP has no idempotency key: between the server's `250 OK` and our commit of `sent`
//! there is a moment where a crash leaves a message handed off but not recorded. We
//! considered recording `sending` before the handoff (a crash then loses the message:
//! "none lost" matters more than "none twice"), a two-phase handoff (SMTP has none), and
//! a message per transaction (a commit per message: slow, and the window is still one
//! message per connection). We record each chunk's outcomes in one transaction right
//! after the chunk's handoffs: a `kill -9` can re-send at most the messages handed off
//! since the last commit, which is at most one chunk ([`CHUNK`]) per instance, never a
//! message whose handoff was recorded, and never loses one (a claimed message whose lease,
//! [`MailConfig::lease`], runs out is claimed again). The repeated message carries the
//! same `Message-ID` (the effect key), so receiving servers and people can tell it is the
//! same message. The crash test measures the window and `BENCHMARKS.md` states it.
//!
//! ## Why lettre
//!
//! lettre is the maintained SMTP client of the Rust ecosystem: MIME building with
//! encoded headers, a pooled async transport on Tokio, STARTTLS and implicit TLS through
//! rustls, SMTP error classes (transient 4xx, permanent 5xx) that decide our retries.

pub mod config;
mod deliver;
pub mod links;
pub mod message;
mod read;
mod smtp;
mod track;

use std::sync::Arc;

use crate::activities::Activities;
use crate::kernel::base::Base;

pub use config::{MailConfig, Settings};
pub use deliver::CHUNK;
pub use read::{Campaign, OutboxItem, OutboxMessage};
pub use track::Unsubscribe;

/// The mail service: delivery, the outbox as admins read it, and recipients' clicks.
#[derive(Debug, Clone)]
pub struct Mail {
    base: Base,
    activities: Activities,
    settings: Settings,
    /// This instance's name in leases.
    instance: Arc<str>,
    transport: Arc<tokio::sync::Mutex<Option<deliver::Smtp>>>,
    /// When the next message may go, for the rate limit.
    pacer: Arc<tokio::sync::Mutex<tokio::time::Instant>>,
    /// The next chunk, claimed and checked while the last one was handed off.
    prefetched: Arc<tokio::sync::Mutex<Option<deliver::Claimed>>>,
}

impl Mail {
    /// Mail over `base`, recording activities through `activities`, with `settings`.
    pub fn new(base: Base, activities: Activities, settings: Settings) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Mail {
            base,
            activities,
            settings,
            instance: format!("mail-{}-{nanos:x}", std::process::id()).into(),
            transport: Arc::default(),
            pacer: Arc::new(tokio::sync::Mutex::new(tokio::time::Instant::now())),
            prefetched: Arc::default(),
        }
    }

    /// The settings this server sends with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Replaces the settings (at start): the next delivery uses them.
    pub fn configure(&self, config: MailConfig) {
        self.settings.set(config);
    }
}
