//! Reports: records counted and measured per group in one statement, and saved reports.
//!
//! A datetime is grouped by its local day with the zone's offsets as a nested `CASE` (a binary
//! search over the instants the offset changes), the same on both databases, so SQLite needs
//! no time-zone data and both agree to the minute.

use crate::codec::decode;
use crate::db::{Backend, Row, Sql, bad_column, db_error, in_write};
use crate::records::{OwnerPlan, condition, owner_condition};
use crate::sql_store::SqlStore;
use anchora_core::error::Result;
use anchora_core::ids::{ReportId, UserId};
use anchora_core::meta::{FieldType, ObjectDef, table_name};
use anchora_core::reports::{Cadence, GroupKey, ReportQuery, ReportRow, ReportStore, SavedReport, Subscription};
use anchora_core::value::Value;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_query::{Alias, Cond, Expr, ExprTrait, JoinType, Query};

/// Migration 15: saved reports.
pub fn tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let boolean = backend.bool_type();
    vec![format!(
        "CREATE TABLE reports (id {uuid} PRIMARY KEY, name TEXT NOT NULL, owner {uuid} NOT NULL, \
         shared {boolean} NOT NULL, spec TEXT NOT NULL, version BIGINT NOT NULL, created_at {ts} NOT NULL, \
         updated_at {ts} NOT NULL)"
    )]
}

const COLUMNS: [&str; 8] = [
    "id",
    "name",
    "owner",
    "shared",
    "spec",
    "version",
    "created_at",
    "updated_at",
];

fn decode_report(r: &Row) -> std::result::Result<SavedReport, sqlx::Error> {
    Ok(SavedReport {
        id: ReportId(r.uuid(0)?),
        name: r.string(1)?,
        owner: UserId(r.uuid(2)?),
        shared: r.bool(3)?,
        spec: serde_json::from_str(&r.string(4)?).map_err(|e| bad_column("spec", e))?,
        version: r.i64(5)?,
        created_at: r.datetime(6)?,
        updated_at: r.datetime(7)?,
    })
}

fn values(backend: Backend, r: &SavedReport) -> std::result::Result<Vec<Expr>, sqlx::Error> {
    let spec = serde_json::to_string(&r.spec).map_err(|e| bad_column("spec", e))?;
    Ok(vec![
        Expr::val(backend.uuid(Some(r.id.0))),
        r.name.clone().into(),
        Expr::val(backend.uuid(Some(r.owner.0))),
        r.shared.into(),
        spec.into(),
        r.version.into(),
        Expr::val(backend.datetime(Some(r.created_at))),
        Expr::val(backend.datetime(Some(r.updated_at))),
    ])
}

/// Migration 18: who gets which report by e-mail.
pub fn subscription_tables(backend: Backend) -> Vec<String> {
    let uuid = backend.uuid_type();
    let ts = backend.datetime_type();
    let date = crate::codec::column_type(backend, anchora_core::meta::FieldType::Date);
    vec![format!(
        "CREATE TABLE report_subscriptions (report_id {uuid} NOT NULL REFERENCES reports(id) ON DELETE CASCADE, \
         user_id {uuid} NOT NULL, cadence TEXT NOT NULL, last_sent {date}, created_at {ts} NOT NULL, \
         PRIMARY KEY (report_id, user_id))"
    )]
}

const SUBSCRIPTION_COLUMNS: [&str; 5] = ["report_id", "user_id", "cadence", "last_sent", "created_at"];

fn decode_subscription(r: &Row) -> std::result::Result<Subscription, sqlx::Error> {
    Ok(Subscription {
        report: ReportId(r.uuid(0)?),
        user: UserId(r.uuid(1)?),
        cadence: Cadence::parse(&r.string(2)?).unwrap_or(Cadence::Weekly),
        last_sent: r.opt_date(3)?,
        created_at: r.datetime(4)?,
    })
}

impl SqlStore {
    async fn subscriptions_where(&self, report: Option<ReportId>) -> Result<Vec<Subscription>> {
        let backend = self.backend_kind();
        let mut stmt = Query::select();
        stmt.columns(SUBSCRIPTION_COLUMNS).from("report_subscriptions");
        if let Some(r) = report {
            stmt.and_where(Expr::col("report_id").eq(backend.uuid(Some(r.0))));
        }
        stmt.order_by("created_at", sea_query::Order::Asc);
        self.fetch_decoded(backend.build(&stmt), decode_subscription).await
    }

    async fn set_last_sent(
        &self,
        report: ReportId,
        user: UserId,
        to: Option<NaiveDate>,
        when: Option<NaiveDate>,
    ) -> Result<bool> {
        let backend = self.backend_kind();
        let mut stmt = Query::update();
        stmt.table("report_subscriptions")
            .value("last_sent", Expr::val(backend.date(to)))
            .and_where(Expr::col("report_id").eq(backend.uuid(Some(report.0))))
            .and_where(Expr::col("user_id").eq(backend.uuid(Some(user.0))));
        match when {
            Some(d) => stmt.and_where(Expr::col("last_sent").eq(backend.date(Some(d)))),
            None => stmt.and_where(Expr::col("last_sent").is_null()),
        };
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }
}

/// A datetime column's local day, by a zone's offsets (minutes from UTC, each from its
/// instant on).
pub(crate) fn local_day(backend: Backend, column: &str, offsets: &[(DateTime<Utc>, i32)]) -> Expr {
    local_day_of(backend, &crate::db::ident(column), offsets)
}

/// [`local_day`] of a column written as SQL (quoted, perhaps named by its table).
fn local_day_of(backend: Backend, column: &str, offsets: &[(DateTime<Utc>, i32)]) -> Expr {
    let mut binds: Vec<sea_query::Value> = Vec::new();
    let offset = offset_case(backend, column, offsets, &mut binds);
    let sql = match backend {
        Backend::Sqlite => format!("date({column}, printf('%+d minutes', {offset}))"),
        Backend::Postgres => {
            format!("CAST(({column} AT TIME ZONE 'UTC') + ({offset}) * INTERVAL '1 minute' AS DATE)")
        }
    };
    Expr::cust_with_values(sql, binds)
}

/// The offset in force at the column's instant: a binary search written as nested `CASE`s.
fn offset_case(
    backend: Backend,
    column: &str,
    offsets: &[(DateTime<Utc>, i32)],
    binds: &mut Vec<sea_query::Value>,
) -> String {
    match offsets {
        [] => "0".to_string(),
        [(_, minutes)] => minutes.to_string(),
        _ => {
            let mid = offsets.len() / 2;
            let (before, after) = offsets.split_at(mid);
            let changes_at = after.first().map_or_else(Utc::now, |(t, _)| *t);
            binds.push(backend.datetime(Some(changes_at)));
            let mark = match backend {
                Backend::Sqlite => "?".to_string(),
                Backend::Postgres => format!("${}", binds.len()),
            };
            let early = offset_case(backend, column, before, binds);
            let late = offset_case(backend, column, after, binds);
            format!("CASE WHEN {column} < {mark} THEN {early} ELSE {late} END")
        }
    }
}

/// The object's own rows as a statement that joins related records reads them.
const OWN: &str = "t";

/// A column as SQL: named by its table when the statement joins related records.
fn column_sql(table: Option<&str>, column: &str) -> String {
    match table {
        Some(t) => format!("{}.{}", crate::db::ident(t), crate::db::ident(column)),
        None => crate::db::ident(column),
    }
}

/// The alias a relation's joined records go by.
fn join_alias(relation: &str) -> String {
    format!("r_{relation}")
}

/// What a key selects and what it is grouped by (its position, `at`, where it can: a local
/// day's expression is long and binds its own values). Text is grouped as filters compare it
/// (case-folded, so Malmö and MALMÖ are one group and its drill-down lists both), and named by
/// one of its spellings.
fn key_sql(backend: Backend, key: &GroupKey, table: Option<&str>, at: usize) -> (Expr, Expr) {
    let by_position = || Expr::cust(at.to_string());
    match key {
        GroupKey::Column(f) if f.field_type.folds() => (
            Expr::cust(format!("MIN({})", column_sql(table, &f.name))),
            Expr::cust(column_sql(table, &crate::ddl::fold_column(&f.name))),
        ),
        GroupKey::Column(f) => (Expr::cust(column_sql(table, &f.name)), by_position()),
        GroupKey::LocalDay { field, offsets } => {
            let day = match table {
                None => local_day(backend, &field.name, offsets),
                Some(_) => local_day_of(backend, &column_sql(table, &field.name), offsets),
            };
            (day, by_position())
        }
        GroupKey::Month(field) => {
            let col = column_sql(table, &field.name);
            let month = match backend {
                Backend::Sqlite => format!("date({col}, 'start of month')"),
                Backend::Postgres => format!("CAST(date_trunc('month', {col}) AS DATE)"),
            };
            (Expr::cust(month), by_position())
        }
        GroupKey::Related { relation, key, .. } => match key.as_ref() {
            GroupKey::Related { .. } => (Expr::cust("NULL"), by_position()),
            own => key_sql(backend, own, Some(&join_alias(relation)), at),
        },
    }
}

/// The type a key's values are read as.
fn key_type(key: &GroupKey) -> FieldType {
    match key {
        GroupKey::Column(f) => f.field_type,
        GroupKey::LocalDay { .. } | GroupKey::Month(_) => FieldType::Date,
        GroupKey::Related { key, .. } => match key.as_ref() {
            GroupKey::Related { .. } => FieldType::Text,
            own => key_type(own),
        },
    }
}

/// Each relation whose records a key reads, once: its name, the object, and whose records
/// (`None`: anyone's).
fn related_joins(keys: &[GroupKey]) -> Vec<(&str, &str, Option<&[UserId]>)> {
    let mut out: Vec<(&str, &str, Option<&[UserId]>)> = Vec::new();
    for key in keys {
        if let GroupKey::Related {
            relation,
            object,
            owners,
            ..
        } = key
            && !out.iter().any(|(r, _, _)| r == relation)
        {
            out.push((relation, object, owners.as_deref()));
        }
    }
    out
}

pub async fn report_rows(
    exec: crate::db::Exec<'_>,
    backend: Backend,
    object: &ObjectDef,
    q: &ReportQuery,
) -> std::result::Result<Vec<ReportRow>, sqlx::Error> {
    let mut base = Query::select();
    base.from(object.table());
    base.and_where(Expr::col("deleted_at").is_null());
    if let Some(owners) = &q.owners {
        base.and_where(owner_condition(backend, owners, OwnerPlan::Index));
    }
    if let Some(filter) = &q.filter {
        base.cond_where(condition(backend, filter));
    }
    // A related record's field (`company.city`): its live records, those the reader may see,
    // joined beside the object's own rows (read as `t` then, so no column is ambiguous). A
    // record whose related record is missing, in the trash or out of sight joins none: it
    // counts under "none", as one without a related record does.
    let joins = related_joins(&q.keys);
    let own = (!joins.is_empty()).then_some(OWN);
    let mut stmt = if joins.is_empty() {
        base
    } else {
        base.column(sea_query::Asterisk);
        let mut outer = Query::select();
        outer.from_subquery(base, Alias::new(OWN));
        for (relation, target, owners) in joins {
            let alias = join_alias(relation);
            let col = |c: &str| Expr::col((Alias::new(alias.clone()), Alias::new(c)));
            let mut on = Cond::all()
                .add(col("id").equals((Alias::new(OWN), Alias::new(relation))))
                .add(col("deleted_at").is_null());
            if let Some(owners) = owners {
                on = on.add(match owners {
                    [] => Expr::cust("1 = 0"),
                    _ => col("owner").is_in(owners.iter().map(|u| backend.uuid(Some(u.0)))),
                });
            }
            outer.join_as(
                JoinType::LeftJoin,
                Alias::new(table_name(target)),
                Alias::new(alias),
                on,
            );
        }
        outer
    };
    let mut group_by: Vec<Expr> = Vec::new();
    for (i, key) in q.keys.iter().enumerate() {
        let (select, group) = key_sql(backend, key, own, i + 1);
        stmt.expr(select);
        group_by.push(group);
    }
    stmt.expr(Expr::col(sea_query::Asterisk).count());
    if let Some(m) = &q.measure {
        let col = column_sql(own, &m.name);
        stmt.expr(Expr::cust(format!("COUNT({col})")));
        // SQLite's SUM of integers (amounts in minor units) fails past 2^63; TOTAL adds in
        // floating point, as PostgreSQL's SUM of a BIGINT (a NUMERIC) cast to double does.
        let sum = match backend {
            Backend::Sqlite => "TOTAL",
            Backend::Postgres => "SUM",
        };
        for f in [sum, "MIN", "MAX"] {
            stmt.expr(Expr::cust(format!("CAST({f}({col}) AS DOUBLE PRECISION)")));
        }
        if let Some(w) = &q.weight {
            let weight = column_sql(own, &w.name);
            stmt.expr(Expr::cust(format!("CAST({sum}({col} * {weight}) AS DOUBLE PRECISION)")));
            stmt.expr(Expr::cust(format!(
                "CAST({sum}(CASE WHEN {weight} IS NULL THEN {col} END) AS DOUBLE PRECISION)"
            )));
        }
    }
    stmt.add_group_by(group_by);
    let rows = exec.fetch_all(backend.build(&stmt)).await?;
    let n = q.keys.len();
    rows.iter()
        .map(|r| {
            let keys = q
                .keys
                .iter()
                .enumerate()
                .map(|(i, k)| decode(r, i, key_type(k)))
                .collect::<Result<Vec<Value>, _>>()?;
            let measured = q.measure.is_some();
            let weighted = measured && q.weight.is_some();
            Ok(ReportRow {
                keys,
                count: r.i64(n)?,
                measured: if measured { r.i64(n + 1)? } else { 0 },
                sum: if measured { r.opt_f64(n + 2)? } else { None },
                min: if measured { r.opt_f64(n + 3)? } else { None },
                max: if measured { r.opt_f64(n + 4)? } else { None },
                weighted: if weighted { r.opt_f64(n + 5)? } else { None },
                unweighted: if weighted { r.opt_f64(n + 6)? } else { None },
            })
        })
        .collect()
}

#[async_trait]
impl ReportStore for SqlStore {
    async fn report_rows(&self, object: &ObjectDef, query: &ReportQuery) -> Result<Vec<ReportRow>> {
        report_rows(self.pool().exec(), self.backend_kind(), object, query)
            .await
            .map_err(db_error)
    }

    async fn create_report(&self, report: &SavedReport) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("reports")
            .columns(COLUMNS)
            .values_panic(values(backend, report).map_err(db_error)?)
            .to_owned();
        in_write!(self.pool(), |tx| {
            tx.exec()
                .execute(backend.build(&stmt))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }

    async fn update_report(&self, report: &SavedReport, expected: i64) -> Result<bool> {
        let backend = self.backend_kind();
        let vals = values(backend, report).map_err(db_error)?;
        let mut stmt = Query::update();
        stmt.table("reports");
        for (column, value) in COLUMNS.iter().zip(vals).skip(1) {
            stmt.value(*column, value);
        }
        stmt.and_where(Expr::col("id").eq(backend.uuid(Some(report.id.0))))
            .and_where(Expr::col("version").eq(expected));
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }

    async fn report(&self, id: ReportId) -> Result<Option<SavedReport>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("reports")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        self.pool()
            .exec()
            .fetch_optional(backend.build(&stmt))
            .await
            .map_err(db_error)?
            .map(|r| decode_report(&r))
            .transpose()
            .map_err(db_error)
    }

    async fn reports(&self, user: UserId) -> Result<Vec<SavedReport>> {
        let backend = self.backend_kind();
        let stmt = Query::select()
            .columns(COLUMNS)
            .from("reports")
            .cond_where(
                sea_query::Cond::any()
                    .add(Expr::col("owner").eq(backend.uuid(Some(user.0))))
                    .add(Expr::col("shared").eq(true)),
            )
            .to_owned();
        let mut out = self.fetch_decoded(backend.build(&stmt), decode_report).await?;
        out.sort_by_cached_key(|r| (anchora_core::text::fold_case(&r.name), r.id));
        Ok(out)
    }

    async fn put_subscription(&self, s: &Subscription) -> Result<()> {
        let backend = self.backend_kind();
        let stmt = Query::insert()
            .into_table("report_subscriptions")
            .columns(SUBSCRIPTION_COLUMNS)
            .values_panic([
                Expr::val(backend.uuid(Some(s.report.0))),
                Expr::val(backend.uuid(Some(s.user.0))),
                s.cadence.as_str().into(),
                Expr::val(backend.date(s.last_sent)),
                Expr::val(backend.datetime(Some(s.created_at))),
            ])
            .on_conflict(
                sea_query::OnConflict::columns(["report_id", "user_id"])
                    .update_columns(["cadence"])
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

    async fn subscriptions_of(&self, report: ReportId) -> Result<Vec<Subscription>> {
        self.subscriptions_where(Some(report)).await
    }

    async fn all_subscriptions(&self) -> Result<Vec<Subscription>> {
        self.subscriptions_where(None).await
    }

    async fn delete_subscription(&self, report: ReportId, user: UserId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("report_subscriptions")
            .and_where(Expr::col("report_id").eq(backend.uuid(Some(report.0))))
            .and_where(Expr::col("user_id").eq(backend.uuid(Some(user.0))))
            .to_owned();
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }

    async fn mark_subscription_sent(
        &self,
        report: ReportId,
        user: UserId,
        period: NaiveDate,
        previous: Option<NaiveDate>,
    ) -> Result<bool> {
        self.set_last_sent(report, user, Some(period), previous).await
    }

    async fn restore_subscription(
        &self,
        report: ReportId,
        user: UserId,
        period: NaiveDate,
        previous: Option<NaiveDate>,
    ) -> Result<()> {
        self.set_last_sent(report, user, previous, Some(period))
            .await
            .map(|_| ())
    }

    async fn all_reports(&self) -> Result<Vec<SavedReport>> {
        let backend = self.backend_kind();
        let stmt = Query::select().columns(COLUMNS).from("reports").to_owned();
        self.fetch_decoded(backend.build(&stmt), decode_report).await
    }

    fn report_index_plan(&self, countings: &[(ObjectDef, ReportQuery)]) -> Vec<(String, usize)> {
        crate::report_indexes::plan_all(self.backend_kind(), countings)
    }

    async fn report_indexes(&self) -> Result<Vec<String>> {
        crate::report_indexes::existing(self.pool().exec(), self.backend_kind(), None)
            .await
            .map_err(db_error)
    }

    async fn build_report_index(&self, object: &ObjectDef, query: &ReportQuery) -> Result<()> {
        let Some((name, columns)) = crate::report_indexes::plan(self.backend_kind(), object, query) else {
            return Ok(());
        };
        let create = crate::report_indexes::create(&object.table(), &name, &columns);
        in_write!(self.pool(), |tx| {
            tx.exec().execute(Sql::plain(create.clone())).await.map_err(db_error)?;
            // Figures for the planner about the new index, sampled (seconds otherwise).
            tx.exec()
                .execute(Sql::plain(format!(
                    "PRAGMA analysis_limit = 2000; ANALYZE {}",
                    crate::db::ident(&name)
                )))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }

    async fn drop_report_index(&self, name: &str) -> Result<()> {
        if !name.starts_with(crate::report_indexes::PREFIX) {
            return Ok(());
        }
        let drop = format!("DROP INDEX IF EXISTS {}", crate::db::ident(name));
        in_write!(self.pool(), |tx| {
            tx.exec()
                .execute(Sql::plain(drop.clone()))
                .await
                .map_err(db_error)
                .map(|_| ())
        })
    }

    async fn delete_report(&self, id: ReportId) -> Result<bool> {
        let backend = self.backend_kind();
        let stmt = Query::delete()
            .from_table("reports")
            .and_where(Expr::col("id").eq(backend.uuid(Some(id.0))))
            .to_owned();
        in_write!(self.pool(), |tx| {
            Ok(tx.exec().execute(backend.build(&stmt)).await.map_err(db_error)? == 1)
        })
    }
}
