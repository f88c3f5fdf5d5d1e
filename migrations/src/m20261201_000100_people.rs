//! People leaving for good: when a user's personal data was erased on request (GDPR art. 17),
//! and the organisations an invited advisor will look after once they accept, so the operator
//! can assign an advisor before they have an account.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("users").add_column(timestamp_with_time_zone_null("erased_at")).to_owned())
            .await?;
        m.create_table(
            Table::create()
                .table("invitation_assignments")
                .col(big_integer("invitation_id"))
                .col(big_integer("organisation_id"))
                .col(timestamp_with_time_zone("created_at"))
                .primary_key(Index::create().col("invitation_id").col("organisation_id"))
                .foreign_key(
                    ForeignKey::create()
                        .from("invitation_assignments", "invitation_id")
                        .to("one_time_tokens", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from("invitation_assignments", "organisation_id")
                        .to("organisations", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("invitation_assignments").to_owned()).await?;
        m.alter_table(Table::alter().table("users").drop_column("erased_at").to_owned()).await
    }
}
