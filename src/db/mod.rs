//! Persistence: the connection (SQLite or PostgreSQL), migrations, and the sea-orm entities.
pub mod backup;
pub mod connect;
pub mod entities;
pub mod page;
pub mod scope;

pub use connect::{connect, migrate, write_txn};
