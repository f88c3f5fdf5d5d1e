//! What an actor may see across organisations, as one condition on an organisation id column, so
//! every list spanning organisations is scoped the same way: operators all, advisors the
//! organisations assigned to them (read by the database from the assignments, not passed as a
//! list of ids that grows with the portfolio), everyone else their own organisation.
use sea_orm::sea_query::{Condition, Query};
use sea_orm::{ColumnTrait, EntityName};

use crate::db::entities::advisor_assignment;
use crate::domain::policy::Actor;
use crate::domain::role::Role;

pub fn organisations<C: ColumnTrait>(actor: &Actor, organisation_id: C) -> Condition {
    match actor.role {
        Role::Operator => Condition::all(),
        Role::Advisor => Condition::all().add(
            organisation_id.in_subquery(
                Query::select()
                    .column(advisor_assignment::Column::OrganisationId)
                    .from(advisor_assignment::Entity.table_ref())
                    .and_where(advisor_assignment::Column::AdvisorId.eq(actor.user_id))
                    .to_owned(),
            ),
        ),
        _ => Condition::all().add(organisation_id.eq(actor.organisation_id.unwrap_or(-1))),
    }
}
