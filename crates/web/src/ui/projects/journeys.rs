//! Customer journeys and requirements in the app: each journey's touchpoints with the tasks done
//! there and the requirements they give, traced to configuration; the traceability view
//! (requirements nothing meets, configuration nothing asked for, traces to what is gone); and
//! the reports, processes and training the project records as configuration.

use super::{Fields, Params, ProjectHead, back, field, form_number, load, may_write, shell};
use crate::ui::page_error::{PageError, PageResult};
use crate::ui::posted::Posted;
use crate::ui::{Shell, Ui};
use anchora_core::Error;
use anchora_core::project::journeys::{ConfigKind, Configured, Journey, Priority, Requirement, Trace, Traceability};
use anchora_core::project::{ProjectRights, ProjectState};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::collections::HashMap;

pub struct RequirementRow {
    pub number: u32,
    pub version: i64,
    pub text: String,
    pub priority: String,
    pub priority_key: &'static str,
    pub three_year: bool,
    pub why: String,
    pub phase: String,
    pub traces: Vec<String>,
    pub from_change: Option<u32>,
}

pub struct TouchpointView {
    pub name: String,
    pub tasks: Vec<String>,
    pub requirements: Vec<RequirementRow>,
}

pub struct JourneyView {
    pub number: u32,
    pub name: String,
    pub description: String,
    pub touchpoints: Vec<TouchpointView>,
    /// Requirements from the journey as a whole.
    pub requirements: Vec<RequirementRow>,
}

#[derive(Template)]
#[template(path = "ui/project_journeys.html")]
struct JourneysPage {
    shell: Shell,
    title: String,
    head: ProjectHead,
    may_write: bool,
    journeys: Vec<JourneyView>,
    other: Vec<RequirementRow>,
    /// (value, label) for "where the requirement comes from": `journey` or `journey:touchpoint`.
    sources: Vec<(String, String)>,
    priorities: Vec<(&'static str, String)>,
    phases: Vec<String>,
    /// (value `kind|target`, label) of everything a requirement may be traced to.
    targets: Vec<(String, String)>,
    untraced: Vec<String>,
    unrequired: Vec<String>,
    dangling: Vec<String>,
    recorded: Vec<(u32, i64, String)>,
    recordable: Vec<(&'static str, String)>,
}

fn kind_label(ui: &Ui, k: ConfigKind) -> String {
    ui.tr.t(&format!("config-kind-{}", k.as_str()))
}

fn configured_label(ui: &Ui, c: &Configured) -> String {
    format!("{}: {}", kind_label(ui, c.kind), c.label)
}

fn trace_label(ui: &Ui, configured: &[Configured], t: &Trace) -> String {
    configured
        .iter()
        .find(|c| c.kind == t.kind && c.target == t.target)
        .map_or_else(
            || {
                format!(
                    "{}: {} ({})",
                    kind_label(ui, t.kind),
                    t.target,
                    ui.tr.t("trace-missing")
                )
            },
            |c| configured_label(ui, c),
        )
}

fn row(ui: &Ui, configured: &[Configured], r: &Requirement) -> RequirementRow {
    RequirementRow {
        number: r.number,
        version: r.version,
        text: r.text.clone(),
        priority: ui.tr.t(&format!("requirement-priority-{}", r.priority.as_str())),
        priority_key: r.priority.as_str(),
        three_year: r.three_year,
        why: r.why.clone(),
        phase: r.phase.clone(),
        traces: r.traces.iter().map(|t| trace_label(ui, configured, t)).collect(),
        from_change: r.from_change,
    }
}

pub async fn journeys_page(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let (trace, configured) = ui
        .authed
        .crm
        .traceability(&ui.authed.principal, &state)
        .await
        .map_err(|_| PageError::forbidden(&ui))?;
    let page = journeys_view(&ui, &state, rights, &q, &trace, &configured);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// A journey with its touchpoints, each with the requirements that come from it.
fn journey_view(ui: &Ui, state: &ProjectState, configured: &[Configured], j: &Journey) -> JourneyView {
    let of = |t: Option<usize>| {
        state
            .requirements
            .iter()
            .filter(|r| r.journey == Some(j.number) && r.touchpoint == t)
            .map(|r| row(ui, configured, r))
            .collect::<Vec<_>>()
    };
    JourneyView {
        number: j.number,
        name: j.name.clone(),
        description: j.description.clone(),
        touchpoints: j
            .touchpoints
            .iter()
            .enumerate()
            .map(|(i, t)| TouchpointView {
                name: t.name.clone(),
                tasks: t.tasks.clone(),
                requirements: of(Some(i)),
            })
            .collect(),
        requirements: of(None),
    }
}

/// Where a requirement may come from: each journey, and each of its touchpoints.
fn sources(state: &ProjectState) -> Vec<(String, String)> {
    let mut sources = Vec::new();
    for j in &state.journeys {
        sources.push((j.number.to_string(), j.name.clone()));
        for (i, t) in j.touchpoints.iter().enumerate() {
            sources.push((format!("{}:{i}", j.number), format!("{} → {}", j.name, t.name)));
        }
    }
    sources
}

/// The journeys page: the journeys, the form's choices, what is traced to what and what is
/// not, and the configuration recorded by hand.
fn journeys_view(
    ui: &Ui,
    state: &ProjectState,
    rights: ProjectRights,
    q: &HashMap<String, String>,
    trace: &Traceability,
    configured: &[Configured],
) -> JourneysPage {
    let requirement_label = |n: u32| {
        state
            .requirement(n)
            .map_or_else(|| format!("#{n}"), |r| format!("#{n} {}", r.text))
    };
    JourneysPage {
        shell: shell(ui),
        title: state.project.settings.name.clone(),
        head: ProjectHead::new(ui, state, rights, "journeys", q),
        may_write: may_write(ui) && (rights.edit || rights.member.is_some()),
        journeys: state
            .journeys
            .iter()
            .map(|j| journey_view(ui, state, configured, j))
            .collect(),
        other: state
            .requirements
            .iter()
            .filter(|r| r.journey.is_none())
            .map(|r| row(ui, configured, r))
            .collect(),
        sources: sources(state),
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.as_str(), ui.tr.t(&format!("requirement-priority-{}", p.as_str()))))
            .collect(),
        phases: state.project.settings.phases.iter().map(|p| p.name.clone()).collect(),
        targets: configured
            .iter()
            .map(|c| (format!("{}|{}", c.kind.as_str(), c.target), configured_label(ui, c)))
            .collect(),
        untraced: trace.untraced.iter().map(|n| requirement_label(*n)).collect(),
        unrequired: trace.unrequired.iter().map(|c| configured_label(ui, c)).collect(),
        dangling: trace
            .dangling
            .iter()
            .map(|(n, t)| format!("{} → {}", requirement_label(*n), trace_label(ui, configured, t)))
            .collect(),
        recorded: state
            .configuration
            .iter()
            .map(|c| (c.number, c.version, format!("{}: {}", kind_label(ui, c.kind), c.name)))
            .collect(),
        recordable: [ConfigKind::Report, ConfigKind::Process, ConfigKind::Training]
            .iter()
            .map(|k| (k.as_str(), kind_label(ui, *k)))
            .collect(),
    }
}

/// Touchpoints one per line: `Name: task; task`.
fn touchpoints(text: &str) -> Vec<serde_json::Value> {
    super::lines(text)
        .iter()
        .map(|line| {
            let (name, tasks) = line.split_once(':').unwrap_or((line.as_str(), ""));
            let tasks: Vec<&str> = tasks.split(';').map(str::trim).filter(|t| !t.is_empty()).collect();
            json!({ "name": name.trim(), "tasks": tasks })
        })
        .collect()
}

pub async fn add_journey(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let body = json!({
        "name": field(&form, "name"),
        "description": field(&form, "description"),
        "touchpoints": touchpoints(field(&form, "touchpoints")),
    });
    let result = ui
        .authed
        .crm
        .add_journey(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/journeys"), result)
}

fn parse_trace(value: &str) -> Result<Option<serde_json::Value>, Error> {
    if value.is_empty() {
        return Ok(None);
    }
    let (kind, target) = value
        .split_once('|')
        .ok_or_else(|| Error::field("traces", "choose what it is traced to"))?;
    Ok(Some(json!({ "kind": kind, "target": target })))
}

pub async fn add_requirement(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let body = requirement_body(&form)?;
        ui.authed
            .crm
            .add_requirement(&ui.authed.principal, &id, body)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/journeys"), result)
}

/// The requirement the form describes: where it comes from (`journey` or
/// `journey:touchpoint`), and what it is traced to.
fn requirement_body(form: &Fields) -> Result<serde_json::Value, Error> {
    let (journey, touchpoint) = match field(form, "source") {
        "" => (None, None),
        s => {
            let (j, t) = s.split_once(':').map_or((s, None), |(j, t)| (j, Some(t)));
            let j: u32 = j.parse().map_err(|_| Error::field("journey", "choose a journey"))?;
            let t: Option<usize> = t
                .map(str::parse)
                .transpose()
                .map_err(|_| Error::field("touchpoint", "choose a touchpoint"))?;
            (Some(j), t)
        }
    };
    let traces: Vec<_> = parse_trace(field(form, "trace"))?.into_iter().collect();
    Ok(json!({
        "text": field(form, "text"),
        "journey": journey,
        "touchpoint": touchpoint,
        "priority": field(form, "priority"),
        "three_year": field(form, "three_year") == "on",
        "why": field(form, "why"),
        "phase": field(form, "phase"),
        "traces": traces,
    }))
}

/// Add one trace to a requirement.
pub async fn add_trace(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let (state, _) = ui.authed.crm.project_state(&ui.authed.principal, &id).await?;
        let current = state
            .requirement(n)
            .ok_or_else(|| Error::not_found(format!("the project has no requirement {n}")))?;
        let mut traces = serde_json::to_value(&current.traces).map_err(|e| Error::internal(e.to_string()))?;
        if let (serde_json::Value::Array(list), Some(t)) = (&mut traces, parse_trace(field(&form, "trace"))?) {
            list.push(t);
        }
        let body = json!({ "version": form_number(&form, "version")?, "traces": traces });
        ui.authed
            .crm
            .update_requirement(&ui.authed.principal, &id, n, body)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/journeys"), result)
}

pub async fn add_config_item(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let body = json!({ "kind": field(&form, "kind"), "name": field(&form, "name") });
    let result = ui
        .authed
        .crm
        .add_config_item(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/journeys"), result)
}

pub async fn delete_config_item(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let version = form_number(&form, "version")?;
        ui.authed
            .crm
            .delete_config_item(&ui.authed.principal, &id, n, version)
            .await
    }
    .await;
    back(&ui, &format!("/projects/{id}/journeys"), result)
}
