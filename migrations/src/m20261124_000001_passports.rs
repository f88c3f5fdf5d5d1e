//! Working Carers Passports: consent, reporting lines (who manages whom, in which department),
//! passports with encrypted versions, confirmations, the access log, handovers, one-time
//! transfer codes, review-reminder claims and the anonymous count of former carers.
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
        // Who manages whom: set by HR; the passport's manager is the carer's current line manager.
        m.create_table(
            Table::create()
                .table("reporting_lines")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("user_id"))
                .col(big_integer("organisation_id"))
                .col(big_integer_null("manager_id"))
                .col(string_null("department"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("reporting_lines", "user_id", "users"))
                .foreign_key(&mut fk("reporting_lines", "organisation_id", "organisations"))
                .foreign_key(&mut fk("reporting_lines", "manager_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("reporting_lines_manager").table("reporting_lines").col("manager_id").to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("carer_consents")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("user_id"))
                .col(big_integer("organisation_id"))
                .col(boolean("hr_copy"))
                .col(boolean("statistics"))
                .col(timestamp_with_time_zone("consented_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("carer_consents", "user_id", "users"))
                .foreign_key(&mut fk("carer_consents", "organisation_id", "organisations"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("passports")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("carer_id"))
                .col(big_integer("organisation_id"))
                .col(integer("current_version"))
                .col(date("review_date"))
                .col(string("origin"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("passports", "carer_id", "users"))
                .foreign_key(&mut fk("passports", "organisation_id", "organisations"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("passports_organisation")
                .table("passports")
                .col("organisation_id")
                .col("review_date")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("passport_versions")
                .col(big_pk_auto("id"))
                .col(big_integer("passport_id"))
                .col(integer("version"))
                .col(text("content"))
                .col(date("review_date"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("passport_versions", "passport_id", "passports"))
                .foreign_key(&mut fk("passport_versions", "created_by", "users"))
                .index(Index::create().name("passport_versions_unique").col("passport_id").col("version").unique())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("passport_confirmations")
                .col(big_pk_auto("id"))
                .col(big_integer("passport_id"))
                .col(integer("version"))
                .col(string("side"))
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("confirmed_at"))
                .foreign_key(&mut fk("passport_confirmations", "passport_id", "passports"))
                .foreign_key(&mut fk("passport_confirmations", "user_id", "users"))
                .index(
                    Index::create()
                        .name("passport_confirmations_unique")
                        .col("passport_id")
                        .col("version")
                        .col("side")
                        .unique(),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("passport_access_log")
                .col(big_pk_auto("id"))
                .col(big_integer("passport_id"))
                .col(big_integer("reader_id"))
                .col(string("reader_side"))
                .col(string("action"))
                .col(string("channel"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("passport_access_log", "passport_id", "passports"))
                .foreign_key(&mut fk("passport_access_log", "reader_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("passport_access_log_passport")
                .table("passport_access_log")
                .col("passport_id")
                .col("created_at")
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("passport_handovers")
                .col(big_pk_auto("id"))
                .col(big_integer("passport_id"))
                .col(big_integer_null("from_manager_id"))
                .col(big_integer_null("to_manager_id"))
                .col(big_integer("by_id"))
                .col(string("reason"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("passport_handovers", "passport_id", "passports"))
                .foreign_key(&mut fk("passport_handovers", "from_manager_id", "users"))
                .foreign_key(&mut fk("passport_handovers", "to_manager_id", "users"))
                .foreign_key(&mut fk("passport_handovers", "by_id", "users"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("passport_transfer_codes")
                .col(big_pk_auto("id"))
                .col(big_integer("passport_id"))
                .col(string_uniq("code_hash"))
                .col(text("payload"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut fk("passport_transfer_codes", "passport_id", "passports"))
                .to_owned(),
        )
        .await?;

        // One row per passport and review date: whoever inserts it sends the reminder, once.
        m.create_table(
            Table::create()
                .table("passport_review_reminders")
                .col(big_pk_auto("id"))
                .col(big_integer("passport_id"))
                .col(date("review_date"))
                .col(timestamp_with_time_zone("sent_at"))
                .foreign_key(&mut fk("passport_review_reminders", "passport_id", "passports"))
                .index(
                    Index::create()
                        .name("passport_review_reminders_unique")
                        .col("passport_id")
                        .col("review_date")
                        .unique(),
                )
                .to_owned(),
        )
        .await?;

        // Anonymous: how many carers withdrew but agreed to stay counted. No person in it.
        m.create_table(
            Table::create()
                .table("carer_statistics")
                .col(big_pk_auto("id"))
                .col(big_integer_uniq("organisation_id"))
                .col(big_integer("former_carers"))
                .foreign_key(&mut fk("carer_statistics", "organisation_id", "organisations"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "carer_statistics",
            "passport_review_reminders",
            "passport_transfer_codes",
            "passport_handovers",
            "passport_access_log",
            "passport_confirmations",
            "passport_versions",
            "passports",
            "carer_consents",
            "reporting_lines",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
