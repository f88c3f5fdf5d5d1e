//! Exactly once per period: a run claims (job, period, scope) by inserting a row under a unique
//! key before it acts, and marks it finished in the same transaction as its work. Another
//! instance that tries the same period finds the row and does nothing. A claim whose holder
//! crashed expires after the lease and is taken over (the attempt number fences the old holder).
use std::collections::{HashMap, HashSet};

use chrono::Duration;
use sea_orm::sea_query::{Condition, Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::Job;
use crate::db::entities::job_run;
use crate::error::AppResult;
use crate::state::AppState;

/// How long a claim holds before another instance may retry the period.
pub const LEASE_MINUTES: i64 = 10;

#[derive(Debug, Clone)]
pub struct Claim {
    pub id: i64,
    pub attempt: i32,
}

fn instance() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| format!("pid{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]))
        .clone()
}

async fn find(state: &AppState, job: &str, period: &str, scope: &str) -> AppResult<Option<job_run::Model>> {
    Ok(job_run::Entity::find()
        .filter(job_run::Column::Job.eq(job))
        .filter(job_run::Column::Period.eq(period))
        .filter(job_run::Column::Scope.eq(scope))
        .one(&state.db)
        .await?)
}

/// Claims the period, or returns `None` when it is done or another instance holds it.
/// Every heartbeat asks this for every scope, so a done period costs one indexed read, and a
/// race for a new one is settled by `ON CONFLICT DO NOTHING` (no error in the database's log).
pub async fn claim(state: &AppState, job: &str, period: &str, scope: &str) -> AppResult<Option<Claim>> {
    let now = state.now();
    let Some(existing) = find(state, job, period, scope).await? else {
        let row = job_run::ActiveModel {
            job: Set(job.into()),
            period: Set(period.into()),
            scope: Set(scope.into()),
            instance: Set(instance()),
            attempts: Set(1),
            claimed_at: Set(now),
            expires_at: Set(now + Duration::minutes(LEASE_MINUTES)),
            finished_at: Set(None),
            outcome: Set(None),
            last_error: Set(None),
            ..Default::default()
        };
        let inserted = job_run::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([job_run::Column::Job, job_run::Column::Period, job_run::Column::Scope])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&state.db)
            .await?;
        if inserted == 0 {
            return Ok(None);
        }
        return Ok(find(state, job, period, scope).await?.map(|r| Claim { id: r.id, attempt: 1 }));
    };
    // Someone has it: take it over only if that run never finished and its lease ran out.
    if existing.finished_at.is_some() || existing.expires_at > now {
        return Ok(None);
    }
    let taken = job_run::Entity::update_many()
        .col_expr(job_run::Column::Instance, Expr::value(instance()))
        .col_expr(job_run::Column::Attempts, Expr::value(existing.attempts + 1))
        .col_expr(job_run::Column::ClaimedAt, Expr::value(now))
        .col_expr(job_run::Column::ExpiresAt, Expr::value(now + Duration::minutes(LEASE_MINUTES)))
        .filter(job_run::Column::Id.eq(existing.id))
        .filter(job_run::Column::Attempts.eq(existing.attempts))
        .filter(job_run::Column::FinishedAt.is_null())
        .exec(&state.db)
        .await?;
    Ok((taken.rows_affected == 1).then_some(Claim { id: existing.id, attempt: existing.attempts + 1 }))
}

/// The claims of one run of a job. Whether a period is settled (done, or held by a live lease)
/// is read once per period for every scope, so a heartbeat with nothing to do costs one query
/// per period whatever the number of organisations, instead of one per organisation.
pub struct Claims {
    pub job: Job,
    settled: HashMap<String, HashSet<String>>,
}

impl Claims {
    pub fn new(job: Job) -> Self {
        Claims { job, settled: HashMap::new() }
    }

    /// Claims (period, scope) for this job, as `claim` does, skipping the settled ones unasked.
    pub async fn claim(&mut self, state: &AppState, period: &str, scope: &str) -> AppResult<Option<Claim>> {
        if !self.settled.contains_key(period) {
            let scopes: Vec<String> = job_run::Entity::find()
                .select_only()
                .column(job_run::Column::Scope)
                .filter(job_run::Column::Job.eq(self.job.name()))
                .filter(job_run::Column::Period.eq(period))
                .filter(
                    Condition::any()
                        .add(job_run::Column::FinishedAt.is_not_null())
                        .add(job_run::Column::ExpiresAt.gt(state.now())),
                )
                .into_tuple()
                .all(&state.db)
                .await?;
            self.settled.insert(period.to_string(), scopes.into_iter().collect());
        }
        if self.settled.get(period).is_some_and(|s| s.contains(scope)) {
            return Ok(None);
        }
        claim(state, self.job.name(), period, scope).await
    }
}

/// Marks the claim done inside the transaction of the work; false if the claim was lost.
pub async fn finish(db: &impl ConnectionTrait, state: &AppState, c: &Claim, outcome: &str) -> AppResult<bool> {
    let r = job_run::Entity::update_many()
        .col_expr(job_run::Column::FinishedAt, Expr::value(state.now()))
        .col_expr(job_run::Column::Outcome, Expr::value(outcome))
        .filter(job_run::Column::Id.eq(c.id))
        .filter(job_run::Column::Attempts.eq(c.attempt))
        .filter(job_run::Column::FinishedAt.is_null())
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Records a failed attempt and lets the next heartbeat retry it at once.
pub async fn fail(state: &AppState, c: &Claim, error: &str) -> AppResult<()> {
    job_run::Entity::update_many()
        .col_expr(job_run::Column::LastError, Expr::value(error))
        .col_expr(job_run::Column::ExpiresAt, Expr::value(state.now()))
        .filter(job_run::Column::Id.eq(c.id))
        .filter(job_run::Column::Attempts.eq(c.attempt))
        .exec(&state.db)
        .await?;
    Ok(())
}
