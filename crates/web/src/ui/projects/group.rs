//! The project group: members, their roles, confirmations and reviews.

use super::form::*;
use super::page::*;
use crate::ui::Ui;
use crate::ui::page_error::PageResult;
use crate::ui::posted::Posted;
use anchora_core::Error;
use anchora_core::identity::User;
use anchora_core::project::model::Member;
use anchora_core::project::{ProjectRights, ProjectState};
use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value as Json, json};
use std::fmt::Write;

pub async fn group(ui: Ui, Path(id): Path<String>, Query(q): Params) -> PageResult {
    let (state, rights) = load(&ui, &id).await?;
    let mut page = ProjectPage::new(&ui, &state, rights, "group", &q);
    page.members = state
        .members
        .iter()
        .map(|m| member_row(&ui, &state, rights, m))
        .collect();
    page.roles = state
        .catalogue
        .iter()
        .map(|r| (r.key.clone(), role_label(&ui, &state.catalogue, &r.key)))
        .collect();
    if rights.edit {
        let users = ui.authed.crm.users(&ui.authed.principal).await.unwrap_or_default();
        page.users = users_to_add(&state, users);
    }
    Ok(ui.page(StatusCode::OK, page.render()))
}

/// A member with their roles, kick-off confirmation and review, and whether the caller may
/// confirm and review for them.
fn member_row(ui: &Ui, state: &ProjectState, rights: ProjectRights, m: &Member) -> MemberRow {
    MemberRow {
        number: m.number,
        version: m.version,
        name: m.name.clone(),
        detail: [m.organisation.as_str(), m.email.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" · "),
        roles: m
            .roles
            .iter()
            .enumerate()
            .map(|(index, a)| {
                let mut label = role_label(ui, &state.catalogue, &a.role);
                if let Some(x) = a.department.as_ref().or(a.user_group.as_ref()) {
                    let _ = write!(label, " ({x})");
                }
                RoleChip { label, index }
            })
            .collect(),
        kickoff: m
            .kickoff
            .as_ref()
            .map(|k| ui.tr.t1("project-confirmed-on", "date", ui.tr.datetime(k.at))),
        review: m.review.as_ref().map(|r| format!("{}/5 · {}", r.rating, r.text)),
        may_speak: m.user == Some(ui.authed.user.id) || (rights.edit && m.external()),
    }
}

/// The active users not yet in the group.
fn users_to_add(state: &ProjectState, users: Vec<User>) -> Vec<(String, String)> {
    let in_group: Vec<_> = state.members.iter().filter_map(|m| m.user).collect();
    users
        .into_iter()
        .filter(|u| u.active && !in_group.contains(&u.id))
        .map(|u| (u.id.to_string(), u.name))
        .collect()
}

// ---- Group forms ----
pub(crate) fn assignment(form: &Fields) -> Json {
    json!({
        "role": field(form, "role"),
        "department": Some(field(form, "department")).filter(|s| !s.is_empty()),
        "user_group": Some(field(form, "user_group")).filter(|s| !s.is_empty()),
    })
}

pub async fn add_member(Path(id): Path<String>, Posted { ui, form }: Posted<Fields>) -> Response {
    let mut body = json!({
        "name": field(&form, "name"),
        "email": field(&form, "email"),
        "organisation": field(&form, "organisation"),
        "roles": if field(&form, "role").is_empty() { json!([]) } else { json!([assignment(&form)]) },
    });
    let user = field(&form, "user");
    if !user.is_empty()
        && let Some(map) = body.as_object_mut()
    {
        map.insert("user".into(), json!(user));
    }
    let result = ui
        .authed
        .crm
        .add_member(&ui.authed.principal, &id, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/group"), result)
}

/// Add a role to a member, or take one away (`remove` = its index).
pub async fn member_roles(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = async {
        let (state, _) = ui.authed.crm.project_state(&ui.authed.principal, &id).await?;
        let member = state.member(n).ok_or_else(|| Error::not_found("no such member"))?;
        let mut roles = serde_json::to_value(&member.roles).map_err(|e| Error::internal(e.to_string()))?;
        if let Some(list) = roles.as_array_mut() {
            match field(&form, "remove").parse::<usize>() {
                Ok(i) if i < list.len() => {
                    list.remove(i);
                }
                _ => list.push(assignment(&form)),
            }
        }
        let body = json!({"version": form_number(&form, "version")?, "roles": roles});
        ui.authed
            .crm
            .update_member(&ui.authed.principal, &id, n, body)
            .await
            .map(|_| ())
    }
    .await;
    back(&ui, &format!("/projects/{id}/group"), result)
}

pub async fn remove_member(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = match form_number(&form, "version") {
        Ok(v) => ui.authed.crm.remove_member(&ui.authed.principal, &id, n, v).await,
        Err(e) => Err(e),
    };
    back(&ui, &format!("/projects/{id}/group"), result)
}

pub async fn confirm_roles(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let result = match form_number(&form, "version") {
        Ok(v) => ui
            .authed
            .crm
            .confirm_roles(&ui.authed.principal, &id, n, v)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    back(&ui, &format!("/projects/{id}/group"), result)
}

pub async fn review_role(Path((id, n)): Path<(String, u32)>, Posted { ui, form }: Posted<Fields>) -> Response {
    let rating: u64 = field(&form, "rating").parse().unwrap_or(0);
    let body = json!({"rating": rating, "text": field(&form, "text")});
    let result = ui
        .authed
        .crm
        .review_role(&ui.authed.principal, &id, n, body)
        .await
        .map(|_| ());
    back(&ui, &format!("/projects/{id}/group"), result)
}
