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
        // Bumped with every change of an advisor's assignments, so instances may keep the
        // assignments in memory between changes.
        m.alter_table(
            Table::alter().table("users").add_column(big_integer("assignments_version").default(0)).to_owned(),
        )
        .await?;
        // Lookups by organisation or person that read every row before: measured at 10,000
        // organisations, the organisation's people (overview, item page, passports) took 6-9 ms
        // and its advisors 2 ms, growing with the number of organisations.
        for (name, table, cols) in [
            ("users_organisation", "users", &["organisation_id", "role"][..]),
            ("advisor_assignments_organisation", "advisor_assignments", &["organisation_id"][..]),
            ("invitation_assignments_organisation", "invitation_assignments", &["organisation_id"][..]),
            ("sessions_user", "sessions", &["user_id"][..]),
            ("api_tokens_user", "api_tokens", &["user_id"][..]),
            ("items_owner", "items", &["owner_id"][..]),
            ("attention_moments_organisation", "attention_moments", &["organisation_id"][..]),
            ("reporting_lines_organisation", "reporting_lines", &["organisation_id"][..]),
            ("carer_consents_organisation", "carer_consents", &["organisation_id"][..]),
            ("calendar_feeds_user", "calendar_feeds", &["user_id"][..]),
        ] {
            let mut index = Index::create().name(name).table(table).to_owned();
            for c in cols {
                index.col(*c);
            }
            m.create_index(index).await?;
        }
        // The portfolio and the operator list organisations by name.
        m.create_index(
            Index::create().name("organisations_name").table("organisations").col("name").col("id").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("users_organisation", "users"),
            ("advisor_assignments_organisation", "advisor_assignments"),
            ("invitation_assignments_organisation", "invitation_assignments"),
            ("sessions_user", "sessions"),
            ("api_tokens_user", "api_tokens"),
            ("items_owner", "items"),
            ("attention_moments_organisation", "attention_moments"),
            ("reporting_lines_organisation", "reporting_lines"),
            ("carer_consents_organisation", "carer_consents"),
            ("calendar_feeds_user", "calendar_feeds"),
        ] {
            m.drop_index(Index::drop().name(name).table(table).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("users").drop_column("assignments_version").to_owned()).await?;
        m.drop_index(Index::drop().name("organisations_name").table("organisations").to_owned()).await?;
        m.drop_table(Table::drop().table("organisation_figures").to_owned()).await?;
        m.drop_table(Table::drop().table("checklist_progress").to_owned()).await
    }
}
