//! `/reports`: reports run from a spec sent whole, and reports kept under a name (run,
//! exported as CSV or XLSX); `/time-zone`, where the workspace's days begin.

use crate::AppState;
use crate::api::imports::file_response;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::export::Format;
use anchora_core::reports::{ReportResult, ReportView, Subscription};
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list).post(save))
        .route("/reports/run", post(run))
        .route("/reports/{id}", get(one).patch(change).delete(remove))
        .route("/reports/{id}/result", get(result))
        .route("/reports/{id}/export", get(export))
        .route("/reports/{id}/subscriptions", get(subscriptions).put(subscribe))
        .route("/reports/{id}/subscriptions/{user}", delete(unsubscribe))
        .route("/time-zone", get(time_zone).put(set_time_zone))
}

async fn list(a: Authed) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!({"data": a.crm.saved_reports(&a.principal).await?})))
}

async fn save(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<ReportView>)> {
    Ok((StatusCode::CREATED, Json(a.crm.save_report(&a.principal, body).await?)))
}

async fn run(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<ReportResult>> {
    Ok(Json(a.crm.run_report_body(&a.principal, body).await?))
}

async fn one(a: Authed, Path(id): Path<String>) -> ApiResult<Json<ReportView>> {
    Ok(Json(a.crm.saved_report(&a.principal, &id).await?))
}

async fn change(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<ReportView>> {
    Ok(Json(a.crm.change_report(&a.principal, &id, body).await?))
}

async fn remove(a: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    a.crm.delete_report(&a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn result(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let (report, result) = a.crm.run_saved_report(&a.principal, &id).await?;
    Ok(Json(json!({"report": report, "result": result})))
}

/// The query as pairs: a repeated or odd parameter is read, never refused as plain text.
async fn export(a: Authed, Path(id): Path<String>, Query(q): Query<Vec<(String, String)>>) -> ApiResult<Response> {
    let asked = q.iter().find(|(k, _)| k == "format").map_or("csv", |(_, v)| v.as_str());
    let format = Format::parse(asked)?;
    let (name, bytes) = a.crm.saved_report_file(&a.principal, &id, format).await?;
    Ok(file_response(Body::from(bytes), format, &name))
}

async fn subscriptions(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    Ok(Json(
        json!({"data": a.crm.report_subscriptions(&a.principal, &id).await?}),
    ))
}

async fn subscribe(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<Subscription>> {
    Ok(Json(a.crm.subscribe_report(&a.principal, &id, body).await?))
}

async fn unsubscribe(a: Authed, Path((id, user)): Path<(String, String)>) -> ApiResult<StatusCode> {
    a.crm.unsubscribe_report(&a.principal, &id, Some(&user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn time_zone(a: Authed) -> ApiResult<Json<JsonValue>> {
    let setting = a.crm.time_zone_for(&a.principal).await?;
    Ok(Json(serde_json::to_value(setting).unwrap_or_default()))
}

async fn set_time_zone(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let setting = a.crm.set_time_zone(&a.principal, body).await?;
    Ok(Json(serde_json::to_value(setting).unwrap_or_default()))
}
