//! Exported passport files import once: the id of every imported file is kept (hashed), with a
//! unique key, so a second import of the same file is refused on any instance. The row says
//! nothing about the carer or the passport, so it can stay when a carer withdraws consent.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("passport_file_imports")
                .col(big_pk_auto("id"))
                .col(string_uniq("file_hash"))
                .col(timestamp_with_time_zone("imported_at"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table("passport_file_imports").to_owned()).await
    }
}
