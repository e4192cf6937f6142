//! Anchora's domain: metadata, records, filters, validation and permissions.
//! No HTTP, no SQL; the outside is reached through the traits [`Store`] and [`Clock`].

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod caller;
pub mod clock;
pub mod consent;
pub mod currency;
pub mod dedupe;
pub mod error;
pub mod export;
pub mod filter;
pub mod gdpr;
pub mod identity;
pub mod ids;
pub mod import;
pub mod jobs;
pub mod login;
pub mod mail;
pub mod mailings;
pub mod meta;
pub mod number;
pub mod password;
pub mod project;
pub mod quality;
pub mod query;
pub mod record;
pub mod relations;
pub mod reports;
pub mod secret;
pub mod selections;
pub mod service;
pub mod start;
pub mod store;
pub mod templates;
pub mod text;
pub mod value;
pub mod views;
pub mod workspace;
pub mod write;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, ErrorCode, FieldError, Result};
pub use ids::{JobId, ProjectId, RecordId, SelectionId, TeamId, TokenId, UserId, ViewId};
pub use store::Store;
