//! The organisation overview, worksheets, item pages with evidence, comments and history, and
//! the advisor's review queue.
use chrono::NaiveDate;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Multipart, Path};
use poem::{Request, Response, handler};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use super::notice::{Done, redirect_done};
use super::pager::{PAGE_ROWS, page_of, pager};
use super::session::{self, Viewer};
use super::{form_failure, render};
use crate::domain::page::PageRequest;
use crate::domain::revision::IfMatch;
use crate::domain::workflow::Action;
use crate::error::{AppError, FieldError};
use crate::services::{assessment, evidence};
use crate::state::AppState;
use minijinja::value::Serde;

#[handler]
pub async fn overview(req: &Request, state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let o = assessment::overview(&state, &v.actor, id, lang).await?;
    // Links to pages the policy lets this viewer open (the pulse is not the operator's).
    let pulse = v.actor.may(crate::domain::policy::Permission::ViewPulse, id).is_ok();
    render(
        &state,
        req,
        Some(&v),
        StatusCode::OK,
        "overview.html",
        minijinja::context! { o => Serde(o), may_view_pulse => pulse },
    )
}

#[handler]
pub async fn worksheet(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path((id, key)): Path<(i64, String)>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let w = assessment::worksheet(&state, &v.actor, id, &key, lang).await?;
    render(&state, req, Some(&v), StatusCode::OK, "worksheet.html", minijinja::context! { w => Serde(w) })
}

async fn item_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    id: i64,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(v));
    let d = assessment::item_detail(state, &v.actor, id, lang).await?;
    if d.may_review {
        // The reviewer has seen it (and its evidence): from now on it may be accepted from the queue.
        assessment::mark_opened(state, &v.actor, id).await?;
    }
    let passport_figures =
        crate::services::passport::figures_for_item(state, &v.actor, d.organisation.id, &d.checklist.key, &d.item.key)
            .await?;
    let ctx = minijinja::context! { d => Serde(d), passport_figures => Serde(passport_figures), ..extra };
    render(state, req, Some(v), status, "item.html", ctx)
}

#[handler]
pub async fn item(req: &Request, state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    item_page(&state, req, &v, id, StatusCode::OK, minijinja::context! {}).await
}

/// A failed form on the item page: the page again, with the message and what was typed.
async fn item_error(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    id: i64,
    err: AppError,
    form: minijinja::Value,
) -> poem::Result<Response> {
    let (status, ctx) = form_failure(state, session::lang(req, Some(v)), err, form)?;
    item_page(state, req, v, id, status, ctx).await
}

#[derive(Deserialize, serde::Serialize)]
pub struct TransitionForm {
    action: String,
    #[serde(default)]
    reason: String,
    /// The item's entity tag when the page was shown: a step on a page someone else's change
    /// has overtaken is not taken unseen.
    #[serde(default)]
    revision: String,
}

/// What a form's `revision` asks of the item (nothing, when a form has none).
fn as_read(revision: &str) -> Option<IfMatch> {
    (!revision.trim().is_empty()).then(|| IfMatch::parse(revision))
}

#[handler]
pub async fn transition(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<TransitionForm>,
) -> poem::Result<Response> {
    let Some(action) = Action::parse(&f.action) else {
        return Err(AppError::BadRequest(format!("unknown action \"{}\"", f.action)).into());
    };
    match assessment::transition(&state, &v.actor, id, action, Some(&f.reason), as_read(&f.revision).as_ref()).await {
        Ok(_) => Ok(after_transition(&state, &v, id, action).await?),
        Err(e) => item_error(&state, req, &v, id, e, minijinja::Value::from(Serde(&f))).await,
    }
}

/// Where a move leads: the organisation stays on the item; an advisor who decided goes on to
/// the next item waiting in their queue, or back to the empty queue.
async fn after_transition(state: &AppState, v: &Viewer, id: i64, action: Action) -> Result<Response, AppError> {
    let done = Done::after(action);
    let has_queue = v.actor.may_globally(crate::domain::policy::GlobalPermission::ViewReviewQueue).is_ok();
    if action.side() != crate::domain::workflow::Side::Advisor || !has_queue {
        return Ok(redirect_done(&format!("/items/{id}"), done));
    }
    Ok(match assessment::next_in_queue(state, &v.actor, id).await? {
        Some(next) => redirect_done(&format!("/items/{next}"), done.next_in_queue()),
        None => redirect_done("/review", Done::QueueEmpty),
    })
}

#[derive(Deserialize, serde::Serialize)]
pub struct DetailsForm {
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_date: String,
    #[serde(default)]
    revision: String,
}

#[handler]
pub async fn update_item(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<DetailsForm>,
) -> poem::Result<Response> {
    let mut errors = vec![];
    let owner = match f.owner_id.trim() {
        "" => Some(None),
        s => match s.parse::<i64>() {
            Ok(n) => Some(Some(n)),
            Err(_) => {
                errors.push(FieldError::new("owner_id", "owner_unknown"));
                None
            }
        },
    };
    let due = match parse_date(&f.due_date) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(FieldError::new("due_date", e));
            None
        }
    };
    let result = if errors.is_empty() {
        let update = assessment::ItemUpdate { owner_id: owner, due_date: due };
        assessment::update_item(&state, &v.actor, id, update, as_read(&f.revision).as_ref()).await
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(_) => Ok(redirect_done(&format!("/items/{id}"), Done::DetailsSaved)),
        Err(e) => item_error(&state, req, &v, id, e, minijinja::Value::from(Serde(&f))).await,
    }
}

/// An optional date from a form field (YYYY-MM-DD, as `<input type=date>` sends it).
pub fn parse_date(s: &str) -> Result<Option<NaiveDate>, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| "date_invalid")
}

#[derive(Deserialize, serde::Serialize)]
pub struct CommentForm {
    body: String,
}

#[handler]
pub async fn comment(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CommentForm>,
) -> poem::Result<Response> {
    match assessment::add_comment(&state, &v.actor, id, &f.body).await {
        Ok(c) => Ok(redirect_done(&format!("/items/{id}#comment-{}", c.id), Done::CommentAdded)),
        Err(e) => item_error(&state, req, &v, id, e, minijinja::Value::from(Serde(&f))).await,
    }
}

#[derive(Default, serde::Serialize)]
struct EvidenceForm {
    kind: String,
    title: String,
    note: String,
    url: String,
    valid_from: String,
    valid_until: String,
    replaces: String,
    #[serde(skip)]
    filename: String,
    #[serde(skip)]
    bytes: Vec<u8>,
}

/// Reads the evidence form, never more than the upload limit of the file (multipart has no limit
/// of its own, and Content-Length cannot be trusted).
async fn read_evidence_form(mut mp: Multipart, limit: usize) -> Result<EvidenceForm, AppError> {
    let mut f = EvidenceForm::default();
    while let Some(field) = mp.next_field().await.map_err(|e| AppError::BadRequest(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            f.filename = field.file_name().unwrap_or_default().to_string();
            let mut buf = Vec::new();
            field
                .into_async_read()
                .take(limit as u64 + 1)
                .read_to_end(&mut buf)
                .await
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
            if buf.len() > limit {
                return Err(AppError::TooLarge(evidence::too_large_message(limit)));
            }
            f.bytes = buf;
            continue;
        }
        let mut text = String::new();
        field
            .into_async_read()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .await
            .map_err(|e| AppError::BadRequest(e.to_string()))?;
        match name.as_str() {
            "kind" => f.kind = text,
            "title" => f.title = text,
            "note" => f.note = text,
            "url" => f.url = text,
            "valid_from" => f.valid_from = text,
            "valid_until" => f.valid_until = text,
            "replaces" => f.replaces = text,
            _ => {}
        }
    }
    Ok(f)
}

#[handler]
pub async fn add_evidence(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(id): Path<i64>,
    mp: Multipart,
) -> poem::Result<Response> {
    let f = match read_evidence_form(mp, state.config.max_upload_bytes).await {
        Ok(f) => f,
        // The token has not been read yet when the file is too large; the item page (which
        // checks access) says what went wrong, and nothing was stored.
        Err(e) => return item_error(&state, req, &v, id, e, minijinja::context! {}).await,
    };
    let mut errors = vec![];
    let valid_from = parse_date(&f.valid_from).unwrap_or_else(|e| {
        errors.push(FieldError::new("valid_from", e));
        None
    });
    let valid_until = parse_date(&f.valid_until).unwrap_or_else(|e| {
        errors.push(FieldError::new("valid_until", e));
        None
    });
    let replaces = f.replaces.trim().parse::<i64>().ok();
    let body = match f.kind.as_str() {
        "note" => evidence::Body::Note(f.note.clone()),
        "link" => evidence::Body::Link(f.url.clone()),
        "file" => evidence::Body::File { filename: f.filename.clone(), bytes: f.bytes.clone() },
        _ => {
            errors.push(FieldError::new("kind", "kind_invalid"));
            evidence::Body::Note(String::new())
        }
    };
    let ctx = minijinja::Value::from(Serde(&f));
    if !errors.is_empty() {
        return item_error(&state, req, &v, id, AppError::Invalid(errors), ctx).await;
    }
    let new = evidence::NewEvidence { title: f.title.clone(), body, valid_from, valid_until, replaces };
    match evidence::add(&state, &v.actor, id, new).await {
        Ok(e) => Ok(redirect_done(&format!("/items/{id}#evidence-{}", e.id), Done::EvidenceAdded)),
        Err(e) => item_error(&state, req, &v, id, e, ctx).await,
    }
}

/// Files are always sent as attachments, with the type found in their content, so a browser
/// never runs an uploaded document as a page.
pub fn attachment(d: evidence::Download) -> Response {
    let ascii: String = d.filename.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' }).collect();
    let encoded = url::form_urlencoded::byte_serialize(d.filename.as_bytes()).collect::<String>().replace('+', "%20");
    Response::builder()
        .content_type(d.content_type)
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .header("X-Content-Type-Options", "nosniff")
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(d.bytes)
}

#[handler]
pub async fn download(state: Data<&AppState>, v: Viewer, Path(id): Path<i64>) -> poem::Result<Response> {
    Ok(attachment(evidence::download(&state, &v.actor, id).await?))
}

#[handler]
pub async fn review_queue(req: &Request, state: Data<&AppState>, v: Viewer) -> poem::Result<Response> {
    queue_page(&state, req, &v, StatusCode::OK, minijinja::context! {}).await
}

/// Several opened items accepted at once from the queue.
#[handler]
pub async fn accept_opened(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Form(f): Form<Vec<(String, String)>>,
) -> poem::Result<Response> {
    let ids: Vec<i64> = f.iter().filter(|(k, _)| k == "item").filter_map(|(_, v)| v.trim().parse().ok()).collect();
    match assessment::accept_opened(&state, &v.actor, &ids).await {
        Ok(_) => Ok(redirect_done("/review", Done::ItemsAccepted)),
        Err(e) => {
            let lang = session::lang(req, Some(&v));
            let (status, ctx) = form_failure(&state, lang, e, minijinja::context! {})?;
            // The one message of a refused choice goes above the queue.
            let problem =
                ctx.get_attr("errors").ok().and_then(|e| e.get_attr("item").ok()).filter(|p| !p.is_undefined());
            let problem = problem.or_else(|| ctx.get_attr("problem").ok());
            queue_page(&state, req, &v, status, minijinja::context! { problem => problem }).await
        }
    }
}

async fn queue_page(
    state: &AppState,
    req: &Request,
    v: &Viewer,
    status: StatusCode,
    extra: minijinja::Value,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(v));
    let queue = assessment::review_queue(state, &v.actor, lang, &page_of(req, "review-queue")).await?;
    let pager = pager(req, &queue);
    // All of the advisor's organisations are the portfolio's to list; here the first of them.
    let orgs =
        crate::services::organisations::visible(state, &v.actor, None, &PageRequest::first("organisations", PAGE_ROWS))
            .await?;
    let applications = crate::services::recognition::pending_for_advisor(state, &v.actor).await?;
    render(
        state,
        req,
        Some(v),
        status,
        "review.html",
        minijinja::context! { queue => Serde(queue.rows), pager => Serde(pager), organisations => Serde(orgs.rows),
        organisations_total => Serde(orgs.total), applications => Serde(applications), ..extra },
    )
}
