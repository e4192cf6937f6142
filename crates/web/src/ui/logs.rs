//! The app's pages for the audit log and the data change log: filterable tables, newest
//! first, paged. The same use cases as the API (`Crm::audit_log`, `Crm::change_log`), so the
//! same permission checks.

use super::page_error::{OrPage, PageResult};
use super::{Shell, Ui};
use crate::i18n::Tr;
use anchora_core::audit::{AuditEvent, AuditKind, AuditQuery, ChangeQuery};
use anchora_core::record::Change;
use anchora_core::{ErrorCode, UserId};
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{Duration, NaiveDate};
use serde_json::Value as Json;
use std::collections::HashMap;
const PAGE: &str = "50";

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
#[template(path = "ui/audit.html")]
struct AuditPage {
    shell: Shell,
    title: String,
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
#[template(path = "ui/changes.html")]
struct ChangesPage {
    shell: Shell,
    title: String,
    objects: Vec<(String, String)>,
    object: String,
    since: String,
    until: String,
    rows: Vec<ChangeRow>,
    older: Option<String>,
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

async fn names(ui: &Ui) -> HashMap<UserId, String> {
    ui.authed
        .crm
        .users(&ui.authed.principal)
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

pub async fn audit_page(ui: Ui, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let f = filters(&q, &["kind", "before"]);
    let query = AuditQuery::parse(&f.params).unwrap_or_else(|_| AuditQuery {
        limit: 50,
        ..Default::default()
    });
    let events = ui
        .authed
        .crm
        .audit_log(&ui.authed.principal, &query)
        .await
        .or_forbidden_else(&ui, |e| {
            tracing::error!(error = %e, "the audit log could not be read");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        })?;
    let names = names(&ui).await;
    let older = older_link(
        "/admin/audit",
        &q,
        events.last().map(|e| e.seq),
        events.len() == query.limit as usize,
    );
    let page = audit_view(&ui, &events, &names, &q, f, older);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// One security event as a row: failed sign-ins stand out.
fn audit_row(tr: &Tr, e: &AuditEvent, names: &HashMap<UserId, String>) -> AuditRow {
    AuditRow {
        class: if matches!(e.kind, AuditKind::LoginFailed | AuditKind::LoginThrottled) {
            "failure"
        } else {
            ""
        },
        iso: e.at.to_rfc3339(),
        when: tr.datetime(e.at),
        who: who(tr, e.actor, names),
        event: tr.t(&format!("audit-kind-{}", e.kind.as_str())),
        subject: e.subject.clone().unwrap_or_default(),
        ip: e.ip.clone().unwrap_or_default(),
        detail: short(&e.detail),
    }
}

/// Who did something: a user's name (or id, when gone), or the system.
fn who(tr: &Tr, actor: Option<UserId>, names: &HashMap<UserId, String>) -> String {
    actor
        .map(|u| names.get(&u).cloned().unwrap_or_else(|| u.to_string()))
        .unwrap_or_else(|| tr.t("log-system"))
}

fn audit_view(
    ui: &Ui,
    events: &[AuditEvent],
    names: &HashMap<UserId, String>,
    q: &HashMap<String, String>,
    f: Filters,
    older: Option<String>,
) -> AuditPage {
    let tr = &ui.tr;
    AuditPage {
        title: tr.t("admin-audit-title"),
        shell: ui.shell("audit"),
        kinds: AuditKind::ALL
            .iter()
            .map(|k| (k.as_str().to_string(), tr.t(&format!("audit-kind-{}", k.as_str()))))
            .collect(),
        kind: q.get("kind").cloned().unwrap_or_default(),
        since: f.since,
        until: f.until,
        rows: events.iter().map(|e| audit_row(tr, e, names)).collect(),
        older,
    }
}

pub async fn changes_page(ui: Ui, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let f = filters(&q, &["object", "before"]);
    let query = ChangeQuery::parse(&f.params).unwrap_or_else(|_| ChangeQuery {
        limit: 50,
        ..Default::default()
    });
    let changes = match ui.authed.crm.change_log(&ui.authed.principal, &query).await {
        Err(e) if e.code == ErrorCode::UnknownObject => Ok(Vec::new()),
        read => read,
    };
    let changes = changes.or_forbidden_else(&ui, |e| {
        tracing::error!(error = %e, "the change log could not be read");
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    })?;
    let names = names(&ui).await;
    let older = older_link(
        "/admin/changes",
        &q,
        changes.last().map(|c| c.seq),
        changes.len() == query.limit as usize,
    );
    let page = changes_view(&ui, &changes, &names, &q, f, older);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// One change to a record as a row.
fn change_row(ui: &Ui, c: &Change, names: &HashMap<UserId, String>) -> ChangeRow {
    let tr = &ui.tr;
    ChangeRow {
        iso: c.at.to_rfc3339(),
        when: tr.datetime(c.at),
        who: who(tr, c.actor, names),
        object: ui
            .schema
            .objects
            .get(&c.object)
            .map_or_else(|| c.object.clone(), |o| super::labels::object(tr, o)),
        record: c.record_id.to_string(),
        op: tr.t(&format!("op-{}", c.op.as_str())),
        field: c.field.clone().unwrap_or_default(),
        from: short(&c.old),
        to: short(&c.new),
    }
}

fn changes_view(
    ui: &Ui,
    changes: &[Change],
    names: &HashMap<UserId, String>,
    q: &HashMap<String, String>,
    f: Filters,
    older: Option<String>,
) -> ChangesPage {
    let tr = &ui.tr;
    ChangesPage {
        title: tr.t("admin-changes-title"),
        shell: ui.shell("changes"),
        objects: ui
            .schema
            .objects
            .values()
            .map(|o| (o.name.clone(), super::labels::object_plural(tr, o)))
            .collect(),
        object: q.get("object").cloned().unwrap_or_default(),
        since: f.since,
        until: f.until,
        rows: changes.iter().map(|c| change_row(ui, c, names)).collect(),
        older,
    }
}
