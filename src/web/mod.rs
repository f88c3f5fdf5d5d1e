//! HTML pages: thin handlers over `services`, rendered with minijinja in Dutch or English.
//! Forms carry a CSRF token; failed forms are shown again with the errors next to the fields.
pub mod admin;
pub mod assessment;
pub mod attention;
pub mod auth;
pub mod dashboard;
pub mod i18n;
pub mod notice;
pub mod pager;
pub mod passport;
pub mod pulse;
pub mod recognition;
pub mod session;
pub mod templates;

use minijinja::value::Serde;
use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::http::{StatusCode, header};
use poem::web::Redirect;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Request, Response, Route, RouteMethod, handler};
use serde::Serialize;

use crate::domain::policy::Destination;
use crate::error::{AppError, FieldError};
use crate::state::AppState;
use session::Viewer;

/// Every page route, in one table: the router is built from it, and the tests walk it (every
/// POST must be refused without a valid CSRF token), so a new route cannot escape either.
fn table() -> Table {
    Table::default()
        .get("/", home)
        .get("/static/style.css", stylesheet)
        .get("/login", auth::login_page)
        .post("/login", auth::login)
        .post("/logout", auth::logout)
        .post("/language", auth::language)
        .get("/welcome/:token", auth::welcome_page)
        .post("/welcome/:token", auth::welcome)
        .get("/password-reset", auth::reset_request_page)
        .post("/password-reset", auth::reset_request)
        .get("/password-reset/:token", auth::reset_page)
        .post("/password-reset/:token", auth::reset)
        .get("/organisations/:id", assessment::overview)
        .get("/organisations/:id/checklists/:key", assessment::worksheet)
        .get("/organisations/:id/members", admin::members)
        .post("/organisations/:id/members", admin::invite_member)
        .post("/organisations/:id/members/:user", admin::change_member)
        .get("/organisations/:id/members/:user/erase", admin::erase_member_form)
        .post("/organisations/:id/members/:user/erase", admin::erase_member)
        .post("/organisations/:id/invitations/:invitation/resend", admin::resend_invitation)
        .post("/organisations/:id/invitations/:invitation/withdraw", admin::withdraw_invitation)
        .get("/items/:id", assessment::item)
        .post("/items/:id/transition", assessment::transition)
        .post("/items/:id/details", assessment::update_item)
        .post("/items/:id/comments", assessment::comment)
        .post("/items/:id/evidence", assessment::add_evidence)
        .get("/evidence/:id/download", assessment::download)
        .get("/review", assessment::review_queue)
        .post("/review/accept", assessment::accept_opened)
        .get("/portfolio", dashboard::portfolio)
        .get("/portfolio/export.csv", dashboard::portfolio_csv)
        .get("/organisations/:id/dashboard", dashboard::director)
        .get("/organisations/:id/report", dashboard::report)
        .get("/organisations/:id/export.csv", dashboard::export_csv)
        .get("/organisations/:id/recognition", recognition::show)
        .post("/organisations/:id/recognition/apply", recognition::apply)
        .get("/organisations/:id/recognition/certificate", recognition::certificate_page)
        .get("/organisations/:id/recognition/certificate.pdf", recognition::certificate_pdf)
        .post("/recognition-applications/:id/decision", recognition::decide)
        .post("/recognitions/:id/revoke", recognition::revoke)
        .get("/verify/:code", recognition::verify)
        .get("/operator", admin::operator)
        .post("/operator/organisations", admin::create_organisation)
        .post("/operator/advisors", admin::invite_advisor)
        .post("/operator/assignments", admin::assign_advisor)
        .post("/operator/assignments/remove", admin::unassign_advisor)
        .post("/operator/advisors/:id", admin::change_advisor)
        .get("/operator/advisors/:id/erase", admin::erase_advisor_form)
        .post("/operator/advisors/:id/erase", admin::erase_advisor)
        .post("/operator/invitations/:invitation/resend", admin::resend_advisor_invitation)
        .post("/operator/invitations/:invitation/withdraw", admin::withdraw_advisor_invitation)
        .get("/passport", passport::home)
        .post("/passport/consent", passport::give_consent)
        .post("/passport/withdraw", passport::withdraw)
        .post("/passport/import", passport::import)
        .post("/passports", passport::start)
        .get("/passports/:id", passport::show)
        .get("/passports/:id/edit", passport::edit)
        .post("/passports/:id/edit", passport::save)
        .post("/passports/:id/confirm", passport::confirm)
        .post("/passports/:id/review", passport::review)
        .post("/passports/:id/transfer-code", passport::transfer_code)
        .get("/passports/:id/export.pdf", passport::export_pdf)
        .get("/passports/:id/export.json", passport::export_json)
        .get("/organisations/:id/passports", passport::figures)
        .post("/organisations/:id/reporting-lines", passport::set_line)
        .post("/organisations/:id/handovers", passport::hand_over_all)
        .get("/account", admin::account)
        .post("/account/tokens", admin::create_token)
        .post("/account/tokens/:id/revoke", admin::revoke_token)
        .get("/inbox", attention::inbox)
        .post("/inbox/read", attention::mark_read)
        .post("/inbox/preferences", attention::preferences)
        .post("/inbox/calendar", attention::my_calendar)
        .get("/organisations/:id/attention", attention::page)
        .post("/organisations/:id/attention/moments", attention::add_moment)
        .post("/organisations/:id/attention/settings", attention::settings)
        .post("/organisations/:id/attention/calendar", attention::organisation_calendar)
        .post("/attention-moments/:id/remove", attention::remove_moment)
        .get("/operator/jobs", attention::jobs)
        .post("/operator/jobs/:name/run", attention::run_job)
        .post("/operator/mail/:id", attention::dead_mail)
        .get("/calendar/:token", attention::calendar_feed)
        .get("/organisations/:id/pulse", pulse::overview)
        .post("/organisations/:id/pulse", pulse::open)
        .get("/pulse/rounds/:id", pulse::show_round)
        .post("/pulse/rounds/:id/close", pulse::close)
        .post("/pulse/rounds/:id/evidence", pulse::attach)
        .get("/pulse/answer/:token", pulse::answer_page)
        .post("/pulse/answer/:token", pulse::answer)
        .get("/pulse/link/:token", pulse::link_page)
        .post("/pulse/link/:token", pulse::link_answer)
}

/// The paths and methods of every page route, as the router has them.
pub fn route_list() -> Vec<(Method, &'static str)> {
    table().0.into_iter().map(|(method, path, _)| (method, path)).collect()
}

/// Pages behind their guards.
pub fn routes() -> impl Endpoint {
    let mut grouped: Vec<(&'static str, RouteMethod)> = vec![];
    for (method, path, ep) in table().0 {
        let i = match grouped.iter().position(|(p, _)| *p == path) {
            Some(i) => i,
            None => {
                grouped.push((path, RouteMethod::new()));
                grouped.len() - 1
            }
        };
        let (_, rm) = grouped.remove(i);
        grouped.insert(i, (path, rm.method(method, ep)));
    }
    let mut route = Route::new();
    for (path, rm) in grouped {
        route = route.at(path, rm);
    }
    // Outermost first: error pages, body limit, CSRF (reads the limited body), rate limits (only
    // requests that carry a valid token count, so a forged form costs the victim nothing).
    route
        .around(crate::http::rate_limit::limit_rate)
        .around(crate::http::csrf::require_token)
        .around(crate::http::body_limit::limit_body)
        .around(error_pages)
}

#[derive(Default)]
struct Table(Vec<(Method, &'static str, BoxEndpoint<'static>)>);

impl Table {
    fn get<E: IntoEndpoint>(mut self, path: &'static str, ep: E) -> Self
    where
        E::Endpoint: 'static,
    {
        self.0.push((Method::GET, path, ep.into_endpoint().map_to_response().boxed()));
        self
    }

    fn post<E: IntoEndpoint>(mut self, path: &'static str, ep: E) -> Self
    where
        E::Endpoint: 'static,
    {
        self.0.push((Method::POST, path, ep.into_endpoint().map_to_response().boxed()));
        self
    }
}

/// Turns every error on a page into a readable page with the right status; not being logged in
/// leads to the login page and back.
async fn error_pages<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let state = req.data::<AppState>().cloned();
    let path = req.uri().path().to_string();
    let request_id = req.extensions().get::<crate::http::request_id::RequestId>().map(|r| r.0.clone());
    // What the error page needs of the request (who is asking, for the site header) outlives it.
    let mut shadow = Request::builder().uri(req.uri().clone());
    for cookie in req.headers().get_all(header::COOKIE) {
        shadow = shadow.header(header::COOKIE, cookie.clone());
    }
    let shadow = shadow.finish();
    match ep.call(req).await {
        Ok(r) => Ok(r.into_response()),
        Err(err) => {
            let Some(state) = state else { return Err(err) };
            // The site header (menu, log-out, language) stays on error pages; if even looking up
            // the user fails (the database is away), the page goes without it.
            let viewer = session::viewer(&shadow, &state).await.ok().flatten();
            let lang = session::lang(&shadow, viewer.as_ref());
            let app_error = err.downcast_ref::<AppError>();
            if matches!(app_error, Some(AppError::Unauthenticated)) {
                let next = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
                return Ok(Redirect::see_other(format!("/login?next={next}")).into_response());
            }
            let t = |key: &str| state.translations.get(lang, key).to_string();
            let (status, message) = match app_error {
                Some(AppError::NotFound) => (StatusCode::NOT_FOUND, t("error.not_found")),
                Some(AppError::Forbidden) => (StatusCode::FORBIDDEN, t("error.forbidden")),
                Some(AppError::Csrf) => (StatusCode::FORBIDDEN, t("error.csrf")),
                Some(AppError::RequestTooLarge { .. }) => (StatusCode::PAYLOAD_TOO_LARGE, t("error.request_too_large")),
                Some(AppError::TooManyRequests { retry_after }) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    t("error.too_many_requests").replace("{time}", &retry_time(&state, *retry_after)),
                ),
                Some(e) => (e.status(), page_message(&state, lang, e)),
                None if err.status() == StatusCode::NOT_FOUND => (StatusCode::NOT_FOUND, t("error.not_found")),
                None => (err.status(), err.to_string()),
            };
            let retry_after = match app_error {
                Some(AppError::TooManyRequests { retry_after }) => Some(*retry_after),
                _ => None,
            };
            if status.is_server_error() {
                tracing::error!(error = %err, "page failed");
            }
            let ctx = minijinja::context! { status => status.as_u16(), message => &message, request_id => request_id };
            let mut resp = render(&state, &shadow, viewer.as_ref(), status, "error.html", ctx)
                .unwrap_or_else(|_| html(status, format!("{} {message}", status.as_u16())));
            if let Some(secs) = retry_after
                && let Ok(v) = poem::http::HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(resp)
        }
    }
}

/// When a client may try again, as a clock time in the Netherlands (no plurals to get wrong).
fn retry_time(state: &AppState, retry_after: u64) -> String {
    let secs = i64::try_from(retry_after).unwrap_or(86_400).clamp(1, 86_400);
    let at = state.now() + chrono::Duration::seconds(secs);
    at.with_timezone(&chrono_tz::Europe::Amsterdam).format("%H:%M:%S").to_string()
}

pub fn html(status: StatusCode, body: String) -> Response {
    Response::builder().status(status).content_type("text/html; charset=utf-8").body(body)
}

/// An error's message for a page, in the page's language. The services speak English (the API
/// passes it on); each message a page can show has a text in `templates/i18n/*-conflicts.toml`,
/// by the message itself or, for the ones that name a status, by its pattern.
pub fn page_message(state: &AppState, lang: &str, err: &AppError) -> String {
    let t = |key: &str| state.translations.get(lang, key).to_string();
    match err {
        AppError::Conflict(msg) => {
            let key = format!("conflict.{msg}");
            let text = t(&key);
            if text != key {
                return text;
            }
            let status = |s: &str| t(&format!("status.{}", s.split([';', ' ']).next().unwrap_or(s)));
            if let Some(rest) = msg.strip_prefix("evidence cannot change while the item is ") {
                t("conflict.evidence_locked").replace("{status}", &status(rest))
            } else if let Some(rest) = msg.strip_prefix("an item that is ") {
                t("conflict.step_not_allowed").replace("{status}", &status(rest))
            } else {
                msg.clone()
            }
        }
        AppError::PreconditionFailed => t("conflict.changed_meanwhile"),
        AppError::TooLarge(_) => t("error.file_too_large")
            .replace("{limit}", &format!("{} MB", state.config.max_upload_bytes / (1024 * 1024))),
        AppError::UnsupportedType(_) => t("error.unsupported_type"),
        other => other.public_message(),
    }
}

/// A failed form as its page shows it: the status, and the field messages or the one problem
/// plus what was typed. Errors a form cannot fix go on to the error page.
pub fn form_failure(
    state: &AppState,
    lang: &str,
    err: AppError,
    form: minijinja::Value,
) -> Result<(StatusCode, minijinja::Value), AppError> {
    match err {
        AppError::Invalid(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            minijinja::context! { errors => field_errors(state, lang, &errors), form => form },
        )),
        AppError::NotEligible(_) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            minijinja::context! { problem => state.translations.get(lang, "recognition.not_eligible"), form => form },
        )),
        AppError::Conflict(_) | AppError::PreconditionFailed | AppError::TooLarge(_) | AppError::UnsupportedType(_) => {
            Ok((err.status(), minijinja::context! { problem => page_message(state, lang, &err), form => form }))
        }
        other => Err(other),
    }
}

pub fn field_errors(state: &AppState, lang: &str, errors: &[FieldError]) -> std::collections::BTreeMap<String, String> {
    errors
        .iter()
        .map(|e| (e.field.clone(), state.translations.get(lang, &format!("error.{}", e.code)).to_string()))
        .collect()
}

#[derive(Serialize)]
struct Me {
    id: i64,
    name: String,
    email: String,
    role: String,
    organisation_id: Option<i64>,
    unread: u64,
    menu: Vec<MenuLink>,
}

/// One entry of the site menu: only pages the policy lets this user open (`Actor::menu`).
#[derive(Serialize)]
struct MenuLink {
    href: String,
    label: &'static str,
    current: bool,
}

pub fn href(d: Destination) -> String {
    d.path()
}

fn label(d: Destination) -> &'static str {
    match d {
        Destination::Operator => "nav.operator",
        Destination::Jobs => "nav.jobs",
        Destination::Portfolio => "nav.portfolio",
        Destination::Review => "nav.review",
        Destination::Overview(_) => "nav.overview",
        Destination::Dashboard(_) => "nav.dashboard",
        Destination::Attention(_) => "nav.attention",
        Destination::Members(_) => "nav.members",
        Destination::Pulse(_) => "nav.pulse",
        Destination::Passport => "nav.passport",
        Destination::Inbox => "nav.inbox",
        Destination::Account => "nav.account",
    }
}

fn menu(viewer: &Viewer, path: &str) -> Vec<MenuLink> {
    viewer
        .actor
        .menu()
        .into_iter()
        .map(|d| {
            let href = href(d);
            let current = path == href || (d == Destination::Passport && path.starts_with("/passport"));
            MenuLink { href, label: label(d), current }
        })
        .collect()
}

/// Renders a page with what every page needs: language, the user, a CSRF token and the path.
pub fn render(
    state: &AppState,
    req: &Request,
    viewer: Option<&Viewer>,
    status: StatusCode,
    template: &str,
    ctx: minijinja::Value,
) -> poem::Result<Response> {
    let lang = session::lang(req, viewer);
    let (csrf, new_anon) = session::csrf_token(state, req, viewer);
    // Where the language switch returns to: this page, or after a form was posted (a failed form
    // shown again) the page the form was on, since the form's own address answers only POST.
    let path = if req.method() == poem::http::Method::GET {
        req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default()
    } else {
        let referer = req.headers().get(header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or("");
        let public = state.public_url();
        let local = referer.strip_prefix(public.as_str()).unwrap_or(referer);
        safe_next(state, Some(local))
    };
    let me = viewer.map(|v| Me {
        id: v.user.id,
        name: v.user.name.clone(),
        email: v.user.email.clone(),
        role: v.user.role.clone(),
        organisation_id: v.user.organisation_id,
        unread: v.unread,
        menu: menu(v, req.uri().path()),
    });
    // What the form before this page did (post/redirect/get), shown once at the top.
    let notice = (status == StatusCode::OK && req.method() == poem::http::Method::GET)
        .then(|| notice::from_query(req.uri().query().unwrap_or("")))
        .flatten()
        .map(|d| state.translations.get(lang, &d.text_key()).to_string());
    // A failed form: what was typed goes along with the language switch (`keep.<field>`). Back on
    // the form's page, it fills the form again, once.
    let mut ctx = ctx;
    let mut kept = vec![];
    if req.method() == poem::http::Method::GET {
        if let Some(v) = viewer
            && let Some(k) = v.kept_form.as_ref().filter(|k| k.path == path)
        {
            if ctx.get_attr("form").is_ok_and(|f| f.is_undefined()) {
                ctx = minijinja::context! { form => &k.fields, ..ctx };
            }
            // Once shown, it is gone: cleared beside the rendering (a page render does not wait
            // on a write; should the write fail, the text only shows once more).
            let (state, token) = (state.clone(), v.session_token.clone());
            tokio::spawn(async move {
                if let Err(e) = crate::services::accounts::keep_form(&state, &token, None).await {
                    tracing::warn!("clearing a kept form: {e}");
                }
            });
        }
    } else if let Ok(form) = ctx.get_attr("form")
        && let Ok(keys) = form.try_iter()
    {
        for key in keys {
            let name = key.to_string();
            if let Ok(value) = form.get_item(&key)
                && let Some(text) = value.as_str()
                && keeps_field(&name)
                && !text.is_empty()
            {
                kept.push((name, text.to_string()));
            }
        }
    }
    let full = minijinja::context! {
        lang => Serde(lang), me => Serde(me), csrf => Serde(csrf), path => Serde(path), notice => Serde(notice), kept_fields => Serde(kept), ..ctx
    };
    let body = state
        .templates
        .get_template(template)
        .and_then(|t| t.render(full))
        .map_err(|e| AppError::internal(format!("{template}: {e:#}")))?;
    let mut resp = html(status, body);
    if let Some(anon) = new_anon
        && let Ok(v) = session::set_cookie(state, session::ANON_COOKIE, &anon, 60 * 60 * 24).parse()
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// Typed values that may travel with a language switch: never secrets.
pub fn keeps_field(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !(n.contains("password") || n.contains("passphrase") || n == "csrf" || n.len() > 64)
}

pub fn redirect(to: &str) -> Response {
    Redirect::see_other(to).into_response()
}

/// Only paths on this site are followed after a form, never another site.
pub fn safe_next(state: &AppState, next: Option<&str>) -> String {
    crate::http::redirect::safe_next(next, &state.public_url())
}

#[handler]
async fn home(session::MaybeViewer(viewer): session::MaybeViewer) -> poem::Result<Response> {
    Ok(match viewer {
        Some(v) => redirect(&href(v.actor.home())),
        None => redirect("/login"),
    })
}

#[handler]
fn stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(include_str!("../../templates/static/style.css"))
}
