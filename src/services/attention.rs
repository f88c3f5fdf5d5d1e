//! The organisation's rhythm of attention: its own recurring moments, its appraisal month, time
//! zone and manager-briefing interval; and, for the operator, how the jobs are doing.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::Serialize;

use super::audit::{self, Entry};
use crate::db::connect::write_txn;
use crate::db::entities::{attention_moment, calendar_feed, job_run, organisation, outbox};
use crate::domain::policy::{Actor, GlobalPermission, Permission};
use crate::domain::role::Role;
use crate::domain::schedule::{Rule, RuleError, zone};
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::state::AppState;

/// Roles an attention moment can be addressed to.
pub const RECIPIENT_ROLES: [Role; 4] = [Role::HrLead, Role::Director, Role::Manager, Role::Employee];

#[derive(Debug, Clone, Serialize)]
pub struct MomentView {
    #[serde(flatten)]
    pub moment: attention_moment::Model,
    pub recipients: Vec<String>,
    pub next: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttentionView {
    pub organisation: organisation::Model,
    pub moments: Vec<MomentView>,
    pub has_feed: bool,
    pub may_manage: bool,
    pub recipient_roles: Vec<&'static str>,
}

pub async fn view(state: &AppState, actor: &Actor, org: i64) -> AppResult<AttentionView> {
    actor.may(Permission::ViewAssessment, org)?;
    let organisation = organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let tz = zone(&organisation.timezone);
    let now = state.now();
    let moments = attention_moment::Entity::find()
        .filter(attention_moment::Column::OrganisationId.eq(org))
        .filter(attention_moment::Column::Active.eq(true))
        .order_by_asc(attention_moment::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|m| MomentView {
            next: Rule::parse(&m.rule).ok().and_then(|r| r.next_after(tz, now, 1).into_iter().next()),
            recipients: m.recipients.split(',').map(str::to_string).collect(),
            moment: m,
        })
        .collect();
    let has_feed =
        calendar_feed::Entity::find().filter(calendar_feed::Column::OrganisationId.eq(org)).count(&state.db).await? > 0;
    Ok(AttentionView {
        organisation,
        moments,
        has_feed,
        may_manage: actor.may(Permission::ManageAttention, org).is_ok(),
        recipient_roles: RECIPIENT_ROLES.map(Role::as_str).to_vec(),
    })
}

pub struct NewMoment {
    pub title: String,
    pub message: String,
    pub rule: String,
    pub recipients: Vec<String>,
}

fn rule_error_code(e: &RuleError) -> &'static str {
    match e {
        RuleError::Unknown => "rule_unknown",
        RuleError::NoSuchDay => "rule_no_such_day",
        RuleError::Cron(_) => "rule_cron",
        RuleError::TooFrequent => "rule_too_frequent",
    }
}

/// How many active attention moments an organisation keeps at most.
pub const MAX_MOMENTS: u64 = 100;

pub async fn add_moment(state: &AppState, actor: &Actor, org: i64, m: NewMoment) -> AppResult<attention_moment::Model> {
    actor.may(Permission::ManageAttention, org)?;
    let mut errors = vec![];
    let title = m.title.trim();
    if crate::domain::text::single_line(title, 200).is_none() {
        errors.push(crate::error::FieldError::new("title", "title_required"));
    }
    let message = m.message.trim();
    if message.is_empty() || message.chars().count() > 5000 {
        errors.push(crate::error::FieldError::new("message", "message_required"));
    }
    if let Err(e) = Rule::parse(&m.rule) {
        errors.push(crate::error::FieldError::new("rule", rule_error_code(&e)));
    }
    let recipients: Vec<&str> =
        RECIPIENT_ROLES.iter().map(|r| r.as_str()).filter(|r| m.recipients.iter().any(|x| x == r)).collect();
    if recipients.is_empty() || recipients.len() != m.recipients.len() {
        errors.push(crate::error::FieldError::new("recipients", "recipients_required"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    // The organisation's own moments are one list on one page: bounded here, not paged.
    let active = attention_moment::Entity::find()
        .filter(attention_moment::Column::OrganisationId.eq(org))
        .filter(attention_moment::Column::Active.eq(true))
        .count(&txn)
        .await?;
    if active >= MAX_MOMENTS {
        return Err(AppError::invalid("title", "too_many_moments"));
    }
    let row = attention_moment::ActiveModel {
        organisation_id: Set(org),
        title: Set(title.into()),
        message: Set(message.into()),
        rule: Set(m.rule.trim().into()),
        recipients: Set(recipients.join(",")),
        active: Set(true),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "attention.moment_added",
            subject: format!("attention_moment:{}", row.id),
            detail: Some(format!("{} ({})", row.title, row.rule)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// Stops a moment (it stays on record, with the reminders it sent).
pub async fn remove_moment(state: &AppState, actor: &Actor, id: i64) -> AppResult<i64> {
    let m = attention_moment::Entity::find_by_id(id).one(&state.db).await?.ok_or(AppError::NotFound)?;
    actor.may(Permission::ManageAttention, m.organisation_id)?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    attention_moment::Entity::update_many()
        .col_expr(attention_moment::Column::Active, Expr::value(false))
        .filter(attention_moment::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(m.organisation_id),
            action: "attention.moment_removed",
            subject: format!("attention_moment:{id}"),
            detail: Some(m.title),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(m.organisation_id)
}

pub struct Settings {
    pub timezone: String,
    pub appraisal_month: Option<i32>,
    pub manager_briefing_years: i32,
}

pub async fn update_settings(state: &AppState, actor: &Actor, org: i64, s: Settings) -> AppResult<organisation::Model> {
    actor.may(Permission::ManageAttention, org)?;
    let mut errors = vec![];
    if s.timezone.parse::<chrono_tz::Tz>().is_err() {
        errors.push(crate::error::FieldError::new("timezone", "timezone_unknown"));
    }
    if s.appraisal_month.is_some_and(|m| !(1..=12).contains(&m)) {
        errors.push(crate::error::FieldError::new("appraisal_month", "month_invalid"));
    }
    if !(1..=10).contains(&s.manager_briefing_years) {
        errors.push(crate::error::FieldError::new("manager_briefing_years", "years_invalid"));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let o = organisation::Entity::find_by_id(org).one(&state.db).await?.ok_or(AppError::NotFound)?;
    let now = state.now();
    let txn = write_txn(&state.db).await?;
    let mut am: organisation::ActiveModel = o.into();
    am.timezone = Set(s.timezone.clone());
    am.appraisal_month = Set(s.appraisal_month);
    am.manager_briefing_years = Set(s.manager_briefing_years);
    let o = am.update(&txn).await?;
    audit::record(
        &txn,
        now,
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: Some(org),
            action: "attention.settings",
            subject: format!("organisation:{org}"),
            detail: Some(format!(
                "timezone {}, appraisal month {:?}, manager briefing every {} years",
                s.timezone, s.appraisal_month, s.manager_briefing_years
            )),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(o)
}

#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub name: &'static str,
    pub heartbeat: String,
    pub next_check: Option<DateTime<Utc>>,
    pub last_run: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    pub periods_done: u64,
    /// Periods whose last attempt failed and that are not done yet.
    pub failures: Vec<job_run::Model>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobsOverview {
    pub jobs: Vec<JobView>,
    pub mail_failures: Vec<outbox::Model>,
    pub mail_waiting: u64,
    /// Given up (refused for good, or out of attempts): the operator retries or discards them.
    pub mail_dead: Vec<outbox::Model>,
}

/// The next heartbeat after `now` (the cron has seconds).
fn next_check(heartbeat: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let fields: Vec<&str> = heartbeat.split_whitespace().collect();
    // croner reads five fields; the heartbeat's seconds are 0 in every default, so skip them.
    let five = if fields.len() == 6 { fields[1..].join(" ") } else { heartbeat.to_string() };
    let cron = crate::domain::schedule::parse_cron(&five).ok()?;
    cron.find_next_occurrence(&now, false).ok()
}

pub async fn jobs_overview(state: &AppState, actor: &Actor) -> AppResult<JobsOverview> {
    actor.may_globally(GlobalPermission::ManageJobs)?;
    let now = state.now();
    let heartbeat = state.config.jobs_heartbeat.clone();
    let mut jobs = vec![];
    for job in Job::ALL {
        let last = job_run::Entity::find()
            .filter(job_run::Column::Job.eq(job.name()))
            .filter(job_run::Column::FinishedAt.is_not_null())
            .order_by_desc(job_run::Column::FinishedAt)
            .one(&state.db)
            .await?;
        let periods_done = job_run::Entity::find()
            .filter(job_run::Column::Job.eq(job.name()))
            .filter(job_run::Column::FinishedAt.is_not_null())
            .count(&state.db)
            .await?;
        let failures = job_run::Entity::find()
            .filter(job_run::Column::Job.eq(job.name()))
            .filter(job_run::Column::FinishedAt.is_null())
            .filter(job_run::Column::LastError.is_not_null())
            .order_by_desc(job_run::Column::ClaimedAt)
            .limit(20)
            .all(&state.db)
            .await?;
        jobs.push(JobView {
            name: job.name(),
            next_check: next_check(&heartbeat, now),
            heartbeat: heartbeat.clone(),
            last_run: last.as_ref().and_then(|l| l.finished_at),
            last_outcome: last.and_then(|l| l.outcome),
            periods_done,
            failures,
        });
    }
    let mail_failures = outbox::Entity::find()
        .filter(crate::mail::sender::failing())
        .order_by_desc(outbox::Column::Id)
        .limit(50)
        .all(&state.db)
        .await?;
    let mail_waiting = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::DeadAt.is_null())
        .count(&state.db)
        .await?;
    let mail_dead = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::DeadAt.is_not_null())
        .order_by_desc(outbox::Column::Id)
        .limit(100)
        .all(&state.db)
        .await?;
    Ok(JobsOverview { jobs, mail_failures, mail_waiting, mail_dead })
}

/// The operator runs a job now; periods already done stay done.
pub async fn run_now(state: &AppState, actor: &Actor, name: &str) -> AppResult<crate::jobs::Report> {
    actor.may_globally(GlobalPermission::ManageJobs)?;
    let job = Job::parse(name).ok_or(AppError::NotFound)?;
    let report = crate::jobs::run(state, job).await?;
    let txn = write_txn(&state.db).await?;
    audit::record(
        &txn,
        state.now(),
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: None,
            action: "job.run_now",
            subject: format!("job:{name}"),
            detail: Some(format!("{} done, {} reminders, {} failed", report.done, report.notices, report.failed)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(report)
}

/// What the operator does with dead mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadMail {
    /// Send it again now, with a fresh count of attempts.
    Retry,
    /// Remove it; it will not be sent.
    Discard,
}

/// Retries or discards one dead e-mail (operator), audited. Only dead mail: a message that is
/// still being tried, or was sent, is not touched (404).
pub async fn handle_dead_mail(state: &AppState, actor: &Actor, id: i64, what: DeadMail) -> AppResult<()> {
    actor.may_globally(GlobalPermission::ManageJobs)?;
    let txn = write_txn(&state.db).await?;
    let row = outbox::Entity::find_by_id(id)
        .filter(outbox::Column::SentAt.is_null())
        .filter(outbox::Column::DeadAt.is_not_null())
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let (action, changed) = match what {
        DeadMail::Retry => (
            "mail.retry",
            outbox::Entity::update_many()
                .col_expr(outbox::Column::DeadAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(outbox::Column::Attempts, Expr::value(0))
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(state.now()))
                .filter(outbox::Column::Id.eq(id))
                .filter(outbox::Column::DeadAt.is_not_null())
                .exec(&txn)
                .await?
                .rows_affected,
        ),
        DeadMail::Discard => (
            "mail.discard",
            outbox::Entity::delete_many()
                .filter(outbox::Column::Id.eq(id))
                .filter(outbox::Column::DeadAt.is_not_null())
                .exec(&txn)
                .await?
                .rows_affected,
        ),
    };
    if changed != 1 {
        return Err(AppError::NotFound);
    }
    audit::record(
        &txn,
        state.now(),
        Entry {
            actor_id: Some(actor.user_id),
            organisation_id: None,
            action,
            subject: format!("outbox:{id}"),
            detail: Some(format!("{} · {}", row.recipient, row.subject)),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
