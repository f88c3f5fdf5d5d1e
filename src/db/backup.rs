//! `carer-friendly backup PATH`: an online, consistent copy of the database while the service
//! runs. SQLite: `VACUUM INTO` writes one transaction-consistent file, WAL included (a plain copy
//! of the file misses what is still in the WAL). PostgreSQL: pg_dump is the tool; we say how.
//! The passport key is never in the database: it must be kept with (but apart from) the backup.
use std::path::Path;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

#[derive(Debug)]
pub enum Backup {
    /// A complete SQLite database file.
    Written { path: String, bytes: u64 },
    /// PostgreSQL: run this command (it asks for the password itself, none is printed).
    PgDump { command: String },
}

pub async fn backup(db: &DatabaseConnection, url: &str, path: &Path) -> Result<Backup, String> {
    if db.get_database_backend() == DbBackend::Postgres {
        let mut u = url::Url::parse(url).map_err(|e| format!("DATABASE_URL: {e}"))?;
        let _ = u.set_password(None);
        return Ok(Backup::PgDump { command: format!("pg_dump --format=custom --file '{}' '{u}'", path.display()) });
    }
    if path.exists() {
        return Err(format!("{} exists already; choose a new file", path.display()));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        return Err(format!("the folder {} does not exist", parent.display()));
    }
    let target = path.to_str().ok_or_else(|| format!("{} is not a usable file name", path.display()))?;
    // A string literal in SQL: quotes doubled.
    db.execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
        .await
        .map_err(|e| format!("backup to {target} failed: {e}"))?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(Backup::Written { path: target.to_string(), bytes })
}
