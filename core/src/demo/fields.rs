//! The extra fields the demo fills in: their definitions (added when missing, an existing
//! field of the same key used as it is) and the values a contact gets for them.

use chrono::{DateTime, Days, Utc};
use sea_orm::sea_query::{Alias, Expr, Func, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, TransactionTrait};
use serde_json::{Map, Value as Json, json};

use super::insert::{build_err, insert_into, json_value, text, timestamp, to_u64};
use super::locale::{Lang, locale};
use super::names;
use super::plan::Plan;
use super::rng::{Rng, pick, pick_weighted};

/// A field the demo fills in.
struct FieldSpec {
    key: &'static str,
    label: &'static str,
    kind: &'static str,
    options: &'static [&'static str],
    searchable: bool,
    applies_to: &'static [&'static str],
    /// How often a person / a company it applies to gets a value.
    p_person: f64,
    p_company: f64,
}

const COMPANY_TYPES: &[&str] = &["client", "supplier", "contractor"];

const FIELD_SPECS: &[FieldSpec] = &[
    FieldSpec {
        key: "industry",
        label: "Industry",
        kind: "select",
        options: names::INDUSTRIES,
        searchable: false,
        applies_to: COMPANY_TYPES,
        p_person: 0.1,
        p_company: 0.9,
    },
    FieldSpec {
        key: "employees",
        label: "Employees",
        kind: "integer",
        options: &[],
        searchable: false,
        applies_to: &["client", "supplier", "contractor", "lead"],
        p_person: 0.0,
        p_company: 0.8,
    },
    FieldSpec {
        key: "annual_revenue",
        label: "Annual revenue",
        kind: "money",
        options: &[],
        searchable: false,
        applies_to: COMPANY_TYPES,
        p_person: 0.0,
        p_company: 0.6,
    },
    FieldSpec {
        key: "website",
        label: "Website",
        kind: "url",
        options: &[],
        searchable: false,
        applies_to: &[],
        p_person: 0.0,
        p_company: 0.75,
    },
    FieldSpec {
        key: "linkedin",
        label: "LinkedIn",
        kind: "url",
        options: &[],
        searchable: false,
        applies_to: &[],
        p_person: 0.3,
        p_company: 0.4,
    },
    FieldSpec {
        key: "birthday",
        label: "Birthday",
        kind: "date",
        options: &[],
        searchable: false,
        applies_to: &[],
        p_person: 0.45,
        p_company: 0.0,
    },
    FieldSpec {
        key: "newsletter",
        label: "Newsletter",
        kind: "boolean",
        options: &[],
        searchable: false,
        applies_to: &[],
        p_person: 0.7,
        p_company: 0.3,
    },
    FieldSpec {
        key: "interests",
        label: "Interests",
        kind: "multiselect",
        options: names::INTERESTS,
        searchable: false,
        applies_to: &[],
        p_person: 0.4,
        p_company: 0.25,
    },
    FieldSpec {
        key: "lead_source",
        label: "Lead source",
        kind: "select",
        options: names::LEAD_SOURCES,
        searchable: false,
        applies_to: &["lead"],
        p_person: 0.85,
        p_company: 0.85,
    },
    FieldSpec {
        key: "nps",
        label: "NPS",
        kind: "integer",
        options: &[],
        searchable: false,
        applies_to: &["client"],
        p_person: 0.35,
        p_company: 0.0,
    },
    FieldSpec {
        key: "notes",
        label: "Notes",
        kind: "long_text",
        options: &[],
        searchable: true,
        applies_to: &[],
        p_person: 0.08,
        p_company: 0.2,
    },
];

/// A demo field as it is defined in the database.
pub(super) struct LiveField {
    pub(super) options: Vec<String>,
    pub(super) applies_to: Vec<String>,
}

fn json_strings(value: &Json) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Reads a JSON column, whether the driver hands it over as JSON or as text.
fn json_column(row: &QueryResult, index: usize) -> Json {
    match row.try_get_by_index::<Json>(index) {
        Ok(value) => value,
        Err(_) => row
            .try_get_by_index::<String>(index)
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Json::Null),
    }
}

/// Adds the demo's field definitions that don't exist yet; returns how many were added and
/// each demo field as defined now (`None` where an existing field of that key has another
/// kind, so the demo leaves it alone).
pub(super) async fn ensure_fields(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<(u64, Vec<Option<LiveField>>), DbErr> {
    use sea_orm::sea_query::ExprTrait;
    let keys: Vec<&str> = FIELD_SPECS.iter().map(|f| f.key).collect();
    let select_existing = Query::select()
        .columns([
            Alias::new("key"),
            Alias::new("kind"),
            Alias::new("options"),
            Alias::new("applies_to"),
        ])
        .from(Alias::new("field_defs"))
        .and_where(Expr::col(Alias::new("key")).is_in(keys.iter().copied()))
        .to_owned();

    let txn = db.begin().await?;
    let existing: Vec<String> = txn
        .query_all(&select_existing)
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect();
    let missing: Vec<&FieldSpec> = FIELD_SPECS
        .iter()
        .filter(|f| !existing.iter().any(|k| k == f.key))
        .collect();
    if !missing.is_empty() {
        let max_position = Query::select()
            .expr(Func::max(Expr::col(Alias::new("position"))))
            .from(Alias::new("field_defs"))
            .to_owned();
        let mut position = match txn.query_one(&max_position).await? {
            Some(row) => row
                .try_get_by_index::<Option<i32>>(0)?
                .map_or(0, |p| p.saturating_add(1)),
            None => 0,
        };
        let mut stmt = insert_into(
            "field_defs",
            &[
                "key",
                "label",
                "kind",
                "options",
                "required",
                "searchable",
                "applies_to",
                "position",
                "created_at",
                "updated_at",
            ],
        );
        for spec in &missing {
            stmt.values([
                text(spec.key),
                text(spec.label),
                text(spec.kind),
                json_value(json!(spec.options)),
                Expr::val(false),
                Expr::val(spec.searchable),
                json_value(json!(spec.applies_to)),
                Expr::val(position),
                timestamp(now),
                timestamp(now),
            ])
            .map_err(build_err)?;
            position = position.saturating_add(1);
        }
        txn.execute(&stmt).await?;
    }
    let rows = txn.query_all(&select_existing).await?;
    txn.commit().await?;

    let mut live: Vec<Option<LiveField>> = FIELD_SPECS.iter().map(|_| None).collect();
    for row in &rows {
        let key = row.try_get_by_index::<String>(0)?;
        let kind = row.try_get_by_index::<String>(1)?;
        let Some(index) = FIELD_SPECS.iter().position(|f| f.key == key && f.kind == kind) else {
            continue;
        };
        let field = LiveField {
            options: json_strings(&json_column(row, 2)),
            applies_to: json_strings(&json_column(row, 3)),
        };
        let usable = !matches!(kind.as_str(), "select" | "multiselect") || !field.options.is_empty();
        if let Some(slot) = live.get_mut(index)
            && usable
        {
            *slot = Some(field);
        }
    }
    Ok((to_u64(missing.len()), live))
}

/// Money as JSON: an integer when whole, else a number with two decimals.
fn money(cents: i64) -> Json {
    if cents % 100 == 0 {
        Json::from(cents / 100)
    } else {
        Json::from(cents as f64 / 100.0)
    }
}

/// Who a set of field values is for.
pub(super) enum Subject<'a> {
    Company { slug: &'a str, domain: &'a str, lang: Lang },
    Person { first: &'a str, last: &'a str, lang: Lang },
}

/// Extra field values for a contact of `type_id`.
pub(super) fn values(
    rng: &mut Rng,
    plan: &Plan,
    now: i64,
    type_id: i64,
    person: bool,
    subject: &Subject<'_>,
) -> Map<String, Json> {
    let mut out = Map::new();
    let mask = plan.field_masks.get(&type_id).copied().unwrap_or(0);
    for (bit, (spec, live)) in FIELD_SPECS.iter().zip(&plan.fields).enumerate() {
        let Some(live) = live else { continue };
        if mask & (1 << bit) == 0 {
            continue;
        }
        let p = if person { spec.p_person } else { spec.p_company };
        if !rng.chance(p) {
            continue;
        }
        let options = live.options.as_slice();
        let value = match spec.key {
            "industry" | "lead_source" => options.get(rng.index(options.len())).map(|o| Json::from(o.as_str())),
            "employees" => {
                let n = (rng.unit() * 5000f64.ln()).exp().round() as i64;
                Some(Json::from(n.max(1)))
            }
            "annual_revenue" => {
                let employees = out
                    .get("employees")
                    .and_then(Json::as_i64)
                    .unwrap_or_else(|| rng.between(1, 200));
                let per_head = rng.between(40_000, 300_000);
                let cents = employees.saturating_mul(per_head).saturating_mul(100) / 100_000 * 100_000
                    + if rng.chance(0.3) { rng.between(0, 99_999) } else { 0 };
                Some(money(cents.max(100_000)))
            }
            "website" => match subject {
                Subject::Company { domain, .. } => Some(Json::from(format!("https://www.{domain}"))),
                Subject::Person { .. } => None,
            },
            "linkedin" => Some(Json::from(match subject {
                Subject::Company { slug, .. } => {
                    format!("https://www.linkedin.com/company/{slug}")
                }
                Subject::Person { first, last, .. } => {
                    format!("https://www.linkedin.com/in/{first}-{last}-{:x}", rng.below(0xff_ffff))
                }
            })),
            "birthday" => {
                let today = DateTime::from_timestamp(now, 0).unwrap_or_default().date_naive();
                let age_days = rng.between(20 * 365, 66 * 365);
                today
                    .checked_sub_days(Days::new(u64::try_from(age_days).unwrap_or(0)))
                    .map(|d| Json::from(d.format("%Y-%m-%d").to_string()))
            }
            "newsletter" => Some(Json::Bool(rng.chance(0.55))),
            "interests" => {
                let wanted = usize::try_from(rng.between(1, 3)).unwrap_or(1).min(options.len());
                let mut chosen: Vec<&str> = Vec::with_capacity(wanted);
                while chosen.len() < wanted {
                    let option = options
                        .get(rng.index(options.len()))
                        .map(String::as_str)
                        .unwrap_or_default();
                    if !chosen.contains(&option) {
                        chosen.push(option);
                    }
                }
                (!chosen.is_empty()).then(|| json!(chosen))
            }
            "nps" => Some(Json::from(pick_weighted(
                rng,
                &[
                    (0i64, 1),
                    (2, 1),
                    (4, 2),
                    (5, 2),
                    (6, 3),
                    (7, 6),
                    (8, 9),
                    (9, 8),
                    (10, 6),
                ],
            ))),
            "notes" => {
                let lang = match subject {
                    Subject::Company { lang, .. } | Subject::Person { lang, .. } => *lang,
                };
                let note = if !person && rng.chance(0.5) {
                    pick(rng, names::COMPANY_NOTES)
                } else {
                    pick(rng, locale(lang).notes)
                };
                Some(Json::from(note))
            }
            _ => None,
        };
        if let Some(value) = value {
            out.insert(spec.key.to_owned(), value);
        }
    }
    out
}
