//! Work beside the requests, on a durable queue kept in each workspace's database.
//!
//! A job is written in the same transaction as the write that asks for it (an import started,
//! a scan asked for), so a job is never lost nor run for a write that did not happen. Workers in
//! every server process claim due jobs with a lease and renew it while they work; a job whose
//! worker died is taken over once its lease has run out. A failed attempt is tried again after
//! a growing pause, up to the job's attempts, and then kept as failed with its error. Progress
//! (done of total, and the phase) is written with each renewal, so any process can show it.
//! Schedules put recurring jobs on the queue (the daily quality figures); a schedule fires
//! once per due time however many processes look at it.

mod cadence;
mod service;
pub mod store;
mod upkeep;
mod worker;

pub use cadence::Cadence;
pub use service::{CrmJobs, JobView};
pub use store::JobStore;
pub use upkeep::repair_bulk_loads;
pub use worker::{JobCtx, JobHandler, WorkerSettings, Workspaces, run_workers, wake};

use crate::ids::{JobId, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::Value as Json;

/// Attempts a job gets unless it says otherwise.
pub const DEFAULT_ATTEMPTS: u32 = 5;
/// The first pause after a failed attempt; each next one is twice as long.
const FIRST_RETRY_SECONDS: i64 = 10;
/// The longest pause between attempts.
const LONGEST_RETRY_SECONDS: i64 = 3600;

/// What a job does. Stored by name; a name this build does not know fails the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Nothing, or a wait (`{"wait_ms"}`): for measuring the queue itself and for tests.
    Noop,
    /// Run an import (payload `{"import": id}`).
    Import,
    /// Scan an object for duplicates as the user who asked (`{"object", "country"}`).
    DuplicateScan,
    /// Measure an object's data quality now and keep today's figures (`{"object"}`).
    QualityMeasure,
    /// Keep today's quality figures of people, companies and deals (the daily schedule).
    QualityDay,
    /// E-mail the reminders owed (overdue actions, the communication matrix), each once.
    Reminders,
    /// An export too large to build inside a request (`{"request", "format"}`), kept as a file
    /// for its starter to download.
    Export,
    /// Forget what is no longer needed: export files after a week, ended jobs after 90 days.
    Upkeep,
    /// Work out a mailing's recipients and send to them at its pace (`{"mailing": id}`).
    Mailing,
    /// Read bounce reports from the bounce mailbox (the schedule, when one is set up).
    Bounces,
    /// Keep this week's pipeline forecast per owner (the first run of a week keeps it).
    ForecastSnapshot,
    /// E-mail the saved reports owed to their subscribers, each run as its recipient.
    ReportMails,
    /// Count usage per user and day up to now (`{"from_scratch": bool}`).
    UsageMeasure,
    /// E-mail the weekly adoption digest to leads and key users (and nudges, when on).
    AdoptionDigest,
    /// Build the indexes kept reports want and drop those none wants any more.
    ReportIndexes,
    /// Warn before the support chain's agreed times run out and escalate on a breach, once.
    SupportBreaches,
    /// Thread the answers e-mailed to the support chain's notices into their questions (the
    /// schedule, when the server reads a support mailbox).
    SupportMailbox,
}

impl JobKind {
    pub const ALL: [JobKind; 17] = [
        JobKind::Noop,
        JobKind::Import,
        JobKind::DuplicateScan,
        JobKind::QualityMeasure,
        JobKind::QualityDay,
        JobKind::Reminders,
        JobKind::Export,
        JobKind::Upkeep,
        JobKind::Mailing,
        JobKind::Bounces,
        JobKind::ForecastSnapshot,
        JobKind::ReportMails,
        JobKind::UsageMeasure,
        JobKind::AdoptionDigest,
        JobKind::ReportIndexes,
        JobKind::SupportBreaches,
        JobKind::SupportMailbox,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Noop => "noop",
            JobKind::Import => "import",
            JobKind::DuplicateScan => "duplicate_scan",
            JobKind::QualityMeasure => "quality_measure",
            JobKind::QualityDay => "quality_day",
            JobKind::Reminders => "reminders",
            JobKind::Export => "export",
            JobKind::Upkeep => "upkeep",
            JobKind::Mailing => "mailing",
            JobKind::Bounces => "bounces",
            JobKind::ForecastSnapshot => "forecast_snapshot",
            JobKind::ReportMails => "report_mails",
            JobKind::UsageMeasure => "usage_measure",
            JobKind::AdoptionDigest => "adoption_digest",
            JobKind::ReportIndexes => "report_indexes",
            JobKind::SupportBreaches => "support_breaches",
            JobKind::SupportMailbox => "support_mailbox",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its time (`run_at`) and a worker.
    Queued,
    /// Held by a worker until its lease runs out.
    Running,
    Succeeded,
    /// Out of attempts, or failed in a way another attempt cannot mend; `error` says why.
    Failed,
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 5] = [
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn finished(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }
}

/// A job as kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: JobId,
    /// The kind's name as stored (see [`Job::kind`]).
    #[serde(rename = "kind")]
    pub kind_name: String,
    pub payload: Json,
    pub state: JobState,
    /// Attempts begun so far (a takeover after a lease ran out counts as one).
    pub attempts: u32,
    pub max_attempts: u32,
    /// Not before this time (a scheduled start, or the pause before another attempt).
    pub run_at: DateTime<Utc>,
    #[serde(skip)]
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub progress: Progress,
    /// What the job came to (its own shape per kind), once it succeeded.
    pub result: Option<Json>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub created_by: Option<UserId>,
    /// The schedule that put it on the queue.
    pub schedule: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl Job {
    pub fn kind(&self) -> Option<JobKind> {
        JobKind::parse(&self.kind_name)
    }
}

/// How far a running job has come: `done` of `total` (unknown until counted) in a phase,
/// named by a short code the UI translates (`reading`, `comparing`, `saving` …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: u64,
    pub total: Option<u64>,
    pub phase: Option<String>,
}

/// A job to put on the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: JobId,
    pub kind: JobKind,
    pub payload: Json,
    pub created_by: Option<UserId>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: u32,
    pub schedule: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl NewJob {
    /// A job to run as soon as a worker is free.
    pub fn now(kind: JobKind, payload: Json, created_by: Option<UserId>, now: DateTime<Utc>) -> Self {
        Self {
            id: JobId::new_at(now),
            kind,
            payload,
            created_by,
            run_at: now,
            max_attempts: DEFAULT_ATTEMPTS,
            schedule: None,
            created_at: now,
        }
    }
}

/// How an attempt ended, as the worker writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEnd {
    Succeeded(Option<Json>),
    /// Queued again for another attempt at `at`.
    Retry {
        at: DateTime<Utc>,
        error: String,
    },
    Failed(String),
    Cancelled,
}

/// What renewing a lease found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    Held,
    /// Held, and someone asked to cancel the job: the work should stop.
    CancelRequested,
    /// The lease is someone else's now (it ran out and another worker took the job over).
    Lost,
}

/// The queue at a glance, for metrics and the jobs page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub by_state: Vec<(JobState, u64)>,
    /// When the job that has waited longest for a worker became due.
    pub oldest_due: Option<DateTime<Utc>>,
}

impl JobCounts {
    /// How many jobs are in each state, every state named (zero when none).
    pub fn every_state(&self) -> Vec<(JobState, u64)> {
        JobState::ALL
            .into_iter()
            .map(|s| (s, self.by_state.iter().find(|(k, _)| *k == s).map_or(0, |(_, n)| *n)))
            .collect()
    }
}

/// A recurring job: a schedule puts a job of its kind on the queue at each due time.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub name: String,
    pub kind: JobKind,
    pub payload: Json,
    pub cadence: Cadence,
    pub next_run_at: DateTime<Utc>,
}

/// The pause before attempt `attempts + 1`, after `attempts` have failed: 10 s, 20 s, 40 s …
/// up to an hour.
pub fn retry_pause(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    Duration::seconds((FIRST_RETRY_SECONDS << doublings).min(LONGEST_RETRY_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_an_hour() {
        assert_eq!(retry_pause(1), Duration::seconds(10));
        assert_eq!(retry_pause(2), Duration::seconds(20));
        assert_eq!(retry_pause(3), Duration::seconds(40));
        assert_eq!(retry_pause(9), Duration::seconds(2560));
        assert_eq!(retry_pause(10), Duration::seconds(3600));
        assert_eq!(retry_pause(u32::MAX), Duration::seconds(3600));
    }

    #[test]
    fn kinds_and_states_read_back_what_they_write() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::parse(k.as_str()), Some(k));
        }
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
        assert_eq!(JobKind::parse("mail_merge"), None);
    }
}
