//! `/support`: questions raised from any page, the chain that answers them (pages). The list
//! (everything the reader may see, theirs, their team's, by level), the form every page's "Ask
//! for help" opens with the page it came from, and a question's page: its agreed times in
//! words, its timeline (internal notes for the chain only), replies, status moves and passing
//! it on. What may be seen and done is `Crm`'s; this file only words it.

use super::page_error::{OrPage, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, form_value};
use crate::AppState;
use crate::i18n::Tr;
use anchora_core::Error;
use anchora_core::support::{EventKind, Level, Priority, QuestionQuery, QuestionView, SlaView, Status};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;

type Pairs = Vec<(String, String)>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/support", get(list_page))
        .route("/support/new", get(new_page).post(raise))
        .route("/support/{id}", get(question_page))
        .route("/support/{id}/reply", post(reply))
        .route("/support/{id}/status", post(set_status))
        .route("/support/{id}/escalate", post(escalate))
}

fn priority_label(tr: &Tr, p: Priority) -> String {
    tr.t(&format!("support-priority-{}", p.as_str().replace('_', "-")))
}

fn status_label(tr: &Tr, s: Status) -> String {
    tr.t(&format!("support-status-{}", s.as_str().replace('_', "-")))
}

fn level_label(tr: &Tr, l: Level) -> String {
    tr.t(&format!("support-level-{}", l.as_str().replace('_', "-")))
}

/// Open minutes as people say them: "45 min", "3 h", "2 h 30 min".
fn span(tr: &Tr, minutes: i64) -> String {
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => tr.t1("support-minutes", "n", m),
        (h, 0) => tr.t1("support-hours", "n", h),
        (h, m) => tr.tn("support-hours-minutes", &[("h", h.to_string()), ("m", m.to_string())]),
    }
}

/// An agreed time in words: "Response due in 3 h", "Breached 2 h ago", "Met".
fn sla_text(tr: &Tr, which: &str, s: &SlaView, now: chrono::DateTime<chrono::Utc>) -> (String, &'static str) {
    let what = tr.t(&format!("support-clock-{which}"));
    let left = span(tr, s.left_minutes.unwrap_or(0));
    match s.state {
        "met" => (tr.t1("support-sla-met", "what", what), "state-done"),
        "breached" => {
            let ago = s.since.map_or(0, |t| (now - t).num_minutes().max(0));
            (
                tr.tn("support-sla-breached", &[("what", what), ("ago", span(tr, ago))]),
                "crit",
            )
        }
        "paused" => (tr.tn("support-sla-paused", &[("what", what), ("left", left)]), "muted"),
        "warning" => (tr.tn("support-sla-due", &[("what", what), ("left", left)]), "late"),
        "never_due" => (tr.t1("support-sla-never", "what", what), "muted"),
        _ => (tr.tn("support-sla-due", &[("what", what), ("left", left)]), ""),
    }
}

pub struct Row {
    pub href: String,
    pub number: i64,
    pub subject: String,
    pub status: String,
    pub level: String,
    pub priority: String,
    pub requester: String,
    pub opened: String,
}

#[derive(Template)]
#[template(path = "ui/support.html")]
struct ListPage {
    shell: Shell,
    title: String,
    tabs: Vec<(String, String, bool)>,
    rows: Vec<Row>,
    next: Option<String>,
}

/// `/support`: the questions the reader may see; `view` mine / team / all, `level`, `open`.
async fn list_page(ui: Ui, Query(q): Query<QuestionQuery>) -> PageResult {
    let tr = &ui.tr;
    let (lines, next) = ui.authed.crm.questions(&ui.authed.principal, &q).await.or_page(&ui)?;
    let view = q.view.clone().unwrap_or_default();
    let level = q.level.clone().unwrap_or_default();
    let tab = |href: &str, key: &str, on: bool| (href.to_string(), tr.t(key), on);
    let tabs = vec![
        tab("/support", "support-view-all", view.is_empty() && level.is_empty()),
        tab("/support?view=mine", "support-view-mine", view == "mine"),
        tab("/support?view=team", "support-view-team", view == "team"),
        tab("/support?level=key_user", "support-level-key-user", level == "key_user"),
        tab("/support?level=it", "support-level-it", level == "it"),
        tab("/support?level=vendor", "support-level-vendor", level == "vendor"),
    ];
    let rows = lines
        .iter()
        .map(|l| Row {
            href: format!("/support/{}", l.question.number),
            number: l.question.number,
            subject: l.question.subject.clone(),
            status: status_label(tr, l.question.status),
            level: level_label(tr, l.question.level),
            priority: priority_label(tr, l.question.priority),
            requester: l.requester_name.clone(),
            opened: tr.datetime(l.question.opened_at),
        })
        .collect();
    let next = next.map(|c| {
        let mut href = format!("/support?cursor={c}");
        for (k, v) in [("view", &q.view), ("level", &q.level), ("status", &q.status)] {
            if let Some(v) = v
                .as_deref()
                .filter(|v| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                href.push_str(&format!("&{k}={v}"));
            }
        }
        href
    });
    let page = ListPage {
        shell: ui.shell("support"),
        title: tr.t("support-title"),
        tabs,
        rows,
        next,
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

#[derive(Template)]
#[template(path = "ui/support_new.html")]
struct NewPage {
    shell: Shell,
    title: String,
    subject: String,
    description: String,
    categories: Vec<(String, bool)>,
    priorities: Vec<(String, String, bool)>,
    page_path: String,
    errors: HashMap<String, String>,
}

impl NewPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

async fn new_form(ui: &Ui, typed: &[(String, String)]) -> NewPage {
    let tr = &ui.tr;
    let settings = ui.authed.crm.support_settings_now().await.unwrap_or_default();
    let category = form_value(typed, "category");
    let priority = match form_value(typed, "priority") {
        "" => "normal",
        p => p,
    };
    NewPage {
        shell: ui.shell("support"),
        title: tr.t("support-new-title"),
        subject: form_value(typed, "subject").to_string(),
        description: form_value(typed, "description").to_string(),
        categories: settings.categories.iter().map(|c| (c.clone(), c == category)).collect(),
        priorities: [Priority::Low, Priority::Normal, Priority::High, Priority::Urgent]
            .into_iter()
            .map(|p| (p.as_str().to_string(), priority_label(tr, p), p.as_str() == priority))
            .collect(),
        page_path: form_value(typed, "page").to_string(),
        errors: HashMap::new(),
    }
}

/// `/support/new?page=…`: the form, with the page it was opened from.
async fn new_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let page = new_form(&ui, &q).await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The record a page shows, when it shows one (`/o/{object}/{id}`).
fn record_of(page: &str) -> (Option<String>, Option<String>) {
    let path = page.split(['?', '#']).next().unwrap_or("");
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["o", object, id, ..] if !id.is_empty() => (Some((*object).to_string()), Some((*id).to_string())),
        ["o", object] => (Some((*object).to_string()), None),
        _ => (None, None),
    }
}

fn mistakes(tr: &Tr, e: &Error) -> HashMap<String, String> {
    e.errors
        .iter()
        .map(|f| (f.field.clone(), super::field_message(tr, &f.message)))
        .collect()
}

async fn raise(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let page = form_value(&form, "page").to_string();
    let (object, record) = record_of(&page);
    let body = json!({
        "subject": form_value(&form, "subject"), "description": form_value(&form, "description"),
        "category": form_value(&form, "category"), "priority": form_value(&form, "priority"),
        "page": page, "object": object, "record": record});
    match ui
        .authed
        .crm
        .raise_question(&ui.authed.principal, body)
        .await
        .or_forbidden(&ui)?
    {
        Ok(q) => Ok(Redirect::to(&format!("/support/{}", q.line.question.number)).into_response()),
        Err(e) => {
            let mut page = new_form(&ui, &form).await;
            page.errors = mistakes(&ui.tr, &e);
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

pub struct EventRow {
    pub at: String,
    pub who: String,
    pub what: String,
    pub body: String,
    pub internal: bool,
}

#[derive(Template)]
#[template(path = "ui/support_question.html")]
struct QuestionPage {
    shell: Shell,
    title: String,
    number: i64,
    version: i64,
    description: String,
    facts: Vec<(String, String)>,
    clocks: Vec<(String, &'static str)>,
    events: Vec<EventRow>,
    in_chain: bool,
    /// Status moves offered: (value, label).
    moves: Vec<(String, String)>,
    /// Passing on: to whom, and whether the vendor's fields are asked.
    escalate_to: Option<String>,
    to_vendor: bool,
    error: Option<String>,
}

fn question_view(ui: &Ui, q: QuestionView, error: Option<String>) -> QuestionPage {
    let tr = &ui.tr;
    let crm = &ui.authed.crm;
    let now = crm.clock.now();
    let names = &q.names;
    let question = &q.line.question;
    let mut facts = vec![
        (tr.t("support-status"), status_label(tr, question.status)),
        (tr.t("support-level"), level_label(tr, question.level)),
        (tr.t("support-priority"), priority_label(tr, question.priority)),
        (tr.t("support-requester"), q.line.requester_name.clone()),
        (
            tr.t("support-assignee"),
            q.line
                .assignee_name
                .clone()
                .unwrap_or_else(|| tr.t("support-unassigned")),
        ),
        (tr.t("support-opened"), tr.datetime(question.opened_at)),
    ];
    if !question.category.is_empty() {
        facts.push((tr.t("support-category"), question.category.clone()));
    }
    if let Some(p) = &question.page {
        facts.push((tr.t("support-page"), p.clone()));
    }
    if let Some(v) = &question.vendor {
        facts.push((tr.t("support-vendor"), v.name.clone()));
        if !v.reference.is_empty() {
            facts.push((tr.t("support-vendor-reference"), v.reference.clone()));
        }
    }
    let clocks = if question.status.is_open() || q.response.state == "met" {
        vec![
            sla_text(tr, "response", &q.response, now),
            sla_text(tr, "resolution", &q.resolution, now),
        ]
    } else {
        Vec::new()
    };
    let events = q
        .events
        .iter()
        .map(|e| {
            let detail = |k: &str| e.detail.get(k).and_then(|v| v.as_str()).unwrap_or("");
            let what = match e.kind {
                EventKind::Status => tr.t1(
                    "support-event-status",
                    "to",
                    Status::parse(detail("to")).map_or_else(String::new, |s| status_label(tr, s)),
                ),
                EventKind::Escalated => {
                    let to =
                        Level::parse(detail("to")).map_or_else(|| tr.t("support-level-owner"), |l| level_label(tr, l));
                    let key = if detail("reason") == "breach" {
                        "support-event-breach"
                    } else {
                        "support-event-escalated"
                    };
                    tr.t1(key, "to", to)
                }
                other => tr.t(&format!("support-event-{}", other.as_str().replace('_', "-"))),
            };
            EventRow {
                at: tr.datetime(e.at),
                who: e
                    .actor
                    .and_then(|a| names.get(&a).cloned())
                    .unwrap_or_else(|| tr.t("support-system")),
                what,
                body: e.body.clone(),
                internal: e.kind.internal(),
            }
        })
        .collect();
    let moves = if q.in_chain {
        Status::ALL
            .into_iter()
            .filter(|s| question.status.may_become(*s))
            .map(|s| (s.as_str().to_string(), status_label(tr, s)))
            .collect()
    } else if question.status == Status::Resolved {
        [Status::Open, Status::Closed]
            .into_iter()
            .map(|s| (s.as_str().to_string(), status_label(tr, s)))
            .collect()
    } else {
        Vec::new()
    };
    let next = question
        .level
        .next()
        .filter(|_| q.in_chain && question.status.is_open());
    QuestionPage {
        shell: ui.shell("support"),
        title: format!("#{} {}", question.number, question.subject),
        number: question.number,
        version: question.version,
        description: question.description.clone(),
        facts,
        clocks,
        events,
        in_chain: q.in_chain,
        moves,
        escalate_to: next.map(|l| level_label(tr, l)),
        to_vendor: next == Some(Level::Vendor),
        error,
    }
}

async fn show(ui: &Ui, id: &str, status: StatusCode, error: Option<String>) -> PageResult {
    let q = ui.authed.crm.question(&ui.authed.principal, id).await.or_page(ui)?;
    let page = question_view(ui, q, error);
    Ok(ui.page(status, page.render()))
}

async fn question_page(ui: Ui, Path(id): Path<String>) -> PageResult {
    show(&ui, &id, StatusCode::OK, None).await
}

/// After a change: the question again, or with what was wrong.
async fn after(ui: Ui, id: &str, done: anchora_core::Result<QuestionView>) -> PageResult {
    match done.or_forbidden(&ui)? {
        Ok(q) => Ok(Redirect::to(&format!("/support/{}", q.line.question.number)).into_response()),
        Err(e) if e.code == anchora_core::ErrorCode::NotFound => show(&ui, id, StatusCode::NOT_FOUND, None).await,
        Err(e) => {
            let text = match e.errors.first() {
                Some(f) => super::field_message(&ui.tr, &f.message),
                None if e.code == anchora_core::ErrorCode::VersionConflict => ui.tr.t("support-stale"),
                None => e.detail.clone(),
            };
            show(&ui, id, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
    }
}

async fn reply(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let kind = if form_value(&form, "kind") == "note" {
        "note"
    } else {
        "reply"
    };
    let body = json!({"kind": kind, "body": form_value(&form, "body")});
    let done = ui.authed.crm.add_question_event(&ui.authed.principal, &id, body).await;
    after(ui, &id, done).await
}

fn version(form: &[(String, String)]) -> serde_json::Value {
    form_value(form, "version")
        .parse::<i64>()
        .map_or(serde_json::Value::Null, |v| json!(v))
}

async fn set_status(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let body = json!({"version": version(&form), "status": form_value(&form, "status")});
    let done = ui.authed.crm.set_question_status(&ui.authed.principal, &id, body).await;
    after(ui, &id, done).await
}

async fn escalate(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let mut body = serde_json::Map::new();
    body.insert("version".into(), version(&form));
    body.insert("reason".into(), json!(form_value(&form, "reason")));
    // Left empty, the vendor's fields fall back to the settings' vendor.
    for k in ["vendor_name", "vendor_contact", "vendor_reference"] {
        let v = form_value(&form, k).trim();
        if !v.is_empty() {
            body.insert(k.into(), json!(v));
        }
    }
    let body = serde_json::Value::Object(body);
    let done = ui.authed.crm.escalate_question(&ui.authed.principal, &id, body).await;
    after(ui, &id, done).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_page_names_its_record() {
        assert_eq!(
            record_of("/o/deal/0191-ab?tab=x"),
            (Some("deal".into()), Some("0191-ab".into()))
        );
        assert_eq!(record_of("/reports"), (None, None));
    }
}
