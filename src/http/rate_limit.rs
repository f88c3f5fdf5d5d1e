//! Rate limits per client address, kept in memory by each instance (so with N instances a client
//! gets up to N times these rates; the limits per account and per e-mail address live in the
//! database and hold across instances: see `services::throttle`). Requests are sorted into buckets
//! by route in one function, `bucket`, so a new route is limited by its kind.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use poem::http::Method;
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Forms that check or set a password or passphrase (and cost an argon2 hash each).
    Password,
    /// Forms that send an e-mail to an address typed in by anyone.
    MailRequest,
    /// The public verification page.
    Verify,
    /// The REST API: every request presents a token.
    Api,
    /// Answers to the employee pulse: no login, and an open link anyone may hold. Generous, as a
    /// whole office behind one address may answer in the same minutes.
    Pulse,
}

/// Which bucket a request counts against, if any.
pub fn bucket(method: &Method, path: &str) -> Option<Bucket> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (
            &Method::POST,
            ["", "login"]
            | ["", "welcome", _]
            | ["", "password-reset", _]
            | ["", "passport", "import"]
            | ["", "passports", _, "transfer-code"]
            | ["", "api", "v1", "passports", "import"]
            | ["", "api", "v1", "passports", _, "export.json"],
        ) => Some(Bucket::Password),
        (&Method::POST, ["", "password-reset"]) => Some(Bucket::MailRequest),
        (&Method::GET, ["", "verify", _]) => Some(Bucket::Verify),
        (&Method::POST, ["", "pulse", "answer" | "link", _]) => Some(Bucket::Pulse),
        (_, ["", "api", "v1", ..]) => Some(Bucket::Api),
        _ => None,
    }
}

pub struct RateLimits {
    enabled: bool,
    password: DefaultKeyedRateLimiter<IpAddr>,
    mail_request: DefaultKeyedRateLimiter<IpAddr>,
    verify: DefaultKeyedRateLimiter<IpAddr>,
    api: DefaultKeyedRateLimiter<IpAddr>,
    pulse: DefaultKeyedRateLimiter<IpAddr>,
}

fn quota(per_minute: u32, burst: u32) -> Quota {
    let rate = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(rate).allow_burst(NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(enabled: bool) -> Self {
        RateLimits {
            enabled,
            // Ten password attempts in a burst, then one every six seconds.
            password: RateLimiter::keyed(quota(10, 10)),
            // Five reset requests in a burst, then one a minute.
            mail_request: RateLimiter::keyed(quota(1, 5)),
            verify: RateLimiter::keyed(quota(60, 30)),
            api: RateLimiter::keyed(quota(1200, 300)),
            pulse: RateLimiter::keyed(quota(120, 120)),
        }
    }

    /// Counts one request; refuses with how long to wait when the client is over its rate.
    pub fn check(&self, bucket: Bucket, client: IpAddr) -> Result<(), AppError> {
        if !self.enabled {
            return Ok(());
        }
        let limiter = match bucket {
            Bucket::Password => &self.password,
            Bucket::MailRequest => &self.mail_request,
            Bucket::Verify => &self.verify,
            Bucket::Api => &self.api,
            Bucket::Pulse => &self.pulse,
        };
        // Forget clients that are back under their rate, so memory stays bounded.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            AppError::TooManyRequests { retry_after: retry_secs(wait) }
        })
    }
}

fn retry_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

/// The middleware, inside the page and API error handlers so the 429 is a page or JSON.
pub async fn limit_rate<E: Endpoint>(ep: E, req: Request) -> poem::Result<Response> {
    if let (Some(state), Some(bucket)) = (req.data::<AppState>(), bucket(req.method(), req.original_uri().path())) {
        let client = super::client::client_ip(&req, state.config.client_ip_header.as_deref());
        state.rate_limits.check(bucket, client)?;
    }
    ep.call(req).await.map(IntoResponse::into_response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_fall_into_their_buckets() {
        assert_eq!(bucket(&Method::POST, "/login"), Some(Bucket::Password));
        assert_eq!(bucket(&Method::POST, "/password-reset/abc"), Some(Bucket::Password));
        assert_eq!(bucket(&Method::POST, "/password-reset"), Some(Bucket::MailRequest));
        assert_eq!(bucket(&Method::POST, "/pulse/link/3.abc"), Some(Bucket::Pulse));
        assert_eq!(bucket(&Method::GET, "/pulse/link/3.abc"), None);
        assert_eq!(bucket(&Method::POST, "/api/v1/passports/import"), Some(Bucket::Password));
        assert_eq!(bucket(&Method::POST, "/passport/import"), Some(Bucket::Password));
        assert_eq!(bucket(&Method::GET, "/verify/ABC"), Some(Bucket::Verify));
        assert_eq!(bucket(&Method::DELETE, "/api/v1/tokens/3"), Some(Bucket::Api));
        assert_eq!(bucket(&Method::GET, "/login"), None);
        assert_eq!(bucket(&Method::GET, "/items/3"), None);
    }

    #[test]
    fn a_client_over_its_rate_is_told_how_long_to_wait_and_others_are_not() {
        let limits = RateLimits::new(true);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..10 {
            limits.check(Bucket::Password, a).unwrap();
        }
        match limits.check(Bucket::Password, a) {
            Err(AppError::TooManyRequests { retry_after }) => assert!((1..=6).contains(&retry_after), "{retry_after}"),
            other => panic!("expected 429, got {other:?}"),
        }
        limits.check(Bucket::Password, b).unwrap();
        limits.check(Bucket::Verify, a).unwrap();
        assert!(RateLimits::new(false).check(Bucket::Password, a).is_ok());
    }
}
