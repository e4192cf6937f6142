//! The security audit log: append, filter, and count (for login throttling).

use crate::db::db_error;
use crate::db::{Backend, Exec, Row};
use crate::records;
use crate::sql_store::*;
use anchora_core::UserId;
use anchora_core::audit::AuditStore;
use anchora_core::audit::ChangeQuery;
use anchora_core::audit::{AuditEvent, AuditKind, AuditQuery};
use anchora_core::error::Result;
use anchora_core::record::Change;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_query::{Expr, ExprTrait, Order, Query};
use serde_json::Value as Json;

const COLUMNS: [&str; 6] = ["at", "actor", "kind", "subject", "ip", "detail"];

pub async fn record(exec: Exec<'_>, backend: Backend, e: &AuditEvent) -> Result<(), sqlx::Error> {
    let detail = (!serde_json::Value::is_null(&e.detail)).then(|| e.detail.to_string());
    let stmt = Query::insert()
        .into_table("audit_log")
        .columns(COLUMNS)
        .values_panic([
            Expr::val(backend.datetime(Some(e.at))),
            Expr::val(backend.uuid(e.actor.map(|a| a.0))),
            e.kind.as_str().to_string().into(),
            e.subject.clone().into(),
            e.ip.clone().into(),
            detail.into(),
        ])
        .to_owned();
    exec.execute(backend.build(&stmt)).await.map(|_| ())
}

fn decode(r: &Row) -> Result<Option<AuditEvent>, sqlx::Error> {
    let Some(kind) = AuditKind::parse(&r.string(3)?) else {
        return Ok(None);
    };
    Ok(Some(AuditEvent {
        seq: r.i64(0)?,
        at: r.datetime(1)?,
        actor: r.opt_uuid(2)?.map(UserId),
        kind,
        subject: r.opt_string(4)?,
        ip: r.opt_string(5)?,
        detail: r
            .opt_string(6)?
            .and_then(|d| serde_json::from_str(&d).ok())
            .unwrap_or(Json::Null),
    }))
}

pub async fn events(exec: Exec<'_>, backend: Backend, q: &AuditQuery) -> Result<Vec<AuditEvent>, sqlx::Error> {
    let mut stmt = Query::select();
    stmt.column("seq").columns(COLUMNS).from("audit_log");
    if !q.kinds.is_empty() {
        stmt.and_where(Expr::col("kind").is_in(q.kinds.iter().map(|k| k.as_str().to_string())));
    }
    if let Some(a) = q.actor {
        stmt.and_where(Expr::col("actor").eq(backend.uuid(Some(a.0))));
    }
    if let Some(s) = &q.subject {
        stmt.and_where(Expr::col("subject").eq(s.clone()));
    }
    if let Some(t) = q.since {
        stmt.and_where(Expr::col("at").gte(backend.datetime(Some(t))));
    }
    if let Some(t) = q.until {
        stmt.and_where(Expr::col("at").lt(backend.datetime(Some(t))));
    }
    if let Some(b) = q.before_seq {
        stmt.and_where(Expr::col("seq").lt(b));
    }
    stmt.order_by("seq", Order::Desc).limit(u64::from(q.limit));
    let rows = exec.fetch_all(backend.build(&stmt)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.extend(decode(r)?);
    }
    Ok(out)
}

pub async fn count(
    exec: Exec<'_>,
    backend: Backend,
    kind: AuditKind,
    subject: Option<&str>,
    ip: Option<&str>,
    since: DateTime<Utc>,
) -> Result<(u32, Option<DateTime<Utc>>), sqlx::Error> {
    let mut stmt = Query::select();
    stmt.expr(Expr::col("seq").count())
        .expr(Expr::col("at").max())
        .from("audit_log")
        .and_where(Expr::col("kind").eq(kind.as_str().to_string()))
        .and_where(Expr::col("at").gte(backend.datetime(Some(since))));
    if let Some(s) = subject {
        stmt.and_where(Expr::col("subject").eq(s.to_string()));
    }
    if let Some(ip) = ip {
        stmt.and_where(Expr::col("ip").eq(ip.to_string()));
    }
    let Some(r) = exec.fetch_optional(backend.build(&stmt)).await? else {
        return Ok((0, None));
    };
    Ok((u32::try_from(r.i64(0)?).unwrap_or(u32::MAX), r.opt_datetime(1)?))
}

#[async_trait]
impl AuditStore for SqlStore {
    async fn record_audit(&self, event: &AuditEvent) -> Result<()> {
        record(self.pool.exec(), self.backend_kind(), event)
            .await
            .map_err(db_error)
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        events(self.pool.exec(), self.backend_kind(), query)
            .await
            .map_err(db_error)
    }

    async fn count_events(
        &self,
        kind: AuditKind,
        subject: Option<&str>,
        ip: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<(u32, Option<DateTime<Utc>>)> {
        count(self.pool.exec(), self.backend_kind(), kind, subject, ip, since)
            .await
            .map_err(db_error)
    }

    async fn changes(&self, query: &ChangeQuery) -> Result<Vec<Change>> {
        records::changes(self.pool.exec(), self.backend_kind(), query)
            .await
            .map_err(db_error)
    }
}
