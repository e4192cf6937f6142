//! `/support/figures`: how the support chain is doing (issue 23, C2) — questions opened and
//! solved per week, how fast each level answers and solves, breaches and the top categories —
//! of the questions the reader may see, over the weeks they choose, drawn as SVG on the server.
//! The figures are `Crm::support_figures`'; this file only words and draws them.

use super::charts::{self, Plot};
use super::page_error::{OrPage, PageResult};
use super::{Shell, Ui};
use crate::AppState;
use crate::i18n::Tr;
use anchora_core::support::{CategoryFigure, SupportFigures};
use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

/// The spans the page offers, in weeks.
const SPANS: [u32; 4] = [4, 12, 26, 52];

pub fn routes() -> Router<AppState> {
    Router::new().route("/support/figures", get(figures_page))
}

#[derive(Deserialize)]
struct FiguresQuery {
    weeks: Option<String>,
}

pub struct LevelRow {
    pub level: String,
    pub questions: u64,
    pub response: String,
    pub resolution: String,
}

#[derive(Template)]
#[template(path = "ui/support_figures.html")]
struct FiguresPage {
    shell: Shell,
    title: String,
    /// (weeks, label, chosen)
    spans: Vec<(u32, String, bool)>,
    opened: u64,
    solved: u64,
    breaches: u64,
    weekly: String,
    levels: Vec<LevelRow>,
    categories: Option<String>,
}

/// Wall-clock minutes as people say them: "45 min", "3 h", "2 h 30 min", "3 d 4 h".
fn elapsed(tr: &Tr, minutes: Option<i64>) -> String {
    let Some(minutes) = minutes else {
        return "–".into();
    };
    let (d, h, m) = (minutes / (24 * 60), minutes % (24 * 60) / 60, minutes % 60);
    match (d, h, m) {
        (0, 0, m) => tr.t1("support-minutes", "n", m),
        (0, h, 0) => tr.t1("support-hours", "n", h),
        (0, h, m) => tr.tn("support-hours-minutes", &[("h", h.to_string()), ("m", m.to_string())]),
        (d, h, _) => tr.tn(
            "support-figures-days-hours",
            &[("d", d.to_string()), ("h", h.to_string())],
        ),
    }
}

fn level_label(tr: &Tr, level: anchora_core::support::Level) -> String {
    tr.t(&format!("support-level-{}", level.as_str().replace('_', "-")))
}

/// Asked and solved per week, as two lines.
pub(super) fn weekly_chart(tr: &Tr, f: &SupportFigures) -> String {
    #[allow(clippy::cast_precision_loss)]
    let plots = vec![
        Plot {
            name: tr.t("support-figures-opened"),
            values: f.weeks.iter().map(|w| w.opened as f64).collect(),
        },
        Plot {
            name: tr.t("support-figures-solved"),
            values: f.weeks.iter().map(|w| w.solved as f64).collect(),
        },
    ];
    let points: Vec<String> = f.weeks.iter().map(|w| w.week.clone()).collect();
    let whole = |v: f64| format!("{v:.0}");
    charts::lines(&tr.t("support-figures-weekly"), &points, &plots, &whole)
}

/// The top categories as bars; none when nothing was asked.
pub(super) fn categories_chart(tr: &Tr, f: &SupportFigures) -> Option<String> {
    #[allow(clippy::cast_precision_loss)]
    let bars: Vec<(String, f64, String)> = f
        .categories
        .iter()
        .map(|c| (category_name(tr, c), c.questions as f64, c.questions.to_string()))
        .collect();
    (!bars.is_empty()).then(|| charts::bars(&tr.t("support-figures-categories"), &bars))
}

/// A category as people read it ("No category" for none).
pub(super) fn category_name(tr: &Tr, c: &CategoryFigure) -> String {
    if c.category.is_empty() {
        tr.t("support-figures-no-category")
    } else {
        c.category.clone()
    }
}

/// Each level's questions and medians, in words.
pub(super) fn level_rows(tr: &Tr, f: &SupportFigures) -> Vec<LevelRow> {
    f.levels
        .iter()
        .map(|l| LevelRow {
            level: level_label(tr, l.level),
            questions: l.questions,
            response: elapsed(tr, l.median_response_minutes),
            resolution: elapsed(tr, l.median_resolution_minutes),
        })
        .collect()
}

fn page_of(tr: &Tr, shell: Shell, weeks: u32, f: &SupportFigures) -> FiguresPage {
    FiguresPage {
        shell,
        title: tr.t("support-figures-title"),
        spans: SPANS
            .iter()
            .map(|&n| (n, tr.t1("support-figures-weeks", "n", i64::from(n)), n == weeks))
            .collect(),
        opened: f.asked(),
        solved: f.solved(),
        breaches: f.breaches,
        weekly: weekly_chart(tr, f),
        levels: level_rows(tr, f),
        categories: categories_chart(tr, f),
    }
}

/// `/support/figures?weeks=12`: a span the API refuses is the not-found page, as any bad address.
async fn figures_page(ui: Ui, Query(q): Query<FiguresQuery>) -> PageResult {
    let figures = ui
        .authed
        .crm
        .support_figures(&ui.authed.principal, q.weeks.as_deref())
        .await
        .or_page(&ui)?;
    let weeks = q.weeks.as_deref().and_then(|w| w.trim().parse().ok()).unwrap_or(12);
    let page = page_of(&ui.tr, ui.shell("support"), weeks, &figures);
    Ok(ui.page(StatusCode::OK, page.render()))
}
