//! Per advisor what their review queue and portfolio count, kept instead of summed over every
//! organisation they look after on each page (1-2 ms at 10,000 organisations, the largest part of
//! the review queue's time); per organisation the number of advisors (the operator's unassigned
//! list is an index range) and whether an application waits (the portfolio's "waiting" filter is
//! a condition on the figures, not a sub-query). `advisor_figures` is filled at start
//! (`services::progress::recount_advisors`); the two new columns are filled here. And the
//! advisors by name, which the operator's page listed and counted by reading every user (30,000
//! at 10,000 organisations: 1.7 ms each).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("advisor_figures")
                .col(big_integer("advisor_id").primary_key())
                .col(integer("organisations"))
                .col(integer("waiting"))
                .col(integer("organisations_waiting"))
                .foreign_key(
                    ForeignKey::create()
                        .from("advisor_figures", "advisor_id")
                        .to("users", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table("organisation_figures").add_column(integer("advisors").default(0)).to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table("organisation_figures")
                .add_column(boolean("application_pending").default(false))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(
            "UPDATE organisation_figures SET advisors = (SELECT COUNT(*) FROM advisor_assignments \
             WHERE advisor_assignments.organisation_id = organisation_figures.organisation_id)",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE organisation_figures SET application_pending = TRUE WHERE organisation_id IN \
             (SELECT organisation_id FROM recognition_applications WHERE status = 'pending')",
        )
        .await?;
        m.create_index(
            Index::create()
                .name("organisation_figures_advisors")
                .table("organisation_figures")
                .col("advisors")
                .col("name")
                .col("organisation_id")
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("users_role_name").table("users").col("role").col("name").col("id").to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("users_role_name").table("users").to_owned()).await?;
        m.drop_index(Index::drop().name("organisation_figures_advisors").table("organisation_figures").to_owned())
            .await?;
        for c in ["application_pending", "advisors"] {
            m.alter_table(Table::alter().table("organisation_figures").drop_column(c).to_owned()).await?;
        }
        m.drop_table(Table::drop().table("advisor_figures").to_owned()).await
    }
}
