//! Limits per account and per e-mail address. They live in the database, so they hold however
//! many instances serve the requests (the limits per client address are in `http::rate_limit`).
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use super::crypto::hash_token;
use crate::db::entities::{login_throttle, one_time_token};
use crate::error::{AppError, AppResult};

/// Login attempts per typed address in one window; the next one waits for the window to end,
/// even with the right password (else guessing would simply go on).
pub const LOGIN_ATTEMPTS: i32 = 5;
pub const LOGIN_WINDOW_MINUTES: i64 = 15;
/// Password-reset mails per account per hour; more requests are answered the same way but send
/// nothing (the answer must not tell whether an account exists).
pub const RESET_MAILS_PER_HOUR: u64 = 3;
/// Invitations to one address per day, across all organisations.
pub const INVITATIONS_PER_DAY: u64 = 3;

pub(crate) fn login_key(email: &str) -> String {
    hash_token(&format!("login:{}", email.trim().to_lowercase()))
}

fn too_many(until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    AppError::TooManyRequests { retry_after: u64::try_from(Ord::max((until - now).num_seconds(), 1)).unwrap_or(1) }
}

/// Counts a login attempt for the typed address before the password is checked, so parallel
/// guesses count too; refuses once the window's attempts are used up.
pub async fn count_login_attempt(db: &impl ConnectionTrait, email: &str, now: DateTime<Utc>) -> AppResult<()> {
    let key = login_key(email);
    let window = Duration::minutes(LOGIN_WINDOW_MINUTES);
    let counted = login_throttle::Entity::update_many()
        .col_expr(login_throttle::Column::Attempts, Expr::col(login_throttle::Column::Attempts).add(1))
        .filter(login_throttle::Column::Key.eq(key.as_str()))
        .filter(login_throttle::Column::WindowStart.gt(now - window))
        .exec(db)
        .await?;
    if counted.rows_affected == 0 {
        // First attempt, or the last window is over: a new window starts with this attempt.
        let fresh = login_throttle::ActiveModel { key: Set(key), attempts: Set(1), window_start: Set(now) };
        login_throttle::Entity::insert(fresh)
            .on_conflict(
                OnConflict::column(login_throttle::Column::Key)
                    .update_columns([login_throttle::Column::Attempts, login_throttle::Column::WindowStart])
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        return Ok(());
    }
    match login_throttle::Entity::find_by_id(key).one(db).await? {
        Some(row) if row.attempts > LOGIN_ATTEMPTS => Err(too_many(row.window_start + window, now)),
        _ => Ok(()),
    }
}

/// A successful login or a password reset ends the count.
pub async fn clear_login_attempts(db: &impl ConnectionTrait, email: &str) -> AppResult<()> {
    login_throttle::Entity::delete_many().filter(login_throttle::Column::Key.eq(login_key(email))).exec(db).await?;
    Ok(())
}

/// Whether another reset mail may go to this account now.
pub async fn reset_mail_allowed(db: &impl ConnectionTrait, user_id: i64, now: DateTime<Utc>) -> AppResult<bool> {
    let recent = one_time_token::Entity::find()
        .filter(one_time_token::Column::Purpose.eq("reset"))
        .filter(one_time_token::Column::UserId.eq(user_id))
        .filter(one_time_token::Column::CreatedAt.gt(now - Duration::hours(1)))
        .count(db)
        .await?;
    Ok(recent < RESET_MAILS_PER_HOUR)
}

/// Refuses a new invitation to an address that had its share today.
pub async fn check_invitation(db: &impl ConnectionTrait, email: &str, now: DateTime<Utc>) -> AppResult<()> {
    let since = now - Duration::days(1);
    let recent = one_time_token::Entity::find()
        .filter(one_time_token::Column::Purpose.eq("invitation"))
        .filter(one_time_token::Column::Email.eq(email))
        .filter(one_time_token::Column::CreatedAt.gt(since))
        .order_by_asc(one_time_token::Column::CreatedAt)
        .all(db)
        .await?;
    if recent.len() as u64 >= INVITATIONS_PER_DAY
        && let Some(oldest) = recent.first()
    {
        return Err(too_many(oldest.created_at + Duration::days(1), now));
    }
    Ok(())
}
