//! Schema migrations (sea-orm-migration), run at server start. Each runs on
//! PostgreSQL and SQLite: portable column types only, JSON kept in TEXT.

use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_hardening;
mod m0003_consumers;
mod m0004_issue_hits;
mod m0005_revalidation;
mod m0006_expiry;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_hardening::Migration),
            Box::new(m0003_consumers::Migration),
            Box::new(m0004_issue_hits::Migration),
            Box::new(m0005_revalidation::Migration),
            Box::new(m0006_expiry::Migration),
        ]
    }
}
