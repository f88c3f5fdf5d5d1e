//! The recognition pages: readiness and application, the advisor's decision, the certificate
//! (printable page and PDF) and the public verification page.
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::notice::{Done, redirect_done};
use super::session::{self, Viewer};
use super::{form_failure, render};
use crate::error::AppError;
use crate::services::certificate::{self, Texts};
use crate::services::recognition::{self, RecognitionView};
use crate::state::AppState;
use minijinja::value::Serde;

async fn page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    org: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(v));
    let r = recognition::readiness(state, &v.actor, org, lang).await?;
    render(state, req, Some(v), status, "recognition.html", minijinja::context! { r => Serde(r), ..extra })
}

#[handler]
pub async fn show(req: &Request, state: Data<&AppState>, v: Viewer, Path(org): Path<i64>) -> poem::Result<Response> {
    page(&state, req, &v, org, StatusCode::OK, minijinja::context! {}).await
}

/// A failed form on the recognition page: the page again with the reason and what was typed.
async fn failed(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    org: i64,
    err: AppError,
    form: minijinja::Value,
) -> poem::Result<Response> {
    let (status, ctx) = form_failure(state, session::lang(req, Some(v)), err, form)?;
    page(state, req, v, org, status, ctx).await
}

#[derive(Deserialize, Serialize)]
pub struct ApplyForm {
    motivation: String,
}

#[handler]
pub async fn apply(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
    Form(f): Form<ApplyForm>,
) -> poem::Result<Response> {
    match recognition::apply(&state, &v.actor, org, &f.motivation).await {
        Ok(_) => Ok(redirect_done(&format!("/organisations/{org}/recognition"), Done::RecognitionApplied)),
        Err(e) => failed(&state, req, &v, org, e, minijinja::Value::from(Serde(&f))).await,
    }
}

#[derive(Deserialize, Serialize)]
pub struct DecisionForm {
    decision: String,
    reason: String,
}

#[handler]
pub async fn decide(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<DecisionForm>,
) -> poem::Result<Response> {
    let org = recognition::application_organisation(&state, &v.actor, id).await?;
    let grant = match f.decision.as_str() {
        "grant" => true,
        "decline" => false,
        other => return Err(AppError::BadRequest(format!("unknown decision \"{other}\"")).into()),
    };
    match recognition::decide(&state, &v.actor, id, grant, &f.reason).await {
        Ok(_) => Ok(redirect_done(&format!("/organisations/{org}/recognition"), Done::RecognitionDecided)),
        Err(e) => failed(&state, req, &v, org, e, minijinja::Value::from(Serde(&f))).await,
    }
}

#[derive(Deserialize, Serialize)]
pub struct RevokeForm {
    reason: String,
}

#[handler]
pub async fn revoke(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<RevokeForm>,
) -> poem::Result<Response> {
    let org = recognition::recognition_organisation(&state, &v.actor, id).await?;
    match recognition::revoke(&state, &v.actor, id, &f.reason).await {
        Ok(()) => Ok(redirect_done(&format!("/organisations/{org}/recognition"), Done::RecognitionRevoked)),
        Err(e) => {
            let form = minijinja::context! { revoke_reason => f.reason };
            failed(&state, req, &v, org, e, form).await
        }
    }
}

pub fn texts(state: &AppState, lang: &str, r: &RecognitionView) -> Texts {
    let t = |k: &str| state.translations.get(lang, k).to_string();
    Texts {
        heading: t("certificate.heading"),
        title: t("certificate.title"),
        granted_to: t("certificate.granted_to"),
        number: format!("{} {}", t("certificate.number"), r.number),
        valid: format!(
            "{} {} - {}",
            t("certificate.valid"),
            crate::domain::dates::long_date(lang, r.valid_from),
            crate::domain::dates::long_date(lang, r.valid_until)
        ),
        going_ahead: r.going_ahead_complete.then(|| t("certificate.going_ahead")),
        verify: t("certificate.verify"),
    }
}

#[handler]
pub async fn certificate_page(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
) -> poem::Result<Response> {
    let (o, r) = recognition::certificate(&state, &v.actor, org).await?;
    let qr = certificate::qr_svg(&r.verify_url);
    render(
        &state,
        req,
        Some(&v),
        StatusCode::OK,
        "certificate.html",
        minijinja::context! { organisation => Serde(o), r => Serde(r), qr_svg => Serde(qr) },
    )
}

pub fn pdf_response(name: &str, bytes: Vec<u8>) -> Response {
    Response::builder()
        .content_type("application/pdf")
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(bytes)
}

#[handler]
pub async fn certificate_pdf(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let (o, r) = recognition::certificate(&state, &v.actor, org).await?;
    let t = texts(&state, lang, &r);
    let bytes = certificate::render_pdf_off_runtime(o.name, r.clone(), t).await?;
    Ok(pdf_response(&format!("{}.pdf", r.number), bytes))
}

/// Public: no login, only the organisation, the standing and the dates.
#[handler]
pub async fn verify(
    req: &Request,
    state: Data<&AppState>,
    session::MaybeViewer(viewer): session::MaybeViewer,
    Path(code): Path<String>,
) -> poem::Result<Response> {
    match recognition::verify(&state, &code).await {
        Ok(v) => {
            render(&state, req, viewer.as_ref(), StatusCode::OK, "verify.html", minijinja::context! { v => Serde(v) })
        }
        Err(AppError::NotFound) => render(
            &state,
            req,
            viewer.as_ref(),
            StatusCode::NOT_FOUND,
            "verify.html",
            minijinja::context! { not_found => true },
        ),
        Err(e) => Err(e.into()),
    }
}
