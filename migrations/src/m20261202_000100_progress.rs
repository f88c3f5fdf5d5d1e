//! Progress kept current instead of recounted on every page: per organisation and checklist the
//! items by status, and per organisation the figures the portfolio sorts and filters by. The
//! service writes them in the same transaction as every change they depend on; rows are filled
//! for existing organisations at the next start (see `services::progress::refresh_stale`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("checklist_progress")
                .col(big_integer("organisation_id"))
                .col(string("checklist_key"))
                .col(string("checklist_version"))
                .col(integer("total"))
                .col(integer("done"))
                .col(integer("awaiting_review"))
                .col(integer("changes_requested"))
                .col(integer("in_progress"))
                .col(integer("open"))
                .col(integer("due"))
                .primary_key(Index::create().col("organisation_id").col("checklist_key"))
                .foreign_key(
                    ForeignKey::create()
                        .from("checklist_progress", "organisation_id")
                        .to("organisations", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("organisation_figures")
                .col(big_integer("organisation_id").primary_key())
                .col(integer("percent"))
                .col(integer("waiting"))
                .col(timestamp_with_time_zone("waiting_since"))
                .col(date("valid_until"))
                .col(boolean("live"))
                .foreign_key(
                    ForeignKey::create()
                        .from("organisation_figures", "organisation_id")
                        .to("organisations", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The review queue reads the waiting items oldest first; the operator lists organisations by name.
        m.create_index(
            Index::create()
                .name("items_waiting")
                .table("items")
                .col("status")
                .col("status_changed_at")
                .col("id")
                .to_owned(),
        )
        .await?;
        // Bumped with every change of an advisor's assignments, so instances may keep the
        // assignments in memory between changes.
        m.alter_table(
            Table::alter().table("users").add_column(big_integer("assignments_version").default(0)).to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("organisations_name").table("organisations").col("name").col("id").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("users").drop_column("assignments_version").to_owned()).await?;
        m.drop_index(Index::drop().name("organisations_name").table("organisations").to_owned()).await?;
        m.drop_index(Index::drop().name("items_waiting").table("items").to_owned()).await?;
        m.drop_table(Table::drop().table("organisation_figures").to_owned()).await?;
        m.drop_table(Table::drop().table("checklist_progress").to_owned()).await
    }
}
