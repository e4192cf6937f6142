//! Data-quality figures kept per day, object, scope (overall, owner, team) and key.

use crate::db::Backend;
use crate::db::Tx;
use crate::db::db_error;
use crate::db::in_write;
use crate::sql_store::*;
use anchora_core::error::Result;
use anchora_core::quality::QualityStore;
use async_trait::async_trait;
use sea_query::Expr;
use sea_query::ExprTrait;

use crate::db::{Exec, Row};
use sea_query::{Order, Query};

use anchora_core::quality::{QualityDay, Summary};

fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A kept day's columns, in the order rows are written and read.
const DAY_COLUMNS: [&str; 10] = [
    "day",
    "object",
    "scope",
    "key",
    "records",
    "completeness",
    "score",
    "invalid",
    "stale",
    "duplicates",
];

/// A day of quality figures (days are kept as `YYYY-MM-DD` text on both databases).
pub async fn save_quality_day(
    tx: &mut Tx,
    backend: Backend,
    object: &str,
    day: chrono::NaiveDate,
    rows: &[QualityDay],
) -> Result<(), sqlx::Error> {
    let day_text = day.format("%Y-%m-%d").to_string();
    let delete = Query::delete()
        .from_table("quality_daily")
        .and_where(Expr::col("object").eq(object.to_string()))
        .and_where(Expr::col("day").eq(day_text.clone()))
        .to_owned();
    tx.exec().execute(backend.build(&delete)).await?;
    for chunk in rows.chunks(500) {
        let mut stmt = Query::insert()
            .into_table("quality_daily")
            .columns(DAY_COLUMNS)
            .to_owned();
        for r in chunk {
            let s = &r.summary;
            stmt.values_panic([
                day_text.clone().into(),
                r.object.clone().into(),
                r.scope.clone().into(),
                r.key.clone().into(),
                big(s.records).into(),
                s.completeness.into(),
                s.score.into(),
                big(s.invalid).into(),
                big(s.stale).into(),
                big(s.duplicates).into(),
            ]);
        }
        tx.exec().execute(backend.build(&stmt)).await?;
    }
    Ok(())
}

pub async fn quality_days(
    exec: Exec<'_>,
    backend: Backend,
    object: &str,
    scope: &str,
    key: &str,
    since: chrono::NaiveDate,
) -> Result<Vec<QualityDay>, sqlx::Error> {
    let stmt = select_days(object)
        .and_where(Expr::col("scope").eq(scope.to_string()))
        .and_where(Expr::col("key").eq(key.to_string()))
        .and_where(Expr::col("day").gte(since.format("%Y-%m-%d").to_string()))
        .order_by("day", Order::Asc)
        .to_owned();
    read_days(exec, backend, &stmt).await
}

/// All rows of the newest day kept for an object.
pub async fn latest_quality_day(
    exec: Exec<'_>,
    backend: Backend,
    object: &str,
) -> Result<Vec<QualityDay>, sqlx::Error> {
    let newest = Query::select()
        .expr(Expr::col("day").max())
        .from("quality_daily")
        .and_where(Expr::col("object").eq(object.to_string()))
        .to_owned();
    let stmt = select_days(object)
        .and_where(Expr::col("day").in_subquery(newest))
        .order_by("scope", Order::Asc)
        .order_by("key", Order::Asc)
        .to_owned();
    read_days(exec, backend, &stmt).await
}

fn select_days(object: &str) -> sea_query::SelectStatement {
    Query::select()
        .columns(DAY_COLUMNS)
        .from("quality_daily")
        .and_where(Expr::col("object").eq(object.to_string()))
        .to_owned()
}

async fn read_days(
    exec: Exec<'_>,
    backend: Backend,
    stmt: &sea_query::SelectStatement,
) -> Result<Vec<QualityDay>, sqlx::Error> {
    let count = |r: &Row, i| r.i64(i).map(|n| u64::try_from(n).unwrap_or_default());
    exec.fetch_all(backend.build(stmt))
        .await?
        .iter()
        .map(|r| {
            Ok(QualityDay {
                day: chrono::NaiveDate::parse_from_str(&r.string(0)?, "%Y-%m-%d").map_err(crate::duplicates::bad)?,
                object: r.string(1)?,
                scope: r.string(2)?,
                key: r.string(3)?,
                summary: Summary {
                    records: count(r, 4)?,
                    completeness: r.opt_f64(5)?.unwrap_or_default(),
                    score: r.opt_f64(6)?.unwrap_or_default(),
                    invalid: count(r, 7)?,
                    stale: count(r, 8)?,
                    duplicates: count(r, 9)?,
                },
            })
        })
        .collect()
}

#[async_trait]
impl QualityStore for SqlStore {
    async fn save_quality_day(
        &self,
        object: &str,
        day: chrono::NaiveDate,
        rows: &[anchora_core::quality::QualityDay],
    ) -> Result<()> {
        in_write!(self.pool, |tx| {
            save_quality_day(tx, self.backend_kind(), object, day, rows)
                .await
                .map_err(db_error)
        })
    }

    async fn quality_days(
        &self,
        object: &str,
        scope: &str,
        key: &str,
        since: chrono::NaiveDate,
    ) -> Result<Vec<anchora_core::quality::QualityDay>> {
        quality_days(self.pool.exec(), self.backend_kind(), object, scope, key, since)
            .await
            .map_err(db_error)
    }

    async fn latest_quality_day(&self, object: &str) -> Result<Vec<anchora_core::quality::QualityDay>> {
        latest_quality_day(self.pool.exec(), self.backend_kind(), object)
            .await
            .map_err(db_error)
    }
}
