use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "pulse_rounds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organisation_id: i64,
    pub question_version: String,
    /// The questionnaire as the round asked it (JSON), so a later version changes nothing here.
    #[sea_orm(column_type = "Text")]
    #[serde(skip)]
    pub questions: String,
    pub opened_by: Option<i64>,
    pub opened_at: DateTimeUtc,
    pub closes_on: Date,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by: Option<i64>,
    pub by_department: bool,
    pub free_text: bool,
    /// JSON array: the departments large enough to be told apart when the round opened.
    #[sea_orm(column_type = "Text")]
    pub departments: String,
    /// Set when the round has an open link (the link is a signature over it, never stored).
    #[serde(skip)]
    pub link_nonce: Option<String>,
    pub invited: i32,
    pub answered_invited: i32,
    pub answered_link: i32,
    /// The frozen result, JSON, from the moment the round closed.
    #[sea_orm(column_type = "Text", nullable)]
    #[serde(skip)]
    pub result: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
