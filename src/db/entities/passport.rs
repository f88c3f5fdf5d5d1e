use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "passports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub carer_id: i64,
    pub organisation_id: i64,
    pub current_version: i32,
    pub review_date: Date,
    /// `created` here, or `imported` from a signed file or a transfer code.
    pub origin: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
