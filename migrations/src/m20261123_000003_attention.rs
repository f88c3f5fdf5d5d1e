//! Recurring attention: claims of job periods (exactly once across instances), the in-app
//! inbox, reminder preferences, the organisations' own attention moments and calendar feeds.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("job_runs")
                .col(big_pk_auto("id"))
                .col(string("job"))
                .col(string("period"))
                // The organisation, user or moment the period belongs to ("-" for the whole service).
                .col(string("scope"))
                .col(string("instance"))
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("claimed_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("finished_at"))
                .col(text_null("outcome"))
                .col(text_null("last_error"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("job_runs_period")
                .table("job_runs")
                .col("job")
                .col("period")
                .col("scope")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("notifications")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(big_integer_null("organisation_id"))
                .col(string("kind"))
                .col(string("title"))
                .col(text("body"))
                .col(string_null("link"))
                .col(string_uniq("dedupe_key"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .foreign_key(ForeignKey::create().from("notifications", "user_id").to("users", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("notifications_user").table("notifications").col("user_id").col("read_at").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("reminder_preferences")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string("kind"))
                .col(boolean("email"))
                .foreign_key(ForeignKey::create().from("reminder_preferences", "user_id").to("users", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("reminder_preferences_user_kind")
                .table("reminder_preferences")
                .col("user_id")
                .col("kind")
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("attention_moments")
                .col(big_pk_auto("id"))
                .col(big_integer("organisation_id"))
                .col(string("title"))
                .col(text("message"))
                .col(string("rule"))
                // Comma-separated roles that receive it.
                .col(string("recipients"))
                .col(boolean("active"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create().from("attention_moments", "organisation_id").to("organisations", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("calendar_feeds")
                .col(big_pk_auto("id"))
                .col(big_integer_null("organisation_id"))
                .col(big_integer_null("user_id"))
                // SHA-256 of the secret in the URL; the secret itself is not stored.
                .col(string_uniq("token_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table("organisations").add_column(integer("manager_briefing_years").default(2)).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("organisations").drop_column("manager_briefing_years").to_owned()).await?;
        for t in ["calendar_feeds", "attention_moments", "reminder_preferences", "notifications", "job_runs"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
