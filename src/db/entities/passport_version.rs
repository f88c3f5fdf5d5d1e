use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "passport_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub passport_id: i64,
    pub version: i32,
    /// The free text, encrypted (see `services::passport_crypto`); never plain text.
    #[serde(skip)]
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub review_date: Date,
    pub created_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
