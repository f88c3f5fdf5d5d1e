use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "advisor_assignments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub advisor_id: i64,
    pub organisation_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation_figures::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation_figures::Column::OrganisationId"
    )]
    Figures,
}

impl ActiveModelBehavior for ActiveModel {}
