//! One project's page: its head, its tabs and the rows each tab shows.

use super::form::*;
use crate::ui::admin::banner;
use crate::ui::page_error::{OrPage, PageError};
use crate::ui::{NavItem, Shell, Ui, forbidden, format, svg};
use anchora_core::auth::Permission;
use anchora_core::project::health::{Check, Rule};
use anchora_core::project::model::Cadence;
use anchora_core::project::thirds::{Area, Thirds};
use anchora_core::project::{ProjectRights, ProjectState};
use askama::Template;
use chrono::NaiveDate;
use std::collections::HashMap;
use std::fmt::Write;

pub(crate) fn shell(ui: &Ui) -> Shell {
    ui.shell("projects")
}

// ---- One project ----
pub struct HealthRow {
    pub rule: &'static str,
    pub ok: bool,
    pub title: String,
    pub why: String,
    pub finding: String,
}

pub struct Fact {
    pub label: String,
    pub value: String,
    pub warn: bool,
}

pub struct RoleChip {
    pub label: String,
    pub index: usize,
}

pub struct MemberRow {
    pub number: u32,
    pub version: i64,
    pub name: String,
    pub detail: String,
    pub roles: Vec<RoleChip>,
    pub kickoff: Option<String>,
    pub review: Option<String>,
    /// The reader is this member, or leads and this member is external: may confirm and review.
    pub may_speak: bool,
}

pub struct TaskRow {
    pub number: u32,
    pub href: String,
    pub name: String,
    pub owner: String,
    pub start: String,
    pub finish: String,
    pub area: String,
    pub status: String,
    pub percent: String,
    pub planned: String,
    pub actual: String,
    pub critical: bool,
    pub late: bool,
    /// Its predecessors push it past its planned finish: "+N days".
    pub pushed: Option<String>,
    pub milestone: bool,
    pub waits_for: String,
    pub after: String,
}

pub struct PackageRow {
    pub number: u32,
    pub version: i64,
    pub title: String,
    pub description: String,
    pub vendor: String,
    pub due: String,
    pub state: String,
    pub state_key: &'static str,
    pub events: Vec<String>,
    pub next: Vec<(&'static str, String)>,
}

/// The settings as the form shows them.
#[derive(Default)]
pub struct SettingsForm {
    pub version: i64,
    pub name: String,
    pub start: String,
    pub target: String,
    pub goals: String,
    pub phases: String,
    pub mandate_by: String,
    pub mandate_on: String,
    pub mandate_scope: String,
    pub currency: String,
    pub amount: String,
    pub buffer_percent: String,
    pub committed: String,
    pub spent: String,
    pub cadence: String,
    pub departments: String,
    pub user_groups: String,
    pub max_core_team: String,
    pub max_technical_percent: String,
    pub max_system_percent: String,
}

#[derive(Template)]
#[template(path = "ui/project.html")]
pub(crate) struct ProjectPage {
    pub(crate) shell: Shell,
    pub(crate) title: String,
    pub(crate) id: String,
    pub(crate) tab: &'static str,
    pub(crate) tabs: Vec<NavItem>,
    pub(crate) may_edit: bool,
    pub(crate) error: Option<String>,
    pub(crate) saved: Option<String>,
    // Overview
    pub(crate) goals: Vec<(String, String)>,
    pub(crate) facts: Vec<Fact>,
    pub(crate) health: Vec<HealthRow>,
    pub(crate) health_problems: usize,
    pub(crate) thirds_svg: String,
    /// Per area: hours planned / actual, cost planned / actual.
    pub(crate) thirds_rows: Vec<[String; 4]>,
    pub(crate) thirds_warning: Option<String>,
    pub(crate) forecast: Vec<Fact>,
    /// Tasks exist but no progress is reported: nothing to forecast from yet.
    pub(crate) no_progress: bool,
    pub(crate) budget: Vec<Fact>,
    // Group
    pub(crate) members: Vec<MemberRow>,
    pub(crate) roles: Vec<(String, String)>,
    pub(crate) departments: Vec<String>,
    pub(crate) user_groups: Vec<String>,
    pub(crate) users: Vec<(String, String)>,
    // Plan
    pub(crate) gantt_svg: String,
    /// The legend names only what the chart draws.
    pub(crate) gantt_critical: bool,
    pub(crate) gantt_forecast: bool,
    pub(crate) tasks: Vec<TaskRow>,
    pub(crate) owners: Vec<(String, String)>,
    pub(crate) phases: Vec<String>,
    pub(crate) areas: Vec<(&'static str, String)>,
    // Work packages
    pub(crate) packages: Vec<PackageRow>,
    pub(crate) vendors: Vec<(String, String)>,
    // Settings
    pub(crate) form: SettingsForm,
    pub(crate) cadences: Vec<(&'static str, String)>,
}

impl ProjectPage {
    pub(crate) fn new(
        ui: &Ui,
        state: &ProjectState,
        rights: ProjectRights,
        tab: &'static str,
        q: &HashMap<String, String>,
    ) -> Self {
        let head = ProjectHead::new(ui, state, rights, tab, q);
        ProjectPage {
            shell: shell(ui),
            title: head.title,
            tabs: head.tabs,
            id: head.id,
            tab,
            may_edit: head.may_edit,
            error: head.error,
            saved: head.saved,
            goals: Vec::new(),
            facts: Vec::new(),
            health: Vec::new(),
            health_problems: 0,
            thirds_svg: String::new(),
            thirds_rows: Vec::new(),
            thirds_warning: None,
            forecast: Vec::new(),
            no_progress: false,
            budget: Vec::new(),
            members: Vec::new(),
            roles: Vec::new(),
            departments: state.project.settings.departments.clone(),
            user_groups: state.project.settings.user_groups.clone(),
            users: Vec::new(),
            gantt_svg: String::new(),
            gantt_critical: false,
            gantt_forecast: false,
            tasks: Vec::new(),
            owners: Vec::new(),
            phases: state.project.settings.phases.iter().map(|p| p.name.clone()).collect(),
            areas: Area::ALL.iter().map(|a| (a.as_str(), area_label(ui, *a))).collect(),
            packages: Vec::new(),
            vendors: Vec::new(),
            form: SettingsForm::default(),
            cadences: Cadence::ALL
                .iter()
                .map(|c| (c.as_str(), ui.tr.t(&format!("project-cadence-{}", c.as_str()))))
                .collect(),
        }
    }
}

/// What every project page shows above its tab: the title, the tabs, the banner.
pub struct ProjectHead {
    pub title: String,
    pub id: String,
    pub tabs: Vec<NavItem>,
    pub may_edit: bool,
    pub error: Option<String>,
    pub saved: Option<String>,
}

impl ProjectHead {
    pub fn new(ui: &Ui, state: &ProjectState, rights: ProjectRights, tab: &str, q: &HashMap<String, String>) -> Self {
        let id = state.project.id.to_string();
        let mut tabs = vec![
            ("overview", "", "project-tab-overview"),
            ("group", "/group", "project-tab-group"),
            ("plan", "/plan", "project-tab-plan"),
            ("packages", "/packages", "project-tab-packages"),
            ("changes", "/changes", "project-tab-changes"),
            ("meetings", "/meetings", "project-tab-meetings"),
            ("communication", "/communication", "project-tab-communication"),
            ("reports", "/reports", "project-tab-reports"),
            ("journeys", "/journeys", "project-tab-journeys"),
        ];
        if rights.edit {
            tabs.push(("settings", "/settings", "project-tab-settings"));
        }
        let (error, saved) = banner(q, ui);
        ProjectHead {
            title: state.project.settings.name.clone(),
            tabs: tabs
                .into_iter()
                .map(|(key, path, label)| NavItem {
                    href: format!("/projects/{id}{path}"),
                    label: ui.tr.t(label),
                    current: key == tab,
                })
                .collect(),
            id,
            may_edit: rights.edit,
            error,
            saved,
        }
    }
}

/// The reader may change things at all (a role and a credential that write); the use cases
/// decide the rest.
pub(crate) fn may_write(ui: &Ui) -> bool {
    ui.authed
        .principal
        .may(Permission::WriteRecords, &anchora_core::auth::AccessPolicy::default())
}

pub(crate) fn today(ui: &Ui) -> NaiveDate {
    ui.authed.crm.clock.now().date_naive()
}

pub(crate) fn health_rows(ui: &Ui, state: &ProjectState, checks: &[Check]) -> Vec<HealthRow> {
    checks
        .iter()
        .map(|c| {
            let slug = c.rule.as_str().replace('_', "-");
            let figure = |name: &str| c.figures.iter().find(|(n, _)| n == name).map_or(0.0, |(_, v)| *v);
            let finding = match c.rule {
                _ if c.ok && c.rule != Rule::CoreTeamSize && c.rule != Rule::NotTooTechnical => String::new(),
                Rule::RolesFilled => c
                    .missing
                    .iter()
                    .map(|k| role_label(ui, &state.catalogue, k))
                    .collect::<Vec<_>>()
                    .join(", "),
                Rule::SystemOwnerNamed => String::new(),
                Rule::CoreTeamSize => ui.tr.tn(
                    "health-core-team-size-figures",
                    &[
                        ("count", format::number(ui.tr.locale, figure("core_team"), 0)),
                        ("max", format::number(ui.tr.locale, figure("max"), 0)),
                    ],
                ),
                Rule::NotTooTechnical => ui.tr.tn(
                    "health-not-too-technical-figures",
                    &[
                        ("technical", format::number(ui.tr.locale, figure("technical"), 0)),
                        ("count", format::number(ui.tr.locale, figure("core_team"), 0)),
                        ("share", format::share(ui.tr.locale, figure("share"))),
                        ("max", format::share(ui.tr.locale, figure("max_share"))),
                    ],
                ),
                _ => c.missing.join(", "),
            };
            // A failed rule is said as the problem it found, not as the rule.
            let (title, finding) = if c.ok {
                (ui.tr.t(&format!("health-{slug}")), finding)
            } else {
                let count = c.missing.len().max(1);
                let title = ui
                    .tr
                    .counted(&format!("health-{slug}-failed"), count, &[("finding", finding)]);
                (title, String::new())
            };
            HealthRow {
                rule: c.rule.as_str(),
                ok: c.ok,
                title,
                why: ui.tr.t(&c.rule.why_key()),
                finding,
            }
        })
        .collect()
}

/// The rule of thirds as horizontal bars: each area's share of the effort, planned and actual,
/// with the system's limit marked.
pub(crate) fn thirds_svg(ui: &Ui, t: &Thirds) -> String {
    const LABEL: i64 = 170;
    const BAR: i64 = 320;
    let planned = t.planned.shares();
    let actual = t.actual.shares();
    let mut svg = String::new();
    let height = 3 * 56 + 30;
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="thirds" role="img" aria-label="{}" viewBox="0 0 {} {height}" width="100%">"#,
        svg::escape(&ui.tr.t("project-thirds-title")),
        LABEL + BAR + 70
    );
    #[allow(clippy::cast_possible_truncation)]
    let px = |share: f64| (share.clamp(0.0, 1.0) * BAR as f64).round() as i64;
    for (i, area) in Area::ALL.iter().enumerate() {
        let y = 8 + 56 * i64::try_from(i).unwrap_or(0);
        let (p, a) = (
            planned.get(i).copied().unwrap_or(0.0),
            actual.get(i).copied().unwrap_or(0.0),
        );
        let over = *area == Area::System && a > t.max_system_share + f64::EPSILON;
        let _ = write!(
            svg,
            r#"<text class="label" x="0" y="{}">{}</text><rect class="planned" x="{LABEL}" y="{y}" width="{}" height="18"><title>{}</title></rect><text class="figure" x="{}" y="{}">{}</text><rect class="actual{}" x="{LABEL}" y="{}" width="{}" height="18"><title>{}</title></rect><text class="figure" x="{}" y="{}">{}</text>"#,
            y + 24,
            svg::escape(&area_label(ui, *area)),
            px(p),
            svg::escape(&ui.tr.t("project-thirds-planned")),
            LABEL + px(p) + 6,
            y + 14,
            format::share(ui.tr.locale, p),
            if over { " over" } else { "" },
            y + 22,
            px(a),
            svg::escape(&ui.tr.t("project-thirds-actual")),
            LABEL + px(a) + 6,
            y + 36,
            format::share(ui.tr.locale, a),
        );
    }
    let limit = LABEL + px(t.max_system_share);
    let third = LABEL + px(1.0 / 3.0);
    let _ = write!(
        svg,
        r#"<line class="third" x1="{third}" y1="0" x2="{third}" y2="{}"/><line class="limit" x1="{limit}" y1="{}" x2="{limit}" y2="{}"/><rect class="planned" x="{LABEL}" y="{}" width="12" height="10"/><text class="figure" x="{}" y="{}">{}</text><rect class="actual" x="{}" y="{}" width="12" height="10"/><text class="figure" x="{}" y="{}">{}</text></svg>"#,
        height - 22,
        8 + 56 * 2 - 4,
        8 + 56 * 2 + 44,
        height - 14,
        LABEL + 16,
        height - 5,
        svg::escape(&ui.tr.t("project-thirds-planned")),
        LABEL + 120,
        height - 14,
        LABEL + 136,
        height - 5,
        svg::escape(&ui.tr.t("project-thirds-actual")),
    );
    svg
}

/// A project as the caller sees it: one they may not see is the forbidden page.
pub(crate) async fn load(ui: &Ui, id: &str) -> Result<(ProjectState, ProjectRights), PageError> {
    ui.authed
        .crm
        .project_state(&ui.authed.principal, id)
        .await
        .or_not_found_else(ui, |_| forbidden(ui))
}
