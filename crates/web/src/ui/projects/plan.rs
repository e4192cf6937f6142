//! The living plan: tasks, their dependencies and the Gantt chart.

use super::form::*;
use super::page::*;
use crate::ui::admin::banner;
use crate::ui::page_error::{PageError, PageResult};
use crate::ui::posted::Posted;
use crate::ui::{Shell, Ui, format, gantt};
use anchora_core::Error;
use anchora_core::project::model::{ExternalKind, Task, TaskStatus};
use anchora_core::project::plan;
use anchora_core::project::thirds::Area;
use anchora_core::project::{ProjectRights, ProjectState};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

pub async fn plan(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let page = plan_view(&ui, &state, rights, &q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

fn plan_view(ui: &Ui, state: &ProjectState, rights: ProjectRights, q: &HashMap<String, String>) -> ProjectPage {
    let today = today(ui);
    let mut page = ProjectPage::new(ui, state, rights, "plan", q);
    let schedule = state.schedule().ok();
    if let Some(schedule) = &schedule {
        page.gantt_svg = plan_svg(ui, state, schedule, today);
        page.gantt_critical = !schedule.critical.is_empty();
        page.gantt_forecast = state.forecast(today).is_some();
    }
    let rows = PlanRows {
        critical: (schedule.as_ref())
            .map(|s| s.critical.iter().copied().collect())
            .unwrap_or_default(),
        after: state.dependencies.iter().fold(HashMap::new(), |mut after, d| {
            after.entry(d.after).or_default().push(format!("#{}", d.before));
            after
        }),
        schedule: schedule.as_ref(),
        today,
    };
    page.tasks = state
        .tasks
        .iter()
        .map(|t| task_row(ui, state, &page.id, t, &rows))
        .collect();
    page.owners = state
        .members
        .iter()
        .map(|m| (m.number.to_string(), m.name.clone()))
        .collect();
    page
}

/// What the plan's rows need beside each task: the schedule and the dependencies.
struct PlanRows<'a> {
    schedule: Option<&'a plan::Schedule>,
    critical: std::collections::HashSet<u32>,
    /// Each task's predecessors as "#n".
    after: HashMap<u32, Vec<String>>,
    today: NaiveDate,
}

/// A task as a row of the plan: dates, owner, progress, and whether it is critical, late,
/// pushed back or waiting for someone outside.
fn task_row(ui: &Ui, state: &ProjectState, project: &str, t: &Task, rows: &PlanRows) -> TaskRow {
    let locale = ui.tr.locale;
    TaskRow {
        number: t.number,
        href: format!("/projects/{project}/tasks/{}", t.number),
        name: t.name.clone(),
        owner: member_name(state, t.owner),
        start: date(ui, t.start),
        finish: date(ui, t.finish),
        area: area_label(ui, t.area),
        status: status_label(ui, t.status),
        percent: format::percent(locale, t.percent_done.round()),
        planned: format::number(locale, t.planned_hours, 0),
        actual: format::number(locale, t.actual_hours, 0),
        critical: rows.critical.contains(&t.number),
        late: t.status != TaskStatus::Done && t.finish < rows.today,
        pushed: (rows.schedule)
            .and_then(|s| s.slip_days.get(&t.number))
            .filter(|d| **d > 0)
            .map(|d| ui.tr.t1("project-pushed", "count", *d)),
        milestone: t.milestone,
        waits_for: t
            .external
            .iter()
            .filter(|e| !e.resolved)
            .map(|e| {
                let kind = format!("project-external-{}", e.kind.as_str().replace('_', "-"));
                format!("{}: {}", ui.tr.t(&kind), e.party)
            })
            .collect::<Vec<_>>()
            .join("; "),
        after: rows.after.get(&t.number).map(|v| v.join(", ")).unwrap_or_default(),
    }
}

/// The plan's Gantt chart with today, the target and the forecast finish marked.
pub(crate) fn plan_svg(ui: &Ui, state: &ProjectState, schedule: &plan::Schedule, today: NaiveDate) -> String {
    let tasks = state.plan_tasks();
    let forecast = state.forecast(today);
    gantt::render(
        &tasks,
        &state.dependencies,
        schedule,
        &gantt::GanttDates {
            today,
            target: Some(state.project.settings.target),
            forecast: forecast.map(|f| f.forecast_finish),
        },
        &gantt::GanttText {
            title: ui.tr.t("project-gantt-title"),
            today: ui.tr.t("project-today"),
            target: ui.tr.t("project-target"),
            forecast: ui.tr.t("project-forecast"),
            date: format::date,
            month: format::month,
            locale: ui.tr.tag,
        },
    )
}

// ---- Plan forms ----
/// The task form as the API's body. `current` is the task being edited: the form edits its
/// first external dependency and keeps the others.
pub(crate) fn task_body(
    locale: &str,
    form: &Fields,
    full: bool,
    current: Option<&Task>,
) -> Result<Map<String, Json>, Error> {
    let mut body = Map::new();
    if full {
        body.insert("name".into(), json!(field(form, "name")));
        body.insert("start".into(), json!(field(form, "start")));
        let finish = field(form, "finish");
        body.insert(
            "finish".into(),
            if finish.is_empty() { Json::Null } else { json!(finish) },
        );
        body.insert("milestone".into(), json!(form.contains_key("milestone")));
        body.insert("area".into(), json!(field(form, "area")));
        body.insert("phase".into(), json!(field(form, "phase")));
        let owner = field(form, "owner");
        body.insert(
            "owner".into(),
            if owner.is_empty() {
                Json::Null
            } else {
                json!(
                    owner
                        .parse::<u32>()
                        .map_err(|_| Error::field("owner", "is not a member"))?
                )
            },
        );
        body.insert("planned_hours".into(), json!(decimal(locale, form, "planned_hours")?));
        body.insert("planned_cost".into(), json!(money_field(form, "planned_cost")?));
    }
    if form.contains_key("status") {
        body.insert("status".into(), json!(field(form, "status")));
    }
    if form.contains_key("percent_done") {
        body.insert("percent_done".into(), json!(decimal(locale, form, "percent_done")?));
    }
    if form.contains_key("actual_hours") {
        body.insert("actual_hours".into(), json!(decimal(locale, form, "actual_hours")?));
    }
    if form.contains_key("actual_cost") {
        body.insert("actual_cost".into(), json!(money_field(form, "actual_cost")?));
    }
    if full {
        let mut external = Vec::new();
        if !field(form, "external_party").is_empty() {
            external.push(json!({
                "kind": field(form, "external_kind"),
                "party": field(form, "external_party"),
                "note": field(form, "external_note"),
                "resolved": form.contains_key("external_resolved"),
            }));
        }
        if let Some(t) = current {
            for e in t.external.iter().skip(1) {
                external.push(serde_json::to_value(e).map_err(|e| Error::internal(e.to_string()))?);
            }
        }
        body.insert("external".into(), Json::Array(external));
    }
    Ok(body)
}

pub async fn add_task(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = add_task_after(&ui, &id, &form).await;
    back(&ui, &format!("/projects/{id}/plan"), result)
}

/// Add the form's task, after the task the form names if it names one.
async fn add_task_after(ui: &Ui, id: &str, form: &Fields) -> Result<(), Error> {
    let body = task_body(ui.tr.locale, form, true, None)?;
    let after = field(form, "after");
    let before = if after.is_empty() {
        None
    } else {
        // Checked before the task is written, so a wrong number adds nothing.
        let n: u32 = after
            .parse()
            .map_err(|_| Error::field("after", "must be a task number"))?;
        let (state, _) = ui.authed.crm.project_state(&ui.authed.principal, id).await?;
        state
            .task(n)
            .ok_or_else(|| Error::field("after", format!("there is no task {n}")))?;
        Some(n)
    };
    let task = ui
        .authed
        .crm
        .add_task(&ui.authed.principal, id, Json::Object(body))
        .await?;
    if let Some(before) = before {
        ui.authed
            .crm
            .add_dependency(&ui.authed.principal, id, before, task.number)
            .await?;
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "ui/project_task.html")]
pub(crate) struct TaskPage {
    shell: Shell,
    title: String,
    id: String,
    project: String,
    task: Task,
    may_edit: bool,
    error: Option<String>,
    owners: Vec<(String, String)>,
    /// The owner's member number, as the select's value.
    owner: String,
    phases: Vec<String>,
    areas: Vec<(&'static str, String)>,
    statuses: Vec<(&'static str, String)>,
    external_kinds: Vec<(&'static str, String)>,
    external_kind: String,
    external_party: String,
    external_note: String,
    external_resolved: bool,
    planned_cost: String,
    actual_cost: String,
    /// What this task waits for: (number, "#n name").
    predecessors: Vec<(u32, String)>,
}

pub async fn task_page(ui: Ui, Path((id, n)): Path<(String, u32)>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let Some(task) = state.task(n).cloned() else {
        return Err(PageError::not_found(&ui));
    };
    let owner = rights.member.is_some() && task.owner == rights.member;
    if !rights.edit && !owner {
        return Err(PageError::forbidden(&ui));
    }
    let page = task_view(&ui, &state, &id, task, rights.edit, &q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The task form, filled with the task, and the choices it offers.
fn task_view(
    ui: &Ui,
    state: &ProjectState,
    id: &str,
    task: Task,
    may_edit: bool,
    q: &HashMap<String, String>,
) -> TaskPage {
    let ext = task.external.first();
    TaskPage {
        shell: shell(ui),
        title: format!("#{} {}", task.number, task.name),
        id: id.to_string(),
        project: state.project.settings.name.clone(),
        may_edit,
        error: banner(q, ui).0,
        owners: state
            .members
            .iter()
            .map(|m| (m.number.to_string(), m.name.clone()))
            .collect(),
        owner: task.owner.map(|o| o.to_string()).unwrap_or_default(),
        phases: task_phases(state, &task),
        areas: Area::ALL.iter().map(|a| (a.as_str(), area_label(ui, *a))).collect(),
        statuses: TaskStatus::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(ui, *s)))
            .collect(),
        external_kinds: ExternalKind::ALL
            .iter()
            .map(|k| {
                let key = format!("project-external-{}", k.as_str().replace('_', "-"));
                (k.as_str(), ui.tr.t(&key))
            })
            .collect(),
        external_kind: ext.map(|e| e.kind.as_str().to_string()).unwrap_or_default(),
        external_party: ext.map(|e| e.party.clone()).unwrap_or_default(),
        external_note: ext.map(|e| e.note.clone()).unwrap_or_default(),
        external_resolved: ext.is_some_and(|e| e.resolved),
        planned_cost: money_input(task.planned_cost),
        actual_cost: money_input(task.actual_cost),
        predecessors: predecessors(state, &task),
        task,
    }
}

/// The project's phases, and the task's own when it was renamed since.
fn task_phases(state: &ProjectState, task: &Task) -> Vec<String> {
    // A phase renamed since keeps showing on its tasks until someone picks another.
    let mut phases: Vec<String> = state.project.settings.phases.iter().map(|p| p.name.clone()).collect();
    if !task.phase.is_empty() && !phases.contains(&task.phase) {
        phases.push(task.phase.clone());
    }
    phases
}

/// What a task waits for: (number, "#n name").
fn predecessors(state: &ProjectState, task: &Task) -> Vec<(u32, String)> {
    state
        .dependencies
        .iter()
        .filter(|d| d.after == task.number)
        .map(|d| {
            let name = state.task(d.before).map_or("", |t| t.name.as_str());
            (d.before, format!("#{} {name}", d.before))
        })
        .collect()
}

pub async fn save_task(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let (state, _) = ui.authed.crm.project_state(&ui.authed.principal, &id).await?;
        let current = state.task(n).ok_or_else(|| Error::not_found("no such task"))?;
        let mut body = task_body(ui.tr.locale, &form, form.contains_key("name"), Some(current))?;
        body.insert("version".into(), json!(form_number(&form, "version")?));
        ui.authed
            .crm
            .update_task(&ui.authed.principal, &id, n, Json::Object(body))
            .await
            .map(|_| ())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/projects/{id}/plan?saved=1")).into_response(),
        Err(e) => back(&ui, &format!("/projects/{id}/tasks/{n}"), Err(e)),
    }
}

pub async fn delete_task(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = match form_number(&form, "version") {
        Ok(v) => ui.authed.crm.delete_task(&ui.authed.principal, &id, n, v).await,
        Err(e) => Err(e),
    };
    back(&ui, &format!("/projects/{id}/plan"), result)
}

pub async fn dependencies(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let before: u32 = field(&form, "before")
            .parse()
            .map_err(|_| Error::field("before", "choose a task"))?;
        let after: u32 = field(&form, "after")
            .parse()
            .map_err(|_| Error::field("after", "choose a task"))?;
        if form.contains_key("remove") {
            ui.authed
                .crm
                .remove_dependency(&ui.authed.principal, &id, before, after)
                .await
        } else {
            ui.authed
                .crm
                .add_dependency(&ui.authed.principal, &id, before, after)
                .await
                .map(|_| ())
        }
    }
    .await;
    let to = match (field(&form, "back"), field(&form, "after").parse::<u32>()) {
        ("task", Ok(n)) => format!("/projects/{id}/tasks/{n}"),
        _ => format!("/projects/{id}/plan"),
    };
    back(&ui, &to, result)
}
