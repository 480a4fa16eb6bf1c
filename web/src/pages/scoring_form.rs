//! The scoring model editor (admins): the new and edit forms, usable without JavaScript.
//!
//! A parameter is a row of inputs named `p{i}.label`, `p{i}.source` (a field path, or
//! [`ACTIVITY`] for an activity measure read from `p{i}.activity`, `p{i}.measure` and
//! `p{i}.within_days`), `p{i}.criterion`, `p{i}.params` (JSON), `p{i}.weight`,
//! `p{i}.enabled` and `p{i}.remove`; a band is `b{i}.name`, `b{i}.from`, `b{i}.to`. Rows
//! left blank are skipped, rows ticked "remove" dropped; the rest become the definition
//! ([`kartoteka_core::scoring::Definition`]) in their order, so the definition's
//! `parameters[i]` is the form's row `i` when it comes back, and core's problems
//! (`definition.parameters[2].weight`) land next to their input. What the form itself
//! can't read (a weight that is no number, params that are no JSON) is a problem at its
//! input too, shown together with core's.
//!
//! Three more submit buttons share the form: "Add parameter" and "Add band" show it again
//! with one more empty row, and "What-if" (posting to [`urls::SCORING_WHAT_IF`] or
//! `/scoring/{id}/what-if`) scores the draft over the whole base without saving and shows
//! the result above the form, the form as typed. The what-if runs in the background
//! ([`kartoteka_core::scoring::whatif_runs`]): when it is done within the scoring state's
//! `what_if_wait` (2 s) the answer comes with the form at once; otherwise the browser is sent to
//! `/scoring/what-ifs/{run}`, which shows the progress, reloads itself every second, and
//! shows the form with the answer once done. The draft waits in [`WhatIfDrafts`] (this
//! server's memory) meanwhile.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kartoteka_core::Error;
use kartoteka_core::activities::KINDS;
use kartoteka_core::filter::catalog::Source;
use kartoteka_core::scoring::{
    Band, BandCount, Definition, Measure, ModelInput, ModelPatch, Parameter, RunState, ScoringModel, ValueSource,
    WhatIf,
};
use serde_json::Value as Json;

use super::Nav;
use super::contacts::Choice;
use super::flash;
use super::scoring::{parse_id, status_text};
use crate::app::AppState;
use crate::auth::{CheckedForm, FormData, SessionUser};
use crate::error::{PageError, render};
use crate::urls;

/// The source of a parameter that reads an activity measure.
pub const ACTIVITY: &str = "@activity";

/// How long a what-if's draft is kept: longer than core keeps the run's answer after a
/// long run.
const DRAFT_KEPT_FOR: std::time::Duration = std::time::Duration::from_secs(2 * 60 * 60);

/// The drafts of what-ifs that outlasted the page's wait, by run, with when they were
/// started: shown with the answer when it is done.
#[derive(Debug, Default)]
pub struct WhatIfDrafts(Mutex<HashMap<u64, (std::time::Instant, Draft)>>);

impl WhatIfDrafts {
    fn keep(&self, run: u64, draft: Draft) {
        let mut kept = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.retain(|_, (at, _)| at.elapsed() < DRAFT_KEPT_FOR);
        kept.insert(run, (std::time::Instant::now(), draft));
    }

    fn get(&self, run: u64) -> Option<Draft> {
        let kept = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        kept.get(&run).map(|(_, d)| d.clone())
    }
}

/// The most rows of either kind the form reads (core allows fewer).
const MAX_ROWS: usize = 100;

/// The measures of an activity kind, as the definition names them.
const MEASURES: [(&str, &str); 3] = [
    ("count", "count"),
    ("sum", "sum of amounts"),
    ("days_since_last", "days since the last"),
];

/// One parameter row of the form.
#[derive(Debug, Clone, Default)]
pub struct ParamRow {
    pub index: usize,
    pub label: String,
    /// A field path, [`ACTIVITY`], or empty.
    pub source: String,
    pub activity: String,
    pub measure: String,
    pub within_days: String,
    pub criterion: String,
    pub params: String,
    pub weight: String,
    pub enabled: bool,
    /// `(input, message)`; an empty input for the row as a whole.
    pub errors: Vec<(String, String)>,
    /// The chosen criterion's parameters (JSON Schema), as help.
    pub help: String,
}

impl ParamRow {
    fn blank() -> Self {
        ParamRow {
            enabled: true,
            measure: "count".into(),
            ..ParamRow::default()
        }
    }

    /// Whether nothing was typed in it (the checkboxes and the measure don't count).
    fn is_blank(&self) -> bool {
        self.label.is_empty()
            && self.source.is_empty()
            && self.criterion.is_empty()
            && self.params.is_empty()
            && self.weight.is_empty()
            && self.within_days.is_empty()
    }

    pub fn is_activity(&self) -> bool {
        self.source == ACTIVITY
    }

    /// The messages at input `input` of the row.
    pub fn err(&self, input: &str) -> Option<String> {
        super::form_errors::at(&self.errors, input)
    }

    /// An input's name in the form.
    pub fn name(&self, input: &str) -> String {
        format!("p{}.{input}", self.index)
    }

    fn from_parameter(index: usize, p: &Parameter) -> Self {
        let mut row = ParamRow {
            index,
            label: p.label.clone().unwrap_or_default(),
            criterion: p.criterion.clone(),
            params: if p.params.is_null() {
                String::new()
            } else {
                p.params.to_string()
            },
            weight: p.weight.to_string(),
            enabled: p.enabled,
            measure: "count".into(),
            ..ParamRow::default()
        };
        match &p.source {
            ValueSource::Field { field } => row.source = field.clone(),
            ValueSource::Activity {
                activity,
                measure,
                within_days,
            } => {
                row.source = ACTIVITY.into();
                row.activity = activity.clone();
                row.measure = measure_name(*measure).into();
                row.within_days = within_days.map(|d| d.to_string()).unwrap_or_default();
            }
        }
        row
    }
}

/// One band row of the form.
#[derive(Debug, Clone, Default)]
pub struct BandRow {
    pub index: usize,
    pub name: String,
    pub from: String,
    pub to: String,
    pub errors: Vec<(String, String)>,
}

impl BandRow {
    fn is_blank(&self) -> bool {
        self.name.is_empty() && self.from.is_empty() && self.to.is_empty()
    }

    pub fn err(&self, input: &str) -> Option<String> {
        super::form_errors::at(&self.errors, input)
    }

    pub fn name_of(&self, input: &str) -> String {
        format!("b{}.{input}", self.index)
    }
}

fn measure_name(m: Measure) -> &'static str {
    match m {
        Measure::Count => "count",
        Measure::Sum => "sum",
        Measure::DaysSinceLast => "days_since_last",
    }
}

fn number_text(n: f64) -> String {
    format!("{n}")
}

/// A criterion with its parameters' schema, for the help under the rows.
#[derive(Debug, Clone)]
pub struct CriterionHelp {
    pub name: String,
    pub label: String,
    pub applies_to: String,
    pub schema: String,
}

/// A move of the what-if, as shown.
#[derive(Debug, Clone)]
pub struct ShownMove {
    pub from: String,
    pub to: String,
    pub count: u64,
    /// `(card url, name)`.
    pub sample: Vec<(String, String)>,
}

/// The what-if's answer, as shown above the form.
#[derive(Debug, Clone)]
pub struct ShownWhatIf {
    pub total: u64,
    pub scored_before: u64,
    pub bands: Vec<BandCount>,
    pub moves: Vec<ShownMove>,
    pub unchanged: u64,
    pub mean_draft: String,
    pub elapsed_ms: u64,
}

impl From<WhatIf> for ShownWhatIf {
    fn from(w: WhatIf) -> Self {
        ShownWhatIf {
            total: w.total,
            scored_before: w.scored_before,
            bands: w.bands,
            moves: w
                .moves
                .into_iter()
                .map(|m| ShownMove {
                    from: m.from.unwrap_or_else(|| "no score".into()),
                    to: m.to,
                    count: m.count,
                    sample: m
                        .sample
                        .into_iter()
                        .map(|(id, name)| (urls::contact(id), name))
                        .collect(),
                })
                .collect(),
            unchanged: w.unchanged,
            mean_draft: format!("{:.1}", w.mean_draft),
            elapsed_ms: w.elapsed_ms,
        }
    }
}

/// The saved model an edit form belongs to.
#[derive(Debug, Clone)]
pub struct SavedModel {
    pub id: i64,
    pub key: String,
    pub status: String,
    pub attention: bool,
    pub status_message: String,
    pub rescore_url: String,
    pub delete_url: String,
}

#[derive(Template)]
#[template(path = "scoring/form.html")]
struct EditorPage {
    nav: Nav,
    title: String,
    /// The model being edited; `None` for a new one.
    saved: Option<SavedModel>,
    action: String,
    what_if_url: String,
    key: String,
    name: String,
    kind: String,
    version: String,
    params: Vec<ParamRow>,
    bands: Vec<BandRow>,
    sources: Vec<Choice>,
    activity_kinds: Vec<Choice>,
    measures: Vec<Choice>,
    criteria: Vec<CriterionHelp>,
    /// `(input, message)` of the form's own inputs (`key`, `name`, `kind`, `parameters`,
    /// `bands`, empty for the whole).
    errors: Vec<(String, String)>,
    what_if: Option<ShownWhatIf>,
    delete_error: Option<String>,
    notice: Option<String>,
}

impl EditorPage {
    fn error_for(&self, input: &str) -> Option<String> {
        super::form_errors::at(&self.errors, input)
    }

    fn general_errors(&self) -> Vec<String> {
        super::form_errors::elsewhere(&self.errors, &["key", "name", "kind", "parameters", "bands"])
    }

    fn has_errors(&self) -> bool {
        !self.errors.is_empty()
            || self.params.iter().any(|p| !p.errors.is_empty())
            || self.bands.iter().any(|b| !b.errors.is_empty())
    }
}

/// What the form holds, as typed.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    key: String,
    name: String,
    kind: String,
    version: String,
    /// The kept rows, re-numbered from 0.
    params: Vec<ParamRow>,
    bands: Vec<BandRow>,
    /// Empty rows to show after the kept ones.
    empty_params: usize,
    empty_bands: usize,
}

/// The row indices of inputs named `{prefix}{i}.…`.
fn row_indices(form: &FormData, prefix: char) -> BTreeSet<usize> {
    form.pairs()
        .iter()
        .filter_map(|(k, _)| {
            let rest = k.strip_prefix(prefix)?;
            let (i, _) = rest.split_once('.')?;
            i.parse::<usize>().ok()
        })
        .filter(|i| *i < MAX_ROWS)
        .collect()
}

impl Draft {
    fn posted(form: &FormData) -> Self {
        let mut draft = Draft {
            key: form.text("key"),
            name: form.text("name"),
            kind: form.text("kind"),
            version: form.text("version"),
            ..Draft::default()
        };
        for i in row_indices(form, 'p') {
            let at = |input: &str| form.text(&format!("p{i}.{input}"));
            if form.checked(&format!("p{i}.remove")) {
                continue;
            }
            let row = ParamRow {
                index: draft.params.len(),
                label: at("label"),
                source: at("source"),
                activity: at("activity"),
                measure: at("measure"),
                within_days: at("within_days"),
                criterion: at("criterion"),
                params: form.get(&format!("p{i}.params")).unwrap_or_default().to_owned(),
                weight: at("weight"),
                enabled: form.checked(&format!("p{i}.enabled")),
                errors: Vec::new(),
                help: String::new(),
            };
            if row.is_blank() {
                draft.empty_params += 1;
            } else {
                draft.params.push(row);
            }
        }
        for i in row_indices(form, 'b') {
            let at = |input: &str| form.text(&format!("b{i}.{input}"));
            let row = BandRow {
                index: draft.bands.len(),
                name: at("name"),
                from: at("from"),
                to: at("to"),
                errors: Vec::new(),
            };
            if row.is_blank() {
                draft.empty_bands += 1;
            } else {
                draft.bands.push(row);
            }
        }
        draft
    }

    fn saved(model: &ScoringModel) -> Self {
        let mut bands = model.definition.bands.clone();
        bands.sort_by(|a, b| a.from.total_cmp(&b.from));
        Draft {
            key: model.key.clone(),
            name: model.name.clone(),
            kind: model.kind.as_str().into(),
            version: model.version.to_string(),
            params: model
                .definition
                .parameters
                .iter()
                .enumerate()
                .map(|(i, p)| ParamRow::from_parameter(i, p))
                .collect(),
            bands: bands
                .iter()
                .enumerate()
                .map(|(i, b)| BandRow {
                    index: i,
                    name: b.name.clone(),
                    from: number_text(b.from),
                    to: number_text(b.to),
                    errors: Vec::new(),
                })
                .collect(),
            empty_params: 1,
            empty_bands: 1,
        }
    }

    /// The definition the rows make, and the problems of the inputs the form reads itself
    /// (at `p{i}.weight`, `b{i}.from`...). Where an input can't be read a stand-in takes its
    /// place, so core can still check the rest.
    fn definition(&self) -> (Definition, Vec<(String, String)>) {
        let mut problems = Vec::new();
        let mut parameters = Vec::new();
        for row in &self.params {
            let mut problem = |input: &str, message: String| problems.push((row.name(input), message));
            let source = if row.is_activity() {
                let measure = match row.measure.as_str() {
                    "count" => Measure::Count,
                    "sum" => Measure::Sum,
                    "days_since_last" => Measure::DaysSinceLast,
                    other => {
                        problem("measure", format!("`{other}` is not a measure"));
                        Measure::Count
                    }
                };
                let within_days = if row.within_days.is_empty() {
                    None
                } else {
                    match row.within_days.parse::<i64>() {
                        Ok(d) => Some(d),
                        Err(_) => {
                            problem("within_days", "expected a whole number of days".into());
                            None
                        }
                    }
                };
                if row.activity.is_empty() {
                    problem("activity", "choose a kind of activity".into());
                }
                ValueSource::Activity {
                    activity: row.activity.clone(),
                    measure,
                    within_days,
                }
            } else {
                if row.source.is_empty() {
                    problem("source", "choose a field or an activity measure".into());
                }
                ValueSource::Field {
                    field: row.source.clone(),
                }
            };
            if row.criterion.is_empty() {
                problem("criterion", "choose a criterion".into());
            }
            let params = if row.params.trim().is_empty() {
                Json::Object(serde_json::Map::new())
            } else {
                match serde_json::from_str::<Json>(&row.params) {
                    Ok(v) => v,
                    Err(e) => {
                        problem("params", format!("not valid JSON: {e}"));
                        Json::Object(serde_json::Map::new())
                    }
                }
            };
            let weight = if row.weight.is_empty() {
                problem("weight", "is required: from 1 to 10".into());
                1
            } else {
                match row.weight.parse::<i64>() {
                    Ok(w) => w,
                    Err(_) => {
                        problem("weight", format!("`{}` is not a whole number from 1 to 10", row.weight));
                        1
                    }
                }
            };
            parameters.push(Parameter {
                label: (!row.label.is_empty()).then(|| row.label.clone()),
                source,
                criterion: row.criterion.clone(),
                params,
                weight,
                enabled: row.enabled,
            });
        }
        let mut bands = Vec::new();
        for row in &self.bands {
            let mut number = |input: &str, text: &str, fallback: f64| match text.replace(',', ".").parse::<f64>() {
                Ok(n) if n.is_finite() => n,
                _ if text.is_empty() => {
                    problems.push((row.name_of(input), "is required: a number from 0 to 100".into()));
                    fallback
                }
                _ => {
                    problems.push((row.name_of(input), format!("`{text}` is not a number")));
                    fallback
                }
            };
            let from = number("from", &row.from, 0.0);
            let to = number("to", &row.to, 100.0);
            bands.push(Band {
                name: row.name.clone(),
                from,
                to,
            });
        }
        (Definition { parameters, bands }, problems)
    }

    /// The definition as JSON, or every problem: the form's own and core's check of the
    /// rest, each at its input.
    async fn checked(&self, state: &AppState) -> Result<Json, Vec<(String, String)>> {
        let (definition, local) = self.definition();
        let json = serde_json::to_value(&definition).unwrap_or(Json::Null);
        if local.is_empty() {
            return Ok(json);
        }
        let mut all = local.clone();
        // Core checks the name with the rest when saving; the form isn't saved now.
        if self.name.is_empty() {
            all.push(("name".into(), "is required".into()));
        }
        if let Err(e @ (Error::Validation { .. } | Error::Invalid(_))) =
            state.core.scoring().check_definition(&json).await
        {
            // A row with a problem of its own may get more from its stand-in values.
            let rows_with_problems: BTreeSet<String> = local.iter().map(|(input, _)| row_of(input)).collect();
            for (input, message) in inputs_of(&e) {
                if !rows_with_problems.contains(&row_of(&input)) {
                    all.push((input, message));
                }
            }
        }
        Err(all)
    }

    /// Spreads `errors` (by input name) over the rows and the form.
    fn place(&mut self, errors: Vec<(String, String)>) -> Vec<(String, String)> {
        let mut rest = Vec::new();
        for (input, message) in errors {
            let (row, field) = match input.split_once('.') {
                Some((row, field)) => (row.to_owned(), field.to_owned()),
                None => (input.clone(), String::new()),
            };
            let param = row
                .strip_prefix('p')
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| self.params.get_mut(i));
            if let Some(p) = param {
                p.errors.push((field, message));
                continue;
            }
            let band = row
                .strip_prefix('b')
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| self.bands.get_mut(i));
            if let Some(b) = band {
                b.errors.push((field, message));
                continue;
            }
            rest.push((input, message));
        }
        rest
    }
}

/// The row part of an input name (`p2` of `p2.weight`).
fn row_of(input: &str) -> String {
    input.split_once('.').map_or(input, |(row, _)| row).to_owned()
}

/// Core's problems as `(input, message)` of the form: `definition.parameters[2].weight`
/// at `p2.weight`, `definition.bands[1]` at the row `b1`, `definition.bands` at `bands`.
fn inputs_of(e: &Error) -> Vec<(String, String)> {
    e.problems()
        .into_iter()
        .map(|p| (input_of(&p.path), p.message))
        .collect()
}

fn input_of(path: &str) -> String {
    let Some(inner) = path.strip_prefix("definition") else {
        return path.to_owned();
    };
    let inner = inner.strip_prefix('.').unwrap_or(inner);
    for (list, prefix) in [("parameters", 'p'), ("bands", 'b')] {
        let Some(rest) = inner.strip_prefix(list) else { continue };
        if rest.is_empty() {
            return list.to_owned();
        }
        let Some((index, tail)) = rest.strip_prefix('[').and_then(|r| r.split_once(']')) else {
            continue;
        };
        let tail = tail.strip_prefix('.').unwrap_or(tail);
        let input = match tail {
            "" => "",
            "source.activity" => "activity",
            "source.measure" => "measure",
            "source.within_days" => "within_days",
            t if t.starts_with("source") => "source",
            t if t.starts_with("params") => "params",
            t => t.split(['.', '[']).next().unwrap_or(t),
        };
        return if input.is_empty() {
            format!("{prefix}{index}")
        } else {
            format!("{prefix}{index}.{input}")
        };
    }
    String::new()
}

/// The choices the rows offer: the fields with a value of their own, the activity kinds,
/// the measures, the criteria.
async fn choices(state: &AppState) -> Result<(Vec<Choice>, Vec<Choice>, Vec<Choice>, Vec<CriterionHelp>), Error> {
    let catalog = state.core.filter().filter_catalog().await?;
    let sources = catalog
        .fields()
        .iter()
        .filter(|f| {
            matches!(
                f.source,
                Source::Column(_) | Source::Extra { .. } | Source::Type | Source::Owner | Source::Company
            )
        })
        .map(|f| Choice {
            value: f.path.clone(),
            label: format!("{} ({})", f.label, f.kind.as_str().replace('_', " ")),
            selected: false,
        })
        .collect();
    let kinds = KINDS
        .iter()
        .map(|k| Choice {
            value: (*k).to_owned(),
            label: kartoteka_core::activities::kind_label(k),
            selected: false,
        })
        .collect();
    let measures = MEASURES
        .iter()
        .map(|(value, label)| Choice {
            value: (*value).into(),
            label: (*label).into(),
            selected: false,
        })
        .collect();
    let criteria = state
        .core
        .scoring()
        .criteria()
        .await?
        .into_iter()
        .map(|c| CriterionHelp {
            applies_to: c.applies_to.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
            schema: serde_json::to_string_pretty(&c.params_schema).unwrap_or_default(),
            name: c.name,
            label: c.label,
        })
        .collect();
    Ok((sources, kinds, measures, criteria))
}

/// The editor for `draft`, of `saved` when it is one, with `errors` placed at their
/// inputs and the what-if's answer above.
async fn editor(
    state: &AppState,
    user: &SessionUser,
    saved: Option<&ScoringModel>,
    mut draft: Draft,
    errors: Vec<(String, String)>,
    what_if: Option<WhatIf>,
) -> Result<EditorPage, PageError> {
    let (sources, activity_kinds, measures, criteria) = choices(state).await?;
    let errors = draft.place(errors);
    let mut params = std::mem::take(&mut draft.params);
    for _ in 0..draft.empty_params.max(1) {
        params.push(ParamRow {
            index: params.len(),
            ..ParamRow::blank()
        });
    }
    for p in &mut params {
        if let Some(c) = criteria.iter().find(|c| c.name == p.criterion) {
            p.help.clone_from(&c.schema);
        }
    }
    let mut bands = std::mem::take(&mut draft.bands);
    for _ in 0..draft.empty_bands.max(1) {
        bands.push(BandRow {
            index: bands.len(),
            ..BandRow::default()
        });
    }
    let (title, action, what_if_url, saved) = match saved {
        Some(m) => (
            format!("Edit {}", m.name),
            urls::scoring_model(m.id),
            urls::scoring_action(m.id, "what-if"),
            Some(SavedModel {
                id: m.id,
                key: m.key.clone(),
                status: status_text(m),
                attention: m.status == kartoteka_core::scoring::NEEDS_ATTENTION,
                status_message: m.status_message.clone().unwrap_or_default(),
                rescore_url: urls::scoring_action(m.id, "rescore"),
                delete_url: urls::scoring_action(m.id, "delete"),
            }),
        ),
        None => (
            "New scoring model".to_owned(),
            urls::SCORING.to_owned(),
            urls::SCORING_WHAT_IF.to_owned(),
            None,
        ),
    };
    Ok(EditorPage {
        nav: Nav::new(user, "scoring"),
        title,
        saved,
        action,
        what_if_url,
        key: draft.key,
        name: draft.name,
        kind: if draft.kind.is_empty() {
            "person".into()
        } else {
            draft.kind
        },
        version: draft.version,
        params,
        bands,
        sources,
        activity_kinds,
        measures,
        criteria,
        errors,
        what_if: what_if.map(ShownWhatIf::from),
        delete_error: None,
        notice: None,
    })
}

fn respond(page: &EditorPage, status: StatusCode) -> Result<Response, PageError> {
    let status = if status == StatusCode::OK && page.has_errors() {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    Ok((status, render(page)?).into_response())
}

/// A refusal as the form shows it: problems at their inputs; `Err` for what is no
/// problem of the form (forbidden, gone, broken).
fn refused(e: Error) -> Result<(StatusCode, Vec<(String, String)>), PageError> {
    let status = crate::error::classify(&e).0;
    match e {
        e @ (Error::Validation { .. } | Error::Invalid(_)) => Ok((status, inputs_of(&e))),
        e @ (Error::Conflict { .. } | Error::Plugin { .. }) => {
            Ok((status, vec![(String::new(), crate::error::public_message(&e))]))
        }
        e => Err(PageError::Core(e)),
    }
}

/// `GET /scoring/new`.
pub(super) async fn new_form(State(state): State<AppState>, user: SessionUser) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let draft = Draft {
        kind: "person".into(),
        bands: vec![
            BandRow {
                index: 0,
                name: "Low".into(),
                from: "0".into(),
                to: "50".into(),
                errors: Vec::new(),
            },
            BandRow {
                index: 1,
                name: "High".into(),
                from: "50".into(),
                to: "100".into(),
                errors: Vec::new(),
            },
        ],
        empty_params: 1,
        empty_bands: 1,
        ..Draft::default()
    };
    let page = editor(&state, &user, None, draft, Vec::new(), None).await?;
    respond(&page, StatusCode::OK)
}

/// The row-adding buttons: the draft with one more empty row, if one was pressed.
fn added_row(form: &FormData, draft: &mut Draft) -> bool {
    match form.get("op") {
        Some("add_parameter") => draft.empty_params = draft.empty_params.max(1) + 1,
        Some("add_band") => draft.empty_bands = draft.empty_bands.max(1) + 1,
        _ => return false,
    }
    true
}

/// `POST /scoring`: creates a model; to its editor, or the form again with its problems.
pub(super) async fn create(
    State(state): State<AppState>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let mut draft = Draft::posted(&form);
    if added_row(&form, &mut draft) {
        let page = editor(&state, &user, None, draft, Vec::new(), None).await?;
        return respond(&page, StatusCode::OK);
    }
    let definition = match draft.checked(&state).await {
        Ok(d) => d,
        Err(errors) => {
            let page = editor(&state, &user, None, draft, errors, None).await?;
            return respond(&page, StatusCode::BAD_REQUEST);
        }
    };
    let input = ModelInput {
        key: draft.key.clone(),
        name: draft.name.clone(),
        kind: draft.kind.clone(),
        definition,
    };
    match state.core.scoring().create_model(&user.actor, input).await {
        Ok(model) => Ok(flash::redirect(
            &state,
            &urls::scoring_model(model.id),
            &format!("Created the scoring model “{}”.", model.name),
        )),
        Err(e) => {
            let (status, errors) = refused(e)?;
            let page = editor(&state, &user, None, draft, errors, None).await?;
            respond(&page, status)
        }
    }
}

/// `GET /scoring/{id}`: the editor of a saved model.
pub(super) async fn edit_form(
    State(state): State<AppState>,
    user: SessionUser,
    flash: flash::Flash,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let model = state.core.scoring().get_model(parse_id(&id)?).await?;
    let mut page = editor(&state, &user, Some(&model), Draft::saved(&model), Vec::new(), None).await?;
    page.notice = flash.message();
    let mut response = respond(&page, StatusCode::OK)?;
    flash.clear(&state, &mut response);
    Ok(response)
}

/// The editor of saved model `id` after a refused delete.
pub(super) async fn refused_delete(
    state: &AppState,
    user: &SessionUser,
    model: &ScoringModel,
    e: &Error,
) -> Result<Response, PageError> {
    let mut page = editor(state, user, Some(model), Draft::saved(model), Vec::new(), None).await?;
    page.delete_error = Some(crate::error::public_message(e));
    Ok((crate::error::classify(e).0, render(&page)?).into_response())
}

/// `POST /scoring/{id}`: saves a change (at the version the form was read at).
pub(super) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let id = parse_id(&id)?;
    let model = state.core.scoring().get_model(id).await?;
    let mut draft = Draft::posted(&form);
    draft.key = model.key.clone();
    draft.kind = model.kind.as_str().into();
    if added_row(&form, &mut draft) {
        let page = editor(&state, &user, Some(&model), draft, Vec::new(), None).await?;
        return respond(&page, StatusCode::OK);
    }
    let definition = match draft.checked(&state).await {
        Ok(d) => d,
        Err(errors) => {
            let page = editor(&state, &user, Some(&model), draft, errors, None).await?;
            return respond(&page, StatusCode::BAD_REQUEST);
        }
    };
    let version = match draft.version.parse::<i64>() {
        Ok(v) => Some(v),
        Err(_) => Some(model.version),
    };
    let patch = ModelPatch {
        name: Some(draft.name.clone()),
        definition: Some(definition),
        version,
    };
    match state.core.scoring().update_model(&user.actor, id, patch).await {
        Ok(saved) => Ok(flash::redirect(
            &state,
            &urls::scoring_model(id),
            &format!("Saved the scoring model “{}”.", saved.name),
        )),
        Err(e) => {
            let (status, errors) = refused(e)?;
            let page = editor(&state, &user, Some(&model), draft, errors, None).await?;
            respond(&page, status)
        }
    }
}

/// The what-if of the posted draft, against `saved` when it is one.
async fn what_if(
    state: &AppState,
    user: &SessionUser,
    saved: Option<&ScoringModel>,
    form: &FormData,
) -> Result<Response, PageError> {
    let mut draft = Draft::posted(form);
    if let Some(m) = saved {
        draft.key = m.key.clone();
        draft.kind = m.kind.as_str().into();
    }
    let definition = match draft.checked(state).await {
        Ok(d) => d,
        Err(errors) => {
            let page = editor(state, user, saved, draft, errors, None).await?;
            return respond(&page, StatusCode::BAD_REQUEST);
        }
    };
    let kind = if draft.kind.is_empty() {
        "person".to_owned()
    } else {
        draft.kind.clone()
    };
    let scoring = state.core.scoring();
    let run = match scoring
        .start_what_if(&user.actor, &kind, &definition, saved.map(|m| m.id))
        .await
    {
        Ok(run) => run,
        Err(e) => {
            let (status, errors) = refused(e)?;
            let page = editor(state, user, saved, draft, errors, None).await?;
            return respond(&page, status);
        }
    };
    let started = std::time::Instant::now();
    while started.elapsed() < scoring.scoring_state().what_if_wait() {
        let now = scoring.what_if_run(&user.actor, run.id)?;
        if now.state != RunState::Running {
            return answered(state, user, saved, draft, now.state).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    state.what_if_drafts.keep(run.id, draft);
    Ok(Redirect::to(&urls::scoring_what_if_run(run.id)).into_response())
}

/// The form with a finished what-if's answer, or with why it failed.
async fn answered(
    state: &AppState,
    user: &SessionUser,
    saved: Option<&ScoringModel>,
    draft: Draft,
    finished: RunState,
) -> Result<Response, PageError> {
    let (errors, answer) = match finished {
        RunState::Done(answer) => (Vec::new(), Some(answer)),
        RunState::Failed(why) => (vec![(String::new(), format!("The what-if stopped: {why}"))], None),
        RunState::Running => (Vec::new(), None),
    };
    let page = editor(state, user, saved, draft, errors, answer).await?;
    respond(&page, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "scoring/what_if_progress.html")]
struct ProgressPage {
    nav: Nav,
    name: String,
    done: u64,
    total: u64,
    percent: u64,
    back: String,
}

/// `GET /scoring/what-ifs/{run}`: a what-if's progress, then the form with its answer.
pub(super) async fn what_if_run(
    State(state): State<AppState>,
    Path(run): Path<String>,
    user: SessionUser,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let id: u64 = run.parse().map_err(|_| Error::NotFound { what: "what-if run" })?;
    let now = state.core.scoring().what_if_run(&user.actor, id)?;
    let Some(draft) = state.what_if_drafts.get(id) else {
        return Err(Error::NotFound { what: "what-if run" }.into());
    };
    let saved = match now.model_id {
        Some(m) => state.core.scoring().get_model(m).await.ok(),
        None => None,
    };
    if now.state != RunState::Running {
        return answered(&state, &user, saved.as_ref(), draft, now.state).await;
    }
    let page = ProgressPage {
        nav: Nav::new(&user, "scoring"),
        name: if draft.name.is_empty() {
            "a new model".into()
        } else {
            format!("“{}”", draft.name)
        },
        done: now.done,
        total: now.total,
        percent: (now.done * 100).checked_div(now.total).unwrap_or(0),
        back: saved.map_or_else(|| urls::NEW_SCORING_MODEL.to_owned(), |m| urls::scoring_model(m.id)),
    };
    Ok(render(&page)?.into_response())
}

/// `POST /scoring/what-if`: a new model's draft, tried.
pub(super) async fn what_if_new(
    State(state): State<AppState>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    what_if(&state, &user, None, &form).await
}

/// `POST /scoring/{id}/what-if`: a change of a saved model, tried against its scores.
pub(super) async fn what_if_saved(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CheckedForm { user, form }: CheckedForm,
) -> Result<Response, PageError> {
    user.actor.require_admin()?;
    let model = state.core.scoring().get_model(parse_id(&id)?).await?;
    what_if(&state, &user, Some(&model), &form).await
}

/// A GET on the new form's what-if address: the new form.
pub(super) async fn to_new_form() -> Redirect {
    Redirect::to(urls::NEW_SCORING_MODEL)
}

#[cfg(test)]
mod tests {
    use super::input_of;

    #[test]
    fn core_paths_land_at_their_inputs() {
        assert_eq!(input_of("definition.parameters[2].weight"), "p2.weight");
        assert_eq!(input_of("definition.parameters[0].source.field"), "p0.source");
        assert_eq!(
            input_of("definition.parameters[1].source.within_days"),
            "p1.within_days"
        );
        assert_eq!(input_of("definition.parameters[1].params.now"), "p1.params");
        assert_eq!(input_of("definition.parameters[3]"), "p3");
        assert_eq!(input_of("definition.bands[1].from"), "b1.from");
        assert_eq!(input_of("definition.bands[0]"), "b0");
        assert_eq!(input_of("definition.bands"), "bands");
        assert_eq!(input_of("definition.parameters"), "parameters");
        assert_eq!(input_of("definition"), "");
        assert_eq!(input_of("key"), "key");
    }
}
