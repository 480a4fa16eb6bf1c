use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "segments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub filter: Option<Json>,
    pub status: String,
    pub status_message: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
    /// Candidates a running rebuild has decided, of `progress_total`.
    pub progress_done: i64,
    pub progress_total: i64,
    /// Until when the instance running a rebuild holds it.
    pub lease_until: Option<DateTimeUtc>,
    /// What the members were last decided against (`segments::jobs::Evaluated`).
    pub evaluated: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
