//! The job queue on both databases: each job claimed once under racing workers, a lease taken
//! over when it runs out, retries with back-off and then failure, cancel, schedules that fire
//! once per due time however many schedulers look.

use super::*;
use anchora_core::Error;
use anchora_core::jobs::{
    Cadence, CrmJobs, Job, JobCtx, JobEnd, JobHandler, JobKind, JobState, NewJob, Renewal, Schedule, WorkerSettings,
    Workspaces, run_workers,
};
use anchora_core::store::JobStore;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// One workspace, for workers in a test.
struct One(Crm);

#[async_trait]
impl Workspaces for One {
    async fn all(&self) -> Vec<(String, Crm)> {
        vec![("main".into(), self.0.clone())]
    }
}

fn quick() -> WorkerSettings {
    WorkerSettings {
        workers: 2,
        lease: Duration::from_millis(400),
        idle_poll: Duration::from_millis(10),
        schedule_every: Duration::from_millis(20),
        schedules: false,
        ..WorkerSettings::default()
    }
}

async fn wait_for(store: &SqlStore, id: anchora_core::JobId, done: impl Fn(&Job) -> bool) -> Job {
    for _ in 0..1000 {
        let job = store.job(id).await.unwrap().unwrap();
        if done(&job) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {id} did not get there: {:?}", store.job(id).await.unwrap());
}

fn noop(h: &H) -> NewJob {
    NewJob::now(JobKind::Noop, json!({}), Some(h.admin.user_id), h.clock.now())
}

pub async fn jobs_are_claimed_once_by_racing_workers(h: H) {
    for round in 0..5 {
        let mut queued = Vec::new();
        for _ in 0..60 {
            let job = noop(&h);
            h.store.enqueue_job(&job).await.unwrap();
            queued.push(job.id);
        }
        let mut racers = tokio::task::JoinSet::new();
        for n in 0..6 {
            let (store, now) = (h.store.clone(), h.clock.now());
            racers.spawn(async move {
                let mut mine = Vec::new();
                let lease = format!("racer-{round}-{n}");
                while let Some(job) = store
                    .claim_job(&lease, now, now + chrono::Duration::minutes(1))
                    .await
                    .unwrap()
                {
                    assert_eq!(job.state, JobState::Running);
                    assert_eq!(job.lease_owner.as_deref(), Some(lease.as_str()));
                    assert!(
                        store
                            .end_job(job.id, &lease, &JobEnd::Succeeded(None), now)
                            .await
                            .unwrap()
                    );
                    mine.push(job.id);
                }
                mine
            });
        }
        let mut claims: HashMap<anchora_core::JobId, u32> = HashMap::new();
        while let Some(mine) = racers.join_next().await {
            for id in mine.unwrap() {
                *claims.entry(id).or_default() += 1;
            }
        }
        assert_eq!(claims.len(), queued.len(), "round {round}: every job was claimed");
        assert!(
            claims.values().all(|n| *n == 1),
            "round {round}: none twice: {claims:?}"
        );
        assert!(!h.store.job_due(h.clock.now()).await.unwrap());
    }
    let counts = h.store.job_counts(h.clock.now()).await.unwrap();
    assert_eq!(counts.every_state()[2], (JobState::Succeeded, 300));
    assert_eq!(counts.oldest_due, None);
}

pub async fn a_lease_that_runs_out_is_taken_over(h: H) {
    let job = noop(&h);
    h.store.enqueue_job(&job).await.unwrap();
    let now = h.clock.now();
    let minute = chrono::Duration::minutes(1);
    let first = h.store.claim_job("a", now, now + minute).await.unwrap().unwrap();
    assert_eq!((first.id, first.attempts), (job.id, 1));
    assert!(
        h.store.claim_job("b", now, now + minute).await.unwrap().is_none(),
        "held"
    );
    // Worker a dies; once its lease has run out, b takes the job over as a new attempt.
    h.clock.advance(minute + chrono::Duration::seconds(1));
    let now = h.clock.now();
    assert!(h.store.job_due(now).await.unwrap());
    let second = h.store.claim_job("b", now, now + minute).await.unwrap().unwrap();
    assert_eq!((second.id, second.attempts), (job.id, 2));
    // What a writes afterwards is refused: the job is b's.
    let progress = anchora_core::jobs::Progress::default();
    assert_eq!(
        h.store.renew_job(job.id, "a", now + minute, &progress).await.unwrap(),
        Renewal::Lost
    );
    assert!(
        !h.store
            .end_job(job.id, "a", &JobEnd::Failed("late".into()), now)
            .await
            .unwrap()
    );
    assert_eq!(
        h.store.renew_job(job.id, "b", now + minute, &progress).await.unwrap(),
        Renewal::Held
    );
    assert!(
        h.store
            .end_job(job.id, "b", &JobEnd::Succeeded(Some(json!({"ok": 1}))), now)
            .await
            .unwrap()
    );
    let ended = h.store.job(job.id).await.unwrap().unwrap();
    assert_eq!(ended.state, JobState::Succeeded);
    assert_eq!(ended.result, Some(json!({"ok": 1})));
    assert_eq!((ended.lease_owner.as_deref(), ended.lease_until), (Some("b"), None));
}

/// Fails `internal` every time, counting its calls.
struct AlwaysFails(AtomicU32);

#[async_trait]
impl JobHandler for AlwaysFails {
    async fn run(&self, _: &Crm, _: &Job, _: &JobCtx) -> anchora_core::Result<Option<Json>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(Error::internal("the mail server said no"))
    }
}

pub async fn failed_attempts_are_retried_with_back_off_then_fail(h: H) {
    let mut job = noop(&h);
    job.max_attempts = 3;
    h.store.enqueue_job(&job).await.unwrap();
    let handler = Arc::new(AlwaysFails(AtomicU32::new(0)));
    tokio::spawn(run_workers(Arc::new(One(h.crm.clone())), handler.clone(), quick()));
    // The first attempt fails and waits 10 s (the clock stands still, so it waits).
    let after_one = wait_for(&h.store, job.id, |j| j.attempts == 1 && j.state == JobState::Queued).await;
    assert_eq!(after_one.error.as_deref(), Some("the mail server said no"));
    assert_eq!(after_one.run_at, h.clock.now() + chrono::Duration::seconds(10));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(handler.0.load(Ordering::SeqCst), 1, "not before its time");
    h.clock.advance(chrono::Duration::seconds(10));
    let after_two = wait_for(&h.store, job.id, |j| j.attempts == 2 && j.state == JobState::Queued).await;
    assert_eq!(after_two.run_at, h.clock.now() + chrono::Duration::seconds(20));
    h.clock.advance(chrono::Duration::seconds(20));
    let failed = wait_for(&h.store, job.id, |j| j.state.finished()).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.attempts, 3);
    assert_eq!(failed.error.as_deref(), Some("the mail server said no"));
    assert!(failed.finished_at.is_some());
    assert_eq!(handler.0.load(Ordering::SeqCst), 3);
}

/// Works in steps until told to stop.
struct Patient;

#[async_trait]
impl JobHandler for Patient {
    async fn run(&self, _: &Crm, _: &Job, ctx: &JobCtx) -> anchora_core::Result<Option<Json>> {
        ctx.phase("reading", Some(1_000_000));
        loop {
            ctx.go_on()?;
            ctx.advance(1);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

pub async fn jobs_are_cancelled_queued_or_running(h: H) {
    // Queued (not yet due): cancelled at once.
    let mut later = noop(&h);
    later.run_at = h.clock.now() + chrono::Duration::hours(1);
    h.store.enqueue_job(&later).await.unwrap();
    let cancelled = h.crm.cancel_job(&h.admin, &later.id.to_string()).await.unwrap();
    assert_eq!(cancelled.job.state, JobState::Cancelled);
    let again = h.crm.cancel_job(&h.admin, &later.id.to_string()).await.unwrap_err();
    assert_eq!(again.code, ErrorCode::Conflict);
    // Running: its worker stops it at the next renewal, having written its progress.
    let running = noop(&h);
    h.store.enqueue_job(&running).await.unwrap();
    tokio::spawn(run_workers(Arc::new(One(h.crm.clone())), Arc::new(Patient), quick()));
    let seen = wait_for(&h.store, running.id, |j| j.progress.done > 0).await;
    assert_eq!(seen.state, JobState::Running);
    assert_eq!(seen.progress.total, Some(1_000_000));
    assert_eq!(seen.progress.phase.as_deref(), Some("reading"));
    let asked = h.crm.cancel_job(&h.admin, &running.id.to_string()).await.unwrap();
    assert!(asked.job.cancel_requested);
    let ended = wait_for(&h.store, running.id, |j| j.state.finished()).await;
    assert_eq!(ended.state, JobState::Cancelled);
    // Someone else may neither see nor cancel it.
    let other = add_user(&*h.store, "other@example.com", Role::User, h.clock.now()).await;
    let e = h.crm.cancel_job(&other, &running.id.to_string()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    assert!(h.crm.jobs(&other, None).await.unwrap().is_empty());
    assert_eq!(h.crm.jobs(&h.admin, None).await.unwrap().len(), 2);
}

pub async fn schedules_fire_once_per_due_time(h: H) {
    let schedule = Schedule {
        name: "tick".into(),
        kind: JobKind::Noop,
        payload: json!({}),
        cadence: Cadence::parse("every 15 minutes").unwrap(),
        next_run_at: h.clock.now(),
    };
    h.store.save_schedule(&schedule).await.unwrap();
    // Saved again unchanged, it keeps its next time; two schedulers look at it at once.
    let mut moved = schedule.clone();
    moved.next_run_at = h.clock.now() + chrono::Duration::days(1);
    h.store.save_schedule(&moved).await.unwrap();
    assert_eq!(h.store.schedules().await.unwrap()[0].next_run_at, h.clock.now());
    let settings = WorkerSettings {
        schedules: true,
        ..quick()
    };
    for _ in 0..2 {
        tokio::spawn(run_workers(
            Arc::new(One(h.crm.clone())),
            Arc::new(CrmJobs),
            settings.clone(),
        ));
    }
    let ticks = |jobs: Vec<anchora_core::jobs::JobView>| {
        jobs.into_iter()
            .filter(|j| j.job.schedule.as_deref() == Some("tick"))
            .map(|j| j.job)
            .collect::<Vec<_>>()
    };
    let mut seen = Vec::new();
    for _ in 0..500 {
        seen = ticks(h.crm.jobs(&h.admin, Some(200)).await.unwrap());
        if seen.iter().any(|j| j.state == JobState::Succeeded) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        ticks(h.crm.jobs(&h.admin, Some(200)).await.unwrap()).len(),
        1,
        "{seen:?}"
    );
    // 09:00 fired; the next is due at 09:15.
    let next = h.store.schedules().await.unwrap();
    let tick = next.iter().find(|s| s.name == "tick").unwrap();
    assert_eq!(tick.next_run_at, h.clock.now() + chrono::Duration::minutes(15));
    // The daily quality figures are a standard schedule, kept and fired too.
    assert!(
        next.iter()
            .any(|s| s.name == "quality-day" && s.kind == JobKind::QualityDay)
    );
    h.clock.advance(chrono::Duration::minutes(15));
    for _ in 0..500 {
        if ticks(h.crm.jobs(&h.admin, Some(200)).await.unwrap()).len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(ticks(h.crm.jobs(&h.admin, Some(200)).await.unwrap()).len(), 2);
    // A stored cadence that is not one is refused with the field named.
    assert_eq!(Cadence::parse("now and then").unwrap_err().errors[0].field, "cadence");
}

pub async fn long_work_runs_as_jobs_with_progress(h: H) {
    for (first, last) in [("Åsa", "Öberg"), ("ÅSA", "ÖBERG"), ("Jürgen", "Müller")] {
        let body =
            json!({"first_name": first, "last_name": last, "email": format!("{}@firma.de", first.to_lowercase())});
        h.crm.create(&h.admin, "person", &body).await.unwrap();
    }
    let scan = h.crm.start_duplicate_scan(&h.admin, "person", None).await.unwrap();
    assert_eq!(scan.job.state, JobState::Queued);
    // Asking again while it waits gives the same job, not a second scan.
    let again = h.crm.start_duplicate_scan(&h.admin, "person", None).await.unwrap();
    assert_eq!(again.job.id, scan.job.id);
    assert!(scan.may_cancel);
    let measure = h.crm.start_quality_measure(&h.admin, "person").await.unwrap();
    let unknown = h.crm.start_duplicate_scan(&h.admin, "shoe", None).await.unwrap_err();
    assert_eq!(unknown.code, ErrorCode::UnknownObject);
    let seller = add_user(&*h.store, "seller@example.com", Role::User, h.clock.now()).await;
    let refused = h.crm.start_quality_measure(&seller, "person").await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);
    tokio::spawn(run_workers(Arc::new(One(h.crm.clone())), Arc::new(CrmJobs), quick()));
    let scanned = wait_for(&h.store, scan.job.id, |j| j.state.finished()).await;
    assert_eq!(scanned.state, JobState::Succeeded, "{scanned:?}");
    assert_eq!(scanned.result, Some(json!({"object": "person", "open_pairs": 1})));
    let measured = wait_for(&h.store, measure.job.id, |j| j.state.finished()).await;
    assert_eq!(measured.state, JobState::Succeeded, "{measured:?}");
    assert!(h.crm.quality_board(&h.admin, "person").await.unwrap().day.is_some());
    // A job of a user who can no longer sign in fails, saying why, without another attempt.
    let gone = add_user(&*h.store, "gone@example.com", Role::Admin, h.clock.now()).await;
    let mut job = NewJob::now(
        JobKind::DuplicateScan,
        json!({"object": "person"}),
        Some(gone.user_id),
        h.clock.now(),
    );
    job.run_at = h.clock.now() + chrono::Duration::minutes(1);
    h.store.enqueue_job(&job).await.unwrap();
    let mut user = h.store.user(gone.user_id).await.unwrap().unwrap();
    user.active = false;
    h.store.update_user(&user).await.unwrap();
    h.clock.advance(chrono::Duration::minutes(1));
    let failed = wait_for(&h.store, job.id, |j| j.state.finished()).await;
    assert_eq!(failed.state, JobState::Failed);
    assert_eq!(failed.attempts, 1);
    assert!(failed.error.unwrap().contains("no longer active"));
}

pub async fn large_exports_run_as_jobs_and_keep_their_file(h: H) {
    use anchora_core::export::{ExportRequest, Format};
    for (first, last) in [("Åsa", "Öberg"), ("Søren", "Ærø"), ("José", "Núñez")] {
        h.crm
            .create(&h.admin, "person", &json!({"first_name": first, "last_name": last}))
            .await
            .unwrap();
    }
    let all = ExportRequest {
        object: "person".into(),
        ..Default::default()
    };
    assert!(!h.crm.export_is_large(&h.admin, &all).await.unwrap());
    let many = ExportRequest {
        ids: Some(
            (0..10_001)
                .map(|_| anchora_core::RecordId::new_at(h.clock.now()))
                .collect(),
        ),
        ..all.clone()
    };
    assert!(h.crm.export_is_large(&h.admin, &many).await.unwrap());
    // A mistake in the request is refused when the job is asked for, not later.
    let wrong = ExportRequest {
        columns: vec!["shoe_size".into()],
        ..all.clone()
    };
    let e = h.crm.start_export(&h.admin, &wrong, Format::Csv).await.unwrap_err();
    assert_eq!(e.errors[0].field, "columns");
    let job = h.crm.start_export(&h.admin, &all, Format::Csv).await.unwrap();
    tokio::spawn(run_workers(Arc::new(One(h.crm.clone())), Arc::new(CrmJobs), quick()));
    let done = wait_for(&h.store, job.job.id, |j| j.state.finished()).await;
    assert_eq!(done.state, JobState::Succeeded, "{done:?}");
    assert_eq!(done.result.as_ref().unwrap()["rows"], 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.csv");
    let name = h.crm.job_file(&h.admin, &job.job.id.to_string(), &path).await.unwrap();
    assert_eq!(name, "person-2026-11-23.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with('\u{feff}'), "with a byte-order mark for Excel");
    for name in ["Öberg", "Ærø", "Núñez"] {
        assert!(text.contains(name), "{text}");
    }
    // Nobody else gets the file, not even someone who may export too.
    let other = add_user(&*h.store, "other@example.com", Role::KeyUser, h.clock.now()).await;
    let e = h
        .crm
        .job_file(&other, &job.job.id.to_string(), &path)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotFound);
    // A week on, the upkeep forgets the file; the job stays (90 days).
    h.clock.advance(chrono::Duration::days(8));
    let (files, jobs) = h
        .store
        .forget_jobs(
            h.clock.now() - chrono::Duration::days(7),
            h.clock.now() - chrono::Duration::days(90),
        )
        .await
        .unwrap();
    assert_eq!((files, jobs), (1, 0));
    let e = h
        .crm
        .job_file(&h.admin, &job.job.id.to_string(), &path)
        .await
        .unwrap_err();
    assert!(e.detail.contains("no longer kept"), "{}", e.detail);
}

pub async fn an_import_whose_job_is_cancelled_can_be_started_again(h: H) {
    use anchora_core::import::upload::Upload;
    let csv = "Förnamn;Efternamn;E-post\nÅsa;Öberg;asa@firma.se\nJürgen;Müller;jm@firma.de\n";
    let (draft, _) = h
        .crm
        .upload_import(
            &h.admin,
            "person",
            Upload::from_bytes("folk.csv", csv.as_bytes()).unwrap(),
        )
        .await
        .unwrap();
    let id = draft.id.to_string();
    let started = h.crm.start_import(&h.admin, &id, json!({})).await.unwrap();
    assert_eq!(started.status.as_str(), "queued");
    // The queue job that runs it, written with it; cancelled before any worker came.
    let job = h
        .crm
        .jobs(&h.admin, None)
        .await
        .unwrap()
        .into_iter()
        .find(|j| j.job.kind() == Some(JobKind::Import))
        .unwrap();
    assert_eq!(job.job.payload["import"], json!(id));
    let cancelled = h.crm.cancel_job(&h.admin, &job.job.id.to_string()).await.unwrap();
    assert_eq!(cancelled.job.state, JobState::Cancelled);
    // The import is not left queued with nothing to run it: it failed, saying why, and starts
    // again (with a job of its own, run to the end).
    let import = h.crm.import_job(&h.admin, &id).await.unwrap();
    assert_eq!(import.status.as_str(), "failed");
    assert_eq!(import.error.as_deref(), Some("cancelled"));
    let again = h.crm.start_import(&h.admin, &id, json!({})).await.unwrap();
    tokio::spawn(run_workers(Arc::new(One(h.crm.clone())), Arc::new(CrmJobs), quick()));
    for _ in 0..500 {
        if h.crm
            .import_job(&h.admin, &again.id.to_string())
            .await
            .unwrap()
            .status
            .finished()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let done = h.crm.import_job(&h.admin, &again.id.to_string()).await.unwrap();
    assert_eq!(done.status.as_str(), "done", "{done:?}");
    assert_eq!(done.counts.created, 2);
}
