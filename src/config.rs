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

    /// Directory with the checklist files.
    #[arg(long, env = "CHECKLISTS_DIR", default_value = "checklists")]
    pub checklists_dir: String,

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

    /// Longest one e-mail may take to hand to the SMTP server, in seconds (every step together);
    /// a server that stops answering then costs this much, not the whole queue.
    #[arg(long, env = "SMTP_TIMEOUT_SECS", default_value_t = 30)]
    pub smtp_timeout_secs: u64,

    /// Tries per e-mail before it is given up as dead (a permanent refusal is dead at once);
    /// the operator can send dead mail again from the jobs page.
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value_t = 10)]
    pub mail_max_attempts: i32,
}

impl Config {
    /// Configuration for tests and tools: defaults, then the given database.
    pub fn for_database(database_url: &str) -> Self {
        Config {
            database_url: database_url.to_string(),
            public_url: None,
            secret_key: None,
            secure_cookies: false,
            checklists_dir: "checklists".into(),
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
            smtp_timeout_secs: 30,
            mail_max_attempts: 10,
        }
    }
}
