//! Dashboards: a grid of saved reports (each its chart and a compact table whose figures open
//! their records) and single-figure tiles (the period's figure beside the one before, and how
//! it moved), looked at for a period and for me, my team or everyone, all in the URL. Those
//! who may change a dashboard add, move, widen and remove its widgets, rename and share it
//! here; a saved report's page adds it to a dashboard (`add_report`). `/dashboards` without an
//! id is the reader's default: their own latest, else the one shared with their role.

use super::lists::{Choice, builder_ops, filter_fields};
use super::page_error::{OrNotFound, OrPage, PageError, PageResult};
use super::posted::Posted;
use super::reports::{self as rep, Figure, Line};
use super::support_figures as figures;
use super::{Shell, Ui, format, labels};
use crate::i18n::Tr;
use anchora_core::auth::{Permission, Role, SchemaChange};
use anchora_core::dashboards::{
    COLUMNS, Change, DEFAULT_PERIOD, DashboardRun, DashboardView, FigureRun, MAX_WIDGETS, Scope, SupportFigure,
    SupportRun, WidgetRun,
};
use anchora_core::meta::{FieldType, ObjectDef, Schema};
use anchora_core::reports::{MeasureFn, ReportResult, measurable_fields};
use anchora_core::views::{FilterRow, filter_of_rows, url_encode};
use anchora_core::{Error, ErrorCode};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Days;
use serde_json::{Value as Json, json};

type Pairs = Vec<(String, String)>;

/// The periods offered: what managers look at, and the one before.
const PERIODS: [&str; 10] = [
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
];
/// The rows a widget's table shows; the report's page shows them all.
const TABLE_ROWS: usize = 8;

/// One option of a select or a box: its value, its words, whether it is chosen.
pub struct Pick {
    pub value: String,
    pub label: String,
    pub on: bool,
}

fn pick(value: &str, label: String, on: bool) -> Pick {
    Pick {
        value: value.to_string(),
        label,
        on,
    }
}

/// A dashboard in the list beside the grid.
pub struct Link {
    pub name: String,
    pub href: String,
    pub shared: bool,
    pub current: bool,
}

/// A figure tile's words: the figure, the one before, and how it moved.
pub struct FigureTile {
    pub value: String,
    pub href: Option<String>,
    pub previous: String,
    pub previous_href: Option<String>,
    pub change: String,
    /// `up`, `down` or `flat`, for the arrow; the words say it too.
    pub trend: &'static str,
    /// `good`, `bad` or `same`, for the colour: a rise is good news unless less is better.
    pub tone: &'static str,
}

/// One widget on the grid.
pub struct Tile {
    pub n: usize,
    pub width: u8,
    pub kind: &'static str,
    pub title: String,
    /// The saved report's page.
    pub href: Option<String>,
    pub chart: String,
    pub note: Option<String>,
    pub corner: String,
    pub heads: Vec<String>,
    pub lines: Vec<Line>,
    pub foot: Option<Line>,
    /// Rows the compact table leaves to the report's page.
    pub more: Option<String>,
    pub empty: bool,
    pub figure: Option<FigureTile>,
    pub first: bool,
    pub last: bool,
}

/// The dashboard shown.
pub struct Board {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub shared: bool,
    pub roles: Vec<Pick>,
    pub scopes: Vec<Pick>,
    /// "1 Nov 2026 – 30 Nov 2026, against 1 Oct 2026 – 31 Oct 2026".
    pub range: String,
    pub tiles: Vec<Tile>,
    pub full: bool,
}

/// The form that adds a figure: the object chosen first, then its fields.
pub struct FigureForm {
    pub object: String,
    pub objects: Vec<Pick>,
    pub funcs: Vec<Pick>,
    pub measures: Vec<Pick>,
    pub dates: Vec<Pick>,
    pub fields: Vec<Choice>,
    pub ops: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "ui/dashboards.html")]
struct DashboardsPage {
    shell: Shell,
    title: String,
    list: Vec<Link>,
    board: Option<Board>,
    action: String,
    periods: Vec<Pick>,
    scopes: Vec<Pick>,
    may_change: bool,
    may_share: bool,
    editing: bool,
    edit_href: String,
    done_href: String,
    notice: Option<String>,
    reports: Vec<Pick>,
    widths: Vec<Pick>,
    figure: FigureForm,
    /// The support figures a widget can show.
    support_figures: Vec<Pick>,
}

fn get<'a>(q: &'a Pairs, k: &str) -> Option<&'a str> {
    q.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
}

/// `/dashboards`: the reader's default dashboard, or an empty state inviting them to make one.
pub async fn home_page(ui: Ui, Query(q): Query<Pairs>) -> PageResult {
    let home = (ui.authed.crm)
        .home_dashboard(&ui.authed.principal)
        .await
        .or_page(&ui)?;
    show(&ui, home, &q, None).await
}

/// `/dashboards/{id}`: one dashboard for the URL's period and scope.
pub async fn dashboard_page(ui: Ui, Path(id): Path<String>, Query(q): Query<Pairs>) -> PageResult {
    let view = (ui.authed.crm)
        .dashboard(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    show(&ui, Some(view), &q, None).await
}

async fn show(ui: &Ui, view: Option<DashboardView>, q: &Pairs, notice: Option<String>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    // A period or scope the page does not offer is its default, not an error page.
    let period = get(q, "period").filter(|p| PERIODS.contains(p));
    let scope = get(q, "scope").filter(|s| Scope::parse(s).is_some());
    let run = match view {
        Some(v) => Some(crm.run_dashboard(who, v, period, scope).await.or_page(ui)?),
        None => None,
    };
    let list = crm.dashboards(who).await.or_page(ui)?;
    let reports = crm.saved_reports(who).await.or_page(ui)?;
    let page = dashboards_view(ui, run, &list, &reports, q, notice);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The page: the list, the filters, the grid, and the editing forms for those who may.
fn dashboards_view(
    ui: &Ui,
    run: Option<DashboardRun>,
    list: &[DashboardView],
    reports: &[anchora_core::reports::ReportView],
    q: &Pairs,
    notice: Option<String>,
) -> DashboardsPage {
    let tr = &ui.tr;
    let current = run.as_ref().map(|r| r.dashboard.dashboard.id.to_string());
    let may_share = (ui.authed.principal).may(Permission::ChangeSchema(SchemaChange::SharedViews), &ui.schema.policy);
    let may_change = run.as_ref().is_some_and(|r| r.dashboard.may_change);
    let editing = may_change && get(q, "edit") == Some("1");
    let period = run.as_ref().map_or(DEFAULT_PERIOD, |r| r.period.as_str()).to_string();
    let scope = run.as_ref().map_or(Scope::Everyone, |r| r.scope);
    let action = current
        .as_ref()
        .map_or_else(|| "/dashboards".to_string(), |id| format!("/dashboards/{id}"));
    let here = format!("{action}?period={period}&scope={}", scope.as_str());
    DashboardsPage {
        title: run
            .as_ref()
            .map_or_else(|| tr.t("dashboards-title"), |r| r.dashboard.dashboard.name.clone()),
        list: list
            .iter()
            .map(|d| Link {
                name: d.dashboard.name.clone(),
                href: format!("/dashboards/{}", d.dashboard.id),
                shared: d.dashboard.shared,
                current: current.as_deref() == Some(d.dashboard.id.to_string().as_str()),
            })
            .collect(),
        periods: PERIODS
            .iter()
            .map(|p| pick(p, tr.t(&format!("dashboards-period-{p}")), *p == period))
            .collect(),
        scopes: scope_picks(tr, Some(scope)),
        board: run.map(|r| board_view(ui, &r)),
        action,
        may_change,
        may_share,
        editing,
        edit_href: format!("{here}&edit=1"),
        done_href: here,
        notice,
        reports: reports
            .iter()
            .map(|r| pick(&r.report.id.to_string(), r.report.name.clone(), false))
            .collect(),
        widths: (1..=COLUMNS)
            .map(|w| pick(&w.to_string(), tr.t1("dashboards-width-n", "n", w), w == 1))
            .collect(),
        figure: figure_form(ui, get(q, "object")),
        support_figures: SupportFigure::ALL
            .iter()
            .map(|f| pick(f.as_str(), support_figure_name(tr, *f), false))
            .collect(),
        shell: ui.shell("dashboards"),
    }
}

fn scope_picks(tr: &Tr, on: Option<Scope>) -> Vec<Pick> {
    Scope::ALL
        .iter()
        .map(|s| {
            pick(
                s.as_str(),
                tr.t(&format!("dashboards-scope-{}", s.as_str())),
                Some(*s) == on,
            )
        })
        .collect()
}

fn board_view(ui: &Ui, run: &DashboardRun) -> Board {
    let tr = &ui.tr;
    let d = &run.dashboard.dashboard;
    let days = |first: chrono::NaiveDate, end: chrono::NaiveDate| {
        let last = end.checked_sub_days(Days::new(1)).unwrap_or(end);
        if last == first {
            format::date(tr.tag, first)
        } else {
            format!("{} – {}", format::date(tr.tag, first), format::date(tr.tag, last))
        }
    };
    let count = run.widgets.len();
    Board {
        id: d.id.to_string(),
        name: d.name.clone(),
        version: d.version,
        shared: d.shared,
        roles: Role::ALL
            .iter()
            .map(|r| {
                pick(
                    r.as_str(),
                    tr.t(&format!("role-{}", r.as_str())),
                    d.audience.contains(r),
                )
            })
            .collect(),
        scopes: scope_picks(tr, Some(d.scope)),
        range: if run.so_far == run.current {
            tr.tn(
                "dashboards-range",
                &[
                    ("current", days(run.current.first, run.current.end)),
                    ("previous", days(run.previous.first, run.previous.end)),
                ],
            )
        } else {
            tr.tn(
                "dashboards-range-so-far",
                &[
                    ("current", days(run.current.first, run.current.end)),
                    ("previous", days(run.previous.first, run.previous.end)),
                    ("so_far", days(run.so_far.first, run.so_far.end)),
                    (
                        "previous_so_far",
                        days(run.previous_so_far.first, run.previous_so_far.end),
                    ),
                ],
            )
        },
        tiles: run
            .widgets
            .iter()
            .enumerate()
            .map(|(n, w)| Tile {
                first: n == 0,
                last: n + 1 == count,
                ..tile_view(ui, n, w)
            })
            .collect(),
        full: count >= MAX_WIDGETS,
    }
}

fn blank_tile(n: usize, width: u8, kind: &'static str, title: String) -> Tile {
    Tile {
        n,
        width,
        kind,
        title,
        href: None,
        chart: String::new(),
        note: None,
        corner: String::new(),
        heads: Vec::new(),
        lines: Vec::new(),
        foot: None,
        more: None,
        empty: false,
        figure: None,
        first: false,
        last: false,
    }
}

fn tile_view(ui: &Ui, n: usize, w: &WidgetRun) -> Tile {
    let tr = &ui.tr;
    match w {
        WidgetRun::Unavailable { width } => blank_tile(n, *width, "unavailable", tr.t("dashboards-unavailable")),
        WidgetRun::Figure(f) => Tile {
            figure: Some(figure_tile(ui, f)),
            ..blank_tile(n, f.width, "figure", f.title.clone())
        },
        WidgetRun::Support(s) => support_tile(ui, n, s),
        WidgetRun::Report {
            report,
            title,
            width,
            result,
            ..
        } => {
            let mut tile = Tile {
                href: Some(format!("/reports/{report}")),
                ..blank_tile(n, *width, "report", title.clone())
            };
            match ui.object(&result.spec.object) {
                Some(def) => report_tile(tr, &ui.schema, &mut tile, &def, result),
                None => tile.kind = "unavailable",
            }
            tile
        }
    }
}

/// A report widget: its chart, and a compact table (or pivot) whose figures open their records.
fn report_tile(tr: &Tr, schema: &Schema, tile: &mut Tile, def: &ObjectDef, result: &ReportResult) {
    let w = rep::writer(tr, def, result);
    let (row_labels, col_labels) = rep::axis_labels(tr, schema, def, result);
    #[allow(clippy::cast_precision_loss)]
    let figure = |text: String, f: &anchora_core::reports::Figures, row: Option<usize>, col: Option<usize>| Figure {
        href: (f.count > 0).then(|| rep::drill_href(result, row, col)),
        title: tr.t1("reports-records", "count", f.count as f64),
        text,
    };
    let (chart, note) = rep::chart_of(tr, &w, result, &row_labels, &col_labels, &tile.title);
    tile.chart = chart;
    tile.note = note;
    tile.empty = result.total.count == 0;
    tile.corner = (result.spec.groups.first())
        .and_then(|g| rep::grouping_name(tr, schema, def, &g.field))
        .unwrap_or_default();
    let shown = result.rows.len().min(TABLE_ROWS);
    if result.rows.len() > TABLE_ROWS {
        tile.more = Some(tr.t1("dashboards-more-rows", "count", result.rows.len() - TABLE_ROWS));
    }
    let label = |r: usize| row_labels.get(r).cloned().unwrap_or_default();
    if result.columns.is_empty() {
        tile.heads = vec![rep::measure_name(tr, def, result)];
        tile.lines = (0..shown)
            .filter_map(|r| result.rows.get(r).map(|h| (r, h)))
            .map(|(r, h)| Line {
                label: label(r),
                cells: vec![figure(w.main(&h.figures), &h.figures, Some(r), None)],
            })
            .collect();
        tile.foot = Some(Line {
            label: tr.t("reports-total"),
            cells: vec![figure(w.main(&result.total), &result.total, None, None)],
        });
        return;
    }
    tile.heads = col_labels.clone();
    tile.heads.push(tr.t("reports-total"));
    tile.lines = (0..shown)
        .filter_map(|r| result.rows.get(r).map(|h| (r, h)))
        .map(|(r, h)| Line {
            label: label(r),
            cells: (0..result.columns.len())
                .map(|c| {
                    let f = result.cell(r, Some(c));
                    let text = if f.count > 0 { w.main(&f) } else { "–".into() };
                    figure(text, &f, Some(r), Some(c))
                })
                .chain(std::iter::once(figure(w.main(&h.figures), &h.figures, Some(r), None)))
                .collect(),
        })
        .collect();
    let mut foot: Vec<Figure> = (result.columns.iter().enumerate())
        .map(|(c, h)| figure(w.main(&h.figures), &h.figures, None, Some(c)))
        .collect();
    foot.push(figure(w.main(&result.total), &result.total, None, None));
    tile.foot = Some(Line {
        label: tr.t("reports-total"),
        cells: foot,
    });
}

/// A figure as its measure is written: a count, an amount in its currency, a percentage.
fn figure_text(ui: &Ui, f: &FigureRun, value: Option<f64>, count: i64) -> String {
    let locale = ui.tr.locale;
    let percent = (ui.object(&f.object))
        .and_then(|def| f.measure.field.as_ref().and_then(|m| def.field(m).cloned()))
        .is_some_and(|m| m.field_type == FieldType::Percent);
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
    match (f.measure.func, value) {
        (MeasureFn::Count, _) => format::number(locale, count as f64, 0),
        // A sum of nothing is nothing (an average of nothing is no figure).
        (MeasureFn::Sum, None) => figure_text(ui, f, Some(0.0), count),
        (_, None) => "–".into(),
        (_, Some(v)) if f.money => format::money(locale, v.round() as i64, f.currency.as_deref()),
        (_, Some(v)) if percent => format::percent(locale, (v * 100.0).round() / 100.0),
        (_, Some(v)) if v.fract() == 0.0 => format::number(locale, v, 0),
        (_, Some(v)) => format::number(locale, v, 2),
    }
}

fn figure_tile(ui: &Ui, f: &FigureRun) -> FigureTile {
    let href = |filter: &Json, count: i64| {
        (count > 0).then(|| format!("/o/{}?filter={}", f.object, url_encode(&filter.to_string())))
    };
    #[allow(clippy::cast_possible_truncation)]
    let (trend, tone, change) = moved(&ui.tr, f.change, f.lower_is_better, |delta| {
        figure_text(ui, f, Some(delta), delta.round() as i64)
    });
    FigureTile {
        tone,
        value: figure_text(ui, f, f.current.value, f.current.count),
        href: href(&f.filter, f.current.count),
        previous: figure_text(ui, f, f.previous.value, f.previous.count),
        previous_href: href(&f.previous_filter, f.previous.count),
        change,
        trend,
    }
}

/// How a figure moved, in words (the amount written by `amount`), with its arrow and tone.
fn moved(
    tr: &Tr,
    change: Option<Change>,
    lower_is_better: bool,
    amount: impl Fn(f64) -> String,
) -> (&'static str, &'static str, String) {
    let (trend, change) = match change {
        None => ("flat", tr.t("dashboards-no-change-figure")),
        Some(Change { delta: 0.0, .. }) => ("flat", tr.t("dashboards-unchanged")),
        Some(Change { delta, percent }) => {
            let (trend, key) = if delta > 0.0 {
                ("up", "dashboards-up")
            } else {
                ("down", "dashboards-down")
            };
            let amount = amount(delta.abs());
            let text = match percent {
                Some(p) => tr.tn(
                    &format!("{key}-percent"),
                    &[
                        ("delta", amount),
                        ("percent", format::percent(tr.locale, (p.abs() * 10.0).round() / 10.0)),
                    ],
                ),
                None => tr.tn(key, &[("delta", amount)]),
            };
            (trend, text)
        }
    };
    let tone = match (trend, lower_is_better) {
        ("up", false) | ("down", true) => "good",
        ("up", true) | ("down", false) => "bad",
        _ => "same",
    };
    (trend, tone, change)
}

/// A support widget: a count beside the period before, the weekly chart, each level's medians
/// as a table, or the top categories as bars; its title opens the support figures page.
fn support_tile(ui: &Ui, n: usize, run: &SupportRun) -> Tile {
    let tr = &ui.tr;
    let name = run.title.clone().unwrap_or_else(|| support_figure_name(tr, run.figure));
    let mut tile = Tile {
        href: Some("/support/figures".into()),
        ..blank_tile(n, run.width, "support", name)
    };
    let f = &run.figures;
    let whole = |v: u64| {
        #[allow(clippy::cast_precision_loss)]
        format::number(tr.locale, v as f64, 0)
    };
    if let (Some(count), Some(previous)) = (run.figure.count(f), run.previous.as_ref()) {
        let (trend, tone, change) = moved(tr, run.change, run.figure == SupportFigure::Breaches, |delta| {
            format::number(tr.locale, delta, 0)
        });
        tile.figure = Some(FigureTile {
            value: whole(count),
            href: None,
            previous: whole(run.figure.count(previous).unwrap_or(0)),
            previous_href: None,
            change,
            trend,
            tone,
        });
        return tile;
    }
    let asked = f.asked();
    match run.figure {
        SupportFigure::Weekly => tile.chart = figures::weekly_chart(tr, f),
        SupportFigure::Categories => {
            // One column is too narrow for the bars' words: the table says it there.
            if run.width > 1 {
                tile.chart = figures::categories_chart(tr, f).unwrap_or_default();
            }
            tile.corner = tr.t("support-category");
            tile.heads = vec![tr.t("support-questions")];
            tile.lines = f
                .categories
                .iter()
                .map(|c| Line {
                    label: figures::category_name(tr, c),
                    cells: vec![plain(whole(c.questions))],
                })
                .collect();
        }
        SupportFigure::Levels => {
            tile.corner = tr.t("support-level");
            tile.heads = vec![
                tr.t("support-questions"),
                tr.t("support-figures-response"),
                tr.t("support-figures-resolution"),
            ];
            tile.lines = figures::level_rows(tr, f)
                .into_iter()
                .map(|l| Line {
                    label: l.level,
                    cells: [whole(l.questions), l.response, l.resolution]
                        .into_iter()
                        .map(plain)
                        .collect(),
                })
                .collect();
        }
        SupportFigure::Asked | SupportFigure::Solved | SupportFigure::Breaches => {}
    }
    tile.note = match run.figure {
        SupportFigure::Categories if f.categories.is_empty() && asked > 0 => {
            Some(tr.t("dashboards-support-no-categories"))
        }
        SupportFigure::Levels | SupportFigure::Categories if asked == 0 => Some(tr.t("support-figures-none")),
        SupportFigure::Weekly if asked == 0 && f.solved() == 0 => Some(tr.t("support-figures-none")),
        _ => None,
    };
    tile
}

/// A table cell that opens nothing (questions have no record list to drill into).
fn plain(text: String) -> Figure {
    Figure {
        href: None,
        title: String::new(),
        text,
    }
}

/// A support figure's name, as the widget is titled unless it has its own title.
fn support_figure_name(tr: &Tr, figure: SupportFigure) -> String {
    tr.t(&format!("dashboards-support-{}", figure.as_str()))
}

/// The add-a-figure form for the object the URL names (deals unless told).
fn figure_form(ui: &Ui, object: Option<&str>) -> FigureForm {
    let tr = &ui.tr;
    let def = object
        .and_then(|o| ui.object(o))
        .or_else(|| ui.object("deal"))
        .or_else(|| ui.schema.objects.values().find(|o| !o.archived).cloned());
    let Some(def) = def else {
        return FigureForm {
            object: String::new(),
            objects: Vec::new(),
            funcs: Vec::new(),
            measures: Vec::new(),
            dates: Vec::new(),
            fields: Vec::new(),
            ops: Vec::new(),
        };
    };
    let mut dates: Vec<Pick> = def
        .active_fields()
        .filter(|f| f.filterable && matches!(f.field_type, FieldType::Date | FieldType::Datetime))
        .map(|f| pick(&f.name, labels::field(tr, &def, f), false))
        .collect();
    for (name, key) in [
        ("created_at", "dashboards-created"),
        ("updated_at", "dashboards-updated"),
    ] {
        if def.field(name).is_none() {
            dates.push(pick(name, tr.t(key), false));
        }
    }
    FigureForm {
        objects: (ui.schema.objects.values().filter(|o| !o.archived))
            .map(|o| pick(&o.name, labels::object_plural(tr, o), o.name == def.name))
            .collect(),
        funcs: MeasureFn::ALL
            .iter()
            .map(|f| pick(f.as_str(), tr.t(&format!("reports-func-{}", f.as_str())), false))
            .collect(),
        measures: std::iter::once(pick("", tr.t("reports-no-field"), true))
            .chain(
                measurable_fields(&def)
                    .iter()
                    .map(|f| pick(&f.name, labels::field(tr, &def, f), false)),
            )
            .collect(),
        dates,
        fields: filter_fields(tr, &def),
        ops: builder_ops(tr),
        object: def.name.clone(),
    }
}

/// A refusal in the reader's words, each mistake by its place ("Widget 3: …").
fn refusal(tr: &Tr, e: &Error) -> String {
    if e.code == ErrorCode::VersionConflict {
        return tr.t("dashboards-conflict");
    }
    let place = |field: &str| -> String {
        if field == "name" {
            return tr.t("dashboards-name");
        }
        let n = field
            .strip_prefix("widgets[")
            .and_then(|rest| rest.split(']').next())
            .and_then(|i| i.parse::<usize>().ok());
        match n {
            Some(i) => tr.t1("dashboards-widget-n", "n", i + 1),
            None => field.to_string(),
        }
    };
    let parts: Vec<String> = e
        .errors
        .iter()
        .map(|f| {
            tr.tn(
                "reports-mistake",
                &[
                    ("place", place(&f.field)),
                    ("message", super::field_message(tr, &f.message)),
                ],
            )
        })
        .collect();
    if parts.is_empty() {
        super::field_message(tr, &e.detail)
    } else {
        parts.join(" ")
    }
}

/// After a change: the dashboard again, editing, for the period and scope it was shown with.
fn back_to(id: &str, form: &Pairs) -> Response {
    let period = get(form, "period")
        .filter(|p| PERIODS.contains(p))
        .unwrap_or(DEFAULT_PERIOD);
    let scope = get(form, "scope").and_then(Scope::parse);
    let scope = scope.map(|s| format!("&scope={}", s.as_str())).unwrap_or_default();
    Redirect::to(&format!("/dashboards/{id}?period={period}{scope}&edit=1")).into_response()
}

/// A refused change: the dashboard as it is now, with what went wrong.
async fn refused(ui: &Ui, id: &str, form: &Pairs, e: &Error) -> PageResult {
    let view = (ui.authed.crm).dashboard(&ui.authed.principal, id).await.or_page(ui)?;
    let mut q: Pairs = form
        .iter()
        .filter(|(k, _)| k == "period" || k == "scope")
        .cloned()
        .collect();
    q.push(("edit".into(), "1".into()));
    show(ui, Some(view), &q, Some(refusal(&ui.tr, e))).await
}

/// The dashboard's widgets as they are kept, for a change to send whole.
fn widgets_of(view: &DashboardView) -> Vec<Json> {
    view.dashboard
        .widgets
        .iter()
        .map(|w| serde_json::to_value(w).unwrap_or(Json::Null))
        .collect()
}

/// Change a dashboard at the version the page showed; refusals shown on the page.
async fn change(ui: &Ui, id: &str, form: &Pairs, body: Json) -> PageResult {
    match (ui.authed.crm)
        .change_dashboard(&ui.authed.principal, id, body)
        .await
        .or_forbidden(ui)?
    {
        Ok(_) => Ok(back_to(id, form)),
        Err(e) => refused(ui, id, form, &e).await,
    }
}

fn version(form: &Pairs) -> i64 {
    get(form, "version").and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// `POST /dashboards/new`: a new, empty dashboard of the caller's, opened for editing.
pub async fn create(Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let name = get(&form, "name").unwrap_or_default();
    match (ui.authed.crm)
        .create_dashboard(&ui.authed.principal, json!({"name": name}))
        .await
        .or_forbidden(&ui)?
    {
        Ok(view) => Ok(back_to(&view.dashboard.id.to_string(), &form)),
        Err(e) => show(&ui, None, &Vec::new(), Some(refusal(&ui.tr, &e))).await,
    }
}

/// `POST /dashboards/{id}/settings`: name, the scope it opens with, sharing and audience.
pub async fn settings(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let may_share = (ui.authed.principal).may(Permission::ChangeSchema(SchemaChange::SharedViews), &ui.schema.policy);
    let audience: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "audience")
        .map(|(_, v)| v.as_str())
        .collect();
    // Sharing is sent only by whoever may share (the boxes are offered to them alone).
    let shared = may_share.then(|| get(&form, "shared") == Some("on"));
    let body = json!({"version": version(&form), "name": get(&form, "name").unwrap_or_default(),
        "scope": get(&form, "default_scope").and_then(Scope::parse),
        "shared": shared, "audience": may_share.then_some(audience)});
    change(&ui, &id, &form, body).await
}

/// `POST /dashboards/{id}/widgets`: add a saved report or a figure at the end.
pub async fn add_widget(Path(id): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let view = (ui.authed.crm)
        .dashboard(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    let width: u8 = get(&form, "width").and_then(|w| w.parse().ok()).unwrap_or(1);
    let title = get(&form, "title").map(str::trim).filter(|t| !t.is_empty());
    let widget = if get(&form, "kind") == Some("support") {
        json!({"kind": "support", "figure": get(&form, "figure").unwrap_or_default(), "title": title, "width": width})
    } else if get(&form, "kind") == Some("figure") {
        let object = get(&form, "object").unwrap_or_default();
        let def = ui.object(object).or_not_found(&ui)?;
        let row = FilterRow {
            field: get(&form, "ff").unwrap_or_default().to_string(),
            op: get(&form, "fo").unwrap_or_default().to_string(),
            value: get(&form, "fv").unwrap_or_default().to_string(),
        };
        let filter = (!row.field.is_empty() && !row.op.is_empty())
            .then(|| filter_of_rows(&def, &[row]))
            .flatten();
        let func = get(&form, "func").unwrap_or("count");
        let field = get(&form, "mf").filter(|f| !f.is_empty() && func != "count");
        json!({"kind": "figure", "title": title.unwrap_or_default(), "object": object, "filter": filter,
            "measure": {"func": func, "field": field}, "date_field": get(&form, "date_field").unwrap_or_default(),
            "lower_is_better": get(&form, "lower_is_better") == Some("on"), "width": width})
    } else {
        json!({"kind": "report", "report": get(&form, "report").unwrap_or_default(), "title": title, "width": width})
    };
    let mut widgets = widgets_of(&view);
    widgets.push(widget);
    change(&ui, &id, &form, json!({"version": version(&form), "widgets": widgets})).await
}

/// `POST /dashboards/{id}/widgets/{n}`: move a widget up or down, widen it, or remove it.
pub async fn widget(Path((id, n)): Path<(String, usize)>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let view = (ui.authed.crm)
        .dashboard(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    let mut widgets = widgets_of(&view);
    if n >= widgets.len() {
        return Err(PageError::not_found(&ui));
    }
    match get(&form, "do") {
        Some("up") if n > 0 => widgets.swap(n, n - 1),
        Some("down") if n + 1 < widgets.len() => widgets.swap(n, n + 1),
        Some("remove") => {
            widgets.remove(n);
        }
        Some("width") => {
            let width: u8 = get(&form, "width").and_then(|w| w.parse().ok()).unwrap_or(1);
            if let Some(w) = widgets.get_mut(n).and_then(Json::as_object_mut) {
                w.insert("width".into(), json!(width));
            }
        }
        _ => return Ok(back_to(&id, &form)),
    }
    change(&ui, &id, &form, json!({"version": version(&form), "widgets": widgets})).await
}

/// `POST /dashboards/{id}/delete`.
pub async fn delete(Path(id): Path<String>, Posted { ui, form: _ }: Posted<Pairs>) -> PageResult {
    (ui.authed.crm)
        .delete_dashboard(&ui.authed.principal, &id)
        .await
        .or_page(&ui)?;
    Ok(Redirect::to("/dashboards").into_response())
}

/// A saved report's "Add to dashboard" form: the report, and the dashboards it can go on
/// (the reader's own and the shared ones they may change; a new one besides).
pub struct AddTo {
    pub report: String,
    pub targets: Vec<Pick>,
}

pub async fn add_to(ui: &Ui, report: &str) -> AddTo {
    let targets = (ui.authed.crm)
        .dashboards(&ui.authed.principal)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.may_change)
        .map(|d| pick(&d.dashboard.id.to_string(), d.dashboard.name, false))
        .collect();
    AddTo {
        report: report.to_string(),
        targets,
    }
}

/// `POST /reports/{id}/dashboard`: add a saved report to a dashboard (a new one when none is
/// picked), two columns wide, then open it.
pub async fn add_report(Path(report): Path<String>, Posted { ui, form }: Posted<Pairs>) -> PageResult {
    let (crm, who) = (&ui.authed.crm, &ui.authed.principal);
    let widget = json!({"kind": "report", "report": report, "width": 2});
    let target = get(&form, "dashboard").filter(|d| !d.is_empty());
    let done = match target {
        Some(id) => {
            let view = crm.dashboard(who, id).await.or_page(&ui)?;
            let mut widgets = widgets_of(&view);
            widgets.push(widget);
            let body = json!({"version": view.dashboard.version, "widgets": widgets});
            crm.change_dashboard(who, id, body).await
        }
        None => {
            let name = get(&form, "name").filter(|n| !n.trim().is_empty());
            let name = name.map_or_else(|| ui.tr.t("dashboards-new-name"), str::to_string);
            crm.create_dashboard(who, json!({"name": name, "widgets": [widget]}))
                .await
        }
    };
    match done.or_forbidden(&ui)? {
        Ok(view) => Ok(Redirect::to(&format!("/dashboards/{}", view.dashboard.id)).into_response()),
        Err(e) => match target {
            Some(id) => refused(&ui, id, &Vec::new(), &e).await,
            None => show(&ui, None, &Vec::new(), Some(refusal(&ui.tr, &e))).await,
        },
    }
}
