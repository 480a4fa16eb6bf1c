//! What a filter can refer to: every field path with its kind and where its value lives,
//! and the operators of the enabled plugins.
//!
//! The catalogue is loaded once per query (the field schema, the type tree, the users and
//! the operator list are small) and is the single place that knows how a path maps to
//! storage: the checker, the SQL builder and the in-memory evaluator all resolve paths
//! through it, so they can't disagree about what `fields.industry` or `company` means.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value as Json, json};

use super::FilterEngine;
use crate::activities::KINDS;
use crate::auth::Actor;
use crate::contact_types::TypeTree;
use crate::fields::FieldDef;
use crate::kernel::generations;
use crate::kernel::kinds::FieldKind;
use crate::plugin::registry::OperatorEntry;
use crate::plugin::values::FieldRef;
use crate::{Error, Result};

/// The core columns filters compare directly are the contacts' column table's
/// ([`CoreColumn::filtered`]); the type, the company and the owner have sources of their
/// own below.
pub use crate::contacts::columns::CoreColumn;

/// Where a path's value lives.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Column(CoreColumn),
    /// The contact type's key (`type_id`).
    Type,
    /// The name of the person's company (`company_id`).
    Company,
    /// The owner's email (`owner_id`).
    Owner,
    /// An extra field in the `fields` JSON.
    Extra {
        key: String,
        kind: FieldKind,
    },
    /// Activities of this kind.
    Activity(String),
    /// Latitude and longitude (and, for `in_location`, city, region, country).
    Location,
    /// The segments the contact is a member of (`segment_members`), by segment id.
    Segment,
    /// A scoring model's score (`contact_scores.score`) or, with `band`, its band.
    Score {
        model: i64,
        band: bool,
    },
}

/// A scoring model as filters see it: `score.<key>`, `score_band.<key>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreModel {
    pub id: i64,
    pub key: String,
    pub name: String,
    /// Its bands' names, lowest first.
    pub bands: Vec<String>,
}

impl ScoreModel {
    /// The models as stored, for the catalogue.
    pub async fn all(db: &impl sea_orm::ConnectionTrait) -> Result<Vec<ScoreModel>> {
        use sea_orm::{EntityTrait, QueryOrder};
        let rows = crate::entities::scoring_models::Entity::find()
            .order_by_asc(crate::entities::scoring_models::Column::Id)
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| {
                let mut bands: Vec<(f64, String)> = m
                    .definition
                    .get("bands")
                    .and_then(Json::as_array)
                    .map(|bands| {
                        bands
                            .iter()
                            .filter_map(|b| {
                                Some((b.get("from")?.as_f64()?, b.get("name")?.as_str()?.trim().to_owned()))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                bands.sort_by(|a, b| a.0.total_cmp(&b.0));
                ScoreModel {
                    id: m.id,
                    key: m.key,
                    name: m.name,
                    bands: bands.into_iter().map(|(_, n)| n).collect(),
                }
            })
            .collect())
    }
}

/// One path a filter may use.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub path: String,
    pub label: String,
    pub kind: FieldKind,
    pub options: Vec<String>,
    pub source: Source,
}

impl FieldSpec {
    /// What `lower` receives.
    pub fn field_ref(&self) -> FieldRef {
        FieldRef {
            path: self.path.clone(),
            kind: self.kind,
            options: self.options.clone(),
        }
    }

    /// Whether the picker offers operator `o` on this field: it applies to the field's
    /// kind, and the built-in `membership.in_band` only to bands (`score_band.<model>`).
    /// The contract's field kinds have no band kind (one would change
    /// `kartoteka:plugin@0.1.0`), so a band is a select field the catalogue knows as one.
    pub fn offers(&self, o: &OperatorEntry) -> bool {
        let band = matches!(self.source, Source::Score { band: true, .. })
            || self.source == Source::Column(CoreColumn::ScoreBand);
        o.applies_to.contains(&self.kind) && (band || !(o.plugin == "membership" && o.op == "in_band"))
    }

    /// Whether the value is text (for text matches and folding).
    pub fn is_text(&self) -> bool {
        matches!(
            self.kind,
            FieldKind::Text | FieldKind::LongText | FieldKind::Email | FieldKind::Phone | FieldKind::Url
        )
    }
}

/// The paths and operators a filter may use, as of one query.
///
/// Shared, not copied: every prepared filter holds the catalogue it was checked against,
/// and a request takes it from the engine's cache, so a clone is a reference count (the
/// operators' argument schemas alone are JSON trees).
#[derive(Debug, Clone)]
pub struct Catalog(Arc<Parts>);

/// What a [`Catalog`] holds.
#[derive(Debug)]
pub struct Parts {
    fields: Vec<FieldSpec>,
    by_path: HashMap<String, usize>,
    operators: Vec<OperatorEntry>,
    builtins: Vec<String>,
    pub types: TypeTree,
    /// Users by id: their emails (the `owner` field).
    pub owners: HashMap<i64, String>,
}

impl std::ops::Deref for Catalog {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

impl Catalog {
    /// Whether `other` is this very catalogue (built once from the same generations),
    /// not only an equal one.
    pub fn same_as(&self, other: &Catalog) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The catalogue from its parts.
    pub fn new(
        extra: &[FieldDef],
        types: TypeTree,
        owners: Vec<(i64, String)>,
        operators: Vec<OperatorEntry>,
        builtins: Vec<String>,
        scores: &[ScoreModel],
    ) -> Self {
        let mut fields = Vec::new();
        for column in CoreColumn::filtered() {
            let options = match column {
                CoreColumn::Kind => vec!["person".to_owned(), "company".to_owned()],
                _ => Vec::new(),
            };
            let spec = column.spec();
            fields.push(FieldSpec {
                path: spec.key.to_owned(),
                label: spec.label.to_owned(),
                kind: spec.kind,
                options,
                source: Source::Column(column),
            });
        }
        fields.push(FieldSpec {
            path: "type".into(),
            label: "Type".into(),
            kind: FieldKind::ContactType,
            options: types
                .all()
                .iter()
                .map(|t| {
                    let mut lineage = types.lineage(&t.key);
                    lineage.reverse();
                    lineage.join("/")
                })
                .collect(),
            source: Source::Type,
        });
        fields.push(FieldSpec {
            path: "company".into(),
            label: "Company".into(),
            kind: FieldKind::Text,
            options: Vec::new(),
            source: Source::Company,
        });
        let mut owner_list: Vec<&(i64, String)> = owners.iter().collect();
        owner_list.sort_by(|a, b| a.1.cmp(&b.1));
        fields.push(FieldSpec {
            path: "owner".into(),
            label: "Owner".into(),
            kind: FieldKind::Select,
            options: owner_list.iter().map(|(_, e)| e.clone()).collect(),
            source: Source::Owner,
        });
        fields.push(FieldSpec {
            path: "location".into(),
            label: "Location".into(),
            kind: FieldKind::Location,
            options: Vec::new(),
            source: Source::Location,
        });
        fields.push(FieldSpec {
            path: "segment".into(),
            label: "Segment".into(),
            kind: FieldKind::Segment,
            options: Vec::new(),
            source: Source::Segment,
        });
        for def in extra {
            fields.push(FieldSpec {
                path: format!("fields.{}", def.key),
                label: def.label.clone(),
                kind: def.kind,
                options: def.options.clone(),
                source: Source::Extra {
                    key: def.key.clone(),
                    kind: def.kind,
                },
            });
        }
        for model in scores {
            fields.push(FieldSpec {
                path: format!("score.{}", model.key),
                label: format!("Score: {}", model.name),
                kind: FieldKind::Number,
                options: Vec::new(),
                source: Source::Score {
                    model: model.id,
                    band: false,
                },
            });
            fields.push(FieldSpec {
                path: format!("score_band.{}", model.key),
                label: format!("Band: {}", model.name),
                kind: FieldKind::Select,
                options: model.bands.clone(),
                source: Source::Score {
                    model: model.id,
                    band: true,
                },
            });
        }
        for kind in KINDS {
            fields.push(FieldSpec {
                path: format!("activity.{kind}"),
                label: format!("Activity: {}", crate::activities::kind_label(kind)),
                kind: FieldKind::Activity,
                options: Vec::new(),
                source: Source::Activity(kind.to_owned()),
            });
        }
        let by_path = fields.iter().enumerate().map(|(i, f)| (f.path.clone(), i)).collect();
        Catalog(Arc::new(Parts {
            fields,
            by_path,
            operators,
            builtins,
            types,
            owners: owners.into_iter().collect(),
        }))
    }

    /// Every path, in picker order.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// The field at `path`.
    pub fn field(&self, path: &str) -> Option<&FieldSpec> {
        self.by_path.get(path).and_then(|&i| self.fields.get(i))
    }

    /// The operators of the enabled filter plugins.
    pub fn operators(&self) -> &[OperatorEntry] {
        &self.operators
    }

    /// Resolves `std.eq` or a bare `eq` (the built-in that offers it for this kind).
    pub fn operator(&self, name: &str, kind: FieldKind) -> std::result::Result<&OperatorEntry, String> {
        if let Some((plugin, op)) = name.split_once('.') {
            return self
                .operators
                .iter()
                .find(|o| o.plugin == plugin && o.op == op)
                .ok_or_else(|| {
                    if self.operators.iter().any(|o| o.plugin == plugin) {
                        format!("plugin `{plugin}` has no operator `{op}`")
                    } else {
                        format!("no enabled filter plugin is called `{plugin}`")
                    }
                });
        }
        let named: Vec<&OperatorEntry> = self
            .operators
            .iter()
            .filter(|o| o.op == name && self.builtins.contains(&o.plugin))
            .collect();
        named
            .iter()
            .find(|o| o.applies_to.contains(&kind))
            .or_else(|| named.first())
            .copied()
            .ok_or_else(|| format!("unknown operator `{name}`; write `<plugin>.{name}` for a plugin's operator"))
    }

    /// [`Catalog::to_json`] as `actor` may see it: the `owner` field's options are users'
    /// e-mail addresses, which only admins see; for managers and agents the field has no
    /// options (they type the address of an owner they know).
    pub fn to_json_for(&self, actor: &Actor) -> Json {
        let mut json = self.to_json();
        if !actor.is_admin()
            && let Some(fields) = json.get_mut("fields").and_then(Json::as_array_mut)
        {
            for field in fields.iter_mut().filter_map(Json::as_object_mut) {
                if field.get("path").and_then(Json::as_str) == Some("owner") {
                    field.insert("options".into(), json!([]));
                }
            }
        }
        json
    }

    /// The catalogue for the API and the filter builder: fields with their kinds and the
    /// operators that apply to each.
    pub fn to_json(&self) -> Json {
        let fields: Vec<Json> = self
            .fields
            .iter()
            .map(|f| {
                let ops: Vec<&str> = self
                    .operators
                    .iter()
                    .filter(|o| f.offers(o))
                    .map(|o| o.name.as_str())
                    .collect();
                json!({
                    "path": f.path,
                    "label": f.label,
                    "kind": f.kind.as_str(),
                    "options": f.options,
                    "operators": ops,
                })
            })
            .collect();
        json!({ "fields": fields })
    }
}

/// The last catalogue an instance read, with the generations it was read at.
///
/// Reading the catalogue takes five queries (fields, types, users, plugins); keeping it
/// takes one, which reads `catalog_generation` (bumped by every change of fields, types
/// and users) and `plugin_generation` (bumped by every plugin change) together. A change
/// on any instance moves one of them, and the next read here builds the catalogue again.
///
/// A request's read ([`FilterEngine::filter_catalog`]) trusts the kept catalogue without
/// that query for [`generations::RECHECK`] after it was last confirmed, unless this
/// process changed fields, types, users or plugins since (see [`generations`]): the
/// query took 0.10 ms (SQLite) and 0.22 ms (PostgreSQL) of an index-served count of
/// 0.65 and 1.33 ms in process (BENCHMARKS.md, "The server from outside"). The segments' book, rebuilds and
/// time-relative checks read the generations every time ([`FilterEngine::current_catalog`]).
#[derive(Debug, Default)]
pub struct CatalogCache {
    slot: std::sync::Mutex<Option<Kept>>,
}

#[derive(Debug)]
struct Kept {
    generations: (i64, i64),
    catalog: Catalog,
    /// When the generations were last read and found the same.
    confirmed: Instant,
    /// This process's changes of the catalogue's sources and of the plugins then.
    local: (u64, u64),
}

impl FilterEngine {
    /// The filter catalogue, as of at most [`generations::RECHECK`] ago for changes made
    /// by other instances (see [`CatalogCache`]).
    pub async fn filter_catalog(&self) -> Result<Catalog> {
        let local = self.local_changes();
        if let Ok(slot) = self.catalog_cache.slot.lock()
            && let Some(kept) = slot.as_ref()
            && kept.local == local
            && kept.confirmed.elapsed() < generations::RECHECK
        {
            return Ok(kept.catalog.clone());
        }
        Ok(self.read_catalog(local).await?.0)
    }

    /// The filter catalogue as of now: the generations read in this call.
    pub async fn current_catalog(&self) -> Result<Catalog> {
        Ok(self.current_catalog_at().await?.0)
    }

    /// [`FilterEngine::current_catalog`] with the generations it was read at.
    pub(crate) async fn current_catalog_at(&self) -> Result<(Catalog, (i64, i64))> {
        let local = self.local_changes();
        self.read_catalog(local).await
    }

    fn local_changes(&self) -> (u64, u64) {
        (self.base.changes.count(), self.plugins.local_changes())
    }

    /// The catalogue and the generations it was read at (a change meanwhile makes the
    /// next read build it again).
    async fn read_catalog(&self, local: (u64, u64)) -> Result<(Catalog, (i64, i64))> {
        let asked = Instant::now();
        let key = read_generations(&self.base.db).await?;
        if let Ok(mut slot) = self.catalog_cache.slot.lock()
            && let Some(kept) = slot.as_mut()
            && kept.generations == key
        {
            kept.confirmed = asked;
            kept.local = local;
            return Ok((kept.catalog.clone(), key));
        }
        let schema = self.schema.list_fields().await?;
        let types = self.schema.type_tree().await?;
        let owners = self
            .users
            .list_users()
            .await?
            .into_iter()
            .map(|u| (u.id, u.email))
            .collect();
        let operators = self.plugins.operators().await?;
        let builtins = self
            .plugins
            .list()
            .await?
            .into_iter()
            .filter(|p| p.builtin)
            .map(|p| p.name)
            .collect();
        let scores = ScoreModel::all(&self.base.db).await?;
        let catalog = Catalog::new(&schema, types, owners, operators, builtins, &scores);
        // Keyed by the generations read before it was built: a change meanwhile makes the
        // next read build it again.
        if let Ok(mut slot) = self.catalog_cache.slot.lock() {
            *slot = Some(Kept {
                generations: key,
                catalog: catalog.clone(),
                confirmed: asked,
                local,
            });
        }
        Ok((catalog, key))
    }
}

/// `(catalog_generation, plugin_generation)` in one round trip.
pub(crate) async fn read_generations(db: &impl sea_orm::ConnectionTrait) -> Result<(i64, i64)> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT (SELECT generation FROM catalog_generation WHERE id = 1), \
             (SELECT generation FROM plugin_generation WHERE id = 1)",
        ))
        .await?;
    let get = |i: usize| -> Result<i64> {
        Ok(row
            .as_ref()
            .map(|r| r.try_get_by_index::<Option<i64>>(i))
            .transpose()?
            .flatten()
            .unwrap_or(0))
    };
    Ok((get(0)?, get(1)?))
}

/// An error at a filter path.
pub(crate) fn at(path: &str, message: impl Into<String>) -> Error {
    Error::invalid(path, message)
}
