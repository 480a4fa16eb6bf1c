//! `scoring`: the built-in segment scoring criteria. Each maps every value of a field to
//! points, on a 0-100 scale (the host clamps what a criterion answers to it, but these
//! criteria give sensible values on their own), exactly one finite number per value.
//!
//! - `ranges` ("Points per range"; number, integer, money, date, datetime fields):
//!   `{"ranges": [{"from": 0, "to": 1000, "points": 10}, {"from": 1000, "points": 40}],
//!   "otherwise": 0, "missing": 0}`. `from` is included, `to` excluded, a null or absent
//!   bound is unbounded; the first range that holds the value gives its points, a value
//!   in none gets `otherwise`, a null value `missing`. On date and datetime fields a
//!   bound may be a date (`"2024-01-01"`, its midnight UTC), an RFC 3339 instant
//!   (`"2024-01-01T12:00:00+02:00"`) or, on a datetime field, seconds since the epoch.
//! - `options` ("Points per option"; select, multiselect, text, boolean fields):
//!   `{"points": {"gold": 50, "silver": 20}, "otherwise": 0, "missing": 0, "combine":
//!   "max"}`. A value's points are its option's (exact, case-sensitive), or `otherwise`;
//!   a multiselect value (its options joined by `,`) combines the points of the options
//!   it holds by `max` or `sum`; a boolean is looked up as `"true"` or `"false"`. A null
//!   value or an empty text gets `missing`.
//! - `presence` ("Points for present or absent"; every field kind): `{"present": 10,
//!   "absent": 0}`. A null value, or a text that is empty or only whitespace, is absent.
//! - `recency` ("Points by recency, with decay"; date, datetime, integer, number fields):
//!   `{"max_points": 100, "half_life_days": 30, "missing": 0, "now": 1711886400,
//!   "integers": "unix_seconds"}` (`half_life_days` > 0 required, `now` filled by the
//!   host): `max_points * 0.5^(days / half_life_days)`, `days` being how long ago the
//!   value was (a value in the future counts as 0 days). A date counts from its midnight
//!   UTC, a datetime to the second (fractions of a day included); a number field's value,
//!   and an integer field's with `"integers": "days_ago"`, *is* the number of days ago
//!   ("days since the last purchase").
//!
//! **The `now` convention.** A criterion whose points change with time reads the time
//! from its parameters: the host fills `now` (seconds since the Unix epoch, the time of
//! the scoring) into the parameters of any criterion whose parameters' JSON Schema
//! declares a top-level `now` property, and a scoring model using such a criterion is
//! rescored on a schedule, as its points change with time even when no contact does.
//! `recency` declares `now` and needs it for dates and datetimes (`params.now: needed
//! for dates`). (Natively, in tests, pass `now` yourself.)
//!
//! A criterion doesn't see the field it scores, only the column of values (section
//! "Batches" of `plugins/README.md`), so an integer field and a datetime field (both
//! `integers`) look alike: `ranges` compares a date bound on such a column as seconds,
//! and `recency` reads such a column as instants unless `"integers": "days_ago"` says
//! that the values are numbers of days.

use std::borrow::Cow;
use std::collections::BTreeMap;

use kartoteka_plugin_sdk::calendar::{self, DAY};
use kartoteka_plugin_sdk::prelude::*;
use kartoteka_plugin_sdk::schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::Value as Json;

/// The plugin: its name, and the criteria it offers.
pub struct Scoring;

plugin!(Scoring {
    name: "scoring",
    description: "Points for a field's values: per range, per option, for a present value, by recency with decay.",
    criteria: [Ranges, Options, Presence, Recency],
});

/// `score`'s answer for one value: a non-finite number (which the parameters' finite
/// numbers can't make, but a guard costs nothing) becomes 0.
fn finite(points: f64) -> f64 {
    if points.is_finite() { points } else { 0.0 }
}

/// The error for a column a criterion doesn't score.
fn wrong_column(criterion: &str, expected: &str, values: &Batch) -> PluginError {
    let found = match &values.values {
        Column::Numbers(_) => "numbers",
        Column::Integers(_) => "integers",
        Column::Booleans(_) => "booleans",
        Column::Texts(_) => "texts",
        Column::Points(_) => "points",
    };
    PluginError::new(format!(
        "scoring.{criterion} scores {expected}, not a column of {found}"
    ))
}

/// A date value (`YYYY-MM-DD`) as the seconds of its midnight, UTC.
fn date_seconds(text: &str) -> Option<i64> {
    calendar::parse_date(text).map(calendar::midnight)
}

// ---------------------------------------------------------------------------------------
// ranges

/// The parameters of `ranges`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RangesParams {
    /// The ranges, in order: the first that holds the value gives its points. At least one.
    pub ranges: Vec<Range>,
    /// The points of a value that no range holds; 0 when absent.
    #[serde(default)]
    pub otherwise: f64,
    /// The points of a contact without a value; 0 when absent.
    #[serde(default)]
    pub missing: f64,
}

/// One range: `from` (included) up to `to` (excluded), and its points.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Where the range starts, included; unbounded when null or absent.
    #[serde(default)]
    pub from: Option<Bound>,
    /// Where the range ends, excluded; unbounded when null or absent.
    #[serde(default)]
    pub to: Option<Bound>,
    /// The points of a value in the range.
    pub points: f64,
}

/// A range's bound: a number, or (on date and datetime fields) a date or an instant.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(try_from = "Json")]
pub enum Bound {
    /// A number; on a datetime field, seconds since the Unix epoch.
    Number(f64),
    /// A date (`YYYY-MM-DD`, its midnight UTC) or an RFC 3339 instant, as seconds since
    /// the Unix epoch, and the text as written.
    Instant(i64, String),
}

impl TryFrom<Json> for Bound {
    type Error = String;

    fn try_from(json: Json) -> Result<Self, String> {
        match json {
            Json::Number(number) => number
                .as_f64()
                .map(Bound::Number)
                .ok_or_else(|| format!("expected a number, found {number}")),
            Json::String(text) => calendar::parse_datetime(&text)
                .map(|seconds| Bound::Instant(seconds, text.clone()))
                .ok_or_else(|| format!("expected a date as YYYY-MM-DD or an RFC 3339 instant, found {text:?}")),
            other => Err(format!(
                "expected a number, a date as YYYY-MM-DD or an RFC 3339 instant, found {other}"
            )),
        }
    }
}

impl JsonSchema for Bound {
    fn schema_name() -> Cow<'static, str> {
        "Bound".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                {"type": "number"},
                {"type": "string", "format": "date"},
                {"type": "string", "format": "date-time"}
            ]
        })
    }
}

/// How a column's values compare with the bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// Numbers (number and money fields): bounds must be numbers.
    Numbers,
    /// Integers (integer and datetime fields): numbers, or dates and instants as seconds.
    Integers,
    /// Dates (`YYYY-MM-DD` texts), compared as the seconds of their midnight: dates and
    /// instants only.
    Dates,
}

impl Bound {
    /// The bound on `scale`, or why it doesn't fit it.
    #[allow(clippy::cast_precision_loss)]
    fn on(&self, scale: Scale) -> Result<f64, String> {
        match (self, scale) {
            (Bound::Number(number), Scale::Numbers | Scale::Integers) => Ok(*number),
            (Bound::Instant(seconds, _), Scale::Integers | Scale::Dates) => Ok(*seconds as f64),
            (Bound::Instant(_, text), Scale::Numbers) => {
                Err(format!("expected a number (the field holds numbers), found {text:?}"))
            }
            (Bound::Number(number), Scale::Dates) => Err(format!(
                "expected a date as YYYY-MM-DD or an RFC 3339 instant (the field holds dates), found {number}"
            )),
        }
    }
}

/// `ranges`: points per range of the value.
#[derive(Default)]
pub struct Ranges;

/// A range on a column's scale: `(from, to, points)`, the bounds `None` when unbounded.
type Resolved = (Option<f64>, Option<f64>, f64);

impl Ranges {
    /// Every range as `(from, to, points)` on `scale`, checked.
    fn resolve(params: &RangesParams, scale: Scale) -> Result<Vec<Resolved>, PluginError> {
        if params.ranges.is_empty() {
            return Err(PluginError::at("params.ranges", "expected at least one range"));
        }
        let mut resolved = Vec::with_capacity(params.ranges.len());
        for (i, range) in params.ranges.iter().enumerate() {
            let bound = |bound: &Option<Bound>, name: &str| {
                bound
                    .as_ref()
                    .map(|bound| bound.on(scale))
                    .transpose()
                    .map_err(|message| PluginError::at(format!("params.ranges[{i}].{name}"), message))
            };
            let from = bound(&range.from, "from")?;
            let to = bound(&range.to, "to")?;
            if let (Some(from), Some(to)) = (from, to)
                && from >= to
            {
                return Err(PluginError::at(
                    format!("params.ranges[{i}]"),
                    "`from` must be below `to` (`from` is included, `to` excluded)",
                ));
            }
            resolved.push((from, to, range.points));
        }
        Ok(resolved)
    }
}

impl Criterion for Ranges {
    const NAME: &'static str = "ranges";
    const LABEL: &'static str = "Points per range";
    const APPLIES_TO: &'static [FieldKind] = &[
        FieldKind::Number,
        FieldKind::Integer,
        FieldKind::Money,
        FieldKind::Date,
        FieldKind::Datetime,
    ];
    type Params = RangesParams;

    #[allow(clippy::cast_precision_loss)]
    fn score(&mut self, params: &RangesParams, values: &Batch) -> Result<Vec<f64>, PluginError> {
        let scale = match &values.values {
            Column::Numbers(_) => Scale::Numbers,
            Column::Integers(_) => Scale::Integers,
            Column::Texts(_) => Scale::Dates,
            _ => {
                return Err(wrong_column(
                    Self::NAME,
                    "numbers, integers, dates and datetimes",
                    values,
                ));
            }
        };
        let ranges = Self::resolve(params, scale)?;
        let points = |value: Option<f64>| {
            let Some(value) = value else {
                return finite(params.missing);
            };
            let held = ranges
                .iter()
                .find(|(from, to, _)| from.is_none_or(|from| value >= from) && to.is_none_or(|to| value < to));
            finite(held.map_or(params.otherwise, |(_, _, points)| *points))
        };
        Ok(match scale {
            Scale::Numbers | Scale::Integers => values.numbers()?.map(points).collect(),
            // A date the host sent malformed scores as a missing value.
            Scale::Dates => values
                .texts()?
                .map(|text| points(text.and_then(date_seconds).map(|seconds| seconds as f64)))
                .collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------
// options

/// How `options` combines the points of a multiselect value's options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The most points of any option held.
    #[default]
    Max,
    /// The points of every option held, added up.
    Sum,
}

/// The parameters of `options`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionsParams {
    /// The points of each option, by its exact text (case-sensitive); `"true"` and
    /// `"false"` on a boolean field.
    pub points: BTreeMap<String, f64>,
    /// The points of a value whose option isn't listed (or, for a multiselect, none of
    /// whose options is); 0 when absent.
    #[serde(default)]
    pub otherwise: f64,
    /// The points of a contact without a value (null, or an empty text); 0 when absent.
    #[serde(default)]
    pub missing: f64,
    /// How a multiselect value's options combine: `max` (the default) or `sum`.
    #[serde(default)]
    pub combine: Combine,
}

/// `options`: points per option of the value.
#[derive(Default)]
pub struct Options;

impl Options {
    /// The points of one text value: its option's when it is one (a select, a text, or a
    /// multiselect of one option), else the combined points of the options it holds,
    /// joined by `,` (a multiselect), else `otherwise`.
    fn text_points(params: &OptionsParams, text: &str) -> f64 {
        if let Some(points) = params.points.get(text) {
            return *points;
        }
        if !text.contains(',') {
            return params.otherwise;
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut combined: Option<f64> = None;
        for option in text.split(',') {
            if option.is_empty() || seen.contains(&option) {
                continue;
            }
            seen.push(option);
            let Some(&points) = params.points.get(option) else {
                continue;
            };
            combined = Some(match (combined, params.combine) {
                (None, _) => points,
                (Some(so_far), Combine::Max) => so_far.max(points),
                // Clamped, so that a huge sum stays finite (and never becomes NaN).
                (Some(so_far), Combine::Sum) => (so_far + points).clamp(-f64::MAX, f64::MAX),
            });
        }
        combined.unwrap_or(params.otherwise)
    }
}

impl Criterion for Options {
    const NAME: &'static str = "options";
    const LABEL: &'static str = "Points per option";
    const APPLIES_TO: &'static [FieldKind] = &[
        FieldKind::Select,
        FieldKind::Multiselect,
        FieldKind::Text,
        FieldKind::Boolean,
    ];
    type Params = OptionsParams;

    fn score(&mut self, params: &OptionsParams, values: &Batch) -> Result<Vec<f64>, PluginError> {
        match &values.values {
            Column::Texts(_) => Ok(values
                .texts()?
                .map(|text| match text {
                    None | Some("") => finite(params.missing),
                    Some(text) => finite(Self::text_points(params, text)),
                })
                .collect()),
            Column::Booleans(_) => Ok(values
                .booleans()?
                .map(|value| match value {
                    None => finite(params.missing),
                    Some(value) => {
                        let key = if value { "true" } else { "false" };
                        finite(params.points.get(key).copied().unwrap_or(params.otherwise))
                    }
                })
                .collect()),
            _ => Err(wrong_column(Self::NAME, "texts, options and booleans", values)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// presence

/// The parameters of `presence`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceParams {
    /// The points of a contact with a value.
    pub present: f64,
    /// The points of a contact without one (null, or a text that is empty or only
    /// whitespace); 0 when absent.
    #[serde(default)]
    pub absent: f64,
}

/// `presence`: points for having a value at all.
#[derive(Default)]
pub struct Presence;

impl Criterion for Presence {
    const NAME: &'static str = "presence";
    const LABEL: &'static str = "Points for present or absent";
    const APPLIES_TO: &'static [FieldKind] = &FieldKind::ALL;
    type Params = PresenceParams;

    fn score(&mut self, params: &PresenceParams, values: &Batch) -> Result<Vec<f64>, PluginError> {
        let points = |present: bool| finite(if present { params.present } else { params.absent });
        Ok(match &values.values {
            Column::Texts(_) => values
                .texts()?
                .map(|text| points(text.is_some_and(|text| !text.trim().is_empty())))
                .collect(),
            _ => (0..values.len()).map(|row| points(!values.is_null(row))).collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------
// recency

/// A number of days greater than 0.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(try_from = "f64")]
pub struct HalfLife(pub f64);

impl TryFrom<f64> for HalfLife {
    type Error = String;

    fn try_from(days: f64) -> Result<Self, String> {
        if days.is_finite() && days > 0.0 {
            Ok(HalfLife(days))
        } else {
            Err(format!("expected a number of days greater than 0, found {days}"))
        }
    }
}

impl JsonSchema for HalfLife {
    fn schema_name() -> Cow<'static, str> {
        "HalfLife".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "number", "exclusiveMinimum": 0})
    }
}

/// What the values of an integer column are to `recency`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IntegerValues {
    /// Instants, seconds since the Unix epoch: a datetime field (the default).
    #[default]
    UnixSeconds,
    /// Numbers of days ago: an integer field ("days since the last purchase").
    DaysAgo,
}

/// The parameters of `recency`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecencyParams {
    /// The points of a value of right now (0 days ago); 100 when absent.
    #[serde(default = "hundred")]
    pub max_points: f64,
    /// After how many days the points halve (greater than 0).
    pub half_life_days: HalfLife,
    /// The points of a contact without a value; 0 when absent.
    #[serde(default)]
    pub missing: f64,
    /// The time of the scoring, seconds since the Unix epoch: filled by the host, which
    /// fills `now` for every criterion that declares it. Needed for date and datetime
    /// fields.
    #[serde(default)]
    pub now: Option<i64>,
    /// What an integer field's values are: `unix_seconds` (a datetime field, the
    /// default) or `days_ago` (an integer field holding a number of days ago). A
    /// criterion sees the column, not the field, and both kinds arrive as integers.
    #[serde(default)]
    pub integers: IntegerValues,
}

fn hundred() -> f64 {
    100.0
}

/// `recency`: the most points for a value of now, halving every `half_life_days`.
#[derive(Default)]
pub struct Recency;

impl Recency {
    /// The points of a value `days` ago (the future counts as now).
    fn points(params: &RecencyParams, days: f64) -> f64 {
        let days = if days > 0.0 { days } else { 0.0 };
        finite(params.max_points * 0.5_f64.powf(days / params.half_life_days.0))
    }

    fn now(params: &RecencyParams) -> Result<i64, PluginError> {
        params
            .now
            .ok_or_else(|| PluginError::at("params.now", "needed for dates"))
    }
}

impl Criterion for Recency {
    const NAME: &'static str = "recency";
    const LABEL: &'static str = "Points by recency, with decay";
    const APPLIES_TO: &'static [FieldKind] = &[
        FieldKind::Date,
        FieldKind::Datetime,
        FieldKind::Integer,
        FieldKind::Number,
    ];
    type Params = RecencyParams;

    #[allow(clippy::cast_precision_loss)]
    fn score(&mut self, params: &RecencyParams, values: &Batch) -> Result<Vec<f64>, PluginError> {
        let days_since = |now: i64, seconds: i64| now.saturating_sub(seconds) as f64 / DAY as f64;
        let missing = finite(params.missing);
        Ok(match &values.values {
            Column::Numbers(_) => values
                .numbers()?
                .map(|days| days.map_or(missing, |days| Self::points(params, days)))
                .collect(),
            Column::Integers(_) if params.integers == IntegerValues::DaysAgo => values
                .integers()?
                .map(|days| days.map_or(missing, |days| Self::points(params, days as f64)))
                .collect(),
            Column::Integers(_) => {
                let now = Self::now(params)?;
                values
                    .integers()?
                    .map(|at| at.map_or(missing, |at| Self::points(params, days_since(now, at))))
                    .collect()
            }
            Column::Texts(_) => {
                let now = Self::now(params)?;
                // A date the host sent malformed scores as a missing value.
                values
                    .texts()?
                    .map(|text| {
                        text.and_then(date_seconds)
                            .map_or(missing, |midnight| Self::points(params, days_since(now, midnight)))
                    })
                    .collect()
            }
            _ => {
                return Err(wrong_column(
                    Self::NAME,
                    "dates, datetimes, integers and numbers",
                    values,
                ));
            }
        })
    }
}

#[cfg(test)]
mod tests;
