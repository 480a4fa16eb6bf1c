use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plugins")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub version: String,
    pub kind: String,
    pub description: String,
    pub builtin: bool,
    pub enabled: bool,
    pub capabilities: Json,
    pub approved_capabilities: Json,
    /// What an admin granted beyond the default limits (`plugin::limits::Grant`); NULL: none.
    pub limits: Option<Json>,
    pub offers: Json,
    pub sha256: String,
    pub size: i64,
    pub wasm: Option<Vec<u8>>,
    pub installed_by: Option<String>,
    pub installed_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
