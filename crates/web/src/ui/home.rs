//! "My work", the page people land on: across every project they are in, the actions they own
//! (overdue ones first and flagged), the change requests waiting for their approval, the
//! communications they are due to send, the escalations waiting for their decision, and their
//! own records with most to fix.

use super::projects::date;
use super::{Shell, Ui, format};
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

pub struct Line {
    pub href: String,
    pub project: String,
    pub text: String,
    pub detail: String,
    pub flag: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/home.html")]
struct HomePage {
    shell: Shell,
    title: String,
    actions: Vec<Line>,
    approvals: Vec<Line>,
    communications: Vec<Line>,
    escalations: Vec<Line>,
    fixes: Vec<super::quality::FixLine>,
    fixes_total: String,
    nothing: bool,
}

/// How many of one's worst records "My work" lists.
const FIX_LINES: usize = 10;

pub async fn home_page(ui: Ui) -> Response {
    let follow = match ui.a.crm.follow_up(&ui.a.principal).await {
        Ok(f) => f,
        Err(_) => return super::forbidden(&ui),
    };
    let today = ui.a.crm.clock.now().date_naive();
    let actions: Vec<Line> = follow
        .actions
        .iter()
        .map(|(p, a)| Line {
            href: format!("/projects/{}/meetings#action-{}", p.id, a.number),
            project: p.settings.name.clone(),
            text: format!("#{} {}", a.number, a.title),
            detail: format!("{} {}", ui.tr.t("project-due"), date(&ui, a.due)),
            flag: a.overdue(today).then(|| ui.tr.t("action-overdue")),
        })
        .collect();
    let approvals: Vec<Line> = follow
        .approvals
        .iter()
        .map(|(p, c)| Line {
            href: format!("/projects/{}/changes#change-{}", p.id, c.number),
            project: p.settings.name.clone(),
            text: format!("#{} {}", c.number, c.title),
            detail: ui.tr.t("home-approval-waiting"),
            flag: None,
        })
        .collect();
    let communications: Vec<Line> = follow
        .communications
        .iter()
        .map(|(p, c, next, due)| Line {
            href: format!("/projects/{}/communication#communication-{}", p.id, c.number),
            project: p.settings.name.clone(),
            text: format!("{} → {}", c.content, c.audience),
            detail: format!("{} {}", ui.tr.t("matrix-next-due"), date(&ui, *next)),
            flag: Some(ui.tr.t(&format!("matrix-due-{}", due.as_str()))),
        })
        .collect();
    let escalations: Vec<Line> = follow
        .escalations
        .iter()
        .map(|(p, e)| Line {
            href: format!("/projects/{}/meetings#escalation-{}", p.id, e.number),
            project: p.settings.name.clone(),
            text: format!("#{} {}", e.number, e.title),
            detail: format::datetime(ui.tr.locale, e.raised_at),
            flag: None,
        })
        .collect();
    let (fixes_total, fixes) = super::quality::fix_lines(&ui, FIX_LINES).await;
    let nothing = actions.is_empty()
        && approvals.is_empty()
        && communications.is_empty()
        && escalations.is_empty()
        && fixes.is_empty();
    let page = HomePage {
        shell: ui.shell("home"),
        title: ui.tr.t("home-title"),
        actions,
        approvals,
        communications,
        escalations,
        fixes,
        fixes_total: ui.tr.t1("home-fix-total", "count", fixes_total.to_string()),
        nothing,
    };
    ui.page(StatusCode::OK, page.render())
}
