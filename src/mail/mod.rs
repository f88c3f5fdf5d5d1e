//! E-mail: messages are rendered from `templates/email/` (text and HTML, Dutch and English) into
//! the outbox table, in the same transaction as the change they report. The sender delivers them
//! later, so a mail server that is down loses nothing.
pub mod sender;

use chrono::Duration;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::db::entities::outbox;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub struct Message<'a> {
    /// Base name in `templates/email/`: `{template}.txt` and `{template}.html`; the subject is
    /// the translation `email.{template}.subject`.
    pub template: &'a str,
    pub to: &'a str,
    pub lang: &'a str,
    pub context: minijinja::Value,
    /// Messages with the same key are queued once (for recurring reminders).
    pub dedupe_key: Option<String>,
}

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub fn render(state: &AppState, msg: &Message<'_>) -> AppResult<Rendered> {
    let lang = crate::web::i18n::normalise(Some(msg.lang));
    let ctx = minijinja::context! { lang => lang, base_url => state.public_url(), ..msg.context.clone() };
    let render = |name: String| -> AppResult<String> {
        state
            .templates
            .get_template(&name)
            .and_then(|t| t.render(&ctx))
            .map_err(|e| AppError::internal(format!("{name}: {e:#}")))
    };
    let subject_template = state.translations.get(lang, &format!("email.{}.subject", msg.template)).to_string();
    let subject = state
        .templates
        .render_str(&subject_template, &ctx)
        .map_err(|e| AppError::internal(format!("subject of {}: {e}", msg.template)))?;
    Ok(Rendered {
        subject,
        text: render(format!("email/{}.txt", msg.template))?,
        html: render(format!("email/{}.html", msg.template))?,
    })
}

/// Queues a message. With a dedupe key that was queued before, nothing happens.
pub async fn enqueue(db: &impl ConnectionTrait, state: &AppState, msg: Message<'_>) -> AppResult<()> {
    let now = state.now();
    enqueue_at(db, state, msg, now - Duration::seconds(1)).await
}

/// Queues a message that is not sent before `send_at` (a bundle that may still grow).
pub async fn enqueue_at(
    db: &impl ConnectionTrait,
    state: &AppState,
    msg: Message<'_>,
    send_at: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let r = render(state, &msg)?;
    let now = state.now();
    let row = outbox::ActiveModel {
        recipient: Set(msg.to.to_string()),
        subject: Set(r.subject),
        body_text: Set(r.text),
        body_html: Set(r.html),
        dedupe_key: Set(msg.dedupe_key.clone()),
        attempts: Set(0),
        created_at: Set(now),
        next_attempt_at: Set(send_at),
        locked_until: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        claim_token: Set(None),
        dead_at: Set(None),
        ..Default::default()
    };
    // A repeat of a dedupe key is skipped by the database, not caught as an error: on PostgreSQL
    // an error would abort the caller's transaction.
    outbox::Entity::insert(row)
        .on_conflict(OnConflict::column(outbox::Column::DedupeKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Writes a queued message anew while it is still held back (not due within half a minute, so no
/// sender can have read it yet); false when that is no longer so.
pub async fn rewrite_unsent(db: &impl ConnectionTrait, state: &AppState, id: i64, msg: Message<'_>) -> AppResult<bool> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    let r = render(state, &msg)?;
    let done = outbox::Entity::update_many()
        .col_expr(outbox::Column::Subject, Expr::value(r.subject))
        .col_expr(outbox::Column::BodyText, Expr::value(r.text))
        .col_expr(outbox::Column::BodyHtml, Expr::value(r.html))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::LockedUntil.is_null())
        .filter(outbox::Column::Attempts.eq(0))
        .filter(outbox::Column::NextAttemptAt.gt(state.now() + Duration::seconds(30)))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

pub use crate::error::is_unique_violation;
