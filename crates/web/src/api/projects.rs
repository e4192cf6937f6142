//! Implementation projects under `/api/v1/projects`: the project whole with its verdicts
//! (health, rule of thirds, budget, critical path, forecast), and each of its parts.

use crate::AppState;
use crate::extract::{Authed, JsonBody, QueryMap};
use crate::problem::ApiResult;
use anchora_core::Error;
use anchora_core::project::model::PackageState;
use anchora_core::project::{ProjectRights, ProjectState};
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde_json::{Value as Json_, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route("/projects/{id}", get(show).patch(update))
        .route("/projects/{id}/members", post(add_member))
        .route("/projects/{id}/members/{n}", delete(remove_member).patch(update_member))
        .route("/projects/{id}/members/{n}/confirm", post(confirm))
        .route("/projects/{id}/members/{n}/review", post(review))
        .route("/projects/{id}/tasks", post(add_task))
        .route("/projects/{id}/tasks/{n}", delete(delete_task).patch(update_task))
        .route("/projects/{id}/dependencies", post(add_dependency))
        .route(
            "/projects/{id}/dependencies/{before}/{after}",
            delete(remove_dependency),
        )
        .route("/projects/{id}/work-packages", post(add_package))
        .route("/projects/{id}/work-packages/{n}/state", post(move_package))
        .route("/project-roles", get(roles).post(add_role))
}

fn to_json<T: serde::Serialize>(v: &T) -> ApiResult<Json_> {
    serde_json::to_value(v).map_err(|e| Error::internal(e.to_string()).into())
}

/// The project whole, with everything computed from it on `today`.
pub fn project_json(state: &ProjectState, rights: ProjectRights, today: chrono::NaiveDate) -> ApiResult<Json_> {
    let schedule = state.schedule().ok();
    let thirds = state.thirds();
    Ok(json!({
        "project": to_json(&state.project)?,
        "rights": to_json(&rights)?,
        "members": to_json(&state.members)?,
        "tasks": to_json(&state.tasks)?,
        "dependencies": to_json(&state.dependencies)?,
        "work_packages": to_json(&state.packages)?,
        "catalogue": to_json(&state.catalogue)?,
        "health": to_json(&state.health())?,
        "thirds": {
            "verdict": to_json(&thirds)?,
            "planned_shares": thirds.planned.shares(),
            "actual_shares": thirds.actual.shares(),
        },
        "budget": to_json(&state.budget())?,
        "critical_path": schedule.as_ref().map(|s| s.critical.clone()),
        "scheduled_finish": schedule.and_then(|s| s.finish),
        "forecast": to_json(&state.forecast(today))?,
        "overdue_tasks": state.overdue(today),
    }))
}

/// A number in the path; anything else is a missing item.
fn number(n: &str) -> ApiResult<u32> {
    n.parse()
        .map_err(|_| Error::not_found(format!("no item {n:?} in the project")).into())
}

/// `?version=N` for deletes, which carry no body.
fn version(q: &std::collections::HashMap<String, String>) -> ApiResult<i64> {
    q.get("version").and_then(|v| v.parse().ok()).ok_or_else(|| {
        Error::new(
            anchora_core::ErrorCode::PreconditionRequired,
            "name the version you delete (?version=N)",
        )
        .into()
    })
}

async fn list(a: Authed) -> ApiResult<Json<Json_>> {
    let projects = a.crm.projects(&a.principal).await?;
    Ok(Json(json!({ "data": to_json(&projects)? })))
}

async fn create(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<Json_>)> {
    let p = a.crm.create_project(&a.principal, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&p)?)))
}

async fn show(a: Authed, Path(id): Path<String>) -> ApiResult<Json<Json_>> {
    let (state, rights) = a.crm.project_state(&a.principal, &id).await?;
    let today = a.crm.clock.now().date_naive();
    Ok(Json(project_json(&state, rights, today)?))
}

async fn update(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<Json_>> {
    let p = a.crm.update_project(&a.principal, &id, body).await?;
    Ok(Json(to_json(&p)?))
}

async fn add_member(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Json_>)> {
    let m = a.crm.add_member(&a.principal, &id, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&m)?)))
}

async fn update_member(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Json_>> {
    let m = a.crm.update_member(&a.principal, &id, number(&n)?, body).await?;
    Ok(Json(to_json(&m)?))
}

async fn remove_member(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    QueryMap(q): QueryMap,
) -> ApiResult<StatusCode> {
    a.crm
        .remove_member(&a.principal, &id, number(&n)?, version(&q)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfirmBody {
    /// The member's version whose roles are confirmed.
    version: i64,
}

async fn confirm(a: Authed, Path((id, n)): Path<(String, String)>, JsonBody(body): JsonBody) -> ApiResult<Json<Json_>> {
    let c: ConfirmBody = serde_json::from_value(body).map_err(|e| anchora_core::service::body_error(&e))?;
    let m = a.crm.confirm_roles(&a.principal, &id, number(&n)?, c.version).await?;
    Ok(Json(to_json(&m)?))
}

async fn review(a: Authed, Path((id, n)): Path<(String, String)>, JsonBody(body): JsonBody) -> ApiResult<Json<Json_>> {
    let m = a.crm.review_role(&a.principal, &id, number(&n)?, body).await?;
    Ok(Json(to_json(&m)?))
}

async fn add_task(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<Json_>)> {
    let t = a.crm.add_task(&a.principal, &id, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&t)?)))
}

async fn update_task(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Json_>> {
    let t = a.crm.update_task(&a.principal, &id, number(&n)?, body).await?;
    Ok(Json(to_json(&t)?))
}

async fn delete_task(a: Authed, Path((id, n)): Path<(String, String)>, QueryMap(q): QueryMap) -> ApiResult<StatusCode> {
    a.crm.delete_task(&a.principal, &id, number(&n)?, version(&q)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DependencyBody {
    before: u32,
    after: u32,
}

async fn add_dependency(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Json_>)> {
    let d: DependencyBody = serde_json::from_value(body).map_err(|e| anchora_core::service::body_error(&e))?;
    let dep = a.crm.add_dependency(&a.principal, &id, d.before, d.after).await?;
    Ok((StatusCode::CREATED, Json(to_json(&dep)?)))
}

async fn remove_dependency(
    a: Authed,
    Path((id, before, after)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    a.crm
        .remove_dependency(&a.principal, &id, number(&before)?, number(&after)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_package(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Json_>)> {
    let p = a.crm.add_work_package(&a.principal, &id, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&p)?)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveBody {
    state: PackageState,
    #[serde(default)]
    comment: String,
    version: i64,
}

async fn move_package(
    a: Authed,
    Path((id, n)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Json_>> {
    let m: MoveBody = serde_json::from_value(body).map_err(|e| anchora_core::service::body_error(&e))?;
    let p = a
        .crm
        .move_work_package(&a.principal, &id, number(&n)?, m.state, &m.comment, m.version)
        .await?;
    Ok(Json(to_json(&p)?))
}

async fn roles(a: Authed) -> ApiResult<Json<Json_>> {
    a.crm
        .authorize(&a.principal, anchora_core::auth::Permission::ReadRecords)
        .await?;
    Ok(Json(json!({ "data": to_json(&a.crm.project_catalogue().await?)? })))
}

async fn add_role(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<Json_>)> {
    let r = a.crm.add_project_role(&a.principal, body).await?;
    Ok((StatusCode::CREATED, Json(to_json(&r)?)))
}
