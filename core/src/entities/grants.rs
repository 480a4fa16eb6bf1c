use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub user_id: Option<i64>,
    pub role: Option<String>,
    pub level: String,
    pub created_at: DateTimeUtc,
    /// The effect key of a grant a job gave: `(job_id, contact_id, effect_index)`.
    pub job_id: Option<i64>,
    pub effect_index: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
