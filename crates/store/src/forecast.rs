//! The forecast's own tables (quotas, weekly snapshots) and its reading of the change log: the
//! stage of each creation and each change of stage, and how often a date was moved later.

use crate::db::{Backend, Row, db_error, in_write};
use crate::records::{OwnerPlan, owner_condition};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::forecast::{ForecastStore, Quota, SnapshotRow, StageChange};
use anchora_core::ids::{RecordId, TeamId, UserId};
use anchora_core::meta::ObjectDef;
use anchora_core::period::Bucket;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_query::{Alias, Expr, ExprTrait, JoinType, OnConflict, Order, Query, SelectStatement};
use std::collections::HashMap;

/// Migration 17: quotas and weekly forecast snapshots.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let date = crate::codec::column_type(backend, anchora_core::meta::FieldType::Date);
    vec![
        // `subject` is `user:<id>` or `team:<id>`: one quota per subject and period.
        format!(
            "CREATE TABLE quotas (id {uuid} PRIMARY KEY, subject TEXT NOT NULL, user_id {uuid}, team_id {uuid}, \
             bucket TEXT NOT NULL, period_start {date} NOT NULL, amount BIGINT NOT NULL, currency TEXT NOT NULL, \
             UNIQUE (subject, bucket, period_start))"
        ),
        // `owner_key` is the owner's id, or '' for deals without one.
        format!(
            "CREATE TABLE forecast_snapshots (taken_on {date} NOT NULL, bucket TEXT NOT NULL, period_start {date} NOT NULL, \
             owner_key TEXT NOT NULL, owner {uuid}, currency TEXT NOT NULL, closed DOUBLE PRECISION NOT NULL, \
             commit_amount DOUBLE PRECISION NOT NULL, best_case DOUBLE PRECISION NOT NULL, \
             pipeline DOUBLE PRECISION NOT NULL, weighted DOUBLE PRECISION NOT NULL, \
             PRIMARY KEY (taken_on, bucket, period_start, owner_key))"
        ),
        "CREATE INDEX ix_forecast_snapshots_period ON forecast_snapshots (bucket, period_start)".to_string(),
        // The stage history of one object read by its own rows: creations (no field) and changes
        // of one field, within a time window, without scanning every object's history.
        "CREATE INDEX ix_change_log_object_field_at ON change_log (object, field, at)".to_string(),
        // A week's snapshot is kept whole by the run that claims the week.
        format!(
            "CREATE TABLE forecast_snapshot_weeks (taken_on {date} NOT NULL, bucket TEXT NOT NULL, \
             PRIMARY KEY (taken_on, bucket))"
        ),
    ]
}

fn bucket_of(text: &str) -> Bucket {
    Bucket::parse(text).unwrap_or(Bucket::Quarter)
}

fn date_of(r: &Row, i: usize) -> std::result::Result<NaiveDate, sqlx::Error> {
    r.opt_date(i)?
        .ok_or_else(|| crate::db::bad_column("date", "unexpected NULL"))
}

/// The change log's rows of one object's live records, joined to them (for the owner).
fn history(backend: Backend, object: &ObjectDef, owners: Option<&[UserId]>, since: DateTime<Utc>) -> SelectStatement {
    let mut stmt = Query::select();
    stmt.from_as("change_log", Alias::new("c"))
        .join_as(
            JoinType::InnerJoin,
            Alias::new(object.table()),
            Alias::new("d"),
            Expr::col((Alias::new("d"), Alias::new("id"))).equals((Alias::new("c"), Alias::new("record_id"))),
        )
        .and_where(Expr::col((Alias::new("c"), Alias::new("object"))).eq(object.name.clone()))
        .and_where(Expr::col((Alias::new("c"), Alias::new("at"))).gte(backend.datetime(Some(since))))
        .and_where(Expr::col((Alias::new("d"), Alias::new("deleted_at"))).is_null())
        .order_by((Alias::new("c"), Alias::new("seq")), Order::Asc);
    if let Some(owners) = owners {
        // The change log has no owner column: `owner` is the record's.
        stmt.and_where(owner_condition(backend, owners, OwnerPlan::Index));
    }
    stmt
}

/// A change-log value (JSON text) as the text it holds: `"won"` → won.
fn json_text(backend: Backend, column: &str) -> Expr {
    match backend {
        Backend::Sqlite => Expr::cust(format!("json_extract({column}, '$')")),
        Backend::Postgres => Expr::cust(format!("(CAST({column} AS jsonb) #>> '{{}}')")),
    }
}

#[async_trait]
impl ForecastStore for SqlStore {
    async fn stage_changes(
        &self,
        object: &ObjectDef,
        field: &str,
        owners: Option<&[UserId]>,
        since: DateTime<Utc>,
    ) -> Result<Vec<StageChange>> {
        let backend = self.backend_kind();
        let mut stmt = history(backend, object, owners, since);
        stmt.expr(Expr::col((Alias::new("c"), Alias::new("record_id"))))
            .expr(Expr::col((Alias::new("d"), Alias::new("owner"))))
            .expr(Expr::col((Alias::new("d"), Alias::new("created_at"))))
            .expr(Expr::col((Alias::new("c"), Alias::new("at"))))
            .expr(json_text(backend, "c.old_value"))
            .expr(json_text(backend, "c.new_value"))
            .and_where(Expr::col((Alias::new("c"), Alias::new("field"))).eq(field.to_string()))
            .and_where(Expr::col((Alias::new("c"), Alias::new("op"))).eq("update"));
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(StageChange {
                record: RecordId(r.uuid(0)?),
                owner: r.opt_uuid(1)?.map(UserId),
                made_at: r.datetime(2)?,
                at: r.datetime(3)?,
                old: r.opt_string(4)?,
                new: r.opt_string(5)?,
            })
        })
        .await
    }

    async fn date_pushes(
        &self,
        object: &ObjectDef,
        field: &str,
        owners: Option<&[UserId]>,
        since: DateTime<Utc>,
    ) -> Result<Vec<(RecordId, i64)>> {
        let backend = self.backend_kind();
        let mut stmt = history(backend, object, owners, since);
        stmt.expr(Expr::col((Alias::new("c"), Alias::new("record_id"))))
            .expr(json_text(backend, "c.old_value"))
            .expr(json_text(backend, "c.new_value"))
            .and_where(Expr::col((Alias::new("c"), Alias::new("field"))).eq(field.to_string()))
            .and_where(Expr::col((Alias::new("c"), Alias::new("op"))).eq("update"));
        let rows = self
            .pool()
            .exec()
            .fetch_all(backend.build(&stmt))
            .await
            .map_err(db_error)?;
        let mut pushes: HashMap<RecordId, i64> = HashMap::new();
        for r in &rows {
            let id = RecordId(r.uuid(0).map_err(db_error)?);
            let old = r.opt_string(1).map_err(db_error)?;
            let new = r.opt_string(2).map_err(db_error)?;
            // ISO dates compare as text; a date set where there was none is no push.
            if let (Some(old), Some(new)) = (old, new)
                && new > old
            {
                *pushes.entry(id).or_default() += 1;
            }
        }
        Ok(pushes.into_iter().collect())
    }

    async fn put_quota(&self, q: &Quota) -> Result<()> {
        let backend = self.backend_kind();
        let subject = match (q.user, q.team) {
            (Some(u), _) => format!("user:{u}"),
            (None, Some(t)) => format!("team:{t}"),
            (None, None) => "none".to_string(),
        };
        let stmt = Query::insert()
            .into_table("quotas")
            .columns([
                "id",
                "subject",
                "user_id",
                "team_id",
                "bucket",
                "period_start",
                "amount",
                "currency",
            ])
            .values_panic([
                Expr::val(backend.uuid(Some(q.id.0))),
                subject.into(),
                Expr::val(backend.uuid(q.user.map(|u| u.0))),
                Expr::val(backend.uuid(q.team.map(|t| t.0))),
                q.bucket.as_str().into(),
                Expr::val(backend.date(Some(q.period_start))),
                q.amount.into(),
                q.currency.clone().into(),
            ])
            .on_conflict(
                OnConflict::columns(["subject", "bucket", "period_start"])
                    .update_columns(["amount", "currency"])
                    .to_owned(),
            )
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec()
                .execute(backend.build(&stmt))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }

    async fn quotas(&self, bucket: Bucket, from: NaiveDate, to: NaiveDate) -> Result<Vec<Quota>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns([
                "id",
                "user_id",
                "team_id",
                "bucket",
                "period_start",
                "amount",
                "currency",
            ])
            .from("quotas")
            .and_where(Expr::col("bucket").eq(bucket.as_str()))
            .and_where(Expr::col("period_start").gte(backend.date(Some(from))))
            .and_where(Expr::col("period_start").lt(backend.date(Some(to))))
            .order_by("period_start", Order::Asc)
            .order_by("id", Order::Asc)
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(Quota {
                id: RecordId(r.uuid(0)?),
                user: r.opt_uuid(1)?.map(UserId),
                team: r.opt_uuid(2)?.map(TeamId),
                bucket: bucket_of(&r.string(3)?),
                period_start: date_of(r, 4)?,
                amount: r.i64(5)?,
                currency: r.string(6)?,
            })
        })
        .await
    }

    async fn delete_quota(&self, id: RecordId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("quotas")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }

    async fn keep_snapshot(&self, rows: &[SnapshotRow]) -> Result<u64> {
        let Some(first) = rows.first() else {
            return Ok(0);
        };
        let backend = self.backend_kind();
        let claim = Query::insert()
            .into_table("forecast_snapshot_weeks")
            .columns(["taken_on", "bucket"])
            .values_panic([
                Expr::val(backend.date(Some(first.taken_on))),
                first.bucket.as_str().into(),
            ])
            .on_conflict(OnConflict::columns(["taken_on", "bucket"]).do_nothing().to_owned())
            .to_owned();
        let inserts: Vec<_> = rows
            .chunks(500)
            .map(|chunk| {
                let mut stmt = Query::insert();
                stmt.into_table("forecast_snapshots").columns([
                    "taken_on",
                    "bucket",
                    "period_start",
                    "owner_key",
                    "owner",
                    "currency",
                    "closed",
                    "commit_amount",
                    "best_case",
                    "pipeline",
                    "weighted",
                ]);
                for s in chunk {
                    stmt.values_panic([
                        Expr::val(backend.date(Some(s.taken_on))),
                        s.bucket.as_str().into(),
                        Expr::val(backend.date(Some(s.period_start))),
                        s.owner.map(|o| o.to_string()).unwrap_or_default().into(),
                        Expr::val(backend.uuid(s.owner.map(|o| o.0))),
                        s.currency.clone().into(),
                        s.closed.into(),
                        s.commit.into(),
                        s.best_case.into(),
                        s.pipeline.into(),
                        s.weighted.into(),
                    ]);
                }
                backend.build(&stmt)
            })
            .collect();
        // The week is claimed and all its rows written in one transaction: the first run of a
        // week keeps the whole snapshot, a later one adds nothing to it.
        in_write!(self.pool(), |tx| {
            if tx.exec().execute(backend.build(&claim)).await.map_err(db_error)? == 0 {
                return Ok(0);
            }
            let mut total = 0;
            for sql in inserts {
                total += tx.exec().execute(sql).await.map_err(db_error)?;
            }
            Ok(total)
        })
    }

    async fn snapshots(&self, bucket: Bucket, from: NaiveDate, to: NaiveDate) -> Result<Vec<SnapshotRow>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns([
                "taken_on",
                "period_start",
                "owner",
                "currency",
                "closed",
                "commit_amount",
                "best_case",
                "pipeline",
                "weighted",
            ])
            .from("forecast_snapshots")
            .and_where(Expr::col("bucket").eq(bucket.as_str()))
            .and_where(Expr::col("period_start").gte(backend.date(Some(from))))
            .and_where(Expr::col("period_start").lt(backend.date(Some(to))))
            .order_by("period_start", Order::Asc)
            .order_by("taken_on", Order::Asc)
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(SnapshotRow {
                taken_on: date_of(r, 0)?,
                bucket,
                period_start: date_of(r, 1)?,
                owner: r.opt_uuid(2)?.map(UserId),
                currency: r.string(3)?,
                closed: r.opt_f64(4)?.unwrap_or(0.0),
                commit: r.opt_f64(5)?.unwrap_or(0.0),
                best_case: r.opt_f64(6)?.unwrap_or(0.0),
                pipeline: r.opt_f64(7)?.unwrap_or(0.0),
                weighted: r.opt_f64(8)?.unwrap_or(0.0),
            })
        })
        .await
    }
}
