//! A scoring model's definition: its parameters and bands, and the check that runs before
//! anything is saved or previewed (every problem at once, each at its path).
//!
//! ```json
//! {
//!   "parameters": [
//!     {"label": "Revenue", "source": {"field": "fields.revenue"},
//!      "criterion": "scoring.ranges",
//!      "params": {"ranges": [{"from": 1000000, "points": 100}, {"from": 100000, "to": 1000000, "points": 60}]},
//!      "weight": 5},
//!     {"label": "Purchases this quarter",
//!      "source": {"activity": "purchase", "measure": "count", "within_days": 90},
//!      "criterion": "scoring.ranges", "params": {"ranges": [{"from": 1, "points": 100}]},
//!      "weight": 3, "enabled": false}
//!   ],
//!   "bands": [
//!     {"name": "Standard", "from": 0, "to": 50},
//!     {"name": "Medium", "from": 50, "to": 80},
//!     {"name": "Ideal", "from": 80, "to": 100}
//!   ]
//! }
//! ```
//!
//! A parameter's points are what its criterion answers, held to 0-100. The score is the
//! weighted mean of the enabled parameters' points (`Σ weight·points / Σ weight`), so a
//! weight is the parameter's share of the final score, and the score is on 0-100 too. A
//! band holds the scores from `from` up to, not including, `to`; the last band includes
//! 100. The bands must cover 0-100 without gaps or overlaps.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::error::Problems;
use crate::filter::Catalog;
use crate::filter::catalog::Source as FieldSource;
use crate::kernel::kinds::FieldKind;
use crate::plugin::registry::CriterionEntry;
use crate::{Error, Result};

/// The most parameters a model may have.
pub const MAX_PARAMETERS: usize = 50;
/// The most bands a model may have.
pub const MAX_BANDS: usize = 20;
/// The longest window of an activity measure, in days (ten years).
pub const MAX_WINDOW_DAYS: i64 = 3650;

/// The contacts a model scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Person,
    Company,
}

impl ModelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Person => "person",
            ModelKind::Company => "company",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "person" => Some(ModelKind::Person),
            "company" => Some(ModelKind::Company),
            _ => None,
        }
    }
}

/// Parameters and bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    #[serde(default)]
    pub parameters: Vec<Parameter>,
    #[serde(default)]
    pub bands: Vec<Band>,
}

/// One parameter: where the value comes from, the criterion that gives it points, its
/// weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Parameter {
    /// What the card and the editor show; the source's label when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub source: ValueSource,
    /// `plugin.criterion`, e.g. `scoring.ranges`.
    pub criterion: String,
    /// The criterion's parameters (its JSON Schema is in the criteria list).
    #[serde(default)]
    pub params: Json,
    /// 1 to 10: the parameter's share of the score.
    pub weight: i64,
    /// A disabled parameter is kept but gives no points and has no share.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Where a parameter's value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ValueSource {
    /// A field: a core column (`city`), an extra field (`fields.revenue`), the `type`,
    /// the `company` or the `owner`.
    Field { field: String },
    /// A measure of the contact's activities of one kind.
    Activity {
        activity: String,
        measure: Measure,
        /// Only the activities of the last N days count (for `count` and `sum`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        within_days: Option<i64>,
    },
}

/// What is measured of a kind of activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// How many (an integer).
    Count,
    /// The sum of their amounts (a number).
    Sum,
    /// Whole days since the last one (a number; empty when there is none).
    DaysSinceLast,
}

/// A named range of scores: `from` included, `to` not (but 100 is in the last band).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub name: String,
    pub from: f64,
    pub to: f64,
}

/// A parameter as checked: its value's kind and how the criterion is called.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedParameter {
    pub label: String,
    pub source: ValueSource,
    /// The value's kind, as the criterion receives it.
    pub kind: FieldKind,
    pub plugin: String,
    pub criterion: String,
    pub params: Json,
    pub weight: i64,
    pub enabled: bool,
    /// The criterion's parameters declare `now`: the host fills it with the scoring time.
    pub wants_now: bool,
}

impl CheckedParameter {
    /// Whether its points change with time alone.
    pub fn time_dependent(&self) -> bool {
        self.wants_now
            || matches!(
                self.source,
                ValueSource::Activity {
                    measure: Measure::DaysSinceLast,
                    ..
                } | ValueSource::Activity {
                    within_days: Some(_),
                    ..
                }
            )
    }
}

/// A definition as checked against the catalogue and the criteria.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub parameters: Vec<CheckedParameter>,
    /// By `from`.
    pub bands: Vec<Band>,
}

impl Checked {
    /// Whether any enabled parameter's points change with time alone.
    pub fn time_dependent(&self) -> bool {
        self.parameters.iter().any(|p| p.enabled && p.time_dependent())
    }

    /// The band of `score`.
    pub fn band_of(&self, score: f64) -> &str {
        self.bands
            .iter()
            .rev()
            .find(|b| score >= b.from)
            .or(self.bands.first())
            .map_or("", |b| b.name.as_str())
    }

    /// The weighted score of per-parameter points (`None` for disabled parameters),
    /// rounded to two decimals.
    pub fn score_of(&self, points: &[Option<f64>]) -> f64 {
        let mut sum = 0.0;
        let mut weights = 0.0;
        for (p, points) in self.parameters.iter().zip(points) {
            if let (true, Some(points)) = (p.enabled, points) {
                #[allow(clippy::cast_precision_loss)]
                let w = p.weight as f64;
                sum += w * points;
                weights += w;
            }
        }
        if weights == 0.0 {
            return 0.0;
        }
        ((sum / weights).clamp(0.0, 100.0) * 100.0).round() / 100.0
    }
}

/// Points as a criterion answered them, held to 0-100.
pub fn clamp_points(points: f64) -> f64 {
    if points.is_finite() {
        points.clamp(0.0, 100.0)
    } else {
        0.0
    }
}

/// Parses `definition` (JSON) with every problem at its path.
pub fn parse(definition: &Json) -> Result<Definition> {
    if crate::error::has_control_chars(definition) {
        return Err(Error::invalid(
            "definition",
            "control characters are not allowed (only tab and line breaks)",
        ));
    }
    serde_json::from_value(definition.clone()).map_err(|e| Error::invalid("definition", e.to_string()))
}

/// Checks `d` for a model of `kind`: every problem at once, under `definition.`.
pub fn check(d: &Definition, catalog: &Catalog, criteria: &[CriterionEntry]) -> Result<Checked> {
    let mut problems = Problems::default();
    if d.parameters.is_empty() {
        problems.add("definition.parameters", "add at least one parameter");
    }
    if d.parameters.len() > MAX_PARAMETERS {
        problems.add("definition.parameters", format!("at most {MAX_PARAMETERS} parameters"));
    }
    let mut parameters = Vec::new();
    for (i, p) in d.parameters.iter().enumerate() {
        let at = format!("definition.parameters[{i}]");
        let kind = source_kind(&p.source, catalog, &format!("{at}.source"), &mut problems);
        if !(1..=10).contains(&p.weight) {
            problems.add(format!("{at}.weight"), "must be from 1 to 10");
        }
        let entry = criteria.iter().find(|c| c.name == p.criterion);
        let Some(entry) = entry else {
            let known: Vec<&str> = criteria.iter().map(|c| c.name.as_str()).collect();
            problems.add(
                format!("{at}.criterion"),
                format!(
                    "no enabled criterion `{}`; the criteria are: {}",
                    p.criterion,
                    known.join(", ")
                ),
            );
            continue;
        };
        let Some(kind) = kind else { continue };
        if !entry.applies_to.contains(&kind) {
            problems.add(
                format!("{at}.criterion"),
                format!(
                    "`{}` scores {} values, not {}",
                    entry.name,
                    entry
                        .applies_to
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    kind.as_str()
                ),
            );
            continue;
        }
        let wants_now = entry
            .params_schema
            .get("properties")
            .and_then(Json::as_object)
            .is_some_and(|props| props.contains_key("now"));
        if wants_now && p.params.get("now").is_some() {
            problems.add(
                format!("{at}.params.now"),
                "is filled with the time of scoring; leave it out",
            );
        }
        parameters.push(CheckedParameter {
            label: p.label.clone().unwrap_or_else(|| default_label(&p.source, catalog)),
            source: p.source.clone(),
            kind,
            plugin: entry.plugin.clone(),
            criterion: entry.criterion.clone(),
            params: if p.params.is_null() {
                Json::Object(Default::default())
            } else {
                p.params.clone()
            },
            weight: p.weight,
            enabled: p.enabled,
            wants_now,
        });
    }
    if !d.parameters.is_empty() && d.parameters.iter().all(|p| !p.enabled) {
        problems.add("definition.parameters", "enable at least one parameter");
    }
    let bands = check_bands(&d.bands, &mut problems);
    problems.into_result()?;
    Ok(Checked { parameters, bands })
}

fn check_bands(bands: &[Band], problems: &mut Problems) -> Vec<Band> {
    if bands.is_empty() {
        problems.add(
            "definition.bands",
            "name at least one band; together they cover 0 to 100",
        );
        return Vec::new();
    }
    if bands.len() > MAX_BANDS {
        problems.add("definition.bands", format!("at most {MAX_BANDS} bands"));
    }
    let mut names = HashSet::new();
    for (i, b) in bands.iter().enumerate() {
        let name = b.name.trim();
        if name.is_empty() {
            problems.add(format!("definition.bands[{i}].name"), "is required");
        } else if name.chars().count() > 100 {
            problems.add(format!("definition.bands[{i}].name"), "at most 100 characters");
        } else if !names.insert(name.to_lowercase()) {
            problems.add(
                format!("definition.bands[{i}].name"),
                format!("`{name}` names another band too"),
            );
        }
        if !(b.from.is_finite() && b.to.is_finite()) || b.from >= b.to {
            problems.add(
                format!("definition.bands[{i}]"),
                format!("`from` ({}) must be below `to` ({})", b.from, b.to),
            );
        }
    }
    let mut sorted: Vec<(usize, &Band)> = bands.iter().enumerate().collect();
    sorted.sort_by(|a, b| a.1.from.total_cmp(&b.1.from));
    if let Some((i, first)) = sorted.first()
        && first.from != 0.0
    {
        problems.add(
            format!("definition.bands[{i}].from"),
            format!(
                "the bands start at {}, not at 0: scores below it have no band",
                first.from
            ),
        );
    }
    for pair in sorted.windows(2) {
        let [(_, a), (j, b)] = pair else { continue };
        let j = *j;
        if b.from > a.to {
            problems.add(
                format!("definition.bands[{j}].from"),
                format!(
                    "a gap: no band holds the scores from {} to {} (between `{}` and `{}`)",
                    a.to, b.from, a.name, b.name
                ),
            );
        } else if b.from < a.to {
            problems.add(
                format!("definition.bands[{j}].from"),
                format!(
                    "`{}` ({}-{}) overlaps `{}` ({}-{})",
                    b.name, b.from, b.to, a.name, a.from, a.to
                ),
            );
        }
    }
    if let Some((i, last)) = sorted.last()
        && last.to != 100.0
    {
        problems.add(
            format!("definition.bands[{i}].to"),
            format!("the bands end at {}, not at 100: higher scores have no band", last.to),
        );
    }
    sorted
        .into_iter()
        .map(|(_, b)| Band {
            name: b.name.trim().to_owned(),
            from: b.from,
            to: b.to,
        })
        .collect()
}

/// The kind of value `source` gives, noting what is wrong with it.
fn source_kind(source: &ValueSource, catalog: &Catalog, at: &str, problems: &mut Problems) -> Option<FieldKind> {
    match source {
        ValueSource::Field { field } => {
            let Some(spec) = catalog.field(field) else {
                problems.add(format!("{at}.field"), format!("no field `{field}`"));
                return None;
            };
            match spec.source {
                FieldSource::Activity(_) | FieldSource::Segment | FieldSource::Score { .. } => {
                    problems.add(
                        format!("{at}.field"),
                        format!("`{field}` has no value to score; for activities use an activity measure"),
                    );
                    None
                }
                _ => Some(spec.kind),
            }
        }
        ValueSource::Activity {
            activity,
            measure,
            within_days,
        } => {
            let mut ok = true;
            if !crate::activities::KINDS.contains(&activity.as_str()) {
                problems.add(
                    format!("{at}.activity"),
                    format!(
                        "no activity kind `{activity}`; the kinds are: {}",
                        crate::activities::KINDS.join(", ")
                    ),
                );
                ok = false;
            }
            if let Some(days) = within_days {
                if !(1..=MAX_WINDOW_DAYS).contains(days) {
                    problems.add(
                        format!("{at}.within_days"),
                        format!("must be from 1 to {MAX_WINDOW_DAYS}"),
                    );
                    ok = false;
                } else if *measure == Measure::DaysSinceLast {
                    problems.add(
                        format!("{at}.within_days"),
                        "`days_since_last` looks at the last one, whenever it was; leave the window out",
                    );
                    ok = false;
                }
            }
            // Days since the last one travel as a number: the `recency` criterion reads
            // numbers as days ago (integers as Unix seconds, like datetimes).
            ok.then_some(match measure {
                Measure::Count => FieldKind::Integer,
                Measure::Sum | Measure::DaysSinceLast => FieldKind::Number,
            })
        }
    }
}

/// What a parameter is called when its label is left out.
pub(crate) fn default_label(source: &ValueSource, catalog: &Catalog) -> String {
    match source {
        ValueSource::Field { field } => catalog.field(field).map_or_else(|| field.clone(), |s| s.label.clone()),
        ValueSource::Activity {
            activity,
            measure,
            within_days,
        } => {
            let kind = crate::activities::kind_label(activity);
            let window = within_days.map(|d| format!(", last {d} days")).unwrap_or_default();
            match measure {
                Measure::Count => format!("{kind}: count{window}"),
                Measure::Sum => format!("{kind}: amount{window}"),
                Measure::DaysSinceLast => format!("{kind}: days since the last"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band(name: &str, from: f64, to: f64) -> Band {
        Band {
            name: name.into(),
            from,
            to,
        }
    }

    #[test]
    fn bands_must_cover_0_to_100_without_gaps_or_overlaps() {
        let mut problems = Problems::default();
        let sorted = check_bands(
            &[
                band("Ideal", 80.0, 100.0),
                band("Standard", 0.0, 50.0),
                band("Medium", 50.0, 80.0),
            ],
            &mut problems,
        );
        assert!(problems.is_empty());
        assert_eq!(
            sorted.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
            ["Standard", "Medium", "Ideal"]
        );

        let mut problems = Problems::default();
        check_bands(
            &[
                band("Low", 10.0, 40.0),
                band("Mid", 50.0, 85.0),
                band("High", 80.0, 90.0),
            ],
            &mut problems,
        );
        let e = problems.into_result().unwrap_err().problems();
        let messages: Vec<String> = e.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
        assert_eq!(messages.len(), 4, "{messages:?}");
        assert!(messages[0].starts_with("definition.bands[0].from: the bands start at 10"));
        assert!(messages[1].contains("a gap: no band holds the scores from 40 to 50"));
        assert!(messages[2].contains("`High` (80-90) overlaps `Mid` (50-85)"));
        assert!(messages[3].contains("the bands end at 90"));
    }

    #[test]
    fn the_score_is_the_weighted_mean_of_the_enabled_points() {
        let p = |weight, enabled| CheckedParameter {
            label: String::new(),
            source: ValueSource::Field { field: "city".into() },
            kind: FieldKind::Text,
            plugin: "scoring".into(),
            criterion: "presence".into(),
            params: Json::Null,
            weight,
            enabled,
            wants_now: false,
        };
        let checked = Checked {
            parameters: vec![p(3, true), p(1, true), p(5, false)],
            bands: vec![band("Low", 0.0, 50.0), band("High", 50.0, 100.0)],
        };
        // (3·100 + 1·20) / 4 = 80.
        assert_eq!(checked.score_of(&[Some(100.0), Some(20.0), None]), 80.0);
        assert_eq!(checked.band_of(80.0), "High");
        assert_eq!(checked.band_of(49.99), "Low");
        assert_eq!(checked.band_of(100.0), "High");
        assert_eq!(checked.score_of(&[Some(1.0), Some(0.0), None]), 0.75);
    }
}
