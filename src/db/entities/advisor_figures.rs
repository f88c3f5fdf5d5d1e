use sea_orm::entity::prelude::*;
use serde::Serialize;

/// Per advisor, the sums over the organisations they look after that their pages show (kept by
/// `services::progress`; no row means nothing assigned).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "advisor_figures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub advisor_id: i64,
    /// Organisations assigned.
    pub organisations: i32,
    /// Items waiting for review in them.
    pub waiting: i32,
    /// Those with an item or an application waiting (the portfolio's "waiting" filter).
    pub organisations_waiting: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
