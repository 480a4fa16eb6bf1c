use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `plugin.action`.
    pub action: String,
    pub params: Option<Json>,
    pub dry_run: bool,
    /// What was targeted: `{"segment": id}`, `{"contact_ids": n}` or `{"filter", "q"}`.
    pub source: Json,
    pub state: String,
    pub reason: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// The job's time (Unix seconds), the clock its plugin calls see.
    pub run_at: i64,
    pub total: i64,
    pub done: i64,
    pub failed: i64,
    pub skipped: i64,
    pub effects: i64,
    /// Effects by kind: `{"create_task": n, ...}`.
    pub effect_counts: Json,
    /// The last target id whose batch committed.
    pub checkpoint: i64,
    pub lease_until: Option<DateTimeUtc>,
    pub lease_owner: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
