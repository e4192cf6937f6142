//! `/dashboards`: dashboards kept under a name (personal, or shared with an audience of
//! roles), each viewed for a period and a scope; `/dashboards/home`, the one a reader opens by
//! default.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::dashboards::{DashboardRun, DashboardView};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboards", get(list).post(create))
        .route("/dashboards/home", get(home))
        .route("/dashboards/{id}", get(one).patch(change).delete(delete))
        .route("/dashboards/{id}/view", get(view))
}

/// The query as pairs, so a repeated or unknown parameter is read, never refused as text.
type Pairs = Vec<(String, String)>;

fn param<'a>(q: &'a Pairs, key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

async fn list(a: Authed) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!({"data": a.crm.dashboards(&a.principal).await?})))
}

async fn create(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<DashboardView>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.create_dashboard(&a.principal, body).await?),
    ))
}

async fn one(a: Authed, Path(id): Path<String>) -> ApiResult<Json<DashboardView>> {
    Ok(Json(a.crm.dashboard(&a.principal, &id).await?))
}

async fn change(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<DashboardView>> {
    Ok(Json(a.crm.change_dashboard(&a.principal, &id, body).await?))
}

async fn delete(a: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    a.crm.delete_dashboard(&a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn view(a: Authed, Path(id): Path<String>, Query(q): Query<Pairs>) -> ApiResult<Json<DashboardRun>> {
    let run = a
        .crm
        .view_dashboard(&a.principal, &id, param(&q, "period"), param(&q, "scope"))
        .await?;
    Ok(Json(run))
}

async fn home(a: Authed, Query(q): Query<Pairs>) -> ApiResult<Json<DashboardRun>> {
    let run = a
        .crm
        .view_home_dashboard(&a.principal, param(&q, "period"), param(&q, "scope"))
        .await?;
    Ok(Json(run))
}
