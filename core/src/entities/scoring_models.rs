use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scoring_models")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub name: String,
    /// `person` or `company`.
    pub kind: String,
    /// Parameters and bands (`crate::scoring::model::Definition`).
    pub definition: Json,
    pub version: i64,
    pub time_dependent: bool,
    /// `ready`, `rescoring` or `needs_attention`.
    pub status: String,
    pub status_message: Option<String>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub lease_until: Option<DateTimeUtc>,
    pub rescored_at: Option<DateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
