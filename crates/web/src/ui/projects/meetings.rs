//! Meetings, actions and escalations, and the communication matrix, in the app. The agenda of a
//! meeting not yet held is generated afresh from the project's data on every view; minutes
//! recorded as held freeze it and mark the matrix rows they fulfil as sent.

use super::{
    Fields, Params, ProjectHead, back, date, field, form_number, load, may_write, member_name, role_label, shell,
};
use crate::ui::page_error::PageResult;
use crate::ui::posted::Posted;
use crate::ui::{Shell, Ui};
use anchora_core::Error;
use anchora_core::project::escalation::{Escalation, EscalationKind};
use anchora_core::project::matrix::{Communication, Due, Fulfilment};
use anchora_core::project::meetings::{self, Action, AgendaItem, Meeting, Series};
use anchora_core::project::model::Cadence;
use anchora_core::project::roles::DECISION_MAKER;
use anchora_core::project::{ProjectRights, ProjectState};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde_json::json;
use std::collections::HashMap;

pub struct AgendaLine {
    pub text: String,
    pub overdue: bool,
}

pub struct MeetingCard {
    pub number: u32,
    pub version: i64,
    pub heading: String,
    pub held: Option<String>,
    pub agenda: Vec<AgendaLine>,
    pub minutes: String,
    pub decisions: Vec<String>,
    pub attendees: String,
}

pub struct ActionRow {
    pub number: u32,
    pub version: i64,
    pub title: String,
    pub owner: String,
    pub due: String,
    pub state: String,
    pub state_key: &'static str,
    pub from: String,
    pub may_finish: bool,
    pub may_escalate: bool,
}

pub struct EscalationRow {
    pub number: u32,
    pub version: i64,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub raised: String,
    pub decision: Option<String>,
}

pub struct SeriesRow {
    pub key: &'static str,
    pub label: String,
    pub rhythm: String,
    pub next: String,
    pub next_iso: String,
}

#[derive(Template)]
#[template(path = "ui/project_meetings.html")]
struct MeetingsPage {
    shell: Shell,
    title: String,
    head: ProjectHead,
    series: Vec<SeriesRow>,
    meetings: Vec<MeetingCard>,
    actions: Vec<ActionRow>,
    escalations: Vec<EscalationRow>,
    members: Vec<(u32, String)>,
    may_escalate: bool,
    may_decide: bool,
    kinds: Vec<(&'static str, String)>,
}

fn series_label(ui: &Ui, s: Series) -> String {
    ui.tr.t(&format!("meeting-series-{}", s.as_str().replace('_', "-")))
}

fn cadence_label(ui: &Ui, c: Cadence) -> String {
    ui.tr.t(&format!("project-cadence-{}", c.as_str()))
}

fn agenda_line(ui: &Ui, state: &ProjectState, item: &AgendaItem) -> AgendaLine {
    match item {
        AgendaItem::Action {
            number,
            title,
            owner,
            due,
            overdue,
        } => AgendaLine {
            text: ui.tr.tn(
                "agenda-action",
                &[
                    ("number", number.to_string()),
                    ("title", title.clone()),
                    ("owner", member_name(state, *owner)),
                    ("due", date(ui, *due)),
                ],
            ),
            overdue: *overdue,
        },
        AgendaItem::Change { number, title } => AgendaLine {
            text: ui.tr.tn(
                "agenda-change",
                &[("number", number.to_string()), ("title", title.clone())],
            ),
            overdue: false,
        },
        AgendaItem::Escalation { number, title } => AgendaLine {
            text: ui.tr.tn(
                "agenda-escalation",
                &[("number", number.to_string()), ("title", title.clone())],
            ),
            overdue: false,
        },
        AgendaItem::Milestone { task, name, date: d } => AgendaLine {
            text: ui.tr.tn(
                "agenda-milestone",
                &[
                    ("task", task.to_string()),
                    ("name", name.clone()),
                    ("date", date(ui, *d)),
                ],
            ),
            overdue: false,
        },
    }
}

fn meeting_card(ui: &Ui, state: &ProjectState, m: &Meeting) -> MeetingCard {
    let mut heading = format!("{} · {}", date(ui, m.date), series_label(ui, m.series));
    if !m.title.is_empty() {
        heading = format!("{heading} · {}", m.title);
    }
    MeetingCard {
        number: m.number,
        version: m.version,
        heading,
        held: m.held.as_ref().map(|h| ui.tr.datetime(h.at)),
        agenda: state.agenda(m).iter().map(|i| agenda_line(ui, state, i)).collect(),
        minutes: m.minutes.clone(),
        decisions: m.decisions.clone(),
        attendees: m
            .attendees
            .iter()
            .map(|a| member_name(state, Some(*a)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

pub async fn meetings_page(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let page = meetings_view(&ui, &state, rights, &q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// What the caller may do on the meetings page.
struct MeetingRights {
    rights: ProjectRights,
    may_write: bool,
    may_escalate: bool,
    /// Actions with an open escalation, which cannot be escalated again.
    escalated: Vec<u32>,
}

fn meetings_view(ui: &Ui, state: &ProjectState, rights: ProjectRights, q: &HashMap<String, String>) -> MeetingsPage {
    let today = ui.authed.crm.clock.now().date_naive();
    let may_write = may_write(ui);
    let member = rights.member.and_then(|n| state.member(n));
    let may_escalate = may_write && (rights.edit || member.is_some());
    let may_decide = may_write && (rights.edit || member.is_some_and(|m| m.holds(DECISION_MAKER)));
    let mut meetings: Vec<&Meeting> = state.meetings.iter().collect();
    meetings.sort_by_key(|m| std::cmp::Reverse((m.date, m.number)));
    let mut actions: Vec<_> = state.actions.iter().collect();
    actions.sort_by_key(|a| (a.done.is_some(), a.due, a.number));
    let may = MeetingRights {
        rights,
        may_write,
        may_escalate,
        escalated: (state.escalations.iter().filter(|e| e.open()))
            .filter_map(|e| e.action)
            .collect(),
    };
    MeetingsPage {
        shell: shell(ui),
        title: state.project.settings.name.clone(),
        head: ProjectHead::new(ui, state, rights, "meetings", q),
        series: series_rows(ui, state, today),
        meetings: meetings.iter().map(|m| meeting_card(ui, state, m)).collect(),
        actions: (actions.into_iter())
            .map(|a| action_row(ui, state, a, &may, today))
            .collect(),
        escalations: state.escalations.iter().rev().map(|e| escalation_row(ui, e)).collect(),
        members: state.members.iter().map(|m| (m.number, m.name.clone())).collect(),
        may_escalate,
        may_decide,
        kinds: [EscalationKind::Issue, EscalationKind::Risk]
            .iter()
            .map(|k| (k.as_str(), ui.tr.t(&format!("escalation-kind-{}", k.as_str()))))
            .collect(),
    }
}

/// Each meeting series with its rhythm and when it next meets.
fn series_rows(ui: &Ui, state: &ProjectState, today: NaiveDate) -> Vec<SeriesRow> {
    Series::ALL
        .iter()
        .map(|s| {
            let next = meetings::next_meeting(*s, &state.meetings, today);
            SeriesRow {
                key: s.as_str(),
                label: series_label(ui, *s),
                rhythm: cadence_label(ui, s.rhythm()),
                next: date(ui, next),
                next_iso: next.to_string(),
            }
        })
        .collect()
}

/// An action with its state, the meeting it came from, and what the caller may do with it.
fn action_row(ui: &Ui, state: &ProjectState, a: &Action, may: &MeetingRights, today: NaiveDate) -> ActionRow {
    let (key, label) = if a.done.is_some() {
        ("done", "action-done")
    } else if a.overdue(today) {
        ("overdue", "action-overdue")
    } else {
        ("open", "action-open")
    };
    let owner = a.owner.is_some() && a.owner == may.rights.member;
    ActionRow {
        number: a.number,
        version: a.version,
        title: a.title.clone(),
        owner: member_name(state, a.owner),
        due: date(ui, a.due),
        state: ui.tr.t(label),
        state_key: key,
        from: a
            .meeting
            .and_then(|n| state.meeting(n))
            .map(|m| format!("{} · {}", date(ui, m.date), series_label(ui, m.series)))
            .unwrap_or_default(),
        may_finish: may.may_write && a.open() && (may.rights.edit || owner),
        may_escalate: may.may_escalate && a.open() && !may.escalated.contains(&a.number),
    }
}

/// An escalation and, once decided, the decision.
fn escalation_row(ui: &Ui, e: &Escalation) -> EscalationRow {
    EscalationRow {
        number: e.number,
        version: e.version,
        kind: ui.tr.t(&format!("escalation-kind-{}", e.kind.as_str())),
        title: e.title.clone(),
        description: e.description.clone(),
        raised: ui.tr.datetime(e.raised_at),
        decision: e
            .decision
            .as_ref()
            .map(|d| format!("{} ({})", d.text, ui.tr.datetime(d.at))),
    }
}

pub async fn add_meeting(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let body =
        json!({ "series": field(&form, "series"), "date": field(&form, "date"), "title": field(&form, "title") });
    let result = ui
        .authed
        .crm
        .add_meeting(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/meetings"), result)
}

/// Minutes, decisions (one per line) and up to three new actions.
pub async fn minutes(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let mut actions = Vec::new();
        for i in 1..=3 {
            let title = field(&form, &format!("action_title_{i}"));
            if title.is_empty() {
                continue;
            }
            let due = field(&form, &format!("action_due_{i}"));
            NaiveDate::parse_from_str(due, "%Y-%m-%d").map_err(|_| Error::field("due", "must be a date"))?;
            let owner = field(&form, &format!("action_owner_{i}")).parse::<u32>().ok();
            actions.push(json!({ "title": title, "owner": owner, "due": due }));
        }
        let body = json!({
            "version": form_number(&form, "version")?,
            "minutes": field(&form, "minutes"),
            "decisions": super::lines(field(&form, "decisions")),
            "actions": actions,
            "held": field(&form, "held") == "on",
        });
        ui.authed
            .crm
            .record_minutes(&ui.authed.principal, &id, n, body)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/meetings"), result)
}

pub async fn add_action(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let body = json!({
        "title": field(&form, "title"),
        "owner": field(&form, "owner").parse::<u32>().ok(),
        "due": field(&form, "due"),
        "meeting": null,
    });
    let result = ui
        .authed
        .crm
        .add_action(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/meetings"), result)
}

/// Mark done (`done`), or escalate (`escalate`).
pub async fn action_step(
    Path((id, n, step)): Path<(String, u32, String)>,
    Posted { ui, form }: Posted<Fields>,
) -> Response {
    let result = async {
        match step.as_str() {
            "done" => {
                let body = json!({ "version": form_number(&form, "version")?, "done": true });
                ui.authed
                    .crm
                    .update_action(&ui.authed.principal, &id, n, body)
                    .await
                    .map(|_| ())
            }
            "escalate" => {
                let body = json!({ "kind": "action", "action": n, "description": field(&form, "description") });
                ui.authed
                    .crm
                    .escalate(&ui.authed.principal, &id, body)
                    .await
                    .map(|_| ())
            }
            _ => Err(Error::not_found("no such step")),
        }
    }
    .await;
    back(&ui, &format!("/projects/{id}/meetings"), result)
}

pub async fn escalate(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let body = json!({
        "kind": field(&form, "kind"),
        "title": field(&form, "title"),
        "description": field(&form, "description"),
    });
    let result = ui
        .authed
        .crm
        .escalate(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/meetings"), result)
}

pub async fn decide_escalation(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let version = form_number(&form, "version")?;
        ui.authed
            .crm
            .decide_escalation(&ui.authed.principal, &id, n, field(&form, "decision"), version)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/meetings"), result)
}

// ---- The communication matrix ----

pub struct MatrixRow {
    pub number: u32,
    pub version: i64,
    pub sender: String,
    pub senders: String,
    pub audience: String,
    pub content: String,
    pub channel: String,
    pub frequency: String,
    pub fulfilled_by: String,
    pub last_done: String,
    pub next_due: String,
    pub due: String,
    pub due_key: &'static str,
    pub may_mark: bool,
}

#[derive(Template)]
#[template(path = "ui/project_communication.html")]
struct CommunicationPage {
    shell: Shell,
    title: String,
    head: ProjectHead,
    rows: Vec<MatrixRow>,
    roles: Vec<(String, String)>,
    cadences: Vec<(&'static str, String)>,
    fulfilments: Vec<(String, String)>,
}

fn fulfilment_label(ui: &Ui, f: Fulfilment) -> String {
    match f {
        Fulfilment::StatusReport => ui.tr.t("matrix-by-status-report"),
        Fulfilment::Minutes(s) => ui.tr.t1("matrix-by-minutes", "series", series_label(ui, s)),
        Fulfilment::Manual => ui.tr.t("matrix-by-manual"),
    }
}

fn due_label(ui: &Ui, d: Due) -> String {
    ui.tr.t(&format!("matrix-due-{}", d.as_str()))
}

pub async fn communication_page(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let today = ui.authed.crm.clock.now().date_naive();
    let rows = state
        .communications_due(today)
        .into_iter()
        .map(|(c, next, due)| matrix_row(&ui, &state, rights, c, next, due))
        .collect();
    let page = CommunicationPage {
        shell: shell(&ui),
        title: state.project.settings.name.clone(),
        head: ProjectHead::new(&ui, &state, rights, "communication", &q),
        rows,
        roles: state
            .catalogue
            .iter()
            .map(|r| (r.key.clone(), role_label(&ui, &state.catalogue, &r.key)))
            .collect(),
        cadences: Cadence::ALL
            .iter()
            .map(|c| (c.as_str(), cadence_label(&ui, *c)))
            .collect(),
        fulfilments: Fulfilment::all()
            .into_iter()
            .map(|f| (f.key(), fulfilment_label(&ui, f)))
            .collect(),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// One communication of the matrix: who sends what to whom, when it is next due, and whether
/// the caller may mark it sent.
fn matrix_row(
    ui: &Ui,
    state: &ProjectState,
    rights: ProjectRights,
    c: &Communication,
    next: NaiveDate,
    due: Due,
) -> MatrixRow {
    let senders = state.senders(c);
    MatrixRow {
        number: c.number,
        version: c.version,
        sender: role_label(ui, &state.catalogue, &c.sender_role),
        senders: senders
            .iter()
            .map(|n| member_name(state, Some(*n)))
            .collect::<Vec<_>>()
            .join(", "),
        audience: c.audience.clone(),
        content: c.content.clone(),
        channel: c.channel.clone(),
        frequency: cadence_label(ui, c.frequency),
        fulfilled_by: fulfilment_label(ui, c.fulfilled_by),
        last_done: c.last_done.map(|d| date(ui, d)).unwrap_or_default(),
        next_due: date(ui, next),
        due: due_label(ui, due),
        due_key: due.as_str(),
        may_mark: may_write(ui) && (rights.edit || rights.member.is_some_and(|m| senders.contains(&m))),
    }
}

pub async fn add_communication(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let path = format!("/projects/{id}/communication");
    let result = async {
        let fulfilled_by = Fulfilment::parse(field(&form, "fulfilled_by"))
            .ok_or_else(|| Error::field("fulfilled_by", "choose one"))?;
        let starts = match field(&form, "starts") {
            "" => None,
            d => Some(d.to_string()),
        };
        let body = json!({
            "sender_role": field(&form, "sender_role"),
            "audience": field(&form, "audience"),
            "content": field(&form, "content"),
            "channel": field(&form, "channel"),
            "frequency": field(&form, "frequency"),
            "fulfilled_by": fulfilled_by,
            "starts": starts,
        });
        ui.authed
            .crm
            .add_communication(&ui.authed.principal, &id, body)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &path, result)
}

/// `sent` marks a row sent today; `delete` removes it.
pub async fn communication_step(
    Path((id, n, step)): Path<(String, u32, String)>,
    Posted { ui, form }: Posted<Fields>,
) -> Response {
    let result = async {
        let version = form_number(&form, "version")?;
        match step.as_str() {
            "sent" => ui
                .authed
                .crm
                .communication_sent(&ui.authed.principal, &id, n, version)
                .await
                .map(|_| ()),
            "delete" => {
                ui.authed
                    .crm
                    .delete_communication(&ui.authed.principal, &id, n, version)
                    .await
            }
            _ => Err(Error::not_found("no such step")),
        }
    }
    .await;
    back(&ui, &format!("/projects/{id}/communication"), result)
}
