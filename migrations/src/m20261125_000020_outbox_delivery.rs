//! Mail delivery under faults: a claim token fences the "sent" update on the claim held, and
//! dead mail (permanently refused, or out of attempts) waits for the operator.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        m.alter_table(Table::alter().table("outbox").add_column(string_null("claim_token")).to_owned()).await?;
        m.alter_table(Table::alter().table("outbox").add_column(timestamp_with_time_zone_null("dead_at")).to_owned())
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("outbox").drop_column("dead_at").to_owned()).await?;
        m.alter_table(Table::alter().table("outbox").drop_column("claim_token").to_owned()).await?;
        Ok(())
    }
}
