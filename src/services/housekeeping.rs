//! The daily purge (job `housekeeping`): sessions and one-time links that can no longer be used,
//! mail that went out, finished job runs and passport read-log entries past their retention.
//! Audit log, evidence and passports are kept: they are the record.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::config::Config;
use crate::db::entities::{job_run, one_time_token, outbox, passport_access, session};
use crate::error::AppResult;

fn days_before(now: DateTime<Utc>, days: u32) -> DateTime<Utc> {
    now - Duration::days(i64::from(days))
}

/// Removes what is past retention; returns how many rows went.
pub async fn purge(db: &impl ConnectionTrait, config: &Config, now: DateTime<Utc>) -> AppResult<usize> {
    let mut removed = 0;
    removed += session::Entity::delete_many().filter(session::Column::ExpiresAt.lt(now)).exec(db).await?.rows_affected;
    let tokens = days_before(now, config.retention_tokens_days);
    removed += one_time_token::Entity::delete_many()
        .filter(
            Condition::any()
                .add(one_time_token::Column::UsedAt.lt(tokens))
                .add(one_time_token::Column::ExpiresAt.lt(tokens)),
        )
        .exec(db)
        .await?
        .rows_affected;
    removed += outbox::Entity::delete_many()
        .filter(outbox::Column::SentAt.lt(days_before(now, config.retention_sent_mail_days)))
        .exec(db)
        .await?
        .rows_affected;
    removed += job_run::Entity::delete_many()
        .filter(job_run::Column::FinishedAt.lt(days_before(now, config.retention_job_runs_days)))
        .exec(db)
        .await?
        .rows_affected;
    removed += passport_access::Entity::delete_many()
        .filter(passport_access::Column::CreatedAt.lt(days_before(now, config.retention_read_log_days)))
        .exec(db)
        .await?
        .rows_affected;
    tracing::info!(removed, "housekeeping");
    Ok(usize::try_from(removed).unwrap_or(usize::MAX))
}
