//! Records each user opened lately: one row per user and record (the newest visit), at most
//! [`KEPT_PER_USER`] per user, for the start page's "opened recently".

use crate::db::db_error;
use crate::db::in_write;
use crate::db::{Backend, Exec, Row, Tx};
use crate::sql_store::*;
use anchora_core::error::Result;
use anchora_core::record::VisitStore;
use anchora_core::{RecordId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Order, Query};

/// Visits kept per user: the start page shows ten; the rest covers records since deleted or
/// now out of sight.
pub const KEPT_PER_USER: u32 = 50;

/// Migration 10: the visits table.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    vec![
        format!(
            "CREATE TABLE record_visits (user_id {uuid} NOT NULL REFERENCES users(id), record_id {uuid} NOT NULL, \
             object TEXT NOT NULL, visited_at {ts} NOT NULL, PRIMARY KEY (user_id, record_id))"
        ),
        "CREATE INDEX ix_record_visits_recent ON record_visits (user_id, visited_at)".to_string(),
        "CREATE INDEX ix_record_visits_record ON record_visits (record_id)".to_string(),
    ]
}

/// Note that a user opened a record now, and forget their oldest visits beyond the kept number.
pub async fn note(
    tx: &mut Tx,
    backend: Backend,
    user: UserId,
    object: &str,
    record: RecordId,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let user_value = backend.uuid(Some(user.0));
    let upsert = Query::insert()
        .into_table("record_visits")
        .columns(["user_id", "record_id", "object", "visited_at"])
        .values_panic([
            Expr::val(user_value.clone()),
            Expr::val(backend.uuid(Some(record.0))),
            object.to_string().into(),
            Expr::val(backend.datetime(Some(at))),
        ])
        .on_conflict(
            OnConflict::columns(["user_id", "record_id"])
                .update_columns(["object", "visited_at"])
                .to_owned(),
        )
        .to_owned();
    tx.exec().execute(backend.build(&upsert)).await?;
    let newest = Query::select()
        .column("record_id")
        .from("record_visits")
        .and_where(Expr::col("user_id").eq(user_value.clone()))
        .order_by("visited_at", Order::Desc)
        .limit(u64::from(KEPT_PER_USER))
        .to_owned();
    let forget = Query::delete()
        .from_table("record_visits")
        .and_where(Expr::col("user_id").eq(user_value))
        .and_where(Expr::col("record_id").not_in_subquery(newest))
        .to_owned();
    tx.exec().execute(backend.build(&forget)).await?;
    Ok(())
}

/// A user's visits, the newest first: (object, record, when).
pub async fn recent(
    exec: Exec<'_>,
    backend: Backend,
    user: UserId,
    limit: u32,
) -> Result<Vec<(String, RecordId, DateTime<Utc>)>, sqlx::Error> {
    let stmt = Query::select()
        .columns(["object", "record_id", "visited_at"])
        .from("record_visits")
        .and_where(Expr::col("user_id").eq(backend.uuid(Some(user.0))))
        .order_by("visited_at", Order::Desc)
        .limit(u64::from(limit))
        .to_owned();
    exec.fetch_all(backend.build(&stmt))
        .await?
        .iter()
        .map(|r: &Row| Ok((r.string(0)?, RecordId(r.uuid(1)?), r.datetime(2)?)))
        .collect()
}

/// Forget every visit of an erased record.
pub async fn forget_record(tx: &mut Tx, backend: Backend, record: RecordId) -> Result<(), sqlx::Error> {
    let stmt = Query::delete()
        .from_table("record_visits")
        .and_where(Expr::col("record_id").eq(backend.uuid(Some(record.0))))
        .to_owned();
    tx.exec().execute(backend.build(&stmt)).await.map(|_| ())
}

#[async_trait]
impl VisitStore for SqlStore {
    async fn note_visit(&self, user: UserId, object: &str, record: RecordId, at: DateTime<Utc>) -> Result<()> {
        in_write!(self.pool, |tx| {
            note(tx, self.backend_kind(), user, object, record, at)
                .await
                .map_err(db_error)
        })
    }

    async fn recent_visits(&self, user: UserId, limit: u32) -> Result<Vec<(String, RecordId, DateTime<Utc>)>> {
        recent(self.pool.exec(), self.backend_kind(), user, limit)
            .await
            .map_err(db_error)
    }
}
