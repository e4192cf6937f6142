//! The workers every server process runs: each claims a due job of any workspace, renews its
//! lease while the job works, and writes how the attempt ended; a scheduler beside them puts
//! recurring jobs on the queue when they are due.

use super::{Job, JobCounts, JobEnd, NewJob, Progress, Renewal, retry_pause};
use crate::error::{Error, ErrorCode, Result};
use crate::service::Crm;
use async_trait::async_trait;
use serde_json::Value as Json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Every workspace's CRM, opened for work in the background (the binary knows the databases).
#[async_trait]
pub trait Workspaces: Send + Sync {
    /// Each workspace's name and CRM; a workspace that cannot be opened is left out (and logged).
    async fn all(&self) -> Vec<(String, Crm)>;
}

/// What runs a claimed job ([`super::CrmJobs`] in the server; tests bring their own).
#[async_trait]
pub trait JobHandler: Send + Sync {
    /// Do the job; its result is kept with it. An error the next attempt may not meet
    /// (`internal`, `unavailable`) is tried again; any other fails the job at once.
    async fn run(&self, crm: &Crm, job: &Job, ctx: &JobCtx) -> Result<Option<Json>>;
}

/// Called with each workspace's queue at a glance, now and then (metrics).
pub type CountsObserver = Arc<dyn Fn(&str, &JobCounts) + Send + Sync>;

#[derive(Clone)]
pub struct WorkerSettings {
    /// Jobs this process runs at once.
    pub workers: usize,
    /// How long a claim holds without renewal; renewed every quarter of it.
    pub lease: Duration,
    /// How often an idle worker looks for jobs other processes queued.
    pub idle_poll: Duration,
    /// How often schedules are looked at (and the queue counted for `observe`).
    pub schedule_every: Duration,
    /// Names this process in leases (its process id by default).
    pub process: String,
    /// Keep the standard schedules and fire due ones (off only in tests that run jobs by hand).
    pub schedules: bool,
    pub observe: Option<CountsObserver>,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            workers: 2,
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_secs(1),
            schedule_every: Duration::from_secs(15),
            process: process_name(),
            schedules: true,
            observe: None,
        }
    }
}

/// This process in a lease: its host, process id and a random part, so that processes in
/// containers (all `pid 1`) or on hosts with the same name never share a lease.
fn process_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .take(40)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}-pid{}-{:08x}", std::process::id(), rand::random::<u32>())
}

/// What a running job sees of its worker: where to write progress, and whether to stop.
#[derive(Debug, Default)]
pub struct JobCtx {
    progress: Mutex<Progress>,
    cancel: AtomicBool,
    lost: AtomicBool,
}

impl JobCtx {
    /// For work run outside the queue (a command, a test): progress goes nowhere.
    pub fn detached() -> Self {
        Self::default()
    }

    /// Start a phase with `total` steps (when known).
    pub fn phase(&self, phase: &str, total: Option<u64>) {
        if let Ok(mut p) = self.progress.lock() {
            *p = Progress {
                done: 0,
                total,
                phase: Some(phase.to_string()),
            };
        }
    }

    /// `n` more steps of the phase done.
    pub fn advance(&self, n: u64) {
        if let Ok(mut p) = self.progress.lock() {
            p.done = p.done.saturating_add(n);
        }
    }

    /// Set how many steps of the phase are done.
    pub fn done(&self, done: u64) {
        if let Ok(mut p) = self.progress.lock() {
            p.done = done;
        }
    }

    pub fn progress(&self) -> Progress {
        self.progress.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Whether the job should stop: it was cancelled, or its lease is someone else's.
    pub fn stopped(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || self.lost.load(Ordering::Relaxed)
    }

    /// `Err` once the job should stop, for `?` between steps.
    pub fn go_on(&self) -> Result<()> {
        if self.stopped() {
            return Err(Error::new(ErrorCode::Unavailable, "the job was cancelled"));
        }
        Ok(())
    }
}

fn wake_signal() -> &'static tokio::sync::Notify {
    static WAKE: OnceLock<tokio::sync::Notify> = OnceLock::new();
    WAKE.get_or_init(tokio::sync::Notify::new)
}

/// Tell this process's idle workers that a job was queued (other processes find it on their
/// next look).
pub fn wake() {
    wake_signal().notify_one();
}

/// Run the workers and the scheduler until the process ends.
pub async fn run_workers(workspaces: Arc<dyn Workspaces>, handler: Arc<dyn JobHandler>, settings: WorkerSettings) {
    let mut tasks = tokio::task::JoinSet::new();
    let leases = Arc::new(AtomicU64::new(0));
    for n in 0..settings.workers.max(1) {
        let (workspaces, handler, settings, leases) =
            (workspaces.clone(), handler.clone(), settings.clone(), leases.clone());
        tasks.spawn(async move { work(n, workspaces, handler, settings, leases).await });
    }
    if settings.schedules || settings.observe.is_some() {
        tasks.spawn(schedule(workspaces, settings));
    }
    while tasks.join_next().await.is_some() {}
}

async fn work(
    n: usize,
    workspaces: Arc<dyn Workspaces>,
    handler: Arc<dyn JobHandler>,
    settings: WorkerSettings,
    leases: Arc<AtomicU64>,
) {
    loop {
        let mut worked = false;
        for (name, crm) in workspaces.all().await {
            let lease = format!("{}/{n}/{}", settings.process, leases.fetch_add(1, Ordering::Relaxed));
            match run_one(&crm, &handler, &settings, &lease).await {
                Ok(ran) => worked |= ran,
                Err(e) => tracing::warn!(workspace = %name, error = %e.detail, "the job queue could not be read"),
            }
        }
        if !worked {
            tokio::select! {
                () = wake_signal().notified() => {}
                () = tokio::time::sleep(settings.idle_poll) => {}
            }
        }
    }
}

/// Claim one due job and run it; whether there was one.
pub(crate) async fn run_one(
    crm: &Crm,
    handler: &Arc<dyn JobHandler>,
    settings: &WorkerSettings,
    lease: &str,
) -> Result<bool> {
    let now = crm.clock.now();
    if !crm.store.job_due(now).await? {
        return Ok(false);
    }
    let lease_for = chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::seconds(60));
    let Some(job) = crm.store.claim_job(lease, now, now + lease_for).await? else {
        return Ok(false);
    };
    let end = if job.cancel_requested {
        JobEnd::Cancelled
    } else if job.attempts > job.max_attempts {
        JobEnd::Failed(format!(
            "given up after {} attempts: the worker running it stopped each time",
            job.max_attempts
        ))
    } else {
        match attempt(crm, handler, &job, lease, settings.lease).await {
            Some(end) => end,
            None => return Ok(true),
        }
    };
    if !crm.store.end_job(job.id, lease, &end, crm.clock.now()).await? {
        tracing::warn!(job = %job.id, "a job's lease ran out before it ended; another worker has it");
        return Ok(true);
    }
    let why = match &end {
        JobEnd::Failed(error) => Some(error.as_str()),
        JobEnd::Cancelled => Some("cancelled"),
        _ => None,
    };
    // The job has ended either way; what waited on it is put right now or by hand.
    if let Some(why) = why
        && let Err(e) = crm.job_abandoned(&job, why).await
    {
        tracing::warn!(job = %job.id, error = %e.detail, "what an ended job left waiting could not be put right");
    }
    Ok(true)
}

/// Run the job under its lease; how the attempt ended, or `None` when the lease was lost.
async fn attempt(
    crm: &Crm,
    handler: &Arc<dyn JobHandler>,
    job: &Job,
    lease: &str,
    lease_for: Duration,
) -> Option<JobEnd> {
    let ctx = Arc::new(JobCtx::default());
    let run = {
        let (crm, handler, job, ctx) = (crm.for_background(), handler.clone(), job.clone(), ctx.clone());
        // Its own task: a job that panics fails alone, and the worker goes on.
        tokio::spawn(async move { handler.run(&crm, &job, &ctx).await })
    };
    let heartbeat = tokio::spawn(keep_lease(
        crm.clone(),
        job.id,
        lease.to_string(),
        lease_for,
        ctx.clone(),
        run.abort_handle(),
    ));
    let outcome = run.await;
    heartbeat.abort();
    if ctx.lost.load(Ordering::Relaxed) {
        return None;
    }
    Some(match outcome {
        Ok(Ok(result)) => JobEnd::Succeeded(result),
        Ok(Err(_)) if ctx.cancel.load(Ordering::Relaxed) => JobEnd::Cancelled,
        Ok(Err(e))
            if matches!(e.code, ErrorCode::Internal | ErrorCode::Unavailable) && job.attempts < job.max_attempts =>
        {
            JobEnd::Retry {
                at: crm.clock.now() + retry_pause(job.attempts),
                error: e.detail,
            }
        }
        Ok(Err(e)) => JobEnd::Failed(e.detail),
        Err(e) if e.is_panic() => JobEnd::Failed("the job stopped with an internal error; it has been logged".into()),
        Err(_) => JobEnd::Cancelled,
    })
}

/// How often a running job's progress is written (and its lease renewed), at most: often
/// enough for a bar that moves while someone watches.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Renew the lease every quarter of it (every second at most), writing the progress, until
/// aborted; stop the job when it is cancelled. When the lease is lost (another worker took the
/// job over), or has not been renewed for nearly as long as it holds (a renewal slow or
/// failing), the job is told to stop, given one more beat to stop at a step of its own (an
/// import between batches), and then its task is aborted: two workers never go on with one
/// job past its lease.
async fn keep_lease(
    crm: Crm,
    id: crate::ids::JobId,
    lease: String,
    lease_for: Duration,
    ctx: Arc<JobCtx>,
    run: tokio::task::AbortHandle,
) {
    let every = (lease_for / 4).min(PROGRESS_EVERY);
    // Stop with two beats in hand: one to stop at a step, one for the abort.
    let stop_after = lease_for.saturating_sub(every * 2);
    let holds = chrono::Duration::from_std(lease_for).unwrap_or(chrono::Duration::seconds(60));
    let mut held_since = std::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        let asked = std::time::Instant::now();
        let left = stop_after.saturating_sub(held_since.elapsed());
        let progress = ctx.progress();
        let renewal = crm.store.renew_job(id, &lease, crm.clock.now() + holds, &progress);
        match tokio::time::timeout(left, renewal).await {
            Ok(Ok(Renewal::Held)) => held_since = asked,
            Ok(Ok(Renewal::CancelRequested)) => {
                held_since = asked;
                ctx.cancel.store(true, Ordering::Relaxed);
            }
            Ok(Ok(Renewal::Lost)) => break,
            // The next renewal may get through before the lease runs out.
            Ok(Err(e)) => tracing::warn!(job = %id, error = %e.detail, "a job's lease could not be renewed"),
            Err(_) => tracing::warn!(job = %id, "a job's lease was not renewed in time"),
        }
        if held_since.elapsed() >= stop_after {
            break;
        }
    }
    ctx.lost.store(true, Ordering::Relaxed);
    tokio::time::sleep(every).await;
    run.abort();
}

/// Fire due schedules in every workspace, and count the queues for `observe`.
async fn schedule(workspaces: Arc<dyn Workspaces>, settings: WorkerSettings) {
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    loop {
        for (name, crm) in workspaces.all().await {
            if settings.schedules
                && known.insert(name.clone())
                && let Err(e) = crm.keep_standard_schedules().await
            {
                known.remove(&name);
                tracing::warn!(workspace = %name, error = %e.detail, "the standard schedules could not be kept");
            }
            if settings.schedules
                && let Err(e) = fire_due(&crm).await
            {
                tracing::warn!(workspace = %name, error = %e.detail, "schedules could not be read");
            }
            if let Some(observe) = &settings.observe {
                match crm.store.job_counts(crm.clock.now()).await {
                    Ok(counts) => observe(&name, &counts),
                    Err(e) => {
                        tracing::warn!(workspace = %name, error = %e.detail, "the job queue could not be counted")
                    }
                }
            }
        }
        tokio::time::sleep(settings.schedule_every).await;
    }
}

/// Queue a job for each schedule whose time has come; the schedules move on to their next time.
pub(crate) async fn fire_due(crm: &Crm) -> Result<usize> {
    let now = crm.clock.now();
    let mut fired = 0;
    for s in crm.store.schedules().await? {
        if s.next_run_at > now {
            continue;
        }
        let Some(next) = s.cadence.next_after(now) else {
            continue;
        };
        let mut job = NewJob::now(s.kind, s.payload.clone(), None, now);
        job.schedule = Some(s.name.clone());
        if crm.store.fire_schedule(&s.name, s.next_run_at, next, &job).await? {
            tracing::info!(schedule = %s.name, job = %job.id, "a scheduled job was queued");
            fired += 1;
        }
    }
    if fired > 0 {
        wake();
    }
    Ok(fired)
}
