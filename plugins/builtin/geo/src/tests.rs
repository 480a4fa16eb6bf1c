use super::{Geo, KM_PER_DEGREE, bounding_box, distance_km, gazetteer};
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::testing::{self, field, json};
use kartoteka_plugin_sdk::{Field, GeoBox, IrNode, Predicate};

const KRAKOW: (f64, f64) = (50.0647, 19.9450);
const WARSZAWA: (f64, f64) = (52.2297, 21.0122);
const GDANSK: (f64, f64) = (54.3520, 18.6466);

fn location() -> Field {
    field("location", FieldKind::Location)
}

fn lower(op: &str, value: serde_json::Value) -> Predicate {
    match testing::lower::<Geo>(op, location(), value, 0) {
        Ok(predicate) => predicate,
        Err(error) => panic!("{op}: {}", error.to_text()),
    }
}

/// The error of `op` on `location` with `args`, as `path: message`.
fn error(op: &str, args: impl Into<Args>) -> String {
    match testing::lower::<Geo>(op, location(), args, 0) {
        Ok(predicate) => panic!("{op} lowered to {predicate}, expected an error"),
        Err(error) => error.to_text(),
    }
}

/// The box of a lowered `within_distance`.
fn geo_box(predicate: &Predicate) -> GeoBox {
    match predicate.nodes.first() {
        Some(IrNode::Geo(b)) => *b,
        other => panic!("expected a geo box first, found {other:?} in {predicate}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

/// The point `km` from `(lat, lon)` in the direction `bearing` (degrees), on the sphere.
fn destination(lat: f64, lon: f64, km: f64, bearing: f64) -> (f64, f64) {
    let (phi, lambda, theta) = (lat.to_radians(), lon.to_radians(), bearing.to_radians());
    let delta = km / super::EARTH_RADIUS_KM;
    let phi2 = (phi.sin() * delta.cos() + phi.cos() * delta.sin() * theta.cos()).asin();
    let lambda2 = lambda + (theta.sin() * delta.sin() * phi.cos()).atan2(delta.cos() - phi.sin() * phi2.sin());
    let lon2 = (lambda2.to_degrees() + 540.0).rem_euclid(360.0) - 180.0;
    (phi2.to_degrees(), lon2)
}

#[test]
fn describes_both_operators() {
    let description = testing::describe_filter_operator::<Geo>();
    assert_eq!(description.manifest.name, "geo");
    let names: Vec<&str> = description.entries.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["in_location", "within_distance"]);
    for operator in &description.entries {
        assert_eq!(operator.applies_to, [FieldKind::Location]);
    }
    let schema: serde_json::Value = serde_json::from_str(&description.entries[1].schema).unwrap();
    assert_eq!(schema["properties"]["km"]["exclusiveMinimum"], 0);
    assert_eq!(schema["oneOf"].as_array().map(Vec::len), Some(2));
}

#[test]
fn in_location_is_city_region_or_country_folded() {
    assert_eq!(
        lower("in_location", json!("krakow")).to_string(),
        r#"or(equals(city, "krakow", fold), equals(region, "krakow", fold), equals(country, "krakow", fold))"#
    );
    assert_eq!(
        lower("in_location", json!("Polska")).to_string(),
        r#"or(equals(city, "Polska", fold), equals(region, "Polska", fold), equals(country, "Polska", fold))"#
    );
    assert_eq!(
        error("in_location", json!(5)),
        "value: expected a string, found a whole number"
    );
    assert_eq!(
        error("in_location", json!("  ")),
        "value: expected a city, region or country, found an empty string"
    );
    assert_eq!(
        error("in_location", Args::none()),
        "value: expected a string, found nothing"
    );
}

#[test]
fn applies_to_location_only() {
    let error = testing::lower::<Geo>("in_location", field("city", FieldKind::Text), json!("Kraków"), 0).unwrap_err();
    assert_eq!(
        error.to_text(),
        "geo.in_location applies to location fields, not to city (a text field)"
    );
    let error = testing::lower::<Geo>("near", location(), json!("Kraków"), 0).unwrap_err();
    assert_eq!(error.to_text(), "unknown operator `near`");
}

#[test]
fn within_distance_is_a_box_and_the_exact_residual() {
    let predicate = lower("within_distance", json!({"lat": KRAKOW.0, "lon": KRAKOW.1, "km": 50}));
    let rendered = predicate.to_string();
    assert!(rendered.starts_with("and(geo("), "{rendered}");
    assert!(
        rendered.ends_with(r#"residual(within_distance, location, {"km": 50, "lat": 50.0647, "lon": 19.945}))"#),
        "{rendered}"
    );
    let b = geo_box(&predicate);
    let reach = 50.0 / KM_PER_DEGREE;
    assert!(
        close(b.min_lat, KRAKOW.0 - reach) && close(b.max_lat, KRAKOW.0 + reach),
        "{b:?}"
    );
    let reach_lon = reach / (KRAKOW.0 + reach).to_radians().cos();
    assert!(
        close(b.min_lon, KRAKOW.1 - reach_lon) && close(b.max_lon, KRAKOW.1 + reach_lon),
        "{b:?}"
    );
    assert!(
        b.min_lat > 49.6 && b.max_lat < 50.52 && b.min_lon > 19.2 && b.max_lon < 20.7,
        "{b:?}"
    );
}

#[test]
fn a_place_is_looked_up_in_the_gazetteer() {
    let by_point = geo_box(&lower(
        "within_distance",
        json!({"lat": KRAKOW.0, "lon": KRAKOW.1, "km": 30}),
    ));
    for name in ["Kraków", "krakow", "KRAKÓW", " kraków ", "Cracow"] {
        let predicate = lower("within_distance", json!({"place": name, "km": 30}));
        assert_eq!(geo_box(&predicate), by_point, "{name}");
        // The residual carries the arguments as given, and resolves the place again.
        assert!(predicate.to_string().contains(&format!("{:?}", name)), "{predicate}");
    }
    let kyiv = gazetteer::find("kyiv").map(|p| p.name);
    assert_eq!(kyiv, Some("Київ"));
    assert_eq!(gazetteer::find("КИЇВ").map(|p| p.name), Some("Київ"));
    assert_eq!(gazetteer::find("lodz").map(|p| p.name), Some("Łódź"));
    assert_eq!(gazetteer::find("cluj napoca").map(|p| p.name), Some("Cluj-Napoca"));
    assert_eq!(gazetteer::find("Timisoara").map(|p| p.name), Some("Timișoara"));
    assert_eq!(
        gazetteer::find("st petersburg").map(|p| p.name),
        Some("Санкт-Петербург")
    );
    assert_eq!(gazetteer::find("rostov on don").map(|p| p.name), Some("Ростов-на-Дону"));
    assert_eq!(gazetteer::find("Gotham"), None);
    assert_eq!(gazetteer::find(""), None);
}

#[test]
fn the_gazetteer_is_consistent() {
    let mut seen: Vec<String> = Vec::new();
    for place in gazetteer::PLACES {
        assert!(
            (-90.0..=90.0).contains(&place.lat) && (-180.0..=180.0).contains(&place.lon),
            "{place:?}"
        );
        for name in std::iter::once(place.name).chain(place.aliases.iter().copied()) {
            let folded = gazetteer::fold(name);
            assert!(!folded.is_empty() && !seen.contains(&folded), "{name} is ambiguous");
            seen.push(folded);
        }
    }
    assert_eq!(gazetteer::PLACES.len(), 71);
    assert_eq!(gazetteer::fold("  Zielona-Góra!"), "zielona gora");
    assert_eq!(gazetteer::fold("Łódź"), gazetteer::fold("LODZ"));
    assert_eq!(gazetteer::fold("Târgu Mureș"), "targu mures");
}

#[test]
fn matches_the_exact_great_circle_distance() {
    // Kraków to Warszawa is about 252 km (251.98).
    let distance = distance_km(KRAKOW.0, KRAKOW.1, WARSZAWA.0, WARSZAWA.1);
    assert!((distance - 251.98).abs() < 0.01, "{distance}");
    let points = Batch::from_points([Some(WARSZAWA), None, Some(KRAKOW), Some(GDANSK)]);
    let answers = testing::matches::<Geo>("within_distance", json!({"place": "Kraków", "km": 252}), &points);
    assert_eq!(answers.unwrap(), [true, false, true, false]);
    let answers = testing::matches::<Geo>("within_distance", json!({"place": "krakow", "km": 251.9}), &points);
    assert_eq!(answers.unwrap(), [false, false, true, false]);
    let answers = testing::matches::<Geo>(
        "within_distance",
        json!({"lat": WARSZAWA.0, "lon": WARSZAWA.1, "km": 0.001}),
        &points,
    );
    assert_eq!(answers.unwrap(), [true, false, false, false]);
    // One degree along the equator, and along the parallel of Kraków.
    assert!((distance_km(0.0, 0.0, 0.0, 1.0) - KM_PER_DEGREE).abs() < 1e-9);
    assert!((distance_km(KRAKOW.0, KRAKOW.1, KRAKOW.0, KRAKOW.1 + 1.0) - 71.378).abs() < 0.001);
    // Across the antimeridian.
    assert!((distance_km(0.0, 179.5, 0.0, -179.5) - KM_PER_DEGREE).abs() < 1e-9);
}

#[test]
fn matches_checks_its_input() {
    let error = testing::matches::<Geo>("within_distance", json!({"place": "Kraków", "km": 5}), &["Kraków"]);
    assert_eq!(error.unwrap_err().to_text(), "expected a column of points, got texts");
    let points = Batch::from_points([Some(KRAKOW)]);
    let error = testing::matches::<Geo>("within_distance", json!({"place": "Kraków", "km": 0}), &points);
    assert_eq!(
        error.unwrap_err().to_text(),
        "value.km: expected a distance in km, greater than 0"
    );
    let error = testing::matches::<Geo>("in_location", json!("Kraków"), &points);
    assert_eq!(
        error.unwrap_err().to_text(),
        "`in_location`: this operator has no residual"
    );
}

#[test]
fn the_box_holds_the_whole_circle() {
    let centres = [
        KRAKOW,
        (0.0, 0.0),
        (-33.9, 18.4),
        (69.6, 18.9),
        (-77.8, 166.7),
        (0.0, 179.9),
        (65.0, -179.0),
        (89.0, 0.0),
        (-89.5, 45.0),
    ];
    for (lat, lon) in centres {
        for km in [0.5, 10.0, 252.0, 1000.0, 5000.0, 19_000.0] {
            let (min_lat, max_lat, min_lon, max_lon) = bounding_box(lat, lon, km);
            assert!(-90.0 <= min_lat && min_lat <= max_lat && max_lat <= 90.0);
            assert!(-180.0 <= min_lon && min_lon <= max_lon && max_lon <= 180.0);
            for bearing in (0..3600).map(|tenth| f64::from(tenth) / 10.0) {
                let (plat, plon) = destination(lat, lon, km, bearing);
                assert!(distance_km(lat, lon, plat, plon) <= km * (1.0 + 1e-9));
                assert!(
                    (min_lat..=max_lat).contains(&plat) && (min_lon..=max_lon).contains(&plon),
                    "({lat}, {lon}) {km} km, bearing {bearing}: ({plat}, {plon}) is outside {:?}",
                    (min_lat, max_lat, min_lon, max_lon)
                );
            }
        }
    }
}

#[test]
fn poles_and_the_antimeridian_take_every_longitude() {
    // Reaches the North Pole.
    let (min_lat, max_lat, min_lon, max_lon) = bounding_box(89.0, 10.0, 200.0);
    assert!(close(min_lat, 89.0 - 200.0 / KM_PER_DEGREE));
    assert_eq!((max_lat, min_lon, max_lon), (90.0, -180.0, 180.0));
    // Reaches the South Pole.
    let (min_lat, _, min_lon, max_lon) = bounding_box(-89.5, 45.0, 100.0);
    assert_eq!((min_lat, min_lon, max_lon), (-90.0, -180.0, 180.0));
    // Crosses the antimeridian.
    let (min_lat, max_lat, min_lon, max_lon) = bounding_box(0.0, 179.9, 50.0);
    assert!(close(min_lat, -50.0 / KM_PER_DEGREE) && close(max_lat, 50.0 / KM_PER_DEGREE));
    assert_eq!((min_lon, max_lon), (-180.0, 180.0));
    // Further than half the globe: everything.
    assert_eq!(bounding_box(10.0, 10.0, 25_000.0), (-90.0, 90.0, -180.0, 180.0));
    // As the host sees it.
    let predicate = lower("within_distance", json!({"lat": 0.0, "lon": -179.95, "km": 20}));
    let b = geo_box(&predicate);
    assert_eq!((b.min_lon, b.max_lon), (-180.0, 180.0));
}

#[test]
fn refuses_bad_circles_with_their_path() {
    let op = "within_distance";
    assert_eq!(
        error(op, json!({"place": "Gotham", "km": 5})),
        r#"value.place: unknown place "Gotham"; known places include: Gdańsk, Gdynia, Galați (or give lat and lon)"#
    );
    assert!(
        error(op, json!({"place": "Quahog", "km": 5}))
            .starts_with(r#"value.place: unknown place "Quahog"; known places include: Warszawa, Kraków, Łódź"#)
    );
    assert_eq!(
        error(op, json!({"place": 7, "km": 5})),
        "value.place: expected a string, found a whole number"
    );
    assert_eq!(
        error(op, json!({"place": "Kraków", "km": 0})),
        "value.km: expected a distance in km, greater than 0"
    );
    assert_eq!(
        error(op, json!({"place": "Kraków", "km": -3.5})),
        "value.km: expected a distance in km, greater than 0"
    );
    assert_eq!(
        error(op, json!({"place": "Kraków", "km": "5"})),
        "value.km: expected a number, found a string"
    );
    assert_eq!(
        error(op, json!({"place": "Kraków"})),
        "value.km: expected a number, found nothing"
    );
    assert_eq!(
        error(op, json!({"lat": 91, "lon": 0, "km": 5})),
        "value.lat: expected a latitude between -90 and 90, found 91"
    );
    assert_eq!(
        error(op, json!({"lat": 0, "lon": -180.5, "km": 5})),
        "value.lon: expected a longitude between -180 and 180, found -180.5"
    );
    assert_eq!(
        error(op, json!({"lat": 50, "km": 5})),
        "value.lon: expected a number, found nothing"
    );
    assert_eq!(
        error(op, json!({"km": 5})),
        r#"value: expected a "place" or "lat" and "lon", with "km""#
    );
    assert_eq!(
        error(op, json!({"place": "Kraków", "lat": 50, "km": 5})),
        "value.lat: give either a place or lat and lon, not both"
    );
    assert_eq!(
        error(op, json!({"place": "Kraków", "km": 5, "radius": 5})),
        "value.radius: unknown key; expected one of: lat, lon, place, km"
    );
    assert_eq!(error(op, json!("Kraków")), "value: expected an object, found a string");
    // Nulls are as good as absent.
    let with_nulls = lower(op, json!({"place": "Kraków", "lat": null, "lon": null, "km": 5}));
    assert_eq!(
        geo_box(&with_nulls),
        geo_box(&lower(op, json!({"lat": KRAKOW.0, "lon": KRAKOW.1, "km": 5})))
    );
}
