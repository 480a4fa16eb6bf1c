use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub contact_id: i64,
    pub assignee_id: Option<i64>,
    pub title: String,
    pub body: String,
    pub due_at: Option<DateTimeUtc>,
    /// `open` or `done`.
    pub status: String,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub done_at: Option<DateTimeUtc>,
    /// The effect key of a task a job created: `(job_id, contact_id, effect_index)`.
    pub job_id: Option<i64>,
    pub effect_index: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
