use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "recognitions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub application_id: i64,
    pub number: String,
    pub verification_code: String,
    pub granted_by: i64,
    pub granted_at: DateTimeUtc,
    pub valid_from: Date,
    pub valid_until: Date,
    #[sea_orm(column_type = "Text")]
    pub checklist_versions: String,
    pub going_ahead_complete: bool,
    pub standing: String,
    pub renewed_by_id: Option<i64>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub revoked_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
