//! The review queue of likely duplicates a scan found: open pairs are replaced by each scan,
//! dismissed ones stay dismissed.

use crate::db::db_error;
use crate::db::in_write;
use crate::db::{Backend, Exec, Row, Tx};
use crate::sql_store::*;
use anchora_core::dedupe::merge::{BatchWrite, MergeEntry, RecordBatch};
use anchora_core::dedupe::store::DuplicateStore;
use anchora_core::dedupe::{PairStatus, StoredPair};
use anchora_core::error::Result;
use anchora_core::store::WriteCtx;
use anchora_core::{RecordId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let real = match backend {
        Backend::Sqlite => "REAL",
        Backend::Postgres => "DOUBLE PRECISION",
    };
    vec![
        format!(
            "CREATE TABLE duplicate_pairs (object TEXT NOT NULL, a {uuid} NOT NULL, b {uuid} NOT NULL, score {real} NOT NULL, \
             reasons TEXT NOT NULL, status TEXT NOT NULL, found_at {ts} NOT NULL, decided_by {uuid}, decided_at {ts}, \
             PRIMARY KEY (object, a, b))"
        ),
        "CREATE INDEX ix_duplicate_pairs_queue ON duplicate_pairs (object, status, score)".to_string(),
        "CREATE TABLE workspace_settings (key TEXT PRIMARY KEY, body TEXT NOT NULL)".to_string(),
        format!(
            "CREATE TABLE quality_daily (day TEXT NOT NULL, object TEXT NOT NULL, scope TEXT NOT NULL, key TEXT NOT NULL, \
             records BIGINT NOT NULL, completeness {real} NOT NULL, score {real} NOT NULL, invalid BIGINT NOT NULL, \
             stale BIGINT NOT NULL, duplicates BIGINT NOT NULL, PRIMARY KEY (object, scope, key, day))"
        ),
        format!(
            "CREATE TABLE merges (id {uuid} PRIMARY KEY, object TEXT NOT NULL, body TEXT NOT NULL, at {ts} NOT NULL, \
             undone_at {ts})"
        ),
    ]
}

pub async fn reopen(
    exec: Exec<'_>,
    backend: Backend,
    object: &str,
    pair: (RecordId, RecordId),
) -> Result<(), sqlx::Error> {
    let stmt = Query::update()
        .table("duplicate_pairs")
        .value("status", PairStatus::Open.as_str())
        .value("decided_by", Expr::val(backend.uuid(None)))
        .value("decided_at", Expr::val(backend.datetime(None)))
        .and_where(Expr::col("object").eq(object.to_string()))
        .and_where(Expr::col("a").eq(backend.uuid(Some(pair.0.0))))
        .and_where(Expr::col("b").eq(backend.uuid(Some(pair.1.0))))
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

/// The record writes of a merge (or its undo), and its journal entry, in `tx`.
pub async fn write_records(
    tx: &mut Tx,
    backend: Backend,
    batch: &RecordBatch,
    ctx: WriteCtx,
) -> Result<BatchWrite, sqlx::Error> {
    // Into the trash first, so the values it held are free for the records that stay; then
    // the updates that point at nothing coming back; then out of the trash (what is pointed
    // back at it must be live, and the record that took its values has given them back); then
    // the updates that point at what came back.
    let restored: Vec<RecordId> = batch.trash.iter().filter(|t| !t.3).map(|t| t.1).collect();
    let points_back = |input: &anchora_core::record::RecordInput| {
        input
            .values
            .values()
            .any(|v| matches!(v, anchora_core::value::Value::Relation(id) if restored.contains(id)))
            || input
                .links
                .as_ref()
                .is_some_and(|ls| ls.iter().any(|l| restored.contains(&l.id)))
    };
    for (object, id, version, deleted) in batch.trash.iter().filter(|t| t.3) {
        if let Some(stop) = trash_step(tx, backend, object, *id, *deleted, *version, ctx).await? {
            return Ok(stop);
        }
    }
    for (object, id, version, input) in batch.updates.iter().filter(|u| !points_back(&u.3)) {
        if let Some(stop) = update_step(tx, backend, object, *id, *version, input, ctx).await? {
            return Ok(stop);
        }
    }
    for (object, id, version, deleted) in batch.trash.iter().filter(|t| !t.3) {
        if let Some(stop) = trash_step(tx, backend, object, *id, *deleted, *version, ctx).await? {
            return Ok(stop);
        }
    }
    for (object, id, version, input) in batch.updates.iter().filter(|u| points_back(&u.3)) {
        if let Some(stop) = update_step(tx, backend, object, *id, *version, input, ctx).await? {
            return Ok(stop);
        }
    }
    if let Some(entry) = &batch.merge {
        let body = serde_json::to_string(entry).map_err(bad)?;
        let stmt = Query::insert()
            .into_table("merges")
            .columns(["id", "object", "body", "at", "undone_at"])
            .values_panic([
                Expr::val(backend.uuid(Some(entry.id))),
                entry.object.clone().into(),
                body.into(),
                Expr::val(backend.datetime(Some(entry.at))),
                Expr::val(backend.datetime(None)),
            ])
            .to_owned();
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    if let Some(id) = batch.undo {
        let stmt = Query::update()
            .table("merges")
            .value("undone_at", Expr::val(backend.datetime(Some(ctx.now))))
            .and_where(Expr::col("id").eq(backend.uuid(Some(id))))
            .and_where(Expr::col("undone_at").is_null())
            .to_owned();
        if tx.exec().execute(backend.build(&stmt)).await? != 1 {
            return Ok(BatchWrite::Stale(RecordId(id)));
        }
    }
    Ok(BatchWrite::Written)
}

/// Why a batch stops at one record, if it does.
fn stop(id: RecordId, updated: crate::records::Updated) -> Option<BatchWrite> {
    match updated {
        crate::records::Updated::Done(_) => None,
        crate::records::Updated::Taken(t) => Some(BatchWrite::Taken {
            id,
            field: t.field,
            holder: t.holder,
        }),
        _ => Some(BatchWrite::Stale(id)),
    }
}

async fn trash_step(
    tx: &mut Tx,
    backend: Backend,
    object: &anchora_core::meta::ObjectDef,
    id: RecordId,
    deleted: bool,
    version: i64,
    ctx: WriteCtx,
) -> Result<Option<BatchWrite>, sqlx::Error> {
    let updated = crate::records::set_deleted(tx, backend, object, id, deleted, Some(version), ctx).await?;
    Ok(stop(id, updated))
}

async fn update_step(
    tx: &mut Tx,
    backend: Backend,
    object: &anchora_core::meta::ObjectDef,
    id: RecordId,
    version: i64,
    input: &anchora_core::record::RecordInput,
    ctx: WriteCtx,
) -> Result<Option<BatchWrite>, sqlx::Error> {
    Ok(
        match crate::records::update(tx, backend, object, id, version, input, ctx).await? {
            Ok(updated) => stop(id, updated),
            Err(_) => Some(BatchWrite::Stale(id)),
        },
    )
}

pub async fn merge_entry(exec: Exec<'_>, backend: Backend, id: uuid::Uuid) -> Result<Option<MergeEntry>, sqlx::Error> {
    let stmt = Query::select()
        .columns(["body", "undone_at"])
        .from("merges")
        .and_where(Expr::col("id").eq(backend.uuid(Some(id))))
        .to_owned();
    let Some(row) = exec.fetch_optional(backend.build(&stmt)).await? else {
        return Ok(None);
    };
    let mut entry: MergeEntry = serde_json::from_str(&row.string(0)?).map_err(bad)?;
    entry.undone_at = row.opt_datetime(1)?;
    Ok(Some(entry))
}

const COLUMNS: [&str; 9] = [
    "object",
    "a",
    "b",
    "score",
    "reasons",
    "status",
    "found_at",
    "decided_by",
    "decided_at",
];

pub(crate) fn bad(e: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: "duplicate_pairs".into(),
        source: e.to_string().into(),
    }
}

fn decode(r: &Row) -> Result<StoredPair, sqlx::Error> {
    Ok(StoredPair {
        object: r.string(0)?,
        a: RecordId(r.uuid(1)?),
        b: RecordId(r.uuid(2)?),
        score: r.opt_f64(3)?.unwrap_or_default(),
        reasons: serde_json::from_str(&r.string(4)?).map_err(bad)?,
        status: PairStatus::parse(&r.string(5)?).ok_or_else(|| bad("unknown status"))?,
        found_at: r.datetime(6)?,
        decided_by: r.opt_uuid(7)?.map(UserId),
        decided_at: r.opt_datetime(8)?,
    })
}

/// Replace the object's open pairs with a scan's; pairs decided before are left as decided.
pub async fn replace_open(
    tx: &mut Tx,
    backend: Backend,
    object: &str,
    pairs: &[StoredPair],
) -> Result<u64, sqlx::Error> {
    let delete = Query::delete()
        .from_table("duplicate_pairs")
        .and_where(Expr::col("object").eq(object.to_string()))
        .and_where(Expr::col("status").eq(PairStatus::Open.as_str()))
        .to_owned();
    tx.exec().execute(backend.build(&delete)).await?;
    let mut inserted = 0;
    for chunk in pairs.chunks(1000) {
        let mut stmt = Query::insert()
            .into_table("duplicate_pairs")
            .columns(COLUMNS)
            .on_conflict(OnConflict::columns(["object", "a", "b"]).do_nothing().to_owned())
            .to_owned();
        for p in chunk {
            let reasons = serde_json::to_string(&p.reasons).map_err(bad)?;
            stmt.values_panic([
                p.object.clone().into(),
                Expr::val(backend.uuid(Some(p.a.0))),
                Expr::val(backend.uuid(Some(p.b.0))),
                p.score.into(),
                reasons.into(),
                p.status.as_str().into(),
                Expr::val(backend.datetime(Some(p.found_at))),
                Expr::val(backend.uuid(p.decided_by.map(|u| u.0))),
                Expr::val(backend.datetime(p.decided_at)),
            ]);
        }
        inserted += tx.exec().execute(backend.build(&stmt)).await?;
    }
    Ok(inserted)
}

pub async fn list(
    exec: Exec<'_>,
    backend: Backend,
    object: &str,
    status: PairStatus,
    limit: u32,
) -> Result<Vec<StoredPair>, sqlx::Error> {
    let stmt = Query::select()
        .columns(COLUMNS)
        .from("duplicate_pairs")
        .and_where(Expr::col("object").eq(object.to_string()))
        .and_where(Expr::col("status").eq(status.as_str()))
        .order_by("score", Order::Desc)
        .order_by("a", Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    exec.fetch_all(backend.build(&stmt)).await?.iter().map(decode).collect()
}

pub async fn decide(
    exec: Exec<'_>,
    backend: Backend,
    object: &str,
    pair: (RecordId, RecordId),
    status: PairStatus,
    by: UserId,
    at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let stmt = Query::update()
        .table("duplicate_pairs")
        .value("status", status.as_str())
        .value("decided_by", Expr::val(backend.uuid(Some(by.0))))
        .value("decided_at", Expr::val(backend.datetime(Some(at))))
        .and_where(Expr::col("object").eq(object.to_string()))
        .and_where(Expr::col("a").eq(backend.uuid(Some(pair.0.0))))
        .and_where(Expr::col("b").eq(backend.uuid(Some(pair.1.0))))
        .and_where(Expr::col("status").eq(PairStatus::Open.as_str()))
        .to_owned();
    Ok(exec.execute(backend.build(&stmt)).await? == 1)
}

#[async_trait]
impl DuplicateStore for SqlStore {
    async fn save_duplicate_scan(&self, object: &str, pairs: &[StoredPair]) -> Result<u64> {
        in_write!(self.pool, |tx| {
            replace_open(tx, self.backend_kind(), object, pairs)
                .await
                .map_err(db_error)
        })
    }

    async fn duplicate_pairs(&self, object: &str, status: PairStatus, limit: u32) -> Result<Vec<StoredPair>> {
        list(self.pool.exec(), self.backend_kind(), object, status, limit)
            .await
            .map_err(db_error)
    }

    async fn decide_duplicate(
        &self,
        object: &str,
        pair: (RecordId, RecordId),
        status: PairStatus,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        decide(self.pool.exec(), self.backend_kind(), object, pair, status, by, at)
            .await
            .map_err(db_error)
    }

    async fn reopen_duplicate(&self, object: &str, pair: (RecordId, RecordId)) -> Result<()> {
        reopen(self.pool.exec(), self.backend_kind(), object, pair)
            .await
            .map_err(db_error)
    }

    async fn write_records(
        &self,
        batch: &anchora_core::dedupe::merge::RecordBatch,
        ctx: WriteCtx,
    ) -> Result<anchora_core::dedupe::merge::BatchWrite> {
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let outcome = write_records(&mut tx, self.backend_kind(), batch, ctx)
            .await
            .map_err(db_error)?;
        if outcome == anchora_core::dedupe::merge::BatchWrite::Written {
            tx.commit().await.map_err(db_error)?;
        }
        Ok(outcome)
    }

    async fn merge_entry(&self, id: uuid::Uuid) -> Result<Option<anchora_core::dedupe::merge::MergeEntry>> {
        merge_entry(self.pool.exec(), self.backend_kind(), id)
            .await
            .map_err(db_error)
    }
}
