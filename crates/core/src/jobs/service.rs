//! The job queue as use cases: starting long work as a job, the jobs a caller may see, cancel,
//! and what each kind of job does when a worker runs it.

use super::worker::{JobCtx, JobHandler, wake};
use super::{Cadence, Job, JobKind, NewJob, Schedule};
use crate::auth::{Credential, Permission, Principal, Role};
use crate::dedupe::DEFAULT_COUNTRY;
use crate::error::{Error, ErrorCode, Result};
use crate::ids::JobId;
use crate::import::job::{ImportId, JobStatus};
use crate::service::Crm;
use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Value as Json, json};

/// The objects whose data quality is kept day by day.
const QUALITY_OBJECTS: [&str; 3] = ["person", "company", "deal"];
/// The schedule that keeps the daily quality figures.
pub const QUALITY_DAY_SCHEDULE: &str = "quality-day";
/// When it runs (UTC): at night, when few people work.
const QUALITY_DAY_CADENCE: &str = "daily 02:00";
/// The schedule that forgets old export files and ended jobs, and when.
const UPKEEP_SCHEDULE: &str = "upkeep";
const UPKEEP_CADENCE: &str = "daily 03:00";
/// Daily, though a snapshot is weekly: the first run of a week keeps it, so a server that was
/// down on Monday still keeps that week's.
pub const FORECAST_SCHEDULE: &str = "forecast-snapshot";
const FORECAST_CADENCE: &str = "daily 04:00";
/// Usage is counted hourly: today's figures stay fresh, a day ends counted.
pub const USAGE_SCHEDULE: &str = "usage";
const USAGE_CADENCE: &str = "20 * * * *";
pub const ADOPTION_DIGEST_SCHEDULE: &str = "adoption-digest";
/// Daily, though a digest is weekly (kept once per recipient and local week): the first run
/// of a week sends it, and one that failed for a recipient is tried again the next day.
const ADOPTION_DIGEST_CADENCE: &str = "daily 07:00";
pub const REPORT_INDEXES_SCHEDULE: &str = "report-indexes";
/// Once a day mends what else moved the indexes' ground (a field dropped takes its indexes).
const REPORT_INDEXES_CADENCE: &str = "daily 03:30";
pub const REPORT_MAILS_SCHEDULE: &str = "report-mails";
const REPORT_MAILS_CADENCE: &str = "every 15 minutes";
const BOUNCES_SCHEDULE: &str = "bounces";
/// Bounce reports are read from the bounce mailbox (when the server has one) this often.
const BOUNCES_CADENCE: &str = "every 5 minutes";
pub const SUPPORT_BREACHES_SCHEDULE: &str = "support-breaches";
/// Warnings and escalations come within five minutes of their moment.
const SUPPORT_BREACHES_CADENCE: &str = "every 5 minutes";
pub const SUPPORT_MAILBOX_SCHEDULE: &str = "support-mailbox";
/// Answers e-mailed to the support chain appear in their question within two minutes.
const SUPPORT_MAILBOX_CADENCE: &str = "every 2 minutes";
/// Ended jobs are forgotten after this many days.
const JOBS_KEPT_DAYS: i64 = 90;
/// The schedule that e-mails reminders, and how often.
pub const REMINDERS_SCHEDULE: &str = "reminders";
const REMINDERS_CADENCE: &str = "every 15 minutes";
/// Jobs a list shows at most.
pub const MAX_JOBS_LISTED: u32 = 200;

/// A job as its reader sees it: with whether they may cancel it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobView {
    #[serde(flatten)]
    pub job: Job,
    pub may_cancel: bool,
}

/// The server's job handler: each kind of job is a use case of the workspace's CRM.
pub struct CrmJobs;

#[async_trait]
impl JobHandler for CrmJobs {
    async fn run(&self, crm: &Crm, job: &Job, ctx: &JobCtx) -> Result<Option<Json>> {
        crm.run_job(job, ctx).await
    }
}

fn sees_all_jobs(who: &Principal) -> bool {
    who.role == Role::Admin
}

impl Crm {
    /// Put a job on the queue now and wake this process's workers.
    pub(crate) async fn enqueue(&self, job: NewJob) -> Result<Job> {
        self.store.enqueue_job(&job).await?;
        wake();
        self.store
            .job(job.id)
            .await?
            .ok_or_else(|| Error::internal("a queued job could not be read back"))
    }

    /// The caller's job of this kind on this object that has not ended, if any: asking again
    /// while one waits or runs gives that one instead of a second.
    async fn unfinished(&self, who: &Principal, kind: JobKind, object: &str) -> Result<Option<Job>> {
        Ok(self.store.jobs(Some(who.user_id), 50).await?.into_iter().find(|j| {
            j.kind() == Some(kind)
                && !j.state.finished()
                && !j.cancel_requested
                && j.payload.get("object").and_then(Json::as_str) == Some(object)
        }))
    }

    /// Scan an object for duplicates as a job, as the caller (their visibility): the review
    /// queue is replaced when it is done.
    pub async fn start_duplicate_scan(&self, who: &Principal, object: &str, country: Option<&str>) -> Result<JobView> {
        let schema = self.authorize(who, Permission::Import).await?;
        let object = schema.object(object)?;
        if let Some(job) = self.unfinished(who, JobKind::DuplicateScan, &object.name).await? {
            return Ok(self.view_of(who, job));
        }
        let payload = json!({"object": object.name, "country": country.unwrap_or(DEFAULT_COUNTRY)});
        let job = NewJob::now(JobKind::DuplicateScan, payload, Some(who.user_id), self.clock.now());
        Ok(self.view_of(who, self.enqueue(job).await?))
    }

    /// "Measure now": today's quality figures of an object kept at once, as a job, by someone
    /// who may import.
    pub async fn start_quality_measure(&self, who: &Principal, object: &str) -> Result<JobView> {
        let schema = self.authorize(who, Permission::Import).await?;
        let object = schema.object(object)?;
        if let Some(job) = self.unfinished(who, JobKind::QualityMeasure, &object.name).await? {
            return Ok(self.view_of(who, job));
        }
        let payload = json!({"object": object.name});
        let job = NewJob::now(JobKind::QualityMeasure, payload, Some(who.user_id), self.clock.now());
        Ok(self.view_of(who, self.enqueue(job).await?))
    }

    /// A job the caller may see: their own, or any for an administrator.
    pub async fn job(&self, who: &Principal, id: &str) -> Result<JobView> {
        self.authorize(who, Permission::ReadRecords).await?;
        let job = match JobId::parse(id) {
            Some(id) => self.store.job(id).await?,
            None => None,
        };
        job.filter(|j| sees_all_jobs(who) || j.created_by == Some(who.user_id))
            .map(|j| self.view_of(who, j))
            .ok_or_else(|| Error::not_found(format!("job {id}")))
    }

    /// The newest jobs the caller may see.
    pub async fn jobs(&self, who: &Principal, limit: Option<u32>) -> Result<Vec<JobView>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let mine = (!sees_all_jobs(who)).then_some(who.user_id);
        let limit = limit.unwrap_or(50).clamp(1, MAX_JOBS_LISTED);
        Ok(self
            .store
            .jobs(mine, limit)
            .await?
            .into_iter()
            .map(|j| self.view_of(who, j))
            .collect())
    }

    /// A job that ended without doing its work (cancelled, failed, given up) leaves nothing
    /// waiting on it: an import it was to run is marked failed with why, so it can be started
    /// again.
    pub(crate) async fn job_abandoned(&self, job: &Job, why: &str) -> Result<()> {
        if job.kind() != Some(JobKind::Import) {
            return Ok(());
        }
        let Some(id) = job
            .payload
            .get("import")
            .and_then(Json::as_str)
            .and_then(ImportId::parse)
        else {
            return Ok(());
        };
        if let Some(import) = self.store.import_job(id).await?
            && !import.status.finished()
        {
            self.store
                .finish_import(id, JobStatus::Failed, Some(why), self.clock.now())
                .await?;
        }
        Ok(())
    }

    /// Write the file a job the caller may see made (an export) into `to`; the name it is
    /// downloaded as.
    pub async fn job_file(&self, who: &Principal, id: &str, to: &std::path::Path) -> Result<String> {
        self.authorize(who, Permission::Export).await?;
        let seen = self.job(who, id).await?;
        if seen.job.state != super::JobState::Succeeded {
            return Err(Error::not_found(format!(
                "job {id} has made no file (it is {})",
                seen.job.state.as_str()
            )));
        }
        let gone = || Error::not_found(format!("the file of job {id} is no longer kept"));
        let name = self.store.job_file(seen.job.id, to).await?.ok_or_else(gone)?;
        // Forgotten while it was read: not the file the job made.
        let kept = seen
            .job
            .result
            .as_ref()
            .and_then(|r| r.get("bytes"))
            .and_then(Json::as_u64);
        let read = std::fs::metadata(to).map(|m| m.len()).ok();
        if kept.is_some() && kept != read {
            return Err(gone());
        }
        Ok(name)
    }

    /// Cancel a job the caller started (an administrator: any job). A queued job ends at once;
    /// a running one stops at its next step. A job already ended is refused (409).
    pub async fn cancel_job(&self, who: &Principal, id: &str) -> Result<JobView> {
        let seen = self.job(who, id).await?;
        if seen.job.state.finished() {
            return Err(Error::new(
                ErrorCode::Conflict,
                format!("this job has ended already ({})", seen.job.state.as_str()),
            ));
        }
        if !seen.may_cancel {
            return Err(Error::new(ErrorCode::Forbidden, "you may not cancel this job"));
        }
        let job = self
            .store
            .cancel_job(seen.job.id, self.clock.now())
            .await?
            .ok_or_else(|| Error::not_found(format!("job {id}")))?;
        if job.state == super::JobState::Cancelled
            && let Err(e) = self.job_abandoned(&job, "cancelled").await
        {
            tracing::warn!(job = %job.id, error = %e.detail, "a cancelled job's import could not be marked failed");
        }
        Ok(self.view_of(who, job))
    }

    pub(crate) fn view_of(&self, who: &Principal, job: Job) -> JobView {
        let may_cancel = !job.state.finished()
            && who.scope != crate::auth::Scope::Read
            && (sees_all_jobs(who) || job.created_by == Some(who.user_id));
        JobView { job, may_cancel }
    }

    /// The schedules every workspace has (the daily quality figures, the reminders); a new
    /// one is due at once.
    pub async fn keep_standard_schedules(&self) -> Result<()> {
        for (name, kind, cadence) in [
            (QUALITY_DAY_SCHEDULE, JobKind::QualityDay, QUALITY_DAY_CADENCE),
            (REMINDERS_SCHEDULE, JobKind::Reminders, REMINDERS_CADENCE),
            (UPKEEP_SCHEDULE, JobKind::Upkeep, UPKEEP_CADENCE),
            (BOUNCES_SCHEDULE, JobKind::Bounces, BOUNCES_CADENCE),
            (FORECAST_SCHEDULE, JobKind::ForecastSnapshot, FORECAST_CADENCE),
            (REPORT_MAILS_SCHEDULE, JobKind::ReportMails, REPORT_MAILS_CADENCE),
            (USAGE_SCHEDULE, JobKind::UsageMeasure, USAGE_CADENCE),
            (REPORT_INDEXES_SCHEDULE, JobKind::ReportIndexes, REPORT_INDEXES_CADENCE),
            (
                SUPPORT_BREACHES_SCHEDULE,
                JobKind::SupportBreaches,
                SUPPORT_BREACHES_CADENCE,
            ),
            (
                SUPPORT_MAILBOX_SCHEDULE,
                JobKind::SupportMailbox,
                SUPPORT_MAILBOX_CADENCE,
            ),
            (
                ADOPTION_DIGEST_SCHEDULE,
                JobKind::AdoptionDigest,
                ADOPTION_DIGEST_CADENCE,
            ),
        ] {
            let schedule = Schedule {
                name: name.into(),
                kind,
                payload: json!({}),
                cadence: Cadence::parse(cadence)?,
                next_run_at: self.clock.now(),
            };
            self.store.save_schedule(&schedule).await?;
        }
        Ok(())
    }

    /// Do a job a worker claimed.
    pub async fn run_job(&self, job: &Job, ctx: &JobCtx) -> Result<Option<Json>> {
        let kind = job.kind().ok_or_else(|| {
            Error::new(
                ErrorCode::ValidationFailed,
                format!("this server does not know jobs of kind {}", job.kind_name),
            )
        })?;
        match kind {
            JobKind::Noop => idle(job, ctx).await,
            JobKind::Import => self.import_as_job(job, ctx).await,
            JobKind::DuplicateScan => {
                let who = self.starter(job).await?;
                let object = text(&job.payload, "object")?;
                let country = job
                    .payload
                    .get("country")
                    .and_then(Json::as_str)
                    .unwrap_or(DEFAULT_COUNTRY);
                let open = self.scan_duplicates(&who, object, country, ctx).await?;
                Ok(Some(json!({"object": object, "open_pairs": open})))
            }
            JobKind::QualityMeasure => {
                let who = self.starter(job).await?;
                self.authorize(&who, Permission::Import).await?;
                let object = text(&job.payload, "object")?;
                let rows = self.record_quality_day(object, ctx).await?;
                Ok(Some(json!({"object": object, "figures": rows})))
            }
            JobKind::QualityDay => {
                let mut kept = serde_json::Map::new();
                for object in QUALITY_OBJECTS {
                    ctx.go_on()?;
                    kept.insert(object.into(), json!(self.record_quality_day(object, ctx).await?));
                }
                Ok(Some(Json::Object(kept)))
            }
            JobKind::Export => {
                let who = self.starter(job).await?;
                self.export_as_job(&who, job, ctx).await
            }
            JobKind::Upkeep => {
                let now = self.clock.now();
                let files_before = now - chrono::Duration::days(crate::export::EXPORT_KEPT_DAYS);
                let jobs_before = now - chrono::Duration::days(JOBS_KEPT_DAYS);
                let (files, jobs) = self.store.forget_jobs(files_before, jobs_before).await?;
                Ok(Some(json!({"files_forgotten": files, "jobs_forgotten": jobs})))
            }
            JobKind::ForecastSnapshot => Ok(Some(json!({"rows_kept": self.snapshot_forecast().await?}))),
            JobKind::ReportIndexes => Ok(Some(self.keep_report_indexes(ctx).await?)),
            JobKind::SupportBreaches => {
                let run = self.check_support_breaches().await?;
                Ok(Some(
                    json!({"checked": run.checked, "warned": run.warned.len(), "escalated": run.escalated.len()}),
                ))
            }
            JobKind::UsageMeasure => {
                let from_scratch = job.payload.get("from_scratch").and_then(Json::as_bool) == Some(true);
                Ok(Some(self.measure_usage(from_scratch, ctx).await?))
            }
            // Reminders are worded in each reader's language, which the web crate's handler
            // knows; a process without it leaves them to the next attempt.
            JobKind::Reminders
            | JobKind::Mailing
            | JobKind::Bounces
            | JobKind::ReportMails
            | JobKind::SupportMailbox
            | JobKind::AdoptionDigest => Err(Error::new(
                ErrorCode::Unavailable,
                "this worker cannot send e-mail; another attempt will",
            )),
        }
    }

    /// The user who started a job, as they are now: a job runs with their rights and sight, and
    /// fails when they can no longer sign in.
    pub(crate) async fn starter(&self, job: &Job) -> Result<Principal> {
        let id = job
            .created_by
            .ok_or_else(|| Error::new(ErrorCode::ValidationFailed, "this job names no user to run as"))?;
        let user = self.store.user(id).await?.filter(|u| u.active).ok_or_else(|| {
            Error::new(
                ErrorCode::Forbidden,
                "the user who started this job is no longer active",
            )
        })?;
        Ok(Principal::new(user.id, user.role, user.team, Credential::Local))
    }

    async fn import_as_job(&self, job: &Job, ctx: &JobCtx) -> Result<Option<Json>> {
        let id = text(&job.payload, "import")?;
        let id =
            ImportId::parse(id).ok_or_else(|| Error::new(ErrorCode::ValidationFailed, "the job names no import"))?;
        ctx.phase("importing", None);
        let ran = self
            .run_import(id, &mut |import| {
                ctx.done(import.counts.last_row);
                !ctx.stopped()
            })
            .await?;
        let ran = match ran {
            Some(import) => Some(import),
            // Not claimed: ended already (an earlier attempt finished it but could not say so),
            // or held by a process that wrote to it lately (try later).
            None => self.store.import_job(id).await?.filter(|i| i.status.finished()),
        };
        match ran {
            None => Err(Error::new(
                ErrorCode::Unavailable,
                "the import is running in another process",
            )),
            Some(import) if import.status == JobStatus::Failed => Err(Error::new(
                ErrorCode::ValidationFailed,
                import.error.unwrap_or_else(|| "the import failed".into()),
            )),
            Some(import) => Ok(Some(json!({
                "import": import.id,
                "status": import.status.as_str(),
                "summary": import.counts.summary(),
            }))),
        }
    }
}

/// An empty job: nothing, or waiting `wait_ms` in small steps (for measuring the queue and
/// for watching a job be taken over when the process running it dies).
async fn idle(job: &Job, ctx: &JobCtx) -> Result<Option<Json>> {
    const STEP_MS: u64 = 50;
    let wait = job
        .payload
        .get("wait_ms")
        .and_then(Json::as_u64)
        .unwrap_or(0)
        .min(3_600_000);
    ctx.phase("waiting", Some(wait.div_ceil(STEP_MS)));
    for _ in 0..wait.div_ceil(STEP_MS) {
        ctx.go_on()?;
        tokio::time::sleep(std::time::Duration::from_millis(STEP_MS)).await;
        ctx.advance(1);
    }
    Ok(None)
}

fn text<'a>(payload: &'a Json, key: &str) -> Result<&'a str> {
    payload.get(key).and_then(Json::as_str).ok_or_else(|| {
        Error::new(
            ErrorCode::ValidationFailed,
            format!("the job's payload lacks \"{key}\""),
        )
    })
}
