//! Where the job queue is kept. Claims, renewals and ends name the lease they hold, so a
//! worker whose lease ran out (and whose job another worker took over) can change nothing.

use super::{Job, JobCounts, JobEnd, NewJob, Progress, Renewal, Schedule};
use crate::error::Result;
use crate::ids::{JobId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait JobStore: Send + Sync {
    /// Put a job on the queue (a write that asks for a job passes it to its own port method
    /// instead, so both are one transaction).
    async fn enqueue_job(&self, job: &NewJob) -> Result<()>;
    /// Whether any job is due at `now` (queued and its time has come, or running with a lease
    /// that ran out): a read, so idle workers do not take the write lock to find nothing.
    async fn job_due(&self, now: DateTime<Utc>) -> Result<bool>;
    /// Take the due job that has waited longest, under the lease `lease` until `lease_until`,
    /// counting an attempt. PostgreSQL skips jobs other workers are claiming (`FOR UPDATE SKIP
    /// LOCKED`); SQLite has one writer at a time.
    async fn claim_job(&self, lease: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> Result<Option<Job>>;
    /// Keep the lease until `lease_until` and write the progress, if the lease is still ours.
    async fn renew_job(
        &self,
        id: JobId,
        lease: &str,
        lease_until: DateTime<Utc>,
        progress: &Progress,
    ) -> Result<Renewal>;
    /// End an attempt; false when the lease was no longer ours (nothing written).
    async fn end_job(&self, id: JobId, lease: &str, end: &JobEnd, at: DateTime<Utc>) -> Result<bool>;
    /// Cancel a job: a queued one (or one whose worker died) at once, a running one by asking
    /// its worker to stop. `None` when there is no such job; otherwise the job after.
    async fn cancel_job(&self, id: JobId, at: DateTime<Utc>) -> Result<Option<Job>>;
    async fn job(&self, id: JobId) -> Result<Option<Job>>;
    /// Jobs newest first, all or those one user started.
    async fn jobs(&self, created_by: Option<UserId>, limit: u32) -> Result<Vec<Job>>;
    async fn job_counts(&self, now: DateTime<Utc>) -> Result<JobCounts>;
    /// Keep a schedule: a new one as given; a known one keeps its next time unless its
    /// cadence changed.
    async fn save_schedule(&self, schedule: &Schedule) -> Result<()>;
    async fn schedules(&self) -> Result<Vec<Schedule>>;
    /// If the schedule `name` is still due at `was` (no other process fired it), move it on to
    /// `next` and queue `job`, in one transaction. Whether this caller fired it.
    async fn fire_schedule(&self, name: &str, was: DateTime<Utc>, next: DateTime<Utc>, job: &NewJob) -> Result<bool>;
    /// Keep the file a job made (read from `from`, kept in chunks), under the name it is
    /// downloaded as.
    async fn keep_job_file(&self, id: JobId, name: &str, from: &std::path::Path) -> Result<()>;
    /// Write a job's kept file into `to`; its name, or `None` when none is kept.
    async fn job_file(&self, id: JobId, to: &std::path::Path) -> Result<Option<String>>;
    /// Forget the files of jobs created before `files_before`, and the jobs that ended before
    /// `jobs_before`; how many of each.
    async fn forget_jobs(&self, files_before: DateTime<Utc>, jobs_before: DateTime<Utc>) -> Result<(u64, u64)>;
}
