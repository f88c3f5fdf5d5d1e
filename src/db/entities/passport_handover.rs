use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "passport_handovers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub passport_id: i64,
    pub from_manager_id: Option<i64>,
    pub to_manager_id: Option<i64>,
    pub by_id: i64,
    pub reason: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
