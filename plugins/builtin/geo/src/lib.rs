//! `geo`: the built-in operators on where contacts are.
//!
//! Both apply to the `location` field, which stands for a contact's address (city, region,
//! country) and its position (latitude, longitude).
//!
//! - `in_location "Kraków"`: the city, the region or the country equals the text, case-
//!   and accent-insensitively ("krakow" finds "Kraków"); exact, in the database.
//! - `within_distance {"lat": 50.06, "lon": 19.94, "km": 25}` or
//!   `{"place": "Kraków", "km": 25}`: the great-circle distance from the point (or the
//!   centre of a city of the built-in [`gazetteer`]) is at most `km`. The database keeps
//!   the contacts in the circle's bounding box (a superset, see [`bounding_box`]), and the
//!   exact haversine distance is a residual, decided here in `matches` on their points.
//!   A contact without a position never matches.

pub mod gazetteer;

use kartoteka_plugin_sdk::prelude::*;

/// The plugin.
pub struct Geo;

/// The mean radius of the Earth, km (IUGG).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Kilometres per degree of a great circle (about 111.195).
pub const KM_PER_DEGREE: f64 = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;

/// The address fields `in_location` compares with.
const ADDRESS: [&str; 3] = ["city", "region", "country"];

/// The keys `within_distance` takes.
const CIRCLE_KEYS: &[&str] = &["lat", "lon", "place", "km"];

const IN_LOCATION: &str = r#"{"type": "string", "minLength": 1, "title": "City, region or country"}"#;
const WITHIN_DISTANCE: &str = r#"{"type": "object", "properties": {"place": {"type": "string", "minLength": 1, "title": "City", "examples": ["Warszawa", "Kraków", "Київ", "București"]}, "lat": {"type": "number", "minimum": -90, "maximum": 90, "title": "Latitude"}, "lon": {"type": "number", "minimum": -180, "maximum": 180, "title": "Longitude"}, "km": {"type": "number", "exclusiveMinimum": 0, "title": "Distance (km)"}}, "oneOf": [{"required": ["place", "km"], "not": {"anyOf": [{"required": ["lat"]}, {"required": ["lon"]}]}}, {"required": ["lat", "lon", "km"], "not": {"required": ["place"]}}], "additionalProperties": false}"#;

/// `geo.in_location`: the city, region or country equals the text, folded.
#[derive(Default)]
pub struct InLocation;

impl Operator for InLocation {
    const NAME: &'static str = "in_location";
    const LABEL: &'static str = "is in";
    const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Location];
    type Args = Args;

    fn args_schema() -> String {
        IN_LOCATION.to_owned()
    }

    fn lower(&self, _: &Field, args: &Args, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        let value = args.value();
        let needle = value.as_str()?;
        if needle.trim().is_empty() {
            return Err(value.error("expected a city, region or country, found an empty string"));
        }
        let each: Vec<Node> = ADDRESS
            .iter()
            .map(|path| plan.text(path, TextMode::Equals, needle, true))
            .collect();
        Ok(plan.or(&each))
    }
}

/// `geo.within_distance`: a bounding box in the database, the exact distance here.
#[derive(Default)]
pub struct WithinDistance;

impl Operator for WithinDistance {
    const NAME: &'static str = "within_distance";
    const LABEL: &'static str = "is within";
    const APPLIES_TO: &'static [FieldKind] = &[FieldKind::Location];
    type Args = Args;

    fn args_schema() -> String {
        WITHIN_DISTANCE.to_owned()
    }

    fn lower(&self, _: &Field, args: &Args, plan: &mut Plan<'_>) -> Result<Node, PluginError> {
        let circle = Circle::from_args(args)?;
        let (min_lat, max_lat, min_lon, max_lon) = bounding_box(circle.lat, circle.lon, circle.km);
        let candidates = plan.geo_box(min_lat, max_lat, min_lon, max_lon);
        let exact = plan.residual();
        Ok(plan.and(&[candidates, exact]))
    }

    fn matches(&mut self, args: &Args, values: &Batch) -> Result<Vec<bool>, PluginError> {
        let circle = Circle::from_args(args)?;
        Ok(values
            .points()?
            .map(|point| point.is_some_and(|(lat, lon)| distance_km(circle.lat, circle.lon, lat, lon) <= circle.km))
            .collect())
    }
}

plugin!(Geo {
    name: "geo",
    description: "Where contacts are: in a city, region or country; within a distance of a point or a city.",
    operators: [InLocation, WithinDistance],
});

/// The argument of `within_distance`: a centre and a radius.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Circle {
    lat: f64,
    lon: f64,
    km: f64,
}

impl Circle {
    /// `{"lat", "lon", "km"}` or `{"place", "km"}`, checked, with the place looked up.
    fn from_args(args: &Args) -> Result<Self, PluginError> {
        let value = args.value();
        value.deny_unknown_keys(CIRCLE_KEYS)?;
        let (lat, lon) = match value.get("place")?.optional() {
            Some(place) => {
                for key in ["lat", "lon"] {
                    if let Some(coordinate) = value.get(key)?.optional() {
                        return Err(coordinate.error("give either a place or lat and lon, not both"));
                    }
                }
                let name = place.as_str()?;
                let found = gazetteer::find(name).ok_or_else(|| {
                    place.error(format!(
                        "unknown place {name:?}; known places include: {} (or give lat and lon)",
                        gazetteer::suggestions(name, 8).join(", ")
                    ))
                })?;
                (found.lat, found.lon)
            }
            None => {
                if value.get("lat")?.optional().is_none() && value.get("lon")?.optional().is_none() {
                    return Err(value.error(r#"expected a "place" or "lat" and "lon", with "km""#));
                }
                (
                    coordinate(&value.get("lat")?, 90.0, "a latitude")?,
                    coordinate(&value.get("lon")?, 180.0, "a longitude")?,
                )
            }
        };
        let km_arg = value.get("km")?;
        let km = km_arg.as_f64()?;
        if km <= 0.0 {
            return Err(km_arg.error("expected a distance in km, greater than 0"));
        }
        Ok(Circle { lat, lon, km })
    }
}

/// A latitude or longitude: a number in `-limit..=limit`.
fn coordinate(arg: &Arg<'_>, limit: f64, what: &str) -> Result<f64, PluginError> {
    let degrees = arg.as_f64()?;
    if (-limit..=limit).contains(&degrees) {
        Ok(degrees)
    } else {
        Err(arg.error(format!("expected {what} between -{limit} and {limit}, found {degrees}")))
    }
}

/// The latitude/longitude box `(min_lat, max_lat, min_lon, max_lon)` around the circle of
/// `km` around `(lat, lon)`: a superset of it, never smaller.
///
/// Latitudes: ± `km` / [`KM_PER_DEGREE`]. Longitudes: ± `km` / (`KM_PER_DEGREE` · cos φ)
/// with φ the box's latitude nearest a pole, as a path from the centre to a point of the
/// circle stays between the box's latitudes, where a degree of longitude is at least that
/// long. When the circle reaches a pole, or crosses the antimeridian, the box takes every
/// longitude (−180..180), latitudes clamped to −90..90. A relative margin of 1e-9 keeps
/// rounding from putting a point of the circle's edge outside.
pub fn bounding_box(lat: f64, lon: f64, km: f64) -> (f64, f64, f64, f64) {
    let reach = km / KM_PER_DEGREE * (1.0 + 1e-9);
    let (min_lat, max_lat) = (lat - reach, lat + reach);
    if min_lat <= -90.0 || max_lat >= 90.0 {
        return (min_lat.max(-90.0), max_lat.min(90.0), -180.0, 180.0);
    }
    let poleward = min_lat.abs().max(max_lat.abs());
    let reach_lon = reach / poleward.to_radians().cos();
    let (min_lon, max_lon) = (lon - reach_lon, lon + reach_lon);
    if !reach_lon.is_finite() || min_lon < -180.0 || max_lon > 180.0 {
        return (min_lat, max_lat, -180.0, 180.0);
    }
    (min_lat, max_lat, min_lon, max_lon)
}

/// The great-circle distance in km between two points (haversine, on a sphere of
/// [`EARTH_RADIUS_KM`]).
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let half_dphi = (phi2 - phi1) / 2.0;
    let half_dlambda = (lon2 - lon1).to_radians() / 2.0;
    let h = half_dphi.sin().powi(2) + phi1.cos() * phi2.cos() * half_dlambda.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
}

#[cfg(test)]
mod tests;
