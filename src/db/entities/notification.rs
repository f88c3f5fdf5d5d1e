use sea_orm::entity::prelude::*;
use serde::Serialize;

/// A message in a user's in-app inbox.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub organisation_id: Option<i64>,
    pub kind: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub link: Option<String>,
    /// What the message is about (JSON), to write it in the reader's language when read;
    /// `title`/`body` are the texts as first written (the e-mail), kept for older rows.
    #[sea_orm(column_type = "Text", nullable)]
    pub params: Option<String>,
    pub dedupe_key: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
