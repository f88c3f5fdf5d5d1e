use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "passport_access_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub passport_id: i64,
    pub reader_id: i64,
    pub reader_side: String,
    pub action: String,
    pub channel: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
