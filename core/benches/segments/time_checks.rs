//! The schedule's check of the time-relative segments: each decided again where its
//! boundary moved (`segments::recheck`), against rebuilding each whole, what the schedule
//! did before.

#[allow(unused_imports)]
use super::*;

use kartoteka_core::segments::recheck::Recheck;

/// How far the clock moves between two checks: the schedule's interval.
const STEP: chrono::Duration = chrono::Duration::minutes(5);

/// What the checks did, over `runs` rounds.
pub(crate) struct TimeChecks {
    /// The time-relative segments, and their members in all.
    pub(crate) segments: usize,
    pub(crate) members: i64,
    /// Per round: all the checks, all the whole rebuilds (the jobs) at the same instant.
    pub(crate) checks: Vec<Duration>,
    pub(crate) rebuilds: Vec<Duration>,
    /// Per round in all: contacts decided again, memberships moved by the checks, and
    /// memberships the whole rebuilds then moved (the checks' misses, 0 when right).
    pub(crate) candidates: Vec<u64>,
    pub(crate) moved: Vec<u64>,
    pub(crate) missed: Vec<i64>,
}

async fn events(db: &DatabaseConnection, ids: &[i64]) -> Res<i64> {
    let list = ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) FROM segment_events WHERE segment_id IN ({list})"),
        ))
        .await?
        .ok_or("COUNT(*) returned no row")?;
    Ok(row.try_get_by_index(0)?)
}

/// Moves `clock` by [`STEP`] `runs + 1` times (the first round untimed); each time checks
/// every time-relative segment, then rebuilds each whole as a job at the same instant (the
/// clock held still for both, so a whole rebuild's change is a miss of the check's, not
/// time that passed between them).
pub(crate) async fn time_checks(base: &Base, clock: &ShiftedClock, actor: &Actor, runs: usize) -> Res<TimeChecks> {
    let (db, core) = (&base.db, &base.core);
    let segments = core.segments();
    // Catch up with the time the benchmark took so far.
    let first = segments.recheck_time_relative_segments().await?;
    segments.run_pending_rebuilds().await?;
    let ids: Vec<i64> = first.iter().map(Recheck::segment).collect();
    let mut members = 0;
    for id in &ids {
        members += members_tally(db, *id).await?.0;
    }
    let mut out = TimeChecks {
        segments: ids.len(),
        members,
        checks: Vec::new(),
        rebuilds: Vec::new(),
        candidates: Vec::new(),
        moved: Vec::new(),
        missed: Vec::new(),
    };
    for round in 0..=runs {
        clock.advance(STEP);
        clock.hold();
        let started = Instant::now();
        let done = segments.recheck_time_relative_segments().await?;
        let check = started.elapsed();
        let (mut candidates, mut moved) = (0, 0);
        for r in &done {
            match r {
                Recheck::Moved {
                    candidates: c,
                    joined,
                    left,
                    ..
                } => {
                    candidates += c;
                    moved += joined + left;
                }
                other => return Err(format!("a time-relative check did not compare: {other:?}").into()),
            }
        }
        let before = events(db, &ids).await?;
        segments.segment_state().set_inline_limit(0);
        for id in &ids {
            segments.rebuild_segment(actor, *id).await?;
        }
        let started = Instant::now();
        let ran = segments.run_pending_rebuilds().await?;
        let rebuild = started.elapsed();
        if ran != ids.len() {
            return Err(format!("{ran} rebuilds ran, expected {}", ids.len()).into());
        }
        let missed = events(db, &ids).await? - before;
        clock.release();
        if round > 0 {
            out.checks.push(check);
            out.rebuilds.push(rebuild);
            out.candidates.push(candidates);
            out.moved.push(moved);
            out.missed.push(missed);
        }
    }
    segments.segment_state().set_inline_limit(u64::MAX);
    Ok(out)
}
