//! The implementation project in the app: the list of projects, and each project's overview
//! (health, rule of thirds, forecast against the target, budget), its group, its plan with the
//! Gantt chart, its work packages and its settings. Everyone signed in may read; the forms go
//! through the same use cases as the API, so the same rights apply.

use super::admin::{banner, problem};
use super::posted::Posted;
use super::{NavItem, Shell, Ui, forbidden, format, gantt, not_found, svg};
use anchora_core::auth::Permission;
use anchora_core::project::health::{Check, Rule};
use anchora_core::project::model::{Cadence, ExternalKind, Member, PackageState, Settings, Task, TaskStatus};
use anchora_core::project::plan;
use anchora_core::project::roles::RoleDef;
use anchora_core::project::thirds::{Area, Thirds};
use anchora_core::project::{ProjectRights, ProjectState};
use anchora_core::views::url_encode;
use anchora_core::{Error, ErrorCode};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;
use std::fmt::Write;

pub(super) type Fields = HashMap<String, String>;
pub(super) type Params = Query<HashMap<String, String>>;

pub(super) fn field<'a>(form: &'a Fields, key: &str) -> &'a str {
    form.get(key).map_or("", |v| v.trim())
}

/// After a form: back to the page, with the error to show if there was one.
pub(super) fn back(ui: &Ui, path: &str, result: Result<(), Error>) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("{path}?saved=1")).into_response(),
        Err(e) if e.code == ErrorCode::Forbidden => forbidden(ui),
        Err(e) if e.code == ErrorCode::NotFound => not_found(ui),
        Err(e) => Redirect::to(&format!("{path}?error={}", url_encode(&problem(&e)))).into_response(),
    }
}

pub fn role_label(ui: &Ui, catalogue: &[RoleDef], key: &str) -> String {
    match catalogue.iter().find(|r| r.key == key) {
        Some(r) if !r.label.is_empty() => r.label.clone(),
        _ => ui.tr.t(&format!("project-role-{}", key.replace('_', "-"))),
    }
}

pub(super) fn area_label(ui: &Ui, a: Area) -> String {
    ui.tr.t(&format!("project-area-{}", a.as_str()))
}

fn status_label(ui: &Ui, s: TaskStatus) -> String {
    ui.tr.t(&format!("project-status-{}", s.as_str().replace('_', "-")))
}

fn package_label(ui: &Ui, s: PackageState) -> String {
    ui.tr.t(&format!("project-package-{}", s.as_str().replace('_', "-")))
}

pub(super) fn date(ui: &Ui, d: NaiveDate) -> String {
    ui.tr.date(d)
}

/// Money typed in major units ("1 250 000", "99,50") as minor units.
pub(super) fn parse_money(s: &str) -> Option<i64> {
    let cleaned: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\'')
        .collect();
    if cleaned.is_empty() {
        return Some(0);
    }
    // One separator with at most two digits after it is the decimal mark; others group.
    let last = cleaned.rfind([',', '.']);
    let (int, frac) = match last {
        Some(i) if cleaned.len() - i - 1 <= 2 => (cleaned.get(..i)?, cleaned.get(i + 1..)?),
        _ => (cleaned.as_str(), ""),
    };
    let int: String = int.chars().filter(|c| *c != ',' && *c != '.').collect();
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(cents)
}

pub(super) fn money_input(minor: i64) -> String {
    if minor % 100 == 0 {
        (minor / 100).to_string()
    } else {
        format!("{}.{:02}", minor / 100, (minor % 100).abs())
    }
}

/// A form's number as the user's language writes it; an empty input is 0.
fn parse_decimal(locale: &str, s: &str) -> Option<f64> {
    if s.trim().is_empty() {
        return Some(0.0);
    }
    anchora_core::number::parse(s, anchora_core::number::NumberFormat::of_locale(locale))
}

/// A form value that must be a number; its error names the field.
pub(super) fn decimal(locale: &str, form: &Fields, key: &str) -> Result<f64, Error> {
    parse_decimal(locale, field(form, key)).ok_or_else(|| Error::field(key, "must be a number"))
}

pub(super) fn money_field(form: &Fields, key: &str) -> Result<i64, Error> {
    parse_money(field(form, key)).ok_or_else(|| Error::field(key, "must be an amount such as 1250000 or 99.50"))
}

pub(super) fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

// ---- The list of projects ----

pub struct ProjectRow {
    pub href: String,
    pub name: String,
    pub start: String,
    pub target: String,
    pub cadence: String,
}

#[derive(Template)]
#[template(path = "ui/projects.html")]
struct ProjectsPage {
    shell: Shell,
    title: String,
    projects: Vec<ProjectRow>,
    may_create: bool,
    error: Option<String>,
    saved: Option<String>,
    /// The role catalogue: (label, what kind of role it is).
    catalogue: Vec<(String, String)>,
}

pub async fn projects_page(ui: Ui, Query(q): Params) -> Response {
    let projects = match ui.authed.crm.projects(&ui.authed.principal).await {
        Ok(p) => p,
        Err(_) => return forbidden(&ui),
    };
    let rows = projects
        .iter()
        .map(|p| ProjectRow {
            href: format!("/projects/{}", p.id),
            name: p.settings.name.clone(),
            start: date(&ui, p.settings.start),
            target: date(&ui, p.settings.target),
            cadence: ui.tr.t(&format!("project-cadence-{}", p.settings.cadence.as_str())),
        })
        .collect();
    let catalogue = ui.authed.crm.project_catalogue().await.unwrap_or_default();
    let (error, saved) = banner(&q, &ui);
    let page = ProjectsPage {
        title: ui.tr.t("projects-title"),
        projects: rows,
        may_create: ui.authed.principal.may(Permission::ManageProjects, &ui.schema.policy),
        error,
        saved,
        catalogue: catalogue
            .iter()
            .map(|r| {
                let mut kinds = Vec::new();
                if r.required {
                    kinds.push(ui.tr.t("project-role-required"));
                }
                if r.core_team {
                    kinds.push(ui.tr.t("project-role-core"));
                }
                if r.technical {
                    kinds.push(ui.tr.t("project-role-technical"));
                }
                if r.vendor {
                    kinds.push(ui.tr.t("project-role-vendor"));
                }
                (role_label(&ui, &catalogue, &r.key), kinds.join(", "))
            })
            .collect(),
        shell: shell(&ui),
    };
    ui.page(StatusCode::OK, page.render())
}

pub(super) fn shell(ui: &Ui) -> Shell {
    ui.shell("projects")
}

pub async fn create_project(Posted { ui, form }: Posted<Fields>) -> Response {
    let body = json!({
        "name": field(&form, "name"),
        "start": field(&form, "start"),
        "target": field(&form, "target"),
    });
    match ui.authed.crm.create_project(&ui.authed.principal, body).await {
        Ok(p) => Redirect::to(&format!("/projects/{}/settings", p.id)).into_response(),
        Err(e) => back(&ui, "/projects", Err(e)),
    }
}

/// A catalogue key from a role's name: lower-case ASCII (Nordic and other Latin letters
/// transliterated), unique among the keys taken.
fn role_key(label: &str, taken: &[String]) -> String {
    let mut ascii = String::new();
    for c in label.to_lowercase().chars() {
        match anchora_core::import::mapping::plain_letter(c) {
            Some(plain) => ascii.push_str(plain),
            None if c.is_ascii_alphanumeric() => ascii.push(c),
            None => ascii.push('_'),
        }
    }
    let mut key: String = ascii.split('_').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("_");
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key = format!("role_{key}").trim_end_matches('_').to_string();
    }
    key.truncate(36);
    let mut candidate = key.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{key}_{n}");
        n += 1;
    }
    candidate
}

/// An administrator adds a role to the catalogue every project uses.
pub async fn add_catalogue_role(Posted { ui, form }: Posted<Fields>) -> Response {
    let label = field(&form, "label");
    let taken: Vec<String> = ui
        .authed
        .crm
        .project_catalogue()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.key)
        .collect();
    let body = json!({
        "key": role_key(label, &taken),
        "label": label,
        "required": form.contains_key("required"),
        "core_team": form.contains_key("core_team"),
        "technical": form.contains_key("technical"),
        "vendor": form.contains_key("vendor"),
        "scope": "project",
    });
    let result = ui
        .authed
        .crm
        .add_project_role(&ui.authed.principal, body)
        .await
        .map(|_| ());
    back(&ui, "/projects", result)
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
struct ProjectPage {
    shell: Shell,
    title: String,
    id: String,
    tab: &'static str,
    tabs: Vec<NavItem>,
    may_edit: bool,
    error: Option<String>,
    saved: Option<String>,
    // Overview
    goals: Vec<(String, String)>,
    facts: Vec<Fact>,
    health: Vec<HealthRow>,
    health_problems: usize,
    thirds_svg: String,
    /// Per area: hours planned / actual, cost planned / actual.
    thirds_rows: Vec<[String; 4]>,
    thirds_warning: Option<String>,
    forecast: Vec<Fact>,
    /// Tasks exist but no progress is reported: nothing to forecast from yet.
    no_progress: bool,
    budget: Vec<Fact>,
    // Group
    members: Vec<MemberRow>,
    roles: Vec<(String, String)>,
    departments: Vec<String>,
    user_groups: Vec<String>,
    users: Vec<(String, String)>,
    // Plan
    gantt_svg: String,
    /// The legend names only what the chart draws.
    gantt_critical: bool,
    gantt_forecast: bool,
    tasks: Vec<TaskRow>,
    owners: Vec<(String, String)>,
    phases: Vec<String>,
    areas: Vec<(&'static str, String)>,
    // Work packages
    packages: Vec<PackageRow>,
    vendors: Vec<(String, String)>,
    // Settings
    form: SettingsForm,
    cadences: Vec<(&'static str, String)>,
}

impl ProjectPage {
    fn new(
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
pub(super) fn may_write(ui: &Ui) -> bool {
    ui.authed
        .principal
        .may(Permission::WriteRecords, &anchora_core::auth::AccessPolicy::default())
}

pub(super) async fn load(ui: &Ui, id: &str) -> Result<(ProjectState, ProjectRights), Response> {
    match ui.authed.crm.project_state(&ui.authed.principal, id).await {
        Ok(x) => Ok(x),
        Err(e) if e.code == ErrorCode::NotFound => Err(not_found(ui)),
        Err(_) => Err(forbidden(ui)),
    }
}

pub(super) fn today(ui: &Ui) -> NaiveDate {
    ui.authed.crm.clock.now().date_naive()
}

fn health_rows(ui: &Ui, state: &ProjectState, checks: &[Check]) -> Vec<HealthRow> {
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
fn thirds_svg(ui: &Ui, t: &Thirds) -> String {
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

pub async fn overview(ui: Ui, Path(id): Path<String>, Query(q): Params) -> Response {
    let (state, rights) = match load(&ui, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let today = today(&ui);
    let mut page = ProjectPage::new(&ui, &state, rights, "overview", &q);
    let s = &state.project.settings;
    let locale = ui.tr.locale;
    page.goals = s.goals.iter().map(|g| (g.text.clone(), g.strategy.clone())).collect();
    page.facts = vec![
        Fact {
            label: ui.tr.t("project-start"),
            value: date(&ui, s.start),
            warn: false,
        },
        Fact {
            label: ui.tr.t("project-target"),
            value: date(&ui, s.target),
            warn: false,
        },
        Fact {
            label: ui.tr.t("project-cadence"),
            value: ui.tr.t(&format!("project-cadence-{}", s.cadence.as_str())),
            warn: false,
        },
        match &s.mandate {
            Some(m) => Fact {
                label: ui.tr.t("project-mandate"),
                value: ui.tr.tn(
                    "project-mandate-text",
                    &[
                        ("by", m.granted_by.clone()),
                        ("date", date(&ui, m.granted_on)),
                        ("scope", m.scope.clone()),
                    ],
                ),
                warn: false,
            },
            None => Fact {
                label: ui.tr.t("project-mandate"),
                value: ui.tr.t("project-mandate-missing"),
                warn: true,
            },
        },
    ];
    let checks = state.health();
    page.health_problems = checks.iter().filter(|c| !c.ok).count();
    page.health = health_rows(&ui, &state, &checks);
    let thirds = state.thirds();
    page.thirds_svg = thirds_svg(&ui, &thirds);
    let currency = Some(s.budget.currency.as_str());
    page.thirds_rows = Area::ALL
        .iter()
        .map(|a| {
            let pick = |split: &anchora_core::project::thirds::Split| match a {
                Area::Business => split.business,
                Area::Anchoring => split.anchoring,
                Area::System => split.system,
            };
            let (p, x) = (pick(&thirds.planned), pick(&thirds.actual));
            [
                area_label(&ui, *a),
                format!(
                    "{} / {}",
                    format::number(locale, p.hours, 0),
                    format::number(locale, x.hours, 0)
                ),
                format::money(locale, p.money, currency),
                format::money(locale, x.money, currency),
            ]
        })
        .collect();
    page.thirds_warning = (thirds.actual_warning || thirds.planned_warning).then(|| {
        ui.tr.t1(
            "project-thirds-warning",
            "max",
            format::share(locale, thirds.max_system_share),
        )
    });
    let forecast = state.forecast(today);
    let overdue = state.overdue(today).len();
    page.no_progress = !state.tasks.is_empty() && forecast.is_none();
    page.forecast = match forecast {
        Some(f) => {
            let late = f.forecast_finish > s.target;
            vec![
                Fact {
                    label: ui.tr.t("project-complete"),
                    value: format::share(locale, f.percent_complete),
                    warn: false,
                },
                Fact {
                    label: ui.tr.t("project-forecast"),
                    value: date(&ui, f.forecast_finish),
                    warn: late,
                },
                Fact {
                    label: ui.tr.t("project-target"),
                    value: date(&ui, s.target),
                    warn: false,
                },
                Fact {
                    label: ui.tr.t("project-slip"),
                    value: {
                        let days = (f.forecast_finish - s.target).num_days();
                        match days {
                            0 => ui.tr.t("project-on-target"),
                            d if d > 0 => ui.tr.t1("project-days-late", "count", d),
                            d => ui.tr.t1("project-days-early", "count", -d),
                        }
                    },
                    warn: late,
                },
                Fact {
                    label: ui.tr.t("project-spi"),
                    value: format::number(locale, f.spi, 2),
                    warn: f.spi < 0.95,
                },
                Fact {
                    label: ui.tr.t("project-overdue"),
                    value: format::number(locale, f64::from(u32::try_from(overdue).unwrap_or(0)), 0),
                    warn: overdue > 0,
                },
            ]
        }
        None => Vec::new(),
    };
    let b = state.budget();
    let cur = Some(s.budget.currency.as_str());
    page.budget = vec![
        Fact {
            label: ui.tr.t("project-budget-amount"),
            value: format::money(locale, s.budget.amount, cur),
            warn: false,
        },
        Fact {
            label: ui.tr.t("project-budget-buffer"),
            value: format!(
                "{} ({})",
                format::money(locale, b.buffer, cur),
                format::percent(locale, s.budget.buffer_percent)
            ),
            warn: false,
        },
        Fact {
            label: ui.tr.t("project-budget-committed"),
            value: format::money(locale, s.budget.committed, cur),
            warn: false,
        },
        Fact {
            label: ui.tr.t("project-budget-spent"),
            value: format::money(locale, s.budget.spent, cur),
            warn: false,
        },
        Fact {
            label: ui.tr.t("project-budget-buffer-used"),
            value: format::share(locale, b.buffer_used_share),
            warn: b.buffer_used_share > 0.5,
        },
        Fact {
            label: ui.tr.t("project-budget-remaining"),
            value: format::money(locale, b.remaining, cur),
            warn: b.over_budget,
        },
    ];
    ui.page(StatusCode::OK, page.render())
}

pub(super) fn member_name(state: &ProjectState, n: Option<u32>) -> String {
    n.and_then(|n| state.member(n))
        .map(|m| m.name.clone())
        .unwrap_or_default()
}

pub async fn group(ui: Ui, Path(id): Path<String>, Query(q): Params) -> Response {
    let (state, rights) = match load(&ui, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut page = ProjectPage::new(&ui, &state, rights, "group", &q);
    page.members = state
        .members
        .iter()
        .map(|m: &Member| MemberRow {
            number: m.number,
            version: m.version,
            name: m.name.clone(),
            detail: [m.organisation.as_str(), m.email.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" · "),
            roles: m
                .roles
                .iter()
                .enumerate()
                .map(|(index, a)| {
                    let mut label = role_label(&ui, &state.catalogue, &a.role);
                    if let Some(x) = a.department.as_ref().or(a.user_group.as_ref()) {
                        let _ = write!(label, " ({x})");
                    }
                    RoleChip { label, index }
                })
                .collect(),
            kickoff: m
                .kickoff
                .as_ref()
                .map(|k| ui.tr.t1("project-confirmed-on", "date", ui.tr.datetime(k.at))),
            review: m.review.as_ref().map(|r| format!("{}/5 · {}", r.rating, r.text)),
            may_speak: m.user == Some(ui.authed.user.id) || (rights.edit && m.external()),
        })
        .collect();
    page.roles = state
        .catalogue
        .iter()
        .map(|r| (r.key.clone(), role_label(&ui, &state.catalogue, &r.key)))
        .collect();
    if rights.edit {
        let in_group: Vec<_> = state.members.iter().filter_map(|m| m.user).collect();
        page.users = ui
            .authed
            .crm
            .users(&ui.authed.principal)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|u| u.active && !in_group.contains(&u.id))
            .map(|u| (u.id.to_string(), u.name))
            .collect();
    }
    ui.page(StatusCode::OK, page.render())
}

pub async fn plan(ui: Ui, Path(id): Path<String>, Query(q): Params) -> Response {
    let (state, rights) = match load(&ui, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let today = today(&ui);
    let mut page = ProjectPage::new(&ui, &state, rights, "plan", &q);
    let schedule = state.schedule().ok();
    if let Some(schedule) = &schedule {
        page.gantt_svg = plan_svg(&ui, &state, schedule, today);
        page.gantt_critical = !schedule.critical.is_empty();
        page.gantt_forecast = state.forecast(today).is_some();
    }
    let critical: std::collections::HashSet<u32> = schedule
        .as_ref()
        .map(|s| s.critical.iter().copied().collect())
        .unwrap_or_default();
    let mut after: HashMap<u32, Vec<String>> = HashMap::new();
    for d in &state.dependencies {
        after.entry(d.after).or_default().push(format!("#{}", d.before));
    }
    let locale = ui.tr.locale;
    page.tasks = state
        .tasks
        .iter()
        .map(|t: &Task| TaskRow {
            number: t.number,
            href: format!("/projects/{}/tasks/{}", page.id, t.number),
            name: t.name.clone(),
            owner: member_name(&state, t.owner),
            start: date(&ui, t.start),
            finish: date(&ui, t.finish),
            area: area_label(&ui, t.area),
            status: status_label(&ui, t.status),
            percent: format::percent(locale, t.percent_done.round()),
            planned: format::number(locale, t.planned_hours, 0),
            actual: format::number(locale, t.actual_hours, 0),
            critical: critical.contains(&t.number),
            late: t.status != TaskStatus::Done && t.finish < today,
            pushed: schedule
                .as_ref()
                .and_then(|s| s.slip_days.get(&t.number))
                .filter(|d| **d > 0)
                .map(|d| ui.tr.t1("project-pushed", "count", *d)),
            milestone: t.milestone,
            waits_for: t
                .external
                .iter()
                .filter(|e| !e.resolved)
                .map(|e| {
                    format!(
                        "{}: {}",
                        ui.tr
                            .t(&format!("project-external-{}", e.kind.as_str().replace('_', "-"))),
                        e.party
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            after: after.get(&t.number).map(|v| v.join(", ")).unwrap_or_default(),
        })
        .collect();
    page.owners = state
        .members
        .iter()
        .map(|m| (m.number.to_string(), m.name.clone()))
        .collect();
    ui.page(StatusCode::OK, page.render())
}

/// The plan's Gantt chart with today, the target and the forecast finish marked.
fn plan_svg(ui: &Ui, state: &ProjectState, schedule: &plan::Schedule, today: NaiveDate) -> String {
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

pub async fn packages(ui: Ui, Path(id): Path<String>, Query(q): Params) -> Response {
    let (state, rights) = match load(&ui, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut page = ProjectPage::new(&ui, &state, rights, "packages", &q);
    page.packages = state
        .packages
        .iter()
        .map(|p| {
            let vendor_self = p.vendor.is_some() && p.vendor == rights.member;
            let next = PackageState::ALL
                .iter()
                .filter(|s| p.state.may_become(**s))
                .filter(|s| rights.edit || (**s == PackageState::Delivered && vendor_self))
                .map(|s| {
                    (
                        s.as_str(),
                        ui.tr.t(&format!("project-package-to-{}", s.as_str().replace('_', "-"))),
                    )
                })
                .collect();
            PackageRow {
                number: p.number,
                version: p.version,
                title: p.title.clone(),
                description: p.description.clone(),
                vendor: member_name(&state, p.vendor),
                due: p.due.map(|d| date(&ui, d)).unwrap_or_default(),
                state: package_label(&ui, p.state),
                state_key: p.state.as_str(),
                events: p
                    .events
                    .iter()
                    .map(|e| {
                        let mut line = format!("{} · {}", ui.tr.datetime(e.at), package_label(&ui, e.state));
                        if !e.comment.is_empty() {
                            let _ = write!(line, " · {}", e.comment);
                        }
                        line
                    })
                    .collect(),
                next,
            }
        })
        .collect();
    page.vendors = state
        .members
        .iter()
        .map(|m| (m.number.to_string(), m.name.clone()))
        .collect();
    ui.page(StatusCode::OK, page.render())
}

fn settings_form(s: &Settings, version: i64) -> SettingsForm {
    let pct = percent_input;
    SettingsForm {
        version,
        name: s.name.clone(),
        start: s.start.to_string(),
        target: s.target.to_string(),
        goals: s
            .goals
            .iter()
            .map(|g| {
                if g.strategy.is_empty() {
                    g.text.clone()
                } else {
                    format!("{} | {}", g.text, g.strategy)
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        phases: s
            .phases
            .iter()
            .map(|p| format!("{} | {} | {}", p.name, p.start, p.finish))
            .collect::<Vec<_>>()
            .join("\n"),
        mandate_by: s.mandate.as_ref().map(|m| m.granted_by.clone()).unwrap_or_default(),
        mandate_on: s.mandate.as_ref().map(|m| m.granted_on.to_string()).unwrap_or_default(),
        mandate_scope: s.mandate.as_ref().map(|m| m.scope.clone()).unwrap_or_default(),
        currency: s.budget.currency.clone(),
        amount: money_input(s.budget.amount),
        buffer_percent: format!("{}", s.budget.buffer_percent),
        committed: money_input(s.budget.committed),
        spent: money_input(s.budget.spent),
        cadence: s.cadence.as_str().to_string(),
        departments: s.departments.join("\n"),
        user_groups: s.user_groups.join("\n"),
        max_core_team: s.thresholds.max_core_team.to_string(),
        max_technical_percent: pct(s.thresholds.max_technical_share),
        max_system_percent: pct(s.max_system_share),
    }
}

pub async fn settings_page(ui: Ui, Path(id): Path<String>, Query(q): Params) -> Response {
    let (state, rights) = match load(&ui, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !rights.edit {
        return forbidden(&ui);
    }
    let mut page = ProjectPage::new(&ui, &state, rights, "settings", &q);
    page.form = settings_form(&state.project.settings, state.project.version);
    ui.page(StatusCode::OK, page.render())
}

/// The settings form as the API's patch.
/// A share (0–1) as the settings form shows it, in percent.
fn percent_input(v: f64) -> String {
    let p = (v * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

/// The settings form as the API's patch. Shares the form shows rounded keep their exact value
/// unless the user changed the figure.
fn settings_patch(locale: &str, form: &Fields, current: &Settings) -> Result<Json, Error> {
    let mut goals = Vec::new();
    for line in lines(field(form, "goals")) {
        let (text, strategy) = line.split_once('|').unwrap_or((&line, ""));
        goals.push(json!({"text": text.trim(), "strategy": strategy.trim()}));
    }
    let mut phases = Vec::new();
    for line in lines(field(form, "phases")) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, start, finish] = parts.as_slice() else {
            return Err(Error::field("phases", "write each phase as: name | start | finish"));
        };
        phases.push(json!({"name": name, "start": start, "finish": finish}));
    }
    let mandate = if field(form, "mandate_by").is_empty() && field(form, "mandate_scope").is_empty() {
        Json::Null
    } else {
        json!({
            "granted_by": field(form, "mandate_by"),
            "granted_on": field(form, "mandate_on"),
            "scope": field(form, "mandate_scope"),
        })
    };
    let version: i64 = field(form, "version")
        .parse()
        .map_err(|_| Error::field("version", "is missing"))?;
    let percent = |key: &str, now: f64| {
        if field(form, key) == percent_input(now) {
            Ok(now)
        } else {
            decimal(locale, form, key).map(|v| v / 100.0)
        }
    };
    let mut patch = Map::new();
    patch.insert("version".into(), json!(version));
    patch.insert("name".into(), json!(field(form, "name")));
    patch.insert("start".into(), json!(field(form, "start")));
    patch.insert("target".into(), json!(field(form, "target")));
    patch.insert("goals".into(), Json::Array(goals));
    patch.insert("phases".into(), Json::Array(phases));
    patch.insert("mandate".into(), mandate);
    patch.insert(
        "budget".into(),
        json!({
            "currency": field(form, "currency"),
            "amount": money_field(form, "amount")?,
            "buffer_percent": decimal(locale, form, "buffer_percent")?,
            "committed": money_field(form, "committed")?,
            "spent": money_field(form, "spent")?,
        }),
    );
    patch.insert("cadence".into(), json!(field(form, "cadence")));
    patch.insert("departments".into(), json!(lines(field(form, "departments"))));
    patch.insert("user_groups".into(), json!(lines(field(form, "user_groups"))));
    patch.insert(
        "thresholds".into(),
        json!({
            "max_core_team": field(form, "max_core_team").parse::<u64>().map_err(|_| Error::field("max_core_team", "must be a whole number"))?,
            "max_technical_share": percent("max_technical_percent", current.thresholds.max_technical_share)?,
        }),
    );
    patch.insert(
        "max_system_share".into(),
        json!(percent("max_system_percent", current.max_system_share)?),
    );
    Ok(Json::Object(patch))
}

pub async fn save_settings(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let (state, _) = ui.authed.crm.project_state(&ui.authed.principal, &id).await?;
        let patch = settings_patch(ui.tr.locale, &form, &state.project.settings)?;
        ui.authed
            .crm
            .update_project(&ui.authed.principal, &id, patch)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/settings"), result)
}

// ---- Group forms ----

fn assignment(form: &Fields) -> Json {
    json!({
        "role": field(form, "role"),
        "department": Some(field(form, "department")).filter(|s| !s.is_empty()),
        "user_group": Some(field(form, "user_group")).filter(|s| !s.is_empty()),
    })
}

pub async fn add_member(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let mut body = json!({
        "name": field(&form, "name"),
        "email": field(&form, "email"),
        "organisation": field(&form, "organisation"),
        "roles": if field(&form, "role").is_empty() { json!([]) } else { json!([assignment(&form)]) },
    });
    let user = field(&form, "user");
    if !user.is_empty()
        && let Some(map) = body.as_object_mut()
    {
        map.insert("user".into(), json!(user));
    }
    let result = ui
        .authed
        .crm
        .add_member(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/group"), result)
}

pub(super) fn form_number(form: &Fields, key: &str) -> Result<i64, Error> {
    field(form, key)
        .parse()
        .map_err(|_| Error::field(key, "must be a whole number"))
}

/// Add a role to a member, or take one away (`remove` = its index).
pub async fn member_roles(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let (state, _) = ui.authed.crm.project_state(&ui.authed.principal, &id).await?;
        let member = state.member(n).ok_or_else(|| Error::not_found("no such member"))?;
        let mut roles = serde_json::to_value(&member.roles).map_err(|e| Error::internal(e.to_string()))?;
        if let Some(list) = roles.as_array_mut() {
            match field(&form, "remove").parse::<usize>() {
                Ok(i) if i < list.len() => {
                    list.remove(i);
                }
                _ => list.push(assignment(&form)),
            }
        }
        let body = json!({"version": form_number(&form, "version")?, "roles": roles});
        ui.authed
            .crm
            .update_member(&ui.authed.principal, &id, n, body)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/group"), result)
}

pub async fn remove_member(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = match form_number(&form, "version") {
        Ok(v) => ui.authed.crm.remove_member(&ui.authed.principal, &id, n, v).await,
        Err(e) => Err(e),
    };
    back(&ui, &format!("/projects/{id}/group"), result)
}

pub async fn confirm_roles(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = match form_number(&form, "version") {
        Ok(v) => ui
            .authed
            .crm
            .confirm_roles(&ui.authed.principal, &id, n, v)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    back(&ui, &format!("/projects/{id}/group"), result)
}

pub async fn review_role(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let rating: u64 = field(&form, "rating").parse().unwrap_or(0);
    let body = json!({"rating": rating, "text": field(&form, "text")});
    let result = ui
        .authed
        .crm
        .review_role(&ui.authed.principal, &id, n, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/group"), result)
}

// ---- Plan forms ----

/// The task form as the API's body. `current` is the task being edited: the form edits its
/// first external dependency and keeps the others.
fn task_body(locale: &str, form: &Fields, full: bool, current: Option<&Task>) -> Result<Map<String, Json>, Error> {
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
    let result = async {
        let body = task_body(ui.tr.locale, &form, true, None)?;
        let after = field(&form, "after");
        let before = if after.is_empty() {
            None
        } else {
            // Checked before the task is written, so a wrong number adds nothing.
            let n: u32 = after
                .parse()
                .map_err(|_| Error::field("after", "must be a task number"))?;
            let (state, _) = ui.authed.crm.project_state(&ui.authed.principal, &id).await?;
            state
                .task(n)
                .ok_or_else(|| Error::field("after", format!("there is no task {n}")))?;
            Some(n)
        };
        let task = ui
            .authed
            .crm
            .add_task(&ui.authed.principal, &id, Json::Object(body))
            .await?;
        if let Some(before) = before {
            ui.authed
                .crm
                .add_dependency(&ui.authed.principal, &id, before, task.number)
                .await?;
        }
        Ok(())
    }
    .await;
    back(&ui, &format!("/projects/{id}/plan"), result)
}

#[derive(Template)]
#[template(path = "ui/project_task.html")]
struct TaskPage {
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

pub async fn task_page(ui: Ui, Path((id, n)): Path<(String, u32)>, Query(q): Params) -> Response {
    let (state, rights) = match load(&ui, &id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(task) = state.task(n).cloned() else {
        return not_found(&ui);
    };
    let owner = rights.member.is_some() && task.owner == rights.member;
    if !rights.edit && !owner {
        return forbidden(&ui);
    }
    let ext = task.external.first();
    let page = TaskPage {
        shell: shell(&ui),
        title: format!("#{} {}", task.number, task.name),
        id: id.clone(),
        project: state.project.settings.name.clone(),
        may_edit: rights.edit,
        error: banner(&q, &ui).0,
        owners: state
            .members
            .iter()
            .map(|m| (m.number.to_string(), m.name.clone()))
            .collect(),
        owner: task.owner.map(|o| o.to_string()).unwrap_or_default(),
        phases: {
            // A phase renamed since keeps showing on its tasks until someone picks another.
            let mut phases: Vec<String> = state.project.settings.phases.iter().map(|p| p.name.clone()).collect();
            if !task.phase.is_empty() && !phases.contains(&task.phase) {
                phases.push(task.phase.clone());
            }
            phases
        },
        areas: Area::ALL.iter().map(|a| (a.as_str(), area_label(&ui, *a))).collect(),
        statuses: TaskStatus::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(&ui, *s)))
            .collect(),
        external_kinds: ExternalKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str(),
                    ui.tr.t(&format!("project-external-{}", k.as_str().replace('_', "-"))),
                )
            })
            .collect(),
        external_kind: ext.map(|e| e.kind.as_str().to_string()).unwrap_or_default(),
        external_party: ext.map(|e| e.party.clone()).unwrap_or_default(),
        external_note: ext.map(|e| e.note.clone()).unwrap_or_default(),
        external_resolved: ext.is_some_and(|e| e.resolved),
        planned_cost: money_input(task.planned_cost),
        actual_cost: money_input(task.actual_cost),
        predecessors: state
            .dependencies
            .iter()
            .filter(|d| d.after == task.number)
            .map(|d| {
                let name = state.task(d.before).map_or("", |t| t.name.as_str());
                (d.before, format!("#{} {name}", d.before))
            })
            .collect(),
        task,
    };
    ui.page(StatusCode::OK, page.render())
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

// ---- Work package forms ----

pub async fn add_package(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let vendor = field(&form, "vendor").parse::<u32>().ok();
    let due = Some(field(&form, "due")).filter(|s| !s.is_empty());
    let body = json!({
        "title": field(&form, "title"),
        "description": field(&form, "description"),
        "vendor": vendor,
        "due": due,
    });
    let result = ui
        .authed
        .crm
        .add_work_package(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/packages"), result)
}

pub async fn move_package(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let next = PackageState::parse(field(&form, "state")).ok_or_else(|| Error::field("state", "is not a state"))?;
        let version = form_number(&form, "version")?;
        ui.authed
            .crm
            .move_work_package(&ui.authed.principal, &id, n, next, field(&form, "comment"), version)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/packages"), result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_as_typed_in_each_locale() {
        assert_eq!(parse_money("1 250 000"), Some(125_000_000));
        assert_eq!(parse_money("1.250.000"), Some(125_000_000));
        assert_eq!(parse_money("1,250,000.50"), Some(125_000_050));
        assert_eq!(parse_money("99,5"), Some(9_950));
        assert_eq!(parse_money(""), Some(0));
        assert_eq!(parse_money("12a"), None);
        assert_eq!(parse_money("-5"), None);
        assert_eq!(parse_money("99999999999999999999"), None);
        assert_eq!(money_input(125_000_050), "1250000.50");
        assert_eq!(parse_decimal("sv", "12,5"), Some(12.5));
        assert_eq!(parse_decimal("en", "1,000"), Some(1000.0));
        assert_eq!(parse_decimal("de", "1.000,5"), Some(1000.5));
        assert_eq!(parse_decimal("en", "NaN"), None);
    }

    #[test]
    fn saving_the_settings_form_keeps_shares_it_shows_rounded() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let settings = Settings::new("Rollout", d("2027-01-04"), d("2027-06-30"));
        let f = settings_form(&settings, 3);
        assert_eq!(f.max_technical_percent, "33.3");
        let form: Fields = [
            ("version", f.version.to_string()),
            ("name", f.name),
            ("start", f.start),
            ("target", f.target),
            ("currency", f.currency),
            ("amount", f.amount),
            ("buffer_percent", f.buffer_percent),
            ("committed", f.committed),
            ("spent", f.spent),
            ("cadence", f.cadence),
            ("max_core_team", f.max_core_team),
            ("max_technical_percent", f.max_technical_percent),
            ("max_system_percent", "40".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let patch = settings_patch("en", &form, &settings).unwrap();
        assert_eq!(patch["thresholds"]["max_technical_share"], json!(1.0 / 3.0));
        assert_eq!(
            patch["max_system_share"],
            json!(0.4),
            "a changed figure is taken as typed"
        );
    }

    #[test]
    fn role_keys_from_names_in_any_language() {
        assert_eq!(role_key("Dataägare", &[]), "dataagare");
        assert_eq!(role_key("Ægir's øl-rolle", &[]), "aegir_s_ol_rolle");
        assert_eq!(role_key("Ägare", &["agare".into()]), "agare_2");
        assert_eq!(role_key("数据", &[]), "role");
        assert_eq!(role_key("数据", &["role".into()]), "role_2");
        assert_eq!(role_key("2nd line", &[]), "role_2nd_line");
    }
}
