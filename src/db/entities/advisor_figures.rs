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

impl Model {
    /// The sums of an advisor with nothing assigned (who has no row).
    pub fn nothing(advisor_id: i64) -> Model {
        Model { advisor_id, organisations: 0, waiting: 0, organisations_waiting: 0 }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
