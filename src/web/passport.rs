//! Passport pages: consent, the carer's own page, one passport (view, change, confirm, review,
//! exports, transfer code), import, and HR's figures, reporting lines and handovers. Thin
//! handlers over `services::passport`; the policy there decides, and anything a person may not
//! read answers 404.
use chrono::NaiveDate;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Multipart, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use super::notice::{Done, redirect_done};
use super::session::{self, Viewer};
use super::{field_errors, redirect, render};
use crate::domain::page::PageRequest;
use crate::domain::passport::{ARRANGEMENT_KINDS, Arrangement, Content};
use crate::domain::revision::IfMatch;
use crate::error::AppError;
use crate::services::passport::{self as svc, Channel, ImportSource};
use crate::state::AppState;
use minijinja::value::Serde;

/// Largest signed passport file accepted on import.
const MAX_IMPORT_BYTES: usize = 256 * 1024;

async fn home_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let consent = if v.actor.may_be_carer().is_ok() { svc::consent_of(state, &v.actor).await? } else { None };
    let own = svc::own_passport_id(state, &v.actor).await?;
    let readable = svc::list_readable(state, &v.actor, &super::pager::page_of(req, "passports")).await?;
    let pager = super::pager::pager(req, &readable);
    let readable: Vec<svc::PassportSummary> = readable.rows.into_iter().filter(|p| Some(p.id) != own).collect();
    let org = v.actor.organisation_id;
    let may_figures = org.is_some_and(|o| v.actor.may_see_passport_figures(o).is_ok());
    render(
        state,
        req,
        Some(v),
        status,
        "passport_home.html",
        minijinja::context! {
            consent => Serde(consent), own => Serde(own), readable => Serde(readable), pager => Serde(pager), may_be_carer => Serde(v.actor.may_be_carer().is_ok()),
            may_figures => Serde(may_figures), organisation_id => Serde(org), ..extra
        },
    )
}

#[handler]
pub async fn home(req: &Request, state: Data<&AppState>, v: Viewer) -> poem::Result<Response> {
    home_page(&state, req, &v, StatusCode::OK, minijinja::context! {}).await
}

/// A checkbox sends "on" when ticked and nothing when not.
fn ticked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

#[derive(Deserialize)]
pub struct ConsentForm {
    agree: Option<String>,
    hr_copy: Option<String>,
    statistics: Option<String>,
}

#[handler]
pub async fn give_consent(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(f): Form<ConsentForm>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    if !ticked(&f.agree) {
        let errors = field_errors(&state, lang, &[crate::error::FieldError::new("agree", "consent_required")]);
        return home_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, minijinja::context! { errors => errors })
            .await;
    }
    let choice = svc::ConsentChoice { hr_copy: ticked(&f.hr_copy), statistics: ticked(&f.statistics) };
    svc::give_consent(&state, &v.actor, choice).await?;
    Ok(redirect_done("/passport", Done::ConsentGiven))
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    sure: Option<String>,
}

#[handler]
pub async fn withdraw(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(f): Form<WithdrawForm>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    if !ticked(&f.sure) {
        let errors = field_errors(&state, lang, &[crate::error::FieldError::new("sure", "withdraw_confirm_required")]);
        return home_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, minijinja::context! { errors => errors })
            .await;
    }
    svc::withdraw_consent(&state, &v.actor).await?;
    Ok(redirect_done("/passport", Done::ConsentWithdrawn))
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    carer_id: String,
}

#[handler]
pub async fn start(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(f): Form<StartForm>,
) -> poem::Result<Response> {
    let carer = f.carer_id.trim().parse::<i64>().ok();
    let draft = svc::Draft { content: Content::default(), review_date: None };
    match svc::create(&state, &v.actor, carer, draft).await {
        Ok(id) => Ok(redirect_done(&format!("/passports/{id}/edit"), Done::PassportStarted)),
        Err(AppError::Invalid(errors)) => {
            let lang = session::lang(req, Some(&v));
            let ctx = minijinja::context! { errors => field_errors(&state, lang, &errors) };
            home_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, ctx).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct VersionQuery {
    version: Option<i32>,
}

async fn passport_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    id: i64,
    version: Option<i32>,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let p = svc::view(state, &v.actor, id, version, Channel::Page).await?;
    let (log, pager) = if p.side == crate::domain::passport::Side::Carer {
        let log = svc::access_log(state, &v.actor, id, &super::pager::page_of(req, "access-log")).await?;
        let pager = super::pager::pager(req, &log);
        (log.rows, Some(pager))
    } else {
        (vec![], None)
    };
    let ctx = minijinja::context! { p => Serde(p), log => Serde(log), pager => Serde(pager), ..extra };
    render(state, req, Some(v), status, "passport.html", ctx)
}

#[handler]
pub async fn show(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Query(q): Query<VersionQuery>,
) -> poem::Result<Response> {
    passport_page(&state, req, &v, id, q.version, StatusCode::OK, minijinja::context! {}).await
}

#[derive(Debug, Clone, Serialize)]
struct KindField {
    kind: &'static str,
    details: String,
}

fn kind_fields(content: &Content) -> Vec<KindField> {
    ARRANGEMENT_KINDS
        .iter()
        .map(|k| KindField {
            kind: k,
            details: content
                .arrangements
                .iter()
                .filter(|a| a.kind == *k)
                .map(|a| a.details.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        })
        .collect()
}

async fn edit_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    id: i64,
    status: StatusCode,
    form: Option<(Content, String)>,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let p = svc::view(state, &v.actor, id, None, Channel::Page).await?;
    if !p.may_edit {
        return Err(AppError::NotFound.into());
    }
    let (content, review_date) = form.unwrap_or_else(|| (p.content.clone(), p.review_date.to_string()));
    render(
        state,
        req,
        Some(v),
        status,
        "passport_edit.html",
        minijinja::context! {
            p => Serde(p), kinds => Serde(kind_fields(&content)), situation => Serde(content.situation), support => Serde(content.support),
            review_date => Serde(review_date), ..extra
        },
    )
}

#[handler]
pub async fn edit(req: &Request, state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    edit_page(&state, req, &v, id, StatusCode::OK, None, minijinja::context! {}).await
}

#[handler]
pub async fn save(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let field = |name: &str| f.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let arrangements = ARRANGEMENT_KINDS
        .iter()
        .map(|k| Arrangement { kind: k.to_string(), details: field(&format!("arrangement_{k}")) })
        .filter(|a| !a.details.trim().is_empty())
        .collect();
    let content = Content { situation: field("situation"), arrangements, support: field("support") };
    let review_raw = field("review_date");
    let review_date = match review_raw.trim() {
        "" => None,
        s => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                let lang = session::lang(req, Some(&v));
                let errors = [crate::error::FieldError::new("review_date", "date_invalid")];
                let ctx = minijinja::context! { errors => field_errors(&state, lang, &errors) };
                let form = Some((content, review_raw));
                return edit_page(&state, req, &v, id, StatusCode::UNPROCESSABLE_ENTITY, form, ctx).await;
            }
        },
    };
    // The passport as the page showed it: a change someone made since is not overwritten unseen.
    let revision = field("revision");
    let expect = (!revision.trim().is_empty()).then(|| IfMatch::parse(&revision));
    let draft = svc::Draft { content: content.clone(), review_date };
    match svc::update(&state, &v.actor, id, draft, expect.as_ref()).await {
        Ok(_) => Ok(redirect_done(&format!("/passports/{id}"), Done::PassportSaved)),
        Err(e @ AppError::PreconditionFailed) => {
            let ctx = minijinja::context! { problem => super::page_message(&state, session::lang(req, Some(&v)), &e) };
            edit_page(&state, req, &v, id, StatusCode::PRECONDITION_FAILED, Some((content, review_raw)), ctx).await
        }
        Err(AppError::Invalid(errors)) => {
            let lang = session::lang(req, Some(&v));
            let ctx = minijinja::context! { errors => field_errors(&state, lang, &errors) };
            edit_page(&state, req, &v, id, StatusCode::UNPROCESSABLE_ENTITY, Some((content, review_raw)), ctx).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    version: i32,
}

#[handler]
pub async fn confirm(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<ConfirmForm>,
) -> poem::Result<Response> {
    match svc::confirm(&state, &v.actor, id, f.version).await {
        Ok(_) => Ok(redirect_done(&format!("/passports/{id}"), Done::PassportConfirmed)),
        Err(e @ AppError::Conflict(_)) => {
            let ctx = minijinja::context! { problem => super::page_message(&state, session::lang(req, Some(&v)), &e) };
            passport_page(&state, req, &v, id, None, StatusCode::CONFLICT, ctx).await
        }
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn review(state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    svc::review(&state, &v.actor, id, None).await?;
    Ok(redirect_done(&format!("/passports/{id}"), Done::PassportReviewed))
}

#[handler]
pub async fn export_pdf(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let bytes = svc::export_pdf(&state, &v.actor, id, Channel::Page, lang).await?;
    Ok(Response::builder()
        .content_type("application/pdf")
        .header(header::CONTENT_DISPOSITION, "attachment; filename=\"passport.pdf\"")
        .header(header::CACHE_CONTROL, "no-store")
        .body(bytes))
}

/// The file is sealed with a passphrase, so it is made by the form on the passport page (a POST
/// to the transfer-code route); this address leads the carer there.
#[handler]
pub async fn export_json(state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    svc::may_carry(&state, &v.actor, id).await?;
    Ok(redirect(&format!("/passports/{id}#carry")))
}

#[derive(Deserialize)]
pub struct CarryForm {
    /// Present when the carer asks for the sealed file instead of a transfer code.
    passphrase: Option<String>,
    #[serde(default)]
    passphrase_again: String,
}

/// Taking the passport elsewhere: a one-time transfer code, or (with a passphrase) the sealed file.
#[handler]
pub async fn transfer_code(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CarryForm>,
) -> poem::Result<Response> {
    let Some(passphrase) = f.passphrase else {
        let (code, expires_at) = svc::create_transfer_code(&state, &v.actor, id, Channel::Page).await?;
        let ctx = minijinja::context! { transfer_code => Serde(code), transfer_expires => Serde(expires_at) };
        return passport_page(&state, req, &v, id, None, StatusCode::OK, ctx).await;
    };
    let result = if passphrase != f.passphrase_again {
        Err(AppError::invalid("passphrase_again", "passphrase_mismatch"))
    } else {
        svc::export_json(&state, &v.actor, id, &passphrase, Channel::Page).await
    };
    match result {
        Ok(doc) => {
            let body = serde_json::to_string_pretty(&doc).map_err(AppError::internal)?;
            Ok(Response::builder()
                .content_type("application/json")
                .header(header::CONTENT_DISPOSITION, "attachment; filename=\"passport.json\"")
                .header(header::CACHE_CONTROL, "no-store")
                .body(body))
        }
        Err(AppError::Invalid(errors)) => {
            let lang = session::lang(req, Some(&v));
            let ctx = minijinja::context! { errors => field_errors(&state, lang, &errors) };
            passport_page(&state, req, &v, id, None, StatusCode::UNPROCESSABLE_ENTITY, ctx).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Import: a multipart form with the sealed file and its passphrase, or a transfer code.
#[handler]
pub async fn import(req: &Request, state: Data<&AppState>, v: Viewer, mut mp: Multipart) -> poem::Result<Response> {
    let (mut code, mut passphrase, mut file) = (String::new(), String::new(), Vec::new());
    while let Some(field) = mp.next_field().await? {
        match field.name().unwrap_or_default() {
            "code" => code = field.text().await?,
            "passphrase" => passphrase = field.text().await?,
            "file" => {
                let mut reader = field.into_async_read().take(MAX_IMPORT_BYTES as u64 + 1);
                reader.read_to_end(&mut file).await.map_err(AppError::internal)?;
                if file.len() > MAX_IMPORT_BYTES {
                    return Err(AppError::TooLarge("the passport file is too large".into()).into());
                }
            }
            _ => {}
        }
    }
    let source = if !file.is_empty() {
        match serde_json::from_slice(&file) {
            Ok(file) => Ok(ImportSource::File { file, passphrase }),
            Err(_) => Err(AppError::invalid("file", "passport_file_invalid")),
        }
    } else if !code.trim().is_empty() {
        Ok(ImportSource::Code(code))
    } else {
        Err(AppError::invalid("file", "passport_file_invalid"))
    };
    match async { svc::import(&state, &v.actor, source?).await }.await {
        Ok(id) => Ok(redirect_done(&format!("/passports/{id}"), Done::PassportImported)),
        Err(AppError::Invalid(errors)) => {
            let lang = session::lang(req, Some(&v));
            let ctx = minijinja::context! { errors => field_errors(&state, lang, &errors) };
            home_page(&state, req, &v, StatusCode::UNPROCESSABLE_ENTITY, ctx).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn figures_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    org: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let shown = svc::figures(state, &v.actor, org).await?;
    let lines = if v.actor.may_manage_reporting_lines(org).is_ok() {
        svc::reporting_lines(state, &v.actor, org, &PageRequest::whole("reporting-lines")).await?.rows
    } else {
        vec![]
    };
    render(
        state,
        req,
        Some(v),
        status,
        "passport_figures.html",
        minijinja::context! { f => Serde(shown), lines => Serde(lines), organisation_id => Serde(org), ..extra },
    )
}

#[derive(Deserialize)]
pub struct FiguresQuery {
    /// The manager who leaves, when the members page sent HR here to hand over first.
    from: Option<i64>,
}

#[handler]
pub async fn figures(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
    Query(q): Query<FiguresQuery>,
) -> poem::Result<Response> {
    let from = q.from.map(|id| id.to_string());
    figures_page(&state, req, &v, org, StatusCode::OK, minijinja::context! { from_manager => from }).await
}

fn parse_id(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok()
}

#[derive(Deserialize)]
pub struct LineForm {
    user_id: String,
    #[serde(default)]
    manager_id: String,
    #[serde(default)]
    department: String,
}

#[handler]
pub async fn set_line(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
    Form(f): Form<LineForm>,
) -> poem::Result<Response> {
    let user = parse_id(&f.user_id).ok_or(AppError::NotFound)?;
    let result =
        svc::set_reporting_line(&state, &v.actor, org, user, parse_id(&f.manager_id), Some(f.department.clone())).await;
    // The refusal is shown at the manager field of the row that was sent.
    let row = minijinja::context! { line_user => user };
    figures_result(&state, req, &v, org, result.map(|_| Done::LineSaved), row).await
}

#[derive(Deserialize)]
pub struct HandoverForm {
    from_manager_id: String,
    to_manager_id: String,
}

#[handler]
pub async fn hand_over_all(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
    Form(f): Form<HandoverForm>,
) -> poem::Result<Response> {
    let (from, to) = (parse_id(&f.from_manager_id).unwrap_or(-1), parse_id(&f.to_manager_id).unwrap_or(-1));
    let result = svc::hand_over_all(&state, &v.actor, org, from, to).await;
    figures_result(&state, req, &v, org, result.map(|_| Done::HandedOver), minijinja::context! {}).await
}

async fn figures_result(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    org: i64,
    result: Result<Done, AppError>,
    on_error: minijinja::Value,
) -> poem::Result<Response> {
    match result {
        Ok(done) => Ok(redirect_done(&format!("/organisations/{org}/passports"), done)),
        Err(AppError::Invalid(errors)) => {
            let lang = session::lang(req, Some(v));
            let ctx = minijinja::context! { errors => field_errors(state, lang, &errors), ..on_error };
            figures_page(state, req, v, org, StatusCode::UNPROCESSABLE_ENTITY, ctx).await
        }
        Err(e) => Err(e.into()),
    }
}
