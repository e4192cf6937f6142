//! Import jobs: their settings and progress, the uploaded file, and rejected rows.

use crate::db::{Backend, Exec, Row, Tx};
use crate::records::{self, Updated};
use anchora_core::UserId;
use anchora_core::import::job::{
    Counts, ImportId, ImportJob, ImportSettings, ImportWrite, ImportWriteOutcome, JobStatus, LikelyDuplicate,
};
use anchora_core::import::plan::Rejected;
use anchora_core::store::WriteCtx;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use sea_query::{Cond, Expr, ExprTrait, Order, Query};

pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    vec![
        format!(
            "CREATE TABLE import_jobs (id {uuid} PRIMARY KEY, object TEXT NOT NULL, file_name TEXT NOT NULL, \
             sha256 TEXT NOT NULL, settings TEXT NOT NULL, headers TEXT NOT NULL, status TEXT NOT NULL, \
             last_row BIGINT NOT NULL, created_count BIGINT NOT NULL, updated_count BIGINT NOT NULL, \
             unchanged_count BIGINT NOT NULL, rejected_count BIGINT NOT NULL, related_count BIGINT NOT NULL, \
             error TEXT, created_by {uuid} NOT NULL, created_at {ts} NOT NULL, updated_at {ts} NOT NULL, \
             finished_at {ts})"
        ),
        "CREATE INDEX import_jobs_created ON import_jobs (created_at)".to_string(),
        format!(
            "CREATE TABLE import_sources (job_id {uuid} PRIMARY KEY REFERENCES import_jobs(id), body TEXT NOT NULL)"
        ),
        format!(
            "CREATE TABLE import_rejects (job_id {uuid} NOT NULL REFERENCES import_jobs(id), row_number BIGINT NOT NULL, \
             reason TEXT NOT NULL, cells TEXT NOT NULL, PRIMARY KEY (job_id, row_number))"
        ),
    ]
}

/// Migration 6: rows an import found to look like records already there (or earlier rows).
pub fn matches_table(backend: Backend) -> String {
    let uuid = backend.uuid_type();
    let real = match backend {
        Backend::Sqlite => "REAL",
        Backend::Postgres => "DOUBLE PRECISION",
    };
    format!(
        "CREATE TABLE import_matches (job_id {uuid} NOT NULL REFERENCES import_jobs(id), row_number BIGINT NOT NULL, \
         like_record {uuid}, like_row BIGINT, score {real} NOT NULL, reasons TEXT NOT NULL, PRIMARY KEY (job_id, row_number))"
    )
}

const COLUMNS: [&str; 18] = [
    "id",
    "object",
    "file_name",
    "sha256",
    "settings",
    "headers",
    "status",
    "last_row",
    "created_count",
    "updated_count",
    "unchanged_count",
    "rejected_count",
    "related_count",
    "error",
    "created_by",
    "created_at",
    "updated_at",
    "finished_at",
];

fn bad(column: &str, e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: e.to_string().into(),
    }
}

fn count(r: &Row, i: usize) -> Result<u64, sqlx::Error> {
    u64::try_from(r.i64(i)?).map_err(|e| bad("count", e))
}

fn decode(r: &Row) -> Result<ImportJob, sqlx::Error> {
    let settings = serde_json::from_str(&r.string(4)?).map_err(|e| bad("settings", e))?;
    let headers = serde_json::from_str(&r.string(5)?).map_err(|e| bad("headers", e))?;
    let status = JobStatus::parse(&r.string(6)?).ok_or_else(|| bad("status", "unknown status"))?;
    Ok(ImportJob {
        id: ImportId(r.uuid(0)?),
        settings,
        file_name: r.string(2)?,
        sha256: r.string(3)?,
        headers,
        status,
        counts: Counts {
            last_row: count(r, 7)?,
            created: count(r, 8)?,
            updated: count(r, 9)?,
            unchanged: count(r, 10)?,
            rejected: count(r, 11)?,
            related_created: count(r, 12)?,
        },
        error: r.opt_string(13)?,
        created_by: UserId(r.uuid(14)?),
        created_at: r.datetime(15)?,
        updated_at: r.datetime(16)?,
        finished_at: r.opt_datetime(17)?,
    })
}

fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub async fn create(tx: &mut Tx, backend: Backend, job: &ImportJob, source: Option<&[u8]>) -> Result<(), sqlx::Error> {
    let settings = serde_json::to_string(&job.settings).map_err(|e| bad("settings", e))?;
    let headers = serde_json::to_string(&job.headers).map_err(|e| bad("headers", e))?;
    let c = &job.counts;
    let stmt = Query::insert()
        .into_table("import_jobs")
        .columns(COLUMNS)
        .values_panic([
            Expr::val(backend.uuid(Some(job.id.0))),
            job.settings.object.clone().into(),
            job.file_name.clone().into(),
            job.sha256.clone().into(),
            settings.into(),
            headers.into(),
            job.status.as_str().into(),
            big(c.last_row).into(),
            big(c.created).into(),
            big(c.updated).into(),
            big(c.unchanged).into(),
            big(c.rejected).into(),
            big(c.related_created).into(),
            job.error.clone().into(),
            Expr::val(backend.uuid(Some(job.created_by.0))),
            Expr::val(backend.datetime(Some(job.created_at))),
            Expr::val(backend.datetime(Some(job.updated_at))),
            Expr::val(backend.datetime(job.finished_at)),
        ])
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await?;
    if let Some(bytes) = source {
        let body = base64::engine::general_purpose::STANDARD.encode(bytes);
        let stmt = Query::insert()
            .into_table("import_sources")
            .columns(["job_id", "body"])
            .values_panic([Expr::val(backend.uuid(Some(job.id.0))), body.into()])
            .to_owned();
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    Ok(())
}

pub async fn get(exec: Exec<'_>, backend: Backend, id: ImportId) -> Result<Option<ImportJob>, sqlx::Error> {
    let stmt = Query::select()
        .columns(COLUMNS)
        .from("import_jobs")
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    exec.fetch_optional(backend.build(&stmt))
        .await?
        .map(|r| decode(&r))
        .transpose()
}

pub async fn list(exec: Exec<'_>, backend: Backend, limit: u32) -> Result<Vec<ImportJob>, sqlx::Error> {
    let stmt = Query::select()
        .columns(COLUMNS)
        .from("import_jobs")
        .order_by("created_at", Order::Desc)
        .order_by("id", Order::Desc)
        .limit(u64::from(limit))
        .to_owned();
    exec.fetch_all(backend.build(&stmt)).await?.iter().map(decode).collect()
}

pub async fn source(exec: Exec<'_>, backend: Backend, id: ImportId) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let stmt = Query::select()
        .column("body")
        .from("import_sources")
        .and_where(Expr::col("job_id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    match exec.fetch_optional(backend.build(&stmt)).await? {
        Some(r) => base64::engine::general_purpose::STANDARD
            .decode(r.string(0)?)
            .map(Some)
            .map_err(|e| bad("body", e)),
        None => Ok(None),
    }
}

pub async fn start(
    exec: Exec<'_>,
    backend: Backend,
    id: ImportId,
    settings: &ImportSettings,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let text = serde_json::to_string(settings).map_err(|e| bad("settings", e))?;
    let stmt = Query::update()
        .table("import_jobs")
        .value("settings", text)
        .value("status", JobStatus::Queued.as_str())
        .value("updated_at", Expr::val(backend.datetime(Some(at))))
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .and_where(Expr::col("status").eq(JobStatus::Draft.as_str()))
        .to_owned();
    Ok(exec.execute(backend.build(&stmt)).await? == 1)
}

pub async fn claim(
    exec: Exec<'_>,
    backend: Backend,
    id: ImportId,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let stmt = Query::update()
        .table("import_jobs")
        .value("status", JobStatus::Running.as_str())
        .value("updated_at", Expr::val(backend.datetime(Some(now))))
        .value("error", Option::<String>::None)
        .value("finished_at", Expr::val(backend.datetime(None)))
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .cond_where(
            Cond::any()
                .add(Expr::col("status").is_in([JobStatus::Queued.as_str(), JobStatus::Failed.as_str()]))
                .add(
                    Cond::all()
                        .add(Expr::col("status").eq(JobStatus::Running.as_str()))
                        .add(Expr::col("updated_at").lte(backend.datetime(Some(stale_before)))),
                ),
        )
        .to_owned();
    Ok(exec.execute(backend.build(&stmt)).await? == 1)
}

pub async fn finish(
    exec: Exec<'_>,
    backend: Backend,
    id: ImportId,
    status: JobStatus,
    error: Option<&str>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let stmt = Query::update()
        .table("import_jobs")
        .value("status", status.as_str())
        .value("error", error.map(str::to_string))
        .value("updated_at", Expr::val(backend.datetime(Some(at))))
        .value("finished_at", Expr::val(backend.datetime(Some(at))))
        .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

/// One batch: related records, new records, updates (each at the version read), rejected rows
/// and the job's counts. A stale update ends it before anything is committed.
pub async fn write(
    tx: &mut Tx,
    backend: Backend,
    object: &anchora_core::meta::ObjectDef,
    write: &ImportWrite,
    ctx: WriteCtx,
) -> Result<ImportWriteOutcome, sqlx::Error> {
    for (related, records) in &write.related {
        records::insert_many(tx, backend, related, records, ctx).await?;
    }
    if !write.creates.is_empty() {
        records::insert_many(tx, backend, object, &write.creates, ctx).await?;
    }
    for (id, version, input) in &write.updates {
        match records::update(tx, backend, object, *id, *version, input, ctx).await? {
            Ok(Updated::Done(_)) => {}
            Ok(_) | Err(_) => return Ok(ImportWriteOutcome::Stale(*id)),
        }
    }
    for chunk in write.rejected.chunks(1000) {
        let mut stmt = Query::insert()
            .into_table("import_rejects")
            .columns(["job_id", "row_number", "reason", "cells"])
            .to_owned();
        for r in chunk {
            let cells = serde_json::to_string(&r.cells).map_err(|e| bad("cells", e))?;
            stmt.values_panic([
                Expr::val(backend.uuid(Some(write.job.0))),
                big(r.number).into(),
                r.reason.clone().into(),
                cells.into(),
            ]);
        }
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    for chunk in write.likely.chunks(1000) {
        let mut stmt = Query::insert()
            .into_table("import_matches")
            .columns(["job_id", "row_number", "like_record", "like_row", "score", "reasons"])
            .to_owned();
        for m in chunk {
            let reasons = serde_json::to_string(&m.reasons).map_err(|e| bad("reasons", e))?;
            stmt.values_panic([
                Expr::val(backend.uuid(Some(write.job.0))),
                big(m.row).into(),
                Expr::val(backend.uuid(m.like_record.map(|r| r.0))),
                m.like_row.map(big).into(),
                m.score.into(),
                reasons.into(),
            ]);
        }
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    let c = &write.counts;
    let stmt = Query::update()
        .table("import_jobs")
        .value("last_row", big(c.last_row))
        .value("created_count", big(c.created))
        .value("updated_count", big(c.updated))
        .value("unchanged_count", big(c.unchanged))
        .value("rejected_count", big(c.rejected))
        .value("related_count", big(c.related_created))
        .value("updated_at", Expr::val(backend.datetime(Some(ctx.now))))
        .and_where(Expr::col("id").eq(backend.uuid(Some(write.job.0))))
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await?;
    Ok(ImportWriteOutcome::Written)
}

pub async fn rejects(
    exec: Exec<'_>,
    backend: Backend,
    id: ImportId,
    after_row: u64,
    limit: u32,
) -> Result<Vec<Rejected>, sqlx::Error> {
    let stmt = Query::select()
        .columns(["row_number", "reason", "cells"])
        .from("import_rejects")
        .and_where(Expr::col("job_id").eq(backend.uuid(Some(id.0))))
        .and_where(Expr::col("row_number").gt(big(after_row)))
        .order_by("row_number", Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| {
            Ok(Rejected {
                number: count(r, 0)?,
                reason: r.string(1)?,
                cells: serde_json::from_str(&r.string(2)?).map_err(|e| bad("cells", e))?,
            })
        })
        .collect()
}

/// How many rows of a job look like records already there.
pub async fn match_count(exec: Exec<'_>, backend: Backend, id: ImportId) -> Result<u64, sqlx::Error> {
    let stmt = Query::select()
        .expr(Expr::col("row_number").count())
        .from("import_matches")
        .and_where(Expr::col("job_id").eq(backend.uuid(Some(id.0))))
        .to_owned();
    match exec.fetch_optional(backend.build(&stmt)).await? {
        Some(r) => count(&r, 0),
        None => Ok(0),
    }
}

/// The rows of a job that look like records already there, in row order.
pub async fn matches(
    exec: Exec<'_>,
    backend: Backend,
    id: ImportId,
    limit: u32,
) -> Result<Vec<LikelyDuplicate>, sqlx::Error> {
    let stmt = Query::select()
        .columns(["row_number", "like_record", "like_row", "score", "reasons"])
        .from("import_matches")
        .and_where(Expr::col("job_id").eq(backend.uuid(Some(id.0))))
        .order_by("row_number", Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r| {
            Ok(LikelyDuplicate {
                row: count(r, 0)?,
                like_record: r.opt_uuid(1)?.map(anchora_core::RecordId),
                like_row: r.opt_i64(2)?.map(|n| u64::try_from(n).unwrap_or_default()),
                score: r.opt_f64(3)?.unwrap_or_default(),
                reasons: serde_json::from_str(&r.string(4)?).map_err(|e| bad("reasons", e))?,
            })
        })
        .collect()
}
