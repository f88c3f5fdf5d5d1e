//! CSRF protection for every state-changing page request, in one place: a handler behind the page
//! router cannot forget it. The token is an HMAC of a secret this browser holds in an HttpOnly
//! cookie (the session, or before login the pre-login cookie); the form sends it as the field
//! `csrf`. For `multipart/form-data` (uploads) the token must be the first part, so the file is
//! never buffered to find it: only that first part is read ahead, then the body goes on streaming.
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use poem::http::{Method, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};

use crate::error::AppError;
use crate::services::crypto;
use crate::state::AppState;
use crate::web::session::{ANON_COOKIE, SESSION_COOKIE, cookie};

/// How far into a multipart body the token may stand.
const MULTIPART_PREFIX: usize = 16 * 1024;

pub async fn require_token<E: Endpoint>(ep: E, mut req: Request) -> poem::Result<Response> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return ep.call(req).await.map(IntoResponse::into_response);
    }
    let state = req.data::<AppState>().cloned().ok_or_else(|| AppError::internal("no state"))?;
    let submitted = submitted_token(&mut req).await?;
    if !valid(&state, &req, submitted.as_deref().unwrap_or_default()) {
        return Err(AppError::Csrf.into());
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

/// The secrets this browser holds: a token signed for any of them proves the form came from a
/// page of ours shown to this browser.
fn subjects(req: &Request) -> Vec<String> {
    let mut out = vec![];
    if let Some(s) = cookie(req, SESSION_COOKIE).filter(|t| !t.is_empty()) {
        out.push(session_subject(&s));
    }
    if let Some(a) = cookie(req, ANON_COOKIE).filter(|c| c.len() >= 20) {
        out.push(anon_subject(&a));
    }
    out
}

pub fn session_subject(session_token: &str) -> String {
    format!("session:{}", crypto::hash_token(session_token))
}

pub fn anon_subject(anon: &str) -> String {
    format!("anon:{anon}")
}

fn valid(state: &AppState, req: &Request, submitted: &str) -> bool {
    !submitted.is_empty() && subjects(req).iter().any(|s| crypto::verify_signature(&state.secret, s, submitted))
}

/// Reads the `csrf` field and puts the body back for the handler.
async fn submitted_token(req: &mut Request) -> poem::Result<Option<String>> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/x-www-form-urlencoded" => {
            let bytes = req.take_body().into_bytes().await?;
            let token = url::form_urlencoded::parse(&bytes).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
            req.set_body(bytes);
            Ok(token)
        }
        "multipart/form-data" => {
            let Some(boundary) = boundary(&content_type) else { return Ok(None) };
            let body = req.take_body();
            let (prefix, rest) = read_first_part(body, &boundary).await?;
            let token = first_part_value(&prefix, &boundary, "csrf");
            let chained = futures_util::stream::iter([Ok::<Bytes, std::io::Error>(prefix)]).chain(rest);
            req.set_body(Body::from_bytes_stream(chained));
            Ok(token)
        }
        _ => Ok(None),
    }
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').map(str::trim).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary")).then(|| v.trim().trim_matches('"').to_string())
    })
}

type Rest = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// Reads until the end of the first part (the second boundary line), or a bounded prefix.
async fn read_first_part(body: Body, boundary: &str) -> poem::Result<(Bytes, Rest)> {
    let mut stream: Rest = Box::pin(body.into_bytes_stream());
    let mut buf = BytesMut::new();
    let second = format!("\r\n--{boundary}");
    while buf.len() < MULTIPART_PREFIX {
        if find(&buf, second.as_bytes()).is_some() {
            break;
        }
        match stream.next().await {
            Some(chunk) => buf.extend_from_slice(&chunk.map_err(|e| AppError::BadRequest(e.to_string()))?),
            None => break,
        }
    }
    Ok((buf.freeze(), stream))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The value of the first part, when that part is the field `name`.
fn first_part_value(prefix: &[u8], boundary: &str, name: &str) -> Option<String> {
    let opening = format!("--{boundary}\r\n");
    let start = find(prefix, opening.as_bytes())? + opening.len();
    let rest = &prefix[start..];
    let headers_end = find(rest, b"\r\n\r\n")?;
    let headers = std::str::from_utf8(&rest[..headers_end]).ok()?;
    let wanted = format!("name=\"{name}\"");
    let disposition = headers.lines().find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?;
    if !disposition.split(';').any(|p| p.trim() == wanted) {
        return None;
    }
    let value = &rest[headers_end + 4..];
    let end = find(value, format!("\r\n--{boundary}").as_bytes())?;
    String::from_utf8(value[..end].to_vec()).ok()
}

#[cfg(test)]
mod tests {
    use super::{boundary, first_part_value};

    #[test]
    fn the_token_is_read_from_the_first_multipart_part_only() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc.def\r\n--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--XyZ--\r\n";
        assert_eq!(first_part_value(body, "XyZ", "csrf").as_deref(), Some("abc.def"));
        let later = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ--\r\n";
        assert_eq!(first_part_value(later, "XyZ", "csrf"), None);
        let lookalike = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrfx\"\r\n\r\nabc\r\n--XyZ--\r\n";
        assert_eq!(first_part_value(lookalike, "XyZ", "csrf"), None);
    }

    #[test]
    fn the_boundary_is_read_with_or_without_quotes() {
        assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
        assert_eq!(boundary("multipart/form-data; charset=utf-8; Boundary=\"a b\"").as_deref(), Some("a b"));
        assert_eq!(boundary("multipart/form-data"), None);
    }
}
