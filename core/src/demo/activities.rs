//! Activities: how many each person gets (drawn up front from their own stream, so the
//! progress total is exact), which kinds by the person's category, their properties, and the
//! full-size INSERTs they are written in.

use std::collections::VecDeque;

use chrono::DateTime;
use sea_orm::DbErr;
use sea_orm::sea_query::{Expr, InsertStatement, Value as SqlValue};
use serde_json::json;

use super::DemoOptions;
use super::generate::{DAY, Generator, PersonCtx};
use super::insert::{ACTIVITY_ROWS_PER_INSERT, build_err, insert_into, json_value, text, timestamp, to_u64};
use super::locale::locale;
use super::names;
use super::plan::Category;
use super::rng::{Rng, STREAM_COUNTS, pick, pick_weighted};

/// The columns of an activities INSERT, in the order of [`Generator::activities`]' rows.
pub(super) const ACTIVITY_COLUMNS: [&str; 6] = [
    "contact_id",
    "kind",
    "occurred_at",
    "properties",
    "amount",
    "created_at",
];

/// Draws every person's activity count up front, from the generator's own stream, so the
/// progress total is exact.
pub(super) fn count_activities(opts: &DemoOptions) -> u64 {
    let mut counts = Rng::new(opts.seed, STREAM_COUNTS);
    (0..opts.people)
        .map(|_| u64::from(activity_count(&mut counts, opts.activities_per_contact)))
        .sum()
}

fn activity_count(rng: &mut Rng, average: usize) -> u32 {
    let max = to_u64(average).saturating_mul(2);
    u32::try_from(rng.below(max.saturating_add(1))).unwrap_or(u32::MAX)
}

/// Where activity generation stands.
#[derive(Default)]
pub(super) struct ActivityCursor {
    /// The next person of the current batch whose activities are to be generated.
    pub(super) next_person: usize,
    /// Generated rows not inserted yet.
    pub(super) queued: VecDeque<Vec<Expr>>,
    /// No more people after this batch: flush whatever is queued.
    pub(super) last_batch: bool,
}

impl ActivityCursor {
    /// Whether [`Generator::activity_statement`] has another statement to give.
    pub(super) fn has_more(&self, people: &[(i64, PersonCtx)]) -> bool {
        self.next_person < people.len()
            || self.queued.len() >= ACTIVITY_ROWS_PER_INSERT
            || (self.last_batch && !self.queued.is_empty())
    }
}

impl Generator {
    /// The next full INSERT of activities for `people` and the rows queued before them, with
    /// its row count; `None` when fewer rows than a full INSERT are left, unless this is the
    /// last batch.
    pub(super) fn activity_statement(
        &mut self,
        people: &[(i64, PersonCtx)],
        cursor: &mut ActivityCursor,
    ) -> Result<Option<(InsertStatement, usize)>, DbErr> {
        while cursor.queued.len() < ACTIVITY_ROWS_PER_INSERT {
            let Some((id, ctx)) = people.get(cursor.next_person) else {
                break;
            };
            cursor.next_person += 1;
            cursor.queued.extend(self.activities(*id, ctx));
        }
        let rows = cursor.queued.len().min(ACTIVITY_ROWS_PER_INSERT);
        if rows == 0 || (rows < ACTIVITY_ROWS_PER_INSERT && !cursor.last_batch) {
            return Ok(None);
        }
        let mut stmt = insert_into("activities", &ACTIVITY_COLUMNS);
        for row in cursor.queued.drain(..rows) {
            stmt.values(row).map_err(build_err)?;
        }
        Ok(Some((stmt, rows)))
    }

    /// The activity rows of one person.
    fn activities(&mut self, contact_id: i64, ctx: &PersonCtx) -> Vec<Vec<Expr>> {
        let count = activity_count(&mut self.counts, self.average_activities);
        let rng = &mut self.rng;
        let start = ctx.created.max(self.now - 365 * DAY);
        let mut times: Vec<i64> = (0..count).map(|_| rng.between(start, self.now)).collect();
        times.sort_unstable();
        let kinds = match ctx.category {
            Category::Lead => ACTIVITY_LEAD,
            Category::Refused => ACTIVITY_REFUSED,
            Category::Client => ACTIVITY_CLIENT,
            Category::Partner => ACTIVITY_PARTNER,
            Category::Employee => ACTIVITY_EMPLOYEE,
        };
        let loc = locale(ctx.lang);
        let mut rows = Vec::with_capacity(times.len());
        for at in times {
            let mut kind = pick_weighted(rng, kinds);
            if ctx.do_not_contact && matches!(kind, "email_sent" | "sms") {
                kind = "page_visit";
            }
            if (kind.starts_with("email_") && !ctx.has_email) || (kind == "sms" && !ctx.has_phone) {
                kind = "note";
            }
            let mut amount = None;
            let properties = match kind {
                "page_visit" => {
                    let path = if rng.chance(0.25) {
                        format!("/blog/{}", pick(rng, names::BLOG_SLUGS))
                    } else {
                        pick(rng, names::WEB_PATHS).to_owned()
                    };
                    json!({ "path": path })
                }
                "link_click" => json!({ "url": pick(rng, names::LINK_TARGETS) }),
                "purchase" => {
                    amount = Some(rng.between(2_000, 500_000) as f64 / 100.0);
                    json!({ "product": pick(rng, names::PRODUCTS) })
                }
                "email_sent" | "email_open" | "sms" => {
                    json!({ "campaign": pick(rng, names::CAMPAIGNS) })
                }
                "email_click" => {
                    json!({ "campaign": pick(rng, names::CAMPAIGNS), "url": pick(rng, names::LINK_TARGETS) })
                }
                "call" => json!({ "duration_min": rng.between(1, 45) }),
                "meeting" => json!({ "duration_min": pick(rng, &[30i64, 45, 60, 90]) }),
                "support_request" => json!({ "subject": pick(rng, loc.support_subjects) }),
                "note" => json!({ "text": pick(rng, loc.notes) }),
                _ => json!({}),
            };
            let at = DateTime::from_timestamp(at, 0).unwrap_or_default();
            rows.push(vec![
                Expr::val(contact_id),
                text(kind),
                timestamp(at),
                json_value(properties),
                Expr::val(SqlValue::Double(amount)),
                timestamp(at),
            ]);
        }
        rows
    }
}

const ACTIVITY_LEAD: &[(&str, u32)] = &[
    ("page_visit", 30),
    ("link_click", 8),
    ("email_sent", 14),
    ("email_open", 9),
    ("email_click", 4),
    ("sms", 3),
    ("call", 8),
    ("meeting", 3),
    ("support_request", 1),
    ("note", 6),
    ("purchase", 2),
];

const ACTIVITY_REFUSED: &[(&str, u32)] = &[
    ("page_visit", 10),
    ("link_click", 2),
    ("email_sent", 20),
    ("email_open", 3),
    ("sms", 2),
    ("call", 8),
    ("note", 10),
];

const ACTIVITY_CLIENT: &[(&str, u32)] = &[
    ("page_visit", 20),
    ("link_click", 6),
    ("email_sent", 12),
    ("email_open", 9),
    ("email_click", 4),
    ("sms", 3),
    ("call", 8),
    ("meeting", 5),
    ("support_request", 7),
    ("note", 6),
    ("purchase", 12),
];

const ACTIVITY_PARTNER: &[(&str, u32)] = &[
    ("page_visit", 5),
    ("email_sent", 20),
    ("email_open", 10),
    ("sms", 3),
    ("call", 15),
    ("meeting", 10),
    ("support_request", 2),
    ("note", 12),
    ("purchase", 3),
];

const ACTIVITY_EMPLOYEE: &[(&str, u32)] = &[
    ("page_visit", 5),
    ("email_sent", 15),
    ("email_open", 10),
    ("sms", 5),
    ("call", 15),
    ("meeting", 20),
    ("note", 15),
];
