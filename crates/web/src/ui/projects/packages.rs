//! Work packages the vendor delivers, and their steps.

use super::form::*;
use super::page::*;
use crate::ui::Ui;
use crate::ui::page_error::PageResult;
use crate::ui::posted::Posted;
use anchora_core::Error;
use anchora_core::project::model::{PackageState, WorkPackage};
use anchora_core::project::{ProjectRights, ProjectState};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use std::fmt::Write;

pub async fn packages(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let mut page = ProjectPage::new(&ui, &state, rights, "packages", &q);
    page.packages = state
        .packages
        .iter()
        .map(|p| package_row(&ui, &state, rights, p))
        .collect();
    page.vendors = state
        .members
        .iter()
        .map(|m| (m.number.to_string(), m.name.clone()))
        .collect();
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// A work package with its history and the states the caller may move it to.
fn package_row(ui: &Ui, state: &ProjectState, rights: ProjectRights, p: &WorkPackage) -> PackageRow {
    let vendor_self = p.vendor.is_some() && p.vendor == rights.member;
    let next = PackageState::ALL
        .iter()
        .filter(|s| p.state.may_become(**s))
        .filter(|s| rights.edit || (**s == PackageState::Delivered && vendor_self))
        .map(|s| {
            (
                s.as_str(),
                ui.tr.t(&format!("project-package-to-{}", s.as_str().replace('_', "-"))),
            )
        })
        .collect();
    PackageRow {
        number: p.number,
        version: p.version,
        title: p.title.clone(),
        description: p.description.clone(),
        vendor: member_name(state, p.vendor),
        due: p.due.map(|d| date(ui, d)).unwrap_or_default(),
        state: package_label(ui, p.state),
        state_key: p.state.as_str(),
        events: p
            .events
            .iter()
            .map(|e| {
                let mut line = format!("{} · {}", ui.tr.datetime(e.at), package_label(ui, e.state));
                if !e.comment.is_empty() {
                    let _ = write!(line, " · {}", e.comment);
                }
                line
            })
            .collect(),
        next,
    }
}

// ---- Work package forms ----
pub async fn add_package(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let vendor = field(&form, "vendor").parse::<u32>().ok();
    let due = Some(field(&form, "due")).filter(|s| !s.is_empty());
    let body = json!({
        "title": field(&form, "title"),
        "description": field(&form, "description"),
        "vendor": vendor,
        "due": due,
    });
    let result = ui
        .authed
        .crm
        .add_work_package(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/packages"), result)
}

pub async fn move_package(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let next = PackageState::parse(field(&form, "state")).ok_or_else(|| Error::field("state", "is not a state"))?;
        let version = form_number(&form, "version")?;
        ui.authed
            .crm
            .move_work_package(&ui.authed.principal, &id, n, next, field(&form, "comment"), version)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/packages"), result)
}
