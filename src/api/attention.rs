//! REST API for recurring attention: the inbox, reminder preferences, attention moments and
//! settings, calendar feed URLs, and the operator's jobs.
use super::text::Text;
use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::auth::ApiAuth;
use super::page::{Cursor, Limit};
use crate::db::entities::user;
use crate::error::AppError;
use crate::services::attention::{self as svc, NewMoment as NewMomentInput, Settings};
use crate::services::calendar::{self, Owner};
use crate::services::notifications::{self, Kind};
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// Your inbox and which reminders come by e-mail.
    Inbox,
    /// The organisation's attention moments, settings and calendar feeds.
    Attention,
    /// The recurring jobs (operator).
    Jobs,
}

#[derive(Object)]
pub struct Message {
    pub id: i64,
    /// day_of_carers, appraisal_cycle, manager_briefing, handbook_check, evidence_lapsing,
    /// item_due, recognition_expiry, advisor_digest or custom_moment
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub organisation_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(Object)]
pub struct Inbox {
    pub unread: u64,
    /// This page of messages, newest first.
    pub messages: Vec<Message>,
    /// Passed as `cursor`, fetches the next (older) page; null on the last.
    pub next_cursor: Option<String>,
    /// How many messages there are in all.
    pub total: u64,
}

#[derive(Object)]
pub struct Preference {
    pub kind: String,
    pub email: bool,
    /// Comes with the role: always by e-mail.
    pub required: bool,
}

#[derive(Object)]
pub struct Preferences {
    /// The kinds to get by e-mail; the other optional kinds come only in the inbox.
    pub email: Vec<Text>,
}

#[derive(Object)]
pub struct Moment {
    pub id: i64,
    pub title: String,
    pub message: String,
    /// "yearly MM-DD", "monthly DD" or a five-field cron expression, in the organisation's time zone.
    pub rule: String,
    /// Roles: hr_lead, director, manager, employee.
    pub recipients: Vec<String>,
    pub next: Option<DateTime<Utc>>,
}

#[derive(Object)]
pub struct NewMoment {
    pub title: Text,
    pub message: Text,
    /// "yearly 11-10", "monthly 15" or a cron expression like "0 9 * * 1".
    pub rule: Text,
    pub recipients: Vec<Text>,
}

#[derive(Object)]
pub struct AttentionSettings {
    /// IANA name, e.g. Europe/Amsterdam.
    pub timezone: Text,
    /// 1-12, or none.
    pub appraisal_month: Option<i32>,
    /// 1-10.
    pub manager_briefing_years: i32,
}

#[derive(Object)]
pub struct FeedUrl {
    /// The secret iCalendar URL; shown once. A new one makes the old one answer 404.
    pub url: String,
}

#[derive(Object)]
pub struct JobRunReport {
    pub job: String,
    pub done: u64,
    pub notices: u64,
    pub failed: u64,
}

#[derive(Object)]
pub struct JobFailure {
    pub period: String,
    pub scope: String,
    pub attempts: i32,
    pub error: Option<String>,
}

#[derive(Object)]
pub struct JobInfo {
    pub name: String,
    pub heartbeat: String,
    pub next_check: Option<DateTime<Utc>>,
    pub last_run: Option<DateTime<Utc>>,
    /// How many reminders the last finished period stored.
    pub last_outcome: Option<String>,
    pub periods_done: u64,
    pub failures: Vec<JobFailure>,
}

#[derive(Object)]
pub struct Jobs {
    pub jobs: Vec<JobInfo>,
    /// E-mails not sent yet.
    pub mail_waiting: u64,
    /// E-mails whose last attempt failed (they are retried with backoff).
    pub mail_failed: u64,
    /// E-mails given up (refused for good or out of attempts): retry or discard them.
    pub mail_dead: Vec<DeadMailInfo>,
}

#[derive(Object)]
pub struct DeadMailInfo {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub attempts: i32,
    pub error: Option<String>,
    pub dead_at: Option<DateTime<Utc>>,
}

fn report(r: crate::jobs::Report) -> JobRunReport {
    JobRunReport { job: r.job.into(), done: r.done as u64, notices: r.notices as u64, failed: r.failed as u64 }
}

async fn me(state: &AppState, auth: &ApiAuth) -> Result<user::Model, AppError> {
    user::Entity::find_by_id_active(&state.db, auth.0.user_id).await
}

pub struct AttentionApi;

async fn preferences_of(state: &AppState, u: &user::Model) -> poem::Result<Json<Vec<Preference>>> {
    let prefs = notifications::preferences(state, u).await?;
    Ok(Json(
        prefs
            .into_iter()
            .map(|p| Preference { kind: p.kind.as_str().into(), email: p.email, required: p.required })
            .collect(),
    ))
}

#[OpenApi]
impl AttentionApi {
    /// Your messages, newest first, a page at a time, and how many are unread.
    #[oai(path = "/inbox", method = "get", tag = "Tag::Inbox")]
    async fn inbox(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        limit: Query<Option<Limit>>,
        cursor: Query<Option<Cursor>>,
    ) -> poem::Result<Json<Inbox>> {
        let page = super::page::request("inbox", limit.0, cursor.0)?;
        // In the user's own language, as their pages show it.
        let lang = crate::web::i18n::normalise(Some(&me(&state, &auth).await?.locale));
        let i = notifications::inbox(&state, auth.0.user_id, lang, &page).await?;
        Ok(Json(Inbox {
            unread: i.unread,
            next_cursor: i.next,
            total: i.total,
            messages: i
                .items
                .into_iter()
                .map(|n| Message {
                    id: n.id,
                    kind: n.kind,
                    title: n.title,
                    body: n.body,
                    link: n.link,
                    organisation_id: n.organisation_id,
                    created_at: n.created_at,
                    read_at: n.read_at,
                })
                .collect(),
        }))
    }

    /// Marks one of your messages as read.
    #[oai(path = "/inbox/:id/read", method = "post", tag = "Tag::Inbox")]
    async fn read(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<()> {
        Ok(notifications::mark_read(&state, auth.0.user_id, Some(id.0), state.now()).await?)
    }

    /// Marks all your messages as read.
    #[oai(path = "/inbox/read-all", method = "post", tag = "Tag::Inbox")]
    async fn read_all(&self, state: Data<&AppState>, auth: ApiAuth) -> poem::Result<()> {
        Ok(notifications::mark_read(&state, auth.0.user_id, None, state.now()).await?)
    }

    /// Which reminders you get by e-mail.
    #[oai(path = "/me/reminder-preferences", method = "get", tag = "Tag::Inbox")]
    async fn preferences(&self, state: Data<&AppState>, auth: ApiAuth) -> poem::Result<Json<Vec<Preference>>> {
        preferences_of(&state, &me(&state, &auth).await?).await
    }

    /// Sets which optional reminders come by e-mail; answers with them as the read shows them.
    #[oai(path = "/me/reminder-preferences", method = "put", tag = "Tag::Inbox")]
    async fn set_preferences(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        body: Json<Preferences>,
    ) -> poem::Result<Json<Vec<Preference>>> {
        let u = me(&state, &auth).await?;
        let mut kinds = vec![];
        for k in &body.email {
            kinds.push(Kind::parse(k).ok_or_else(|| AppError::BadRequest(format!("unknown reminder kind \"{k}\"")))?);
        }
        notifications::set_preferences(&state, &u, &kinds).await?;
        preferences_of(&state, &u).await
    }

    /// A new secret URL for your personal calendar feed.
    #[oai(path = "/me/calendar", method = "post", tag = "Tag::Inbox")]
    async fn my_calendar(&self, state: Data<&AppState>, auth: ApiAuth) -> poem::Result<Json<FeedUrl>> {
        Ok(Json(FeedUrl { url: calendar::regenerate(&state, &auth.0, Owner::Me).await? }))
    }

    /// The organisation's own attention moments.
    #[oai(path = "/organisations/:id/attention-moments", method = "get", tag = "Tag::Attention")]
    async fn moments(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<Json<Vec<Moment>>> {
        let v = svc::view(&state, &auth.0, id.0).await?;
        Ok(Json(
            v.moments
                .into_iter()
                .map(|m| Moment {
                    id: m.moment.id,
                    title: m.moment.title,
                    message: m.moment.message,
                    rule: m.moment.rule,
                    recipients: m.recipients,
                    next: m.next,
                })
                .collect(),
        ))
    }

    /// Adds an attention moment (HR lead). A rule that cannot be read is refused with 422.
    #[oai(path = "/organisations/:id/attention-moments", method = "post", tag = "Tag::Attention")]
    async fn add_moment(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<NewMoment>,
    ) -> poem::Result<Json<Moment>> {
        let b = body.0;
        let m = svc::add_moment(
            &state,
            &auth.0,
            id.0,
            NewMomentInput {
                title: b.title.into(),
                message: b.message.into(),
                rule: b.rule.into(),
                recipients: b.recipients.into_iter().map(Into::into).collect(),
            },
        )
        .await?;
        let next = crate::domain::schedule::Rule::parse(&m.rule).ok().and_then(|r| {
            r.next_after(crate::domain::schedule::zone("Europe/Amsterdam"), state.now(), 1).into_iter().next()
        });
        Ok(Json(Moment {
            id: m.id,
            title: m.title,
            message: m.message,
            rule: m.rule,
            recipients: m.recipients.split(',').map(str::to_string).collect(),
            next,
        }))
    }

    /// Stops an attention moment.
    #[oai(path = "/attention-moments/:id", method = "delete", tag = "Tag::Attention")]
    async fn remove_moment(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<()> {
        svc::remove_moment(&state, &auth.0, id.0).await?;
        Ok(())
    }

    /// Sets the organisation's time zone, appraisal month and manager-briefing interval.
    #[oai(path = "/organisations/:id/attention-settings", method = "put", tag = "Tag::Attention")]
    async fn settings(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
        body: Json<AttentionSettings>,
    ) -> poem::Result<Json<AttentionSettings>> {
        let b = body.0;
        let o = svc::update_settings(
            &state,
            &auth.0,
            id.0,
            Settings {
                timezone: b.timezone.into(),
                appraisal_month: b.appraisal_month,
                manager_briefing_years: b.manager_briefing_years,
            },
        )
        .await?;
        Ok(Json(AttentionSettings {
            timezone: o.timezone.into(),
            appraisal_month: o.appraisal_month,
            manager_briefing_years: o.manager_briefing_years,
        }))
    }

    /// A new secret URL for the organisation's calendar feed (HR lead).
    #[oai(path = "/organisations/:id/calendar", method = "post", tag = "Tag::Attention")]
    async fn organisation_calendar(
        &self,
        state: Data<&AppState>,
        auth: ApiAuth,
        id: Path<i64>,
    ) -> poem::Result<Json<FeedUrl>> {
        Ok(Json(FeedUrl { url: calendar::regenerate(&state, &auth.0, Owner::Organisation(id.0)).await? }))
    }

    /// The jobs, their last run, next check and failures (operator).
    #[oai(path = "/jobs", method = "get", tag = "Tag::Jobs")]
    async fn jobs(&self, state: Data<&AppState>, auth: ApiAuth) -> poem::Result<Json<Jobs>> {
        let o = svc::jobs_overview(&state, &auth.0).await?;
        Ok(Json(Jobs {
            mail_waiting: o.mail_waiting,
            mail_failed: o.mail_failures.len() as u64,
            mail_dead: o
                .mail_dead
                .into_iter()
                .map(|m| DeadMailInfo {
                    id: m.id,
                    recipient: m.recipient,
                    subject: m.subject,
                    attempts: m.attempts,
                    error: m.last_error,
                    dead_at: m.dead_at,
                })
                .collect(),
            jobs: o
                .jobs
                .into_iter()
                .map(|j| JobInfo {
                    name: j.name.into(),
                    heartbeat: j.heartbeat,
                    next_check: j.next_check,
                    last_run: j.last_run,
                    last_outcome: j.last_outcome,
                    periods_done: j.periods_done,
                    failures: j
                        .failures
                        .into_iter()
                        .map(|f| JobFailure {
                            period: f.period,
                            scope: f.scope,
                            attempts: f.attempts,
                            error: f.last_error,
                        })
                        .collect(),
                })
                .collect(),
        }))
    }

    /// Runs a job now (operator); periods already done are not done again.
    #[oai(path = "/jobs/:name/run", method = "post", tag = "Tag::Jobs")]
    async fn run(&self, state: Data<&AppState>, auth: ApiAuth, name: Path<String>) -> poem::Result<Json<JobRunReport>> {
        Ok(Json(report(svc::run_now(&state, &auth.0, &name.0).await?)))
    }

    /// Sends a dead e-mail again, with a fresh count of attempts (operator; audited).
    #[oai(path = "/mail/:id/retry", method = "post", tag = "Tag::Jobs")]
    async fn retry_mail(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<()> {
        svc::handle_dead_mail(&state, &auth.0, id.0, svc::DeadMail::Retry).await?;
        Ok(())
    }

    /// Discards a dead e-mail: it will not be sent (operator; audited).
    #[oai(path = "/mail/:id", method = "delete", tag = "Tag::Jobs")]
    async fn discard_mail(&self, state: Data<&AppState>, auth: ApiAuth, id: Path<i64>) -> poem::Result<()> {
        svc::handle_dead_mail(&state, &auth.0, id.0, svc::DeadMail::Discard).await?;
        Ok(())
    }
}
