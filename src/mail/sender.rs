//! Delivers the outbox: over SMTP (lettre) when configured, else as .eml files in MAIL_DIR.
//! Each message is claimed just before it is sent, with a lease measured from that moment and a
//! fresh claim token; the outcome is written only while that token still holds, so a slow
//! instance whose lease ran out cannot overwrite the one that took over. Delivery is at least
//! once (a crash after the server accepted and before "sent" was stored sends again); every
//! message carries a Message-ID derived from its row, the same on every try, so receiving
//! systems can drop the repeat.
use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::db::entities::outbox;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// How long a claimed message is left to its sender: well above the bound on one send.
pub fn lease(state: &AppState) -> Duration {
    Duration::seconds(i64::try_from(state.config.smtp_timeout_secs).unwrap_or(3600).saturating_mul(2).max(300))
}

/// Messages one call of `send_due` sends at most (the next tick takes the rest).
const BATCH: usize = 50;

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

/// Why a message did not go out. `permanent`: the server refused it for good (5xx), or it cannot
/// be built; trying again will not help.
#[derive(Debug)]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

impl Transport {
    pub fn from_config(config: &crate::config::Config) -> Result<Transport, String> {
        match &config.smtp_url {
            // lettre's own timeout covers connecting and each read; the whole send is bounded
            // again in `send` (a server that trickles answers would pass the per-read limit).
            Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map(|b| Transport::Smtp(b.timeout(Some(StdDuration::from_secs(config.smtp_timeout_secs))).build()))
                .map_err(|e| format!("SMTP_URL is not usable: {e}")),
            None => {
                std::fs::create_dir_all(&config.mail_dir)
                    .map_err(|e| format!("cannot create MAIL_DIR {}: {e}", config.mail_dir))?;
                Ok(Transport::File(AsyncFileTransport::<Tokio1Executor>::new(&config.mail_dir)))
            }
        }
    }

    async fn send(&self, msg: lettre::Message, limit: StdDuration) -> Result<(), SendError> {
        let transient = |message: String| SendError { permanent: false, message };
        let sent = match self {
            Transport::Smtp(t) => tokio::time::timeout(limit, t.send(msg))
                .await
                .map(|r| r.map(|_| ()).map_err(|e| SendError { permanent: e.is_permanent(), message: e.to_string() })),
            Transport::File(t) => tokio::time::timeout(limit, t.send(msg))
                .await
                .map(|r| r.map(|_| ()).map_err(|e| transient(e.to_string()))),
        };
        sent.unwrap_or_else(|_| Err(transient(format!("no answer from the mail server within {} s", limit.as_secs()))))
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
    /// Given up: refused for good, or out of attempts.
    pub dead: usize,
}

/// The Message-ID of an outbox row: from its id and creation time, so every try of the row
/// carries the same one and no other row (also not in another installation's database) does.
pub fn message_id(state: &AppState, row: &outbox::Model) -> String {
    let domain = state
        .config
        .mail_from
        .parse::<Mailbox>()
        .map(|m| m.email.domain().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("<outbox.{}.{}@{domain}>", row.id, row.created_at.timestamp_micros())
}

fn build(state: &AppState, row: &outbox::Model) -> Result<lettre::Message, SendError> {
    let permanent = |message: String| SendError { permanent: true, message };
    let from: Mailbox = state.config.mail_from.parse().map_err(|e| permanent(format!("MAIL_FROM: {e}")))?;
    let to: Mailbox = row.recipient.parse().map_err(|e| permanent(format!("recipient: {e}")))?;
    lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(message_id(state, row)))
        .multipart(MultiPart::alternative_plain_html(row.body_text.clone(), row.body_html.clone()))
        .map_err(|e| permanent(e.to_string()))
}

fn unsent() -> Condition {
    Condition::all().add(outbox::Column::SentAt.is_null()).add(outbox::Column::DeadAt.is_null())
}

/// Waiting after at least one failed try: every try that did not send is counted in `attempts`
/// (a sent message has `sent_at`), and this reads from an index where `last_error` is stored
/// after the bodies.
pub fn failing() -> Condition {
    unsent().add(outbox::Column::Attempts.gt(0))
}

fn free(now: chrono::DateTime<chrono::Utc>) -> Condition {
    Condition::any().add(outbox::Column::LockedUntil.is_null()).add(outbox::Column::LockedUntil.lt(now))
}

/// Claims one due message: the lease starts now, at the claim, not at the start of a batch.
async fn claim_next(state: &AppState, skip_below: i64) -> AppResult<Option<(outbox::Model, String)>> {
    let now = state.now();
    let candidates = outbox::Entity::find()
        .filter(unsent())
        .filter(outbox::Column::Id.gt(skip_below))
        .filter(outbox::Column::NextAttemptAt.lte(now))
        .filter(free(now))
        .order_by_asc(outbox::Column::Id)
        .limit(5)
        .all(&state.db)
        .await?;
    for row in candidates {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let claimed = outbox::Entity::update_many()
            .col_expr(outbox::Column::LockedUntil, Expr::value(now + lease(state)))
            .col_expr(outbox::Column::ClaimToken, Expr::value(token.clone()))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(unsent())
            .filter(free(now))
            .exec(&state.db)
            .await?;
        if claimed.rows_affected == 1 {
            return Ok(Some((row, token)));
        }
        // another instance has it; try the next
    }
    Ok(None)
}

/// Sends what is due now, one claimed message at a time; returns what happened.
pub async fn send_due(state: &AppState, transport: &Transport) -> AppResult<Report> {
    send_due_while(state, transport, || true).await
}

/// `send_due`, taking a next message only while `go_on()`: a stopping service finishes the
/// message in hand (bounded by `SMTP_TIMEOUT_SECS`) and claims no more.
async fn send_due_while(state: &AppState, transport: &Transport, go_on: impl Fn() -> bool) -> AppResult<Report> {
    let limit = StdDuration::from_secs(state.config.smtp_timeout_secs.max(1));
    let mut report = Report::default();
    let mut last = 0;
    for _ in 0..BATCH {
        if !go_on() {
            break;
        }
        let Some((row, token)) = claim_next(state, last).await? else { break };
        last = row.id;
        let result = match build(state, &row) {
            Ok(msg) => transport.send(msg, limit).await,
            Err(e) => Err(e),
        };
        // Fenced on the claim: if the lease ran out and someone else took the row, leave it.
        let update = outbox::Entity::update_many()
            .filter(outbox::Column::Id.eq(row.id))
            .filter(outbox::Column::ClaimToken.eq(token))
            .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
            .col_expr(outbox::Column::ClaimToken, Expr::value(Option::<String>::None))
            .col_expr(outbox::Column::Attempts, Expr::value(row.attempts + 1));
        let held = match result {
            Ok(()) => {
                report.sent += 1;
                update.col_expr(outbox::Column::SentAt, Expr::value(state.now())).exec(&state.db).await?
            }
            Err(e) if e.permanent || row.attempts + 1 >= state.config.mail_max_attempts => {
                tracing::error!(outbox = row.id, to = %row.recipient, error = %e.message, "mail given up; see the operator's jobs page");
                report.dead += 1;
                update
                    .col_expr(outbox::Column::DeadAt, Expr::value(state.now()))
                    .col_expr(outbox::Column::LastError, Expr::value(e.message))
                    .exec(&state.db)
                    .await?
            }
            Err(e) => {
                tracing::warn!(outbox = row.id, to = %row.recipient, error = %e.message, "mail not delivered; will retry");
                report.failed += 1;
                update
                    .col_expr(outbox::Column::NextAttemptAt, Expr::value(state.now() + backoff(row.attempts)))
                    .col_expr(outbox::Column::LastError, Expr::value(e.message))
                    .exec(&state.db)
                    .await?
            }
        };
        if held.rows_affected != 1 {
            tracing::warn!(outbox = row.id, "mail claim was lost to another instance before the outcome was stored");
        }
    }
    Ok(report)
}

/// Mail as /health reports it: `ok` is false while messages fail or lie dead.
#[derive(Debug, serde::Serialize)]
pub struct MailHealth {
    pub ok: bool,
    /// Not sent yet (dead mail not counted).
    pub waiting: u64,
    /// Waiting after at least one failed try.
    pub failing: u64,
    /// Given up, waiting for the operator.
    pub dead: u64,
}

pub async fn health(state: &AppState) -> AppResult<MailHealth> {
    use sea_orm::PaginatorTrait;
    let waiting = outbox::Entity::find().filter(unsent()).count(&state.db).await?;
    let failing = outbox::Entity::find().filter(failing()).count(&state.db).await?;
    let dead = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::DeadAt.is_not_null())
        .count(&state.db)
        .await?;
    Ok(MailHealth { ok: failing == 0 && dead == 0, waiting, failing, dead })
}

/// The background worker: checks the outbox every `interval` until the process ends.
/// Sends due mail every `interval` until `stop` turns true.
pub async fn run(
    state: AppState,
    transport: Transport,
    interval: StdDuration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    // The first run one interval after start, not at once: a start is not a reason to send, and
    // a test can then queue mail before any sender of the app looks.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|stopping| *stopping) => break,
        }
        match send_due_while(&state, &transport, || !*stop.borrow()).await {
            Ok(r) if r.sent + r.failed + r.dead > 0 => {
                tracing::info!(sent = r.sent, failed = r.failed, dead = r.dead, "outbox")
            }
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
