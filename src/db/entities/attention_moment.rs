use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A recurring attention moment an organisation added itself.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "attention_moments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub rule: String,
    pub recipients: String,
    pub active: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
