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
        next_attempt_at: Set(now - Duration::seconds(1)),
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

pub use crate::error::is_unique_violation;
