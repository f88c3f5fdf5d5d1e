use sea_orm::entity::prelude::*;

/// One person's answers: no user, no token, no time of day, no address; a random id.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pulse_answers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub round_id: i64,
    pub department: Option<String>,
    pub answered_on: Date,
    #[sea_orm(column_type = "Text")]
    pub answers: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
