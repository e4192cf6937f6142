//! Mailings in the app: the list with each one's state and progress, the form that writes a
//! draft (selection, template, purpose, pace, sending window, start time), and a mailing's page:
//! its progress while it sends (the page follows it by itself), the counts per status and why
//! people were left out, its recipients, pause / resume / cancel / send again to the uncertain,
//! and who joined or left since an earlier mailing. Every rule is the mailing use cases', the
//! same the API calls.

use super::marketing::{FieldErrors, number, tabs};
use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{NavItem, Shell, Ui, form_value};
use anchora_core::auth::Permission;
use anchora_core::gdpr::PERSON;
use anchora_core::jobs::JobState;
use anchora_core::mailings::{MailingState, MailingView, RecipientStatus, SkipReason};
use anchora_core::templates::TemplateKind;
use anchora_core::views::url_encode;
use anchora_core::{ErrorCode, RecordId};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap};

/// Recipients one page of the table shows.
const RECIPIENT_PAGE: u32 = 50;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Time zones offered first (any IANA name may be typed).
const ZONES: [&str; 12] = [
    "Europe/Stockholm",
    "Europe/Copenhagen",
    "Europe/Oslo",
    "Europe/Helsinki",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/London",
    "Europe/Paris",
    "Atlantic/Canary",
    "America/New_York",
    "America/Los_Angeles",
    "UTC",
];

/// How far a mailing has come: handled of those to send (skipped ones are not sent).
pub struct Progress {
    pub done: u64,
    pub total: u64,
    pub text: String,
}

fn progress(tr: &crate::i18n::Tr, counts: &BTreeMap<String, u64>) -> Progress {
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let total: u64 = RecipientStatus::ALL
        .iter()
        .filter(|s| **s != RecipientStatus::Skipped)
        .map(|s| get(s.as_str()))
        .sum();
    let done = get("sent") + get("failed") + get("bounced");
    Progress {
        done,
        total,
        text: tr.tn(
            "mailing-progress",
            &[("done", number(tr, done)), ("total", number(tr, total))],
        ),
    }
}

pub struct MailingRow {
    pub href: String,
    pub name: String,
    pub state: &'static str,
    pub state_label: String,
    pub progress: Progress,
    pub selection: String,
    pub template: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "ui/mailings.html")]
struct MailingsPage {
    shell: Shell,
    title: String,
    tabs: Vec<NavItem>,
    rows: Vec<MailingRow>,
    may_send: bool,
    notice: Option<String>,
}

/// Names of the selections and templates the user may use, by id.
struct Names {
    selections: HashMap<String, String>,
    templates: HashMap<String, String>,
}

impl Names {
    async fn read(ui: &Ui) -> Names {
        let crm = &ui.authed.crm;
        let who = &ui.authed.principal;
        Names {
            selections: (crm.list_selections(who).await.unwrap_or_default().into_iter())
                .map(|s| (s.selection.id.to_string(), s.selection.name))
                .collect(),
            templates: (crm.list_templates(who).await.unwrap_or_default().into_iter())
                .map(|t| (t.template.id.to_string(), t.template.name))
                .collect(),
        }
    }

    fn of(map: &HashMap<String, String>, id: &str) -> String {
        map.get(id).cloned().unwrap_or_else(|| "—".into())
    }
}

fn state_label(tr: &crate::i18n::Tr, state: MailingState) -> String {
    tr.t(&format!("mailing-state-{}", state.as_str()))
}

/// `/mailings`: the mailings the user may see, newest first.
pub async fn mailings_page(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let found = ui.authed.crm.list_mailings(&ui.authed.principal).await.or_page(&ui)?;
    let names = Names::read(&ui).await;
    let tr = &ui.tr;
    let rows = found
        .iter()
        .map(|v| {
            let m = &v.mailing;
            MailingRow {
                href: format!("/mailings/{}", m.id),
                name: m.name.clone(),
                state: m.state.as_str(),
                state_label: state_label(tr, m.state),
                progress: progress(tr, &v.counts),
                selection: Names::of(&names.selections, &m.selection.to_string()),
                template: Names::of(&names.templates, &m.template.to_string()),
                created: tr.datetime(m.created_at),
            }
        })
        .collect();
    let page = MailingsPage {
        shell: ui.shell("mailings"),
        title: tr.t("nav-mailings"),
        tabs: tabs(&ui, "mailings"),
        rows,
        may_send: ui.authed.principal.may(Permission::MassMail, &ui.schema.policy),
        notice: (form_value(&q, "deleted") == "1").then(|| tr.t("mailing-deleted")),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// What the mailing form says.
#[derive(Default)]
struct Written {
    name: String,
    selection: String,
    template: String,
    purpose: String,
    throttle_mails: String,
    throttle_minutes: String,
    window_on: bool,
    days: Vec<String>,
    from_hour: String,
    to_hour: String,
    time_zone: String,
    /// As typed (`2026-12-01T09:00`), in the browser's time.
    start_at: String,
    /// The browser's offset from UTC at that time, in minutes (as `getTimezoneOffset` says).
    start_offset: String,
    version: Option<i64>,
}

impl Written {
    fn of(form: &[(String, String)]) -> Written {
        let get = |k: &str| form_value(form, k).trim().to_string();
        Written {
            name: form_value(form, "name").to_string(),
            selection: get("selection"),
            template: get("template"),
            purpose: get("purpose"),
            throttle_mails: get("throttle_mails"),
            throttle_minutes: get("throttle_minutes"),
            window_on: get("window_on") == "on",
            days: form
                .iter()
                .filter(|(k, _)| k == "day")
                .map(|(_, v)| v.clone())
                .collect(),
            from_hour: get("from_hour"),
            to_hour: get("to_hour"),
            time_zone: get("time_zone"),
            start_at: get("start_at"),
            start_offset: get("start_offset"),
            version: form_value(form, "version").parse().ok(),
        }
    }

    fn of_mailing(m: &anchora_core::mailings::Mailing) -> Written {
        Written {
            name: m.name.clone(),
            selection: m.selection.to_string(),
            template: m.template.to_string(),
            purpose: m.purpose.clone(),
            throttle_mails: m.throttle.map(|t| t.mails.to_string()).unwrap_or_default(),
            throttle_minutes: m.throttle.map(|t| t.minutes.to_string()).unwrap_or_default(),
            window_on: m.window.is_some(),
            days: m.window.as_ref().map(|w| w.days.clone()).unwrap_or_default(),
            from_hour: m.window.as_ref().map(|w| w.from_hour.to_string()).unwrap_or_default(),
            to_hour: m.window.as_ref().map(|w| w.to_hour.to_string()).unwrap_or_default(),
            time_zone: m.window.as_ref().map(|w| w.time_zone.clone()).unwrap_or_default(),
            start_at: m
                .start_at
                .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
                .unwrap_or_default(),
            start_offset: "0".into(),
            version: Some(m.version),
        }
    }

    /// The start time in UTC; an error message when it cannot be read.
    fn start(&self, tr: &crate::i18n::Tr) -> Result<Option<DateTime<Utc>>, String> {
        if self.start_at.is_empty() {
            return Ok(None);
        }
        let local = NaiveDateTime::parse_from_str(&self.start_at, "%Y-%m-%dT%H:%M")
            .or_else(|_| NaiveDateTime::parse_from_str(&self.start_at, "%Y-%m-%dT%H:%M:%S"))
            .map_err(|_| tr.t("mailing-start-unreadable"))?;
        let offset: i64 = self.start_offset.parse().unwrap_or(0).clamp(-24 * 60, 24 * 60);
        // A year at the edge of what a date holds must not overflow (an error, not a panic).
        local
            .checked_add_signed(Duration::minutes(offset))
            .map(|t| Some(t.and_utc()))
            .ok_or_else(|| tr.t("mailing-start-unreadable"))
    }

    fn body(&self, start: Option<DateTime<Utc>>) -> Json {
        // A number that cannot be read goes as 0, which the use case refuses at its field.
        let n = |s: &str| s.parse::<u32>().unwrap_or(0);
        let throttle = (!self.throttle_mails.is_empty() || !self.throttle_minutes.is_empty())
            .then(|| json!({"mails": n(&self.throttle_mails), "minutes": n(&self.throttle_minutes)}));
        let hour = |s: &str, empty: u32| if s.is_empty() { empty } else { s.parse().unwrap_or(99) };
        let window = self.window_on.then(|| {
            json!({
                "days": self.days,
                "from_hour": hour(&self.from_hour, 0),
                "to_hour": hour(&self.to_hour, 24),
                "time_zone": self.time_zone,
            })
        });
        json!({
            "name": self.name,
            "selection": self.selection,
            "template": self.template,
            "purpose": self.purpose,
            "start_at": start,
            "throttle": throttle,
            "window": window,
            "version": self.version,
        })
    }
}

#[derive(Template)]
#[template(path = "ui/mailing_form.html")]
struct FormPage {
    shell: Shell,
    title: String,
    tabs: Vec<NavItem>,
    /// None while it is new.
    id: Option<String>,
    w: Written,
    /// UTC of the start time as kept, for the browser to show in its own time.
    start_utc: String,
    selections: Vec<(String, String)>,
    templates: Vec<(String, String)>,
    purposes: Vec<(String, String)>,
    days: Vec<(String, String, bool)>,
    zones: Vec<String>,
    errors: FieldErrors,
}

async fn form_view(ui: &Ui, id: Option<String>, w: Written, start_utc: String, errors: FieldErrors) -> FormPage {
    let crm = &ui.authed.crm;
    let who = &ui.authed.principal;
    let tr = &ui.tr;
    let selections = (crm.list_selections(who).await.unwrap_or_default().into_iter())
        .filter(|s| s.selection.object == PERSON)
        .map(|s| (s.selection.id.to_string(), s.selection.name))
        .collect();
    let templates = (crm.list_templates(who).await.unwrap_or_default().into_iter())
        .filter(|t| t.template.kind == TemplateKind::Email)
        .map(|t| (t.template.id.to_string(), t.template.name))
        .collect();
    let purposes = (crm.purposes(who).await.unwrap_or_default().into_iter())
        .map(|p| (p.key, p.name))
        .collect();
    FormPage {
        shell: ui.shell("mailings"),
        title: match &id {
            Some(_) => w.name.clone(),
            None => tr.t("mailing-new"),
        },
        tabs: tabs(ui, "mailings"),
        days: DAYS
            .iter()
            .map(|d| {
                (
                    (*d).to_string(),
                    tr.t(&format!("day-{d}")),
                    w.days.iter().any(|x| x == d),
                )
            })
            .collect(),
        zones: ZONES.iter().map(|z| (*z).to_string()).collect(),
        id,
        w,
        start_utc,
        selections,
        templates,
        purposes,
        errors,
    }
}

/// `/mailings/new?selection=…&template=…`: the form for a new draft.
pub async fn new_page(ui: Ui, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    if !ui.authed.principal.may(Permission::MassMail, &ui.schema.policy) {
        return Err(PageError::forbidden(&ui));
    }
    let w = Written {
        selection: form_value(&q, "selection").to_string(),
        template: form_value(&q, "template").to_string(),
        from_hour: "8".into(),
        to_hour: "17".into(),
        days: DAYS.iter().take(5).map(|d| (*d).to_string()).collect(),
        ..Written::default()
    };
    let page = form_view(&ui, None, w, String::new(), FieldErrors::default()).await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// `/mailings/{id}/edit`: a draft's form.
pub async fn edit_page(ui: Ui, Path(id): Path<String>) -> PageResult {
    let view = ui
        .authed
        .crm
        .get_mailing(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    if view.mailing.state != MailingState::Draft || !view.may_change {
        return Ok(Redirect::to(&format!("/mailings/{}", view.mailing.id)).into_response());
    }
    let start_utc = view.mailing.start_at.map(|t| t.to_rfc3339()).unwrap_or_default();
    let w = Written::of_mailing(&view.mailing);
    let page = form_view(&ui, Some(id), w, start_utc, FieldErrors::default()).await;
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// `POST /mailings`: keep a new draft; its page next.
pub async fn create(Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    written(ui, None, form).await
}

/// `POST /mailings/{id}`: change a draft.
pub async fn update(Path(id): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    written(ui, Some(id), form).await
}

async fn written(ui: Ui, id: Option<String>, form: Vec<(String, String)>) -> PageResult {
    let mut w = Written::of(&form);
    let start = match w.start(&ui.tr) {
        Ok(s) => s,
        Err(message) => {
            let mut errors = FieldErrors::banner(ui.tr.t("marketing-fix-fields"));
            errors.by_field.insert("start_at".into(), message);
            let page = form_view(&ui, id, w, String::new(), errors).await;
            return Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()));
        }
    };
    let crm = &ui.authed.crm;
    let kept = match &id {
        None => crm.create_mailing(&ui.authed.principal, w.body(start)).await,
        Some(id) => crm.update_mailing(&ui.authed.principal, id, w.body(start)).await,
    };
    match kept.or_forbidden(&ui)? {
        Ok(view) => Ok(Redirect::to(&format!("/mailings/{}", view.mailing.id)).into_response()),
        Err(e) => {
            let mut errors = FieldErrors::of(&ui.tr, &e);
            errors.rename("window", "window.days");
            if e.code == ErrorCode::VersionConflict {
                // Keep what they wrote; saving again replaces the other version with it.
                errors.banner = Some(ui.tr.t("mailing-conflict"));
                w.version = e.current.as_ref().and_then(|c| c.get("version")).and_then(Json::as_i64);
            }
            let start_utc = start.map(|t| t.to_rfc3339()).unwrap_or_default();
            let page = form_view(&ui, id, w, start_utc, errors).await;
            Ok(ui.page(StatusCode::UNPROCESSABLE_ENTITY, page.render()))
        }
    }
}

pub struct CountTile {
    pub key: &'static str,
    pub label: String,
    pub value: String,
    pub href: String,
    pub current: bool,
}

pub struct RecipientRow {
    pub title: String,
    pub href: String,
    pub email: String,
    pub language: String,
    pub status: &'static str,
    pub status_label: String,
    pub attempts: u32,
    pub sent_at: String,
    pub detail: String,
}

/// Who joined and who left since an earlier mailing: (title, link) each.
pub struct Changes {
    pub since_name: String,
    pub joined: Vec<(String, String)>,
    pub left: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "ui/mailing.html")]
struct MailingPage {
    shell: Shell,
    title: String,
    tabs: Vec<NavItem>,
    id: String,
    state: &'static str,
    state_label: String,
    version: i64,
    may_change: bool,
    facts: Vec<(String, String, Option<String>)>,
    paused_because: Option<String>,
    /// When a sending mailing waits for its pace or window: until when.
    waiting: Option<String>,
    progress: Progress,
    tiles: Vec<CountTile>,
    skipped: Vec<(String, String)>,
    uncertain: u64,
    recipients: Vec<RecipientRow>,
    next: Option<String>,
    first: Option<String>,
    earlier: Vec<(String, String)>,
    since: String,
    changes: Option<Changes>,
    notice: Option<String>,
    error: Option<String>,
    /// The selection's count before a draft starts, in words.
    reach: Option<String>,
}

/// What a mailing's page is built from.
struct Read {
    view: MailingView,
    recipients: anchora_core::mailings::RecipientPage,
    titles: HashMap<RecordId, String>,
    changes: Option<anchora_core::mailings::SnapshotChanges>,
    others: Vec<MailingView>,
    names: Names,
    reach: Option<u64>,
    waiting: Option<DateTime<Utc>>,
    /// The consent purposes: (key, name).
    purposes: Vec<(String, String)>,
}

/// `/mailings/{id}?status=…&after=…&since=…`: a mailing, its counts and its recipients.
pub async fn mailing_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Vec<(String, String)>>) -> PageResult {
    let crm = &ui.authed.crm;
    let who = &ui.authed.principal;
    let view = crm.get_mailing(who, &id).await.or_page(&ui)?;
    let status = Some(form_value(&q, "status")).filter(|s| !s.is_empty());
    let after = Some(form_value(&q, "after")).filter(|a| !a.is_empty());
    let recipients = crm
        .mailing_recipients(who, &id, status, after, Some(RECIPIENT_PAGE))
        .await;
    let recipients = recipients.or_page(&ui)?;
    let changes = match form_value(&q, "since") {
        "" => None,
        since => crm.mailing_changes(who, &id, since).await.ok(),
    };
    let mut wanted: Vec<RecordId> = recipients.recipients.iter().map(|r| r.person).collect();
    if let Some(c) = &changes {
        wanted.extend(c.joined.iter().chain(&c.left).copied());
    }
    let reach = match view.mailing.state {
        MailingState::Draft => (crm.get_selection(who, &view.mailing.selection.to_string()).await)
            .ok()
            .and_then(|s| s.count),
        _ => None,
    };
    let read = Read {
        titles: crm.titles(who, PERSON, &wanted).await.unwrap_or_default(),
        others: crm.list_mailings(who).await.unwrap_or_default(),
        names: Names::read(&ui).await,
        waiting: waiting_until(&ui, &view).await,
        purposes: (crm.purposes(who).await.unwrap_or_default().into_iter())
            .map(|p| (p.key, p.name))
            .collect(),
        view,
        recipients,
        changes,
        reach,
    };
    let page = mailing_view(&ui, read, &q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// When a sending mailing's next job is due, if it waits (for its pace, window or start).
async fn waiting_until(ui: &Ui, view: &MailingView) -> Option<DateTime<Utc>> {
    let job = view
        .mailing
        .job
        .filter(|_| view.mailing.state == MailingState::Sending)?;
    let job = ui.authed.crm.job(&ui.authed.principal, &job.to_string()).await.ok()?;
    let now = ui.authed.crm.clock.now();
    (job.job.state == JobState::Queued && job.job.run_at > now + Duration::seconds(5)).then_some(job.job.run_at)
}

/// The pace in words: "40 messages per 5 minutes", or as fast as the server takes them.
fn pace(tr: &crate::i18n::Tr, m: &anchora_core::mailings::Mailing) -> String {
    match m.throttle {
        Some(t) => tr.tn(
            "mailing-pace",
            &[
                ("mails", number(tr, u64::from(t.mails))),
                ("minutes", number(tr, u64::from(t.minutes))),
            ],
        ),
        None => tr.t("mailing-pace-none"),
    }
}

/// The sending window in words: "Mon, Tue … 08–17 (Europe/Stockholm)", or any time.
fn window(tr: &crate::i18n::Tr, m: &anchora_core::mailings::Mailing) -> String {
    match &m.window {
        Some(w) => tr.tn(
            "mailing-window-text",
            &[
                (
                    "days",
                    DAYS.iter()
                        .filter(|d| w.days.iter().any(|x| x == *d))
                        .map(|d| tr.t(&format!("day-{d}-short")))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                ("from", format!("{:02}", w.from_hour)),
                ("to", format!("{:02}", w.to_hour)),
                ("zone", w.time_zone.clone()),
            ],
        ),
        None => tr.t("mailing-window-none"),
    }
}

fn status_label(tr: &crate::i18n::Tr, status: RecipientStatus, skip: Option<SkipReason>) -> String {
    match (status, skip) {
        (RecipientStatus::Skipped, Some(reason)) => tr.t1(
            "mailing-skipped-because",
            "reason",
            tr.t(&format!("mailing-skip-{}", reason.as_str().replace('_', "-"))),
        ),
        _ => tr.t(&format!("mailing-status-{}", status.as_str())),
    }
}

fn mailing_view(ui: &Ui, read: Read, q: &[(String, String)]) -> MailingPage {
    let tr = &ui.tr;
    let m = &read.view.mailing;
    let counts = &read.view.counts;
    let id = m.id.to_string();
    let here = format!("/mailings/{id}");
    let status = form_value(q, "status").to_string();
    let get = |k: &str| counts.get(k).copied().unwrap_or(0);
    let with_status = |s: &str| {
        if s.is_empty() {
            format!("{here}#recipients")
        } else {
            format!("{here}?status={s}#recipients")
        }
    };
    let mut tiles = vec![CountTile {
        key: "all",
        label: tr.t("mailing-status-all"),
        value: number(tr, RecipientStatus::ALL.iter().map(|s| get(s.as_str())).sum()),
        href: with_status(""),
        current: status.is_empty(),
    }];
    tiles.extend(
        RecipientStatus::ALL
            .iter()
            .filter(|s| **s != RecipientStatus::Sending || get(s.as_str()) > 0)
            .map(|s| CountTile {
                key: s.as_str(),
                label: tr.t(&format!("mailing-status-{}", s.as_str())),
                value: number(tr, get(s.as_str())),
                href: with_status(s.as_str()),
                current: status == s.as_str(),
            }),
    );
    let skipped = SkipReason::ALL
        .iter()
        .filter_map(|r| {
            let n = get(&format!("skipped.{}", r.as_str()));
            (n > 0).then(|| {
                (
                    tr.t(&format!("mailing-skip-{}", r.as_str().replace('_', "-"))),
                    number(tr, n),
                )
            })
        })
        .collect();
    let recipients = read
        .recipients
        .recipients
        .iter()
        .map(|r| RecipientRow {
            title: read
                .titles
                .get(&r.person)
                .cloned()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| "—".into()),
            href: format!("/o/{PERSON}/{}", r.person),
            email: r.email.clone().unwrap_or_default(),
            language: r.language.clone().unwrap_or_default(),
            status: r.status.as_str(),
            status_label: status_label(tr, r.status, r.skip),
            attempts: r.attempts,
            sent_at: r.sent_at.map(|t| tr.datetime(t)).unwrap_or_default(),
            detail: r.detail.clone().unwrap_or_default(),
        })
        .collect();
    let page_link = |after: Option<String>| {
        let mut pairs = Vec::new();
        if !status.is_empty() {
            pairs.push(format!("status={}", url_encode(&status)));
        }
        if let Some(a) = after {
            pairs.push(format!("after={a}"));
        }
        format!("{here}?{}#recipients", pairs.join("&"))
    };
    let facts = vec![
        (
            tr.t("mailing-selection"),
            Names::of(&read.names.selections, &m.selection.to_string()),
            Some(format!("/selections/{}", m.selection))
                .filter(|_| read.names.selections.contains_key(&m.selection.to_string())),
        ),
        (
            tr.t("mailing-template"),
            Names::of(&read.names.templates, &m.template.to_string()),
            Some(format!("/templates/{}", m.template))
                .filter(|_| read.names.templates.contains_key(&m.template.to_string())),
        ),
        (tr.t("mailing-purpose"), purpose_name(&read.purposes, &m.purpose), None),
        (tr.t("mailing-throttle"), pace(tr, m), None),
        (tr.t("mailing-window"), window(tr, m), None),
        (
            tr.t("mailing-start"),
            m.start_at.map_or_else(|| tr.t("mailing-start-now"), |t| tr.datetime(t)),
            None,
        ),
    ]
    .into_iter()
    .chain(m.prepared_at.map(|t| (tr.t("mailing-prepared"), tr.datetime(t), None)))
    .chain(m.finished_at.map(|t| (tr.t("mailing-finished"), tr.datetime(t), None)))
    .collect();
    let notice = match form_value(q, "did") {
        step @ ("start" | "pause" | "resume" | "cancel" | "resend") => Some(tr.t(&format!("mailing-did-{step}"))),
        _ => None,
    };
    MailingPage {
        shell: ui.shell("mailings"),
        title: m.name.clone(),
        tabs: tabs(ui, "mailings"),
        state: m.state.as_str(),
        state_label: state_label(tr, m.state),
        version: m.version,
        may_change: read.view.may_change,
        facts,
        paused_because: m.paused_because.clone(),
        waiting: read.waiting.map(|t| tr.t1("mailing-waiting", "when", tr.datetime(t))),
        progress: progress(tr, counts),
        tiles,
        skipped,
        uncertain: get("uncertain"),
        recipients,
        next: read.recipients.next.map(|n| page_link(Some(n.to_string()))),
        first: Some(form_value(q, "after"))
            .filter(|a| !a.is_empty())
            .map(|_| page_link(None)),
        earlier: read
            .others
            .iter()
            .filter(|o| o.mailing.id != m.id && o.mailing.prepared_at.is_some())
            .map(|o| (o.mailing.id.to_string(), o.mailing.name.clone()))
            .collect(),
        since: form_value(q, "since").to_string(),
        changes: read.changes.map(|c| {
            let link = |p: &RecordId| {
                (
                    read.titles.get(p).cloned().unwrap_or_else(|| "—".into()),
                    format!("/o/{PERSON}/{p}"),
                )
            };
            Changes {
                since_name: read
                    .others
                    .iter()
                    .find(|o| o.mailing.id.to_string() == form_value(q, "since"))
                    .map(|o| o.mailing.name.clone())
                    .unwrap_or_default(),
                joined: c.joined.iter().map(link).collect(),
                left: c.left.iter().map(link).collect(),
            }
        }),
        notice,
        error: Some(form_value(q, "error").chars().take(300).collect::<String>()).filter(|e| !e.is_empty()),
        reach: read.reach.map(|n| super::marketing::records(tr, n)),
        id,
    }
}

/// A purpose's name (its key when it is gone).
fn purpose_name(purposes: &[(String, String)], key: &str) -> String {
    purposes
        .iter()
        .find(|(k, _)| k == key)
        .map_or_else(|| key.to_string(), |(_, n)| n.clone())
}

/// `POST /mailings/{id}/{step}`: start, pause, resume, cancel, send again to the uncertain, or
/// delete a draft; with the version the page showed.
pub async fn step(
    Path((id, step)): Path<(String, String)>,
    Posted { ui, form }: Posted<Vec<(String, String)>>,
) -> PageResult {
    let crm = &ui.authed.crm;
    let who = &ui.authed.principal;
    let version: i64 = form_value(&form, "version").parse().unwrap_or(0);
    let body = json!({ "version": version });
    let done = match step.as_str() {
        "start" => crm.start_mailing(who, &id, body).await.map(|_| ()),
        "pause" => crm.pause_mailing(who, &id, body).await.map(|_| ()),
        "resume" => crm.resume_mailing(who, &id, body).await.map(|_| ()),
        "cancel" => crm.cancel_mailing(who, &id, body).await.map(|_| ()),
        "resend" => crm.resend_uncertain(who, &id, body).await.map(|_| ()),
        "delete" => {
            let deleted = crm.delete_mailing(who, &id).await;
            deleted.or_forbidden_else(&ui, |e| back_with_error(&ui, &id, &e))?;
            return Ok(Redirect::to("/mailings?deleted=1").into_response());
        }
        _ => return Err(PageError::not_found(&ui)),
    };
    done.or_forbidden_else(&ui, |e| back_with_error(&ui, &id, &e))?;
    Ok(Redirect::to(&format!("/mailings/{}?did={step}", url_encode(&id))).into_response())
}

/// Back to the mailing's page, saying why the step was not taken.
fn back_with_error(ui: &Ui, id: &str, e: &anchora_core::Error) -> Response {
    let text = if e.code == ErrorCode::VersionConflict {
        ui.tr.t("mailing-conflict")
    } else {
        super::admin::problem(e)
    };
    Redirect::to(&format!("/mailings/{}?error={}", url_encode(id), url_encode(&text))).into_response()
}
