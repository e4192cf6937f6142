//! Anchora's Store on sqlx + sea-query, for SQLite and PostgreSQL from one SQL source.
//! Backend differences live in `ddl`, `search` and the value codecs; everything else is built
//! once with sea-query and bound, never spliced.

mod adoption;
mod audit;
pub mod backup;
mod codec;
mod consent;
mod dashboards;
pub mod db;
mod ddl;
mod duplicates;
mod erase;
mod forecast;
mod identity;
mod imports;
mod instance;
mod jobs;
mod mailings;
mod metadata;
mod onboarding;
mod physical;
mod projects;
mod quality;
mod records;
mod reminders;
mod report_indexes;
mod reports;
mod schema;
mod search;
mod selections;
mod settings;
mod sql_store;
mod stewardship;
mod support;
mod templates;
pub mod testing;
mod training;
mod views;
mod visits;
mod workspaces;

pub use db::Backend;
pub use instance::{DatabaseUrl, Instance, NotReady, postgres_schema};
pub use sql_store::{PoolStats, SqlStore};
pub use workspaces::InstanceWorkspaces;
