//! Schema migrations, one file per step, applied in order by `carer-friendly migrate`
//! (and on `serve`, under a lock so that several instances can start together).
pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261123_000002_recognition;
mod m20261123_000003_attention;
mod m20261124_000001_passports;
mod m20261124_000002_read_indexes;
mod m20261125_000001_passport_file_imports;
mod m20261125_000010_accounts;
mod m20261125_000020_outbox_delivery;
mod m20261126_000100_review_flow;
mod m20261201_000100_people;
mod m20261202_000100_progress;
mod m20261202_000200_portfolio_order;
mod m20261202_000300_outbox_queue;
mod m20261204_000100_advisor_figures;
mod m20261205_000100_pulse;

pub struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261123_000002_recognition::Migration),
            Box::new(m20261123_000003_attention::Migration),
            Box::new(m20261124_000001_passports::Migration),
            Box::new(m20261124_000002_read_indexes::Migration),
            Box::new(m20261125_000001_passport_file_imports::Migration),
            Box::new(m20261125_000010_accounts::Migration),
            Box::new(m20261125_000020_outbox_delivery::Migration),
            Box::new(m20261126_000100_review_flow::Migration),
            Box::new(m20261201_000100_people::Migration),
            Box::new(m20261202_000100_progress::Migration),
            Box::new(m20261202_000200_portfolio_order::Migration),
            Box::new(m20261202_000300_outbox_queue::Migration),
            Box::new(m20261204_000100_advisor_figures::Migration),
            Box::new(m20261205_000100_pulse::Migration),
        ]
    }
}
