use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub type_id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub company_id: Option<i64>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub postal_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub owner_id: Option<i64>,
    pub do_not_contact: bool,
    pub score: Option<f64>,
    pub score_band: Option<String>,
    pub fields: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i64,
    // Derived from the columns above on every write (`crate::contacts::derived`): the
    // folded form of each text column, of the text extra fields, and the search words.
    pub name_folded: Option<String>,
    pub email_folded: Option<String>,
    pub phone_folded: Option<String>,
    pub position_folded: Option<String>,
    pub street_folded: Option<String>,
    pub city_folded: Option<String>,
    pub region_folded: Option<String>,
    pub country_folded: Option<String>,
    pub postal_code_folded: Option<String>,
    pub fields_folded: Json,
    pub search_doc: String,
    // The collation keys of the sortable text columns (`crate::collation`), written with
    // the folded columns; NULL only on rows older than the columns, until start-up fills them.
    pub name_sort: Option<Vec<u8>>,
    pub city_sort: Option<Vec<u8>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::contact_types::Entity",
        from = "Column::TypeId",
        to = "super::contact_types::Column::Id"
    )]
    ContactType,
}

impl Related<super::contact_types::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ContactType.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
