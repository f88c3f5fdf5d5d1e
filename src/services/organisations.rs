//! Organisations, their members and their advisors (the operator's work).
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::accounts::assign_advisor_in;
use super::assessment::ensure_items;
use super::audit::{self, Entry};
use crate::db::entities::{advisor_assignment, organisation, user};
use crate::db::write_txn;
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

/// The organisations this user may see, by name.
pub async fn visible(state: &AppState, actor: &Actor) -> AppResult<Vec<organisation::Model>> {
    let q = organisation::Entity::find().order_by_asc(organisation::Column::Name);
    let q = match actor.role {
        Role::Operator => q,
        Role::Advisor => q.filter(organisation::Column::Id.is_in(actor.assigned.clone())),
        _ => q.filter(organisation::Column::Id.eq(actor.organisation_id.unwrap_or(-1))),
    };
    Ok(q.all(&state.db).await?)
}

pub async fn get(state: &AppState, actor: &Actor, id: i64) -> AppResult<organisation::Model> {
    actor.may(Permission::ViewAssessment, id).or_else(|d| {
        // Members who may not see the assessment still see their organisation's name.
        if actor.sees_organisation(id) { Ok(()) } else { Err(d) }
    })?;
    organisation::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)
}

pub async fn advisors(state: &AppState, actor: &Actor) -> AppResult<Vec<user::Model>> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    Ok(user::Entity::find()
        .filter(user::Column::Role.eq(Role::Advisor.as_str()))
        .order_by_asc(user::Column::Name)
        .all(&state.db)
        .await?)
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

pub async fn assign_advisor(state: &AppState, actor: &Actor, org: i64, advisor_id: i64) -> AppResult<()> {
    actor.may_globally(GlobalPermission::ManageAdvisors)?;
    organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let advisor = user::Entity::find_by_id(advisor_id)
        .one(&state.db)
        .await?
        .filter(|u| u.role == Role::Advisor.as_str())
        .ok_or_else(|| AppError::invalid("advisor_id", "advisor_unknown"))?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    assign_advisor_in(&txn, advisor.id, org, now).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "advisor.assigned",
            subject: format!("user:{}", advisor.id),
            detail: Some(advisor.email),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Assignment {
    pub organisation_id: i64,
    pub advisor_id: i64,
}

/// Every advisor assignment (the operator's overview).
pub async fn assignments(state: &AppState) -> AppResult<Vec<Assignment>> {
    Ok(advisor_assignment::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|a| Assignment { organisation_id: a.organisation_id, advisor_id: a.advisor_id })
        .collect())
}
