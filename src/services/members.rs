//! People coming, changing and leaving an organisation: the members list with each one's status
//! and last login, pending invitations (re-send, withdraw), role changes, deactivation and
//! reactivation. Every change is audited; an organisation always keeps an active HR lead.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde::Serialize;

use super::accounts::{self, NewInvitation, Purpose};
use super::audit::{self, Entry};
use crate::db::entities::{api_token, invitation_assignment, item, one_time_token, reporting_line, session, user};
use crate::db::page::{self as keyset, Keyset};
use crate::db::write_txn;
use crate::domain::membership::{MemberStatus, Standing, keeps_an_hr_lead};
use crate::domain::page::{Order, Page, PageRequest};
use crate::domain::policy::{Actor, GlobalPermission, Permission};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: String,
    pub status: MemberStatus,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Unfinished items this member owns; shown as needing a new owner once they are deactivated.
    pub open_items: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PendingInvitation {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub expired: bool,
}

/// The members of an organisation with their status (pending invitations are listed apart).
pub async fn list(state: &AppState, actor: &Actor, org: i64, page: &PageRequest) -> AppResult<Page<Member>> {
    actor.may(Permission::ViewMembers, org)?;
    let q = user::Entity::find().filter(user::Column::OrganisationId.eq(org));
    let by_name = Keyset::by(user::Column::Name, user::Column::Id, Order::Asc);
    let users = keyset::fetch(&state.db, q, page, by_name, |u| vec![u.name.as_str().into(), u.id.into()]).await?;
    let unfinished = item::Entity::find()
        .filter(item::Column::OrganisationId.eq(org))
        .filter(item::Column::OwnerId.is_in(users.rows.iter().map(|u| u.id).collect::<Vec<_>>()))
        .filter(item::Column::Status.is_not_in(["accepted", "not_applicable"]))
        .all(&state.db)
        .await?;
    Ok(users.map(|u| {
        let open = unfinished.iter().filter(|i| i.owner_id == Some(u.id)).count();
        member_of(u, open)
    }))
}

/// One member of the organisation, as the list shows them.
pub async fn member(state: &AppState, actor: &Actor, org: i64, user_id: i64) -> AppResult<Member> {
    actor.may(Permission::ViewMembers, org)?;
    let u = user::Entity::find_by_id(user_id)
        .filter(user::Column::OrganisationId.eq(org))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let open = item::Entity::find()
        .filter(item::Column::OrganisationId.eq(org))
        .filter(item::Column::OwnerId.eq(user_id))
        .filter(item::Column::Status.is_not_in(["accepted", "not_applicable"]))
        .count(&state.db)
        .await?;
    Ok(member_of(u, open as usize))
}

fn member_of(u: user::Model, open_items: usize) -> Member {
    Member {
        open_items: open_items as u64,
        status: match (u.erased_at, u.active) {
            (Some(_), _) => MemberStatus::Erased,
            (None, true) => MemberStatus::Active,
            (None, false) => MemberStatus::Deactivated,
        },
        id: u.id,
        // An erased member's placeholder address is nobody's: shown as nothing.
        email: if u.erased_at.is_some() { String::new() } else { u.email },
        name: u.name,
        role: u.role,
        last_login_at: u.last_login_at,
    }
}

/// Invitations not yet accepted nor withdrawn, newest first; expired ones can be sent again.
pub async fn pending_invitations(
    state: &AppState,
    actor: &Actor,
    org: i64,
    page: &PageRequest,
) -> AppResult<Page<PendingInvitation>> {
    pending_in(state, actor, Some(org), page).await
}

/// Advisors invited by the operator who have not accepted yet, newest first.
pub async fn pending_advisor_invitations(
    state: &AppState,
    actor: &Actor,
    page: &PageRequest,
) -> AppResult<Page<PendingInvitation>> {
    pending_in(state, actor, None, page).await
}

/// One pending invitation of the organisation (`None`: of an advisor), as the lists show it.
pub async fn pending_invitation(
    state: &AppState,
    actor: &Actor,
    org: Option<i64>,
    id: i64,
) -> AppResult<PendingInvitation> {
    may_handle(actor, org)?;
    Ok(pending_view(pending(&state.db, org, id).await?, state.now()))
}

fn pending_view(t: one_time_token::Model, now: DateTime<Utc>) -> PendingInvitation {
    PendingInvitation {
        expired: t.expires_at <= now,
        id: t.id,
        email: t.email,
        name: t.name,
        role: t.role,
        created_at: t.created_at,
        expires_at: t.expires_at,
    }
}

/// Who may see and handle invitations: HR in their organisation, the operator for advisors.
fn may_handle(actor: &Actor, org: Option<i64>) -> AppResult<()> {
    match org {
        Some(org) => actor.may(Permission::ManageMembers, org)?,
        None => actor.may_globally(GlobalPermission::ManageAdvisors)?,
    }
    Ok(())
}

async fn pending_in(
    state: &AppState,
    actor: &Actor,
    org: Option<i64>,
    page: &PageRequest,
) -> AppResult<Page<PendingInvitation>> {
    may_handle(actor, org)?;
    let now = state.now();
    let q = one_time_token::Entity::find()
        .filter(one_time_token::Column::Purpose.eq(Purpose::Invitation.as_str()))
        .filter(one_time_token::Column::UsedAt.is_null());
    let q = match org {
        Some(org) => q.filter(one_time_token::Column::OrganisationId.eq(org)),
        None => q
            .filter(one_time_token::Column::OrganisationId.is_null())
            .filter(one_time_token::Column::Role.eq(Role::Advisor.as_str())),
    };
    let newest_first = Keyset::by_id(one_time_token::Column::Id, Order::Desc);
    let rows = keyset::fetch(&state.db, q, page, newest_first, |t| vec![t.id.into()]).await?;
    Ok(rows.map(|t| pending_view(t, now)))
}

async fn pending(db: &impl ConnectionTrait, org: Option<i64>, id: i64) -> AppResult<one_time_token::Model> {
    one_time_token::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|t| {
            t.purpose == Purpose::Invitation.as_str()
                && t.organisation_id == org
                && t.used_at.is_none()
                && (org.is_some() || t.role.as_deref() == Some(Role::Advisor.as_str()))
        })
        .ok_or(AppError::NotFound)
}

/// A pending advisor invitation (the operator assigns organisations to it before acceptance).
pub(crate) async fn pending_advisor(db: &impl ConnectionTrait, id: i64) -> AppResult<one_time_token::Model> {
    pending(db, None, id).await
}

/// Ends a pending invitation's link (used for withdrawing and for re-sending).
async fn close_invitation(db: &impl ConnectionTrait, id: i64, now: DateTime<Utc>) -> AppResult<bool> {
    let closed = one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, Expr::value(now))
        .filter(one_time_token::Column::Id.eq(id))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(closed.rows_affected == 1)
}

/// Sends a pending invitation again with a new link; the old link stops working. An advisor's
/// planned organisations go with the new link.
pub async fn resend_invitation(
    state: &AppState,
    actor: &Actor,
    org: Option<i64>,
    id: i64,
    lang: &str,
) -> AppResult<i64> {
    may_handle(actor, org)?;
    let old = pending(&state.db, org, id).await?;
    let role = old.role.as_deref().and_then(Role::parse).ok_or(AppError::NotFound)?;
    let planned = invitation_assignment::Entity::find()
        .filter(invitation_assignment::Column::InvitationId.eq(old.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| a.organisation_id)
        .collect();
    let new = accounts::invite(
        state,
        actor,
        NewInvitation {
            email: old.email.clone(),
            name: old.name.clone().unwrap_or_default(),
            role,
            organisation_id: org,
            lang: lang.into(),
            assign_to: planned,
        },
    )
    .await?;
    close_invitation(&state.db, old.id, state.now()).await?;
    Ok(new.id)
}

/// Withdraws a pending invitation: its link stops working.
pub async fn withdraw_invitation(state: &AppState, actor: &Actor, org: Option<i64>, id: i64) -> AppResult<()> {
    may_handle(actor, org)?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let inv = pending(&txn, org, id).await?;
    if !close_invitation(&txn, inv.id, now).await? {
        return Err(AppError::NotFound);
    }
    invitation_assignment::Entity::delete_many()
        .filter(invitation_assignment::Column::InvitationId.eq(inv.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: org,
            action: "invitation.withdrawn",
            subject: format!("invitation:{}", inv.id),
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What may change about a member: their role, whether their account is active, or both.
#[derive(Debug, Clone, Copy, Default)]
pub struct Change {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Changes a member. Deactivating ends their sessions and API tokens at once; a manager who still
/// has carers is refused until HR has handed those over.
pub async fn change(state: &AppState, actor: &Actor, org: i64, user_id: i64, c: Change) -> AppResult<user::Model> {
    actor.may(Permission::ManageMembers, org)?;
    if let Some(role) = c.role
        && !actor.may_invite_role(role)
    {
        return Err(AppError::invalid("role", "role_not_allowed"));
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let u = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .filter(|u| u.organisation_id == Some(org))
        .ok_or(AppError::NotFound)?;
    if u.erased_at.is_some() {
        return Err(AppError::Conflict("member_erased".into()));
    }
    let current_role = Role::parse(&u.role).ok_or_else(|| AppError::internal(format!("unknown role {}", u.role)))?;
    let before = Standing { role: current_role, active: u.active };
    let after = Standing { role: c.role.unwrap_or(current_role), active: c.active.unwrap_or(u.active) };
    if after.role == before.role && after.active == before.active {
        return Err(AppError::invalid(if c.role.is_some() { "role" } else { "active" }, "nothing_to_change"));
    }
    may_leave(&txn, org, &u, before, after).await?;
    let mut am: user::ActiveModel = u.clone().into();
    am.role = Set(after.role.as_str().into());
    am.active = Set(after.active);
    let updated = am.update(&txn).await?;
    if !after.active {
        end_access(&txn, u.id, now).await?;
    }
    let action = match (before.active, after.active) {
        (true, false) => "member.deactivated",
        (false, true) => "member.reactivated",
        _ => "member.role_changed",
    };
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action,
            subject: format!("user:{}", u.id),
            detail: Some(format!("{} → {}", before.role.as_str(), after.role.as_str())),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Whether a member may stop being what they are (`before` → `after`): the organisation keeps an
/// active HR lead, and a manager's carers are handed over before the manager goes.
pub(crate) async fn may_leave(
    db: &impl ConnectionTrait,
    org: i64,
    u: &user::Model,
    before: Standing,
    after: Standing,
) -> AppResult<()> {
    let hr_leads = user::Entity::find()
        .filter(user::Column::OrganisationId.eq(org))
        .filter(user::Column::Role.eq(Role::HrLead.as_str()))
        .filter(user::Column::Active.eq(true))
        .count(db)
        .await?;
    keeps_an_hr_lead(hr_leads, before, after).map_err(|code| AppError::invalid("role", code))?;
    let stops_managing = before.role == Role::Manager && (!after.active || after.role != Role::Manager);
    if stops_managing
        && reporting_line::Entity::find().filter(reporting_line::Column::ManagerId.eq(u.id)).count(db).await? > 0
    {
        return Err(AppError::Conflict("hand_over_first".into()));
    }
    Ok(())
}

/// Whatever a user could do ends now, on every instance: their sessions and API tokens go.
async fn end_access(db: &impl ConnectionTrait, user_id: i64, now: DateTime<Utc>) -> AppResult<()> {
    session::Entity::delete_many().filter(session::Column::UserId.eq(user_id)).exec(db).await?;
    api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(now))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The operator deactivates or reactivates an advisor. A deactivated advisor's sessions and
/// tokens stop at once; their organisations stay assigned (so reactivating restores their work)
/// and show on the operator's page as needing someone else.
pub async fn change_advisor(state: &AppState, actor: &Actor, advisor_id: i64, active: bool) -> AppResult<user::Model> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    if actor.user_id == advisor_id {
        return Err(AppError::invalid("active", "not_yourself"));
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let u = user::Entity::find_by_id(advisor_id)
        .one(&txn)
        .await?
        .filter(|u| u.role == Role::Advisor.as_str() && u.erased_at.is_none())
        .ok_or(AppError::NotFound)?;
    if u.active == active {
        return Err(AppError::invalid("active", "nothing_to_change"));
    }
    let mut am: user::ActiveModel = u.clone().into();
    am.active = Set(active);
    let updated = am.update(&txn).await?;
    if !active {
        end_access(&txn, u.id, now).await?;
    }
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: None,
            action: if active { "advisor.reactivated" } else { "advisor.deactivated" },
            subject: format!("user:{}", u.id),
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
