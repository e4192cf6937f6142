//! Usage per user and day, counted in SQL from the change log and the audit log (so two years
//! of history are a few grouped scans, not a walk through every row in Rust), and the teams'
//! leads.

use crate::db::{Backend, Row, Sql, db_error, in_write};
use crate::sql_store::SqlStore;
use anchora_core::adoption::{
    ActiveWeek, AdoptionStore, Audience, Expectation, ExpectationStore, Expected, LastDays, Metric, SupportPlan,
    UsageDay, UsageSpan, UsageWeek,
};
use anchora_core::error::Result;
use anchora_core::ids::{RecordId, TeamId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_query::{Alias, Expr, ExprTrait, JoinType, OnConflict, Order, Query, SelectStatement};

/// Migration 19: the daily usage figures and the teams' leads.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let date = crate::codec::column_type(backend, anchora_core::meta::FieldType::Date);
    let ts = backend.datetime_type();
    vec![
        // `object` is '' for a metric of no object (sign-ins).
        format!(
            "CREATE TABLE usage_days (user_id {uuid} NOT NULL, day {date} NOT NULL, metric TEXT NOT NULL, \
             object TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (user_id, day, metric, object))"
        ),
        "CREATE INDEX ix_usage_days_day ON usage_days (day)".to_string(),
        format!(
            "CREATE TABLE team_leads (team_id {uuid} PRIMARY KEY REFERENCES teams(id), \
             user_id {uuid} NOT NULL REFERENCES users(id))"
        ),
        format!(
            "CREATE TABLE support_plans (task_id {uuid} PRIMARY KEY, user_id {uuid} NOT NULL REFERENCES users(id), \
             planned_by {uuid} NOT NULL REFERENCES users(id), planned_at {ts} NOT NULL)"
        ),
        "CREATE INDEX ix_support_plans_at ON support_plans (planned_at)".to_string(),
        // Sign-ins are read by kind and time when usage is counted.
        "CREATE INDEX ix_audit_log_kind_at ON audit_log (kind, at)".to_string(),
    ]
}

/// Migration 21: expectations from management, one per audience (`role:<role>` or
/// `team:<id>`) and figure; each user's last sign-in found by index.
pub fn expectation_tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    vec![
        format!(
            "CREATE TABLE expectations (id {uuid} PRIMARY KEY, audience TEXT NOT NULL, metric TEXT NOT NULL, \
             per_week BIGINT NOT NULL, set_by {uuid} NOT NULL REFERENCES users(id), set_at {ts} NOT NULL, \
             UNIQUE (audience, metric))"
        ),
        // Each user's last sign-in is one lookup (the adoption page asks it of everyone).
        "CREATE INDEX ix_usage_days_user_metric ON usage_days (user_id, metric, day)".to_string(),
    ]
}

/// One metric's daily counts per actor, from the change log between two instants.
fn from_changes(
    backend: Backend,
    span: &UsageSpan,
    offsets: &[(DateTime<Utc>, i32)],
    metric: Metric,
) -> Option<SelectStatement> {
    let mut stmt = Query::select();
    stmt.from("change_log")
        .expr(Expr::col("actor"))
        .expr(crate::reports::local_day(backend, "at", offsets))
        .expr(Expr::cust(format!("'{}'", metric.as_str())));
    let distinct_records = Expr::cust("COUNT(DISTINCT record_id)");
    match metric {
        Metric::Created => {
            stmt.expr(Expr::col("object"))
                .expr(Expr::cust("COUNT(*)"))
                .and_where(Expr::col("op").eq("create"));
        }
        Metric::Updated => {
            stmt.expr(Expr::col("object"))
                .expr(distinct_records)
                .and_where(Expr::col("op").eq("update"));
        }
        Metric::Completed => {
            stmt.expr(Expr::cust("'activity'"))
                .expr(distinct_records)
                .and_where(Expr::col("op").eq("update"))
                .and_where(Expr::col("object").eq("activity"))
                .and_where(Expr::col("field").eq("done"))
                .and_where(Expr::col("new_value").eq("true"));
        }
        Metric::Moved => {
            stmt.expr(Expr::cust("'deal'"))
                .expr(distinct_records)
                .and_where(Expr::col("op").eq("update"))
                .and_where(Expr::col("object").eq("deal"))
                .and_where(Expr::col("field").eq("stage"));
        }
        // Sign-ins are in the audit log ([`sign_ins`]).
        Metric::SignIn => return None,
    }
    stmt.and_where(Expr::col("actor").is_not_null())
        .and_where(Expr::col("at").gte(backend.datetime(Some(span.from))))
        .and_where(Expr::col("at").lt(backend.datetime(Some(span.to))))
        .add_group_by([Expr::cust("1"), Expr::cust("2"), Expr::cust("4")]);
    Some(stmt)
}

/// Successful sign-ins per user and local day.
fn sign_ins(backend: Backend, span: &UsageSpan, offsets: &[(DateTime<Utc>, i32)]) -> SelectStatement {
    Query::select()
        .from("audit_log")
        .expr(Expr::col("actor"))
        .expr(crate::reports::local_day(backend, "at", offsets))
        .expr(Expr::cust(format!("'{}'", Metric::SignIn.as_str())))
        .expr(Expr::cust("''"))
        .expr(Expr::cust("COUNT(*)"))
        .and_where(Expr::col("kind").eq("login_succeeded"))
        .and_where(Expr::col("actor").is_not_null())
        .and_where(Expr::col("at").gte(backend.datetime(Some(span.from))))
        .and_where(Expr::col("at").lt(backend.datetime(Some(span.to))))
        .add_group_by([Expr::cust("1"), Expr::cust("2")])
        .to_owned()
}

/// Whole days since a first day, counted in SQL (a literal: a date carries nothing to inject).
fn week_of(backend: Backend, first: NaiveDate) -> Expr {
    let first = first.format("%Y-%m-%d");
    Expr::cust(match backend {
        Backend::Sqlite => format!("CAST((julianday(day) - julianday('{first}')) / 7 AS INTEGER)"),
        Backend::Postgres => format!("CAST((day - DATE '{first}') / 7 AS BIGINT)"),
    })
}

fn days_between(backend: Backend, stmt: &mut SelectStatement, first: NaiveDate, last: NaiveDate) {
    stmt.and_where(Expr::col("day").gte(backend.date(Some(first))))
        .and_where(Expr::col("day").lte(backend.date(Some(last))));
}

fn user_of(r: &Row, i: usize) -> std::result::Result<UserId, sqlx::Error> {
    Ok(UserId(r.uuid(i)?))
}

fn metric_of(r: &Row, i: usize) -> std::result::Result<Metric, sqlx::Error> {
    let text = r.string(i)?;
    Metric::parse(&text).ok_or_else(|| crate::db::bad_column("metric", "unknown metric"))
}

#[async_trait]
impl AdoptionStore for SqlStore {
    async fn first_usage_at(&self) -> Result<Option<DateTime<Utc>>> {
        let mut first: Option<DateTime<Utc>> = None;
        for table in ["change_log", "audit_log"] {
            let stmt = Query::select().expr(Expr::cust("MIN(at)")).from(table).to_owned();
            let at = self
                .fetch_decoded(self.backend_kind().build(&stmt), |r| r.opt_datetime(0))
                .await?
                .into_iter()
                .flatten()
                .next();
            first = match (first, at) {
                (Some(a), Some(b)) => Some(Ord::min(a, b)),
                (a, b) => a.or(b),
            };
        }
        Ok(first)
    }

    async fn measure_usage(&self, span: &UsageSpan, offsets: &[(DateTime<Utc>, i32)]) -> Result<u64> {
        let backend = self.backend_kind();
        let delete = Query::delete()
            .from_table("usage_days")
            .and_where(Expr::col("day").gte(backend.date(Some(span.first))))
            .and_where(Expr::col("day").lte(backend.date(Some(span.last))))
            .to_owned();
        let mut selects = vec![sign_ins(backend, span, offsets)];
        selects.extend(
            [Metric::Created, Metric::Updated, Metric::Completed, Metric::Moved]
                .into_iter()
                .filter_map(|m| from_changes(backend, span, offsets, m)),
        );
        in_write!(self.pool(), |tx| {
            tx.exec().execute(backend.build(&delete)).await.map_err(db_error)?;
            let mut kept = 0;
            for select in &selects {
                // Two countings at once (the hourly run and "count now") each delete the days
                // first; the second's rows then replace the first's instead of colliding.
                let insert = Query::insert()
                    .into_table("usage_days")
                    .columns(["user_id", "day", "metric", "object", "n"])
                    .select_from(select.clone())
                    .map_err(|e| db_error(sqlx::Error::Protocol(e.to_string())))?
                    .on_conflict(
                        OnConflict::columns(["user_id", "day", "metric", "object"])
                            .update_column("n")
                            .to_owned(),
                    )
                    .to_owned();
                kept += tx.exec().execute(backend.build(&insert)).await.map_err(db_error)?;
            }
            Ok(kept)
        })
    }

    async fn forget_usage_before(&self, day: NaiveDate) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("usage_days")
            .and_where(Expr::col("day").lt(backend.date(Some(day))))
            .to_owned();
        self.write_one(backend.build(&stmt)).await.map(|_| ())
    }

    async fn put_usage_days(&self, rows: &[UsageDay]) -> Result<()> {
        let backend = self.backend_kind();
        let statements: Vec<Sql> = rows
            .chunks(500)
            .map(|chunk| {
                let mut stmt = Query::insert();
                stmt.into_table("usage_days")
                    .columns(["user_id", "day", "metric", "object", "n"]);
                for d in chunk {
                    stmt.values_panic([
                        backend.uuid(Some(d.user.0)).into(),
                        backend.date(Some(d.day)).into(),
                        d.metric.as_str().into(),
                        d.object.clone().into(),
                        d.n.into(),
                    ]);
                }
                stmt.on_conflict(
                    OnConflict::columns(["user_id", "day", "metric", "object"])
                        .update_column("n")
                        .to_owned(),
                );
                backend.build(&stmt)
            })
            .collect();
        in_write!(self.pool(), |tx| {
            for sql in statements {
                tx.exec().execute(sql).await.map_err(db_error)?;
            }
            Ok(())
        })
    }

    async fn usage_weeks(&self, first: NaiveDate, last: NaiveDate) -> Result<(Vec<UsageWeek>, Vec<ActiveWeek>)> {
        let backend = self.backend_kind();
        let mut sums = Query::select();
        sums.from("usage_days")
            .column("user_id")
            .expr(week_of(backend, first))
            .columns(["metric", "object"])
            // PostgreSQL sums BIGINTs as NUMERIC.
            .expr(Expr::cust("CAST(SUM(n) AS BIGINT)"))
            .add_group_by([Expr::cust("1"), Expr::cust("2"), Expr::cust("3"), Expr::cust("4")]);
        days_between(backend, &mut sums, first, last);
        let sums = self
            .fetch_decoded(backend.build(&sums), |r| {
                Ok(UsageWeek {
                    user: user_of(r, 0)?,
                    week: r.i64(1)?,
                    metric: metric_of(r, 2)?,
                    object: r.string(3)?,
                    n: r.i64(4)?,
                })
            })
            .await?;
        let mut active = Query::select();
        active
            .from("usage_days")
            .column("user_id")
            .expr(week_of(backend, first))
            .expr(Expr::cust("COUNT(DISTINCT day)"))
            .add_group_by([Expr::cust("1"), Expr::cust("2")]);
        days_between(backend, &mut active, first, last);
        let active = self
            .fetch_decoded(backend.build(&active), |r| {
                Ok(ActiveWeek {
                    user: user_of(r, 0)?,
                    week: r.i64(1)?,
                    days: r.i64(2)?,
                })
            })
            .await?;
        Ok((sums, active))
    }

    async fn last_days(&self) -> Result<Vec<LastDays>> {
        // Per user, two lookups: the last sign-in by the (user, metric, day) index, the last
        // day at the end of their rows in the primary key; the history is not scanned.
        let sign_in = Metric::SignIn.as_str();
        let sql = format!(
            "SELECT u.id, \
             (SELECT MAX(d.day) FROM usage_days d WHERE d.user_id = u.id AND d.metric = '{sign_in}'), \
             (SELECT MAX(d.day) FROM usage_days d WHERE d.user_id = u.id) \
             FROM users u"
        );
        self.fetch_decoded(Sql::plain(sql), |r| {
            Ok(LastDays {
                user: user_of(r, 0)?,
                signed_in: r.opt_date(1)?,
                active: r.opt_date(2)?,
            })
        })
        .await
    }

    async fn usage_days(&self, user: UserId, first: NaiveDate, last: NaiveDate) -> Result<Vec<UsageDay>> {
        let backend = self.backend_kind();
        let mut stmt = Query::select();
        stmt.from("usage_days")
            .columns(["user_id", "day", "metric", "object", "n"])
            .and_where(Expr::col("user_id").eq(backend.uuid(Some(user.0))))
            .order_by("day", Order::Asc)
            .order_by("metric", Order::Asc)
            .order_by("object", Order::Asc);
        days_between(backend, &mut stmt, first, last);
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(UsageDay {
                user: user_of(r, 0)?,
                day: r
                    .opt_date(1)?
                    .ok_or_else(|| crate::db::bad_column("day", "unexpected NULL"))?,
                metric: metric_of(r, 2)?,
                object: r.string(3)?,
                n: r.i64(4)?,
            })
        })
        .await
    }

    async fn pushed_deals(&self, since: DateTime<Utc>) -> Result<Vec<(UserId, i64)>> {
        let backend = self.backend_kind();
        let (c, d) = (Alias::new("c"), Alias::new("d"));
        // Dates are kept as JSON text ("2026-12-01"): later dates compare greater as text.
        let stmt = Query::select()
            .expr(Expr::col((d.clone(), Alias::new("owner"))))
            .expr(Expr::cust("COUNT(DISTINCT c.record_id)"))
            .from_as("change_log", c.clone())
            .join_as(
                JoinType::InnerJoin,
                Alias::new(anchora_core::meta::table_name("deal")),
                d.clone(),
                Expr::col((d.clone(), Alias::new("id"))).equals((c.clone(), Alias::new("record_id"))),
            )
            .and_where(Expr::col((c.clone(), Alias::new("object"))).eq("deal"))
            .and_where(Expr::col((c.clone(), Alias::new("field"))).eq("expected_close"))
            .and_where(Expr::col((c.clone(), Alias::new("op"))).eq("update"))
            .and_where(Expr::col((c.clone(), Alias::new("at"))).gte(backend.datetime(Some(since))))
            .and_where(Expr::cust(
                "c.old_value IS NOT NULL AND c.new_value IS NOT NULL AND c.new_value > c.old_value",
            ))
            .and_where(Expr::col((d.clone(), Alias::new("deleted_at"))).is_null())
            .and_where(Expr::col((d.clone(), Alias::new("owner"))).is_not_null())
            .group_by_col((d, Alias::new("owner")))
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| Ok((user_of(r, 0)?, r.i64(1)?)))
            .await
    }

    async fn team_leads(&self) -> Result<Vec<(TeamId, UserId)>> {
        let stmt = Query::select()
            .from("team_leads")
            .columns(["team_id", "user_id"])
            .to_owned();
        self.fetch_decoded(self.backend_kind().build(&stmt), |r| {
            Ok((TeamId(r.uuid(0)?), user_of(r, 1)?))
        })
        .await
    }

    async fn set_team_lead(&self, team: TeamId, lead: Option<UserId>) -> Result<()> {
        let backend = self.backend_kind();
        let sql: Sql = match lead {
            None => backend.build(
                &Query::delete()
                    .from_table("team_leads")
                    .and_where(Expr::col("team_id").eq(backend.uuid(Some(team.0))))
                    .to_owned(),
            ),
            Some(user) => backend.build(
                &Query::insert()
                    .into_table("team_leads")
                    .columns(["team_id", "user_id"])
                    .values_panic([backend.uuid(Some(team.0)).into(), backend.uuid(Some(user.0)).into()])
                    .on_conflict(OnConflict::column("team_id").update_column("user_id").to_owned())
                    .to_owned(),
            ),
        };
        self.write_one(sql).await.map(|_| ())
    }

    async fn keep_support_plan(&self, plan: &SupportPlan) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("support_plans")
            .columns(["task_id", "user_id", "planned_by", "planned_at"])
            .values_panic([
                backend.uuid(Some(plan.task.0)).into(),
                backend.uuid(Some(plan.user.0)).into(),
                backend.uuid(Some(plan.planned_by.0)).into(),
                backend.datetime(Some(plan.planned_at)).into(),
            ])
            .to_owned();
        self.write_one(backend.build(&stmt)).await.map(|_| ())
    }

    async fn support_plans(&self, since: DateTime<Utc>) -> Result<Vec<SupportPlan>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .from("support_plans")
            .columns(["task_id", "user_id", "planned_by", "planned_at"])
            .and_where(Expr::col("planned_at").gte(backend.datetime(Some(since))))
            .order_by("planned_at", Order::Asc)
            .to_owned();
        self.fetch_decoded(backend.build(&stmt), |r| {
            Ok(SupportPlan {
                task: RecordId(r.uuid(0)?),
                user: user_of(r, 1)?,
                planned_by: user_of(r, 2)?,
                planned_at: r.datetime(3)?,
            })
        })
        .await
    }
}

const EXPECTATION_COLUMNS: [&str; 6] = ["id", "audience", "metric", "per_week", "set_by", "set_at"];

#[async_trait]
impl ExpectationStore for SqlStore {
    async fn put_expectation(&self, e: &Expectation) -> Result<RecordId> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("expectations")
            .columns(EXPECTATION_COLUMNS)
            .values_panic([
                backend.uuid(Some(e.id.0)).into(),
                e.audience.key().into(),
                e.metric.as_str().into(),
                i64::from(e.per_week).into(),
                backend.uuid(Some(e.set_by.0)).into(),
                backend.datetime(Some(e.set_at)).into(),
            ])
            .on_conflict(
                OnConflict::columns(["audience", "metric"])
                    .update_columns(["per_week", "set_by", "set_at"])
                    .to_owned(),
            )
            .returning_col("id")
            .to_owned();
        in_write!(self.pool(), |tx| {
            let row = tx.exec().fetch_optional(backend.build(&stmt)).await.map_err(db_error)?;
            match row {
                Some(r) => Ok(RecordId(r.uuid(0).map_err(db_error)?)),
                None => Ok(e.id),
            }
        })
    }

    async fn expectations(&self) -> Result<Vec<Expectation>> {
        let stmt = Query::select()
            .from("expectations")
            .columns(EXPECTATION_COLUMNS)
            .order_by("audience", Order::Asc)
            .order_by("metric", Order::Asc)
            .to_owned();
        let rows = self
            .fetch_decoded(self.backend_kind().build(&stmt), |r| {
                Ok((
                    RecordId(r.uuid(0)?),
                    r.string(1)?,
                    r.string(2)?,
                    r.i64(3)?,
                    user_of(r, 4)?,
                    r.datetime(5)?,
                ))
            })
            .await?;
        // An audience or figure this version does not know (a role removed since) is left out.
        Ok(rows
            .into_iter()
            .filter_map(|(id, audience, metric, per_week, set_by, set_at)| {
                Some(Expectation {
                    id,
                    audience: Audience::parse_key(&audience)?,
                    metric: Expected::parse(&metric)?,
                    per_week: u32::try_from(per_week).ok()?,
                    set_by,
                    set_at,
                })
            })
            .collect())
    }

    async fn delete_expectation(&self, id: RecordId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("expectations")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        Ok(self.write_one(backend.build(&stmt)).await? == 1)
    }
}
