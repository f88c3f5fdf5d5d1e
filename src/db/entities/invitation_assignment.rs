use sea_orm::entity::prelude::*;

/// An organisation an invited advisor will look after once they accept the invitation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub invitation_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
