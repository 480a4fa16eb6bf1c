//! The models: create, change, delete, list. Admins only. Saving checks the whole
//! definition (every problem at once), bumps the catalogue generation (filters offer
//! `score.<key>` and the band names), and asks for a full rescore.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::Value as Json;

use super::model::{self, Checked, Definition, ModelKind};
use super::{RESCORING, Scoring};
use crate::auth::Actor;
use crate::entities::scoring_models;
use crate::error::Problems;
use crate::kernel::validate::valid_key;
use crate::{Error, Result};

/// A scoring model as the API and pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringModel {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub kind: ModelKind,
    pub definition: Definition,
    pub version: i64,
    pub time_dependent: bool,
    /// `ready`, `rescoring` or `needs_attention`.
    pub status: String,
    pub status_message: Option<String>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub rescored_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelInput {
    /// Names it in filters: `score.<key>`; lowercase letters, digits and `_`.
    pub key: String,
    pub name: String,
    pub kind: String,
    pub definition: Json,
}

/// A change of a model; `version` is the one it was read at (optimistic locking).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelPatch {
    pub name: Option<String>,
    pub definition: Option<Json>,
    pub version: Option<i64>,
}

pub(crate) fn to_model(m: scoring_models::Model) -> ScoringModel {
    ScoringModel {
        id: m.id,
        key: m.key,
        name: m.name,
        kind: ModelKind::parse(&m.kind).unwrap_or(ModelKind::Person),
        definition: serde_json::from_value(m.definition).unwrap_or_default(),
        version: m.version,
        time_dependent: m.time_dependent,
        status: m.status,
        status_message: m.status_message,
        progress_done: m.progress_done,
        progress_total: m.progress_total,
        rescored_at: m.rescored_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

fn admin_only(actor: &Actor) -> Result<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(Error::Forbidden("only admins may change scoring models".into()))
    }
}

impl Scoring {
    /// Every model, oldest first.
    pub async fn list_models(&self) -> Result<Vec<ScoringModel>> {
        Ok(scoring_models::Entity::find()
            .order_by_asc(scoring_models::Column::Id)
            .all(&self.base.db)
            .await?
            .into_iter()
            .map(to_model)
            .collect())
    }

    /// Model `id`.
    pub async fn get_model(&self, id: i64) -> Result<ScoringModel> {
        self.model_row(id).await.map(to_model)
    }

    pub(crate) async fn model_row(&self, id: i64) -> Result<scoring_models::Model> {
        scoring_models::Entity::find_by_id(id)
            .one(&self.base.db)
            .await?
            .ok_or(Error::NotFound { what: "scoring model" })
    }

    /// The criteria the enabled plugins offer, for the editor.
    pub async fn criteria(&self) -> Result<Vec<crate::plugin::registry::CriterionEntry>> {
        self.plugins.criteria().await
    }

    /// Checks `definition` as a model of `kind` would use it: the parsed and checked
    /// parameters and bands, or every problem at its path.
    pub async fn check_definition(&self, definition: &Json) -> Result<Checked> {
        let parsed = model::parse(definition)?;
        let catalog = self.filter.current_catalog().await?;
        let criteria = self.plugins.criteria().await?;
        model::check(&parsed, &catalog, &criteria)
    }

    /// [`Scoring::check_definition`], then each criterion asked about its parameters (a
    /// call on no values): what it refuses is a problem at the parameter's `params`, before
    /// anything is saved or scored. A criterion that fails outright is left for the
    /// rescore, which marks the model.
    pub async fn check_with_criteria(&self, definition: &Json) -> Result<Checked> {
        let checked = self.check_definition(definition).await?;
        let mut problems = Problems::default();
        let now = self.base.clock.now().timestamp();
        for (i, p) in checked.parameters.iter().enumerate() {
            let mut params = p.params.clone();
            if p.wants_now
                && let Json::Object(map) = &mut params
            {
                map.insert("now".into(), Json::from(now));
            }
            let empty = crate::plugin::values::Batch::from_json(p.kind, &[]).map_err(Error::Internal)?;
            let tried = self
                .plugins
                .score(
                    &p.plugin,
                    &p.criterion,
                    Some(&params),
                    empty,
                    crate::plugin::CallContext::Request,
                )
                .await;
            match tried {
                Err(Error::Validation { path, message }) => {
                    problems.add(format!("definition.parameters[{i}].{path}"), message);
                }
                Err(Error::Invalid(found)) => {
                    for problem in found {
                        problems.add(format!("definition.parameters[{i}].{}", problem.path), problem.message);
                    }
                }
                _ => {}
            }
        }
        problems.into_result()?;
        Ok(checked)
    }

    /// Creates a model and asks for its first full rescore (in this request when the base
    /// is small: see [`super::rescore`]).
    pub async fn create_model(&self, actor: &Actor, input: ModelInput) -> Result<ScoringModel> {
        admin_only(actor)?;
        let mut problems = Problems::default();
        let key = input.key.trim().to_owned();
        if !valid_key(&key) {
            problems.add(
                "key",
                "use lowercase letters, digits and `_`, starting with a letter (it names the model in filters: `score.<key>`)",
            );
        } else if scoring_models::Entity::find()
            .filter(scoring_models::Column::Key.eq(&key))
            .one(&self.base.db)
            .await?
            .is_some()
        {
            problems.add("key", format!("another model is called `{key}`"));
        }
        let name = check_name(&input.name, &mut problems);
        let kind = ModelKind::parse(&input.kind);
        if kind.is_none() {
            problems.add("kind", "expected `person` or `company`");
        }
        let checked = problems.take(self.check_with_criteria(&input.definition).await)?;
        problems.into_result()?;
        let (Some(kind), Some(checked)) = (kind, checked) else {
            return Err(Error::Internal("a checked model without a kind or a definition".into()));
        };
        let now = crate::clock::stored(self.base.clock.now());
        let row = scoring_models::ActiveModel {
            key: Set(key),
            name: Set(name),
            kind: Set(kind.as_str().to_owned()),
            definition: Set(stored_definition(&input.definition)?),
            version: Set(1),
            time_dependent: Set(checked.time_dependent()),
            status: Set(RESCORING.to_owned()),
            status_message: Set(None),
            progress_done: Set(0),
            progress_total: Set(0),
            lease_until: Set(None),
            rescored_at: Set(None),
            created_by: Set(Some(actor.user_id)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.base.db)
        .await?;
        self.models_changed().await?;
        self.rescore_after_save(row.id).await?;
        self.get_model(row.id).await
    }

    /// Changes a model's name or definition; a new definition asks for a full rescore.
    pub async fn update_model(&self, actor: &Actor, id: i64, patch: ModelPatch) -> Result<ScoringModel> {
        admin_only(actor)?;
        let current = self.model_row(id).await?;
        if let Some(v) = patch.version
            && v != current.version
        {
            return Err(Error::conflict(format!(
                "the model changed since it was read (version {v}, now {}); reload it",
                current.version
            )));
        }
        let mut problems = Problems::default();
        let name = patch.name.as_deref().map(|n| check_name(n, &mut problems));
        let checked = match &patch.definition {
            Some(d) => problems.take(self.check_with_criteria(d).await)?,
            None => None,
        };
        problems.into_result()?;
        let now = crate::clock::stored(self.base.clock.now());
        let mut update = scoring_models::Entity::update_many()
            .col_expr(scoring_models::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                scoring_models::Column::Version,
                Expr::col(scoring_models::Column::Version).add(1),
            )
            .filter(scoring_models::Column::Id.eq(id))
            .filter(scoring_models::Column::Version.eq(current.version));
        if let Some(name) = name {
            update = update.col_expr(scoring_models::Column::Name, Expr::value(name));
        }
        let redefined = match (&patch.definition, &checked) {
            (Some(d), Some(checked)) if *d != current.definition => {
                update = update
                    .col_expr(scoring_models::Column::Definition, Expr::value(stored_definition(d)?))
                    .col_expr(
                        scoring_models::Column::TimeDependent,
                        Expr::value(checked.time_dependent()),
                    )
                    .col_expr(scoring_models::Column::Status, Expr::value(RESCORING))
                    .col_expr(scoring_models::Column::StatusMessage, Expr::value(None::<String>))
                    .col_expr(scoring_models::Column::ProgressDone, Expr::value(0i64))
                    .col_expr(scoring_models::Column::ProgressTotal, Expr::value(0i64));
                true
            }
            _ => false,
        };
        let done = update.exec(&self.base.db).await?;
        if done.rows_affected == 0 {
            return Err(Error::conflict("the model changed meanwhile; reload it"));
        }
        self.models_changed().await?;
        if redefined {
            self.rescore_after_save(id).await?;
        }
        self.get_model(id).await
    }

    /// Deletes a model with its scores and band history. A segment that filters on it
    /// then needs attention, as with a deleted field.
    pub async fn delete_model(&self, actor: &Actor, id: i64) -> Result<()> {
        admin_only(actor)?;
        let done = scoring_models::Entity::delete_by_id(id).exec(&self.base.db).await?;
        if done.rows_affected == 0 {
            return Err(Error::NotFound { what: "scoring model" });
        }
        self.models_changed().await
    }

    /// Filters and the compiled models follow a change of the models: the catalogue
    /// generation moves (every instance builds its catalogue and segment book again).
    pub(crate) async fn models_changed(&self) -> Result<()> {
        self.segments.definitions_changed(false).await
    }
}

fn check_name(name: &str, problems: &mut Problems) -> String {
    let name = name.trim();
    if name.is_empty() {
        problems.add("name", "is required");
    } else if name.chars().any(char::is_control) {
        problems.add("name", "control characters are not allowed");
    } else if name.chars().count() > 200 {
        problems.add("name", "at most 200 characters");
    }
    name.to_owned()
}

/// The definition as stored: parsed and written back, so unknown keys never linger.
fn stored_definition(definition: &Json) -> Result<Json> {
    let parsed = model::parse(definition)?;
    serde_json::to_value(parsed).map_err(|e| Error::Internal(e.to_string()))
}
