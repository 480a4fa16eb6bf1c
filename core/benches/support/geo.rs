//! The geo plugin's geometry (`plugins/builtin/geo/src/lib.rs`), for the hand-written
//! side of the `within_distance` figures: the bounding box, the exact distance, and the
//! count by hand (the box in SQL, the distance in Rust).

use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::{Res, Sql};

/// The benchmarks' circle: Warsaw, 4 km (`lat, lon, km`).
pub const CIRCLE: (f64, f64, f64) = (52.2297, 21.0122, 4.0);

pub const EARTH_RADIUS_KM: f64 = 6371.0088;
pub const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// `(min_lat, max_lat, min_lon, max_lon)` around the circle (away from poles and the
/// antimeridian, which the benchmarks' circles are).
pub fn bounding_box(lat: f64, lon: f64, km: f64) -> (f64, f64, f64, f64) {
    let reach = km / KM_PER_DEGREE * (1.0 + 1e-9);
    let (min_lat, max_lat) = (lat - reach, lat + reach);
    let reach_lon = reach / min_lat.abs().max(max_lat.abs()).to_radians().cos();
    (min_lat, max_lat, lon - reach_lon, lon + reach_lon)
}

pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let half_dphi = (phi2 - phi1) / 2.0;
    let half_dlambda = (lon2 - lon1).to_radians() / 2.0;
    let h = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
}

/// The bounding box as a condition on `contacts`.
pub fn box_sql(lat: f64, lon: f64, km: f64) -> Sql {
    let (min_lat, max_lat, min_lon, max_lon) = bounding_box(lat, lon, km);
    Sql::new(
        "contacts.latitude BETWEEN ? AND ? AND contacts.longitude BETWEEN ? AND ?",
        vec![min_lat.into(), max_lat.into(), min_lon.into(), max_lon.into()],
    )
}

/// How many contacts lie within `km` of `(lat, lon)`, by hand: the box's coordinates read
/// in one statement (the covering index), the distance checked in Rust.
pub async fn circle_count(db: &DatabaseConnection, lat: f64, lon: f64, km: f64) -> Res<u64> {
    let condition = box_sql(lat, lon, km);
    let select = Sql::new(
        format!(
            "SELECT contacts.latitude, contacts.longitude FROM contacts WHERE {}",
            condition.text
        ),
        condition.values,
    );
    let rows = db.query_all_raw(select.statement(db.get_database_backend())).await?;
    let mut n = 0u64;
    for row in rows {
        let (la, lo): (f64, f64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
        if distance_km(lat, lon, la, lo) <= km {
            n += 1;
        }
    }
    Ok(n)
}
