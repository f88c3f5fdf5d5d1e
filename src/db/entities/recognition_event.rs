use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "recognition_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub recognition_id: i64,
    pub event: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub actor_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
