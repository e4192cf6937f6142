//! Reminders kept as sent, by key: the primary key makes "each goes once" hold even when two
//! workers reach the same reminder.

use crate::db::{Backend, Sql, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::store::ReminderStore;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, OnConflict, Query};
use std::collections::HashSet;

/// Part of migration 11.
pub fn tables(backend: Backend) -> Vec<String> {
    let ts = backend.datetime_type();
    vec![format!(
        "CREATE TABLE reminders_sent (key TEXT PRIMARY KEY, sent_at {ts} NOT NULL)"
    )]
}

#[async_trait]
impl ReminderStore for SqlStore {
    async fn reminded(&self, keys: &[String]) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in keys.chunks(500) {
            let stmt = Query::select()
                .column("key")
                .from("reminders_sent")
                .and_where(Expr::col("key").is_in(chunk.iter().cloned()))
                .to_owned();
            for row in self
                .pool()
                .exec()
                .fetch_all(self.backend_kind().build(&stmt))
                .await
                .map_err(db_error)?
            {
                out.insert(row.string(0).map_err(db_error)?);
            }
        }
        Ok(out)
    }

    async fn mark_reminded(&self, key: &str, at: DateTime<Utc>) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("reminders_sent")
            .columns(["key", "sent_at"])
            .values_panic([key.into(), Expr::val(backend.datetime(Some(at)))])
            .on_conflict(OnConflict::column("key").do_nothing().to_owned())
            .to_owned();
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }

    async fn unmark_reminded(&self, key: &str) -> Result<()> {
        let stmt = Query::delete()
            .from_table("reminders_sent")
            .and_where(Expr::col("key").eq(key))
            .to_owned();
        let sql: Sql = self.backend_kind().build(&stmt);
        in_write!(self.pool(), |tx| {
            tx.exec().execute(sql).await.map_err(db_error).map(|_| ())
        })
    }
}
