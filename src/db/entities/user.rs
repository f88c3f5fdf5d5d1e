use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    #[serde(skip)]
    #[sea_orm(column_type = "Text", nullable)]
    pub password_hash: Option<String>,
    pub locale: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub last_login_at: Option<DateTimeUtc>,
    /// When this person's name and address were erased on request; the row stays so history
    /// still points somewhere ("former member").
    pub erased_at: Option<DateTimeUtc>,
    /// Changes whenever the advisor's assignments change (see `accounts::AssignmentCache`).
    #[serde(skip)]
    pub assignments_version: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Entity {
    /// An active user by id, or "not found".
    pub async fn find_by_id_active(db: &impl ConnectionTrait, id: i64) -> Result<Model, crate::error::AppError> {
        Entity::find_by_id(id).one(db).await?.filter(|u| u.active).ok_or(crate::error::AppError::NotFound)
    }
}
