//! The onboarding pages (issue 22, point 5; C3): `/onboarding` the caller's own checklist and
//! those of the people they help (their team's members for its key users and lead, everyone
//! for administrators); `/onboarding/users/{id}` one person's checklist, manual steps ticked in
//! place, with their trainings; `/onboarding/templates` each role's template for
//! administrators. What is shown is `Crm::onboarding_board`'s, `Crm::checklist`'s and
//! `Crm::user_trainings`'; this file only words it.

use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui, form_value, labels};
use crate::i18n::Tr;
use anchora_core::ErrorCode;
use anchora_core::auth::{Permission, Role};
use anchora_core::onboarding::{ChecklistView, Condition, PersonProgress, StepView, Template};
use anchora_core::training::{Course, CourseStatus, TrainingState};
use askama::Template as _;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

type Pairs = Vec<(String, String)>;

/// One option of a select.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub on: bool,
}

fn opt(value: impl Into<String>, label: String, on: bool) -> Opt {
    Opt {
        value: value.into(),
        label,
        on,
    }
}

/// A person's progress as lists show it.
pub struct ProgressLine {
    pub id: String,
    pub href: String,
    pub name: String,
    pub team: String,
    pub role: String,
    pub started: String,
    pub done: usize,
    pub total: usize,
    /// "3 of 5 steps done".
    pub progress: String,
    /// "2 overdue", empty when none.
    pub overdue: String,
    pub next: String,
    pub complete: bool,
}

pub fn role_label(tr: &Tr, role: Role) -> String {
    tr.t(&format!("role-{}", role.as_str()))
}

pub fn progress_line(tr: &Tr, p: &PersonProgress) -> ProgressLine {
    ProgressLine {
        id: p.user.to_string(),
        href: format!("/onboarding/users/{}", p.user),
        name: p.name.clone(),
        team: p.team_name.clone().unwrap_or_default(),
        role: role_label(tr, p.role),
        started: tr.date(p.started_at.date_naive()),
        done: p.done,
        total: p.total,
        progress: progress_text(tr, p.done, p.total),
        overdue: if p.overdue > 0 {
            tr.counted("onboarding-overdue-count", p.overdue, &[])
        } else {
            String::new()
        },
        next: p.next.clone().unwrap_or_default(),
        complete: p.complete,
    }
}

fn progress_text(tr: &Tr, done: usize, total: usize) -> String {
    tr.counted("onboarding-progress", total, &[("done", done.to_string())])
}

#[derive(askama::Template)]
#[template(path = "ui/onboarding.html")]
struct BoardPage {
    shell: Shell,
    title: String,
    may_edit_templates: bool,
    mine: Option<ProgressLine>,
    people: Vec<ProgressLine>,
    people_title: String,
    /// Administrators: who has no checklist, (id, name, team, role).
    without: Vec<(String, String, String, String)>,
    error: Option<String>,
}

/// `/onboarding`: the caller's checklist and those of the people they help.
pub async fn board_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let board = ui
        .authed
        .crm
        .onboarding_board(&ui.authed.principal)
        .await
        .or_page(&ui)?;
    let tr = &ui.tr;
    let people: Vec<ProgressLine> = board.people.iter().map(|p| progress_line(tr, p)).collect();
    let page = BoardPage {
        shell: ui.shell("onboarding"),
        title: tr.t("onboarding-title"),
        may_edit_templates: ui.authed.principal.may(Permission::ManageUsers, &ui.schema.policy),
        mine: board.mine.as_ref().map(|p| progress_line(tr, p)),
        people_title: tr.counted("onboarding-people", people.len(), &[]),
        people,
        without: board
            .without
            .iter()
            .map(|p| {
                (
                    p.user.to_string(),
                    p.name.clone(),
                    p.team_name.clone().unwrap_or_default(),
                    role_label(tr, p.role),
                )
            })
            .collect(),
        error: Some(form_value(&q, "error").chars().take(300).collect::<String>()).filter(|e| !e.is_empty()),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// One step as the checklist page shows it.
pub struct StepLine {
    pub number: u32,
    pub title: String,
    pub done: bool,
    pub overdue: bool,
    /// "Due 25 Nov 2026", empty without a due day.
    pub due: String,
    /// Who ticked it and when, or what will tick it.
    pub state: String,
    /// Ticked by hand, or to be: the form that ticks it (or takes the tick back).
    pub manual: bool,
}

/// A course as the checklist page's training panel shows it.
pub struct TrainingLine {
    pub href: String,
    pub name: String,
    pub state: &'static str,
    pub state_label: String,
    pub attended: String,
    pub expires: String,
}

#[derive(askama::Template)]
#[template(path = "ui/onboarding_user.html")]
struct ChecklistPage {
    shell: Shell,
    title: String,
    id: String,
    facts: String,
    done: usize,
    total: usize,
    progress: String,
    complete: bool,
    overdue: String,
    steps: Vec<StepLine>,
    may_tick: bool,
    trainings: Vec<TrainingLine>,
    error: Option<String>,
}

/// What ticks a step by itself, in words (the object's and course's names as the reader knows them).
fn condition_text(ui: &Ui, c: &Condition, courses: &[Course]) -> String {
    let tr = &ui.tr;
    match c {
        Condition::AccountCreated => tr.t("onboarding-cond-account-created"),
        Condition::FirstSignIn => tr.t("onboarding-cond-first-sign-in"),
        Condition::FirstRecord { object } => {
            let name = ui
                .object(object)
                .map_or_else(|| object.clone(), |o| labels::object(tr, &o));
            tr.t1("onboarding-cond-first-record", "object", name)
        }
        Condition::Training { course: None } => tr.t("onboarding-cond-training-any"),
        Condition::Training { course: Some(id) } => {
            let name = courses
                .iter()
                .find(|c| c.id == *id)
                .map_or_else(|| id.to_string(), |c| c.name.clone());
            tr.t1("onboarding-cond-training", "course", name)
        }
    }
}

fn step_line(ui: &Ui, s: &StepView, courses: &[Course]) -> StepLine {
    let tr = &ui.tr;
    let state = match (s.done_at, &s.done_by_name, &s.condition) {
        (Some(at), _, _) if s.done_automatically => tr.t1("onboarding-ticked-automatically", "when", tr.datetime(at)),
        (Some(at), Some(name), _) => tr.tn(
            "onboarding-ticked-by",
            &[("name", name.clone()), ("when", tr.datetime(at))],
        ),
        (Some(at), None, _) => tr.t1("onboarding-ticked-at", "when", tr.datetime(at)),
        (None, _, Some(c)) => condition_text(ui, c, courses),
        (None, _, None) => tr.t("onboarding-by-hand"),
    };
    StepLine {
        number: s.number,
        title: s.title.clone(),
        done: s.done,
        overdue: s.overdue,
        due: s
            .due_on
            .map_or_else(String::new, |d| tr.t1("onboarding-due", "date", tr.date(d))),
        state,
        manual: s.condition.is_none(),
    }
}

fn training_line(tr: &Tr, c: &CourseStatus) -> TrainingLine {
    let state = match c.state {
        TrainingState::Valid => "valid",
        TrainingState::Expiring => "expiring",
        TrainingState::Expired => "expired",
        TrainingState::Missing => "missing",
    };
    TrainingLine {
        href: format!("/training/courses/{}", c.course),
        name: c.name.clone(),
        state,
        state_label: tr.t(&format!("training-state-{state}")),
        attended: c.attended_on.map_or_else(String::new, |d| tr.date(d)),
        expires: match (c.attended_on, c.expires_on) {
            (_, Some(d)) => tr.date(d),
            (Some(_), None) => tr.t("training-lasts"),
            (None, None) => String::new(),
        },
    }
}

fn checklist_view(ui: &Ui, c: &ChecklistView, trainings: &[CourseStatus], courses: &[Course]) -> ChecklistPage {
    let tr = &ui.tr;
    let mut facts = vec![role_label(tr, c.role)];
    if let Some(team) = &c.team_name {
        facts.push(team.clone());
    }
    facts.push(tr.t1("onboarding-started", "date", tr.date(c.started_at.date_naive())));
    ChecklistPage {
        shell: ui.shell("onboarding"),
        title: c.name.clone(),
        id: c.user.to_string(),
        facts: facts.join(" · "),
        done: c.done,
        total: c.total,
        progress: progress_text(tr, c.done, c.total),
        complete: c.complete,
        overdue: if c.overdue > 0 {
            tr.counted("onboarding-overdue-count", c.overdue, &[])
        } else {
            String::new()
        },
        steps: c.steps.iter().map(|s| step_line(ui, s, courses)).collect(),
        may_tick: c.may_tick,
        trainings: trainings.iter().map(|t| training_line(tr, t)).collect(),
        error: None,
    }
}

/// `/onboarding/users/{id}`: one person's checklist and trainings; for anyone but the person,
/// their team's key users and lead and administrators, the not-found page.
pub async fn checklist_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let checklist = crm.checklist(who, &id).await.or_page(&ui)?;
    let trainings = crm.user_trainings(who, &id).await.or_page(&ui)?;
    let courses = crm.courses(who).await.or_page(&ui)?;
    let mut page = checklist_view(&ui, &checklist, &trainings.courses, &courses);
    page.error = Some(form_value(&q, "error").chars().take(300).collect::<String>()).filter(|e| !e.is_empty());
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// Tick a manual step (or take the tick back), and back to the checklist.
pub async fn tick(Path((id, number)): Path<(String, String)>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let number: u32 = number.parse().map_err(|_| PageError::not_found(&ui))?;
    let done = form_value(&form, "done") == "1";
    let back = format!("/onboarding/users/{id}");
    let ticked = ui
        .authed
        .crm
        .tick_step(&ui.authed.principal, &id, number, json!({ "done": done }))
        .await;
    ticked.or_forbidden_else(&ui, |e| match e.code {
        ErrorCode::NotFound => super::not_found(&ui),
        _ => Redirect::to(&format!(
            "{back}?error={}",
            anchora_core::views::url_encode(&super::admin::problem(&e))
        ))
        .into_response(),
    })?;
    Ok(Redirect::to(&format!("{back}#step-{number}")).into_response())
}

/// One row of the template editor, as stored or as typed.
pub struct StepRow {
    pub index: usize,
    pub order: String,
    pub title: String,
    pub due: String,
    pub kinds: Vec<Opt>,
    pub objects: Vec<Opt>,
    pub courses: Vec<Opt>,
    /// The row's mistakes in words, and which of its fields they are about.
    pub error: Option<String>,
    pub bad: Vec<&'static str>,
}

impl StepRow {
    pub fn is_bad(&self, field: &str) -> bool {
        self.bad.contains(&field)
    }
}

#[derive(askama::Template)]
#[template(path = "ui/onboarding_templates.html")]
struct TemplatesPage {
    shell: Shell,
    title: String,
    tabs: Vec<super::NavItem>,
    role: &'static str,
    role_label: String,
    version: i64,
    changed: String,
    rows: Vec<StepRow>,
    error: Option<String>,
    saved: bool,
}

/// Blank rows offered for new steps under the template's own.
const BLANK_ROWS: usize = 3;
const KINDS: [&str; 5] = ["", "account_created", "first_sign_in", "first_record", "training"];

/// A step's fields as the form writes them: (title, due days, kind, object, course).
type Typed = (String, String, String, String, String);

fn typed_of(step: &anchora_core::onboarding::TemplateStep) -> Typed {
    let (kind, object, course) = match &step.condition {
        None => ("", String::new(), String::new()),
        Some(Condition::FirstRecord { object }) => ("first_record", object.clone(), String::new()),
        Some(Condition::Training { course }) => (
            "training",
            String::new(),
            course.map(|c| c.to_string()).unwrap_or_default(),
        ),
        Some(c) => (c.kind(), String::new(), String::new()),
    };
    (
        step.title.clone(),
        step.due_days.map(|d| d.to_string()).unwrap_or_default(),
        kind.to_string(),
        object,
        course,
    )
}

/// A row's mistakes: (the field, what is wrong).
type RowErrors = HashMap<usize, Vec<(&'static str, String)>>;

fn step_rows(ui: &Ui, typed: &[Typed], courses: &[Course], errors: &RowErrors) -> Vec<StepRow> {
    let tr = &ui.tr;
    let objects = ui.object_choices();
    typed
        .iter()
        .chain(std::iter::repeat_n(&Typed::default(), BLANK_ROWS))
        .enumerate()
        .map(|(index, (title, due, kind, object, course))| StepRow {
            index,
            order: (index + 1).to_string(),
            title: title.clone(),
            due: due.clone(),
            kinds: KINDS
                .iter()
                .map(|k| {
                    let key = if k.is_empty() { "by-hand" } else { k };
                    opt(
                        *k,
                        tr.t(&format!("onboarding-kind-{}", key.replace('_', "-"))),
                        kind == k,
                    )
                })
                .collect(),
            objects: std::iter::once(opt("", "–".into(), object.is_empty()))
                .chain(
                    objects
                        .iter()
                        .map(|(name, label)| opt(name.clone(), label.clone(), object == name)),
                )
                .collect(),
            courses: std::iter::once(opt("", tr.t("onboarding-any-course"), course.is_empty()))
                .chain(
                    courses
                        .iter()
                        .map(|c| opt(c.id.to_string(), c.name.clone(), *course == c.id.to_string())),
                )
                .collect(),
            error: errors
                .get(&index)
                .map(|e| e.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(" · ")),
            bad: errors
                .get(&index)
                .map(|e| e.iter().map(|(f, _)| *f).collect())
                .unwrap_or_default(),
        })
        .collect()
}

fn role_of(text: &str) -> Role {
    Role::parse(text).unwrap_or(Role::User)
}

async fn templates_page(
    ui: &Ui,
    role: Role,
    typed: Option<(Vec<Typed>, i64)>,
    errors: &RowErrors,
) -> Result<TemplatesPage, PageError> {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let templates: Vec<Template> = crm.onboarding_templates(who).await.or_page(ui)?;
    let courses = crm.courses(who).await.or_page(ui)?;
    let template = templates
        .into_iter()
        .find(|t| t.role == role)
        .unwrap_or_else(|| Template::standard(role));
    let tr = &ui.tr;
    let changed = match (template.updated_at, template.updated_by) {
        (Some(at), by) => {
            let users = crm.users(who).await.unwrap_or_default();
            let name = by
                .and_then(|b| users.into_iter().find(|u| u.id == b))
                .map(|u| u.name)
                .unwrap_or_default();
            tr.tn(
                "onboarding-template-changed",
                &[("when", tr.datetime(at)), ("name", name)],
            )
        }
        (None, _) => tr.t("onboarding-template-standard"),
    };
    let (typed, version) = typed.unwrap_or_else(|| (template.steps.iter().map(typed_of).collect(), template.version));
    Ok(TemplatesPage {
        shell: ui.shell("onboarding"),
        title: tr.t("onboarding-templates-title"),
        tabs: Role::ALL
            .iter()
            .map(|r| super::NavItem {
                href: format!("/onboarding/templates?role={}", r.as_str()),
                label: role_label(tr, *r),
                current: *r == role,
            })
            .collect(),
        role: role.as_str(),
        role_label: role_label(tr, role),
        version,
        changed,
        rows: step_rows(ui, &typed, &courses, errors),
        error: None,
        saved: false,
    })
}

fn administrator(ui: &Ui) -> Result<(), PageError> {
    if ui.authed.principal.may(Permission::ManageUsers, &ui.schema.policy) {
        Ok(())
    } else {
        Err(PageError::forbidden(ui))
    }
}

/// `/onboarding/templates?role=…`: a role's template, for administrators.
pub async fn templates_form(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    administrator(&ui)?;
    let role = role_of(form_value(&q, "role"));
    let mut page = templates_page(&ui, role, None, &RowErrors::new()).await?;
    page.saved = form_value(&q, "saved") == "1";
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The rows as typed, in the order their numbers give (rows without a title are dropped), and
/// the steps as the use case takes them, in the same order.
fn read_rows(form: &[(String, String)]) -> (Vec<Typed>, Vec<Json>) {
    let mut rows: Vec<(f64, usize, Typed)> = Vec::new();
    for i in 0..MAX_ROWS {
        let field = |name: &str| form_value(form, &format!("{name}-{i}")).to_string();
        let title = field("title");
        if title.trim().is_empty() {
            continue;
        }
        let order = field("order")
            .trim()
            .replace(',', ".")
            .parse::<f64>()
            .unwrap_or(f64::MAX);
        rows.push((
            order,
            i,
            (title, field("due"), field("kind"), field("object"), field("course")),
        ));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut steps = Vec::new();
    for (_, _, (title, due, kind, object, course)) in &rows {
        let due_days: Json = match due.trim() {
            "" => Json::Null,
            d => d.parse::<u32>().map_or_else(|_| json!(d), |n| json!(n)),
        };
        let condition = match kind.as_str() {
            "" => Json::Null,
            "first_record" => json!({"kind": kind, "object": object}),
            "training" if !course.is_empty() => json!({"kind": kind, "course": course}),
            _ => json!({ "kind": kind }),
        };
        steps.push(json!({"title": title, "due_days": due_days, "condition": condition}));
    }
    (rows.into_iter().map(|r| r.2).collect(), steps)
}

/// The most rows the editor reads (the template's most steps and the blank rows).
pub const MAX_ROWS: usize = anchora_core::onboarding::MAX_STEPS + BLANK_ROWS;

/// Each mistake beside its row: `steps[2].title` belongs to the third step saved.
fn row_errors(tr: &Tr, e: &anchora_core::Error) -> RowErrors {
    let mut out = RowErrors::new();
    for f in &e.errors {
        let Some(i) = f
            .field
            .strip_prefix("steps[")
            .and_then(|r| r.split(']').next())
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let (field, text) = match f.field.rsplit('.').next().unwrap_or("") {
            "title" => ("title", tr.t("onboarding-bad-title")),
            "due_days" => ("due", tr.t("onboarding-bad-due")),
            // A first record of nothing is refused as the condition itself.
            "object" | "condition" => ("object", tr.t("onboarding-bad-object")),
            "course" => ("course", tr.t("onboarding-bad-course")),
            _ => ("title", super::field_message(tr, &f.message)),
        };
        out.entry(i).or_default().push((field, text));
    }
    out
}

pub async fn save_templates(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    administrator(&ui)?;
    let role = role_of(form_value(&form, "role"));
    let version = form_value(&form, "version").parse::<i64>().ok();
    let (typed, steps) = read_rows(&form);
    let body = json!({"steps": steps, "version": version});
    let saved = ui
        .authed
        .crm
        .set_onboarding_template(&ui.authed.principal, role.as_str(), body)
        .await;
    let e = match saved.or_forbidden(&ui)? {
        Ok(_) => {
            return Ok(Redirect::to(&format!("/onboarding/templates?role={}&saved=1", role.as_str())).into_response());
        }
        Err(e) => e,
    };
    let stale = e.code == ErrorCode::VersionConflict;
    let errors = row_errors(&ui.tr, &e);
    // A stale form shows the template as it is now; a wrong one as typed, mistakes beside rows.
    let typed = (!stale).then(|| (typed, version.unwrap_or(0)));
    let mut page = templates_page(&ui, role, typed, &errors).await?;
    page.error = Some(if stale {
        ui.tr.t("onboarding-template-stale")
    } else if errors.is_empty() {
        super::admin::problem(&e)
    } else {
        ui.tr.t("onboarding-template-mistakes")
    });
    let status = if stale {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(ui.page(status, page.render()))
}

/// A step of the reader's own checklist past its due day, for My work.
pub struct OverdueLine {
    pub href: String,
    pub title: String,
    pub due: String,
}

/// What My work shows of onboarding: the reader's open checklist with its overdue steps, and
/// the open checklists of the people they help.
pub struct HomeOnboarding {
    pub mine: Option<ProgressLine>,
    pub overdue: Vec<OverdueLine>,
    pub people: Vec<ProgressLine>,
    /// "All 14 checklists" when more are open than are listed; empty otherwise.
    pub more: String,
}

/// My work's onboarding panels; `None` when there is nothing to show (or it cannot be read:
/// the start page still opens).
pub async fn home_lines(ui: &Ui) -> Option<HomeOnboarding> {
    let follow = match ui.authed.crm.onboarding_follow_up(&ui.authed.principal).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "the onboarding follow-up could not be read");
            return None;
        }
    };
    if follow.mine.is_none() && follow.people.is_empty() {
        return None;
    }
    let tr = &ui.tr;
    let me = ui.authed.principal.user_id;
    Some(HomeOnboarding {
        mine: follow.mine.as_ref().map(|p| progress_line(tr, p)),
        overdue: follow
            .overdue
            .iter()
            .map(|s| OverdueLine {
                href: format!("/onboarding/users/{me}#step-{}", s.number),
                title: s.title.clone(),
                due: s
                    .due_on
                    .map_or_else(String::new, |d| tr.t1("onboarding-due", "date", tr.date(d))),
            })
            .collect(),
        people: follow.people.iter().map(|p| progress_line(tr, p)).collect(),
        more: if follow.people_total > follow.people.len() {
            tr.t1("home-onboarding-more", "count", follow.people_total.to_string())
        } else {
            String::new()
        },
    })
}

/// Start a checklist for someone who has none (administrators), and open it.
pub async fn start(Path(id): Path<String>, Posted { ui, .. }: Posted<Pairs>) -> PageResult {
    let started = ui.authed.crm.start_checklist(&ui.authed.principal, &id).await;
    started.or_forbidden_else(&ui, |e| match e.code {
        ErrorCode::NotFound => super::not_found(&ui),
        _ => Redirect::to(&format!(
            "/onboarding?error={}",
            anchora_core::views::url_encode(&super::admin::problem(&e))
        ))
        .into_response(),
    })?;
    Ok(Redirect::to(&format!("/onboarding/users/{id}")).into_response())
}
