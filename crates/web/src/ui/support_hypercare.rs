//! `/support/hypercare`: the weeks after go-live per team (department) — questions raised,
//! still open, the oldest open one's age, the median time to resolution and breaches. Who sees
//! which teams is `Crm::hypercare_view`'s; this file only words it.

use super::page_error::{OrPage, PageResult};
use super::support::span;
use super::{Shell, Ui};
use crate::AppState;
use crate::i18n::Tr;
use anchora_core::support::{HypercareTeam, HypercareView};
use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/support/hypercare", get(hypercare_page))
}

pub struct Row {
    pub name: String,
    pub raised: u64,
    pub open: u64,
    pub oldest: String,
    pub oldest_since: String,
    pub median: String,
    pub breaches: u64,
    /// Open questions waiting longer than a working day (nine open hours).
    pub late: bool,
}

fn row(tr: &Tr, t: &HypercareTeam, name: String) -> Row {
    Row {
        name,
        raised: t.raised,
        open: t.open,
        oldest: t.oldest_open_business_minutes.map(|m| span(tr, m)).unwrap_or_default(),
        oldest_since: t.oldest_open_since.map(|s| tr.datetime(s)).unwrap_or_default(),
        median: t
            .median_resolution_business_minutes
            .map(|m| span(tr, m))
            .unwrap_or_default(),
        breaches: t.breaches,
        late: t.oldest_open_business_minutes.is_some_and(|m| m > 9 * 60),
    }
}

#[derive(Template)]
#[template(path = "ui/support_hypercare.html")]
struct HypercarePage {
    shell: Shell,
    title: String,
    /// The window in words, or that no hypercare is set.
    window: String,
    set: bool,
    rows: Vec<Row>,
    total: Row,
}

/// The page's content from the view.
fn hypercare_view(tr: &Tr, v: &HypercareView) -> (String, Vec<Row>, Row) {
    let window = match (v.go_live, v.ends, v.weeks) {
        (Some(from), Some(to), Some(weeks)) => tr.tn(
            if v.running {
                "hypercare-window-running"
            } else if v.coming {
                "hypercare-window-coming"
            } else {
                "hypercare-window-ended"
            },
            &[
                ("from", tr.date(from)),
                ("to", tr.date(to.pred_opt().unwrap_or(to))),
                ("weeks", weeks.to_string()),
                ("zone", v.time_zone.clone()),
            ],
        ),
        _ => tr.t("hypercare-none"),
    };
    let rows = v
        .teams
        .iter()
        .map(|t| {
            let name = if t.team.is_none() || t.name.is_empty() {
                tr.t("hypercare-no-team")
            } else {
                t.name.clone()
            };
            row(tr, t, name)
        })
        .collect();
    (window, rows, row(tr, &v.total, tr.t("hypercare-total")))
}

/// `/support/hypercare`.
async fn hypercare_page(ui: Ui) -> PageResult {
    let tr = &ui.tr;
    let view = ui.authed.crm.hypercare_view(&ui.authed.principal).await.or_page(&ui)?;
    let (window, rows, total) = hypercare_view(tr, &view);
    let page = HypercarePage {
        shell: ui.shell("support"),
        title: tr.t("hypercare-title"),
        window,
        set: view.go_live.is_some(),
        rows,
        total,
    };
    Ok(ui.page(StatusCode::OK, page.render()))
}
