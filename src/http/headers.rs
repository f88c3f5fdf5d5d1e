//! Security headers on every response, pages, API, downloads and errors alike: no sniffing, no
//! framing, no caching of anything personal unless a handler says otherwise, HSTS behind https.
use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::state::AppState;

/// Pages need no scripts and are never framed.
const PAGE_CSP: &str = "default-src 'self'; script-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/// The API documentation page runs the Swagger UI's own inline script.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

pub async fn security_headers<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let secure = req.data::<AppState>().is_some_and(|s| s.config.secure_cookies);
    let docs = req.original_uri().path().starts_with("/api/docs");
    let mut resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let h = resp.headers_mut();
    let csp = if docs { DOCS_CSP } else { PAGE_CSP };
    for (name, value) in [
        ("content-security-policy", csp),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if secure {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    }
    Ok(resp)
}
