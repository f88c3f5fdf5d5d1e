//! The director's dashboard and board report, the advisor's portfolio, the CSV export.
use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};

use super::pager::{page_of, pager};
use super::render;
use super::session::{self, Viewer};
use crate::services::{dashboard, recognition};
use crate::state::AppState;
use minijinja::value::Serde;

#[handler]
pub async fn director(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let d = dashboard::director(&state, &v.actor, org, lang).await?;
    render(&state, req, Some(&v), StatusCode::OK, "dashboard.html", minijinja::context! { d => Serde(d) })
}

/// The same figures on one printable page for the board.
#[handler]
pub async fn report(req: &Request, state: Data<&AppState>, v: Viewer, Path(org): Path<i64>) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let d = dashboard::director(&state, &v.actor, org, lang).await?;
    render(&state, req, Some(&v), StatusCode::OK, "report.html", minijinja::context! { d => Serde(d) })
}

#[handler]
pub async fn export_csv(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Path(org): Path<i64>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let (name, body) = dashboard::export_csv(&state, &v.actor, org, lang).await?;
    Ok(csv_download(&name, body))
}

/// A CSV file to save, kept out of every cache.
fn csv_download(name: &str, body: impl Into<poem::Body>) -> Response {
    Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header(header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\""))
        .header(header::CACHE_CONTROL, "private, no-store")
        .body(body)
}

/// The portfolio as CSV, as sorted and filtered on the page, streamed.
#[handler]
pub async fn portfolio_csv(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Query(q): Query<dashboard::PortfolioQuery>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v)).to_string();
    let rows = dashboard::portfolio_csv(state.clone(), v.actor.clone(), lang, q).await?;
    Ok(csv_download("portfolio.csv", poem::Body::from_bytes_stream(rows)))
}

#[handler]
pub async fn portfolio(
    req: &Request,
    state: Data<&AppState>,
    v: Viewer,
    Query(q): Query<dashboard::PortfolioQuery>,
) -> poem::Result<Response> {
    let lang = session::lang(req, Some(&v));
    let page = dashboard::portfolio(&state, &v.actor, lang, &q, &page_of(req, &q.list())).await?;
    let pager = pager(req, &page);
    let rows = page.rows;
    let applications = recognition::pending_for_advisor(&state, &v.actor).await?;
    render(
        &state,
        req,
        Some(&v),
        StatusCode::OK,
        "portfolio.html",
        minijinja::context! { rows => Serde(rows), pager => Serde(pager), q => Serde(q), applications => Serde(applications) },
    )
}
