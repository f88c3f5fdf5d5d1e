//! Login attempts per account, shared by every instance: a brute-force guess counts wherever it
//! lands. Keyed by a hash of the typed address, so unknown addresses are throttled the same way
//! (the answer does not reveal whether an account exists). And each user's last login, for the
//! members list.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("login_throttles")
                .col(string("key").primary_key())
                .col(integer("attempts"))
                .col(timestamp_with_time_zone("window_start"))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table("users").add_column(timestamp_with_time_zone_null("last_login_at")).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table("users").drop_column("last_login_at").to_owned()).await?;
        m.drop_table(Table::drop().table("login_throttles").to_owned()).await
    }
}
