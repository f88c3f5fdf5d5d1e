//! Schema migrations, one file per step, applied in order by `carer-friendly migrate`
//! (and on `serve`, under a lock so that several instances can start together).
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261124_000001_passports;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            // Keep last: later branches add their steps before it.
            Box::new(m20261124_000001_passports::Migration),
        ]
    }
}
