//! The job queue and its schedules. A claim is one `UPDATE … RETURNING` of the due job that
//! waited longest: PostgreSQL picks it with `FOR UPDATE SKIP LOCKED`, so workers of many
//! processes never wait on one another nor take the same job; SQLite runs it under its single
//! writer. Every later write of an attempt names its lease, so a worker that lost the job
//! changes nothing.

use crate::db::{Backend, Exec, Row, Sql, Tx, db_error, in_write};
use crate::db::{bad_column, big, count_at};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::ids::{JobId, UserId};
use anchora_core::jobs::{Cadence, Job, JobCounts, JobEnd, JobKind, JobState, NewJob, Progress, Renewal, Schedule};
use anchora_core::store::JobStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Order, Query};

/// Migration 11: the queue, its schedules, and a job for each import a server was to run.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let boolean = backend.bool_type();
    let no = match backend {
        Backend::Sqlite => "0",
        Backend::Postgres => "FALSE",
    };
    vec![
        format!(
            "CREATE TABLE jobs (id {uuid} PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL, \
             attempts BIGINT NOT NULL, max_attempts BIGINT NOT NULL, run_at {ts} NOT NULL, lease_owner TEXT, \
             lease_until {ts}, done BIGINT NOT NULL, total BIGINT, phase TEXT, result TEXT, error TEXT, \
             cancel_requested {boolean} NOT NULL DEFAULT {no}, created_by {uuid}, schedule TEXT, \
             created_at {ts} NOT NULL, started_at {ts}, finished_at {ts})"
        ),
        "CREATE INDEX jobs_due ON jobs (state, run_at)".to_string(),
        "CREATE INDEX jobs_leased ON jobs (state, lease_until)".to_string(),
        "CREATE INDEX jobs_created ON jobs (created_at)".to_string(),
        "CREATE INDEX jobs_by_user ON jobs (created_by, created_at)".to_string(),
        format!(
            "CREATE TABLE job_schedules (name TEXT PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, \
             cadence TEXT NOT NULL, next_run_at {ts} NOT NULL)"
        ),
        format!(
            "CREATE TABLE job_files (job_id {uuid} NOT NULL, seq BIGINT NOT NULL, name TEXT NOT NULL, \
             body {bytes} NOT NULL, PRIMARY KEY (job_id, seq))",
            bytes = backend.bytes_type()
        ),
        // Imports queued before the queue existed were taken up by the server at start; now a
        // job runs each (the import's id serves as the job's).
        format!(
            "INSERT INTO jobs (id, kind, payload, state, attempts, max_attempts, run_at, done, created_by, created_at) \
             SELECT id, 'import', '{{\"import\":\"' || {id_text} || '\"}}', 'queued', 0, {attempts}, updated_at, 0, \
             created_by, updated_at FROM import_jobs WHERE status IN ('queued', 'running')",
            id_text = match backend {
                Backend::Sqlite => "id",
                Backend::Postgres => "id::text",
            },
            attempts = anchora_core::jobs::DEFAULT_ATTEMPTS,
        ),
    ]
}

const COLUMNS: [&str; 20] = [
    "id",
    "kind",
    "payload",
    "state",
    "attempts",
    "max_attempts",
    "run_at",
    "lease_owner",
    "lease_until",
    "done",
    "total",
    "phase",
    "result",
    "error",
    "cancel_requested",
    "created_by",
    "schedule",
    "created_at",
    "started_at",
    "finished_at",
];

fn decode(r: &Row) -> Result<Job, sqlx::Error> {
    let json = |i: usize, name: &str| -> Result<Option<serde_json::Value>, sqlx::Error> {
        r.opt_string(i)?
            .map(|t| serde_json::from_str(&t).map_err(|e| bad_column(name, e)))
            .transpose()
    };
    let state = r.string(3)?;
    Ok(Job {
        id: JobId(r.uuid(0)?),
        kind_name: r.string(1)?,
        payload: json(2, "payload")?.unwrap_or(serde_json::Value::Null),
        state: JobState::parse(&state).ok_or_else(|| bad_column("state", state))?,
        attempts: u32::try_from(r.i64(4)?).unwrap_or(u32::MAX),
        max_attempts: u32::try_from(r.i64(5)?).unwrap_or(u32::MAX),
        run_at: r.datetime(6)?,
        lease_owner: r.opt_string(7)?,
        lease_until: r.opt_datetime(8)?,
        progress: Progress {
            done: count_at(r, 9)?,
            total: r.opt_i64(10)?.and_then(|n| u64::try_from(n).ok()),
            phase: r.opt_string(11)?,
        },
        result: json(12, "result")?,
        error: r.opt_string(13)?,
        cancel_requested: r.bool(14)?,
        created_by: r.opt_uuid(15)?.map(UserId),
        schedule: r.opt_string(16)?,
        created_at: r.datetime(17)?,
        started_at: r.opt_datetime(18)?,
        finished_at: r.opt_datetime(19)?,
    })
}

/// Put a job on the queue inside the caller's transaction (the write that asks for it).
pub async fn insert(tx: &mut Tx, backend: Backend, job: &NewJob) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(&job.payload).map_err(|e| bad_column("payload", e))?;
    let stmt = Query::insert()
        .into_table("jobs")
        .columns([
            "id",
            "kind",
            "payload",
            "state",
            "attempts",
            "max_attempts",
            "run_at",
            "done",
            "created_by",
            "schedule",
            "created_at",
        ])
        .values_panic([
            Expr::val(backend.uuid(Some(job.id.0))),
            job.kind.as_str().into(),
            payload.into(),
            JobState::Queued.as_str().into(),
            0i64.into(),
            i64::from(job.max_attempts).into(),
            Expr::val(backend.datetime(Some(job.run_at))),
            0i64.into(),
            Expr::val(backend.uuid(job.created_by.map(|u| u.0))),
            job.schedule.clone().into(),
            Expr::val(backend.datetime(Some(job.created_at))),
        ])
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await.map(|_| ())
}

/// The condition of a due job, on parameters `now` (`$n`).
fn due(backend: Backend, now: usize) -> String {
    let p = backend.param(now);
    format!("(state = 'queued' AND run_at <= {p}) OR (state = 'running' AND lease_until < {p})")
}

async fn claim(
    tx: &mut Tx,
    backend: Backend,
    lease: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<Job>, sqlx::Error> {
    let skip_locked = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let text = format!(
        "UPDATE jobs SET state = 'running', lease_owner = {owner}, lease_until = {until}, attempts = attempts + 1, \
         started_at = COALESCE(started_at, {now}) \
         WHERE id = (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT 1{skip_locked}) \
         RETURNING {columns}",
        owner = backend.param(1),
        until = backend.param(2),
        now = backend.param(3),
        due = due(backend, 3),
        columns = COLUMNS.join(", "),
    );
    let values = vec![
        lease.into(),
        backend.datetime(Some(lease_until)),
        backend.datetime(Some(now)),
    ];
    tx.exec()
        .fetch_optional(Sql::new(text, values))
        .await?
        .map(|r| decode(&r))
        .transpose()
}

async fn renew(
    tx: &mut Tx,
    backend: Backend,
    id: JobId,
    lease: &str,
    lease_until: DateTime<Utc>,
    progress: &Progress,
) -> Result<Renewal, sqlx::Error> {
    let text = format!(
        "UPDATE jobs SET lease_until = {}, done = {}, total = {}, phase = {} \
         WHERE id = {} AND lease_owner = {} AND state = 'running' RETURNING cancel_requested",
        backend.param(1),
        backend.param(2),
        backend.param(3),
        backend.param(4),
        backend.param(5),
        backend.param(6),
    );
    let values = vec![
        backend.datetime(Some(lease_until)),
        big(progress.done).into(),
        progress.total.map(big).into(),
        progress.phase.clone().into(),
        backend.uuid(Some(id.0)),
        lease.into(),
    ];
    Ok(match tx.exec().fetch_optional(Sql::new(text, values)).await? {
        None => Renewal::Lost,
        Some(r) if r.bool(0)? => Renewal::CancelRequested,
        Some(_) => Renewal::Held,
    })
}

async fn end(
    tx: &mut Tx,
    backend: Backend,
    id: JobId,
    lease: &str,
    end: &JobEnd,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    // The lease's owner stays, saying which process ran the job last.
    let mut stmt = Query::update();
    stmt.table("jobs")
        .value("lease_until", Expr::val(backend.datetime(None)));
    let finished = Expr::val(backend.datetime(Some(at)));
    match end {
        JobEnd::Succeeded(result) => {
            let result = result
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(|e| bad_column("result", e))?;
            stmt.value("state", JobState::Succeeded.as_str())
                .value("result", result)
                .value("error", Option::<String>::None)
                .value("finished_at", finished);
        }
        JobEnd::Retry { at: next, error } => {
            stmt.value("state", JobState::Queued.as_str())
                .value("run_at", Expr::val(backend.datetime(Some(*next))))
                .value("error", error.clone());
        }
        JobEnd::Failed(error) => {
            stmt.value("state", JobState::Failed.as_str())
                .value("error", error.clone())
                .value("finished_at", finished);
        }
        JobEnd::Cancelled => {
            stmt.value("state", JobState::Cancelled.as_str())
                .value("finished_at", finished);
        }
    }
    stmt.and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .and_where(Expr::col("lease_owner").eq(lease))
        .and_where(Expr::col("state").eq(JobState::Running.as_str()));
    Ok(tx.exec().execute(backend.build(&stmt)).await? == 1)
}

async fn cancel(tx: &mut Tx, backend: Backend, id: JobId, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let id_value = backend.uuid(Some(id.0));
    // Queued, or running under a lease that ran out (its worker died): cancelled at once.
    let now = backend.datetime(Some(at));
    let text = format!(
        "UPDATE jobs SET state = 'cancelled', finished_at = {p1}, lease_owner = NULL, lease_until = NULL \
         WHERE id = {p2} AND (state = 'queued' OR (state = 'running' AND lease_until < {p1}))",
        p1 = backend.param(1),
        p2 = backend.param(2),
    );
    if tx.exec().execute(Sql::new(text, vec![now, id_value.clone()])).await? == 0 {
        let ask = Query::update()
            .table("jobs")
            .value("cancel_requested", true)
            .and_where(Expr::col("id").eq(id_value))
            .and_where(Expr::col("state").eq(JobState::Running.as_str()))
            .to_owned();
        tx.exec().execute(backend.build(&ask)).await?;
    }
    Ok(())
}

async fn get(exec: Exec<'_>, backend: Backend, id: JobId) -> Result<Option<Job>, sqlx::Error> {
    let stmt = Query::select()
        .columns(COLUMNS)
        .from("jobs")
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| decode(&r))
        .transpose()
}

async fn list(
    exec: Exec<'_>,
    backend: Backend,
    created_by: Option<UserId>,
    limit: u32,
) -> Result<Vec<Job>, sqlx::Error> {
    let mut stmt = Query::select();
    stmt.columns(COLUMNS).from("jobs");
    if let Some(user) = created_by {
        stmt.and_where(Expr::col("created_by").eq(backend.uuid(Some(user.0))));
    }
    stmt.order_by("created_at", Order::Desc)
        .order_by("id", Order::Desc)
        .limit(u64::from(limit));
    exec.fetch_all(backend.build(&stmt)).await?.iter().map(decode).collect()
}

async fn counts(pool: &crate::db::Pool, backend: Backend, now: DateTime<Utc>) -> Result<JobCounts, sqlx::Error> {
    let by_state = pool
        .exec()
        .fetch_all(Sql::plain("SELECT state, COUNT(*) FROM jobs GROUP BY state"))
        .await?
        .iter()
        .map(|r| Ok((r.string(0)?, count_at(r, 1)?)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?
        .into_iter()
        .filter_map(|(s, n)| Some((JobState::parse(&s)?, n)))
        .collect();
    let oldest = Query::select()
        .expr(Expr::col("run_at").min())
        .from("jobs")
        .and_where(Expr::col("state").eq(JobState::Queued.as_str()))
        .and_where(Expr::col("run_at").lte(backend.datetime(Some(now))))
        .to_owned();
    Ok(JobCounts {
        by_state,
        oldest_due: match pool.exec().fetch_optional(backend.build(&oldest)).await? {
            Some(r) => r.opt_datetime(0)?,
            None => None,
        },
    })
}

fn decode_schedule(r: &Row) -> Result<Option<Schedule>, sqlx::Error> {
    let kind = r.string(1)?;
    let cadence = r.string(3)?;
    let payload = serde_json::from_str(&r.string(2)?).map_err(|e| bad_column("payload", e))?;
    // A schedule this build cannot read (a kind from a newer version) is left alone.
    let (Some(kind), Ok(cadence)) = (JobKind::parse(&kind), Cadence::parse(&cadence)) else {
        return Ok(None);
    };
    Ok(Some(Schedule {
        name: r.string(0)?,
        kind,
        payload,
        cadence,
        next_run_at: r.datetime(4)?,
    }))
}

async fn save_schedule(tx: &mut Tx, backend: Backend, s: &Schedule) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(&s.payload).map_err(|e| bad_column("payload", e))?;
    let p = |n| backend.param(n);
    let text = format!(
        "INSERT INTO job_schedules (name, kind, payload, cadence, next_run_at) VALUES ({}, {}, {}, {}, {}) \
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, cadence = excluded.cadence, \
         next_run_at = CASE WHEN job_schedules.cadence = excluded.cadence THEN job_schedules.next_run_at \
         ELSE excluded.next_run_at END",
        p(1),
        p(2),
        p(3),
        p(4),
        p(5)
    );
    let values = vec![
        s.name.clone().into(),
        s.kind.as_str().into(),
        payload.into(),
        s.cadence.as_str().to_string().into(),
        backend.datetime(Some(s.next_run_at)),
    ];
    tx.exec().execute(Sql::new(text, values)).await.map(|_| ())
}

async fn fire(
    tx: &mut Tx,
    backend: Backend,
    name: &str,
    was: DateTime<Utc>,
    next: DateTime<Utc>,
    job: &NewJob,
) -> Result<bool, sqlx::Error> {
    let stmt = Query::update()
        .table("job_schedules")
        .value("next_run_at", Expr::val(backend.datetime(Some(next))))
        .and_where(Expr::col("name").eq(name))
        .and_where(Expr::col("next_run_at").eq(backend.datetime(Some(was))))
        .to_owned();
    if tx.exec().execute(backend.build(&stmt)).await? != 1 {
        return Ok(false);
    }
    insert(tx, backend, job).await?;
    Ok(true)
}

/// Files are kept in pieces of this size (one row each), so no row is large.
const FILE_CHUNK: usize = 1024 * 1024;

async fn keep_file(
    tx: &mut Tx,
    backend: Backend,
    id: JobId,
    name: &str,
    from: &std::path::Path,
) -> Result<(), sqlx::Error> {
    use tokio::io::AsyncReadExt;
    // An earlier attempt that kept its file but could not end the job: this one replaces it.
    let earlier = Query::delete()
        .from_table("job_files")
        .and_where(Expr::col("job_id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    tx.exec().execute(backend.build(&earlier)).await?;
    let mut file = tokio::fs::File::open(from).await?;
    let mut seq: i64 = 0;
    loop {
        let mut chunk = Vec::with_capacity(FILE_CHUNK);
        let read = (&mut file).take(FILE_CHUNK as u64).read_to_end(&mut chunk).await?;
        // An empty file is kept as one empty piece, so it is known to exist.
        if read == 0 && seq > 0 {
            return Ok(());
        }
        let stmt = Query::insert()
            .into_table("job_files")
            .columns(["job_id", "seq", "name", "body"])
            .values_panic([
                Expr::val(backend.uuid(Some(id.0))),
                seq.into(),
                name.into(),
                Expr::val(sea_query::Value::Bytes(Some(chunk))),
            ])
            .to_owned();
        tx.exec().execute(backend.build(&stmt)).await?;
        if read == 0 {
            return Ok(());
        }
        seq += 1;
    }
}

async fn read_file(
    pool: &crate::db::Pool,
    backend: Backend,
    id: JobId,
    to: &std::path::Path,
) -> Result<Option<String>, sqlx::Error> {
    use tokio::io::AsyncWriteExt;
    let mut name = None;
    let mut file = tokio::fs::File::create(to).await?;
    for seq in 0i64.. {
        let stmt = Query::select()
            .columns(["name", "body"])
            .from("job_files")
            .and_where(Expr::col("job_id").eq(backend.uuid(Some(id.0))))
            .and_where(Expr::col("seq").eq(seq))
            .to_owned();
        let Some(row) = pool.exec().fetch_optional(backend.build(&stmt)).await? else {
            break;
        };
        name = Some(row.string(0)?);
        file.write_all(&row.bytes(1)?).await?;
    }
    file.flush().await?;
    Ok(name)
}

async fn forget(
    tx: &mut Tx,
    backend: Backend,
    files_before: DateTime<Utc>,
    jobs_before: DateTime<Utc>,
) -> Result<(u64, u64), sqlx::Error> {
    let old = |before: DateTime<Utc>, column: &'static str| {
        Query::select()
            .column("id")
            .from("jobs")
            .and_where(Expr::col(column).lt(backend.datetime(Some(before))))
            .to_owned()
    };
    let files = Query::delete()
        .from_table("job_files")
        .cond_where(
            sea_query::Cond::any()
                .add(Expr::col("job_id").in_subquery(old(files_before, "created_at")))
                .add(Expr::col("job_id").in_subquery(old(jobs_before, "finished_at"))),
        )
        .to_owned();
    let files = tx.exec().execute(backend.build(&files)).await?;
    let jobs = Query::delete()
        .from_table("jobs")
        .and_where(Expr::col("finished_at").lt(backend.datetime(Some(jobs_before))))
        .to_owned();
    let jobs = tx.exec().execute(backend.build(&jobs)).await?;
    Ok((files, jobs))
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue_job(&self, job: &NewJob) -> Result<()> {
        in_write!(self.pool(), |tx| {
            insert(tx, self.backend_kind(), job).await.map_err(db_error)
        })
    }

    async fn job_due(&self, now: DateTime<Utc>) -> Result<bool> {
        let backend = self.backend_kind();
        let text = format!("SELECT 1 FROM jobs WHERE {} LIMIT 1", due(backend, 1));
        let row = self
            .pool()
            .reader()
            .fetch_optional(Sql::new(text, vec![backend.datetime(Some(now))]))
            .await
            .map_err(db_error)?;
        Ok(row.is_some())
    }

    async fn claim_job(&self, lease: &str, now: DateTime<Utc>, lease_until: DateTime<Utc>) -> Result<Option<Job>> {
        in_write!(self.pool(), |tx| {
            claim(tx, self.backend_kind(), lease, now, lease_until)
                .await
                .map_err(db_error)
        })
    }

    async fn renew_job(
        &self,
        id: JobId,
        lease: &str,
        lease_until: DateTime<Utc>,
        progress: &Progress,
    ) -> Result<Renewal> {
        in_write!(self.pool(), |tx| {
            renew(tx, self.backend_kind(), id, lease, lease_until, progress)
                .await
                .map_err(db_error)
        })
    }

    async fn end_job(&self, id: JobId, lease: &str, job_end: &JobEnd, at: DateTime<Utc>) -> Result<bool> {
        in_write!(self.pool(), |tx| {
            end(tx, self.backend_kind(), id, lease, job_end, at)
                .await
                .map_err(db_error)
        })
    }

    async fn cancel_job(&self, id: JobId, at: DateTime<Utc>) -> Result<Option<Job>> {
        in_write!(self.pool(), |tx| {
            cancel(tx, self.backend_kind(), id, at).await.map_err(db_error)?;
            get(tx.exec(), self.backend_kind(), id).await.map_err(db_error)
        })
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        get(self.pool().exec(), self.backend_kind(), id).await.map_err(db_error)
    }

    async fn jobs(&self, created_by: Option<UserId>, limit: u32) -> Result<Vec<Job>> {
        list(self.pool().exec(), self.backend_kind(), created_by, limit)
            .await
            .map_err(db_error)
    }

    async fn job_counts(&self, now: DateTime<Utc>) -> Result<JobCounts> {
        counts(self.pool(), self.backend_kind(), now).await.map_err(db_error)
    }

    async fn save_schedule(&self, schedule: &Schedule) -> Result<()> {
        in_write!(self.pool(), |tx| {
            save_schedule(tx, self.backend_kind(), schedule).await.map_err(db_error)
        })
    }

    async fn schedules(&self) -> Result<Vec<Schedule>> {
        let stmt = Query::select()
            .columns(["name", "kind", "payload", "cadence", "next_run_at"])
            .from("job_schedules")
            .order_by("name", Order::Asc)
            .to_owned();
        let rows = self
            .pool()
            .exec()
            .fetch_all(self.backend_kind().build(&stmt))
            .await
            .map_err(db_error)?;
        let mut out = Vec::new();
        for r in &rows {
            if let Some(s) = decode_schedule(r).map_err(db_error)? {
                out.push(s);
            }
        }
        Ok(out)
    }

    async fn keep_job_file(&self, id: JobId, name: &str, from: &std::path::Path) -> Result<()> {
        in_write!(self.pool(), |tx| {
            keep_file(tx, self.backend_kind(), id, name, from)
                .await
                .map_err(db_error)
        })
    }

    async fn job_file(&self, id: JobId, to: &std::path::Path) -> Result<Option<String>> {
        read_file(self.pool(), self.backend_kind(), id, to)
            .await
            .map_err(db_error)
    }

    async fn forget_jobs(&self, files_before: DateTime<Utc>, jobs_before: DateTime<Utc>) -> Result<(u64, u64)> {
        in_write!(self.pool(), |tx| {
            forget(tx, self.backend_kind(), files_before, jobs_before)
                .await
                .map_err(db_error)
        })
    }

    async fn fire_schedule(&self, name: &str, was: DateTime<Utc>, next: DateTime<Utc>, job: &NewJob) -> Result<bool> {
        in_write!(self.pool(), |tx| {
            fire(tx, self.backend_kind(), name, was, next, job)
                .await
                .map_err(db_error)
        })
    }
}
