//! `/quality`: an object's data quality (overall, per owner, per team), each user's fix list,
//! and the rules administrators set.

use crate::AppState;
use crate::extract::{Authed, JsonBody, QueryMap};
use crate::problem::ApiResult;
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/quality-rules", get(rules).put(set_rules))
        .route("/quality/{object}", get(report))
        .route("/quality/{object}/fix-list", get(fix_list))
        .route("/quality/{object}/latest", get(latest))
        .route("/quality/{object}/trend", get(trend))
        .route("/quality/{object}/snapshot", axum::routing::post(snapshot))
}

async fn rules(a: Authed) -> ApiResult<Json<JsonValue>> {
    a.crm
        .authorize(&a.principal, anchora_core::auth::Permission::ReadRecords)
        .await?;
    let rules = a.crm.quality_rules().await?;
    Ok(Json(serde_json::to_value(rules).unwrap_or_default()))
}

async fn set_rules(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let rules = a.crm.set_quality_rules(&a.principal, body).await?;
    Ok(Json(serde_json::to_value(rules).unwrap_or_default()))
}

async fn report(a: Authed, Path(object): Path<String>) -> ApiResult<Json<JsonValue>> {
    let report = a.crm.quality(&a.principal, &object).await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

async fn fix_list(a: Authed, Path(object): Path<String>, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let limit = anchora_core::query::parse_limit(q.get("limit").map(String::as_str))?;
    let (_, def) = a.crm.object(&object).await?;
    let list = a
        .crm
        .fix_list(&a.principal, &object, usize::try_from(limit).unwrap_or(50))
        .await?;
    let data: Vec<JsonValue> = list
        .worst
        .iter()
        .map(|(r, q)| json!({"record": r.to_json(&def), "quality": q}))
        .collect();
    Ok(Json(json!({"data": data, "total": list.total})))
}

/// The newest kept day, as the dashboard shows it.
async fn latest(a: Authed, Path(object): Path<String>) -> ApiResult<Json<JsonValue>> {
    let board = a.crm.quality_board(&a.principal, &object).await?;
    Ok(Json(serde_json::to_value(board).unwrap_or_default()))
}

async fn trend(a: Authed, Path(object): Path<String>, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let days = q.get("days").and_then(|d| d.parse::<u32>().ok()).unwrap_or(90);
    let rows = a.crm.quality_trend(&a.principal, &object, days).await?;
    Ok(Json(json!({"data": rows})))
}

/// Keep today's figures now, as a job (the server also does it once a day): 202 with the job.
async fn snapshot(a: Authed, Path(object): Path<String>) -> ApiResult<axum::response::Response> {
    let job = a.crm.start_quality_measure(&a.principal, &object).await?;
    Ok(super::jobs::accepted(&job))
}
