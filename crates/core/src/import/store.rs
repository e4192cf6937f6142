//! Where imports are kept: the jobs with their kept files, each batch written with the job's
//! progress and rejected rows, and what a job found (likely duplicates, warnings, owners).

use super::job::{ImportId, ImportJob, ImportSettings, ImportWrite, ImportWriteOutcome, JobStatus};
use super::job::{LikelyDuplicate, UnknownOwner, Warning};
use super::plan::Rejected;
use crate::error::Result;
use crate::jobs::NewJob;
use crate::meta::ObjectDef;
use crate::write::WriteCtx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::path::Path;

#[async_trait]
pub trait ImportStore: Send + Sync {
    /// A new import job, with the uploaded file (read from `source`, kept in chunks) when the
    /// server is to read it later, and the queued job that runs it (`run`), in one transaction.
    async fn create_import_job(&self, job: &ImportJob, source: Option<&Path>, run: Option<&NewJob>) -> Result<()>;
    async fn import_job(&self, id: ImportId) -> Result<Option<ImportJob>>;
    /// Import jobs, newest first.
    async fn import_jobs(&self, limit: u32) -> Result<Vec<ImportJob>>;
    /// Write the kept file of a job into `to`, chunk by chunk; whether one is kept.
    async fn import_source(&self, id: ImportId, to: &Path) -> Result<bool>;
    /// Give a draft job its settings and queue `run`, the job that runs it, in one
    /// transaction; whether it was still a draft (nothing queued when not).
    async fn start_import(
        &self,
        id: ImportId,
        settings: &ImportSettings,
        at: DateTime<Utc>,
        run: &NewJob,
    ) -> Result<bool>;
    /// Take a job to run: a queued or failed one, or a running one nobody has written since
    /// `stale_before` (its process stopped). Whether this caller got it.
    async fn claim_import(&self, id: ImportId, now: DateTime<Utc>, stale_before: DateTime<Utc>) -> Result<bool>;
    /// End a job as done or failed.
    async fn finish_import(
        &self,
        id: ImportId,
        status: JobStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// One batch of an import, with the job's progress and rejected rows, in one transaction.
    async fn write_import(&self, object: &ObjectDef, write: &ImportWrite, ctx: WriteCtx) -> Result<ImportWriteOutcome>;
    /// Which of these match keys (as [`super::plan::match_key`] writes them) a live record of
    /// the object holds in `field`.
    async fn held_keys(&self, object: &ObjectDef, field: &str, keys: &[String]) -> Result<HashSet<String>>;
    /// Loading many rows into a table that holds few: drop its secondary indexes so rows go in
    /// without index maintenance, noting the job that loads it (`Some`), or build them again
    /// from the loaded rows (`None`). A load whose job stops is found by
    /// [`ImportStore::repair_bulk_loads`].
    async fn set_bulk_load(&self, object: &ObjectDef, job: Option<ImportId>) -> Result<()>;
    /// Build the indexes of tables whose bulk load has died: its job ended, or has not written
    /// since `stale_before`. The objects repaired.
    async fn repair_bulk_loads(&self, stale_before: DateTime<Utc>) -> Result<Vec<String>>;
    /// How many rows of a job look like records already there, and the first `limit`.
    async fn import_matches(&self, id: ImportId, limit: u32) -> Result<(u64, Vec<LikelyDuplicate>)>;
    /// Rejected rows of a job after a row number, in row order.
    async fn import_rejects(&self, id: ImportId, after_row: u64, limit: u32) -> Result<Vec<Rejected>>;
    /// Warnings of a job after a row number, in row order.
    async fn import_warnings(&self, id: ImportId, after_row: u64, limit: u32) -> Result<Vec<Warning>>;
    /// The owner names of a job that matched no user, each once with its rows, most rows first.
    async fn import_unknown_owners(&self, id: ImportId, limit: u32) -> Result<Vec<UnknownOwner>>;
}
