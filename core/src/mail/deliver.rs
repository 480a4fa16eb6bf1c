//! The delivery worker: claim due messages with a lease, check their contacts again, hand
//! them off, record the outcomes (see the module doc of [`super`] for the window a crash
//! leaves).
//!
//! Claiming is one statement: on SQLite `UPDATE outbox SET lease... WHERE id IN (SELECT
//! ... due, unleased or lease run out ... LIMIT n) RETURNING *`, the one writer keeping
//! instances apart; on PostgreSQL `WITH picked AS MATERIALIZED (SELECT ... LIMIT n FOR
//! UPDATE SKIP LOCKED) UPDATE outbox ... FROM picked ... RETURNING *`, `SKIP LOCKED`
//! keeping two instances off each other's rows. The next chunk is claimed while the last
//! one is handed off; a chunk's handoffs are recorded in one `UPDATE ... FROM (VALUES
//! ...)`.

use std::collections::HashSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement, TransactionTrait};
use serde_json::json;

use super::config::MailConfig;
use super::smtp::{SendError, Transport};
use super::{Mail, message};
use crate::Result;
use crate::activities::{Activities, NewActivity};
use crate::clock::stored;
use crate::entities::outbox;
use crate::outbox::{NoMail, no_mail};

/// Messages claimed, handed off and recorded together: at most this many can be sent
/// twice by a crash of one instance.
pub const CHUNK: usize = 50;

/// The transport for an SMTP URL, and the URL it was made for.
#[derive(Clone)]
pub(super) struct Smtp {
    url: String,
    transport: Transport,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("url", &super::config::redacted(&self.url))
            .finish_non_exhaustive()
    }
}

/// A claimed chunk, with its contacts that are do-not-contact and those unsubscribed.
pub(super) type Claimed = (Vec<outbox::Model>, HashSet<i64>, HashSet<i64>);

/// What became of one message.
#[derive(Debug)]
enum Handoff {
    /// Taken: the server's answer (or the local outbox's).
    Sent { transport: &'static str, answer: String },
    /// Refused for good.
    Failed(String),
    /// Refused for now (4xx, connection): try again later.
    Retry(String),
    /// Not sent: the contact must not get mail now.
    Skipped(&'static str),
}

impl Mail {
    /// Delivers until the process ends: a chunk at a time while messages are due, then
    /// waits for a wake-up (a job queued messages) or `poll`.
    pub async fn run_delivery_worker(self, poll: StdDuration) {
        let mut warned = false;
        loop {
            match self.deliver_once().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(crate::Error::Conflict { message, .. }) => {
                    if !warned {
                        tracing::warn!("mail is waiting: {message}");
                        warned = true;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "mail delivery"),
            }
            tokio::select! {
                () = self.settings.woken() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Claims one chunk of due messages and hands it off: how many were handled.
    /// Without a secret nothing is sent ([`crate::Error::Conflict`] says why).
    pub async fn deliver_once(&self) -> Result<usize> {
        let config = self.settings.get();
        if let Some(reason) = config.refusal() {
            return Err(crate::Error::conflict(reason));
        }
        // Under a rate limit a chunk holds about a second's messages, so the check of
        // each contact (unsubscribed, do-not-contact) is at most a second older than the
        // handoff; without one, a chunk goes out in well under a second anyway.
        let chunk = match config.rate {
            Some(rate) if rate > 0.0 => (rate.ceil() as usize).clamp(1, CHUNK),
            _ => CHUNK,
        };
        // The chunk claimed while the last one was handed off, or one claimed now.
        let prefetched = self.prefetched.lock().await.take();
        let (rows, dnc, unsubscribed) = match prefetched {
            Some(claimed) => claimed,
            None => match self.claim_checked(chunk, config.lease).await? {
                Some(claimed) => claimed,
                None => return Ok(0),
            },
        };
        let now = self.base.clock.now();
        let smtp = match &config.smtp_url {
            Some(url) => Some(self.smtp(url, &config).await?),
            None => None,
        };
        let handoffs = futures_util::stream::iter(rows)
            .map(|row| {
                let config = config.clone();
                let smtp = smtp.clone();
                let skip = if row.job_id.is_none() {
                    // A test send goes to the user who asked for it, not to the contact.
                    None
                } else if dnc.contains(&row.contact_id) {
                    Some(NoMail::DoNotContact)
                } else if unsubscribed.contains(&row.contact_id) {
                    Some(NoMail::Unsubscribed)
                } else {
                    None
                };
                async move {
                    let outcome = match skip {
                        Some(why) => Handoff::Skipped(why.reason()),
                        None => self.hand_off(&config, smtp.as_ref(), &row, now).await,
                    };
                    (row, outcome)
                }
            })
            .buffer_unordered(Ord::max(config.connections, 1) as usize)
            .collect::<Vec<(outbox::Model, Handoff)>>();
        // The next chunk is claimed and checked while this one is handed off: the
        // connections don't wait for the database between chunks. Not under a rate limit
        // (a chunk takes a second there, and the next one's lease would run meanwhile).
        let next = async {
            if config.rate.is_none() {
                self.claim_checked(chunk, config.lease).await
            } else {
                Ok(None)
            }
        };
        let (handoffs, next) = tokio::join!(handoffs, next);
        let next = next?;
        *self.prefetched.lock().await = next;
        let n = handoffs.len();
        self.record(&config, handoffs).await?;
        Ok(n)
    }

    /// Claims a chunk and reads which of its contacts must get no mail now.
    async fn claim_checked(&self, chunk: usize, lease: StdDuration) -> Result<Option<Claimed>> {
        let rows = self.claim(chunk, lease).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.contact_id).collect();
        let (dnc, unsubscribed) = no_mail(&self.base.db, &ids).await?;
        Ok(Some((rows, dnc, unsubscribed)))
    }

    /// The pooled transport for `url`, made once.
    async fn smtp(&self, url: &str, config: &MailConfig) -> Result<Smtp> {
        let mut held = self.transport.lock().await;
        if let Some(smtp) = held.as_ref().filter(|s| s.url == url) {
            return Ok(smtp.clone());
        }
        let transport = Transport::from_url(url, config.connections, StdDuration::from_secs(30))
            .map_err(|e| crate::Error::conflict(format!("KARTOTEKA_SMTP_URL {e}")))?;
        let smtp = Smtp {
            url: url.to_owned(),
            transport,
        };
        *held = Some(smtp.clone());
        Ok(smtp)
    }

    /// Waits for the rate limit's next slot.
    async fn pace(&self, rate: Option<f64>) {
        let Some(rate) = rate.filter(|r| *r > 0.0) else {
            return;
        };
        let at = {
            let mut next = self.pacer.lock().await;
            let now = tokio::time::Instant::now();
            let at = (*next).max(now);
            *next = at + StdDuration::from_secs_f64(1.0 / rate);
            at
        };
        tokio::time::sleep_until(at).await;
    }

    /// Hands one message to SMTP (or to the local outbox).
    async fn hand_off(
        &self,
        config: &MailConfig,
        smtp: Option<&Smtp>,
        row: &outbox::Model,
        now: DateTime<Utc>,
    ) -> Handoff {
        let built = match message::build(config, row, now) {
            Ok(built) => built,
            Err(reason) => return Handoff::Failed(reason),
        };
        let Some(smtp) = smtp else {
            return Handoff::Sent {
                transport: "local",
                answer: "kept in the local outbox (no SMTP server is configured)".into(),
            };
        };
        self.pace(config.rate).await;
        match smtp.transport.send(&built.envelope, &built.bytes).await {
            Ok(response) => Handoff::Sent {
                transport: "smtp",
                answer: format!(
                    "{} {}",
                    response.code(),
                    response.message().collect::<Vec<_>>().join(" ")
                ),
            },
            Err(SendError::Permanent(e)) => Handoff::Failed(format!("the SMTP server refused it: {e}")),
            Err(SendError::Transient(e)) => Handoff::Retry(format!("the SMTP server answered: {e}")),
            Err(SendError::Connection(e)) => Handoff::Retry(format!("no answer from the SMTP server: {e}")),
        }
    }

    /// Claims up to `n` due messages for this instance, for `lease` ([`MailConfig::lease`]).
    async fn claim(&self, n: usize, lease: StdDuration) -> Result<Vec<outbox::Model>> {
        let db = &self.base.db;
        let backend = db.get_database_backend();
        let now = stored(self.base.clock.now());
        let until = now + Duration::from_std(lease).unwrap_or(Duration::seconds(120));
        let values: Vec<sea_orm::Value> = vec![self.instance.to_string().into(), until.into(), now.into(), now.into()];
        let mut rows = if backend == DbBackend::Postgres {
            // The pick is a materialized CTE, read once. As the subquery of `id IN (...)`
            // the planner may rescan it for every outer row (a nested-loop semi join, when
            // the statistics say the table is small), and each rescan skips the rows the
            // statement already updated and locks the next ones: hundreds claimed for 50.
            // Planned for each claim (`force_custom_plan`): a generic plan cached while
            // the outbox was small (a seq scan and a sort) would stay until an ANALYZE.
            let sql = format!(
                "WITH picked AS MATERIALIZED (SELECT id FROM outbox WHERE state = 'queued' \
                 AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $4) \
                 ORDER BY next_attempt_at, id LIMIT {n} FOR UPDATE SKIP LOCKED) \
                 UPDATE outbox SET lease_owner = $1, lease_until = $2 FROM picked \
                 WHERE outbox.id = picked.id RETURNING outbox.*"
            );
            let txn = db.begin().await?;
            txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
            let rows = outbox::Entity::find()
                .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
                .all(&txn)
                .await?;
            txn.commit().await?;
            rows
        } else {
            let sql = format!(
                "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id IN (\
                 SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= ? \
                 AND (lease_until IS NULL OR lease_until < ?) \
                 ORDER BY next_attempt_at, id LIMIT {n}) RETURNING *"
            );
            outbox::Entity::find()
                .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
                .all(db)
                .await?
        };
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Records a chunk's outcomes in one transaction, with an `email_sent` activity for
    /// each message a job sent.
    async fn record(&self, config: &MailConfig, handoffs: Vec<(outbox::Model, Handoff)>) -> Result<()> {
        let now = stored(self.base.clock.now());
        let by = handoffs.iter().find_map(|(r, _)| r.created_by).unwrap_or(0);
        let mut write = self.activities.system_write(by).await?;
        let mut sent: Vec<(i64, &'static str)> = Vec::new();
        let mut activities = Vec::new();
        let mine = || outbox::Column::LeaseOwner.eq(self.instance.to_string());
        let mut marked: Vec<(&outbox::Model, &'static str, &String)> = Vec::new();
        for (row, handoff) in &handoffs {
            match handoff {
                // Recorded together below, in one statement.
                Handoff::Sent { transport, answer } => marked.push((row, transport, answer)),
                Handoff::Failed(reason) | Handoff::Retry(reason) => {
                    let attempts = row.attempts + 1;
                    let give_up = matches!(handoff, Handoff::Failed(_)) || attempts >= config.max_attempts;
                    let reason = if give_up && matches!(handoff, Handoff::Retry(_)) {
                        format!("gave up after {attempts} attempts: {reason}")
                    } else {
                        reason.clone()
                    };
                    let wait = config.retry_after.saturating_mul(1 << (attempts - 1).clamp(0, 16));
                    let next = now + Duration::from_std(wait).unwrap_or(Duration::hours(1));
                    outbox::Entity::update_many()
                        .col_expr(
                            outbox::Column::State,
                            Expr::value(if give_up { "failed" } else { "queued" }),
                        )
                        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
                        .col_expr(outbox::Column::NextAttemptAt, Expr::value(next))
                        .col_expr(outbox::Column::LastError, Expr::value(Some(reason)))
                        .col_expr(outbox::Column::LeaseOwner, Expr::value(Option::<String>::None))
                        .col_expr(outbox::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                        .filter(outbox::Column::Id.eq(row.id))
                        .filter(mine())
                        // Cancelled meanwhile: it stays skipped, not tried again.
                        .filter(outbox::Column::State.eq("queued"))
                        .exec(write.txn())
                        .await?;
                }
                Handoff::Skipped(reason) => {
                    outbox::Entity::update_many()
                        .col_expr(outbox::Column::State, Expr::value("skipped"))
                        .col_expr(outbox::Column::LastError, Expr::value(Some(*reason)))
                        .col_expr(outbox::Column::LeaseOwner, Expr::value(Option::<String>::None))
                        .col_expr(outbox::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
                        .filter(outbox::Column::Id.eq(row.id))
                        .filter(mine())
                        .exec(write.txn())
                        .await?;
                }
            }
        }
        if !marked.is_empty() {
            let recorded = mark_sent(write.txn(), &self.instance, &marked, now).await?;
            for (row, transport, _) in &marked {
                // Another instance took the message over meanwhile (this one stalled
                // past its lease): its handoff records the activity.
                if !recorded.contains(&row.id) {
                    continue;
                }
                sent.push((row.id, transport));
                if let Some(job) = row.job_id {
                    let mut properties = serde_json::Map::new();
                    properties.insert("job_id".into(), json!(job));
                    properties.insert("message_id".into(), json!(row.id));
                    properties.insert("subject".into(), json!(row.subject));
                    activities.push(NewActivity {
                        contact_id: row.contact_id,
                        kind: "email_sent".into(),
                        occurred_at: Some(now),
                        properties,
                        amount: None,
                    });
                }
            }
        }
        // Contacts deleted since the message was queued take their messages with them.
        let alive: HashSet<i64> = alive(write.txn(), activities.iter().map(|a| a.contact_id).collect()).await?;
        activities.retain(|a| alive.contains(&a.contact_id));
        Activities::insert_system(&mut write, activities, now).await?;
        write.commit().await?;
        tracing::debug!(sent = sent.len(), handled = handoffs.len(), "mail chunk");
        Ok(())
    }
}

/// Records the messages handed off, in one statement: the ids recorded (those still
/// leased to `instance`).
async fn mark_sent(
    conn: &impl ConnectionTrait,
    instance: &str,
    marked: &[(&outbox::Model, &'static str, &String)],
    now: DateTime<Utc>,
) -> Result<HashSet<i64>> {
    let backend = conn.get_database_backend();
    let mut n = 0;
    let mut param = || {
        n += 1;
        if backend == DbBackend::Postgres {
            format!("${n}")
        } else {
            "?".to_owned()
        }
    };
    // Placeholders in the order of the text (SQLite's `?` are positional).
    let mut rows = Vec::with_capacity(marked.len());
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(marked.len() * 3 + 2);
    for (row, transport, answer) in marked {
        rows.push(format!("(CAST({} AS BIGINT), {}, {})", param(), param(), param()));
        values.push(row.id.into());
        values.push((*transport).to_owned().into());
        values.push((*answer).clone().into());
    }
    let (at, owner) = (param(), param());
    values.push(now.into());
    values.push(instance.to_owned().into());
    let sql = format!(
        "WITH handed(id, transport, answer) AS (VALUES {}) \
         UPDATE outbox SET state = 'sent', sent_at = {at}, transport = handed.transport, \
         last_error = handed.answer, attempts = attempts + 1, lease_owner = NULL, lease_until = NULL \
         FROM handed WHERE outbox.id = handed.id AND outbox.lease_owner = {owner} RETURNING outbox.id",
        rows.join(", ")
    );
    Ok(conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .into_iter()
        .filter_map(|r| r.try_get_by_index::<i64>(0).ok())
        .collect())
}

/// Of `ids`, the contacts that still exist.
async fn alive(conn: &impl ConnectionTrait, ids: Vec<i64>) -> Result<HashSet<i64>> {
    use sea_orm::QuerySelect;
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<i64> = crate::entities::contacts::Entity::find()
        .select_only()
        .column(crate::entities::contacts::Column::Id)
        .filter(crate::entities::contacts::Column::Id.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(found.into_iter().collect())
}
