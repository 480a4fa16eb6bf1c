//! Full rebuilds of one segment: the engine's job and request path against the
//! hand-written statements.

#[allow(unused_imports)]
use super::*;

/// A segment to rebuild, with its condition written by hand.
pub(crate) struct RebuildCase {
    pub(crate) label: &'static str,
    pub(crate) segment: &'static str,
    pub(crate) hand: Sql,
}

pub(crate) async fn rebuild_cases(db: &DatabaseConnection) -> Res<Vec<RebuildCase>> {
    let birthday = index_expression(db, "birthday").await?;
    let client = db
        .query_one_raw(
            Sql::new("SELECT id FROM contact_types WHERE key = ?", vec!["client".into()])
                .statement(db.get_database_backend()),
        )
        .await?
        .ok_or("no type client")?
        .try_get_by_index::<i64>(0)?;
    Ok(vec![
        RebuildCase {
            label: "large",
            segment: "Country: Україна",
            hand: Sql::new("contacts.country = ?", vec!["Україна".into()]),
        },
        RebuildCase {
            label: "middling (extra field)",
            segment: "Birthday: 1980s",
            hand: Sql::new(
                format!("{birthday} BETWEEN ? AND ?"),
                vec!["1980-01-01".into(), "1989-12-31".into()],
            ),
        },
        RebuildCase {
            label: "small",
            segment: "Clients in Lublin",
            hand: Sql::new(
                "contacts.type_id = ? AND contacts.city = ?",
                vec![client.into(), "Lublin".into()],
            ),
        },
    ])
}

/// `(count, sum of ids)` of a statement that selects them.
pub(crate) async fn tally(db: &DatabaseConnection, sql: Sql) -> Res<(i64, i64)> {
    let row = db
        .query_one_raw(sql.statement(db.get_database_backend()))
        .await?
        .ok_or("COUNT(*) returned no row")?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
}

pub(crate) async fn members_tally(db: &DatabaseConnection, id: i64) -> Res<(i64, i64)> {
    tally(
        db,
        Sql::new(
            "SELECT COUNT(*), CAST(COALESCE(SUM(contact_id), 0) AS BIGINT) FROM segment_members WHERE segment_id = ?",
            vec![id.into()],
        ),
    )
    .await
}

/// Fails unless segment `id` holds `expected` (count, id sum).
pub(crate) async fn check(
    db: &DatabaseConnection,
    id: i64,
    expected: (i64, i64),
    segment: &str,
    what: &str,
) -> Res<()> {
    let now = members_tally(db, id).await?;
    if now == expected {
        Ok(())
    } else {
        Err(format!("{segment}, {what}: members {now:?}, expected {expected:?}").into())
    }
}

/// Empties segment `id` and drops the events after `mark`, outside the clock.
pub(crate) async fn empty(db: &DatabaseConnection, id: i64, mark: i64) -> Res<()> {
    let backend = db.get_database_backend();
    db.execute_raw(Sql::new("DELETE FROM segment_members WHERE segment_id = ?", vec![id.into()]).statement(backend))
        .await?;
    db.execute_raw(
        Sql::new(
            "DELETE FROM segment_events WHERE segment_id = ? AND id > ?",
            vec![id.into(), mark.into()],
        )
        .statement(backend),
    )
    .await?;
    Ok(())
}

/// The hand-written full build: the `joined` events and the members, in one transaction.
pub(crate) async fn hand_build(db: &DatabaseConnection, id: i64, condition: &Sql, now: DateTime<Utc>) -> Res<u64> {
    let backend = db.get_database_backend();
    let mut values: Vec<Value> = vec![id.into(), now.into()];
    values.extend(condition.values.iter().cloned());
    let txn = db.begin().await?;
    let events = Sql::new(
        format!(
            "INSERT INTO segment_events (segment_id, contact_id, event, at) \
             SELECT ?, contacts.id, 'joined', ? FROM contacts WHERE {}",
            condition.text
        ),
        values.clone(),
    );
    txn.execute_raw(events.statement(backend)).await?;
    let members = Sql::new(
        format!(
            "INSERT INTO segment_members (segment_id, contact_id, joined_at) \
             SELECT ?, contacts.id, ? FROM contacts WHERE {}",
            condition.text
        ),
        values,
    );
    let n = txn.execute_raw(members.statement(backend)).await?.rows_affected();
    txn.commit().await?;
    Ok(n)
}

pub(crate) struct RebuildRow {
    pub(crate) label: &'static str,
    pub(crate) segment: &'static str,
    pub(crate) members: i64,
    pub(crate) job: Duration,
    pub(crate) whole: Duration,
    pub(crate) hand: Duration,
    pub(crate) unchanged: Duration,
}

pub(crate) async fn rebuilds(
    base: &Base,
    actor: &Actor,
    ids: &HashMap<String, i64>,
    runs: usize,
) -> Res<Vec<RebuildRow>> {
    let (db, core) = (&base.db, &base.core);
    let mut rows = Vec::new();
    for case in rebuild_cases(db).await? {
        let id = *ids
            .get(case.segment)
            .ok_or_else(|| format!("no segment {}", case.segment))?;
        let expected = tally(
            db,
            Sql::new(
                format!(
                    "SELECT COUNT(*), CAST(COALESCE(SUM(contacts.id), 0) AS BIGINT) FROM contacts WHERE {}",
                    case.hand.text
                ),
                case.hand.values.clone(),
            ),
        )
        .await?;
        // The upkeep kept it current through the updates.
        let kept = members_tally(db, id).await?;
        if kept != expected {
            return Err(format!(
                "{}: the segment holds (count, id sum) {kept:?} after the updates, its condition {expected:?}",
                case.segment
            )
            .into());
        }
        let mark = last_event(db).await?;
        let (mut job, mut whole, mut hand, mut unchanged) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        // One round untimed, then `runs`.
        for round in 0..=runs {
            // The rebuild job alone: asked for outside the clock (not built in the call).
            empty(db, id, mark).await?;
            core.segments().segment_state().set_inline_limit(0);
            core.segments().rebuild_segment(actor, id).await?;
            let started = Instant::now();
            let ran = core.segments().run_pending_rebuilds().await?;
            let took = started.elapsed();
            if ran != 1 {
                return Err(format!("{}: {ran} rebuilds ran, expected 1", case.segment).into());
            }
            check(db, id, expected, case.segment, "rebuild job").await?;
            // Again with nothing to change.
            core.segments().rebuild_segment(actor, id).await?;
            let started = Instant::now();
            core.segments().run_pending_rebuilds().await?;
            let same = started.elapsed();
            check(db, id, expected, case.segment, "rebuild job, nothing to change").await?;
            // The whole request, built in it.
            empty(db, id, mark).await?;
            core.segments().segment_state().set_inline_limit(u64::MAX);
            let started = Instant::now();
            let segment = core.segments().rebuild_segment(actor, id).await?;
            let took_whole = started.elapsed();
            if i64::try_from(segment.count)? != expected.0 || segment.status != "ok" {
                return Err(format!(
                    "{}: rebuild_segment answered {} members, {}",
                    case.segment, segment.count, segment.status
                )
                .into());
            }
            check(db, id, expected, case.segment, "rebuild_segment").await?;
            // By hand.
            empty(db, id, mark).await?;
            let started = Instant::now();
            hand_build(db, id, &case.hand, stored(SystemClock.now())).await?;
            let took_hand = started.elapsed();
            check(db, id, expected, case.segment, "hand-written").await?;
            if round > 0 {
                job.push(took);
                unchanged.push(same);
                whole.push(took_whole);
                hand.push(took_hand);
            }
        }
        // Leave it as the engine builds it.
        empty(db, id, mark).await?;
        core.segments().rebuild_segment(actor, id).await?;
        check(db, id, expected, case.segment, "final rebuild").await?;
        rows.push(RebuildRow {
            label: case.label,
            segment: case.segment,
            members: expected.0,
            job: median(job),
            whole: median(whole),
            hand: median(hand),
            unchanged: median(unchanged),
        });
    }
    Ok(rows)
}
