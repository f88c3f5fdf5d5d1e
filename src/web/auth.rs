//! Login, logout, language, the welcome page of setup and invitation links, password reset.
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::notice::{Done, redirect_done};
use super::session::{self, LANG_COOKIE, MaybeViewer, SESSION_COOKIE};
use super::{field_errors, redirect, render, safe_next};
use crate::error::AppError;
use crate::services::accounts;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[handler]
pub async fn login_page(
    req: &Request,
    state: Data<&AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Query(q): Query<NextQuery>,
) -> poem::Result<Response> {
    if viewer.is_some() {
        return Ok(redirect(&safe_next(&state, q.next.as_deref())));
    }
    render(&state, req, None, StatusCode::OK, "login.html", minijinja::context! { next => q.next, email => "" })
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

#[handler]
pub async fn login(req: &Request, state: Data<&AppState>, Form(f): Form<LoginForm>) -> poem::Result<Response> {
    match accounts::login(&state, &f.email, &f.password).await {
        Ok((user, token)) => {
            let mut resp = redirect(&safe_next(&state, f.next.as_deref()));
            let max_age = accounts::SESSION_DAYS * 24 * 3600;
            for c in [
                session::set_cookie(&state, SESSION_COOKIE, &token, max_age),
                session::set_cookie(&state, LANG_COOKIE, &user.locale, 365 * 24 * 3600),
            ] {
                if let Ok(v) = c.parse() {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            Ok(resp)
        }
        Err(AppError::Invalid(errors)) => {
            let lang = session::lang(req, None);
            render(
                &state,
                req,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                "login.html",
                minijinja::context! { next => f.next, email => f.email, errors => field_errors(&state, lang, &errors) },
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn logout(state: Data<&AppState>, MaybeViewer(viewer): MaybeViewer) -> poem::Result<Response> {
    if let Some(v) = viewer {
        accounts::logout(&state, &v.session_token).await?;
    }
    let mut resp = redirect("/login");
    if let Ok(v) = session::set_cookie(&state, SESSION_COOKIE, "", 0).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[handler]
pub async fn language(
    state: Data<&AppState>,
    MaybeViewer(viewer): MaybeViewer,
    Form(f): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let lang = super::i18n::normalise(field("lang"));
    let next = safe_next(&state, field("next"));
    if let Some(v) = &viewer {
        accounts::set_locale(&state, v.user.id, lang).await?;
        // A failed form's page sends what was typed along (`keep.<field>`): it comes back on the
        // same page in the other language instead of being lost.
        let fields: std::collections::BTreeMap<String, String> = f
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("keep.").map(|k| (k.to_string(), v.clone())))
            .filter(|(k, _)| super::keeps_field(k))
            .take(40)
            .collect();
        if !fields.is_empty() {
            let kept = accounts::KeptForm { path: next.clone(), fields };
            accounts::keep_form(&state, &v.session_token, Some(&kept)).await?;
        }
    }
    let mut resp = redirect(&next);
    if let Ok(v) = session::set_cookie(&state, LANG_COOKIE, lang, 365 * 24 * 3600).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

#[handler]
pub async fn welcome_page(req: &Request, state: Data<&AppState>, Path(token): Path<String>) -> poem::Result<Response> {
    let row = accounts::usable_token(&state, &token).await?;
    let setup = row.purpose == "setup";
    render(
        &state,
        req,
        None,
        StatusCode::OK,
        "welcome.html",
        minijinja::context! { token => token, setup => setup, email => row.email, name => row.name, role => row.role },
    )
}

#[derive(Deserialize)]
pub struct WelcomeForm {
    name: String,
    #[serde(default)]
    email: String,
    password: String,
}

#[handler]
pub async fn welcome(
    req: &Request,
    state: Data<&AppState>,
    Path(token): Path<String>,
    Form(f): Form<WelcomeForm>,
) -> poem::Result<Response> {
    match accounts::accept_invitation(&state, &token, &f.name, &f.email, &f.password).await {
        Ok(_) => Ok(redirect_done("/login", Done::PasswordSet)),
        Err(AppError::Invalid(errors)) => {
            let row = accounts::usable_token(&state, &token).await?;
            let lang = session::lang(req, None);
            render(
                &state,
                req,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                "welcome.html",
                minijinja::context! {
                    token => token, setup => row.purpose == "setup",
                    email => if row.email.is_empty() { f.email } else { row.email }, name => f.name, role => row.role,
                    errors => field_errors(&state, lang, &errors),
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn reset_request_page(req: &Request, state: Data<&AppState>) -> poem::Result<Response> {
    render(&state, req, None, StatusCode::OK, "reset_request.html", minijinja::context! { email => "" })
}

#[derive(Deserialize)]
pub struct ResetRequestForm {
    email: String,
}

#[handler]
pub async fn reset_request(
    req: &Request,
    state: Data<&AppState>,
    Form(f): Form<ResetRequestForm>,
) -> poem::Result<Response> {
    let lang = session::lang(req, None);
    match accounts::request_password_reset(&state, &f.email, lang).await {
        Ok(()) => Ok(redirect_done("/login", Done::ResetRequested)),
        Err(AppError::Invalid(errors)) => render(
            &state,
            req,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reset_request.html",
            minijinja::context! { email => f.email, errors => field_errors(&state, lang, &errors) },
        ),
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn reset_page(req: &Request, state: Data<&AppState>, Path(token): Path<String>) -> poem::Result<Response> {
    let row = accounts::usable_token(&state, &token).await?;
    if row.purpose != "reset" {
        return Err(AppError::NotFound.into());
    }
    render(&state, req, None, StatusCode::OK, "reset.html", minijinja::context! { token => token })
}

#[derive(Deserialize)]
pub struct ResetForm {
    password: String,
}

#[handler]
pub async fn reset(
    req: &Request,
    state: Data<&AppState>,
    Path(token): Path<String>,
    Form(f): Form<ResetForm>,
) -> poem::Result<Response> {
    let lang = session::lang(req, None);
    match accounts::reset_password(&state, &token, &f.password).await {
        Ok(_) => Ok(redirect_done("/login", Done::PasswordSet)),
        Err(AppError::Invalid(errors)) => render(
            &state,
            req,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "reset.html",
            minijinja::context! { token => token, errors => field_errors(&state, lang, &errors) },
        ),
        Err(e) => Err(e.into()),
    }
}
