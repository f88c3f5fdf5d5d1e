//! Builds the application: database (migrated), checklists, templates, secret, routes; binds the
//! listener (port 0 in tests) and starts the outbox sender beside the server.
use std::path::{Path, PathBuf};
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
use crate::services::{accounts, assessment, crypto};
use crate::state::AppState;
use crate::web::i18n::Translations;

/// A folder of the repository: as configured when it exists, else the one beside the sources,
/// so the binary also runs from another working directory.
fn resource_dir(configured: &str, name: &str) -> PathBuf {
    let p = Path::new(configured);
    if p.is_dir() { p.to_path_buf() } else { Path::new(env!("CARGO_MANIFEST_DIR")).join(name) }
}

/// Everything but the listener: used by `serve`, `demo` and the tests.
pub async fn build_state(mut config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    config.validate().map_err(|e| anyhow::anyhow!("configuration:\n{e}"))?;
    let mut db = crate::db::connect(&config.database_url)
        .await
        .map_err(|e| anyhow::anyhow!(crate::db::connect::explain(&config.database_url, "cannot open", &e)))?;
    let queries = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = queries.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    crate::db::migrate(&db, &config.database_url).await.map_err(|e| {
        anyhow::anyhow!(crate::db::connect::explain(&config.database_url, "cannot update the schema of", &e))
    })?;
    let checklists = Checklists::load_dir(&resource_dir(&config.checklists_dir, "checklists"))
        .map_err(|e| anyhow::anyhow!("checklist {e}"))?;
    let templates_dir = resource_dir("templates", "templates");
    let translations = Arc::new(Translations::load(&templates_dir.join("i18n")).map_err(anyhow::Error::msg)?);
    let env = crate::web::templates::environment(&templates_dir, translations.clone());
    crate::web::templates::check_all(&env, &templates_dir).map_err(anyhow::Error::msg)?;
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
    Ok(AppState {
        db,
        config: Arc::new(config),
        checklists: Arc::new(checklists),
        templates: Arc::new(env),
        translations,
        secret: Arc::new(secret),
        clock,
        queries,
        passport_keys: Arc::new(passport_keys),
        rate_limits: Arc::new(crate::http::rate_limit::RateLimits::new(config_rate_limits)),
        assignments: Arc::default(),
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

pub fn app(state: AppState) -> impl poem::Endpoint {
    let public_url = state.public_url();
    Route::new()
        .at("/health", get(health))
        .nest("/api", crate::api::routes(public_url))
        .nest("/", crate::web::routes())
        .around(crate::http::headers::security_headers)
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
            println!("\nNo operator account yet. Create one with this one-time link (valid 24 hours):\n  {link}\n");
        }
        Ok(Application { port: addr.port(), state, acceptor })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process ends, with the outbox sender and the job scheduler beside it.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let transport = crate::mail::sender::Transport::from_config(&self.state.config).map_err(anyhow::Error::msg)?;
        let interval = Duration::from_millis(self.state.config.outbox_interval_ms.max(50));
        tokio::spawn(crate::mail::sender::run(self.state.clone(), transport, interval));
        let _scheduler = crate::jobs::scheduler::start(self.state.clone()).await?;
        tracing::info!(port = self.port, "listening");
        Server::new_with_acceptor(self.acceptor).run(app(self.state)).await?;
        Ok(())
    }
}
