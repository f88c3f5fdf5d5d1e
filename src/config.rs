//! Configuration: one struct, every field from a flag or an environment variable, with defaults
//! that need nothing, so `carer-friendly serve` starts on a fresh machine.
use clap::Args;

#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Database URL: sqlite://path?mode=rwc or postgres://user@host/db.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/carer-friendly.db?mode=rwc")]
    pub database_url: String,

    /// The address people use to reach this service; used in links in e-mails.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Secret for signing CSRF tokens (any string of 32+ characters). Several instances must share
    /// it; when unset, a random secret is generated once and kept in the database.
    #[arg(long, env = "SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Mark cookies Secure (set when served behind https).
    #[arg(long, env = "SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Turns on `/metrics` (Prometheus text format) for requests carrying
    /// `Authorization: Bearer <this token>` (16+ characters); unset, `/metrics` is not served.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Log lines as `text`, or as `json` (one object per line, with the request's id).
    #[arg(long, env = "LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// A folder of checklist files to use instead of the built-in ones.
    #[arg(long, env = "CHECKLISTS_DIR")]
    pub checklists_dir: Option<String>,

    /// A folder of page and e-mail templates (with `i18n/`) to use instead of the built-in ones.
    #[arg(long, env = "TEMPLATES_DIR")]
    pub templates_dir: Option<String>,

    /// SMTP server URL, e.g. smtp://localhost:25 or smtps://user:pass@mail.example.org.
    /// When unset, e-mails are written as .eml files to MAIL_DIR.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Directory for .eml files when no SMTP server is configured.
    #[arg(long, env = "MAIL_DIR", default_value = "data/mail")]
    pub mail_dir: String,

    /// Sender address of outgoing e-mail.
    #[arg(long, env = "MAIL_FROM", default_value = "carer-friendly <noreply@localhost>")]
    pub mail_from: String,

    /// How often (milliseconds) the outbox is checked for mail to send.
    #[arg(long, env = "OUTBOX_INTERVAL_MS", default_value_t = 5000)]
    pub outbox_interval_ms: u64,

    /// How many years a granted recognition is valid.
    #[arg(long, env = "RECOGNITION_YEARS", default_value_t = 3)]
    pub recognition_years: u32,

    /// When the scheduler looks for due reminders: a six-field cron expression (with seconds),
    /// evaluated in UTC, or "off". It is only a heartbeat; each job works out its own periods
    /// in the organisation's time zone and claims them, so the interval only sets the delay.
    #[arg(long, env = "JOBS_HEARTBEAT", default_value = "0 */5 * * * *")]
    pub jobs_heartbeat: String,

    /// Largest accepted evidence upload, in bytes.
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_upload_bytes: usize,

    /// Key for the passports' free text: base64 of 32 random bytes. When unset, a key file is
    /// created on first start (PASSPORT_KEY_FILE), never in the database.
    #[arg(long, env = "PASSPORT_KEY", hide_env_values = true)]
    pub passport_key: Option<String>,

    /// Earlier passport keys, comma-separated, still accepted for reading until
    /// `rotate-passport-key` has re-encrypted everything under PASSPORT_KEY.
    #[arg(long, env = "PASSPORT_OLD_KEYS", hide_env_values = true)]
    pub passport_old_keys: Option<String>,

    /// Where the generated passport key is kept when PASSPORT_KEY is unset; by default
    /// `passport.key` beside the SQLite file (or `data/passport.key`).
    #[arg(long, env = "PASSPORT_KEY_FILE")]
    pub passport_key_file: Option<String>,

    /// Rate limits per client address on password forms, reset mails, /verify and the API
    /// ("false" only for load tests).
    #[arg(long, env = "RATE_LIMITS", default_value_t = true, action = clap::ArgAction::Set)]
    pub rate_limits: bool,

    /// Behind a reverse proxy: the header in which it passes the client's address (e.g.
    /// X-Forwarded-For; the last address in it is used). Unset: the connecting peer's address.
    #[arg(long, env = "CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Longest one e-mail may take to hand to the SMTP server, in seconds (every step together);
    /// a server that stops answering then costs this much, not the whole queue.
    #[arg(long, env = "SMTP_TIMEOUT_SECS", default_value_t = 30)]
    pub smtp_timeout_secs: u64,

    /// Tries per e-mail before it is given up as dead (a permanent refusal is dead at once);
    /// the operator can send dead mail again from the jobs page.
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value_t = 10)]
    pub mail_max_attempts: i32,

    /// Days a sent e-mail stays in the outbox before the daily housekeeping removes it.
    #[arg(long, env = "RETENTION_SENT_MAIL_DAYS", default_value_t = 30)]
    pub retention_sent_mail_days: u32,

    /// Days a used or expired one-time link (invitation, reset, setup) is kept.
    #[arg(long, env = "RETENTION_TOKENS_DAYS", default_value_t = 30)]
    pub retention_tokens_days: u32,

    /// Days a finished job run is kept. At least 800: a run is the proof that its period (up to
    /// two years) was done, and removing it early would do that period again.
    #[arg(long, env = "RETENTION_JOB_RUNS_DAYS", default_value_t = 800)]
    pub retention_job_runs_days: u32,

    /// Days an entry of the passports' read log is kept.
    #[arg(long, env = "RETENTION_READ_LOG_DAYS", default_value_t = 730)]
    pub retention_read_log_days: u32,
}

impl Config {
    /// Configuration for tests and tools: defaults, then the given database.
    pub fn for_database(database_url: &str) -> Self {
        Config {
            database_url: database_url.to_string(),
            public_url: None,
            secret_key: None,
            secure_cookies: false,
            checklists_dir: None,
            templates_dir: None,
            log_format: "text".into(),
            metrics_token: None,
            smtp_url: None,
            mail_dir: "data/mail".into(),
            mail_from: "carer-friendly <noreply@localhost>".into(),
            outbox_interval_ms: 5000,
            max_upload_bytes: 10 * 1024 * 1024,
            recognition_years: 3,
            jobs_heartbeat: "off".into(),
            passport_key: None,
            passport_old_keys: None,
            passport_key_file: None,
            rate_limits: true,
            client_ip_header: None,
            smtp_timeout_secs: 30,
            mail_max_attempts: 10,
            retention_sent_mail_days: 30,
            retention_tokens_days: 30,
            retention_job_runs_days: 800,
            retention_read_log_days: 730,
        }
    }
}

impl Config {
    /// Checks every setting before anything starts, listens, prints or writes, so a mistake is
    /// reported first and alone. Returns every problem found, one per line.
    pub fn validate(&self) -> Result<(), String> {
        let mut problems = vec![];
        let url = self.database_url.trim();
        if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            problems.push("DATABASE_URL must start with sqlite:// or postgres://".to_string());
        }
        if let Some(public) = &self.public_url
            && !url::Url::parse(public).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
        {
            problems.push(format!("PUBLIC_URL \"{public}\" is not an http(s) address"));
        }
        if self.metrics_token.as_ref().is_some_and(|k| k.len() < 16) {
            problems.push("METRICS_TOKEN must be at least 16 characters".into());
        }
        if self.secret_key.as_ref().is_some_and(|k| k.len() < 32) {
            problems.push("SECRET_KEY must be at least 32 characters".into());
        }
        if let Some(smtp) = &self.smtp_url
            && let Err(e) = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(smtp)
        {
            // The URL may hold a password: name the problem, not the value.
            problems
                .push(format!("SMTP_URL is not usable: {e} (expected e.g. smtp://host:25 or smtps://user:pass@host)"));
        }
        if let Err(e) = self.mail_from.parse::<lettre::message::Mailbox>() {
            problems.push(format!("MAIL_FROM \"{}\" is not an address: {e}", self.mail_from));
        }
        if let Err(e) = check_heartbeat(&self.jobs_heartbeat) {
            problems.push(e);
        }
        for (name, ok) in [
            ("OUTBOX_INTERVAL_MS", self.outbox_interval_ms > 0),
            ("RECOGNITION_YEARS", self.recognition_years > 0),
            ("MAX_UPLOAD_BYTES", self.max_upload_bytes > 0),
            ("SMTP_TIMEOUT_SECS", self.smtp_timeout_secs > 0),
            ("MAIL_MAX_ATTEMPTS", self.mail_max_attempts > 0),
        ] {
            if !ok {
                problems.push(format!("{name} must be more than 0"));
            }
        }
        if self.retention_job_runs_days < 800 {
            problems.push("RETENTION_JOB_RUNS_DAYS must be at least 800 (longer than the longest job period)".into());
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
    }
}

/// "off" or a six-field cron expression (seconds first), as tokio-cron-scheduler wants it.
fn check_heartbeat(heartbeat: &str) -> Result<(), String> {
    let h = heartbeat.trim();
    if h.eq_ignore_ascii_case("off") {
        return Ok(());
    }
    let fields = h.split_whitespace().count();
    if fields != 6 {
        return Err(format!(
            "JOBS_HEARTBEAT \"{h}\" has {fields} fields; it needs six, seconds first (e.g. \"0 */5 * * * *\"), or \"off\""
        ));
    }
    use croner::parser::{CronParser, Seconds};
    // tokio-cron-scheduler parses it with croner 3, which takes the `5/5` step shorthand that
    // croner 4 rejects by default: accept what the scheduler accepts.
    CronParser::builder()
        .seconds(Seconds::Required)
        .sloppy_ranges(true)
        .build()
        .parse(h)
        .map(|_| ())
        .map_err(|e| format!("JOBS_HEARTBEAT \"{h}\" is not a cron expression: {e}"))
}

#[cfg(test)]
mod tests {
    use super::Config;

    #[test]
    fn every_bad_setting_is_named_before_anything_starts() {
        let mut c = Config::for_database("sqlite://x.db");
        assert!(c.validate().is_ok());
        c.jobs_heartbeat = "*/5 * * * *".into();
        c.smtp_url = Some("smtpx://nowhere".into());
        c.mail_from = "not an address".into();
        let e = c.validate().unwrap_err();
        assert!(e.contains("JOBS_HEARTBEAT") && e.contains("six"), "{e}");
        assert!(e.contains("SMTP_URL"), "{e}");
        assert!(e.contains("MAIL_FROM"), "{e}");
        c = Config::for_database("mysql://x");
        assert!(c.validate().unwrap_err().contains("DATABASE_URL"));
        c = Config::for_database("sqlite://x.db");
        c.jobs_heartbeat = "0 0 25 * * *".into();
        assert!(c.validate().unwrap_err().contains("JOBS_HEARTBEAT"));
    }
}
