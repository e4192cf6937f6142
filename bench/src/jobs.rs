//! The job queue: how many empty jobs a server's workers get through per second (queued all at
//! once, two workers as `anchora serve` runs by default, then eight), and how long a job queued
//! on an idle queue waits before a worker starts it (woken in the same process, and found by
//! polling as a job queued by another process is).

use crate::{Report, fresh_pg, p50_p95};
use anchora_core::jobs::{Job, JobCtx, JobHandler, JobKind, NewJob, WorkerSettings, Workspaces, run_workers, wake};
use anchora_core::service::Crm;
use anchora_core::store::JobStore;
use anchora_core::{Clock, Store, SystemClock};
use anchora_store::{Backend, Instance};
use anyhow::Result;
use async_trait::async_trait;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const THROUGHPUT_JOBS: usize = 5_000;
const LATENCY_SAMPLES: usize = 200;

struct One(Crm);

#[async_trait]
impl Workspaces for One {
    async fn all(&self) -> Vec<(String, Crm)> {
        vec![("main".into(), self.0.clone())]
    }
}

/// Tells the bench when each job starts.
struct Started(mpsc::UnboundedSender<Instant>);

#[async_trait]
impl JobHandler for Started {
    async fn run(&self, _: &Crm, _: &Job, _: &JobCtx) -> anchora_core::Result<Option<serde_json::Value>> {
        let _ = self.0.send(Instant::now());
        Ok(None)
    }
}

async fn open(dir: &Path, backend: Backend, name: &str) -> Result<(Crm, Arc<anchora_store::SqlStore>)> {
    let url = match backend {
        Backend::Sqlite => {
            let d = dir.join(name);
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d)?;
            format!("sqlite://{}", d.join("jobs.db").display())
        }
        Backend::Postgres => {
            let base = anchora_store::testing::postgres_server().map_err(|e| anyhow::anyhow!(e))?;
            fresh_pg(&base, &format!("anchora_bench_{name}")).await?
        }
    };
    let clock = Arc::new(SystemClock);
    let instance = Instance::open(&url, clock.now())
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
    let store = instance.main();
    Ok((Crm::new(store.clone() as Arc<dyn Store>, clock), store))
}

fn settings(workers: usize, idle_poll: Duration) -> WorkerSettings {
    WorkerSettings {
        workers,
        idle_poll,
        schedules: false,
        ..WorkerSettings::default()
    }
}

pub async fn bench(dir: &Path, backend: Backend, report: &mut Report) -> Result<()> {
    let name = backend.name();
    for workers in [2, 8] {
        eprintln!("== {name}: {THROUGHPUT_JOBS} empty jobs, {workers} workers");
        let (crm, store) = open(dir, backend, &format!("jobs_{workers}")).await?;
        let now = SystemClock.now();
        for _ in 0..THROUGHPUT_JOBS {
            let job = NewJob::now(JobKind::Noop, serde_json::json!({}), None, now);
            store.enqueue_job(&job).await.map_err(|e| anyhow::anyhow!(e.detail))?;
        }
        let (tx, mut rx) = mpsc::unbounded_channel();
        let started = Instant::now();
        let workers_task = tokio::spawn(run_workers(
            Arc::new(One(crm.clone())),
            Arc::new(Started(tx)),
            settings(workers, Duration::from_millis(50)),
        ));
        for _ in 0..THROUGHPUT_JOBS {
            rx.recv().await;
        }
        // The last job has started; wait until it is written as ended.
        while store
            .job_due(SystemClock.now())
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?
            || store
                .job_counts(SystemClock.now())
                .await
                .map_err(|e| anyhow::anyhow!(e.detail))?
                .every_state()
                .iter()
                .any(|(s, n)| !s.finished() && *n > 0)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let took = started.elapsed();
        workers_task.abort();
        let per_second = THROUGHPUT_JOBS as f64 / took.as_secs_f64();
        report.add(
            &format!("{name}: queue throughput, empty jobs, {workers} workers"),
            format!(
                "{per_second:.0} jobs/s ({THROUGHPUT_JOBS} in {:.2} s)",
                took.as_secs_f64()
            ),
            "—",
        );
    }
    for (how, idle_poll, woken) in [
        ("queued in this process (woken)", Duration::from_secs(1), true),
        (
            "queued by another process (poll every 1 s)",
            Duration::from_secs(1),
            false,
        ),
    ] {
        eprintln!("== {name}: latency, {how}");
        let (crm, store) = open(dir, backend, "jobs_latency").await?;
        let (tx, mut rx) = mpsc::unbounded_channel();
        let workers_task = tokio::spawn(run_workers(
            Arc::new(One(crm.clone())),
            Arc::new(Started(tx)),
            settings(2, idle_poll),
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let samples = if woken { LATENCY_SAMPLES } else { 20 };
        let mut waits = Vec::with_capacity(samples);
        for i in 0..samples {
            // An idle queue: the workers have gone to sleep (at a different point of their
            // poll each time when not woken).
            tokio::time::sleep(Duration::from_millis(if woken {
                20
            } else {
                137 + (i as u64 * 53) % 400
            }))
            .await;
            let job = NewJob::now(JobKind::Noop, serde_json::json!({}), None, SystemClock.now());
            let queued = Instant::now();
            store.enqueue_job(&job).await.map_err(|e| anyhow::anyhow!(e.detail))?;
            if woken {
                wake();
            }
            let started = rx.recv().await.unwrap_or(queued);
            waits.push(started.duration_since(queued));
        }
        workers_task.abort();
        report.add(
            &format!("{name}: wait before a queued job starts, {how}"),
            p50_p95(&mut waits),
            "—",
        );
    }
    Ok(())
}
