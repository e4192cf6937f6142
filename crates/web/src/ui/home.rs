//! "My work", the page people land on: their activities due today or overdue (ticked done in
//! place), their open deals by stage, their records that changed last; then, across every
//! project they are in, the actions they own (overdue ones first and flagged), the change
//! requests waiting for their approval, the communications they are due to send, the
//! escalations waiting for their decision, and their own records with most to fix.

use super::page_error::{OrPage, PageError, PageResult};
use super::posted::Posted;
use super::projects::date;
use super::{Shell, Ui};
use anchora_core::project::change::ChangeRequest;
use anchora_core::project::escalation::Escalation;
use anchora_core::project::matrix::{Communication, Due};
use anchora_core::project::meetings::Action;
use anchora_core::project::model::Project;
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use serde_json::json;

pub struct Line {
    pub href: String,
    pub project: String,
    pub text: String,
    pub detail: String,
    pub flag: Option<String>,
}

/// An activity due, with what ticking it done needs.
pub struct DueLine {
    pub id: String,
    pub version: i64,
    pub href: String,
    pub text: String,
    pub when: String,
    pub overdue: bool,
}

/// A stage of the caller's pipeline.
pub struct StageLine {
    pub href: String,
    pub stage: String,
    pub count: i64,
    /// Always there; an option so the template can borrow it by name.
    pub total: Option<super::totals::MoneyTotal>,
}

/// A record of the caller's that changed lately.
pub struct RecentLine {
    pub href: String,
    pub text: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "ui/home.html")]
struct HomePage {
    shell: Shell,
    title: String,
    due: Vec<DueLine>,
    due_total: String,
    pipeline: Vec<StageLine>,
    recent: Vec<RecentLine>,
    /// Their own onboarding and that of the people they help.
    onboarding: Option<super::onboarding::HomeOnboarding>,
    actions: Vec<Line>,
    approvals: Vec<Line>,
    communications: Vec<Line>,
    escalations: Vec<Line>,
    fixes: Vec<super::quality::FixLine>,
    fixes_total: String,
    nothing: bool,
    /// What management expects of them this week, against what they did.
    expected: Vec<super::adoption::ExpectLine>,
}

/// How many of one's worst records "My work" lists.
const FIX_LINES: usize = 10;

pub async fn home_page(ui: Ui) -> PageResult {
    let follow = ui
        .authed
        .crm
        .follow_up(&ui.authed.principal)
        .await
        .map_err(|_| PageError::forbidden(&ui))?;
    let project = ProjectLines {
        actions: action_lines(&ui, &follow.actions),
        approvals: approval_lines(&ui, &follow.approvals),
        communications: communication_lines(&ui, &follow.communications),
        escalations: escalation_lines(&ui, &follow.escalations),
        onboarding: super::onboarding::home_lines(&ui).await,
    };
    let (fixes_total, fixes) = super::quality::fix_lines(&ui, FIX_LINES).await;
    let start = match ui.authed.crm.start_page(&ui.authed.principal).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "the start page could not be read");
            anchora_core::start::StartPage::default()
        }
    };
    let mut page = home_view(&ui, start, project, fixes, fixes_total);
    page.expected = match ui.authed.crm.my_expectations(&ui.authed.principal).await {
        Ok(measured) => super::adoption::expect_lines(&ui.tr, &measured),
        Err(e) => {
            tracing::error!(error = %e, "the expectations could not be read");
            Vec::new()
        }
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// What the caller has to do across their projects.
struct ProjectLines {
    actions: Vec<Line>,
    approvals: Vec<Line>,
    communications: Vec<Line>,
    escalations: Vec<Line>,
    /// Not a project's, but as much theirs to do: their onboarding and their people's.
    onboarding: Option<super::onboarding::HomeOnboarding>,
}

/// The open actions they own, overdue ones flagged.
fn action_lines(ui: &Ui, actions: &[(Project, Action)]) -> Vec<Line> {
    let today = ui.authed.crm.clock.now().date_naive();
    actions
        .iter()
        .map(|(p, a)| Line {
            href: format!("/projects/{}/meetings#action-{}", p.id, a.number),
            project: p.settings.name.clone(),
            text: format!("#{} {}", a.number, a.title),
            detail: format!("{} {}", ui.tr.t("project-due"), date(ui, a.due)),
            flag: a.overdue(today).then(|| ui.tr.t("action-overdue")),
        })
        .collect()
}

/// The change requests waiting for their approval.
fn approval_lines(ui: &Ui, approvals: &[(Project, ChangeRequest)]) -> Vec<Line> {
    approvals
        .iter()
        .map(|(p, c)| Line {
            href: format!("/projects/{}/changes#change-{}", p.id, c.number),
            project: p.settings.name.clone(),
            text: format!("#{} {}", c.number, c.title),
            detail: ui.tr.t("home-approval-waiting"),
            flag: None,
        })
        .collect()
}

/// The communications they are due to send, with when.
fn communication_lines(ui: &Ui, communications: &[(Project, Communication, NaiveDate, Due)]) -> Vec<Line> {
    communications
        .iter()
        .map(|(p, c, next, due)| Line {
            href: format!("/projects/{}/communication#communication-{}", p.id, c.number),
            project: p.settings.name.clone(),
            text: format!("{} → {}", c.content, c.audience),
            detail: format!("{} {}", ui.tr.t("matrix-next-due"), date(ui, *next)),
            flag: Some(ui.tr.t(&format!("matrix-due-{}", due.as_str()))),
        })
        .collect()
}

/// The escalations waiting for their decision.
fn escalation_lines(ui: &Ui, escalations: &[(Project, Escalation)]) -> Vec<Line> {
    escalations
        .iter()
        .map(|(p, e)| Line {
            href: format!("/projects/{}/meetings#escalation-{}", p.id, e.number),
            project: p.settings.name.clone(),
            text: format!("#{} {}", e.number, e.title),
            detail: ui.tr.datetime(e.raised_at),
            flag: None,
        })
        .collect()
}

fn home_view(
    ui: &Ui,
    start: anchora_core::start::StartPage,
    project: ProjectLines,
    fixes: Vec<super::quality::FixLine>,
    fixes_total: usize,
) -> HomePage {
    let (due, due_total, pipeline, recent) = crm_lines(ui, start);
    let nothing = project.actions.is_empty()
        && project.approvals.is_empty()
        && project.communications.is_empty()
        && project.escalations.is_empty()
        && fixes.is_empty();
    HomePage {
        shell: ui.shell("home"),
        title: ui.tr.t("home-title"),
        due,
        due_total,
        pipeline,
        recent,
        actions: project.actions,
        approvals: project.approvals,
        communications: project.communications,
        escalations: project.escalations,
        onboarding: project.onboarding,
        fixes,
        fixes_total: ui.tr.t1("home-fix-total", "count", fixes_total.to_string()),
        nothing,
        expected: Vec::new(),
    }
}

/// The CRM half of the start page in the user's words.
fn crm_lines(
    ui: &Ui,
    start: anchora_core::start::StartPage,
) -> (Vec<DueLine>, String, Vec<StageLine>, Vec<RecentLine>) {
    let tr = &ui.tr;
    let now = ui.authed.crm.clock.now();
    let today = now.date_naive();
    let activity = ui.object("activity");
    let due = start
        .due
        .iter()
        .map(|r| {
            let at = match r.get("due_at") {
                anchora_core::value::Value::DateTime(t) => Some(*t),
                _ => None,
            };
            DueLine {
                id: r.id.to_string(),
                version: r.version,
                href: format!("/o/activity/{}", r.id),
                text: activity.as_ref().map_or_else(String::new, |a| r.title(a)),
                when: at.map_or_else(String::new, |t| tr.datetime(t)),
                overdue: at.is_some_and(|t| t.date_naive() < today),
            }
        })
        .collect();
    let due_total = if start.due_total > start.due.len() as u64 {
        tr.t1("home-due-more", "count", start.due_total.to_string())
    } else {
        String::new()
    };
    let deal = ui.object("deal");
    let pipeline = start
        .pipeline
        .iter()
        .map(|l| {
            let stage = match (&deal, deal.as_ref().and_then(|d| d.field("stage"))) {
                (Some(d), Some(f)) => super::labels::choice(tr, d, f, &l.stage),
                _ => l.stage.clone(),
            };
            let total = super::totals::MoneyTotal::new(tr, &start.reporting, &l.amounts, &l.total);
            StageLine {
                href: format!(
                    "/o/deal?ff=stage&fo=eq&fv={}&ff=owner&fo=eq&fv={}",
                    l.stage, ui.authed.principal.user_id
                ),
                stage,
                count: l.count,
                total: Some(total),
            }
        })
        .collect();
    let recent = start
        .recent
        .iter()
        .filter_map(|line| {
            let def = ui.object(&line.object)?;
            let r = &line.record;
            let when = match line.opened_at {
                Some(at) if line.last_opened() => tr.t1("home-recent-opened", "when", tr.datetime(at)),
                _ => tr.t1("home-recent-changed", "when", tr.datetime(r.updated_at)),
            };
            Some(RecentLine {
                href: format!("/o/{}/{}", line.object, r.id),
                text: r.title(&def),
                detail: format!("{} · {when}", super::labels::object(tr, &def)),
            })
        })
        .collect();
    (due, due_total, pipeline, recent)
}

/// Tick an activity done from the start page, and come back to it.
pub async fn tick_done(Path(id): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let version = super::form_value(&form, "version").parse::<i64>().ok();
    let ticked = ui
        .authed
        .crm
        .update(&ui.authed.principal, "activity", &id, &json!({"done": true}), version)
        .await;
    match ticked {
        // A stale tick lands on the page as it is now: the other change stands.
        Ok(_)
        | Err(anchora_core::Error {
            code: anchora_core::ErrorCode::VersionConflict,
            ..
        }) => Ok(Redirect::to("/").into_response()),
        Err(e) if e.code == anchora_core::ErrorCode::NotFound => Err(PageError::not_found(&ui)),
        Err(e) => Err(e).or_forbidden_else(&ui, |e| (StatusCode::UNPROCESSABLE_ENTITY, e.detail).into_response()),
    }
}
