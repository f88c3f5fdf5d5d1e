//! A request id on every request (and its count and latency in the metrics): taken from a proxy's `X-Request-Id` when it is short and plain,
//! else made here; returned in the `X-Request-Id` header, shown on error pages (so a user can
//! quote it), and carried by a tracing span, so every log line written while the request runs
//! names it.
use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

/// The id of the request being handled (in the request's extensions).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// What a proxy may hand on: at most 64 letters, digits, `-`, `_` or `.`, so a log line or page
/// never carries someone's text.
fn acceptable(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

pub async fn request_id<E: Endpoint>(ep: E, mut req: Request) -> poem::Result<Response> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..16].to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let metrics = req.data::<crate::state::AppState>().map(|s| s.metrics.clone());
    let (method, path) = (req.method().to_string(), req.uri().path().to_string());
    let span = tracing::info_span!("request", id = %id, method = %method, path = %loggable(&path));
    let started = std::time::Instant::now();
    let result = ep.call(req).instrument(span.clone()).await;
    let mut resp = match result {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let status = resp.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    if let Some(m) = metrics {
        m.request(&method, &path, status, seconds);
    }
    let ms = seconds * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, ms, "request failed");
        } else {
            tracing::debug!(status, ms, "request");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    Ok(resp)
}

/// The path as logs may keep it: secrets in the path (invitation and pulse tokens, reset links,
/// calendar feeds) are left out, so a log never ties a token to an address or a moment.
fn loggable(path: &str) -> String {
    const SECRET: [&str; 5] = ["/welcome/", "/password-reset/", "/calendar/", "/pulse/answer/", "/pulse/link/"];
    match SECRET.iter().find(|p| path.starts_with(*p)) {
        Some(prefix) => format!("{prefix}…"),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{acceptable, loggable};

    #[test]
    fn tokens_in_paths_stay_out_of_the_logs() {
        assert_eq!(loggable("/pulse/answer/abcDEF123"), "/pulse/answer/…");
        assert_eq!(loggable("/pulse/link/3.sig"), "/pulse/link/…");
        assert_eq!(loggable("/welcome/tok"), "/welcome/…");
        assert_eq!(loggable("/items/12"), "/items/12");
    }

    #[test]
    fn only_short_plain_ids_from_a_proxy_are_kept() {
        assert!(acceptable("a1b2-c3_d4.e5"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"x".repeat(65)));
        assert!(!acceptable("id with spaces"));
        assert!(!acceptable("<script>"));
    }
}
