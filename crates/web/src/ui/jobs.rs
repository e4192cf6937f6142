//! Long work as the UI shows it: the Jobs page (an administrator sees every job, others their
//! own), and the progress panel a page shows while a job it started runs. The panel is also
//! served alone (`/jobs/{id}/panel`), which `app.js` fetches every second to move the bar on
//! and to reload the page once the job has ended.

use super::page_error::{OrPage, PageResult};
use super::posted::Posted;
use super::{Shell, Ui};
use crate::i18n::Tr;
use anchora_core::jobs::{JobKind, JobState, JobView};
use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};

/// One job as a progress panel or a row of the Jobs page.
pub struct JobPanel {
    pub id: String,
    pub kind: String,
    pub state: &'static str,
    pub state_label: String,
    /// What it is doing now, with how far it came ("Reading records: 1,200 of 5,000").
    pub doing: String,
    pub done: u64,
    /// The bar's end; `None` shows a bar that moves without a known end.
    pub total: Option<u64>,
    pub finished: bool,
    pub error: Option<String>,
    pub started: String,
    pub may_cancel: bool,
    /// The file it made (an export), to download.
    pub file_href: Option<String>,
    /// Where the page goes once the job has ended (the page that started it, without `job`).
    pub done_href: String,
}

/// What the panel needs of a page's shell when it is served alone.
struct PanelShell {
    tr: Tr,
    csrf: String,
}

#[derive(Template)]
#[template(path = "ui/job_panel.html")]
struct PanelFragment {
    shell: PanelShell,
    job: JobPanel,
}

#[derive(Template)]
#[template(path = "ui/jobs.html")]
struct JobsPage {
    shell: Shell,
    title: String,
    jobs: Vec<JobPanel>,
    /// Whether any is still queued or running (the page reloads itself until none is).
    running: bool,
}

pub fn panel(tr: &Tr, view: &JobView, done_href: &str) -> JobPanel {
    let job = &view.job;
    let p = &job.progress;
    let phase = p.phase.as_deref().map(|ph| tr.t(&format!("job-phase-{ph}")));
    let amount = match p.total {
        Some(total) if total > 0 => Some(tr.tn(
            "job-done-of",
            &[
                ("done", super::format::plain_number(tr.locale, p.done as f64)),
                ("total", super::format::plain_number(tr.locale, total as f64)),
            ],
        )),
        _ if p.done > 0 => Some(super::format::plain_number(tr.locale, p.done as f64)),
        _ => None,
    };
    let doing = match (job.state, phase, amount) {
        (JobState::Running, Some(phase), Some(amount)) => tr.tn("job-doing", &[("phase", phase), ("amount", amount)]),
        (JobState::Running, Some(phase), None) => phase,
        (JobState::Queued, _, _) if job.error.is_some() => tr.t("job-retrying"),
        _ => String::new(),
    };
    JobPanel {
        id: job.id.to_string(),
        kind: tr.t(&format!("job-kind-{}", job.kind_name.replace('_', "-"))),
        state: job.state.as_str(),
        state_label: tr.t(&format!("job-state-{}", job.state.as_str())),
        doing,
        done: p.done,
        total: p.total.filter(|t| *t > 0),
        finished: job.state.finished(),
        error: job.error.clone().filter(|_| job.state != JobState::Succeeded),
        started: super::format::datetime(tr.tag, job.created_at),
        may_cancel: view.may_cancel,
        file_href: (job.state == JobState::Succeeded && job.kind() == Some(JobKind::Export))
            .then(|| format!("/jobs/{}/file", job.id)),
        done_href: match job
            .result
            .as_ref()
            .and_then(|r| r.get("open_pairs"))
            .and_then(serde_json::Value::as_u64)
        {
            // A scan's page says what it found.
            Some(found) if job.state == JobState::Succeeded => format!("{done_href}&found={found}"),
            _ => done_href.to_string(),
        },
    }
}

/// `/jobs`: the newest jobs the caller may see.
pub async fn jobs_page(ui: Ui) -> PageResult {
    let jobs = ui.authed.crm.jobs(&ui.authed.principal, None).await.or_page(&ui)?;
    let page = JobsPage {
        shell: ui.shell("jobs"),
        title: ui.tr.t("jobs-title"),
        jobs: jobs.iter().map(|j| panel(&ui.tr, j, "/jobs")).collect(),
        // Reload while a job runs or is about to (not for one waiting an hour to be retried).
        running: jobs.iter().any(|j| {
            j.job.state == JobState::Running
                || (j.job.state == JobState::Queued
                    && j.job.run_at <= ui.authed.crm.clock.now() + chrono::Duration::minutes(1))
        }),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// `/jobs/{id}/panel?back=…`: one job's panel alone, for the page that watches it.
pub async fn panel_fragment(
    ui: Ui,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>,
) -> PageResult {
    let view = ui.authed.crm.job(&ui.authed.principal, &id).await.or_page(&ui)?;
    let back = super::same_site_path(super::form_value(&q, "back")).unwrap_or("/jobs");
    let shell = ui.shell("jobs");
    let fragment = PanelFragment {
        shell: PanelShell {
            tr: ui.tr.clone(),
            csrf: shell.csrf,
        },
        job: panel(&ui.tr, &view, back),
    };
    Ok(Html(fragment.render().unwrap_or_default()).into_response())
}

/// `/jobs/{id}/file`: the file a job made (an export), for the session's user.
pub async fn file(ui: Ui, Path(id): Path<String>) -> PageResult {
    let answered = crate::api::imports::job_file_response(&ui.authed.crm, &ui.authed.principal, &id).await;
    answered.map_err(|e| e.0).or_page(&ui)
}

/// Cancel a job from the Jobs page or a panel; back to where it was asked.
pub async fn cancel(Path(id): Path<String>, Posted { ui, form }: Posted<Vec<(String, String)>>) -> PageResult {
    let cancelled = ui.authed.crm.cancel_job(&ui.authed.principal, &id).await;
    // A job that ended as the button was pressed: back to the page, which shows how it ended.
    if let Err(e) = cancelled
        && e.code != anchora_core::ErrorCode::Conflict
    {
        return Err(e).or_page(&ui);
    }
    let back = super::same_site_path(super::form_value(&form, "back")).unwrap_or("/jobs");
    Ok(Redirect::to(back).into_response())
}

/// The panel of the job a page was sent to watch (`?job=…`), if the caller may see it.
pub async fn watched(ui: &Ui, q: &[(String, String)], done_href: &str) -> Option<JobPanel> {
    let id = super::form_value(q, "job");
    if id.is_empty() {
        return None;
    }
    let view = ui.authed.crm.job(&ui.authed.principal, id).await.ok()?;
    Some(panel(&ui.tr, &view, done_href))
}

/// The address of a page watching a job.
pub fn watching(page: &str, job: &JobView) -> String {
    let join = if page.contains('?') { '&' } else { '?' };
    format!("{page}{join}job={}", job.job.id)
}
