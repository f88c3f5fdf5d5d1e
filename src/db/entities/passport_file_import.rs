use sea_orm::entity::prelude::*;
use serde::Serialize;

/// One imported passport file, by the hash of its id: a file imports once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "passport_file_imports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub file_hash: String,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
