//! Organisations, their members and their advisors (the operator's work).
use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};

use super::accounts::assign_advisor_in;
use super::assessment::ensure_items;
use super::audit::{self, Entry};
use crate::db::entities::{advisor_assignment, invitation_assignment, organisation, user};
use crate::db::page::{self as keyset, Keyset};
use crate::db::write_txn;
use crate::domain::page::{Order, Page, PageRequest};
use crate::domain::policy::{Actor, GlobalPermission, Permission};
use crate::domain::role::Role;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub const DEFAULT_TIMEZONE: &str = "Europe/Amsterdam";

pub async fn create(state: &AppState, actor: &Actor, name: &str) -> AppResult<organisation::Model> {
    actor.may_globally(GlobalPermission::ManageOrganisations)?;
    let Some(name) = crate::domain::text::single_line(name, 200) else {
        return Err(AppError::invalid("name", "name_required"));
    };
    let name = name.as_str();
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let org = organisation::ActiveModel {
        name: Set(name.into()),
        timezone: Set(DEFAULT_TIMEZONE.into()),
        appraisal_month: Set(None),
        manager_briefing_years: Set(2),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    ensure_items(&txn, &state.checklists, &[org.id], now).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org.id),
            action: "organisation.created",
            subject: format!("organisation:{}", org.id),
            detail: Some(name.into()),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(org)
}

/// The organisations this user may see, by name; with `name`, those whose name contains it.
pub async fn visible(
    state: &AppState,
    actor: &Actor,
    name: Option<&str>,
    page: &PageRequest,
) -> AppResult<Page<organisation::Model>> {
    let mut q = crate::db::scope::organisations_within(organisation::Entity::find(), actor, organisation::Column::Id);
    if let Some(text) = name.map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty()) {
        q = q.filter(keyset::name_contains(organisation::Column::Name, &text));
    }
    let by_name = Keyset::by(organisation::Column::Name, organisation::Column::Id, Order::Asc);
    keyset::fetch_scoped(&state.db, q, page, by_name, |o| vec![o.name.as_str().into(), o.id.into()]).await
}

pub async fn get(state: &AppState, actor: &Actor, id: i64) -> AppResult<organisation::Model> {
    actor.may(Permission::ViewAssessment, id).or_else(|d| {
        // Members who may not see the assessment still see their organisation's name.
        if actor.sees_organisation(id) { Ok(()) } else { Err(d) }
    })?;
    organisation::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)
}

/// The advisors with an account (erased ones are gone), by name.
pub async fn advisors(state: &AppState, actor: &Actor, page: &PageRequest) -> AppResult<Page<user::Model>> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    let q = user::Entity::find()
        .filter(user::Column::Role.eq(Role::Advisor.as_str()))
        .filter(user::Column::ErasedAt.is_null());
    let by_name = Keyset::by(user::Column::Name, user::Column::Id, Order::Asc);
    keyset::fetch(&state.db, q, page, by_name, |u| vec![u.name.as_str().into(), u.id.into()]).await
}

/// One advisor with an account (operators).
pub async fn advisor_account(state: &AppState, actor: &Actor, id: i64) -> AppResult<user::Model> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    user::Entity::find_by_id(id)
        .filter(user::Column::Role.eq(Role::Advisor.as_str()))
        .filter(user::Column::ErasedAt.is_null())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)
}

/// Advisors assigned to an organisation.
pub async fn advisors_of(db: &impl ConnectionTrait, org: i64) -> AppResult<Vec<user::Model>> {
    let ids: Vec<i64> = advisor_assignment::Entity::find()
        .filter(advisor_assignment::Column::OrganisationId.eq(org))
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.advisor_id)
        .collect();
    Ok(user::Entity::find().filter(user::Column::Id.is_in(ids)).order_by_asc(user::Column::Name).all(db).await?)
}

/// Who an organisation is assigned to: an advisor with an account, or one still invited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Advisor(i64),
    Invited(i64),
}

async fn organisation_exists(db: &impl ConnectionTrait, org: i64) -> AppResult<()> {
    organisation::Entity::find_by_id(org).one(db).await?.map(|_| ()).ok_or(AppError::NotFound)
}

async fn advisor(db: &impl ConnectionTrait, id: i64) -> AppResult<user::Model> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|u| u.role == Role::Advisor.as_str() && u.active)
        .ok_or_else(|| AppError::invalid("advisor_id", "advisor_unknown"))
}

/// Assigns an advisor, or an advisor who has been invited and not accepted yet (they look after
/// the organisation from the moment they accept).
pub async fn assign(state: &AppState, actor: &Actor, org: i64, to: Assignee) -> AppResult<()> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    organisation_exists(&txn, org).await?;
    let subject = match to {
        Assignee::Advisor(id) => {
            let a = advisor(&txn, id).await?;
            assign_advisor_in(&txn, a.id, org, now).await?;
            format!("user:{}", a.id)
        }
        Assignee::Invited(id) => {
            let inv = super::members::pending_advisor(&txn, id)
                .await
                .map_err(|_| AppError::invalid("invitation_id", "invitation_unknown"))?;
            let planned = invitation_assignment::Entity::find()
                .filter(invitation_assignment::Column::InvitationId.eq(inv.id))
                .filter(invitation_assignment::Column::OrganisationId.eq(org))
                .count(&txn)
                .await?;
            if planned == 0 {
                invitation_assignment::ActiveModel {
                    invitation_id: Set(inv.id),
                    organisation_id: Set(org),
                    created_at: Set(now),
                }
                .insert(&txn)
                .await?;
            }
            format!("invitation:{}", inv.id)
        }
    };
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "advisor.assigned",
            subject,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Ends an assignment; the organisation's waiting items leave that advisor's queue at once (the
/// queue is read from the assignments).
pub async fn unassign(state: &AppState, actor: &Actor, org: i64, from: Assignee) -> AppResult<()> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    organisation_exists(&txn, org).await?;
    let (removed, subject) = match from {
        Assignee::Advisor(id) => (
            {
                let removed = advisor_assignment::Entity::delete_many()
                    .filter(advisor_assignment::Column::OrganisationId.eq(org))
                    .filter(advisor_assignment::Column::AdvisorId.eq(id))
                    .exec(&txn)
                    .await?
                    .rows_affected;
                super::accounts::assignments_changed(&txn, &[id]).await?;
                if removed > 0 {
                    super::progress::reassigned(&txn, &[(id, org, false)]).await?;
                }
                removed
            },
            format!("user:{id}"),
        ),
        Assignee::Invited(id) => (
            invitation_assignment::Entity::delete_many()
                .filter(invitation_assignment::Column::OrganisationId.eq(org))
                .filter(invitation_assignment::Column::InvitationId.eq(id))
                .exec(&txn)
                .await?
                .rows_affected,
            format!("invitation:{id}"),
        ),
    };
    if removed == 0 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "advisor.unassigned",
            subject,
            detail: None,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Moves an organisation to exactly these advisors: the others stop, the new ones start, in one
/// step (so there is never a moment with nobody, nor both).
pub async fn set_advisors(state: &AppState, actor: &Actor, org: i64, advisor_ids: &[i64]) -> AppResult<()> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    if advisor_ids.len() > MAX_ADVISORS_PER_ORGANISATION {
        return Err(AppError::invalid("advisor_ids", "too_many_advisors"));
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    organisation_exists(&txn, org).await?;
    for id in advisor_ids {
        advisor(&txn, *id).await?;
    }
    let current: Vec<i64> = advisor_assignment::Entity::find()
        .filter(advisor_assignment::Column::OrganisationId.eq(org))
        .all(&txn)
        .await?
        .into_iter()
        .map(|a| a.advisor_id)
        .collect();
    // Those leaving and those arriving are counted in two steps: their locks first, in order.
    let involved: Vec<i64> = current.iter().chain(advisor_ids).copied().collect();
    super::progress::lock_for_reassignment(&txn, &[org], &involved).await?;
    let gone: Vec<i64> = current.iter().copied().filter(|id| !advisor_ids.contains(id)).collect();
    advisor_assignment::Entity::delete_many()
        .filter(advisor_assignment::Column::OrganisationId.eq(org))
        .filter(advisor_assignment::Column::AdvisorId.is_in(gone.clone()))
        .exec(&txn)
        .await?;
    super::accounts::assignments_changed(&txn, &gone).await?;
    super::progress::reassigned(&txn, &gone.iter().map(|&a| (a, org, false)).collect::<Vec<_>>()).await?;
    for id in advisor_ids.iter().filter(|id| !current.contains(id)) {
        assign_advisor_in(&txn, *id, org, now).await?;
    }
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "advisor.moved",
            subject: format!("organisation:{org}"),
            detail: Some(format!(
                "{:?} -> {:?}",
                current.iter().map(|id| format!("user:{id}")).collect::<Vec<_>>(),
                advisor_ids.iter().map(|id| format!("user:{id}")).collect::<Vec<_>>()
            )),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// More advisors than this on one organisation is a mistake, not a team.
const MAX_ADVISORS_PER_ORGANISATION: usize = 20;

/// The organisations these pending advisor invitations will be assigned to (bounded by the
/// invitations asked about, never the whole table).
pub async fn planned_assignments(
    state: &AppState,
    actor: &Actor,
    invitations: &[i64],
) -> AppResult<Vec<PlannedAssignment>> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    Ok(invitation_assignment::Entity::find()
        .filter(invitation_assignment::Column::InvitationId.is_in(invitations.to_vec()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| PlannedAssignment { invitation_id: a.invitation_id, organisation_id: a.organisation_id })
        .collect())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct PlannedAssignment {
    pub invitation_id: i64,
    pub organisation_id: i64,
}

/// Names of these organisations (e.g. those planned for an invited advisor), by id.
pub async fn names(state: &AppState, orgs: &[i64]) -> AppResult<HashMap<i64, String>> {
    Ok(organisation::Entity::find()
        .select_only()
        .columns([organisation::Column::Id, organisation::Column::Name])
        .filter(organisation::Column::Id.is_in(orgs.to_vec()))
        .into_tuple::<(i64, String)>()
        .all(&state.db)
        .await?
        .into_iter()
        .collect())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Assignment {
    pub organisation_id: i64,
    pub advisor_id: i64,
}

/// The advisor assignments of these organisations (the operator's page of them).
pub async fn assignments(state: &AppState, orgs: &[i64]) -> AppResult<Vec<Assignment>> {
    Ok(advisor_assignment::Entity::find()
        .filter(advisor_assignment::Column::OrganisationId.is_in(orgs.to_vec()))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| Assignment { organisation_id: a.organisation_id, advisor_id: a.advisor_id })
        .collect())
}
