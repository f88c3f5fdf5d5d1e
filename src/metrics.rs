//! What an operator's Prometheus scrapes at `/metrics` (only when `METRICS_TOKEN` is set, and
//! only with that token): requests by route template, method and status with their latency;
//! job runs by job and outcome; passport reads by kind; and, read when scraped, the database
//! pool and the outbox. One registry per running app (not the process-wide default), so
//! instances in one process (the tests) count apart.
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
use sea_orm::DbBackend;

use crate::state::AppState;

/// Route label for a path no route serves: unknown paths never become label values.
const OTHER: &str = "other";

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    job_runs: IntCounterVec,
    passport_reads: IntCounterVec,
    pool: IntGaugeVec,
    outbox: IntGaugeVec,
    /// Route templates split into segments; `None` stands for a parameter.
    routes: Vec<(String, Vec<Option<String>>)>,
}

impl Metrics {
    /// `templates` are the app's route templates (`/items/:id`, `/organisations/{id}`).
    /// Fails only if a metric's definition is invalid (fixed names here: a programming error,
    /// reported at start like any other).
    pub fn new(templates: impl IntoIterator<Item = String>) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("carer_friendly_http_requests_total", "HTTP requests answered"),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("carer_friendly_http_request_duration_seconds", "Time to answer an HTTP request")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0]),
            &["route", "method"],
        )?;
        let job_runs =
            IntCounterVec::new(Opts::new("carer_friendly_job_runs_total", "Recurring job runs"), &["job", "outcome"])?;
        let passport_reads = IntCounterVec::new(
            Opts::new("carer_friendly_passport_reads_total", "Passport reads and exports, as logged for the carer"),
            &["action"],
        )?;
        let pool =
            IntGaugeVec::new(Opts::new("carer_friendly_db_connections", "Database pool connections"), &["state"])?;
        let outbox = IntGaugeVec::new(Opts::new("carer_friendly_outbox_messages", "E-mail in the outbox"), &["state"])?;
        for c in [&requests, &job_runs, &passport_reads] {
            registry.register(Box::new(c.clone()))?;
        }
        registry.register(Box::new(latency.clone()))?;
        for g in [&pool, &outbox] {
            registry.register(Box::new(g.clone()))?;
        }
        let mut routes: Vec<(String, Vec<Option<String>>)> = templates
            .into_iter()
            .map(|t| {
                let segments = t
                    .trim_start_matches('/')
                    .split('/')
                    .map(|s| (!(s.starts_with(':') || s.starts_with('{'))).then(|| s.to_string()))
                    .collect();
                (t, segments)
            })
            .collect();
        // Fixed segments win over parameters: `/items/export` before `/items/:id`.
        routes.sort_by_key(|(_, s)| s.iter().filter(|x| x.is_none()).count());
        Ok(Metrics { registry, requests, latency, job_runs, passport_reads, pool, outbox, routes })
    }

    /// The template serving `path`, or "other".
    pub fn route_of(&self, path: &str) -> &str {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.routes
            .iter()
            .find(|(_, t)| {
                t.len() == parts.len() && t.iter().zip(&parts).all(|(t, p)| t.as_deref().is_none_or(|t| t == *p))
            })
            .map_or(OTHER, |(name, _)| name.as_str())
    }

    pub fn request(&self, method: &str, path: &str, status: u16, seconds: f64) {
        // A path nobody serves is "other" whatever it is; so is every 404.
        let route = if status == 404 { OTHER } else { self.route_of(path) };
        let method = match method {
            "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" => method,
            _ => "other",
        };
        self.requests.with_label_values(&[route, method, &status.to_string()]).inc();
        self.latency.with_label_values(&[route, method]).observe(seconds);
    }

    pub fn job_run(&self, job: &str, ok: bool) {
        self.job_runs.with_label_values(&[job, if ok { "ok" } else { "failed" }]).inc();
    }

    pub fn passport_read(&self, action: &str) {
        self.passport_reads.with_label_values(&[action]).inc();
    }

    /// The text format, with the pool and outbox read now.
    pub async fn render(&self, state: &AppState) -> String {
        let (size, idle) = match state.db.get_database_backend() {
            DbBackend::Postgres => {
                let p = state.db.get_postgres_connection_pool();
                (p.size(), p.num_idle())
            }
            DbBackend::Sqlite => {
                let p = state.db.get_sqlite_connection_pool();
                (p.size(), p.num_idle())
            }
            _ => (0, 0),
        };
        let idle = i64::try_from(idle).unwrap_or(0);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool.with_label_values(&["in_use"]).set(i64::from(size) - idle);
        if let Ok(h) = crate::mail::sender::health(state).await {
            let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
            self.outbox.with_label_values(&["waiting"]).set(n(h.waiting));
            self.outbox.with_label_values(&["failing"]).set(n(h.failing));
            self.outbox.with_label_values(&["dead"]).set(n(h.dead));
        }
        let mut out = vec![];
        if TextEncoder::new().encode(&self.registry.gather(), &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_count_under_their_route_template_and_unknown_ones_as_other() {
        let m = Metrics::new(["/items/:id".to_string(), "/items/export".into(), "/api/v1/items/{id}/evidence".into()])
            .unwrap();
        assert_eq!(m.route_of("/items/42"), "/items/:id");
        assert_eq!(m.route_of("/items/export"), "/items/export");
        assert_eq!(m.route_of("/api/v1/items/7/evidence"), "/api/v1/items/{id}/evidence");
        assert_eq!(m.route_of("/items/42/more"), "other");
        assert_eq!(m.route_of("/wp-admin.php"), "other");
    }
}
