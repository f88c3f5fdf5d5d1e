//! Every request body is limited before it is read: a declared `Content-Length` over the limit is
//! refused at once, and a body without one (chunked) is cut off as soon as it passes the limit.
//! Forms and JSON get a small limit; only the routes named in `takes_upload` get the upload limit,
//! so a new route is small by default.
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt;
use poem::http::{Method, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};

use crate::error::AppError;
use crate::state::AppState;

/// Forms and JSON: room for the longest text field (20,000 characters, percent-encoded).
pub const FORM_LIMIT: usize = 512 * 1024;
/// Multipart framing and the text fields around an uploaded file.
const UPLOAD_SLACK: usize = 64 * 1024;

/// The routes that take a file, pages and API.
pub fn takes_upload(method: &Method, path: &str) -> bool {
    if method != Method::POST {
        return false;
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    matches!(
        segments.as_slice(),
        ["", "items", _, "evidence"]
            | ["", "passport", "import"]
            | ["", "api", "v1", "items", _, "evidence", "file"]
            | ["", "api", "v1", "passports", "import"]
    )
}

pub fn limit_for(state: &AppState, method: &Method, path: &str) -> usize {
    if takes_upload(method, path) { state.config.max_upload_bytes.saturating_add(UPLOAD_SLACK) } else { FORM_LIMIT }
}

/// The middleware. Runs inside the page and API error handlers, so the 413 is a page or JSON.
pub async fn limit_body<E: Endpoint>(ep: E, mut req: Request) -> poem::Result<Response> {
    // The path as the client sent it: inside a nested router `uri()` has lost its prefix.
    let limit = match req.data::<AppState>() {
        Some(state) => limit_for(state, req.method(), req.original_uri().path()),
        None => FORM_LIMIT,
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(AppError::RequestTooLarge { limit: shown_limit(limit) }.into());
    }
    let tripped = Arc::new(AtomicBool::new(false));
    let body = req.take_body();
    req.set_body(limited(body, limit, tripped.clone()));
    let result = ep.call(req).await.map(IntoResponse::into_response);
    // Whatever the handler made of a body cut short, the answer is that it was too large.
    if tripped.load(Ordering::Relaxed) {
        return Err(AppError::RequestTooLarge { limit: shown_limit(limit) }.into());
    }
    result
}

/// The limit as a person reads it: an upload's own limit without the room for the framing.
fn shown_limit(limit: usize) -> String {
    let limit = if limit > FORM_LIMIT { limit - UPLOAD_SLACK } else { limit };
    if limit >= 1024 * 1024 { format!("{} MB", limit / (1024 * 1024)) } else { format!("{} KB", limit / 1024) }
}

fn limited(body: Body, limit: usize, tripped: Arc<AtomicBool>) -> Body {
    let mut seen = 0usize;
    let stream = body.into_bytes_stream().map(move |chunk| {
        let chunk = chunk?;
        seen = seen.saturating_add(chunk.len());
        if seen > limit {
            tripped.store(true, Ordering::Relaxed);
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "request body too large"));
        }
        Ok(chunk)
    });
    Body::from_bytes_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::takes_upload;
    use poem::http::Method;

    #[test]
    fn only_the_named_upload_routes_take_files() {
        assert!(takes_upload(&Method::POST, "/items/5/evidence"));
        assert!(takes_upload(&Method::POST, "/api/v1/items/5/evidence/file"));
        assert!(takes_upload(&Method::POST, "/passport/import"));
        assert!(!takes_upload(&Method::POST, "/login"));
        assert!(!takes_upload(&Method::POST, "/api/v1/items/5/evidence"));
        assert!(!takes_upload(&Method::GET, "/items/5/evidence"));
        assert!(!takes_upload(&Method::POST, "/items/5/evidence/extra"));
    }
}
