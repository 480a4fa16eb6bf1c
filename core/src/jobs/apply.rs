//! One batch's commit: the effects checked against our records, then applied (unless a
//! dry run), with the outcomes, the samples and the new checkpoint, in one transaction.
//!
//! The transaction begins with the conditional update of the job row (this instance's
//! lease, the state `running`, the checkpoint the batch started from): when it matches
//! nothing, the job was cancelled, paused or taken over meanwhile and the batch is
//! dropped, applied by nobody. On PostgreSQL the update also locks the row until the
//! commit, so a cancel waits for the batch in flight.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::DateTime;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait};
use serde_json::{Value as Json, json};

use super::{Jobs, SAMPLES};
use crate::auth::Role;
use crate::clock::stored;
use crate::contacts::keyed_grants::{self as grants, KeyedGrant};
use crate::contacts::{Access, Grantee};
use crate::entities::{job_outcomes, job_samples, jobs, users};
use crate::plugin::values::{Effect, EffectKind, Principal};
use crate::records::outbox::{self, KeyedEmail};
use crate::records::tasks::{self, KeyedTask, MAX_BODY, MAX_TITLE};
use crate::{Error, Result};

/// What the plugin answered for a batch, by contact.
#[derive(Debug, Default)]
pub(super) struct Decided {
    /// Contacts the plugin answered for, with their effects (maybe none).
    ok: Vec<(i64, Vec<Effect>)>,
    /// Contacts the plugin failed on, with the reason.
    failed: Vec<(i64, String)>,
}

impl Decided {
    /// The plugin answered `effects` for the contacts `ids`.
    pub(super) fn effects(&mut self, ids: &[i64], effects: Vec<Effect>) {
        let mut grouped = by_contact(effects);
        for id in ids {
            self.ok.push((*id, grouped.remove(id).unwrap_or_default()));
        }
    }

    /// The plugin failed on contact `id`.
    pub(super) fn failed(&mut self, id: i64, reason: String) {
        self.failed.push((id, reason));
    }
}

/// Effects grouped by contact, in answer order.
fn by_contact(effects: Vec<Effect>) -> HashMap<i64, Vec<Effect>> {
    let mut out: HashMap<i64, Vec<Effect>> = HashMap::new();
    for effect in effects {
        out.entry(effect.contact_id).or_default().push(effect);
    }
    out
}

/// A batch to commit.
#[derive(Debug)]
pub(super) struct Batch {
    /// The last target of the batch: the next checkpoint.
    pub last: i64,
    pub decided: Decided,
    /// Targets skipped before the plugin saw them (the contact is gone; a sending job's
    /// contact must not get mail), with the reason.
    pub skipped: Vec<(i64, String)>,
    /// A sending job's contacts' addresses: a message goes to its contact's address only.
    pub addresses: HashMap<i64, String>,
}

/// How a commit went.
pub(super) enum Committed {
    /// Committed; the job as it is now.
    Next(jobs::Model),
    /// Not committed: the job is no longer running (cancelled, paused); as it is now.
    Stopped(jobs::Model),
    /// Not committed: another instance holds the job.
    LostLease,
}

/// The name of an effect's kind, as counted and shown.
pub fn kind_name(effect: &EffectKind) -> &'static str {
    match effect {
        EffectKind::SendEmail { .. } => "send_email",
        EffectKind::CreateTask { .. } => "create_task",
        EffectKind::GrantAccess { .. } => "grant_access",
        EffectKind::RevokeAccess { .. } => "revoke_access",
    }
}

/// What a batch writes, once its effects are checked.
#[derive(Default)]
struct Writes {
    tasks: Vec<KeyedTask>,
    grants: Vec<KeyedGrant>,
    revokes: Vec<(Grantee, i64)>,
    emails: Vec<KeyedEmail>,
    outcomes: Vec<job_outcomes::ActiveModel>,
    samples: Vec<job_samples::ActiveModel>,
    done: i64,
    failed: i64,
    skipped: i64,
    effects: i64,
    counts: BTreeMap<String, i64>,
}

impl Writes {
    fn outcome(&mut self, job: i64, contact: i64, outcome: &str, reason: String) {
        match outcome {
            "failed" => self.failed += 1,
            _ => self.skipped += 1,
        }
        self.outcomes.push(job_outcomes::ActiveModel {
            job_id: Set(job),
            contact_id: Set(contact),
            outcome: Set(outcome.into()),
            reason: Set(reason),
        });
    }
}

/// One effect as the record it creates, or why it can't be applied.
enum Record {
    Task(KeyedTask),
    Grant(KeyedGrant),
    Revoke(Grantee, i64),
    Email(KeyedEmail),
}

fn record(
    job: &jobs::Model,
    effect: &Effect,
    index: i32,
    users: &HashSet<i64>,
    addresses: &HashMap<i64, String>,
) -> std::result::Result<Record, String> {
    let user = |id: i64, what: &str| {
        if users.contains(&id) {
            Ok(id)
        } else {
            Err(format!("the {what} is user {id}, and there is no such user"))
        }
    };
    match &effect.effect {
        EffectKind::CreateTask {
            title,
            body,
            assignee,
            due,
        } => {
            let title = title.trim();
            if title.is_empty() {
                return Err("the task has an empty title".into());
            }
            if title.len() > MAX_TITLE {
                return Err(format!(
                    "the task's title is {} bytes long; at most {MAX_TITLE}",
                    title.len()
                ));
            }
            if body.len() > MAX_BODY {
                return Err(format!(
                    "the task's body is {} bytes long; at most {MAX_BODY}",
                    body.len()
                ));
            }
            let due_at = match due {
                None => None,
                Some(at) => Some(
                    DateTime::from_timestamp(*at, 0)
                        .ok_or_else(|| format!("the task's due time {at} is not a time"))?,
                ),
            };
            Ok(Record::Task(KeyedTask {
                job_id: job.id,
                contact_id: effect.contact_id,
                effect_index: index,
                assignee_id: assignee.map(|a| user(a, "task's assignee")).transpose()?,
                title: title.to_owned(),
                body: body.clone(),
                due_at,
                created_by: job.created_by,
            }))
        }
        EffectKind::GrantAccess { principal, level } => {
            let grantee = match principal {
                Principal::User(id) => Grantee::User(user(*id, "grant's user")?),
                Principal::Role(role) => Grantee::Role(role.parse::<Role>().map_err(|e| e.to_string())?),
            };
            let level = if *level == "write" { Access::Write } else { Access::Read };
            Ok(Record::Grant(KeyedGrant {
                job_id: job.id,
                contact_id: effect.contact_id,
                effect_index: index,
                grantee,
                level,
            }))
        }
        EffectKind::RevokeAccess { principal } => {
            let grantee = match principal {
                Principal::User(id) => Grantee::User(*id),
                Principal::Role(role) => Grantee::Role(role.parse::<Role>().map_err(|e| e.to_string())?),
            };
            Ok(Record::Revoke(grantee, effect.contact_id))
        }
        EffectKind::SendEmail {
            to,
            subject,
            html,
            text,
        } => {
            let Some(address) = addresses.get(&effect.contact_id) else {
                return Err("the message is for a contact that may not get mail now".into());
            };
            if !to.trim().eq_ignore_ascii_case(address) {
                return Err(format!(
                    "the message is addressed to `{to}`, not to the contact's address `{address}`"
                ));
            }
            if subject.trim().is_empty() {
                return Err("the message has an empty subject".into());
            }
            if html.trim().is_empty() && text.trim().is_empty() {
                return Err("the message has no body".into());
            }
            Ok(Record::Email(KeyedEmail {
                job_id: job.id,
                contact_id: effect.contact_id,
                effect_index: index,
                to: address.clone(),
                subject: subject.clone(),
                html: html.clone(),
                text: text.clone(),
                created_by: job.created_by,
            }))
        }
    }
}

impl Jobs {
    /// The users among those the batch's effects name.
    async fn known_users(&self, decided: &Decided) -> Result<HashSet<i64>> {
        let named: HashSet<i64> = decided
            .ok
            .iter()
            .flat_map(|(_, effects)| effects)
            .filter_map(|e| match &e.effect {
                EffectKind::CreateTask { assignee, .. } => *assignee,
                EffectKind::GrantAccess {
                    principal: Principal::User(id),
                    ..
                } => Some(*id),
                _ => None,
            })
            .collect();
        if named.is_empty() {
            return Ok(named);
        }
        let found: Vec<i64> = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::Id.is_in(named))
            .into_tuple()
            .all(&self.base.db)
            .await?;
        Ok(found.into_iter().collect())
    }

    /// Checks the batch's effects and what each contact comes to.
    fn writes(&self, job: &jobs::Model, batch: Batch, users: &HashSet<i64>) -> Writes {
        let addresses = &batch.addresses;
        let mut writes = Writes::default();
        let mut sample_room = std::cmp::max(SAMPLES - job.effects, 0);
        for (contact, reason) in batch.skipped {
            writes.outcome(job.id, contact, "skipped", reason);
        }
        for (contact, reason) in batch.decided.failed {
            writes.outcome(job.id, contact, "failed", reason);
        }
        for (contact, effects) in batch.decided.ok {
            if effects.is_empty() {
                writes.outcome(
                    job.id,
                    contact,
                    "skipped",
                    "the action did nothing for this contact".into(),
                );
                continue;
            }
            let mut records = Vec::with_capacity(effects.len());
            let mut refused = None;
            for (at, effect) in effects.iter().enumerate() {
                let index = i32::try_from(at).unwrap_or(i32::MAX);
                match record(job, effect, index, users, addresses) {
                    Ok(r) => records.push(r),
                    Err(reason) => {
                        refused = Some(format!("effect {at}: {reason}"));
                        break;
                    }
                }
            }
            if let Some(reason) = refused {
                writes.outcome(job.id, contact, "failed", reason);
                continue;
            }
            writes.done += 1;
            for (at, effect) in effects.iter().enumerate() {
                writes.effects += 1;
                *writes.counts.entry(kind_name(&effect.effect).into()).or_default() += 1;
                if sample_room > 0 {
                    sample_room -= 1;
                    writes.samples.push(job_samples::ActiveModel {
                        job_id: Set(job.id),
                        contact_id: Set(contact),
                        effect_index: Set(i32::try_from(at).unwrap_or(i32::MAX)),
                        effect: Set(serde_json::to_value(effect).unwrap_or(Json::Null)),
                    });
                }
            }
            if !job.dry_run {
                for r in records {
                    match r {
                        Record::Task(t) => writes.tasks.push(t),
                        Record::Grant(g) => writes.grants.push(g),
                        Record::Revoke(grantee, contact) => writes.revokes.push((grantee, contact)),
                        Record::Email(e) => writes.emails.push(e),
                    }
                }
            }
        }
        writes
    }

    /// Commits one batch (see the module doc).
    pub(super) async fn commit(&self, job: &jobs::Model, batch: Batch) -> Result<Committed> {
        let users = self.known_users(&batch.decided).await?;
        let last = batch.last;
        let writes = self.writes(job, batch, &users);
        let now = stored(self.base.clock.now());
        let mut counts: BTreeMap<String, i64> = serde_json::from_value(job.effect_counts.clone()).unwrap_or_default();
        for (kind, n) in &writes.counts {
            *counts.entry(kind.clone()).or_default() += n;
        }

        let txn = self.base.db.begin().await?;
        let moved = jobs::Entity::update_many()
            .col_expr(jobs::Column::Checkpoint, Expr::value(last))
            .col_expr(jobs::Column::Done, Expr::col(jobs::Column::Done).add(writes.done))
            .col_expr(jobs::Column::Failed, Expr::col(jobs::Column::Failed).add(writes.failed))
            .col_expr(
                jobs::Column::Skipped,
                Expr::col(jobs::Column::Skipped).add(writes.skipped),
            )
            .col_expr(
                jobs::Column::Effects,
                Expr::col(jobs::Column::Effects).add(writes.effects),
            )
            .col_expr(jobs::Column::EffectCounts, Expr::value(json!(counts)))
            .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
            .col_expr(jobs::Column::LeaseUntil, Expr::value(Some(now + self.lease())))
            .filter(jobs::Column::Id.eq(job.id))
            .filter(jobs::Column::LeaseOwner.eq(self.instance.to_string()))
            .filter(jobs::Column::State.eq("running"))
            .filter(jobs::Column::Checkpoint.eq(job.checkpoint))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            txn.rollback().await?;
            let current = jobs::Entity::find_by_id(job.id)
                .one(&self.base.db)
                .await?
                .ok_or(Error::NotFound { what: "job" })?;
            return Ok(if current.lease_owner.as_deref() == Some(&*self.instance) {
                Committed::Stopped(current)
            } else {
                Committed::LostLease
            });
        }
        tasks::insert_keyed(&txn, writes.tasks, now).await?;
        grants::insert_keyed(&txn, writes.grants, now).await?;
        let queued = outbox::insert_keyed(&txn, writes.emails, now).await?;
        // Revoking is idempotent: a batch committed again takes back nothing more.
        let mut by_grantee: Vec<(Grantee, Vec<i64>)> = Vec::new();
        for (grantee, contact) in writes.revokes {
            match by_grantee.iter_mut().find(|(g, _)| *g == grantee) {
                Some((_, ids)) => ids.push(contact),
                None => by_grantee.push((grantee, vec![contact])),
            }
        }
        for (grantee, ids) in by_grantee {
            grants::revoke(&txn, &grantee, &ids).await?;
        }
        if !writes.outcomes.is_empty() {
            job_outcomes::Entity::insert_many(writes.outcomes)
                .on_conflict(
                    OnConflict::columns([job_outcomes::Column::JobId, job_outcomes::Column::ContactId])
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        if !writes.samples.is_empty() {
            job_samples::Entity::insert_many(writes.samples)
                .on_conflict(
                    OnConflict::columns([
                        job_samples::Column::JobId,
                        job_samples::Column::ContactId,
                        job_samples::Column::EffectIndex,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        if queued > 0 {
            self.mail.wake();
        }
        // The row as the update left it, without reading it back.
        let mut current = job.clone();
        current.checkpoint = last;
        current.done += writes.done;
        current.failed += writes.failed;
        current.skipped += writes.skipped;
        current.effects += writes.effects;
        current.effect_counts = json!(counts);
        current.updated_at = now;
        current.lease_until = Some(now + self.lease());
        Ok(Committed::Next(current))
    }
}
