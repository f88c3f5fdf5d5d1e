//! Recurring attention on the pages: the inbox with reminder preferences and a personal
//! calendar feed, the organisation's attention page, the operator's jobs view and the feeds.
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};

use super::notice::{Done, redirect_done};
use super::session::{self, Viewer};
use super::{form_failure, redirect, render};
use crate::error::AppError;
use crate::services::attention::{self, DeadMail, NewMoment, Settings};
use crate::services::calendar::{self, Owner};
use crate::services::notifications::{self, Kind};
use crate::state::AppState;
use minijinja::value::Serde;

/// Form fields as pairs: checkbox groups send one pair per ticked box.
type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn all_of(f: &Fields, name: &str) -> Vec<String> {
    f.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

async fn inbox_page(state: &AppState, req: &Request, v: &Viewer, extra: minijinja::Value) -> poem::Result<Response> {
    let wanted = super::pager::page_of(req, "inbox");
    let messages = notifications::inbox(state, v.user.id, session::lang(req, Some(v)), &wanted).await?;
    let pager = super::pager::pager_of(req, messages.items.len(), messages.next.as_deref(), messages.total);
    let prefs = notifications::preferences(state, &v.user).await?;
    let has_feed = calendar::has_feed(state, v.user.id).await?;
    let ctx = minijinja::context! { inbox => Serde(messages), pager => Serde(pager), prefs => Serde(prefs), has_feed => Serde(has_feed), ..extra };
    render(state, req, Some(v), StatusCode::OK, "inbox.html", ctx)
}

#[handler]
pub async fn inbox(req: &Request, state: Data<&AppState>, v: Viewer) -> poem::Result<Response> {
    inbox_page(&state, req, &v, minijinja::context! {}).await
}

#[handler]
pub async fn mark_read(state: Data<&AppState>, v: Viewer, Form(f): Form<Fields>) -> poem::Result<Response> {
    let id = match field(&f, "id") {
        "" => None,
        s => Some(s.parse::<i64>().map_err(|_| AppError::BadRequest("id must be a number".into()))?),
    };
    notifications::mark_read(&state, v.user.id, id, state.now()).await?;
    // Opening a message's link marks it read and goes there.
    let public = state.public_url();
    let next = match field(&f, "next") {
        "" => "/inbox".to_string(),
        n => super::safe_next(&state, Some(n.strip_prefix(public.as_str()).unwrap_or(n))),
    };
    Ok(redirect(&next))
}

#[handler]
pub async fn preferences(state: Data<&AppState>, v: Viewer, Form(f): Form<Fields>) -> poem::Result<Response> {
    let kinds: Vec<Kind> = all_of(&f, "email").iter().filter_map(|k| Kind::parse(k)).collect();
    notifications::set_preferences(&state, &v.user, &kinds).await?;
    Ok(redirect_done("/inbox", Done::PreferencesSaved))
}

#[handler]
pub async fn my_calendar(req: &Request, state: Data<&AppState>, v: Viewer) -> poem::Result<Response> {
    let url = calendar::regenerate(&state, &v.actor, Owner::Me).await?;
    inbox_page(&state, req, &v, minijinja::context! { feed_url => url }).await
}

async fn attention_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    org: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let a = attention::view(state, &v.actor, org).await?;
    render(state, req, Some(v), status, "attention.html", minijinja::context! { a => Serde(a), ..extra })
}

#[handler]
pub async fn page(req: &Request, state: Data<&AppState>, v: Viewer, Path(org): Path<i64>) -> poem::Result<Response> {
    attention_page(&state, req, &v, org, StatusCode::OK, minijinja::context! {}).await
}

#[handler]
pub async fn add_moment(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
    Form(f): Form<Fields>,
) -> poem::Result<Response> {
    let m = NewMoment {
        title: field(&f, "title").into(),
        message: field(&f, "message").into(),
        rule: field(&f, "rule").into(),
        recipients: all_of(&f, "recipients"),
    };
    let typed = minijinja::context! { title => m.title.clone(), message => m.message.clone(), rule => m.rule.clone(),
    recipients => m.recipients.clone() };
    match attention::add_moment(&state, &v.actor, org, m).await {
        Ok(_) => Ok(redirect_done(&format!("/organisations/{org}/attention"), Done::MomentAdded)),
        Err(e) => {
            let (status, ctx) = form_failure(&state, session::lang(req, Some(&v)), e, typed)?;
            attention_page(&state, req, &v, org, status, minijinja::context! { moment => ctx }).await
        }
    }
}

#[handler]
pub async fn settings(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
    Form(f): Form<Fields>,
) -> poem::Result<Response> {
    let number = |name: &str| field(&f, name).trim().parse::<i32>();
    let s = Settings {
        timezone: field(&f, "timezone").trim().into(),
        // Empty is "no fixed month"; anything else must be a month (0 is refused as invalid).
        appraisal_month: match field(&f, "appraisal_month").trim() {
            "" => None,
            _ => Some(number("appraisal_month").unwrap_or(0)),
        },
        manager_briefing_years: number("manager_briefing_years").unwrap_or(0),
    };
    let typed = minijinja::context! { timezone => s.timezone.clone(), appraisal_month => s.appraisal_month,
    manager_briefing_years => field(&f, "manager_briefing_years") };
    match attention::update_settings(&state, &v.actor, org, s).await {
        Ok(_) => Ok(redirect_done(&format!("/organisations/{org}/attention"), Done::SettingsSaved)),
        Err(e) => {
            let (status, ctx) = form_failure(&state, session::lang(req, Some(&v)), e, typed)?;
            attention_page(&state, req, &v, org, status, minijinja::context! { settings => ctx }).await
        }
    }
}

#[handler]
pub async fn organisation_calendar(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
) -> poem::Result<Response> {
    let url = calendar::regenerate(&state, &v.actor, Owner::Organisation(org)).await?;
    attention_page(&state, req, &v, org, StatusCode::OK, minijinja::context! { feed_url => url }).await
}

#[handler]
pub async fn remove_moment(state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    let org = attention::remove_moment(&state, &v.actor, id).await?;
    Ok(redirect_done(&format!("/organisations/{org}/attention"), Done::MomentRemoved))
}

async fn jobs_page(state: &AppState, req: &Request, v: &Viewer, extra: minijinja::Value) -> poem::Result<Response> {
    let overview = attention::jobs_overview(state, &v.actor).await?;
    render(state, req, Some(v), StatusCode::OK, "jobs.html", minijinja::context! { o => Serde(overview), ..extra })
}

#[handler]
pub async fn jobs(req: &Request, state: Data<&AppState>, v: Viewer) -> poem::Result<Response> {
    jobs_page(&state, req, &v, minijinja::context! {}).await
}

#[handler]
pub async fn run_job(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(name): Path<String>,
) -> poem::Result<Response> {
    let report = attention::run_now(&state, &v.actor, &name).await?;
    jobs_page(&state, req, &v, minijinja::context! { report => Serde(report) }).await
}

/// The operator's answer to one dead e-mail: `action` is "retry" or "discard".
#[handler]
pub async fn dead_mail(
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<Fields>,
) -> poem::Result<Response> {
    let what = match field(&f, "action") {
        "retry" => DeadMail::Retry,
        "discard" => DeadMail::Discard,
        _ => return Err(AppError::BadRequest("action must be retry or discard".into()).into()),
    };
    attention::handle_dead_mail(&state, &v.actor, id, what).await?;
    Ok(redirect_done(
        "/operator/jobs",
        match what {
            DeadMail::Retry => Done::MailRetried,
            DeadMail::Discard => Done::MailDiscarded,
        },
    ))
}

/// The iCalendar feed behind a secret URL; no login (calendar apps cannot log in).
#[handler]
pub async fn calendar_feed(state: Data<&AppState>, Path(token): Path<String>) -> poem::Result<Response> {
    let body = calendar::feed(&state, &token).await?;
    Ok(Response::builder()
        .content_type("text/calendar; charset=utf-8")
        .header(header::CACHE_CONTROL, "private, max-age=300")
        .body(body))
}
