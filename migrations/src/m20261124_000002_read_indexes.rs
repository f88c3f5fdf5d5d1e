//! Indexes for the pages that read across many organisations (portfolio, dashboards, lapsed
//! evidence): both queries are answered from the index alone, without touching the rows.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("items_progress")
                .table("items")
                .col("organisation_id")
                .col("checklist_key")
                .col("status")
                .col("item_key")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("evidence_current")
                .table("evidence")
                .col("item_id")
                .col("superseded_at")
                .col("valid_until")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("evidence_current").table("evidence").to_owned()).await?;
        m.drop_index(Index::drop().name("items_progress").table("items").to_owned()).await?;
        Ok(())
    }
}
