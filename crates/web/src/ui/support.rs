//! `/support`: questions raised from any page, the chain that answers them (pages). The list
//! (everything the reader may see, theirs, their team's, by level), the form every page's "Ask
//! for help" opens with the page it came from, and a question's page: its agreed times in
//! words, its timeline (internal notes for the chain only), replies, status moves and passing
//! it on, its attachments, and making an answer of it once solved. Before a question is raised,
//! the form looks for published answers that match what was typed ("Look for answers"). What
//! may be seen and done is `Crm`'s; this file only words it.

use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, form_value};
use crate::AppState;
use crate::i18n::Tr;
use anchora_core::Error;
use anchora_core::auth::Role;
use anchora_core::stewardship::LANGUAGES;
use anchora_core::support::{
    EventKind, Level, MAX_ATTACHMENT_BYTES, Priority, QuestionQuery, QuestionView, SlaView, Status,
};
use askama::Template;
use axum::Router;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query};
use axum::http::{StatusCode, header};
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
        .route("/support/{id}/answer", post(make_answer))
        .route(
            "/support/{id}/attachments",
            post(attach).layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES + 64 * 1024)),
        )
        .route("/support/{id}/attachments/{attachment}", get(download))
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

/// Open minutes as people say them: "45 min", "3 h", "2 h 30 min" (a day of the support
/// calendar's open hours is not 24 hours, so hours are not turned into days).
pub(super) fn span(tr: &Tr, minutes: i64) -> String {
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
    /// The link to the hypercare view, for those who look after support (the figures are
    /// everyone's, of the questions they may see).
    oversees: bool,
}

/// `/support`: the questions the reader may see; `view` mine / team / all, `level`, `open`.
async fn list_page(ui: Ui, Query(q): Query<QuestionQuery>) -> PageResult {
    let tr = &ui.tr;
    let (lines, next) = ui.authed.crm.questions(&ui.authed.principal, &q).await.or_page(&ui)?;
    let oversees = (ui.authed.crm)
        .oversees_support(&ui.authed.principal)
        .await
        .or_page(&ui)?;
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
        oversees,
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
    /// The record the page shows, by its name, when the reader may see it.
    page_name: Option<String>,
    errors: HashMap<String, String>,
    /// Looked for answers to what was typed: the published ones that match.
    checked: bool,
    suggestions: Vec<Suggestion>,
}

/// A published answer that may answer the question about to be raised.
pub struct Suggestion {
    pub href: String,
    pub title: String,
    pub category: String,
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
        page_name: page_name(ui, form_value(typed, "page")).await,
        errors: HashMap::new(),
        checked: false,
        suggestions: Vec::new(),
    }
}

/// The language answers are looked for in first: the user's, as answers are written in one of
/// five (`en-GB` reads English ones).
fn answer_language(locale: &str) -> &'static str {
    let primary = locale.split(['-', '_']).next().unwrap_or("");
    LANGUAGES.into_iter().find(|l| *l == primary).unwrap_or("en")
}

/// The form with the published answers that match its subject and description.
async fn checked_form(ui: &Ui, typed: &[(String, String)]) -> Result<NewPage, PageError> {
    let mut page = new_form(ui, typed).await;
    let text = format!("{} {}", page.subject, page.description);
    let language = answer_language(&ui.authed.user.locale);
    let hits = ui
        .authed
        .crm
        .suggest_answers(&ui.authed.principal, &text, language)
        .await
        .or_page(ui)?;
    page.checked = true;
    page.suggestions = hits
        .into_iter()
        .map(|h| Suggestion {
            href: format!("/stewardship/answers/{}", h.answer.id),
            title: h.answer.title,
            category: h.answer.category,
        })
        .collect();
    Ok(page)
}

/// `/support/new?page=…`: the form, with the page it was opened from; with `subject` or
/// `description`, also the answers that match them.
async fn new_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let typed = ["subject", "description"]
        .iter()
        .any(|k| !form_value(&q, k).trim().is_empty());
    let page = if typed {
        checked_form(&ui, &q).await?
    } else {
        new_form(&ui, &q).await
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The record a page shows, named as its object and title ("Deal · Harbour cranes"), when it
/// shows one the reader may see.
async fn page_name(ui: &Ui, page: &str) -> Option<String> {
    let (Some(object), Some(id)) = record_of(page) else {
        return None;
    };
    let (def, record) = ui.authed.crm.get(&ui.authed.principal, &object, &id).await.ok()?;
    let title = record.title(&def);
    let label = super::labels::object(&ui.tr, &def);
    Some(if title.trim().is_empty() {
        label
    } else {
        format!("{label} · {title}")
    })
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

/// The form posted: "Look for answers" (`step=check`) shows it again with the answers that
/// match; otherwise the question is raised.
async fn raise(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    if form_value(&form, "step") == "check" {
        let page = checked_form(&ui, &form).await?;
        return Ok(ui.page(StatusCode::OK, page.render()));
    }
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
    /// The page it was asked from, as a link when it is one of this site's, named by its
    /// record when the reader may see it.
    page_link: Option<String>,
    page_name: Option<String>,
    attachments: Vec<AttachmentRow>,
    /// Solved, and the reader writes answers: "Turn into an answer".
    may_answer: bool,
    error: Option<String>,
}

pub struct AttachmentRow {
    pub href: String,
    pub name: String,
    pub size: String,
    pub who: String,
    pub at: String,
}

/// A file's size as people read it: "812 B", "14 KB", "2.4 MB".
fn file_size(tr: &Tr, bytes: i64) -> String {
    const KB: i64 = 1024;
    if bytes < KB {
        tr.t1("support-size-bytes", "n", bytes)
    } else if bytes < KB * KB {
        tr.t1("support-size-kb", "n", (bytes + KB / 2) / KB)
    } else {
        // One decimal, said in the reader's way ("2.4" / "2,4").
        let tenths = (bytes * 10 + KB * KB / 2) / (KB * KB);
        tr.tn(
            "support-size-mb",
            &[
                ("whole", (tenths / 10).to_string()),
                ("tenth", (tenths % 10).to_string()),
            ],
        )
    }
}

fn question_view(ui: &Ui, q: QuestionView, page_name: Option<String>, error: Option<String>) -> QuestionPage {
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
    let page_link = question
        .page
        .as_deref()
        .and_then(super::same_site_path)
        .map(str::to_string);
    if let Some(p) = question.page.as_ref().filter(|_| page_link.is_none()) {
        facts.push((tr.t("support-page"), p.clone()));
    }
    if let Some(v) = &question.vendor {
        facts.push((tr.t("support-vendor"), v.name.clone()));
        if !v.contact.is_empty() {
            facts.push((tr.t("support-vendor-contact"), v.contact.clone()));
        }
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
        page_link,
        page_name,
        attachments: q
            .attachments
            .iter()
            .map(|a| AttachmentRow {
                href: format!("/support/{}/attachments/{}", question.number, a.id),
                name: a.name.clone(),
                size: file_size(tr, a.size),
                who: names.get(&a.added_by).cloned().unwrap_or_default(),
                at: tr.datetime(a.added_at),
            })
            .collect(),
        may_answer: matches!(ui.authed.principal.role, Role::Admin | Role::KeyUser)
            && matches!(question.status, Status::Resolved | Status::Closed),
        error,
    }
}

async fn show(ui: &Ui, id: &str, status: StatusCode, error: Option<String>) -> PageResult {
    let q = ui.authed.crm.question(&ui.authed.principal, id).await.or_page(ui)?;
    let name = match &q.line.question.page {
        Some(p) => page_name(ui, p).await,
        None => None,
    };
    let page = question_view(ui, q, name, error);
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

/// "Turn into an answer": a draft answer from the solved question, opened to be read over
/// and published.
async fn make_answer(Path(id): Path<String>, Posted { ui, form: _ }: Posted<Pairs>) -> PageResult {
    let made = ui
        .authed
        .crm
        .answer_from_question(&ui.authed.principal, &id, json!({}))
        .await;
    match made.or_forbidden(&ui)? {
        Ok(a) => Ok(Redirect::to(&format!("/stewardship/answers/{}", a.answer.id)).into_response()),
        Err(e) if e.code == anchora_core::ErrorCode::NotFound => show(&ui, &id, StatusCode::NOT_FOUND, None).await,
        // Not solved yet (or changed meanwhile): the question says why.
        Err(e)
            if matches!(
                e.code,
                anchora_core::ErrorCode::ValidationFailed | anchora_core::ErrorCode::Conflict
            ) =>
        {
            let text = ui.tr.t("support-answer-unsolved");
            show(&ui, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
        Err(e) => Err(super::records::unavailable(&ui, &e).into()),
    }
}

/// The upload form's fields: the CSRF token and the file (name, type, bytes). At most one
/// byte past the limit is read, so the refusal names the size instead of cutting the upload.
async fn read_attachment(mut form: Multipart) -> Result<(String, Option<(String, String, Vec<u8>)>), MultipartError> {
    let mut csrf = String::new();
    let mut file = None;
    while let Some(mut field) = form.next_field().await? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "csrf" if csrf.is_empty() => {
                let text = field.text().await?;
                csrf = text.chars().take(200).collect();
            }
            "file" if file.is_none() => {
                let name = field.file_name().unwrap_or("").to_string();
                let content_type = field.content_type().unwrap_or("application/octet-stream").to_string();
                let mut bytes = Vec::new();
                while let Some(chunk) = field.chunk().await? {
                    bytes.extend_from_slice(&chunk);
                    if bytes.len() > MAX_ATTACHMENT_BYTES {
                        break;
                    }
                }
                file = Some((name, content_type, bytes));
            }
            _ => {}
        }
    }
    Ok((csrf, file))
}

/// An attachment refused, said in the reader's language.
fn attachment_problem(tr: &Tr, e: &Error) -> String {
    let message = e.errors.first().map_or("", |f| f.message.as_str());
    let key = if message.starts_with("is larger") {
        "support-attachment-too-large"
    } else if message == "is empty" || message.starts_with("is required") {
        "support-attachment-empty"
    } else {
        "support-attachment-refused"
    };
    tr.t(key)
}

/// The attachment form (multipart, with the CSRF token as a field).
async fn attach(Path(id): Path<String>, ui: Ui, form: Result<Multipart, MultipartRejection>) -> PageResult {
    let read = match form {
        Ok(form) => read_attachment(form).await.map_err(|e| e.status()),
        Err(e) => Err(e.status()),
    };
    let (csrf, file) = match read {
        Ok(read) => read,
        Err(status) => {
            // Cut off by the size limit says so; anything else is no file the form sent.
            let key = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "support-attachment-too-large"
            } else {
                "support-attachment-unreadable"
            };
            return show(&ui, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(ui.tr.t(key))).await;
        }
    };
    if !ui.csrf_ok(&csrf) {
        return Err(super::form_expired(&ui).into());
    }
    let (name, content_type, bytes) = file.unwrap_or_default();
    let added = ui
        .authed
        .crm
        .add_question_attachment(&ui.authed.principal, &id, &name, &content_type, &bytes)
        .await;
    match added.or_forbidden(&ui)? {
        Ok(_) => Ok(Redirect::to(&format!("/support/{id}#attachments")).into_response()),
        Err(e) if e.code == anchora_core::ErrorCode::NotFound => show(&ui, &id, StatusCode::NOT_FOUND, None).await,
        Err(e) => {
            let text = attachment_problem(&ui.tr, &e);
            show(&ui, &id, StatusCode::UNPROCESSABLE_ENTITY, Some(text)).await
        }
    }
}

/// An attachment, as a download (never shown inline: an uploaded HTML file must not run here).
async fn download(ui: Ui, Path((id, attachment)): Path<(String, String)>) -> PageResult {
    let (info, bytes) = ui
        .authed
        .crm
        .question_attachment(&ui.authed.principal, &id, &attachment)
        .await
        .or_page(&ui)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                crate::api::support::content_disposition(&info.name),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        bytes,
    )
        .into_response())
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

    #[test]
    fn answers_are_looked_for_in_one_of_their_languages() {
        assert_eq!(answer_language("sv"), "sv");
        assert_eq!(answer_language("en-GB"), "en");
        assert_eq!(answer_language("fi"), "en");
    }

    #[test]
    fn sizes_are_said_in_bytes_kilobytes_and_megabytes() {
        let tr = Tr::new("en");
        assert_eq!(file_size(&tr, 812), "812 B");
        assert_eq!(file_size(&tr, 14 * 1024), "14 KB");
        assert_eq!(file_size(&tr, 2_516_582), "2.4 MB");
    }
}
