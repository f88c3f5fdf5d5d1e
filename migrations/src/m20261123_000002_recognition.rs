//! The recognition: applications, granted recognitions and every change of their standing.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("recognition_applications")
                .col(big_pk_auto("id"))
                .col(big_integer("organisation_id"))
                .col(big_integer("applicant_id"))
                .col(text("motivation"))
                .col(boolean("renewal"))
                .col(string("status"))
                .col(big_integer_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text_null("decision_reason"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(
                    ForeignKey::create().from("recognition_applications", "organisation_id").to("organisations", "id"),
                )
                .foreign_key(ForeignKey::create().from("recognition_applications", "applicant_id").to("users", "id"))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("recognition_applications_org")
                .table("recognition_applications")
                .col("organisation_id")
                .col("status")
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("recognitions")
                .col(big_pk_auto("id"))
                .col(big_integer("organisation_id"))
                .col(big_integer("application_id"))
                .col(string_uniq("number"))
                .col(string_uniq("verification_code"))
                .col(big_integer("granted_by"))
                .col(timestamp_with_time_zone("granted_at"))
                .col(date("valid_from"))
                .col(date("valid_until"))
                .col(text("checklist_versions"))
                .col(boolean("going_ahead_complete"))
                .col(string("standing"))
                .col(big_integer_null("renewed_by_id"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(big_integer_null("revoked_by"))
                .col(text_null("revoked_reason"))
                .foreign_key(ForeignKey::create().from("recognitions", "organisation_id").to("organisations", "id"))
                .foreign_key(
                    ForeignKey::create().from("recognitions", "application_id").to("recognition_applications", "id"),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("recognitions_org").table("recognitions").col("organisation_id").to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("recognition_events")
                .col(big_pk_auto("id"))
                .col(big_integer("recognition_id"))
                .col(string("event"))
                .col(text_null("reason"))
                .col(big_integer_null("actor_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(ForeignKey::create().from("recognition_events", "recognition_id").to("recognitions", "id"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["recognition_events", "recognitions", "recognition_applications"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
