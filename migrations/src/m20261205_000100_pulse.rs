//! The employee pulse. A round belongs to an organisation and keeps the questions it asked; its invitation tokens prove a right to
//! answer once and are deleted when used; answers and free-text comments live in tables of their
//! own with no user, token, time of day or address, and with random ids, so neither a join nor
//! the order of rows leads back to who answered or when. On SQLite the answers' id is declared
//! `integer` so that it is the row id itself (a `bigint` key would get a hidden row id in the
//! order of insertion); on PostgreSQL it is a `bigint`.
use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = m.get_database_backend() == DatabaseBackend::Sqlite;
        let random_id = |name: &'static str| {
            let mut c = if sqlite { integer(name) } else { big_integer(name) };
            c.primary_key();
            c
        };
        m.create_table(
            Table::create()
                .table("pulse_rounds")
                .col(big_pk_auto("id"))
                .col(big_integer("organisation_id"))
                .col(string("question_version"))
                .col(text("questions"))
                .col(big_integer_null("opened_by"))
                .col(timestamp_with_time_zone("opened_at"))
                .col(date("closes_on"))
                .col(timestamp_with_time_zone_null("closed_at"))
                .col(big_integer_null("closed_by"))
                .col(boolean("by_department"))
                .col(boolean("free_text"))
                .col(text("departments"))
                .col(string_null("link_nonce"))
                .col(integer("invited"))
                .col(integer("answered_invited"))
                .col(integer("answered_link"))
                .col(text_null("result"))
                .foreign_key(
                    ForeignKey::create()
                        .from("pulse_rounds", "organisation_id")
                        .to("organisations", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("pulse_rounds", "opened_by")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("pulse_rounds", "closed_by")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::SetNull),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("pulse_rounds_organisation")
                .table("pulse_rounds")
                .col("organisation_id")
                .col("id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("pulse_rounds_open")
                .table("pulse_rounds")
                .col("closed_at")
                .col("closes_on")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("pulse_tokens")
                .col(big_pk_auto("id"))
                .col(big_integer("round_id"))
                .col(string_uniq("token_hash"))
                .col(string_null("department"))
                .foreign_key(
                    ForeignKey::create()
                        .from("pulse_tokens", "round_id")
                        .to("pulse_rounds", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("pulse_tokens_round").table("pulse_tokens").col("round_id").to_owned())
            .await?;
        // Each open-link form once: a double click or a resent form is not a second answer.
        m.create_table(
            Table::create()
                .table("pulse_link_forms")
                .col(big_pk_auto("id"))
                .col(big_integer("round_id"))
                .col(string_uniq("nonce_hash"))
                .foreign_key(
                    ForeignKey::create()
                        .from("pulse_link_forms", "round_id")
                        .to("pulse_rounds", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("pulse_link_forms_round").table("pulse_link_forms").col("round_id").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("pulse_answers")
                .col(random_id("id"))
                .col(big_integer("round_id"))
                .col(string_null("department"))
                .col(date("answered_on"))
                .col(text("answers"))
                .foreign_key(
                    ForeignKey::create()
                        .from("pulse_answers", "round_id")
                        .to("pulse_rounds", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("pulse_answers_round").table("pulse_answers").col("round_id").to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("pulse_comments")
                .col(random_id("id"))
                .col(big_integer("round_id"))
                .col(text("text"))
                .foreign_key(
                    ForeignKey::create()
                        .from("pulse_comments", "round_id")
                        .to("pulse_rounds", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(Index::create().name("pulse_comments_round").table("pulse_comments").col("round_id").to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["pulse_comments", "pulse_answers", "pulse_link_forms", "pulse_tokens", "pulse_rounds"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
