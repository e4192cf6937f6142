//! A project's overview: health, the rule of thirds, the forecast against the target, the budget.

use super::form::*;
use super::page::*;
use crate::ui::page_error::PageResult;
use crate::ui::{Ui, format};
use anchora_core::project::model::{BudgetStatus, Settings};
use anchora_core::project::plan::Forecast;
use anchora_core::project::thirds::{Area, Thirds};
use anchora_core::project::{ProjectRights, ProjectState};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use std::collections::HashMap;

pub async fn overview(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let page = overview_view(&ui, &state, rights, &q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

fn overview_view(ui: &Ui, state: &ProjectState, rights: ProjectRights, q: &HashMap<String, String>) -> ProjectPage {
    let today = today(ui);
    let mut page = ProjectPage::new(ui, state, rights, "overview", q);
    let s = &state.project.settings;
    page.goals = s.goals.iter().map(|g| (g.text.clone(), g.strategy.clone())).collect();
    page.facts = setting_facts(ui, s);
    let checks = state.health();
    page.health_problems = checks.iter().filter(|c| !c.ok).count();
    page.health = health_rows(ui, state, &checks);
    let thirds = state.thirds();
    page.thirds_svg = thirds_svg(ui, &thirds);
    page.thirds_rows = thirds_rows(ui, &thirds, Some(s.budget.currency.as_str()));
    page.thirds_warning = (thirds.actual_warning || thirds.planned_warning).then(|| {
        ui.tr.t1(
            "project-thirds-warning",
            "max",
            format::share(ui.tr.locale, thirds.max_system_share),
        )
    });
    let forecast = state.forecast(today);
    page.no_progress = !state.tasks.is_empty() && forecast.is_none();
    page.forecast = match forecast {
        Some(f) => forecast_facts(ui, s, &f, state.overdue(today).len()),
        None => Vec::new(),
    };
    page.budget = budget_facts(ui, s, &state.budget());
    page
}

/// The project's start, target, cadence and mandate (a missing mandate stands out).
fn setting_facts(ui: &Ui, s: &Settings) -> Vec<Fact> {
    vec![
        Fact {
            label: ui.tr.t("project-start"),
            value: date(ui, s.start),
            warn: false,
        },
        Fact {
            label: ui.tr.t("project-target"),
            value: date(ui, s.target),
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
                        ("date", date(ui, m.granted_on)),
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
    ]
}

/// Each area's hours and money, planned against actual.
fn thirds_rows(ui: &Ui, thirds: &Thirds, currency: Option<&str>) -> Vec<[String; 4]> {
    let locale = ui.tr.locale;
    Area::ALL
        .iter()
        .map(|a| {
            let pick = |split: &anchora_core::project::thirds::Split| match a {
                Area::Business => split.business,
                Area::Anchoring => split.anchoring,
                Area::System => split.system,
            };
            let (p, x) = (pick(&thirds.planned), pick(&thirds.actual));
            [
                area_label(ui, *a),
                format!(
                    "{} / {}",
                    format::number(locale, p.hours, 0),
                    format::number(locale, x.hours, 0)
                ),
                format::money(locale, p.money, currency),
                format::money(locale, x.money, currency),
            ]
        })
        .collect()
}

/// How far the plan has come and when it will finish, against the target.
fn forecast_facts(ui: &Ui, s: &Settings, f: &Forecast, overdue: usize) -> Vec<Fact> {
    let locale = ui.tr.locale;
    let late = f.forecast_finish > s.target;
    vec![
        Fact {
            label: ui.tr.t("project-complete"),
            value: format::share(locale, f.percent_complete),
            warn: false,
        },
        Fact {
            label: ui.tr.t("project-forecast"),
            value: date(ui, f.forecast_finish),
            warn: late,
        },
        Fact {
            label: ui.tr.t("project-target"),
            value: date(ui, s.target),
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

/// The budget, its buffer and what is committed, spent and left.
fn budget_facts(ui: &Ui, s: &Settings, b: &BudgetStatus) -> Vec<Fact> {
    let locale = ui.tr.locale;
    let cur = Some(s.budget.currency.as_str());
    vec![
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
    ]
}
