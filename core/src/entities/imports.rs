use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub file_name: String,
    pub content: Vec<u8>,
    pub size: i64,
    pub header: Json,
    pub mapping: Option<Json>,
    pub state: String,
    pub dry_run: bool,
    pub rows_done: i64,
    pub bytes_done: i64,
    pub report: Option<Json>,
    pub outcomes: Option<Vec<u8>>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub heartbeat_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
