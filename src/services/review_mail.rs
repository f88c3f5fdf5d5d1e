//! Telling advisors what waits for them. Submissions that come in a short time reach an advisor as
//! one message: the first one is held for a while, and later ones are written into it while it
//! waits; once it is on its way, the next submission starts a new one.
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::assessment::status_of;
use crate::db::entities::{advisor_assignment, item, organisation, outbox, user};
use crate::domain::workflow::ItemStatus;
use crate::error::AppResult;
use crate::mail;
use crate::state::AppState;
use minijinja::value::Serde;

/// How long the first submission waits for others to join it.
pub const BUNDLE_WINDOW: Duration = Duration::minutes(10);

/// An item's text cut to fit a subject line.
pub fn short(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX - 1).collect();
    format!("{}…", cut.trim_end())
}

#[derive(Serialize)]
struct Line {
    organisation: String,
    item: String,
    short: String,
    status: String,
    link: String,
}

/// Queues (or grows) the message to each advisor of `org` about what was submitted.
pub async fn submitted(db: &impl ConnectionTrait, state: &AppState, org: i64, now: DateTime<Utc>) -> AppResult<()> {
    for advisor in super::organisations::advisors_of(db, org).await? {
        if advisor.active {
            queue_for(db, state, &advisor, now).await?;
        }
    }
    Ok(())
}

async fn queue_for(
    db: &impl ConnectionTrait,
    state: &AppState,
    advisor: &user::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let prefix = format!("review-waiting:{}:", advisor.id);
    let waiting = outbox::Entity::find()
        .filter(outbox::Column::DedupeKey.starts_with(&prefix))
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::LockedUntil.is_null())
        .filter(outbox::Column::NextAttemptAt.gt(now + Duration::seconds(30)))
        .order_by_desc(outbox::Column::Id)
        .one(db)
        .await?;
    let since = waiting.as_ref().map(|w| w.created_at).unwrap_or(now);
    let lang = crate::web::i18n::normalise(Some(&advisor.locale));
    let items = lines(db, state, advisor.id, since, lang).await?;
    if items.is_empty() {
        return Ok(());
    }
    let message = |items: &[Line]| mail::Message {
        template: "review_waiting",
        to: &advisor.email,
        lang,
        context: minijinja::context! {
            name => Serde(advisor.name.clone()), items => Serde(items), queue_link => format!("{}/review", state.public_url()),
        },
        dedupe_key: Some(format!("{prefix}{}", now.timestamp_micros())),
    };
    if let Some(w) = waiting
        && mail::rewrite_unsent(db, state, w.id, message(&items)).await?
    {
        return Ok(());
    }
    // A new message: only what came in from now on (the earlier ones are on their way).
    let fresh = if since == now { items } else { lines(db, state, advisor.id, now, lang).await? };
    mail::enqueue_at(db, state, message(&fresh), now + BUNDLE_WINDOW).await
}

/// The items of the advisor's organisations that wait for review and were submitted at or after
/// `since`, oldest first.
async fn lines(
    db: &impl ConnectionTrait,
    state: &AppState,
    advisor_id: i64,
    since: DateTime<Utc>,
    lang: &str,
) -> AppResult<Vec<Line>> {
    let orgs: Vec<i64> = advisor_assignment::Entity::find()
        .filter(advisor_assignment::Column::AdvisorId.eq(advisor_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.organisation_id)
        .collect();
    let rows = item::Entity::find()
        .filter(item::Column::OrganisationId.is_in(orgs))
        .filter(item::Column::Status.is_in(ItemStatus::WAITING.map(ItemStatus::as_str)))
        .filter(item::Column::StatusChangedAt.gte(since))
        .order_by_asc(item::Column::StatusChangedAt)
        .order_by_asc(item::Column::Id)
        .all(db)
        .await?;
    let mut out = vec![];
    for r in rows {
        let org =
            organisation::Entity::find_by_id(r.organisation_id).one(db).await?.map(|o| o.name).unwrap_or_default();
        let text = state
            .checklists
            .get(&r.checklist_key)
            .and_then(|l| l.item(&r.item_key))
            .map(|d| d.text.get(lang).to_string())
            .unwrap_or_else(|| r.item_key.clone());
        out.push(Line {
            organisation: org,
            short: short(&text),
            item: text,
            status: state.translations.get(lang, &format!("status.{}", status_of(&r).as_str())).to_string(),
            link: format!("{}/items/{}", state.public_url(), r.id),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_item_texts_are_cut_for_the_subject_line() {
        assert_eq!(short("Kort punt"), "Kort punt");
        let long = "Er is een mantelzorgbeleid dat is besproken met de ondernemingsraad en de leidinggevenden";
        let s = short(long);
        assert!(s.ends_with('…') && s.chars().count() <= 60, "{s}");
    }
}
