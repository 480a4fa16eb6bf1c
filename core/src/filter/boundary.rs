//! The boundary that moved: which contacts a filter can decide differently when it is
//! lowered at a later time, with no data changed.
//!
//! A time-relative operator lowers to the same predicate with other constants as the
//! clock moves (`within_last 30 days` is `created_at` in `[now - 30 days, now]`). Between
//! two lowerings of one filter, a contact's outcome can only change if one of the
//! predicate's leaves takes another value for it: the whole predicate is a function of its
//! leaves, given the contact's data. So [`moved`] compares the two plans condition by
//! condition, and for every leaf that differs gives a condition that holds at least for
//! the contacts on which the two versions of the leaf can disagree:
//!
//! | leaf | where the two versions can disagree |
//! |---|---|
//! | `compare field lt/le/gt/ge v` | `field` between the two values, both included |
//! | `compare field eq/ne v` | `field` is one of the two values |
//! | `range field low..high` | `field` between the two lows, or between the two highs |
//! | `activity kind since..until` | an activity of that kind (same properties, amount) between the two `since`s, or between the two `until`s |
//!
//! Each is a narrow range that the indexes serve, so re-deciding a time-relative segment
//! costs the contacts near its moving edge instead of the whole segment
//! ([`crate::segments::jobs`]). Both versions of a comparison are NULL for a contact
//! whose field is NULL, so that contact's outcome can't change, and no boundary has to
//! hold for it; an activity condition is never NULL.
//!
//! Anything else that differs (another shape, another field or operator, a changed
//! residual, a text or boolean value whose order is the database's collation) gives
//! `None`: the plans can't be compared, and the caller evaluates the whole filter again.

use std::cmp::Ordering;

use super::tree::Plan;
use crate::plugin::ir::{ActivityExists, CompareOp, Predicate, Scalar};

/// Where `before` and `after` (two lowerings of one filter) can decide a contact
/// differently: [`Predicate::Never`] when nothing moved, `None` when the plans can't be
/// compared (see the module docs).
pub fn moved(before: &Plan, after: &Plan) -> Option<Predicate> {
    if before.conditions.len() != after.conditions.len() {
        return None;
    }
    let mut edges = Vec::new();
    for (b, a) in before.conditions.iter().zip(&after.conditions) {
        leaves(b, a, &mut edges)?;
    }
    Some(match edges.len() {
        0 => Predicate::Never,
        1 => edges.remove(0),
        _ => Predicate::Or(edges),
    })
}

/// Adds to `edges` where the leaves of `b` and `a` that differ can disagree; `None` when
/// a difference can't be bounded.
fn leaves(b: &Predicate, a: &Predicate, edges: &mut Vec<Predicate>) -> Option<()> {
    if b == a {
        return Some(());
    }
    match (b, a) {
        (Predicate::And(bs), Predicate::And(as_)) | (Predicate::Or(bs), Predicate::Or(as_))
            if bs.len() == as_.len() =>
        {
            for (b, a) in bs.iter().zip(as_) {
                leaves(b, a, edges)?;
            }
            Some(())
        }
        (Predicate::Not(b), Predicate::Not(a)) => leaves(b, a, edges),
        (
            Predicate::Compare {
                field,
                op,
                value: before,
            },
            Predicate::Compare {
                field: field_a,
                op: op_a,
                value: after,
            },
        ) if field == field_a && op == op_a => {
            let (low, high) = ordered(before, after)?;
            edges.push(match op {
                CompareOp::Eq | CompareOp::Ne => Predicate::InSet {
                    field: field.clone(),
                    values: vec![low, high],
                },
                _ => Predicate::Range {
                    field: field.clone(),
                    low,
                    high,
                },
            });
            Some(())
        }
        (
            Predicate::Range { field, low, high },
            Predicate::Range {
                field: field_a,
                low: low_a,
                high: high_a,
            },
        ) if field == field_a => {
            for (b, a) in [(low, low_a), (high, high_a)] {
                if b != a {
                    let (low, high) = ordered(b, a)?;
                    edges.push(Predicate::Range {
                        field: field.clone(),
                        low,
                        high,
                    });
                }
            }
            Some(())
        }
        (Predicate::Activity(b), Predicate::Activity(a)) => activity(b, a, edges),
        _ => None,
    }
}

/// The activities between the two windows' edges that moved.
fn activity(b: &ActivityExists, a: &ActivityExists, edges: &mut Vec<Predicate>) -> Option<()> {
    if b.kind != a.kind || b.min_count != a.min_count || b.min_amount != a.min_amount || b.properties != a.properties {
        return None;
    }
    let between = |since, until| {
        Predicate::Activity(ActivityExists {
            since,
            until,
            min_count: 1,
            ..b.clone()
        })
    };
    // An open end is the far past (`since`) or the far future (`until`).
    if b.since != a.since {
        let (low, high) = match (b.since, a.since) {
            (Some(x), Some(y)) => (Some(x.min(y)), Some(x.max(y))),
            (None, edge) | (edge, None) => (None, edge),
        };
        edges.push(between(low, high));
    }
    if b.until != a.until {
        let (low, high) = match (b.until, a.until) {
            (Some(x), Some(y)) => (Some(x.min(y)), Some(x.max(y))),
            (None, edge) | (edge, None) => (edge, None),
        };
        edges.push(between(low, high));
    }
    Some(())
}

/// The two values, lower first, when they are of one kind whose order is the same in
/// Rust, SQLite and PostgreSQL (numbers, days, instants).
fn ordered(x: &Scalar, y: &Scalar) -> Option<(Scalar, Scalar)> {
    let order = match (x, y) {
        (Scalar::Integer(x), Scalar::Integer(y)) => x.cmp(y),
        (Scalar::Number(x), Scalar::Number(y)) => x.partial_cmp(y)?,
        (Scalar::Date(x), Scalar::Date(y)) => x.cmp(y),
        (Scalar::Datetime(x), Scalar::Datetime(y)) => x.cmp(y),
        _ => return None,
    };
    Some(match order {
        Ordering::Greater => (y.clone(), x.clone()),
        _ => (x.clone(), y.clone()),
    })
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, NaiveDate, Utc};

    use super::*;
    use crate::plugin::ir::Residual;

    fn plan(conditions: Vec<Predicate>) -> Plan {
        Plan {
            predicate: Predicate::And(conditions.clone()),
            conditions,
            now: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(seconds)
    }

    fn within(field: &str, since: i64, now: i64) -> Predicate {
        Predicate::Range {
            field: field.into(),
            low: Scalar::Datetime(at(since)),
            high: Scalar::Datetime(at(now)),
        }
    }

    fn bought(since: Option<i64>, min_count: u32) -> Predicate {
        Predicate::Activity(ActivityExists {
            kind: "purchase".into(),
            since: since.map(at),
            until: None,
            min_count,
            min_amount: Some(10.0),
            properties: vec![("channel".into(), Scalar::Text("web".into()))],
        })
    }

    #[test]
    fn a_range_that_slid_gives_its_two_moved_edges() {
        let before = plan(vec![within("created_at", 100, 200)]);
        let after = plan(vec![within("created_at", 160, 260)]);
        assert_eq!(
            moved(&before, &after),
            Some(Predicate::Or(vec![
                within("created_at", 100, 160),
                within("created_at", 200, 260)
            ]))
        );
    }

    #[test]
    fn an_unchanged_plan_moves_nothing() {
        let p = plan(vec![within("created_at", 100, 200), bought(Some(5), 2)]);
        assert_eq!(moved(&p, &p), Some(Predicate::Never));
    }

    #[test]
    fn a_comparison_moves_between_its_two_values_in_either_direction() {
        let compare = |op, day: u32| Predicate::Compare {
            field: "fields.renewal".into(),
            op,
            value: Scalar::Date(NaiveDate::from_ymd_opt(2026, 12, day).unwrap()),
        };
        let day = |d: u32| Scalar::Date(NaiveDate::from_ymd_opt(2026, 12, d).unwrap());
        // Under a NOT, and with the clock going backwards: the edge is the same.
        let before = plan(vec![Predicate::Not(Box::new(compare(CompareOp::Lt, 9)))]);
        let after = plan(vec![Predicate::Not(Box::new(compare(CompareOp::Lt, 4)))]);
        assert_eq!(
            moved(&before, &after),
            Some(Predicate::Range {
                field: "fields.renewal".into(),
                low: day(4),
                high: day(9),
            })
        );
        let before = plan(vec![compare(CompareOp::Eq, 3)]);
        let after = plan(vec![compare(CompareOp::Eq, 4)]);
        assert_eq!(
            moved(&before, &after),
            Some(Predicate::InSet {
                field: "fields.renewal".into(),
                values: vec![day(3), day(4)],
            })
        );
    }

    #[test]
    fn an_activity_window_moves_by_its_start_and_keeps_its_properties() {
        let before = plan(vec![Predicate::Or(vec![
            bought(Some(1_000), 3),
            within("updated_at", 1, 2),
        ])]);
        let after = plan(vec![Predicate::Or(vec![
            bought(Some(1_300), 3),
            within("updated_at", 1, 2),
        ])]);
        let Some(Predicate::Activity(edge)) = moved(&before, &after) else {
            panic!("one activity edge expected");
        };
        assert_eq!(
            (edge.since, edge.until, edge.min_count),
            (Some(at(1_000)), Some(at(1_300)), 1)
        );
        assert_eq!(edge.min_amount, Some(10.0));
        assert_eq!(edge.properties, vec![("channel".into(), Scalar::Text("web".into()))]);
        // From "ever" to a window: everything before the new start.
        let Some(Predicate::Activity(edge)) = moved(&plan(vec![bought(None, 1)]), &plan(vec![bought(Some(7), 1)]))
        else {
            panic!("one activity edge expected");
        };
        assert_eq!((edge.since, edge.until), (None, Some(at(7))));
    }

    #[test]
    fn what_cannot_be_bounded_asks_for_the_whole_filter() {
        let residual = |args: i64| {
            Predicate::Residual(Residual {
                plugin: "geo".into(),
                op: "near".into(),
                field: "location".into(),
                args: Some(serde_json::json!(args)),
            })
        };
        let text = |s: &str| Predicate::Compare {
            field: "name".into(),
            op: CompareOp::Lt,
            value: Scalar::Text(s.into()),
        };
        let cases = [
            // Another shape.
            (within("created_at", 1, 2), Predicate::Never),
            // A residual's arguments changed: only its plugin knows what that means.
            (residual(1), residual(2)),
            // Text order is the database's collation, not Rust's.
            (text("a"), text("b")),
            // The activity condition itself changed, not only its window.
            (bought(Some(1), 1), bought(Some(2), 2)),
        ];
        for (b, a) in cases {
            assert_eq!(
                moved(&plan(vec![b.clone()]), &plan(vec![a.clone()])),
                None,
                "{b:?} -> {a:?}"
            );
        }
    }
}
