//! Removing a person's data on request (GDPR art. 17). Their account row stays, empty, so the
//! history that points at it (who submitted, who decided, who owned an item) still points
//! somewhere and reads "former member"; their name and address go from every table: the account,
//! their sessions, tokens, feeds, inbox, queued and sent mails, invitations, and every free text
//! that quoted them (audit details, comments, reasons, mails to others), which gets `[user:<id>]`
//! instead. A carer's passport goes entirely, as when they withdraw consent. The audit log keeps
//! the fact (`member.erased`, `user:<id>`), not the person.
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::audit::{self, Entry};
use super::members::may_leave;
use crate::db::entities::{
    advisor_assignment, api_token, calendar_feed, carer_consent, item_opening, login_throttle, notification,
    one_time_token, outbox, reminder_preference, reporting_line, session, user,
};
use crate::db::write_txn;
use crate::domain::membership::Standing;
use crate::domain::policy::{Actor, GlobalPermission, Permission};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// Every column where a person's name or address can appear in text someone else keeps.
const FREE_TEXT: &[(&str, &str)] = &[
    ("audit_log", "detail"),
    ("notifications", "title"),
    ("notifications", "body"),
    ("notifications", "params"),
    ("outbox", "subject"),
    ("outbox", "body_text"),
    ("outbox", "body_html"),
    ("outbox", "last_error"),
    ("sessions", "kept_form"),
    ("comments", "body"),
    ("evidence", "title"),
    ("evidence", "note"),
    ("item_transitions", "reason"),
    ("attention_moments", "title"),
    ("attention_moments", "message"),
    ("attention_moments", "recipients"),
    ("passport_handovers", "reason"),
    ("recognition_applications", "motivation"),
    ("recognition_applications", "decision_reason"),
    ("recognition_events", "reason"),
    ("recognitions", "revoked_reason"),
    ("one_time_tokens", "name"),
    ("api_tokens", "name"),
    ("job_runs", "last_error"),
];

/// Names shorter than this are not replaced in others' free text: "Jan" would also hit "Januari".
const MIN_NAME_TO_SCRUB: usize = 5;

/// HR erases a member of their organisation (the operator may too).
pub async fn erase_member(state: &AppState, actor: &Actor, org: i64, user_id: i64) -> AppResult<()> {
    actor.may(Permission::ManageMembers, org)?;
    if actor.user_id == user_id {
        return Err(AppError::invalid("user", "not_yourself"));
    }
    let txn = write_txn(&state.db).await?;
    let u = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| u.organisation_id == Some(org) && u.erased_at.is_none())
        .ok_or(AppError::NotFound)?;
    let role = Role::parse(&u.role).ok_or_else(|| AppError::internal(format!("unknown role {}", u.role)))?;
    // Leaving for good asks what deactivating asks: an HR lead stays, carers are handed over.
    may_leave(&txn, org, &u, Standing { role, active: u.active }, Standing { role, active: false }).await?;
    super::passport::erase_carer(&txn, u.id, org, None).await?;
    erase_in(&txn, state, actor, &u, Some(org)).await?;
    txn.commit().await?;
    Ok(())
}

/// The operator erases an advisor; the organisations they looked after keep their history.
pub async fn erase_advisor(state: &AppState, actor: &Actor, advisor_id: i64) -> AppResult<()> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    if actor.user_id == advisor_id {
        return Err(AppError::invalid("user", "not_yourself"));
    }
    let txn = write_txn(&state.db).await?;
    let u = user::Entity::find_by_id(advisor_id)
        .one(&txn)
        .await?
        .filter(|u| u.role == Role::Advisor.as_str() && u.erased_at.is_none())
        .ok_or(AppError::NotFound)?;
    erase_in(&txn, state, actor, &u, None).await?;
    txn.commit().await?;
    Ok(())
}

async fn erase_in(
    txn: &impl ConnectionTrait,
    state: &AppState,
    actor: &Actor,
    u: &user::Model,
    org: Option<i64>,
) -> AppResult<()> {
    let now = state.now();
    // What was theirs alone goes.
    session::Entity::delete_many().filter(session::Column::UserId.eq(u.id)).exec(txn).await?;
    api_token::Entity::delete_many().filter(api_token::Column::UserId.eq(u.id)).exec(txn).await?;
    calendar_feed::Entity::delete_many().filter(calendar_feed::Column::UserId.eq(u.id)).exec(txn).await?;
    reminder_preference::Entity::delete_many().filter(reminder_preference::Column::UserId.eq(u.id)).exec(txn).await?;
    notification::Entity::delete_many().filter(notification::Column::UserId.eq(u.id)).exec(txn).await?;
    item_opening::Entity::delete_many().filter(item_opening::Column::UserId.eq(u.id)).exec(txn).await?;
    reporting_line::Entity::delete_many().filter(reporting_line::Column::UserId.eq(u.id)).exec(txn).await?;
    carer_consent::Entity::delete_many().filter(carer_consent::Column::UserId.eq(u.id)).exec(txn).await?;
    let looked_after: Vec<i64> = advisor_assignment::Entity::find()
        .select_only()
        .column(advisor_assignment::Column::OrganisationId)
        .filter(advisor_assignment::Column::AdvisorId.eq(u.id))
        .into_tuple()
        .all(txn)
        .await?;
    advisor_assignment::Entity::delete_many().filter(advisor_assignment::Column::AdvisorId.eq(u.id)).exec(txn).await?;
    super::accounts::assignments_changed(txn, &[u.id]).await?;
    super::progress::reassigned(txn, &looked_after.iter().map(|&o| (u.id, o, false)).collect::<Vec<_>>()).await?;
    one_time_token::Entity::delete_many().filter(one_time_token::Column::Email.eq(u.email.as_str())).exec(txn).await?;
    outbox::Entity::delete_many().filter(outbox::Column::Recipient.eq(u.email.as_str())).exec(txn).await?;
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::Key.eq(super::throttle::login_key(&u.email)))
        .exec(txn)
        .await?;
    // What others keep that quotes them: the quote goes, a reference to the empty account stays.
    let placeholder = format!("[user:{}]", u.id);
    let mut needles = vec![u.email.clone()];
    let name = u.name.trim();
    if name.chars().count() >= MIN_NAME_TO_SCRUB {
        needles.push(name.to_string());
        let escaped = html_escape(name);
        if escaped != name {
            needles.push(escaped);
        }
    }
    for needle in &needles {
        for (table, column) in FREE_TEXT {
            scrub(txn, table, column, needle, &placeholder).await?;
        }
    }
    let mut am: user::ActiveModel = u.clone().into();
    am.name = Set(String::new());
    // Addresses are unique and required; this one is nobody's (RFC 2606 keeps `.invalid` unused).
    am.email = Set(format!("erased-{}@erased.invalid", u.id));
    am.password_hash = Set(None);
    am.active = Set(false);
    am.last_login_at = Set(None);
    am.erased_at = Set(Some(now));
    am.update(txn).await?;
    audit::record(
        txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: org,
            action: "member.erased",
            subject: format!("user:{}", u.id),
            detail: None,
        },
    )
    .await?;
    Ok(())
}

/// `column = REPLACE(column, needle, placeholder)` where the column holds the needle; the same
/// SQL on SQLite and PostgreSQL.
async fn scrub(db: &impl ConnectionTrait, table: &str, column: &str, needle: &str, placeholder: &str) -> AppResult<()> {
    let pattern = format!("%{}%", needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let col = Alias::new(column);
    let stmt = Query::update()
        .table(Alias::new(table))
        .value(col.clone(), Func::cust(Alias::new("REPLACE")).arg(Expr::col(col.clone())).arg(needle).arg(placeholder))
        .and_where(Expr::col(col).like(LikeExpr::new(pattern).escape('\\')))
        .to_owned();
    db.execute(&stmt).await?;
    Ok(())
}

/// As minijinja escapes text in HTML mails, so a name quoted there is found too.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2f;")
}
