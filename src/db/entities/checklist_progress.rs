use sea_orm::entity::prelude::*;
use serde::Serialize;

/// An organisation's items of one checklist, counted by status (kept by `services::progress`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "checklist_progress")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub checklist_key: String,
    /// The checklist version counted against: another version at start means a recount.
    pub checklist_version: String,
    pub total: i32,
    pub done: i32,
    pub awaiting_review: i32,
    pub changes_requested: i32,
    pub in_progress: i32,
    pub open: i32,
    pub due: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
