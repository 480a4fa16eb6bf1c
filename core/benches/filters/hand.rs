//! The hand-written side: the geo plugin's geometry for the bounding box and the
//! exact distance, the statements written by hand, their counts and pages.

#[allow(unused_imports)]
use super::*;

// The geo plugin's geometry (`plugins/builtin/geo/src/lib.rs`), for the hand-written side.
pub(crate) const EARTH_RADIUS_KM: f64 = 6371.0088;
pub(crate) const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// `(min_lat, max_lat, min_lon, max_lon)` around the circle (away from poles and the
/// antimeridian, which the benchmark's circle is).
pub(crate) fn bounding_box(lat: f64, lon: f64, km: f64) -> (f64, f64, f64, f64) {
    let reach = km / KM_PER_DEGREE * (1.0 + 1e-9);
    let (min_lat, max_lat) = (lat - reach, lat + reach);
    let reach_lon = reach / min_lat.abs().max(max_lat.abs()).to_radians().cos();
    (min_lat, max_lat, lon - reach_lon, lon + reach_lon)
}

pub(crate) fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let half_dphi = (phi2 - phi1) / 2.0;
    let half_dlambda = (lon2 - lon1).to_radians() / 2.0;
    let h = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
}

pub(crate) fn box_sql(lat: f64, lon: f64, km: f64) -> Sql {
    let (min_lat, max_lat, min_lon, max_lon) = bounding_box(lat, lon, km);
    Sql::new(
        "contacts.latitude BETWEEN ? AND ? AND contacts.longitude BETWEEN ? AND ?",
        vec![min_lat.into(), max_lat.into(), min_lon.into(), max_lon.into()],
    )
}

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
        Hand::Circle { lat, lon, km } => {
            let condition = box_sql(*lat, *lon, *km);
            let select = Sql::new(
                format!(
                    "SELECT contacts.latitude, contacts.longitude FROM contacts WHERE {}",
                    condition.text
                ),
                condition.values,
            );
            let rows = db.query_all_raw(select.statement(backend)).await?;
            let mut n = 0u64;
            for row in rows {
                let (la, lo): (f64, f64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
                if distance_km(*lat, *lon, la, lo) <= *km {
                    n += 1;
                }
            }
            Ok(n)
        }
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
