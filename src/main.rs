use std::io::IsTerminal;
use std::sync::Arc;

use carer_friendly::clock::SystemClock;
use carer_friendly::config::Config;
use carer_friendly::startup::{Application, build_state};
use clap::{Parser, Subcommand};

/// carer-friendly: the self-assessment towards "Wij werken mantelzorgvriendelijk!".
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the web service (pages, REST API, mail sender, job scheduler).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
        bind: String,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Loads demo organisations and accounts and prints how to log in.
    Demo {
        /// Instead of the three showcase organisations, create this many with realistic
        /// evidence (for measuring speed).
        #[arg(long)]
        organisations: Option<usize>,
    },
    /// Runs one recurring-attention job now (or "all"), then sends the mail it queued.
    /// Periods already done are not done again.
    RunJob {
        /// day-of-carers, appraisal-cycle, manager-briefing, handbook-check, evidence-lapsing,
        /// recognition-expiry, advisor-digest, custom-moments, passport-reviews, pulse or all
        name: String,
    },
    /// Writes a consistent copy of the database to PATH while the service runs (SQLite), or
    /// prints the pg_dump command (PostgreSQL). Keep the passport key too: see README, "Operations".
    Backup {
        /// A new file for the copy.
        path: std::path::PathBuf,
    },
    /// Re-encrypts the passports' free text under PASSPORT_KEY (after a key change, with the
    /// previous key in PASSPORT_OLD_KEYS). See README, "Key rotation".
    RotatePassportKey {
        /// Only print a fresh key for PASSPORT_KEY and exit.
        #[arg(long)]
        generate: bool,
    },
}

fn main() -> anyhow::Result<()> {
    // Before any other thread exists, so that none has made an arena of its own yet.
    carer_friendly::memory::limit_arenas();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,tokio_cron_scheduler=warn".into());
    // Colours only on a terminal; one JSON object per line for log collectors.
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(std::io::stdout().is_terminal());
    if cli.config.log_format == "json" {
        logs.json().with_current_span(true).with_span_list(false).init();
    } else {
        logs.init();
    }
    match cli.command {
        Command::Serve { bind } => {
            let app = Application::build(cli.config, Arc::new(SystemClock), &bind).await?;
            if app.state().config.log_format == "json" {
                tracing::info!(url = %app.state().public_url(), "carer-friendly is running");
            } else {
                println!("carer-friendly is running at {}", app.state().public_url());
            }
            app.run_until_stopped().await
        }
        Command::Migrate => {
            use carer_friendly::db::connect::explain;
            let url = &cli.config.database_url;
            let db =
                carer_friendly::db::connect(url).await.map_err(|e| anyhow::anyhow!(explain(url, "cannot open", &e)))?;
            carer_friendly::db::migrate(&db, url)
                .await
                .map_err(|e| anyhow::anyhow!(explain(url, "cannot update the schema of", &e)))?;
            println!("database is up to date");
            Ok(())
        }
        Command::Demo { organisations } => {
            let state = build_state(cli.config, Arc::new(SystemClock)).await?;
            let report = match organisations {
                Some(n) => carer_friendly::demo::load_many(&state, n).await?,
                None => carer_friendly::demo::load_showcase(&state).await?,
            };
            println!("{report}");
            Ok(())
        }
        Command::RunJob { name } => {
            use carer_friendly::jobs::{Job, run, run_all};
            let jobs = if name == "all" {
                None
            } else {
                let job = Job::parse(&name)
                    .ok_or_else(|| anyhow::anyhow!("unknown job \"{name}\"; the jobs are: {}, all", Job::names()))?;
                Some(job)
            };
            let state = build_state(cli.config, Arc::new(SystemClock)).await?;
            let reports = match jobs {
                Some(job) => vec![run(&state, job).await?],
                None => run_all(&state).await,
            };
            for r in &reports {
                println!("{}: {} period(s) done, {} reminder(s), {} failed", r.job, r.done, r.notices, r.failed);
            }
            let transport =
                carer_friendly::mail::sender::Transport::from_config(&state.config).map_err(anyhow::Error::msg)?;
            let sent = carer_friendly::mail::sender::send_due(&state, &transport).await?;
            println!("mail: {sent:?}");
            Ok(())
        }
        Command::Backup { path } => {
            use carer_friendly::db::backup::{Backup, backup};
            use carer_friendly::db::connect::explain;
            cli.config.validate().map_err(|e| anyhow::anyhow!("configuration:\n{e}"))?;
            let url = &cli.config.database_url;
            let db =
                carer_friendly::db::connect(url).await.map_err(|e| anyhow::anyhow!(explain(url, "cannot open", &e)))?;
            match backup(&db, url, &path).await.map_err(anyhow::Error::msg)? {
                Backup::Written { path, bytes } => println!("database copied to {path} ({bytes} bytes)"),
                Backup::PgDump { command } => println!("PostgreSQL: back up with pg_dump, e.g.\n  {command}"),
            }
            match &cli.config.passport_key {
                Some(_) => {
                    println!("The passport key is PASSPORT_KEY: keep it (apart from this copy) to read passports.")
                }
                None => println!(
                    "The passport key is in {}: keep a copy of it (apart from this copy); without it passports cannot be read.",
                    carer_friendly::services::passport_crypto::key_file_path(&cli.config).display()
                ),
            }
            Ok(())
        }
        Command::RotatePassportKey { generate: true } => {
            println!("{}", carer_friendly::services::passport_crypto::generate_key());
            Ok(())
        }
        Command::RotatePassportKey { generate: false } => {
            let state = build_state(cli.config, Arc::new(SystemClock)).await?;
            let n = carer_friendly::services::passport::rotate_key(&state).await?;
            println!("{n} passport values re-encrypted under key {}", state.passport_keys.current_id());
            Ok(())
        }
    }
}
