//! The employee pulse on the pages: the organisation's rounds and trend (HR, director, advisor),
//! one round's figures, and the questionnaire that employees open from their invitation or the
//! open link (no login; a logged-in person is not recorded either).
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};

use super::notice::{Done, redirect_done};
use super::session::{self, MaybeViewer, Viewer};
use super::{form_failure, render};
use crate::error::AppError;
use crate::services::pulse::{self, Access, NewRound, Refusal};
use crate::state::AppState;
use minijinja::value::Serde;

type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn ticked(f: &Fields, name: &str) -> bool {
    !field(f, name).is_empty()
}

async fn overview_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    org: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let o = pulse::overview(state, &v.actor, org).await?;
    let ctx = minijinja::context! { p => Serde(o), questionnaire => Serde(state.pulse.as_ref()), ..extra };
    render(state, req, Some(v), status, "pulse.html", ctx)
}

#[handler]
pub async fn overview(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
) -> poem::Result<Response> {
    overview_page(&state, req, &v, org, StatusCode::OK, minijinja::context! {}).await
}

#[handler]
pub async fn open(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
    Form(f): Form<Fields>,
) -> poem::Result<Response> {
    let closes_on = field(&f, "closes_on").trim();
    let new = NewRound {
        closes_on: chrono::NaiveDate::parse_from_str(closes_on, "%Y-%m-%d").ok(),
        by_department: ticked(&f, "by_department"),
        free_text: ticked(&f, "free_text"),
        invite: ticked(&f, "invite"),
        open_link: ticked(&f, "open_link"),
    };
    let typed = minijinja::context! { closes_on => closes_on, by_department => new.by_department,
    free_text => new.free_text, invite => new.invite, open_link => new.open_link };
    match pulse::open(&state, &v.actor, org, new).await {
        Ok(r) => Ok(redirect_done(&format!("/pulse/rounds/{}", r.round.id), Done::PulseOpened)),
        Err(e) => {
            let (status, ctx) = form_failure(&state, session::lang(req, Some(&v)), e, typed)?;
            overview_page(&state, req, &v, org, status, minijinja::context! { opening => ctx }).await
        }
    }
}

#[handler]
pub async fn show_round(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> poem::Result<Response> {
    let r = pulse::round(&state, &v.actor, id).await?;
    let (comments, pager) = if r.comments_readable {
        let page = pulse::comments(&state, &v.actor, id, &super::pager::page_of(req, "pulse-comments")).await?;
        let pager = super::pager::pager(req, &page);
        (page.rows, Some(pager))
    } else {
        (vec![], None)
    };
    let ctx = minijinja::context! { r => Serde(r), comments => comments, pager => Serde(pager) };
    render(&state, req, Some(&v), StatusCode::OK, "pulse_round.html", ctx)
}

#[handler]
pub async fn close(req: &Request, state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    pulse::close(&state, Some(&v.actor), id, session::lang(req, Some(&v))).await?;
    Ok(redirect_done(&format!("/pulse/rounds/{id}"), Done::PulseClosed))
}

#[handler]
pub async fn attach(req: &Request, state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    pulse::attach_held_back(&state, &v.actor, id, session::lang(req, Some(&v))).await?;
    Ok(redirect_done(&format!("/pulse/rounds/{id}"), Done::PulseEvidenceAttached))
}

/// The cookie that marks "this browser answered this round" for the open link.
fn answered_cookie(round_id: i64) -> String {
    format!("cf_pulse_{round_id}")
}

fn link_round(token: &str) -> i64 {
    token.split_once('.').and_then(|(id, _)| id.parse().ok()).unwrap_or(0)
}

async fn questionnaire(
    state: &AppState,
    req: &Request,
    viewer: Option<&Viewer>,
    access: Access<'_>,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let action = match &access {
        Access::Invitation(t) => format!("/pulse/answer/{t}"),
        Access::Link { token, .. } => format!("/pulse/link/{token}"),
    };
    let (status, ctx) = match pulse::form(state, &access).await? {
        Ok(form) => (
            status,
            minijinja::context! { questionnaire => Serde(&form.questionnaire), pulse_form => Serde(&form), action => action, ..extra },
        ),
        Err(refusal) => (refusal_status(refusal), minijinja::context! { refusal => Serde(refusal) }),
    };
    // Refusals and thanks are titled with the current questionnaire's name.
    let ctx = minijinja::context! { ..ctx, ..minijinja::context! { questionnaire => Serde(state.pulse.as_ref()) } };
    let mut resp = render(state, req, viewer, status, "pulse_answer.html", ctx)?;
    // The address holds the invitation: it must not leak to other sites or stay in caches.
    resp.headers_mut().insert(header::REFERRER_POLICY, header::HeaderValue::from_static("no-referrer"));
    resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn refusal_status(r: Refusal) -> StatusCode {
    match r {
        Refusal::UsedOrUnknown => StatusCode::GONE,
        Refusal::AnsweredInThisBrowser | Refusal::Closed => StatusCode::CONFLICT,
    }
}

async fn submitted(
    state: &AppState,
    req: &Request,
    viewer: Option<&Viewer>,
    access: Access<'_>,
    fields: &Fields,
) -> poem::Result<Response> {
    match pulse::answer(state, &access, fields).await {
        Ok(Ok(round_id)) => {
            let ctx = minijinja::context! { thanks => true, questionnaire => Serde(state.pulse.as_ref()) };
            let mut resp = render(state, req, viewer, StatusCode::OK, "pulse_answer.html", ctx)?;
            resp.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            if let Access::Link { .. } = access {
                let cookie = session::set_cookie(state, &answered_cookie(round_id), "1", 400 * 24 * 3600);
                if let Ok(v) = header::HeaderValue::from_str(&cookie) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            Ok(resp)
        }
        Ok(Err(refusal)) => {
            let ctx = minijinja::context! { refusal => Serde(refusal), questionnaire => Serde(state.pulse.as_ref()) };
            render(state, req, viewer, refusal_status(refusal), "pulse_answer.html", ctx)
        }
        Err(AppError::Invalid(errors)) => {
            let lang = session::lang(req, viewer);
            let mut chosen: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
            for (k, v) in fields {
                chosen.entry(k.as_str()).or_default().push(v.as_str());
            }
            let (status, ctx) =
                form_failure(state, lang, AppError::Invalid(errors), minijinja::Value::from(Serde(&chosen)))?;
            questionnaire(state, req, viewer, access, status, minijinja::context! { failed => ctx }).await
        }
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn answer_page(
    req: &Request,
    state: Data<&AppState>,
    MaybeViewer(v): MaybeViewer,
    Path(token): Path<String>,
) -> poem::Result<Response> {
    questionnaire(&state, req, v.as_ref(), Access::Invitation(&token), StatusCode::OK, minijinja::context! {}).await
}

#[handler]
pub async fn answer(
    req: &Request,
    state: Data<&AppState>,
    MaybeViewer(v): MaybeViewer,
    Path(token): Path<String>,
    Form(f): Form<Fields>,
) -> poem::Result<Response> {
    submitted(&state, req, v.as_ref(), Access::Invitation(&token), &f).await
}

#[handler]
pub async fn link_page(
    req: &Request,
    state: Data<&AppState>,
    MaybeViewer(v): MaybeViewer,
    Path(token): Path<String>,
) -> poem::Result<Response> {
    let already = session::cookie(req, &answered_cookie(link_round(&token))).is_some();
    questionnaire(
        &state,
        req,
        v.as_ref(),
        Access::Link { token: &token, already, form: None },
        StatusCode::OK,
        minijinja::context! {},
    )
    .await
}

#[handler]
pub async fn link_answer(
    req: &Request,
    state: Data<&AppState>,
    MaybeViewer(v): MaybeViewer,
    Path(token): Path<String>,
    Form(f): Form<Fields>,
) -> poem::Result<Response> {
    let already = session::cookie(req, &answered_cookie(link_round(&token))).is_some();
    let form = f.iter().find(|(k, _)| k == "form").map(|(_, v)| v.as_str());
    submitted(&state, req, v.as_ref(), Access::Link { token: &token, already, form }, &f).await
}
