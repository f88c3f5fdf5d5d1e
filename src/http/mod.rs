//! What every request passes through before a handler runs, pages and API alike: a request id,
//! security headers,
//! rate limits, body limits and (pages) CSRF; plus the rules for redirect targets and for telling
//! clients apart. Each rule lives here once, so a new route is covered without anyone remembering.
pub mod body_limit;
pub mod client;
pub mod csrf;
pub mod headers;
pub mod rate_limit;
pub mod redirect;
pub mod request_id;
