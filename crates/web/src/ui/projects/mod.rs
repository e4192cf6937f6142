//! The implementation project in the app: the list of projects, and each project's overview
//! (health, rule of thirds, forecast against the target, budget), its group, its plan with the
//! Gantt chart, its work packages and its settings. Everyone signed in may read; the forms go
//! through the same use cases as the API, so the same rights apply.

mod changes;
mod form;
mod group;
mod journeys;
mod meetings;
mod overview;
mod packages;
mod page;
mod plan;
mod reports;
mod settings;

use super::admin::banner;
use super::page_error::{PageError, PageResult};
use super::posted::Posted;
use super::{Shell, Ui};
use anchora_core::auth::Permission;
use anchora_core::project::model::Project;
use anchora_core::project::roles::RoleDef;
use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
pub use changes::*;
pub(crate) use form::*;
pub use group::*;
pub use journeys::*;
pub use meetings::*;
pub use overview::*;
pub use packages::*;
pub(crate) use page::*;
pub use plan::*;
pub use reports::*;
use serde_json::json;
pub use settings::*;
use std::collections::HashMap;
// ---- The list of projects ----
pub struct ProjectRow {
    pub href: String,
    pub name: String,
    pub start: String,
    pub target: String,
    pub cadence: String,
}

#[derive(Template)]
#[template(path = "ui/projects.html")]
struct ProjectsPage {
    shell: Shell,
    title: String,
    projects: Vec<ProjectRow>,
    may_create: bool,
    error: Option<String>,
    saved: Option<String>,
    /// The role catalogue: (label, what kind of role it is).
    catalogue: Vec<(String, String)>,
}

pub async fn projects_page(ui: Ui, Query(q): Params) -> PageResult {
    let projects = ui
        .authed
        .crm
        .projects(&ui.authed.principal)
        .await
        .map_err(|_| PageError::forbidden(&ui))?;
    let catalogue = ui.authed.crm.project_catalogue().await.unwrap_or_default();
    let page = projects_view(&ui, &projects, &catalogue, &q);
    Ok(ui.page(StatusCode::OK, page.render()))
}

fn projects_view(ui: &Ui, projects: &[Project], catalogue: &[RoleDef], q: &HashMap<String, String>) -> ProjectsPage {
    let rows = projects
        .iter()
        .map(|p| ProjectRow {
            href: format!("/projects/{}", p.id),
            name: p.settings.name.clone(),
            start: date(ui, p.settings.start),
            target: date(ui, p.settings.target),
            cadence: ui.tr.t(&format!("project-cadence-{}", p.settings.cadence.as_str())),
        })
        .collect();
    let (error, saved) = banner(q, ui);
    ProjectsPage {
        title: ui.tr.t("projects-title"),
        projects: rows,
        may_create: ui.authed.principal.may(Permission::ManageProjects, &ui.schema.policy),
        error,
        saved,
        catalogue: catalogue.iter().map(|r| catalogue_line(ui, catalogue, r)).collect(),
        shell: shell(ui),
    }
}

/// A role of the catalogue and what kind of role it is.
fn catalogue_line(ui: &Ui, catalogue: &[RoleDef], r: &RoleDef) -> (String, String) {
    let mut kinds = Vec::new();
    if r.required {
        kinds.push(ui.tr.t("project-role-required"));
    }
    if r.core_team {
        kinds.push(ui.tr.t("project-role-core"));
    }
    if r.technical {
        kinds.push(ui.tr.t("project-role-technical"));
    }
    if r.vendor {
        kinds.push(ui.tr.t("project-role-vendor"));
    }
    (role_label(ui, catalogue, &r.key), kinds.join(", "))
}

pub async fn create_project(Posted { ui, form }: Posted<Fields>) -> Response {
    let body = json!({
        "name": field(&form, "name"),
        "start": field(&form, "start"),
        "target": field(&form, "target"),
    });
    match ui.authed.crm.create_project(&ui.authed.principal, body).await {
        Ok(p) => Redirect::to(&format!("/projects/{}/settings", p.id)).into_response(),
        Err(e) => back(&ui, "/projects", Err(e)),
    }
}

/// A catalogue key from a role's name: lower-case ASCII (Nordic and other Latin letters
/// transliterated), unique among the keys taken.
fn role_key(label: &str, taken: &[String]) -> String {
    let mut ascii = String::new();
    for c in label.to_lowercase().chars() {
        match anchora_core::import::mapping::plain_letter(c) {
            Some(plain) => ascii.push_str(plain),
            None if c.is_ascii_alphanumeric() => ascii.push(c),
            None => ascii.push('_'),
        }
    }
    let mut key: String = ascii.split('_').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("_");
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key = format!("role_{key}").trim_end_matches('_').to_string();
    }
    key.truncate(36);
    let mut candidate = key.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{key}_{n}");
        n += 1;
    }
    candidate
}

/// An administrator adds a role to the catalogue every project uses.
pub async fn add_catalogue_role(Posted { ui, form }: Posted<Fields>) -> Response {
    let label = field(&form, "label");
    let taken: Vec<String> = ui
        .authed
        .crm
        .project_catalogue()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| r.key)
        .collect();
    let body = json!({
        "key": role_key(label, &taken),
        "label": label,
        "required": form.contains_key("required"),
        "core_team": form.contains_key("core_team"),
        "technical": form.contains_key("technical"),
        "vendor": form.contains_key("vendor"),
        "scope": "project",
    });
    let result = ui
        .authed
        .crm
        .add_project_role(&ui.authed.principal, body)
        .await
        .map(|_| ());
    back(&ui, "/projects", result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchora_core::project::model::Settings;
    use chrono::NaiveDate;

    #[test]
    fn money_as_typed_in_each_locale() {
        assert_eq!(parse_money("1 250 000"), Some(125_000_000));
        assert_eq!(parse_money("1.250.000"), Some(125_000_000));
        assert_eq!(parse_money("1,250,000.50"), Some(125_000_050));
        assert_eq!(parse_money("99,5"), Some(9_950));
        assert_eq!(parse_money(""), Some(0));
        assert_eq!(parse_money("12a"), None);
        assert_eq!(parse_money("-5"), None);
        assert_eq!(parse_money("99999999999999999999"), None);
        assert_eq!(money_input(125_000_050), "1250000.50");
        assert_eq!(parse_decimal("sv", "12,5"), Some(12.5));
        assert_eq!(parse_decimal("en", "1,000"), Some(1000.0));
        assert_eq!(parse_decimal("de", "1.000,5"), Some(1000.5));
        assert_eq!(parse_decimal("en", "NaN"), None);
    }

    #[test]
    fn saving_the_settings_form_keeps_shares_it_shows_rounded() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let settings = Settings::new("Rollout", d("2027-01-04"), d("2027-06-30"));
        let f = settings_form(&settings, 3);
        assert_eq!(f.max_technical_percent, "33.3");
        let form: Fields = [
            ("version", f.version.to_string()),
            ("name", f.name),
            ("start", f.start),
            ("target", f.target),
            ("currency", f.currency),
            ("amount", f.amount),
            ("buffer_percent", f.buffer_percent),
            ("committed", f.committed),
            ("spent", f.spent),
            ("cadence", f.cadence),
            ("max_core_team", f.max_core_team),
            ("max_technical_percent", f.max_technical_percent),
            ("max_system_percent", "40".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let patch = settings_patch("en", &form, &settings).unwrap();
        assert_eq!(patch["thresholds"]["max_technical_share"], json!(1.0 / 3.0));
        assert_eq!(
            patch["max_system_share"],
            json!(0.4),
            "a changed figure is taken as typed"
        );
    }

    #[test]
    fn role_keys_from_names_in_any_language() {
        assert_eq!(role_key("Dataägare", &[]), "dataagare");
        assert_eq!(role_key("Ægir's øl-rolle", &[]), "aegir_s_ol_rolle");
        assert_eq!(role_key("Ägare", &["agare".into()]), "agare_2");
        assert_eq!(role_key("数据", &[]), "role");
        assert_eq!(role_key("数据", &["role".into()]), "role_2");
        assert_eq!(role_key("2nd line", &[]), "role_2nd_line");
    }
}
