//! HTML pages: thin handlers over `services`, rendered with minijinja in Dutch or English.
//! Forms carry a CSRF token; failed forms are shown again with the errors next to the fields.
pub mod admin;
pub mod assessment;
pub mod attention;
pub mod auth;
pub mod dashboard;
pub mod i18n;
pub mod passport;
pub mod recognition;
pub mod session;
pub mod templates;

use poem::http::{StatusCode, header};
use poem::web::Redirect;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler, post};
use serde::Serialize;

use crate::error::{AppError, FieldError};
use crate::state::AppState;
use session::Viewer;

pub fn routes() -> impl Endpoint {
    Route::new()
        .at("/", get(home))
        .at("/static/style.css", get(stylesheet))
        .at("/login", get(auth::login_page).post(auth::login))
        .at("/logout", post(auth::logout))
        .at("/language", post(auth::language))
        .at("/welcome/:token", get(auth::welcome_page).post(auth::welcome))
        .at("/password-reset", get(auth::reset_request_page).post(auth::reset_request))
        .at("/password-reset/:token", get(auth::reset_page).post(auth::reset))
        .at("/organisations/:id", get(assessment::overview))
        .at("/organisations/:id/checklists/:key", get(assessment::worksheet))
        .at("/organisations/:id/members", get(admin::members).post(admin::invite_member))
        .at("/items/:id", get(assessment::item))
        .at("/items/:id/transition", post(assessment::transition))
        .at("/items/:id/details", post(assessment::update_item))
        .at("/items/:id/comments", post(assessment::comment))
        .at("/items/:id/evidence", post(assessment::add_evidence))
        .at("/evidence/:id/download", get(assessment::download))
        .at("/review", get(assessment::review_queue))
        .at("/portfolio", get(dashboard::portfolio))
        .at("/organisations/:id/dashboard", get(dashboard::director))
        .at("/organisations/:id/report", get(dashboard::report))
        .at("/organisations/:id/export.csv", get(dashboard::export_csv))
        .at("/organisations/:id/recognition", get(recognition::show))
        .at("/organisations/:id/recognition/apply", post(recognition::apply))
        .at("/organisations/:id/recognition/certificate", get(recognition::certificate_page))
        .at("/organisations/:id/recognition/certificate.pdf", get(recognition::certificate_pdf))
        .at("/recognition-applications/:id/decision", post(recognition::decide))
        .at("/recognitions/:id/revoke", post(recognition::revoke))
        .at("/verify/:code", get(recognition::verify))
        .at("/operator", get(admin::operator))
        .at("/operator/organisations", post(admin::create_organisation))
        .at("/operator/advisors", post(admin::invite_advisor))
        .at("/operator/assignments", post(admin::assign_advisor))
        .at("/passport", get(passport::home))
        .at("/passport/consent", post(passport::give_consent))
        .at("/passport/withdraw", post(passport::withdraw))
        .at("/passport/import", post(passport::import))
        .at("/passports", post(passport::start))
        .at("/passports/:id", get(passport::show))
        .at("/passports/:id/edit", get(passport::edit).post(passport::save))
        .at("/passports/:id/confirm", post(passport::confirm))
        .at("/passports/:id/review", post(passport::review))
        .at("/passports/:id/transfer-code", post(passport::transfer_code))
        .at("/passports/:id/export.pdf", get(passport::export_pdf))
        .at("/passports/:id/export.json", get(passport::export_json))
        .at("/organisations/:id/passports", get(passport::figures))
        .at("/organisations/:id/reporting-lines", post(passport::set_line))
        .at("/organisations/:id/handovers", post(passport::hand_over_all))
        .at("/account", get(admin::account))
        .at("/account/tokens", post(admin::create_token))
        .at("/account/tokens/:id/revoke", post(admin::revoke_token))
        .at("/inbox", get(attention::inbox))
        .at("/inbox/read", post(attention::mark_read))
        .at("/inbox/preferences", post(attention::preferences))
        .at("/inbox/calendar", post(attention::my_calendar))
        .at("/organisations/:id/attention", get(attention::page))
        .at("/organisations/:id/attention/moments", post(attention::add_moment))
        .at("/organisations/:id/attention/settings", post(attention::settings))
        .at("/organisations/:id/attention/calendar", post(attention::organisation_calendar))
        .at("/attention-moments/:id/remove", post(attention::remove_moment))
        .at("/operator/jobs", get(attention::jobs))
        .at("/operator/jobs/:name/run", post(attention::run_job))
        .at("/calendar/:token", get(attention::calendar_feed))
        .around(error_pages)
}

/// Turns every error on a page into a readable page with the right status; not being logged in
/// leads to the login page and back.
async fn error_pages<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let state = req.data::<AppState>().cloned();
    let lang = session::lang(&req, None);
    let path = req.uri().path().to_string();
    let mut resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(err) => {
            let Some(state) = state else { return Err(err) };
            if matches!(err.downcast_ref::<AppError>(), Some(AppError::Unauthenticated)) {
                let next = url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
                return Ok(with_security_headers(Redirect::see_other(format!("/login?next={next}")).into_response()));
            }
            let (status, message) = match err.downcast_ref::<AppError>() {
                Some(AppError::NotFound) => {
                    (StatusCode::NOT_FOUND, state.translations.get(lang, "error.not_found").to_string())
                }
                Some(AppError::Forbidden) => {
                    (StatusCode::FORBIDDEN, state.translations.get(lang, "error.forbidden").to_string())
                }
                Some(AppError::Csrf) => (StatusCode::FORBIDDEN, state.translations.get(lang, "error.csrf").to_string()),
                Some(e) => (e.status(), page_message(&state, lang, e)),
                None if err.status() == StatusCode::NOT_FOUND => {
                    (StatusCode::NOT_FOUND, state.translations.get(lang, "error.not_found").to_string())
                }
                None => (err.status(), err.to_string()),
            };
            let ctx = minijinja::context! { lang => lang, status => status.as_u16(), message => message };
            let body = state
                .templates
                .get_template("error.html")
                .and_then(|t| t.render(ctx))
                .unwrap_or_else(|_| format!("{} {message}", status.as_u16()));
            html(status, body)
        }
    };
    resp = with_security_headers(resp);
    Ok(resp)
}

/// Pages need no scripts and are never framed; browsers are told so.
fn with_security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'self'; script-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        if let Ok(v) = poem::http::HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    resp
}

pub fn html(status: StatusCode, body: String) -> Response {
    Response::builder().status(status).content_type("text/html; charset=utf-8").body(body)
}

/// Field errors as a map field → translated message, for showing next to each field.
/// An error's message for a page, in the page's language where a translation exists.
pub fn page_message(state: &AppState, lang: &str, err: &AppError) -> String {
    match err {
        AppError::Conflict(msg) => {
            let key = format!("conflict.{msg}");
            let text = state.translations.get(lang, &key);
            if text == key { msg.clone() } else { text.to_string() }
        }
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
        AppError::Conflict(_) | AppError::TooLarge(_) | AppError::UnsupportedType(_) => {
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
    let me = viewer.map(|v| Me {
        id: v.user.id,
        name: v.user.name.clone(),
        email: v.user.email.clone(),
        role: v.user.role.clone(),
        organisation_id: v.user.organisation_id,
        unread: v.unread,
    });
    let path = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let full = minijinja::context! { lang => lang, me => me, csrf => csrf, path => path, ..ctx };
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

pub fn redirect(to: &str) -> Response {
    Redirect::see_other(to).into_response()
}

/// Only local paths are followed after a form, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".into(),
    }
}

#[handler]
async fn home(req: &Request, state: poem::web::Data<&AppState>) -> poem::Result<Response> {
    use crate::domain::role::Role;
    let Some(v) = session::viewer(req, &state).await? else {
        return Ok(redirect("/login"));
    };
    Ok(match (v.actor.role, v.user.organisation_id) {
        (Role::Operator, _) => redirect("/operator"),
        (Role::Advisor, _) => redirect("/review"),
        (_, Some(org)) => redirect(&format!("/organisations/{org}")),
        _ => redirect("/account"),
    })
}

#[handler]
fn stylesheet() -> Response {
    Response::builder()
        .content_type("text/css; charset=utf-8")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(include_str!("../../templates/static/style.css"))
}
