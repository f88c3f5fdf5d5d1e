//! The audit log: who changed what, when. Written in the same transaction as the change.
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};

use crate::db::entities::audit_log;

pub struct Entry<'a> {
    pub actor_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub action: &'a str,
    pub subject: String,
    pub detail: Option<String>,
}

pub async fn record(db: &impl ConnectionTrait, now: chrono::DateTime<chrono::Utc>, e: Entry<'_>) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        actor_id: Set(e.actor_id),
        organisation_id: Set(e.organisation_id),
        action: Set(e.action.to_string()),
        subject: Set(e.subject),
        detail: Set(e.detail),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(|_| ())
}
