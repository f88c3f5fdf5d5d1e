//! The REST API under `/api/v1`, over the same services as the pages. Bearer tokens (created on
//! the account page or through the API) authenticate; errors are JSON `{ "message", "errors" }`.
mod attention;
mod auth;
pub mod contract;
mod dto;
mod handlers;
mod page;
mod passport;
mod pulse;
mod recognition;
mod text;

use poem::http::StatusCode;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};
use poem_openapi::OpenApiService;
use serde_json::json;

use crate::error::AppError;

/// Each part of the service brings its own `OpenApi` struct; they are served as one API.
type Apis =
    (handlers::Api, recognition::RecognitionApi, attention::AttentionApi, passport::PassportApi, pulse::PulseApi);

pub fn service(public_url: &str) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (handlers::Api, recognition::RecognitionApi, attention::AttentionApi, passport::PassportApi, pulse::PulseApi),
        "carer-friendly",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Self-assessment towards the recognition \"Wij werken mantelzorgvriendelijk!\" / \"We work carer-friendly!\". \
             Authenticate with `Authorization: Bearer <token>`; create a token on the account page (/account). \
             Errors are JSON objects with a `message` and, for invalid input (422), `errors`: a list of {field, code}. \
             Someone else's objects answer 404; reading roles that try to write get 403; illegal workflow steps 409. \
             Lists come in pages: pass `limit` (1-200, 50 by default) and the `next_cursor` of the page before as `cursor`; \
             each page holds `data`, `next_cursor` (null on the last) and `total`, in a stable order. \
             Items and passports carry an `ETag`: send it back as `If-Match` when changing them, and a change made \
             meanwhile by someone else is not overwritten (412).",
    )
    .server(format!("{public_url}/api/v1"))
}

#[derive(serde::Serialize)]
struct ErrorBody {
    message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<crate::error::FieldError>,
    /// What stands between an organisation and the recognition.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing: Vec<crate::domain::recognition::Gap>,
}

/// A request poem-openapi could not read, as the field it names and a code.
fn unreadable(err: &poem::Error) -> Option<crate::error::FieldError> {
    use crate::error::FieldError;
    use poem_openapi::error::{ParseMultipartError, ParseParamError, ParsePathError, ParseRequestPayloadError};
    if let Some(e) = err.downcast_ref::<ParseParamError>() {
        Some(FieldError::new(e.name, "malformed"))
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        Some(FieldError::new(e.name, "malformed"))
    } else if err.is::<ParseRequestPayloadError>() || err.is::<ParseMultipartError>() {
        Some(FieldError::new("body", "malformed"))
    } else {
        None
    }
}

/// Every error under /api becomes JSON with a message a person can read; a 405 says in `Allow`
/// which methods the path has (from the document).
pub async fn json_errors<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_string();
    match ep.call(req).await {
        Ok(r) => Ok(r.into_response()),
        Err(err) => {
            let missing = match err.downcast_ref::<AppError>() {
                Some(AppError::NotEligible(gaps)) => gaps.clone(),
                _ => vec![],
            };
            let (status, message, errors) = match err.downcast_ref::<AppError>() {
                Some(AppError::Invalid(errors)) => {
                    let msg = errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.code.replace('_', " ")))
                        .collect::<Vec<_>>()
                        .join("; ");
                    (StatusCode::UNPROCESSABLE_ENTITY, format!("the input is not valid ({msg})"), errors.clone())
                }
                Some(e) => (e.status(), e.public_message(), vec![]),
                None if unreadable(&err).is_some() => (
                    StatusCode::BAD_REQUEST,
                    format!("the request could not be read: {err}"),
                    unreadable(&err).into_iter().collect(),
                ),
                None => {
                    let status = err.status();
                    let message = match status {
                        StatusCode::UNAUTHORIZED => "a valid bearer token is required".to_string(),
                        StatusCode::NOT_FOUND => "not found".to_string(),
                        StatusCode::METHOD_NOT_ALLOWED => "method not allowed".to_string(),
                        _ => err.to_string(),
                    };
                    (status, message, vec![])
                }
            };
            let retry_after = match err.downcast_ref::<AppError>() {
                Some(AppError::TooManyRequests { retry_after }) => Some(*retry_after),
                _ => None,
            };
            let body = serde_json::to_string(&ErrorBody { message, errors, missing }).unwrap_or_else(|_| "{}".into());
            let mut resp = Response::builder().status(status).content_type("application/json").body(body);
            if status == StatusCode::METHOD_NOT_ALLOWED {
                let path = path.strip_prefix("/api/v1").unwrap_or(&path);
                let allow = PATHS.get().map(|doc| contract::allowed_methods(doc, path).join(", ")).unwrap_or_default();
                if let Ok(v) = poem::http::HeaderValue::from_str(&allow) {
                    resp.headers_mut().insert(poem::http::header::ALLOW, v);
                }
            }
            if let Some(secs) = retry_after
                && let Ok(v) = poem::http::HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut().insert(poem::http::header::RETRY_AFTER, v);
            }
            Ok(resp)
        }
    }
}

/// The API's paths and methods (the same for every instance in the process), for `Allow`.
static PATHS: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();

pub fn routes(public_url: String) -> impl Endpoint {
    let api = service(&public_url);
    let raw = api.spec();
    let doc = contract::document(&raw);
    let spec = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| raw.clone());
    PATHS.get_or_init(|| json!({ "paths": doc["paths"].clone() }));
    // The docs UI embeds the document it shows: the completed one, not poem-openapi's own.
    let docs = api.swagger_ui_html().replacen(&raw, &spec, 1);
    let guarded =
        api.around(crate::http::body_limit::limit_body).around(crate::http::rate_limit::limit_rate).around(json_errors);
    let spec_endpoint = poem::endpoint::make_sync(move |_| {
        Response::builder().content_type("application/json; charset=utf-8").body(spec.clone())
    });
    let docs_endpoint = poem::endpoint::make_sync(move |_| poem::web::Html(docs.clone()));
    poem::Route::new()
        .nest("/v1", guarded)
        .at("/openapi.json", spec_endpoint)
        .nest("/docs", poem::Route::new().at("/", docs_endpoint))
}
