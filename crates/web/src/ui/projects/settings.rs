//! A project's settings: dates, goals, phases, mandate, budget, cadence and thresholds.

use super::form::*;
use super::page::*;
use crate::ui::Ui;
use crate::ui::page_error::{PageError, PageResult};
use crate::ui::posted::Posted;
use anchora_core::Error;
use anchora_core::project::model::Settings;
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value as Json, json};

pub(crate) fn settings_form(s: &Settings, version: i64) -> SettingsForm {
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

pub async fn settings_page(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    if !rights.edit {
        return Err(PageError::forbidden(&ui));
    }
    let mut page = ProjectPage::new(&ui, &state, rights, "settings", &q);
    page.form = settings_form(&state.project.settings, state.project.version);
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// The settings form as the API's patch.
/// A share (0–1) as the settings form shows it, in percent.
pub(crate) fn percent_input(v: f64) -> String {
    let p = (v * 1000.0).round() / 10.0;
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p}")
    }
}

/// The settings form as the API's patch. Shares the form shows rounded keep their exact value
/// unless the user changed the figure.
pub(crate) fn settings_patch(locale: &str, form: &Fields, current: &Settings) -> Result<Json, Error> {
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
