//! Importing records from CSV and XLSX files: reading the file ([`source`]), mapping its
//! columns ([`mapping`]), reading cells ([`cells`]), planning each batch ([`plan`]) and running
//! it as a resumable job ([`job`], [`service`]).

pub mod cells;
pub mod job;
pub mod mapping;
pub mod plan;
pub mod resolve;
pub mod service;
pub mod source;
pub mod store;
pub mod upload;
pub mod warning;

pub use job::{Counts, ImportId, ImportJob, ImportSettings, JobStatus};
pub use service::Preview;
