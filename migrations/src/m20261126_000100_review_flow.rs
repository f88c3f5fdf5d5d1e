//! Inbox messages keep what they are about (`params`, JSON), so each is written in the reader's
//! language when read; and which advisor opened which waiting item when, so several items can be
//! accepted at once only after each was looked at. And what a user had typed in a form that
//! failed, kept on their session while they switch language, so the text is not lost.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("notifications").add_column(text_null("params")).to_owned()).await?;
        m.alter_table(Table::alter().table("sessions").add_column(text_null("kept_form")).to_owned()).await?;
        m.create_table(
            Table::create()
                .table("item_openings")
                .col(big_integer("item_id"))
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("opened_at"))
                .primary_key(Index::create().col("item_id").col("user_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("item_openings", "item_id")
                        .to("items", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("item_openings", "user_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("item_openings").to_owned()).await?;
        m.alter_table(Table::alter().table("sessions").drop_column("kept_form").to_owned()).await?;
        m.alter_table(Table::alter().table("notifications").drop_column("params").to_owned()).await
    }
}
