//! The hand-written side: the statements written by hand, their counts and pages (the
//! geo plugin's geometry is in `support::geo`).

#[allow(unused_imports)]
use super::*;

pub(crate) use crate::support::geo::{box_sql, distance_km};

/// The page query by hand: the contacts and their type key, by name (its collation key).
pub(crate) fn page_sql(condition: &Sql, after: Option<(&[u8], i64)>, limit: u64) -> Sql {
    let mut values = condition.values.clone();
    let keyset = match after {
        Some((name_sort, id)) => {
            values.push(name_sort.to_vec().into());
            values.push(id.into());
            " AND (contacts.name_sort, contacts.id) > (?, ?)"
        }
        None => "",
    };
    Sql::new(
        format!(
            "SELECT contacts.*, contact_types.key AS type_key FROM contacts \
             JOIN contact_types ON contact_types.id = contacts.type_id \
             WHERE {}{keyset} ORDER BY contacts.name_sort, contacts.id LIMIT {limit}",
            condition.text
        ),
        values,
    )
}

/// Runs a hand-written page query: (id, name, latitude, longitude) of each row, every
/// column decoded into the row struct and the type key read.
pub(crate) async fn hand_rows(
    db: &DatabaseConnection,
    stmt: Statement,
) -> Res<Vec<(i64, Vec<u8>, Option<f64>, Option<f64>)>> {
    let rows = db.query_all_raw(stmt).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let model = contacts::Model::from_query_result(&row, "")?;
        let _type_key: String = row.try_get("", "type_key")?;
        out.push((
            model.id,
            model.name_sort.unwrap_or_default(),
            model.latitude,
            model.longitude,
        ));
    }
    Ok(out)
}

pub(crate) async fn hand_count(db: &DatabaseConnection, backend: DbBackend, hand: &Hand) -> Res<u64> {
    match hand {
        Hand::Sql { count, .. } => {
            let row = db
                .query_one_raw(count.statement(backend))
                .await?
                .ok_or("COUNT(*) returned no row")?;
            let n: i64 = row.try_get_by_index(0)?;
            Ok(u64::try_from(n)?)
        }
        Hand::Circle { lat, lon, km } => crate::support::geo::circle_count(db, *lat, *lon, *km).await,
    }
}

pub(crate) async fn hand_page(db: &DatabaseConnection, backend: DbBackend, hand: &Hand) -> Res<Vec<i64>> {
    match hand {
        Hand::Sql { page_where, .. } => {
            let rows = hand_rows(db, page_sql(page_where, None, PAGE).statement(backend)).await?;
            Ok(rows.into_iter().map(|r| r.0).collect())
        }
        Hand::Circle { lat, lon, km } => {
            // Keyset over the box by name until the page is full (the circle holds π/4 of
            // the box, so the first 100 rows nearly always do).
            let condition = box_sql(*lat, *lon, *km);
            let mut ids = Vec::new();
            let mut after: Option<(Vec<u8>, i64)> = None;
            loop {
                let stmt = page_sql(&condition, after.as_ref().map(|(n, i)| (n.as_slice(), *i)), 2 * PAGE);
                let rows = hand_rows(db, stmt.statement(backend)).await?;
                let full = rows.len() as u64 == 2 * PAGE;
                for (id, name, la, lo) in rows {
                    if let (Some(la), Some(lo)) = (la, lo)
                        && distance_km(*lat, *lon, la, lo) <= *km
                    {
                        ids.push(id);
                        if ids.len() as u64 == PAGE {
                            return Ok(ids);
                        }
                    }
                    after = Some((name, id));
                }
                if !full {
                    return Ok(ids);
                }
            }
        }
    }
}
