//! The 200 dynamic segments of the segments benchmark: cities, countries, types, extra
//! fields, company, name, nested AND/OR/NOT, activities, creation date, distance (a
//! residual) and segments of segments, over the demo base's values
//! (`kartoteka_core::demo`).

use std::collections::HashMap;

use kartoteka_core::demo::names::{self, City};
use serde_json::{Value as Json, json};

use crate::support::Res;

/// How many dynamic segments the base gets.
pub const SEGMENTS: usize = 200;

/// The demo's cities with their country.
pub fn places() -> Vec<(&'static City, &'static str)> {
    [
        (names::PL_CITIES, "Polska"),
        (names::UA_CITIES, "Україна"),
        (names::RO_CITIES, "România"),
        (names::RU_CITIES, "Россия"),
    ]
    .into_iter()
    .flat_map(|(cities, country)| cities.iter().map(move |c| (c, country)))
    .collect()
}

fn cond(field: &str, op: &str, value: Json) -> Json {
    json!({"field": field, "op": op, "value": value})
}

fn eq(field: &str, value: impl Into<Json>) -> Json {
    cond(field, "eq", value.into())
}

fn is(type_key: &str) -> Json {
    cond("type", "is", json!(type_key))
}

fn and(items: Vec<Json>) -> Json {
    json!({ "and": items })
}

fn or(items: Vec<Json>) -> Json {
    json!({ "or": items })
}

fn not(item: Json) -> Json {
    json!({ "not": item })
}

fn happened(kind: &str, value: Json) -> Json {
    cond(&format!("activity.{kind}"), "happened", value)
}

fn days(n: i64) -> Json {
    json!({"amount": n, "unit": "days"})
}

/// A segment to create: its family (for the summary), name and filter.
pub struct Def {
    pub family: &'static str,
    pub name: String,
    pub filter: Json,
}

/// The segments that refer to other segments, created last (`referring`, `chained`).
pub const REFERRING: usize = 8;

/// Every segment but those that refer to others: `SEGMENTS - REFERRING` of them.
pub fn definitions() -> Res<Vec<Def>> {
    let places = places();
    let mut out = Vec::new();
    let mut add = |family: &'static str, name: String, filter: Json| out.push(Def { family, name, filter });
    let countries = ["Polska", "Україна", "România", "Россия"];
    let by_country = |country: &'static str| places.iter().filter(move |(_, c)| *c == country).map(|(city, _)| *city);

    for (country, n) in countries.iter().zip([8, 5, 4, 3]) {
        for city in by_country(country).take(n) {
            add("city", format!("City: {}", city.name), eq("city", city.name));
        }
    }
    for country in countries {
        add("country", format!("Country: {country}"), eq("country", country));
        let pair: Vec<&str> = by_country(country).skip(1).take(2).map(|c| c.name).collect();
        add(
            "cities (in_list)",
            format!("Cities: {}", pair.join(" or ")),
            cond("city", "in_list", json!(pair)),
        );
    }
    for t in [
        "lead",
        "cold",
        "warm",
        "hot",
        "refused",
        "client",
        "employee",
        "staff",
        "freelance",
        "supplier",
        "contractor",
    ] {
        add("type", format!("Type: {t}"), is(t));
    }
    for t in ["client", "hot", "supplier"] {
        for country in countries {
            add(
                "type and country",
                format!("Type {t} in {country}"),
                and(vec![is(t), eq("country", country)]),
            );
        }
    }

    // Extra fields.
    for industry in names::INDUSTRIES {
        add(
            "extra fields",
            format!("Industry: {industry}"),
            eq("fields.industry", *industry),
        );
    }
    for industry in ["IT", "Manufacturing"] {
        for country in countries {
            add(
                "extra fields",
                format!("Industry {industry} in {country}"),
                and(vec![eq("fields.industry", industry), eq("country", country)]),
            );
        }
    }
    for (lo, hi) in [(1, 9), (10, 49), (50, 249), (250, 999)] {
        add(
            "extra fields",
            format!("Employees {lo}-{hi}"),
            cond("fields.employees", "between", json!([lo, hi])),
        );
    }
    add(
        "extra fields",
        "Employees 1000+".into(),
        cond("fields.employees", "gte", json!(1000)),
    );
    add(
        "extra fields",
        "Revenue 100k-1M".into(),
        cond("fields.annual_revenue", "between", json!([100_000, 1_000_000])),
    );
    add(
        "extra fields",
        "Revenue 1M+".into(),
        cond("fields.annual_revenue", "gte", json!(1_000_000)),
    );
    add(
        "extra fields",
        "Revenue 10M+".into(),
        cond("fields.annual_revenue", "gte", json!(10_000_000)),
    );
    for decade in [1960, 1970, 1980, 1990, 2000] {
        add(
            "extra fields",
            format!("Birthday: {decade}s"),
            cond(
                "fields.birthday",
                "between",
                json!([format!("{decade}-01-01"), format!("{}-12-31", decade + 9)]),
            ),
        );
    }
    for country in countries {
        add(
            "extra fields",
            format!("Newsletter in {country}"),
            and(vec![eq("fields.newsletter", true), eq("country", country)]),
        );
    }
    add("extra fields", "No newsletter".into(), eq("fields.newsletter", false));
    for interest in names::INTERESTS {
        add(
            "extra fields",
            format!("Interest: {interest}"),
            cond("fields.interests", "in_list", json!([interest])),
        );
    }
    for source in names::LEAD_SOURCES {
        add(
            "extra fields",
            format!("Lead source: {source}"),
            eq("fields.lead_source", *source),
        );
    }
    add("extra fields", "Promoters".into(), cond("fields.nps", "gte", json!(9)));
    add(
        "extra fields",
        "Passives".into(),
        cond("fields.nps", "between", json!([7, 8])),
    );
    add("extra fields", "Detractors".into(), cond("fields.nps", "lte", json!(6)));
    for country in countries {
        add(
            "extra fields",
            format!("Promoters in {country}"),
            and(vec![cond("fields.nps", "gte", json!(9)), eq("country", country)]),
        );
    }
    add(
        "extra fields",
        "Notes mention the API".into(),
        cond("fields.notes", "contains", json!("API")),
    );

    // Company, name, kind.
    for (op, value) in [
        ("starts_with", "PHU"),
        ("contains", "Sp. z o.o."),
        ("starts_with", "ТОВ"),
        ("ends_with", "SRL"),
        ("starts_with", "ООО"),
    ] {
        add(
            "company",
            format!("Company {op} {value}"),
            cond("company", op, json!(value)),
        );
    }
    add(
        "company",
        "Works at a company".into(),
        cond("company", "is_not_empty", Json::Null),
    );
    for (op, value) in [("contains", "kowal"), ("contains", "енко"), ("ends_with", "ska")] {
        add("name", format!("Name {op} {value}"), cond("name", op, json!(value)));
    }
    add("kind and flags", "Companies".into(), eq("kind", "company"));
    add(
        "kind and flags",
        "People not to contact".into(),
        and(vec![eq("kind", "person"), eq("do_not_contact", true)]),
    );
    add(
        "kind and flags",
        "People with an email on the newsletter".into(),
        and(vec![
            eq("kind", "person"),
            cond("email", "is_not_empty", Json::Null),
            eq("fields.newsletter", true),
        ]),
    );

    // Nested logic.
    add(
        "AND/OR/NOT",
        "Tricity".into(),
        or(vec![eq("city", "Gdańsk"), eq("city", "Gdynia")]),
    );
    add(
        "AND/OR/NOT",
        "Hot or promoters".into(),
        or(vec![is("hot"), cond("fields.nps", "gte", json!(9))]),
    );
    add(
        "AND/OR/NOT",
        "Reachable Polish newsletter readers".into(),
        and(vec![
            not(is("refused")),
            eq("country", "Polska"),
            eq("fields.newsletter", true),
        ]),
    );
    add(
        "AND/OR/NOT",
        "Companies abroad".into(),
        and(vec![eq("kind", "company"), not(eq("country", "Polska"))]),
    );
    add(
        "AND/OR/NOT",
        "IT, cloud or security".into(),
        or(vec![
            eq("fields.industry", "IT"),
            cond("fields.interests", "in_list", json!(["Cloud", "Security"])),
        ]),
    );
    add(
        "AND/OR/NOT",
        "Key accounts".into(),
        and(vec![
            is("client"),
            or(vec![
                cond("fields.employees", "gte", json!(250)),
                cond("fields.annual_revenue", "gte", json!(10_000_000)),
            ]),
        ]),
    );
    add(
        "AND/OR/NOT",
        "Contactable leads in Warszawa or Kraków".into(),
        and(vec![
            not(eq("do_not_contact", true)),
            or(vec![eq("city", "Warszawa"), eq("city", "Kraków")]),
            is("lead"),
        ]),
    );
    add(
        "AND/OR/NOT",
        "Romanian clients or Ukrainian suppliers".into(),
        or(vec![
            and(vec![eq("country", "România"), is("client")]),
            and(vec![eq("country", "Україна"), is("supplier")]),
        ]),
    );

    // Behaviour.
    add(
        "activities",
        "Buyers 1000+".into(),
        happened("purchase", json!({"min_amount": 1000})),
    );
    for country in ["Polska", "România"] {
        add(
            "activities",
            format!("Buyers in {country}"),
            and(vec![happened("purchase", json!({})), eq("country", country)]),
        );
    }
    add(
        "activities",
        "Pricing visitors".into(),
        happened(
            "page_visit",
            json!({"times": 3, "within": days(30), "where": {"path": "/pricing"}}),
        ),
    );
    add(
        "activities",
        "Clicked an email lately".into(),
        happened("email_click", json!({"within": days(90)})),
    );
    add(
        "activities",
        "Leads we met".into(),
        and(vec![happened("meeting", json!({})), is("lead")]),
    );
    add(
        "activities",
        "Clients with recent support requests".into(),
        and(vec![
            happened("support_request", json!({"within": days(30)})),
            is("client"),
        ]),
    );
    add(
        "activities",
        "Called twice".into(),
        and(vec![happened("call", json!({"times": 2})), eq("kind", "person")]),
    );
    add(
        "created",
        "New leads".into(),
        and(vec![cond("created_at", "within_last", days(90)), is("lead")]),
    );
    add(
        "created",
        "New this month".into(),
        cond("created_at", "within_last", days(30)),
    );

    // Residuals: the exact distance is the geo plugin's.
    for name in ["Warszawa", "Kraków", "Київ"] {
        let (city, _) = places
            .iter()
            .find(|(c, _)| c.name == name)
            .ok_or_else(|| format!("no city {name}"))?;
        add(
            "within_distance (residual)",
            format!("{name} 3 km"),
            cond(
                "location",
                "within_distance",
                json!({"lat": city.lat, "lon": city.lon, "km": 3}),
            ),
        );
    }

    // The rest: clients and leads per city, over the cities in order.
    let fixed = out.len();
    let wanted = SEGMENTS - REFERRING;
    if fixed > wanted {
        return Err(format!("{fixed} fixed segments, more than {wanted}").into());
    }
    for i in 0..wanted - fixed {
        let (city, _) = places.get(i / 2).ok_or("not enough cities")?;
        let (label, t) = if i % 2 == 0 {
            ("Clients", "client")
        } else {
            ("Leads", "lead")
        };
        out.push(Def {
            family: "type and city",
            name: format!("{label} in {}", city.name),
            filter: and(vec![is(t), eq("city", city.name)]),
        });
    }
    Ok(out)
}

/// The segments defined in terms of others, given the ids of those created so far.
pub fn referring(ids: &HashMap<String, i64>) -> Res<Vec<Def>> {
    let seg = |name: &str| -> Res<Json> {
        let id = ids.get(name).ok_or_else(|| format!("no segment {name}"))?;
        Ok(cond("segment", "in_segment", json!(id)))
    };
    let family = "in_segment";
    let out = vec![
        Def {
            family,
            name: "Polish newsletter clients".into(),
            filter: and(vec![
                seg("Country: Polska")?,
                eq("fields.newsletter", true),
                is("client"),
            ]),
        },
        Def {
            family,
            name: "Big buyers in Україна".into(),
            filter: and(vec![seg("Buyers 1000+")?, eq("country", "Україна")]),
        },
        Def {
            family,
            name: "Clients who never bought big".into(),
            filter: and(vec![not(seg("Buyers 1000+")?), is("client")]),
        },
        Def {
            family,
            name: "Romanian promoters".into(),
            filter: and(vec![seg("Promoters")?, seg("Country: România")?]),
        },
        Def {
            family,
            name: "Key accounts or IT".into(),
            filter: or(vec![seg("Key accounts")?, seg("Industry: IT")?]),
        },
        Def {
            family,
            name: "Hot near Warszawa".into(),
            filter: and(vec![seg("Warszawa 3 km")?, is("hot")]),
        },
        Def {
            family,
            name: "Pricing visitors not yet clients".into(),
            filter: and(vec![seg("Pricing visitors")?, not(seg("Type: client")?)]),
        },
    ];
    Ok(out)
}

/// The segments of one round of creation, given the ids of those created before it.
pub type Round = fn(&HashMap<String, i64>) -> Res<Vec<Def>>;

/// A segment of a segment of a segment, created after those.
pub fn chained(ids: &HashMap<String, i64>) -> Res<Vec<Def>> {
    let id = ids
        .get("Polish newsletter clients")
        .ok_or("no segment Polish newsletter clients")?;
    Ok(vec![Def {
        family: "in_segment",
        name: "Polish newsletter clients in Kraków".into(),
        filter: and(vec![cond("segment", "in_segment", json!(id)), eq("city", "Kraków")]),
    }])
}
