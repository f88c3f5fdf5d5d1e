//! Builds the application: database (migrated), checklists, templates, secret, routes; binds the
//! listener (port 0 in tests) and starts the outbox sender beside the server.
use std::sync::Arc;
use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Json};
use poem::{EndpointExt, Route, Server, get, handler};
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::clock::Clock;
use crate::config::Config;
use crate::db::entities::setting;
use crate::domain::checklist::Checklists;
use crate::resources::Files;
use crate::services::{accounts, assessment, crypto};
use crate::state::AppState;
use crate::web::i18n::Translations;

/// A statement that takes this long is logged as a warning.
const SLOW_STATEMENT: Duration = Duration::from_millis(250);

/// Everything but the listener: used by `serve`, `demo` and the tests.
pub async fn build_state(mut config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    config.validate().map_err(|e| anyhow::anyhow!("configuration:\n{e}"))?;
    let mut db = crate::db::connect(&config.database_url)
        .await
        .map_err(|e| anyhow::anyhow!(crate::db::connect::explain(&config.database_url, "cannot open", &e)))?;
    let queries = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = queries.clone();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // A slow statement is worth an operator's look; every statement at trace level
        // (RUST_LOG=carer_friendly::sql=trace) shows what a page asks of the database.
        let ms = info.elapsed.as_secs_f64() * 1000.0;
        if info.elapsed >= SLOW_STATEMENT {
            tracing::warn!(target: "carer_friendly::sql", ms, sql = %info.statement.sql, "slow statement");
        } else {
            tracing::trace!(target: "carer_friendly::sql", ms, sql = %info.statement.sql);
        }
    });
    crate::db::migrate(&db, &config.database_url).await.map_err(|e| {
        anyhow::anyhow!(crate::db::connect::explain(&config.database_url, "cannot update the schema of", &e))
    })?;
    let checklist_files = Files::checklists(config.checklists_dir.as_deref()).map_err(anyhow::Error::msg)?;
    let checklists = Checklists::from_files(&checklist_files).map_err(|e| anyhow::anyhow!("checklist {e}"))?;
    let pulse_file = crate::domain::checklist::PULSE_FILE;
    let pulse = checklist_files
        .get(pulse_file)
        .ok_or_else(|| {
            format!("the employee pulse's questions are missing (a checklists folder holds {pulse_file} too)")
        })
        .and_then(crate::domain::pulse::Questionnaire::parse)
        .map_err(|e| anyhow::anyhow!("{}: {e}", checklist_files.describe(pulse_file)))?;
    let templates = Arc::new(Files::templates(config.templates_dir.as_deref()).map_err(anyhow::Error::msg)?);
    let translations = Arc::new(Translations::from_files(&templates).map_err(anyhow::Error::msg)?);
    let env = crate::web::templates::environment(templates.clone(), translations.clone());
    crate::web::templates::check_all(&env, &templates).map_err(anyhow::Error::msg)?;
    let secret = match &config.secret_key {
        Some(s) if s.len() >= 32 => s.as_bytes().to_vec(),
        Some(_) => anyhow::bail!("SECRET_KEY must be at least 32 characters"),
        None => shared_secret(&db).await?,
    };
    let passport_keys =
        crate::services::passport_crypto::PassportKeys::from_config(&config).map_err(anyhow::Error::msg)?;
    if let Some(url) = &config.public_url {
        config.public_url = Some(url.trim_end_matches('/').to_string());
    }
    let config_rate_limits = config.rate_limits;
    let counters = crate::metrics::Metrics::new(route_templates()).map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
    Ok(AppState {
        db,
        config: Arc::new(config),
        checklists: Arc::new(checklists),
        pulse: Arc::new(pulse),
        templates: Arc::new(env),
        translations,
        secret: Arc::new(secret),
        clock,
        queries,
        passport_keys: Arc::new(passport_keys),
        rate_limits: Arc::new(crate::http::rate_limit::RateLimits::new(config_rate_limits)),
        assignments: Arc::default(),
        jobs_in_flight: tokio_util::task::TaskTracker::new(),
        metrics: Arc::new(counters),
    })
}

/// The signing key kept in the database, created by the first instance that needs it.
async fn shared_secret(db: &sea_orm::DatabaseConnection) -> anyhow::Result<Vec<u8>> {
    const KEY: &str = "secret_key";
    if let Some(s) = setting::Entity::find_by_id(KEY.to_string()).one(db).await? {
        return Ok(s.value.into_bytes());
    }
    let fresh = setting::ActiveModel { key: Set(KEY.into()), value: Set(crypto::random_token()) };
    // Two instances starting together: one insert wins, both then read the same value.
    let _ = setting::Entity::insert(fresh).exec(db).await;
    let s = setting::Entity::find_by_id(KEY.to_string())
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("could not store the secret key"))?;
    Ok(s.value.into_bytes())
}

#[derive(serde::Serialize)]
struct Health {
    /// "ok"; "degraded" when mail is failing or dead; "unavailable" without the database.
    status: &'static str,
    database: bool,
    /// Absent when the database cannot be asked.
    mail: Option<crate::mail::sender::MailHealth>,
    version: &'static str,
}

/// 200 while the database answers (mail trouble shows in the JSON only: the service still
/// works and keeps the mail), 503 when it does not, so a load balancer takes the instance out.
#[handler]
async fn health(state: Data<&AppState>) -> poem::Response {
    use poem::IntoResponse;
    let probe = tokio::time::timeout(Duration::from_secs(3), state.db.execute_unprepared("SELECT 1")).await;
    let database = matches!(probe, Ok(Ok(_)));
    let mail = if database { crate::mail::sender::health(&state).await.ok() } else { None };
    let status = match (&mail, database) {
        (_, false) => "unavailable",
        (Some(m), true) if !m.ok => "degraded",
        _ => "ok",
    };
    let code = if database { poem::http::StatusCode::OK } else { poem::http::StatusCode::SERVICE_UNAVAILABLE };
    Json(Health { status, database, mail, version: env!("CARGO_PKG_VERSION") }).with_status(code).into_response()
}

/// Every route the app serves, as templates: the pages', the API's (from its document) and the
/// few beside them. Metrics count requests under these, never under a raw path.
fn route_templates() -> Vec<String> {
    let api: serde_json::Value = serde_json::from_str(&crate::api::service("").spec()).unwrap_or_default();
    let api_paths = api["paths"].as_object().map(|o| o.keys().map(|k| format!("/api/v1{k}")).collect::<Vec<_>>());
    crate::web::route_list()
        .into_iter()
        .map(|(_, p)| p.to_string())
        .chain(api_paths.unwrap_or_default())
        .chain(["/health", "/metrics", "/api/openapi.json", "/api/docs/", "/static/style.css"].map(String::from))
        .collect()
}

/// `/metrics` for Prometheus: served only when `METRICS_TOKEN` is set, to that bearer token.
#[handler]
async fn metrics(Data(state): Data<&AppState>, req: &poem::Request) -> poem::Response {
    use poem::IntoResponse;
    use subtle::ConstantTimeEq;
    let Some(token) = &state.config.metrics_token else {
        return poem::http::StatusCode::NOT_FOUND.into_response();
    };
    let given = req
        .headers()
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return poem::Response::builder()
            .status(poem::http::StatusCode::UNAUTHORIZED)
            .header(poem::http::header::WWW_AUTHENTICATE, "Bearer")
            .body("a valid METRICS_TOKEN is needed");
    }
    poem::Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render(state).await)
}

pub fn app(state: AppState) -> impl poem::Endpoint {
    let public_url = state.public_url();
    Route::new()
        .at("/health", get(health))
        .at("/metrics", get(metrics))
        .nest("/api", crate::api::routes(public_url))
        .nest("/", crate::web::routes())
        .around(crate::http::headers::security_headers)
        .around(crate::http::request_id::request_id)
        .data(state)
}

pub struct Application {
    port: u16,
    state: AppState,
    acceptor: poem::listener::TcpAcceptor,
}

impl Application {
    /// Builds the state, binds `bind` (use port 0 for a free port) and prints the setup link on
    /// an installation without an operator.
    pub async fn build(mut config: Config, clock: Arc<dyn Clock>, bind: &str) -> anyhow::Result<Application> {
        // Before listening or printing anything: a bad setting is the only thing reported.
        config.validate().map_err(|e| anyhow::anyhow!("configuration:\n{e}"))?;
        let acceptor = TcpListener::bind(bind.to_string())
            .into_acceptor()
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| anyhow::anyhow!("no local address"))?;
        if config.public_url.is_none() {
            config.public_url = Some(format!("http://{addr}"));
        }
        let state = build_state(config, clock).await?;
        let added = assessment::sync_checklists(&state).await?;
        if added > 0 {
            tracing::info!(added, "checklist items added to existing organisations");
        }
        if let Some(link) = accounts::setup_link_if_needed(&state).await? {
            if state.config.log_format == "json" {
                // Log collectors read JSON lines only.
                tracing::warn!(link = %link, "no operator account yet: create one with this one-time link (valid 24 hours)");
            } else {
                println!("\nNo operator account yet. Create one with this one-time link (valid 24 hours):\n  {link}\n");
            }
        }
        Ok(Application { port: addr.port(), state, acceptor })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or Ctrl-C, with the outbox sender and the job scheduler beside it.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(stop_signal()).await
    }

    /// Serves until `stop` completes, then shuts down in order: no new connections, requests in
    /// flight finished (at most `REQUEST_GRACE`), the mail in hand sent and no more claimed, the
    /// scheduler stopped and job runs in flight finished (at most `WORK_GRACE`; a run cut off
    /// there rolls back, as each period's work and its claim are one transaction).
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let state = self.state.clone();
        let transport = crate::mail::sender::Transport::from_config(&state.config).map_err(anyhow::Error::msg)?;
        let interval = Duration::from_millis(state.config.outbox_interval_ms.max(50));
        let (stopping, stopped) = tokio::sync::watch::channel(false);
        let sender = tokio::spawn(crate::mail::sender::run(state.clone(), transport, interval, stopped));
        let scheduler = crate::jobs::scheduler::start(state.clone()).await?;
        tracing::info!(port = self.port, "listening");
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(app(self.state), stop, Some(REQUEST_GRACE))
            .await?;
        tracing::info!("stopping: requests finished; finishing the mail and jobs in hand");
        let _ = stopping.send(true);
        let grace = WORK_GRACE.max(Duration::from_secs(state.config.smtp_timeout_secs));
        let work = async {
            let _ = sender.await;
            if let Some(mut s) = scheduler
                && let Err(e) = s.shutdown().await
            {
                tracing::warn!(error = %e, "scheduler did not stop cleanly");
            }
            state.jobs_in_flight.close();
            state.jobs_in_flight.wait().await;
        };
        if tokio::time::timeout(grace, work).await.is_err() {
            tracing::warn!(seconds = grace.as_secs(), "stopped with work still running after the grace period");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Longest wait for requests in flight at shutdown.
const REQUEST_GRACE: Duration = Duration::from_secs(10);
/// Longest wait for the mail and job runs in hand at shutdown (or `SMTP_TIMEOUT_SECS` if longer).
const WORK_GRACE: Duration = Duration::from_secs(20);

/// SIGTERM (how service managers stop a process) or Ctrl-C.
async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!("interrupted"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}
