//! What an actor may see across organisations, so every list spanning organisations is scoped the
//! same way: operators all, advisors the organisations assigned to them (read by the database from
//! the assignments, not passed as a list of ids that grows with the portfolio), everyone else their
//! own organisation.
//!
//! An advisor's scope is written two ways, as the databases run each best (measured on SQLite at
//! 10,000 organisations): for a page, `EXISTS (assignment of this organisation)` per row, so an
//! index walk in the list's order probes each row and stops at the page (0.1 ms, where
//! `IN (SELECT …)` first built the whole set: 5 ms); for a count, a join that starts from the
//! advisor's assignments (1 ms, where either condition scanned every organisation: 5 ms).
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QueryTrait, Select};

use crate::db::entities::advisor_assignment;
use crate::domain::policy::Actor;
use crate::domain::role::Role;

/// The actor's organisations as a condition on `organisation_id`.
pub fn organisations<C: ColumnTrait>(actor: &Actor, organisation_id: C) -> Condition {
    match actor.role {
        Role::Operator => Condition::all(),
        Role::Advisor => assigned_to(actor.user_id, organisation_id),
        _ => Condition::all().add(organisation_id.eq(actor.organisation_id.unwrap_or(-1))),
    }
}

/// The organisations assigned to this advisor (an id, or a column of an outer query), as a
/// condition on `organisation_id`.
pub fn assigned_to<C: ColumnTrait>(advisor_id: impl Into<Expr>, organisation_id: C) -> Condition {
    use advisor_assignment::Column as A;
    Condition::all().add(Expr::exists(
        Query::select()
            // A literal, not a bound value: SQLite re-prepared the statement on every run
            // when the EXISTS sub-query's select list was a parameter.
            .expr(Expr::cust("1"))
            .from(advisor_assignment::Entity)
            .and_where(Expr::col((advisor_assignment::Entity, A::AdvisorId)).eq(advisor_id))
            .and_where(
                Expr::col((advisor_assignment::Entity, A::OrganisationId)).equals(organisation_id.as_column_ref()),
            )
            .to_owned(),
    ))
}

/// A list's query scoped to the actor's organisations, in the form for its page and the form for
/// its count; filters go to both.
pub struct Scoped<E: EntityTrait> {
    pub rows: Select<E>,
    pub count: Select<E>,
    /// The count when known without asking the database (see `with_total`).
    pub total: Option<u64>,
}

impl<E: EntityTrait> Scoped<E> {
    /// A query that needs no scope (or has it already): counted as it is.
    pub fn plain(select: Select<E>) -> Self {
        Scoped { rows: select.clone(), count: select, total: None }
    }

    /// A filter forgets a known total.
    pub fn filter(self, condition: impl Into<Condition>) -> Self {
        let condition = condition.into();
        Scoped { rows: self.rows.filter(condition.clone()), count: self.count.filter(condition), total: None }
    }

    /// The number of rows, known to the caller (an advisor's whole portfolio is their number of
    /// assignments, held in memory): the count query is skipped.
    pub fn with_total(self, total: u64) -> Self {
        Scoped { total: Some(total), ..self }
    }
}

/// `select` limited to the actor's organisations by `organisation_id`.
pub fn within<E: EntityTrait, C: ColumnTrait>(select: Select<E>, actor: &Actor, organisation_id: C) -> Scoped<E> {
    use advisor_assignment::Column as A;
    let rows = select.clone().filter(organisations(actor, organisation_id));
    let count = if actor.role == Role::Advisor {
        let mut count = select;
        // One assignment per (advisor, organisation): the join repeats no row.
        QueryTrait::query(&mut count).join(
            JoinType::InnerJoin,
            advisor_assignment::Entity,
            Condition::all()
                .add(Expr::col((advisor_assignment::Entity, A::OrganisationId)).equals(organisation_id.as_column_ref()))
                .add(Expr::col((advisor_assignment::Entity, A::AdvisorId)).eq(actor.user_id)),
        );
        count
    } else {
        rows.clone()
    };
    Scoped { rows, count, total: None }
}

/// `within` for a query of organisations themselves (one row per organisation, each with its
/// figures): an advisor's count is their number of assignments, held in memory, so the unfiltered
/// list asks the database only for its page (a filter drops this total again).
pub fn organisations_within<E: EntityTrait, C: ColumnTrait>(
    select: Select<E>,
    actor: &Actor,
    organisation_id: C,
) -> Scoped<E> {
    let scoped = within(select, actor, organisation_id);
    if actor.role == Role::Advisor { scoped.with_total(actor.assigned.len() as u64) } else { scoped }
}
