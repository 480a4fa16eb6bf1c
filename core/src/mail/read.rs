//! The outbox as admins read it (the local outbox when no SMTP server is configured, and
//! the record of every handoff when one is), and a campaign's numbers.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Mail, message};
use crate::auth::Actor;
use crate::entities::{email_unsubscribes, outbox};
use crate::{Error, Result};

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    /// The job that sent it; `None` for a test send.
    pub job_id: Option<i64>,
    pub contact_id: i64,
    pub recipient: String,
    pub subject: String,
    /// `queued`, `sent`, `failed` or `skipped`.
    pub state: String,
    pub attempts: i32,
    /// The server's last answer, or why it failed or was skipped.
    pub answer: Option<String>,
    /// `smtp` or `local`, once handed off.
    pub transport: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub opened_at: Option<DateTime<Utc>>,
    pub clicked_at: Option<DateTime<Utc>>,
}

impl From<outbox::Model> for OutboxItem {
    fn from(m: outbox::Model) -> Self {
        OutboxItem {
            id: m.id,
            job_id: m.job_id,
            contact_id: m.contact_id,
            recipient: m.recipient,
            subject: m.subject,
            state: m.state,
            attempts: m.attempts,
            answer: m.last_error,
            transport: m.transport,
            created_at: m.created_at,
            next_attempt_at: m.next_attempt_at,
            sent_at: m.sent_at,
            opened_at: m.opened_at,
            clicked_at: m.clicked_at,
        }
    }
}

/// A message as it was (or will be) handed off.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    pub item: OutboxItem,
    /// The headers, in order, unfolded.
    pub headers: Vec<(String, String)>,
    /// The HTML body as sent (links rewritten, footer added).
    pub html: String,
    /// The text body as sent.
    pub text: String,
}

/// A campaign's (a sending job's) numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Campaign {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    /// Skipped at the handoff (the contact unsubscribed or became do-not-contact after
    /// the job started); the job's own outcomes count those skipped before.
    pub skipped: i64,
    pub opened: i64,
    pub clicked: i64,
    pub unsubscribed: i64,
    /// Sent, opened and clicked messages over time: `(bucket start, sent, opened,
    /// clicked)`, by minute, hour or day depending on the span.
    pub timeline: Vec<(DateTime<Utc>, i64, i64, i64)>,
}

impl Mail {
    /// The outbox, newest first, `limit` after the cursor `before` (a message id);
    /// `state` narrows it. Admins only.
    pub async fn list_outbox(
        &self,
        actor: &Actor,
        state: Option<&str>,
        job: Option<i64>,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<OutboxItem>> {
        actor.require_admin()?;
        let mut query = outbox::Entity::find().order_by_desc(outbox::Column::Id);
        if let Some(state) = state {
            query = query.filter(outbox::Column::State.eq(state));
        }
        if let Some(job) = job {
            query = query.filter(outbox::Column::JobId.eq(job));
        }
        if let Some(before) = before {
            query = query.filter(outbox::Column::Id.lt(before));
        }
        Ok(query
            .limit(limit.clamp(1, 500))
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(OutboxItem::from)
            .collect())
    }

    /// One message as it goes out: headers, the HTML and the text. Admins only.
    pub async fn outbox_message(&self, actor: &Actor, id: i64) -> Result<OutboxMessage> {
        actor.require_admin()?;
        let row = outbox::Entity::find_by_id(id)
            .one(&self.base.db)
            .await?
            .ok_or(Error::NotFound { what: "message" })?;
        let config = self.settings.get();
        let date = row.sent_at.unwrap_or_else(|| self.base.clock.now());
        let (headers, html, text) = match (config.secret.as_deref(), message::build(&config, &row, date)) {
            (Some(secret), Ok(built)) => (
                headers(&built.bytes),
                message::html_body(&config, secret, &row),
                message::text_body(&config, secret, &row),
            ),
            (_, Err(reason)) => (
                vec![("X-Kartoteka-Not-Sendable".into(), reason)],
                row.html.clone(),
                row.plain.clone(),
            ),
            (None, Ok(_)) => (Vec::new(), row.html.clone(), row.plain.clone()),
        };
        Ok(OutboxMessage {
            item: row.into(),
            headers,
            html,
            text,
        })
    }

    /// The numbers of the messages job `job` sent.
    pub async fn campaign(&self, job: i64) -> Result<Campaign> {
        let db = &self.base.db;
        let mut out = Campaign::default();
        let by_state: Vec<(String, i64)> = outbox::Entity::find()
            .select_only()
            .column(outbox::Column::State)
            .column_as(outbox::Column::Id.count(), "n")
            .filter(outbox::Column::JobId.eq(job))
            .group_by(outbox::Column::State)
            .into_tuple()
            .all(db)
            .await?;
        for (state, n) in by_state {
            match state.as_str() {
                "queued" => out.queued = n,
                "sent" => out.sent = n,
                "failed" => out.failed = n,
                "skipped" => out.skipped = n,
                _ => {}
            }
        }
        let mine = || outbox::Entity::find().filter(outbox::Column::JobId.eq(job));
        out.opened =
            i64::try_from(mine().filter(outbox::Column::OpenedAt.is_not_null()).count(db).await?).unwrap_or(i64::MAX);
        out.clicked =
            i64::try_from(mine().filter(outbox::Column::ClickedAt.is_not_null()).count(db).await?).unwrap_or(i64::MAX);
        out.unsubscribed = i64::try_from(
            email_unsubscribes::Entity::find()
                .filter(email_unsubscribes::Column::JobId.eq(job))
                .count(db)
                .await?,
        )
        .unwrap_or(i64::MAX);
        let times: Vec<Stamps> = mine()
            .select_only()
            .columns([
                outbox::Column::SentAt,
                outbox::Column::OpenedAt,
                outbox::Column::ClickedAt,
            ])
            .filter(outbox::Column::SentAt.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        out.timeline = timeline(&times);
        Ok(out)
    }
}

/// When a message was sent, first opened and first clicked.
type Stamps = (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Buckets of sent, opened and clicked messages.
fn timeline(times: &[Stamps]) -> Vec<(DateTime<Utc>, i64, i64, i64)> {
    let all = times.iter().flat_map(|(a, b, c)| [a, b, c]).flatten();
    let (Some(first), Some(last)) = (all.clone().min(), all.max()) else {
        return Vec::new();
    };
    let span = *last - *first;
    let step = if span <= Duration::hours(2) {
        Duration::minutes(1)
    } else if span <= Duration::days(3) {
        Duration::hours(1)
    } else {
        Duration::days(1)
    };
    let bucket = |t: DateTime<Utc>| t.duration_trunc(step).unwrap_or(t);
    let mut out: BTreeMap<DateTime<Utc>, (i64, i64, i64)> = BTreeMap::new();
    let mut at = bucket(*first);
    while at <= *last {
        out.insert(at, (0, 0, 0));
        at += step;
    }
    for (sent, opened, clicked) in times {
        if let Some(t) = sent {
            out.entry(bucket(*t)).or_default().0 += 1;
        }
        if let Some(t) = opened {
            out.entry(bucket(*t)).or_default().1 += 1;
        }
        if let Some(t) = clicked {
            out.entry(bucket(*t)).or_default().2 += 1;
        }
    }
    out.into_iter().map(|(at, (s, o, c))| (at, s, o, c)).collect()
}

/// The header block of a formatted message, unfolded.
fn headers(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let block = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.to_owned(), value.trim().to_owned()));
        }
    }
    out
}
