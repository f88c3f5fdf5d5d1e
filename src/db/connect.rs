use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Opens the database. For SQLite: creates the folder of the file, a small pool, WAL, a busy
/// timeout and foreign keys, so concurrent writers wait instead of failing with "locked".
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut url = url.to_string();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or_default();
        if let Some(parent) = std::path::Path::new(file).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
        }
        if !url.contains('?') {
            url.push_str("?mode=rwc");
        }
    }
    let sqlite = url.starts_with("sqlite:");
    let mut opts = ConnectOptions::new(url);
    opts.max_connections(if sqlite { 5 } else { 20 })
        .min_connections(1)
        // Fail fast when the database is away (a request errors in seconds, not ten); the pool
        // reconnects by itself when it is back.
        .connect_timeout(Duration::from_secs(3))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if sqlite {
        opts.map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
        });
    }
    Database::connect(opts).await
}

/// Applies pending migrations. On PostgreSQL under an advisory lock held on one dedicated
/// connection, so instances starting together do not race (sea-orm-migration takes no lock).
pub async fn migrate(db: &DatabaseConnection, url: &str) -> Result<(), DbErr> {
    const LOCK: i64 = 0x6361_7265_7266;
    if db.get_database_backend() != DbBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    let mut opts = ConnectOptions::new(url.to_string());
    opts.max_connections(1).min_connections(1).sqlx_logging(false);
    let single = Database::connect(opts).await?;
    single.execute_unprepared(&format!("SELECT pg_advisory_lock({LOCK})")).await?;
    let result = Migrator::up(&single, None).await;
    single.execute_unprepared(&format!("SELECT pg_advisory_unlock({LOCK})")).await?;
    single.close().await?;
    result
}

/// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite so that a writer takes the lock up
/// front (and waits for it under the busy timeout) instead of failing half-way.
pub async fn write_txn(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Serialises one kind of write inside a write transaction (e.g. numbering, one pending
/// application per organisation): on PostgreSQL a transaction-scoped advisory lock on `key`;
/// on SQLite nothing more is needed, as `write_txn` already holds the database's write lock.
pub async fn serialise(txn: &impl ConnectionTrait, what: &str, id: i64) -> Result<(), DbErr> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    // Two 32-bit keys: a stable hash of `what`, and the id (folded into 32 bits).
    let class = what.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193)) as i32;
    let key = (id ^ (id >> 32)) as i32;
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1, $2)",
        [class.into(), key.into()],
    ))
    .await?;
    Ok(())
}

/// A database error at start as an operator can act on it: which file or server, and what to
/// check. The URL's password is never shown.
pub fn explain(url: &str, doing: &str, e: &DbErr) -> String {
    if let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        let file = rest.split('?').next().unwrap_or_default();
        return format!(
            "{doing} the SQLite database {file}: {e}\nCheck that the folder exists and is writable by this user, \
             that the file is a carer-friendly database, and that DATABASE_URL points at it."
        );
    }
    let place = url::Url::parse(url)
        .map(|u| format!("{}:{}{}", u.host_str().unwrap_or("?"), u.port().unwrap_or(5432), u.path()))
        .unwrap_or_else(|_| "(DATABASE_URL is not a URL)".into());
    format!(
        "{doing} the PostgreSQL database at {place}: {e}\nCheck that PostgreSQL runs and accepts connections there, \
         that the database exists and the user in DATABASE_URL may use it."
    )
}
