//! Notifications: every reminder lands in the recipient's in-app inbox and, unless they chose
//! otherwise (and their role allows it), in the outbox for e-mail. Both carry the same dedupe
//! key, so a reminder is stored and sent once however often a job looks at it.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::Serialize;

use crate::db::connect::write_txn;
use crate::db::entities::{notification, reminder_preference, user};
use crate::db::page::{self as keyset, Keyset};
use crate::domain::page::{Order, Page, PageRequest};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::mail;
use crate::state::AppState;
use minijinja::value::Serde;

/// The kinds of reminder, each with its texts `reminder.<kind>.title` / `.body`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DayOfCarers,
    AppraisalCycle,
    ManagerBriefing,
    HandbookCheck,
    EvidenceLapsing,
    ItemDue,
    RecognitionExpiry,
    AdvisorDigest,
    CustomMoment,
    /// A carer's passport moved to another manager: the carer is always told.
    PassportHandover,
    /// The advisor decided on an item (accepted, not applicable, changes requested).
    ItemDecision,
    /// Ahead of the Dag van de Mantelzorg: time for this year's employee pulse.
    PulseSuggested,
    /// A pulse round reached its closing date and closed.
    PulseClosed,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::DayOfCarers,
        Kind::AppraisalCycle,
        Kind::ManagerBriefing,
        Kind::HandbookCheck,
        Kind::EvidenceLapsing,
        Kind::ItemDue,
        Kind::RecognitionExpiry,
        Kind::AdvisorDigest,
        Kind::CustomMoment,
        Kind::PassportHandover,
        Kind::ItemDecision,
        Kind::PulseSuggested,
        Kind::PulseClosed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DayOfCarers => "day_of_carers",
            Kind::AppraisalCycle => "appraisal_cycle",
            Kind::ManagerBriefing => "manager_briefing",
            Kind::HandbookCheck => "handbook_check",
            Kind::EvidenceLapsing => "evidence_lapsing",
            Kind::ItemDue => "item_due",
            Kind::RecognitionExpiry => "recognition_expiry",
            Kind::AdvisorDigest => "advisor_digest",
            Kind::CustomMoment => "custom_moment",
            Kind::PassportHandover => "passport_handover",
            Kind::ItemDecision => "item_decision",
            Kind::PulseSuggested => "pulse_suggested",
            Kind::PulseClosed => "pulse_closed",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Reminders a role cannot turn off by e-mail: the ones the role is there for.
    pub fn required_for(self, role: Role) -> bool {
        matches!(
            (role, self),
            (Role::HrLead, Kind::RecognitionExpiry | Kind::ItemDue | Kind::ItemDecision)
                | (Role::Manager, Kind::ManagerBriefing)
                | (_, Kind::PassportHandover)
        )
    }

    /// The kinds a role can receive at all (for the preferences form).
    pub fn for_role(role: Role) -> Vec<Kind> {
        use Kind as K;
        match role {
            Role::HrLead => vec![
                K::ItemDecision,
                K::DayOfCarers,
                K::AppraisalCycle,
                K::HandbookCheck,
                K::EvidenceLapsing,
                K::ItemDue,
                K::RecognitionExpiry,
                K::CustomMoment,
                K::PulseSuggested,
                K::PulseClosed,
            ],
            Role::Manager => vec![K::AppraisalCycle, K::ManagerBriefing, K::EvidenceLapsing, K::CustomMoment],
            Role::Advisor => vec![K::AdvisorDigest, K::RecognitionExpiry],
            Role::Director | Role::Employee => vec![K::EvidenceLapsing, K::CustomMoment],
            Role::Operator => vec![],
        }
    }
}

/// One reminder for one person.
pub struct Notice<'a> {
    pub to: &'a user::Model,
    pub kind: Kind,
    pub organisation_id: Option<i64>,
    /// Values for the texts (`organisation`, `item`, `days`, ...).
    pub params: minijinja::Value,
    pub link: Option<String>,
    /// Same key, same reminder: stored and sent once.
    pub dedupe_key: String,
}

fn text(state: &AppState, lang: &str, key: &str, params: &minijinja::Value) -> AppResult<String> {
    let template = state.translations.get(lang, key).to_string();
    let ctx = minijinja::context! { lang => lang, ..params.clone() };
    state.templates.render_str(&template, ctx).map_err(|e| AppError::internal(format!("{key}: {e}")))
}

/// A message's title and body in `lang`, from what it is about.
fn texts(state: &AppState, lang: &str, kind: &str, params: &minijinja::Value) -> AppResult<(String, String)> {
    Ok((
        text(state, lang, &format!("reminder.{kind}.title"), params)?,
        text(state, lang, &format!("reminder.{kind}.body"), params)?,
    ))
}

async fn wants_email(db: &impl ConnectionTrait, u: &user::Model, kind: Kind) -> AppResult<bool> {
    if Role::parse(&u.role).is_some_and(|r| kind.required_for(r)) {
        return Ok(true);
    }
    let pref = reminder_preference::Entity::find()
        .filter(reminder_preference::Column::UserId.eq(u.id))
        .filter(reminder_preference::Column::Kind.eq(kind.as_str()))
        .one(db)
        .await?;
    Ok(pref.is_none_or(|p| p.email))
}

/// Stores the reminder in the inbox and queues its e-mail. Returns false when it was there already.
pub async fn notify(db: &impl ConnectionTrait, state: &AppState, n: Notice<'_>) -> AppResult<bool> {
    if !n.to.active {
        return Ok(false);
    }
    let lang = crate::web::i18n::normalise(Some(&n.to.locale));
    let (title, body) = texts(state, lang, n.kind.as_str(), &n.params)?;
    let params = serde_json::to_string(&n.params).map_err(AppError::internal)?;
    let inserted = notification::Entity::insert(notification::ActiveModel {
        user_id: Set(n.to.id),
        organisation_id: Set(n.organisation_id),
        kind: Set(n.kind.as_str().into()),
        title: Set(title.clone()),
        body: Set(body.clone()),
        link: Set(n.link.clone()),
        params: Set(Some(params)),
        dedupe_key: Set(n.dedupe_key.clone()),
        created_at: Set(state.now()),
        read_at: Set(None),
        ..Default::default()
    })
    .on_conflict(OnConflict::column(notification::Column::DedupeKey).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    if wants_email(db, n.to, n.kind).await? {
        let link = n.link.clone().unwrap_or_else(|| format!("{}/inbox", state.public_url()));
        mail::enqueue(
            db,
            state,
            mail::Message {
                template: "reminder",
                to: &n.to.email,
                lang,
                context: minijinja::context! { name => n.to.name.clone(), title => title, body => body, link => link },
                dedupe_key: Some(n.dedupe_key),
            },
        )
        .await?;
    }
    Ok(true)
}

#[derive(Debug, Clone, Serialize)]
pub struct InboxView {
    pub unread: u64,
    pub items: Vec<notification::Model>,
    /// The cursor of the next (older) page, if any; `total` counts all messages.
    pub next: Option<String>,
    pub total: u64,
}

pub async fn unread_count(db: &impl ConnectionTrait, user_id: i64) -> AppResult<u64> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// The newest 100 messages of a user, written in `lang` (the reader's language now, not the
/// one they had when the message arrived), and how many are unread.
/// The user's messages, newest first.
pub async fn inbox(state: &AppState, user_id: i64, lang: &str, page: &PageRequest) -> AppResult<InboxView> {
    let q = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    let newest_first = Keyset::by_id(notification::Column::Id, Order::Desc);
    let Page { rows: mut items, next, total } =
        keyset::fetch(&state.db, q, page, newest_first, |n| vec![n.id.into()]).await?;
    for n in &mut items {
        let params = n.params.as_deref().and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok());
        // Rows from before `params` existed keep the text they were written with.
        if let Some(params) = params
            && let Ok((title, body)) = texts(state, lang, &n.kind, &minijinja::Value::from(Serde(&params)))
        {
            (n.title, n.body) = (title, body);
        }
    }
    Ok(InboxView { unread: unread_count(&state.db, user_id).await?, items, next, total })
}

/// Marks one message (or, with `None`, all) of the user as read; someone else's id is not found.
pub async fn mark_read(state: &AppState, user_id: i64, id: Option<i64>, now: DateTime<Utc>) -> AppResult<()> {
    let txn = write_txn(&state.db).await?;
    let mut q = notification::Entity::update_many()
        .col_expr(notification::Column::ReadAt, Expr::value(now))
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ReadAt.is_null());
    if let Some(id) = id {
        let exists = notification::Entity::find_by_id(id).one(&txn).await?.filter(|n| n.user_id == user_id);
        if exists.is_none() {
            return Err(AppError::NotFound);
        }
        q = q.filter(notification::Column::Id.eq(id));
    }
    q.exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Preference {
    pub kind: Kind,
    pub email: bool,
    pub required: bool,
}

pub async fn preferences(state: &AppState, u: &user::Model) -> AppResult<Vec<Preference>> {
    let role = Role::parse(&u.role).ok_or(AppError::Forbidden)?;
    let mut out = vec![];
    for kind in Kind::for_role(role) {
        out.push(Preference { kind, email: wants_email(&state.db, u, kind).await?, required: kind.required_for(role) });
    }
    Ok(out)
}

/// Sets which optional reminders come by e-mail: the kinds in `email_kinds`, none of the others.
pub async fn set_preferences(state: &AppState, u: &user::Model, email_kinds: &[Kind]) -> AppResult<()> {
    let role = Role::parse(&u.role).ok_or(AppError::Forbidden)?;
    let txn = write_txn(&state.db).await?;
    for kind in Kind::for_role(role).into_iter().filter(|k| !k.required_for(role)) {
        reminder_preference::Entity::delete_many()
            .filter(reminder_preference::Column::UserId.eq(u.id))
            .filter(reminder_preference::Column::Kind.eq(kind.as_str()))
            .exec(&txn)
            .await?;
        reminder_preference::ActiveModel {
            user_id: Set(u.id),
            kind: Set(kind.as_str().into()),
            email: Set(email_kinds.contains(&kind)),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    crate::services::audit::record(
        &txn,
        state.now(),
        crate::services::audit::Entry {
            actor_id: Some(u.id),
            organisation_id: u.organisation_id,
            action: "reminders.preferences",
            subject: format!("user:{}", u.id),
            detail: Some(email_kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
