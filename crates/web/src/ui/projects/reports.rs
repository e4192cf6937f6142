//! Status reports in the app: the report as it stands today (generated from the project's data
//! through its template), sending it with the author's own words, the reports sent so far (each
//! as a web page, Markdown and a print view to save as PDF), and the template editor.

use super::{Fields, Params, ProjectHead, back, field, form_number, load, shell};
use crate::report_voice::{ReportVoice, markdown_to_html};
use crate::ui::page_error::{PageError, PageResult};
use crate::ui::posted::Posted;
use crate::ui::{Shell, Ui};
use anchora_core::identity::User;
use anchora_core::project::ProjectState;
use anchora_core::project::report::DEFAULT_TEMPLATE;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

pub struct SentRow {
    pub number: u32,
    pub sent: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "ui/project_reports.html")]
struct ReportsPage {
    shell: Shell,
    title: String,
    head: ProjectHead,
    /// The draft as HTML (rendered from Markdown with raw HTML off), or the template's error.
    draft_html: String,
    draft_error: Option<String>,
    sent: Vec<SentRow>,
    template: String,
    custom_template: bool,
    version: i64,
}

#[derive(Template)]
#[template(path = "ui/project_report.html")]
struct ReportPage {
    shell: Shell,
    title: String,
    head: ProjectHead,
    number: u32,
    sent: String,
    html: String,
}

#[derive(Template)]
#[template(path = "ui/report_print.html")]
struct PrintPage {
    shell: Shell,
    title: String,
    html: String,
    back: String,
}

fn voice(ui: &Ui) -> ReportVoice {
    ReportVoice(ui.tr.clone())
}

pub async fn reports_page(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let today = ui.authed.crm.clock.now().date_naive();
    let (draft_html, draft_error) = match state.draft_report(today, "", &voice(&ui)) {
        Ok(d) => (markdown_to_html(&d.markdown), None),
        Err(e) => (String::new(), Some(crate::ui::admin::problem(&e))),
    };
    // Everyone once, not a lookup per report.
    let people = ui.authed.crm.users(&ui.authed.principal).await.unwrap_or_default();
    let page = ReportsPage {
        shell: shell(&ui),
        title: state.project.settings.name.clone(),
        head: ProjectHead::new(&ui, &state, rights, "reports", &q),
        draft_html,
        draft_error,
        sent: sent_rows(&ui, &state, &people),
        template: state.report_template().to_string(),
        custom_template: state.project.settings.report_template.is_some(),
        version: state.project.version,
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The reports sent, newest first, with who sent them.
fn sent_rows(ui: &Ui, state: &ProjectState, people: &[User]) -> Vec<SentRow> {
    let name = |id| {
        people
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    };
    state
        .reports
        .iter()
        .rev()
        .map(|r| SentRow {
            number: r.number,
            sent: ui.tr.datetime(r.sent_at),
            by: name(r.sent_by),
        })
        .collect()
}

pub async fn send_report(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    match ui
        .authed
        .crm
        .send_report(&ui.authed.principal, &id, field(&form, "text"), &voice(&ui))
        .await
    {
        Ok(r) => Redirect::to(&format!("/projects/{id}/reports/{}", r.number)).into_response(),
        Err(e) => back(&ui, &format!("/projects/{id}/reports"), Err(e)),
    }
}

/// Save the template, or go back to the standard one (`reset`).
pub async fn save_template(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let template = if field(&form, "reset") == "1" {
            None
        } else {
            // The form posts CRLF line ends; the template is kept with plain newlines.
            form.get("template").map(|t| t.replace("\r\n", "\n"))
        };
        let template = template.filter(|t| t != DEFAULT_TEMPLATE);
        let body = json!({ "version": form_number(&form, "version")?, "report_template": template });
        ui.authed
            .crm
            .update_project(&ui.authed.principal, &id, body)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/reports"), result)
}

pub async fn report_page(ui: Ui, Path((id, n)): Path<(String, u32)>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let Some(r) = state.report(n) else {
        return Err(PageError::not_found(&ui));
    };
    let page = ReportPage {
        shell: shell(&ui),
        title: state.project.settings.name.clone(),
        head: ProjectHead::new(&ui, &state, rights, "reports", &q),
        number: r.number,
        sent: ui.tr.datetime(r.sent_at),
        html: markdown_to_html(&r.markdown),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The report alone on a page laid out for paper: the browser prints it or saves it as PDF.
pub async fn print_page(ui: Ui, Path((id, n)): Path<(String, u32)>) -> PageResult {
    let (state, _) = load(&ui, &id).await?;
    let Some(r) = state.report(n) else {
        return Err(PageError::not_found(&ui));
    };
    let page = PrintPage {
        shell: shell(&ui),
        title: state.project.settings.name.clone(),
        html: markdown_to_html(&r.markdown),
        back: format!("/projects/{id}/reports/{n}"),
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}

pub async fn markdown(ui: Ui, Path((id, n)): Path<(String, u32)>) -> PageResult {
    let (state, _) = load(&ui, &id).await?;
    let Some(r) = state.report(n) else {
        return Err(PageError::not_found(&ui));
    };
    let file = format!("status-report-{}.md", r.sent_at.format("%Y-%m-%d"));
    let headers = [
        (header::CONTENT_TYPE, "text/markdown; charset=utf-8".to_string()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
    ];
    Ok((headers, r.markdown.clone()).into_response())
}
