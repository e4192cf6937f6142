//! The project's change requests in the app: each request with its effects, its approvers and
//! their decisions, its history and exactly what changed when it took effect; the form to raise
//! one; and the steps each reader may take (submit, approve or reject, defer, withdraw, carry
//! over). Every step goes through the same use cases as the API.

use super::{
    Fields, Params, ProjectHead, area_label, back, date, field, form_number, load, may_write, member_name, money_field,
    shell,
};
use crate::ui::page_error::PageResult;
use crate::ui::posted::Posted;
use crate::ui::{Shell, Ui, format};
use anchora_core::Error;
use anchora_core::project::ProjectState;
use anchora_core::project::change::{Applied, ChangeRequest, ChangeState, Effect, Verdict};
use anchora_core::project::thirds::Area;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use serde_json::{Value as Json, json};

pub struct ApproverRow {
    pub name: String,
    /// "Approved", "Rejected: why", or empty while waiting.
    pub decision: String,
    pub verdict: &'static str,
    /// The reader may decide for this approver.
    pub may_decide: Option<u32>,
}

pub struct ChangeCard {
    pub number: u32,
    pub version: i64,
    pub title: String,
    pub state: String,
    pub state_key: &'static str,
    pub requested_by: String,
    pub description: String,
    pub scope_impact: String,
    pub requirements_impact: String,
    pub effort: String,
    pub affected: String,
    pub effects: Vec<String>,
    pub approvers: Vec<ApproverRow>,
    pub history: Vec<String>,
    pub applied: Vec<String>,
    pub may_submit: bool,
    pub may_withdraw: bool,
    pub may_defer: bool,
    pub may_carry: bool,
    pub carried: bool,
}

#[derive(Template)]
#[template(path = "ui/project_changes.html")]
struct ChangesPage {
    shell: Shell,
    title: String,
    head: ProjectHead,
    changes: Vec<ChangeCard>,
    may_raise: bool,
    members: Vec<(u32, String)>,
    tasks: Vec<(u32, String)>,
    areas: Vec<(&'static str, String)>,
    currency: String,
}

fn state_label(ui: &Ui, s: ChangeState) -> String {
    ui.tr.t(&format!("change-state-{}", s.as_str()))
}

fn money(ui: &Ui, state: &ProjectState, minor: i64) -> String {
    format::money(ui.tr.locale, minor, Some(&state.project.settings.budget.currency))
}

fn effect_line(ui: &Ui, state: &ProjectState, e: &Effect) -> String {
    match e {
        Effect::MoveTask { task, start, finish } => ui.tr.tn(
            "change-effect-move",
            &[
                (
                    "task",
                    format!("#{task} {}", state.task(*task).map_or("", |t| t.name.as_str())),
                ),
                ("start", date(ui, *start)),
                ("finish", date(ui, *finish)),
            ],
        ),
        Effect::AddTask {
            name,
            start,
            finish,
            area,
            ..
        } => ui.tr.tn(
            "change-effect-add",
            &[
                ("name", name.clone()),
                ("start", date(ui, *start)),
                ("finish", date(ui, *finish)),
                ("area", area_label(ui, *area)),
            ],
        ),
        Effect::Budget { delta } => {
            let sign = if *delta >= 0 { "+" } else { "−" };
            ui.tr.t1(
                "change-effect-budget",
                "amount",
                format!("{sign}{}", money(ui, state, delta.abs())),
            )
        }
    }
}

fn applied_line(ui: &Ui, a: &Applied) -> String {
    match a {
        Applied::TaskMoved { task, name, from, to } => ui.tr.tn(
            "change-applied-move",
            &[
                ("task", format!("#{task} {name}")),
                ("from", format!("{} – {}", date(ui, from.0), date(ui, from.1))),
                ("to", format!("{} – {}", date(ui, to.0), date(ui, to.1))),
            ],
        ),
        Applied::TaskAdded { name, start, finish } => ui.tr.tn(
            "change-applied-add",
            &[
                ("name", name.clone()),
                ("start", date(ui, *start)),
                ("finish", date(ui, *finish)),
            ],
        ),
        Applied::BudgetChanged { currency, from, to } => ui.tr.tn(
            "change-applied-budget",
            &[
                ("from", format::money(ui.tr.locale, *from, Some(currency))),
                ("to", format::money(ui.tr.locale, *to, Some(currency))),
            ],
        ),
    }
}

fn card(ui: &Ui, state: &ProjectState, edit: bool, me: Option<u32>, c: &ChangeRequest) -> ChangeCard {
    let requester = c.requested_by.is_some() && c.requested_by == me;
    let steer = edit || requester;
    let approvers = c
        .approvers
        .iter()
        .map(|a| {
            let member = state.member(*a);
            let decision = c.decisions.iter().find(|d| d.approver == *a);
            let (text, verdict) = match decision {
                Some(d) if d.verdict == Verdict::Approve => {
                    let mut t = ui.tr.t("change-approved-by");
                    if !d.comment.is_empty() {
                        t = format!("{t}: {}", d.comment);
                    }
                    (t, "approve")
                }
                Some(d) => (format!("{}: {}", ui.tr.t("change-rejected-by"), d.comment), "reject"),
                None => (String::new(), "waiting"),
            };
            let own = member.is_some_and(|m| m.user == Some(ui.authed.principal.user_id));
            let external = member.is_some_and(anchora_core::project::model::Member::external);
            let may = c.state == ChangeState::Submitted && decision.is_none() && (own || edit && external);
            ApproverRow {
                name: member_name(state, Some(*a)),
                decision: text,
                verdict,
                may_decide: may.then_some(*a),
            }
        })
        .collect();
    ChangeCard {
        number: c.number,
        version: c.version,
        title: c.title.clone(),
        state: state_label(ui, c.state),
        state_key: c.state.as_str(),
        requested_by: member_name(state, c.requested_by),
        description: c.description.clone(),
        scope_impact: c.scope_impact.clone(),
        requirements_impact: c.requirements_impact.clone(),
        effort: if c.effort_hours > 0.0 {
            format::number(ui.tr.locale, c.effort_hours, 1)
        } else {
            String::new()
        },
        affected: c.affected.join(", "),
        effects: c.effects.iter().map(|e| effect_line(ui, state, e)).collect(),
        approvers,
        history: c
            .steps
            .iter()
            .map(|s| {
                let mut line = format!("{} · {}", ui.tr.datetime(s.at), state_label(ui, s.state));
                if !s.note.is_empty() {
                    line = format!("{line}: {}", s.note);
                }
                line
            })
            .collect(),
        applied: c.applied.iter().map(|a| applied_line(ui, a)).collect(),
        may_submit: steer && c.state == ChangeState::Draft,
        may_withdraw: steer && matches!(c.state, ChangeState::Draft | ChangeState::Submitted),
        may_defer: edit && c.state == ChangeState::Submitted,
        may_carry: edit && matches!(c.state, ChangeState::Rejected | ChangeState::Deferred) && !c.carried_over,
        carried: c.carried_over,
    }
}

pub async fn changes_page(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let mut changes: Vec<&ChangeRequest> = state.changes.iter().collect();
    changes.sort_by_key(|c| std::cmp::Reverse(c.number));
    let may_write = may_write(&ui);
    let page = ChangesPage {
        shell: shell(&ui),
        title: state.project.settings.name.clone(),
        head: ProjectHead::new(&ui, &state, rights, "changes", &q),
        changes: changes
            .into_iter()
            .map(|c| card(&ui, &state, rights.edit, rights.member, c))
            .collect(),
        may_raise: may_write && (rights.edit || rights.member.is_some()),
        members: state.members.iter().map(|m| (m.number, m.name.clone())).collect(),
        tasks: state
            .tasks
            .iter()
            .map(|t| (t.number, format!("#{} {} ({})", t.number, t.name, date(&ui, t.finish))))
            .collect(),
        areas: Area::ALL.iter().map(|a| (a.as_str(), area_label(&ui, *a))).collect(),
        currency: state.project.settings.budget.currency.clone(),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

fn form_date(form: &Fields, key: &str) -> Result<Option<NaiveDate>, Error> {
    match field(form, key) {
        "" => Ok(None),
        v => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| Error::field(key, "must be a date")),
    }
}

/// The raise form as the API's body. Form keys repeat for approvers (`approver` checkboxes),
/// which the handler collects from the raw pairs.
fn change_body(ui: &Ui, form: &Fields, approvers: Vec<u32>) -> Result<Json, Error> {
    let mut effects = Vec::new();
    if !field(form, "move_task").is_empty() {
        let task = form_number(form, "move_task")?;
        let start = form_date(form, "move_start")?.ok_or_else(|| Error::field("move_start", "is required"))?;
        let finish = form_date(form, "move_finish")?.unwrap_or(start);
        effects.push(json!({ "kind": "move_task", "task": task, "start": start, "finish": finish }));
    }
    if !field(form, "add_name").is_empty() {
        let start = form_date(form, "add_start")?.ok_or_else(|| Error::field("add_start", "is required"))?;
        let finish = form_date(form, "add_finish")?.unwrap_or(start);
        effects.push(json!({
            "kind": "add_task", "name": field(form, "add_name"), "start": start, "finish": finish,
            "area": field(form, "add_area"),
        }));
    }
    if !field(form, "budget_delta").is_empty() {
        let raw = field(form, "budget_delta");
        let (negative, digits) = match raw.strip_prefix(['-', '−']) {
            Some(rest) => (true, rest),
            None => (false, raw.strip_prefix('+').unwrap_or(raw)),
        };
        let mut f = Fields::new();
        f.insert("budget_delta".into(), digits.to_string());
        let amount = money_field(&f, "budget_delta")?;
        effects.push(json!({ "kind": "budget", "delta": if negative { -amount } else { amount } }));
    }
    let hours = super::decimal(ui.tr.locale, form, "effort_hours")?;
    Ok(json!({
        "title": field(form, "title"),
        "description": field(form, "description"),
        "scope_impact": field(form, "scope_impact"),
        "requirements_impact": field(form, "requirements_impact"),
        "effort_hours": hours,
        "affected": super::lines(field(form, "affected")),
        "approvers": approvers,
        "effects": effects,
    }))
}

pub async fn raise_change(
    Path(id): Path<String>,
    Posted { ui, form: pairs }: Posted<Vec<(String, String)>>,
) -> Response {
    let approvers: Vec<u32> = pairs
        .iter()
        .filter(|(k, _)| k == "approver")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let form: Fields = pairs.into_iter().collect();
    let path = format!("/projects/{id}/changes");
    let result = async {
        let body = change_body(&ui, &form, approvers)?;
        let c = ui.authed.crm.raise_change(&ui.authed.principal, &id, body).await?;
        if field(&form, "submit_now") == "on" {
            ui.authed
                .crm
                .submit_change(&ui.authed.principal, &id, c.number, c.version)
                .await?;
        }
        Ok(())
    }
    .await;
    back(&ui, &path, result)
}

pub async fn change_step(
    Path((id, n, step)): Path<(String, u32, String)>,
    Posted { ui, form }: Posted<Fields>,
) -> Response {
    let path = format!("/projects/{id}/changes");
    let p = &ui.authed.principal;
    let crm = &ui.authed.crm;
    let comment = field(&form, "comment");
    let result = async {
        let version = form_number(&form, "version")?;
        match step.as_str() {
            "submit" => crm.submit_change(p, &id, n, version).await.map(|_| ()),
            "withdraw" => crm.withdraw_change(p, &id, n, comment, version).await.map(|_| ()),
            "defer" => crm.defer_change(p, &id, n, comment, version).await.map(|_| ()),
            "carry-over" => crm.carry_over_change(p, &id, n, version).await.map(|_| ()),
            "approve" | "reject" => {
                let body = json!({
                    "approver": form_number(&form, "approver")?,
                    "verdict": step,
                    "comment": comment,
                    "version": version,
                });
                crm.decide_change(p, &id, n, body).await.map(|_| ())
            }
            _ => Err(Error::not_found("no such step")),
        }
    }
    .await;
    back(&ui, &path, result)
}
