//! Administrators' pages for the audit log and the data change log: filterable tables, newest
//! first, paged. The same use cases as the API (`Crm::audit_log`, `Crm::change_log`), so the
//! same permission checks.

use crate::AppState;
use crate::extract::{Authed, authenticate_session};
use crate::i18n::{LOCALES, Tr, format_datetime};
use crate::pages::PageCtx;
use anchora_core::audit::{AuditKind, AuditQuery, ChangeQuery};
use anchora_core::{ErrorCode, UserId};
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chrono::{Duration, NaiveDate};
use serde_json::Value as Json;
use std::collections::HashMap;

const PAGE: &str = "50";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(audit_page))
        .route("/admin/changes", get(changes_page))
}

struct AuditRow {
    class: &'static str,
    iso: String,
    when: String,
    who: String,
    event: String,
    subject: String,
    ip: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    tr: Tr,
    title: String,
    active: &'static str,
    user_name: String,
    csrf: String,
    kinds: Vec<(String, String)>,
    kind: String,
    since: String,
    until: String,
    rows: Vec<AuditRow>,
    older: Option<String>,
}

struct ChangeRow {
    iso: String,
    when: String,
    who: String,
    object: String,
    record: String,
    op: String,
    field: String,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "admin_changes.html")]
struct ChangesPage {
    tr: Tr,
    title: String,
    active: &'static str,
    user_name: String,
    csrf: String,
    objects: Vec<(String, String)>,
    object: String,
    since: String,
    until: String,
    rows: Vec<ChangeRow>,
    older: Option<String>,
}

#[derive(Template)]
#[template(path = "forbidden.html")]
struct ForbiddenPage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    text: String,
}

/// The filters as typed in the form, and as the query parsers want them.
struct Filters {
    since: String,
    until: String,
    params: HashMap<String, String>,
}

fn date(text: Option<&String>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
}

fn filters(q: &HashMap<String, String>, keep: &[&str]) -> Filters {
    let mut params: HashMap<String, String> = keep
        .iter()
        .filter_map(|k| {
            q.get(*k)
                .filter(|v| !v.is_empty())
                .map(|v| ((*k).to_string(), v.clone()))
        })
        .collect();
    params.insert("limit".into(), PAGE.into());
    let since = date(q.get("since"));
    let until = date(q.get("until"));
    if let Some(d) = since {
        params.insert("since".into(), format!("{d}T00:00:00Z"));
    }
    if let Some(d) = until.and_then(|d| d.checked_add_signed(Duration::days(1))) {
        params.insert("until".into(), format!("{d}T00:00:00Z"));
    }
    Filters {
        since: since.map(|d| d.to_string()).unwrap_or_default(),
        until: until.map(|d| d.to_string()).unwrap_or_default(),
        params,
    }
}

/// The link to the next (older) page: the same filters, before the last entry shown.
fn older_link(path: &str, q: &HashMap<String, String>, last_seq: Option<i64>, full: bool) -> Option<String> {
    let last = last_seq.filter(|_| full)?;
    let mut parts: Vec<String> = ["kind", "object", "since", "until"]
        .iter()
        .filter_map(|k| {
            q.get(*k)
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", anchora_core::views::url_encode(v)))
        })
        .collect();
    parts.push(format!("before={last}"));
    Some(format!("{path}?{}", parts.join("&")))
}

async fn signed_in(state: &AppState, parts: &Parts) -> Result<Authed, Response> {
    authenticate_session(parts, state)
        .await
        .map_err(|_| Redirect::to("/login").into_response())
}

fn tr_for(ctx: &PageCtx, a: &Authed) -> Tr {
    if ctx.chosen_lang().is_some() {
        ctx.tr().clone()
    } else {
        Tr::new(&a.user.locale)
    }
}

fn forbidden(ctx: &PageCtx, tr: Tr) -> Response {
    let page = ForbiddenPage {
        title: tr.t("forbidden-title"),
        text: tr.t("forbidden-text"),
        tr,
        locales: &LOCALES,
    };
    ctx.page(StatusCode::FORBIDDEN, page.render(), Vec::new())
}

async fn names(a: &Authed) -> HashMap<UserId, String> {
    a.crm
        .users(&a.principal)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect()
}

fn short(json: &Json) -> String {
    let text = match json {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 120 {
        format!("{}…", text.chars().take(120).collect::<String>())
    } else {
        text
    }
}

async fn audit_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let a = match signed_in(&state, &parts).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let tr = tr_for(&ctx, &a);
    let f = filters(&q, &["kind", "before"]);
    let query = AuditQuery::parse(&f.params).unwrap_or_else(|_| AuditQuery {
        limit: 50,
        ..Default::default()
    });
    let events = match a.crm.audit_log(&a.principal, &query).await {
        Ok(e) => e,
        Err(e) if e.code == ErrorCode::Forbidden => return forbidden(&ctx, tr),
        Err(e) => {
            tracing::error!(error = %e, "the audit log could not be read");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let names = names(&a).await;
    let rows = events
        .iter()
        .map(|e| AuditRow {
            class: if matches!(e.kind, AuditKind::LoginFailed | AuditKind::LoginThrottled) {
                "failure"
            } else {
                ""
            },
            iso: e.at.to_rfc3339(),
            when: format_datetime(tr.locale, e.at),
            who: e
                .actor
                .map(|u| names.get(&u).cloned().unwrap_or_else(|| u.to_string()))
                .unwrap_or_else(|| tr.t("log-system")),
            event: tr.t(&format!("audit-kind-{}", e.kind.as_str())),
            subject: e.subject.clone().unwrap_or_default(),
            ip: e.ip.clone().unwrap_or_default(),
            detail: short(&e.detail),
        })
        .collect();
    let older = older_link(
        "/admin/audit",
        &q,
        events.last().map(|e| e.seq),
        events.len() == query.limit as usize,
    );
    let page = AuditPage {
        title: tr.t("admin-audit-title"),
        active: "audit",
        user_name: a.user.name.clone(),
        csrf: a.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
        kinds: AuditKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), tr.t(&format!("audit-kind-{}", k.as_str()))))
            .collect(),
        kind: q.get("kind").cloned().unwrap_or_default(),
        since: f.since,
        until: f.until,
        rows,
        older,
        tr,
    };
    ctx.page(StatusCode::OK, page.render(), Vec::new())
}

async fn changes_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    parts: Parts,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let a = match signed_in(&state, &parts).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let tr = tr_for(&ctx, &a);
    let f = filters(&q, &["object", "before"]);
    let query = ChangeQuery::parse(&f.params).unwrap_or_else(|_| ChangeQuery {
        limit: 50,
        ..Default::default()
    });
    let changes = match a.crm.change_log(&a.principal, &query).await {
        Ok(c) => c,
        Err(e) if e.code == ErrorCode::Forbidden => return forbidden(&ctx, tr),
        Err(e) if e.code == ErrorCode::UnknownObject => Vec::new(),
        Err(e) => {
            tracing::error!(error = %e, "the change log could not be read");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let names = names(&a).await;
    let schema = a.crm.schema().await.ok();
    let label = |object: &str| {
        schema
            .as_ref()
            .and_then(|s| s.objects.get(object))
            .map_or_else(|| object.to_string(), |o| o.label.clone())
    };
    let rows = changes
        .iter()
        .map(|c| ChangeRow {
            iso: c.at.to_rfc3339(),
            when: format_datetime(tr.locale, c.at),
            who: c
                .actor
                .map(|u| names.get(&u).cloned().unwrap_or_else(|| u.to_string()))
                .unwrap_or_else(|| tr.t("log-system")),
            object: label(&c.object),
            record: c.record_id.to_string(),
            op: tr.t(&format!("op-{}", c.op.as_str())),
            field: c.field.clone().unwrap_or_default(),
            from: short(&c.old),
            to: short(&c.new),
        })
        .collect();
    let older = older_link(
        "/admin/changes",
        &q,
        changes.last().map(|c| c.seq),
        changes.len() == query.limit as usize,
    );
    let objects = schema
        .as_ref()
        .map(|s| {
            s.objects
                .values()
                .map(|o| (o.name.clone(), o.label_plural.clone()))
                .collect()
        })
        .unwrap_or_default();
    let page = ChangesPage {
        title: tr.t("admin-changes-title"),
        active: "changes",
        user_name: a.user.name.clone(),
        csrf: a.session.as_ref().map(|s| s.csrf_token.clone()).unwrap_or_default(),
        objects,
        object: q.get("object").cloned().unwrap_or_default(),
        since: f.since,
        until: f.until,
        rows,
        older,
        tr,
    };
    ctx.page(StatusCode::OK, page.render(), Vec::new())
}
