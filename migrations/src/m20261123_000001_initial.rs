//! The self-assessment core: accounts, organisations, items with their history, evidence,
//! the mail outbox and the audit log.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    table: impl IntoIden + Clone + 'static,
    column: impl IntoIden + 'static,
    to: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(to, Alias::new("id")).on_delete(ForeignKeyAction::Restrict).to_owned()
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create().table("settings").col(string("key").primary_key()).col(text("value")).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("organisations")
                .col(big_pk_auto("id"))
                .col(string("name"))
                .col(string("timezone"))
                .col(integer_null("appraisal_month"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("users")
                .col(big_pk_auto("id"))
                .col(string_uniq("email"))
                .col(string("name"))
                .col(string("role"))
                .col(big_integer_null("organisation_id"))
                .col(text_null("password_hash"))
                .col(string("locale"))
                .col(boolean("active"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("users", "organisation_id", "organisations"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("advisor_assignments")
                .col(big_pk_auto("id"))
                .col(big_integer("advisor_id"))
                .col(big_integer("organisation_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("advisor_assignments", "advisor_id", "users"))
                .foreign_key(&mut fk("advisor_assignments", "organisation_id", "organisations"))
                .index(
                    Index::create()
                        .name("advisor_assignments_unique")
                        .col("advisor_id")
                        .col("organisation_id")
                        .unique(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("sessions")
                .col(big_pk_auto("id"))
                .col(string_uniq("token_hash"))
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut fk("sessions", "user_id", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("one_time_tokens")
                .col(big_pk_auto("id"))
                .col(string_uniq("token_hash"))
                .col(string("purpose"))
                .col(string("email"))
                .col(string_null("name"))
                .col(string_null("role"))
                .col(big_integer_null("organisation_id"))
                .col(big_integer_null("user_id"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("api_tokens")
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string("name"))
                .col(string_uniq("token_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("api_tokens", "user_id", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("items")
                .col(big_pk_auto("id"))
                .col(big_integer("organisation_id"))
                .col(string("checklist_key"))
                .col(string("item_key"))
                .col(string("status"))
                .col(big_integer_null("owner_id"))
                .col(date_null("due_date"))
                .col(timestamp_with_time_zone("status_changed_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("items", "organisation_id", "organisations"))
                .foreign_key(&mut fk("items", "owner_id", "users"))
                .index(
                    Index::create()
                        .name("items_unique_key")
                        .col("organisation_id")
                        .col("checklist_key")
                        .col("item_key")
                        .unique(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("items_status").table("items").col("status").col("status_changed_at").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("item_transitions")
                .col(big_pk_auto("id"))
                .col(big_integer("item_id"))
                .col(string("from_status"))
                .col(string("to_status"))
                .col(big_integer_null("actor_id"))
                .col(text_null("reason"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("item_transitions", "item_id", "items"))
                .foreign_key(&mut fk("item_transitions", "actor_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("item_transitions_item").table("item_transitions").col("item_id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("comments")
                .col(big_pk_auto("id"))
                .col(big_integer("item_id"))
                .col(big_integer("author_id"))
                .col(text("body"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("comments", "item_id", "items"))
                .foreign_key(&mut fk("comments", "author_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("comments_item").table("comments").col("item_id").to_owned()).await?;

        m.create_table(
            Table::create()
                .table("evidence_files")
                .col(big_pk_auto("id"))
                .col(blob("content"))
                .col(string("content_type"))
                .col(big_integer("size"))
                .col(string("filename"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("evidence")
                .col(big_pk_auto("id"))
                .col(big_integer("item_id"))
                .col(string("kind"))
                .col(string("title"))
                .col(text_null("note"))
                .col(text_null("url"))
                .col(big_integer_null("file_id"))
                .col(string("sha256"))
                .col(date_null("valid_from"))
                .col(date_null("valid_until"))
                .col(big_integer("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(big_integer_null("replaces_id"))
                .col(timestamp_with_time_zone_null("superseded_at"))
                .foreign_key(&mut fk("evidence", "item_id", "items"))
                .foreign_key(&mut fk("evidence", "file_id", "evidence_files"))
                .foreign_key(&mut fk("evidence", "created_by", "users"))
                .foreign_key(&mut fk("evidence", "replaces_id", "evidence"))
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("evidence_item").table("evidence").col("item_id").to_owned()).await?;

        m.create_table(
            Table::create()
                .table("outbox")
                .col(big_pk_auto("id"))
                .col(string("recipient"))
                .col(string("subject"))
                .col(text("body_text"))
                .col(text("body_html"))
                .col(string_null("dedupe_key").unique_key())
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .col(text_null("last_error"))
                .col(timestamp_with_time_zone_null("sent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("outbox_pending").table("outbox").col("sent_at").col("next_attempt_at").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("audit_log")
                .col(big_pk_auto("id"))
                .col(big_integer_null("actor_id"))
                .col(big_integer_null("organisation_id"))
                .col(string("action"))
                .col(string("subject"))
                .col(text_null("detail"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("audit_log_organisation")
                .table("audit_log")
                .col("organisation_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "audit_log",
            "outbox",
            "evidence",
            "evidence_files",
            "comments",
            "item_transitions",
            "items",
            "api_tokens",
            "one_time_tokens",
            "sessions",
            "advisor_assignments",
            "users",
            "organisations",
            "settings",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
