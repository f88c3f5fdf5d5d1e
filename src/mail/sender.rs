//! Delivers the outbox: over SMTP (lettre) when configured, else as .eml files in MAIL_DIR.
//! Each row is claimed before sending, so several instances never send one message twice;
//! a failure is retried with growing pauses and stays visible in the table.
use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::entities::outbox;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Transport {
    pub fn from_config(config: &crate::config::Config) -> Result<Transport, String> {
        match &config.smtp_url {
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| Transport::Smtp(b.timeout(Some(StdDuration::from_secs(20))).build()))
                .map_err(|e| format!("SMTP_URL is not usable: {e}")),
            None => {
                std::fs::create_dir_all(&config.mail_dir)
                    .map_err(|e| format!("cannot create MAIL_DIR {}: {e}", config.mail_dir))?;
                Ok(Transport::File(AsyncFileTransport::<Tokio1Executor>::new(&config.mail_dir)))
            }
        }
    }

    async fn send(&self, msg: lettre::Message) -> Result<(), String> {
        match self {
            Transport::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::File(t) => t.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// Pause before the next try: 30 s, 1, 2, 4 ... minutes, at most 1 hour.
pub fn backoff(attempts: i32) -> Duration {
    let secs = 30i64.saturating_mul(1i64 << attempts.clamp(0, 7));
    Duration::seconds(secs.min(3600))
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub failed: usize,
}

fn build(state: &AppState, row: &outbox::Model) -> Result<lettre::Message, String> {
    let from: Mailbox = state.config.mail_from.parse().map_err(|e| format!("MAIL_FROM: {e}"))?;
    let to: Mailbox = row.recipient.parse().map_err(|e| format!("recipient: {e}"))?;
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .multipart(MultiPart::alternative_plain_html(row.body_text.clone(), row.body_html.clone()))
        .map_err(|e| e.to_string())
}

/// Sends what is due now; returns how many went out and how many failed.
pub async fn send_due(state: &AppState, transport: &Transport) -> AppResult<Report> {
    let now = state.now();
    let free = Condition::any().add(outbox::Column::LockedUntil.is_null()).add(outbox::Column::LockedUntil.lt(now));
    let due = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(free.clone())
        .order_by_asc(outbox::Column::Id)
        .limit(50)
        .all(&state.db)
        .await?;
    let mut report = Report::default();
    for row in due {
        let claimed = outbox::Entity::update_many()
            .col_expr(outbox::Column::LockedUntil, Expr::value(now + Duration::minutes(2)))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::SentAt.is_null())
            .filter(free.clone())
            .exec(&state.db)
            .await?;
        if claimed.rows_affected != 1 {
            continue; // another instance has it
        }
        let result = match build(state, &row) {
            Ok(msg) => transport.send(msg).await,
            Err(e) => Err(e),
        };
        let update = outbox::Entity::update_many().filter(outbox::Column::Id.eq(row.id));
        match result {
            Ok(()) => {
                update
                    .col_expr(outbox::Column::SentAt, Expr::value(state.now()))
                    .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
                    .col_expr(outbox::Column::Attempts, Expr::value(row.attempts + 1))
                    .exec(&state.db)
                    .await?;
                report.sent += 1;
            }
            Err(e) => {
                tracing::warn!(outbox = row.id, to = %row.recipient, error = %e, "mail not delivered; will retry");
                update
                    .col_expr(outbox::Column::Attempts, Expr::value(row.attempts + 1))
                    .col_expr(outbox::Column::NextAttemptAt, Expr::value(state.now() + backoff(row.attempts)))
                    .col_expr(outbox::Column::LastError, Expr::value(e))
                    .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
                    .exec(&state.db)
                    .await?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// The background worker: checks the outbox every `interval` until the process ends.
pub async fn run(state: AppState, transport: Transport, interval: StdDuration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match send_due(&state, &transport).await {
            Ok(r) if r.sent + r.failed > 0 => tracing::info!(sent = r.sent, failed = r.failed, "outbox"),
            Ok(_) => {}
            Err(AppError::Db(e)) => tracing::warn!(error = %e, "outbox: database not reachable"),
            Err(e) => tracing::warn!(error = %e, "outbox"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(0).num_seconds(), 30);
        assert_eq!(backoff(1).num_seconds(), 60);
        assert_eq!(backoff(20).num_seconds(), 3600);
    }
}
