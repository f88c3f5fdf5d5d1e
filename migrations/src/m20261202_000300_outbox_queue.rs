//! The outbox read by index, whatever its backlog: after a mailing to every organisation (10,000
//! messages waiting) `/health` counted waiting, failing and dead mail by reading every row, bodies
//! included (235 ms per call), and each claim sorted every due message to take five. Now the
//! claim walks `(sent_at, dead_at)` in id order and stops at its five, and the three counts read
//! only the indexes (failing mail is unsent mail with at least one attempt).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("outbox_pending").table("outbox").to_owned()).await?;
        m.create_index(Index::create().name("outbox_unsent").table("outbox").col("sent_at").col("dead_at").to_owned())
            .await?;
        m.create_index(
            Index::create()
                .name("outbox_attempted")
                .table("outbox")
                .col("sent_at")
                .col("dead_at")
                .col("attempts")
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("outbox_attempted").table("outbox").to_owned()).await?;
        m.drop_index(Index::drop().name("outbox_unsent").table("outbox").to_owned()).await?;
        m.create_index(
            Index::create().name("outbox_pending").table("outbox").col("sent_at").col("next_attempt_at").to_owned(),
        )
        .await
    }
}
