//! The generation counters every instance compares to know that what it prepared is out
//! of date: `catalog_generation` (field definitions, contact types, users: what filters
//! refer to) and `plugin_generation` (the enabled plugins). Bumped in the transaction of
//! the change; read by the segments' book (see `segments::maintain`).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::Result;
use crate::entities::catalog_generation;

/// Marks a bump of `catalog_generation`: fields, types or users changed, so the segment
/// filters every instance holds prepared must be prepared again.
pub async fn catalog_changed(db: &impl ConnectionTrait) -> Result<()> {
    catalog_generation::Entity::update_many()
        .col_expr(
            catalog_generation::Column::Generation,
            Expr::col(catalog_generation::Column::Generation).add(1),
        )
        .filter(catalog_generation::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}
