use sea_orm::entity::prelude::*;
use serde::Serialize;

/// What the portfolio sorts and filters by, per organisation (kept by `services::progress`).
/// No nulls, so that keyset paging compares plainly: the far-future sentinels of
/// `services::progress` stand for "nothing waiting" and "no recognition".
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "organisation_figures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: i64,
    /// The organisation's name, beside the figures so that each sort is one index (figure, name, id).
    pub name: String,
    /// Done items of all pillars, in percent of all pillar items.
    pub percent: i32,
    /// Items waiting for review.
    pub waiting: i32,
    /// Since when the oldest of them waits.
    pub waiting_since: DateTimeUtc,
    /// The latest recognition's end.
    pub valid_until: Date,
    /// The latest recognition is neither revoked nor replaced by a renewal.
    pub live: bool,
    /// Advisors assigned (0: the operator's unassigned list).
    pub advisors: i32,
    /// An application for recognition waits for a decision.
    pub application_pending: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
}

impl ActiveModelBehavior for ActiveModel {}
