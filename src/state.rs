//! What every request handler, job and command gets: configuration, database, checklists,
//! templates, the mail settings and the clock.
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::checklist::Checklists;
use crate::http::rate_limit::RateLimits;
use crate::services::passport_crypto::PassportKeys;
use crate::web::i18n::Translations;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub checklists: Arc<Checklists>,
    /// The employee pulse's questionnaire (`checklists/pulse.toml`).
    pub pulse: Arc<crate::domain::pulse::Questionnaire>,
    pub templates: Arc<minijinja::Environment<'static>>,
    pub translations: Arc<Translations>,
    /// Key for signing CSRF tokens; the same on every instance (configured or kept in the database).
    pub secret: Arc<Vec<u8>>,
    pub clock: Arc<dyn Clock>,
    /// Statements run on this state's database, for checking that pages do not query per row.
    pub queries: Arc<std::sync::atomic::AtomicU64>,
    /// Keys for the passports' free text (from configuration or a key file, never the database).
    pub passport_keys: Arc<PassportKeys>,
    /// Rate limits per client address (in memory, per instance).
    pub rate_limits: Arc<RateLimits>,
    /// Advisors' assigned organisations, read again only when they change.
    pub assignments: Arc<crate::services::accounts::AssignmentCache>,
    /// Job runs under way, waited for when the service stops.
    pub jobs_in_flight: tokio_util::task::TaskTracker,
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl AppState {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn query_count(&self) -> u64 {
        self.queries.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The base of links in e-mails.
    pub fn public_url(&self) -> String {
        self.config
            .public_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8080".into())
            .trim_end_matches('/')
            .to_string()
    }
}
