//! A segment's size over time, from its `joined` and `left` events.
//!
//! Days are UTC days and end at the clock's today; the size of a day is the size at its
//! end, so the last point is the current count. Two grouped reads do it, whatever the
//! number of events: the size before the first day (joined minus left), and the events
//! of the window counted per instant and kind. A rebuild stamps all its events with one
//! instant, so the second read returns a row per change of the members, not per contact.
//!
//! Like the count, the history shows the members the reader may see: for a reader who
//! isn't an admin, only the events of the contacts they see now are counted (so a
//! contact shared with them later shows in their past too).

use std::collections::BTreeMap;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use sea_orm::sea_query::{Condition, Expr, Func, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::Segments;
use crate::auth::Actor;
use crate::contacts::visibility::{self, Access};
use crate::entities::{contacts, segment_events};
use crate::{Error, Result};

/// The longest history one read may ask for, in days.
pub const MAX_DAYS: u32 = 366;

/// A segment's size at the end of one day, and how many joined and left that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizePoint {
    pub day: NaiveDate,
    pub size: u64,
    pub joined: u64,
    pub left: u64,
}

impl Segments {
    /// The size of segment `id` at the end of each of the last `days` days (today
    /// included, by the clock), oldest first.
    ///
    /// Errors: `days` outside `1..=MAX_DAYS`; not found.
    pub async fn segment_history(&self, actor: &Actor, id: i64, days: u32) -> Result<Vec<SizePoint>> {
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(Error::invalid("days", format!("must be between 1 and {MAX_DAYS}")));
        }
        self.segment_row(id).await?;
        let today = self.base.clock.now().date_naive();
        let first = today
            .checked_sub_days(Days::new(u64::from(days - 1)))
            .ok_or_else(|| Error::invalid("days", "reaches before the calendar"))?;
        let start: DateTime<Utc> = first.and_time(NaiveTime::MIN).and_utc();
        let mut events = Condition::all().add(segment_events::Column::SegmentId.eq(id));
        if !actor.is_admin() {
            let seen = Query::select()
                .column(contacts::Column::Id)
                .from(contacts::Entity)
                .cond_where(visibility::condition(actor, Access::Read))
                .to_owned();
            events = events.add(segment_events::Column::ContactId.in_subquery(seen));
        }
        let count = || Func::count(Expr::col(segment_events::Column::Id));
        let before: Vec<(String, i64)> = segment_events::Entity::find()
            .select_only()
            .column(segment_events::Column::Event)
            .expr(count())
            .filter(events.clone())
            .filter(segment_events::Column::At.lt(start))
            .group_by(segment_events::Column::Event)
            .into_tuple()
            .all(&self.base.db)
            .await?;
        let within: Vec<(DateTime<Utc>, String, i64)> = segment_events::Entity::find()
            .select_only()
            .column(segment_events::Column::At)
            .column(segment_events::Column::Event)
            .expr(count())
            .filter(events)
            .filter(segment_events::Column::At.gte(start))
            .group_by(segment_events::Column::At)
            .group_by(segment_events::Column::Event)
            .into_tuple()
            .all(&self.base.db)
            .await?;
        let mut size: i64 = before.iter().map(|(event, n)| signed(event, *n)).sum();
        // (joined, left) per day; an event stamped after today (a clock set back) counts
        // for today, so that the last point is the current size.
        let mut per_day: BTreeMap<NaiveDate, (i64, i64)> = BTreeMap::new();
        for (at, event, n) in within {
            let day = per_day.entry(at.date_naive().min(today)).or_default();
            match event.as_str() {
                "joined" => day.0 += n,
                "left" => day.1 += n,
                _ => {}
            }
        }
        let mut points = Vec::with_capacity(days as usize);
        for day in first.iter_days().take(days as usize) {
            let (joined, left) = per_day.get(&day).copied().unwrap_or_default();
            size += joined - left;
            points.push(SizePoint {
                day,
                size: u64::try_from(size).unwrap_or(0),
                joined: u64::try_from(joined).unwrap_or(0),
                left: u64::try_from(left).unwrap_or(0),
            });
        }
        Ok(points)
    }
}

/// What `n` events of kind `event` add to the size.
fn signed(event: &str, n: i64) -> i64 {
    match event {
        "joined" => n,
        "left" => -n,
        _ => 0,
    }
}
