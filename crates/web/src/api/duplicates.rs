//! `/duplicates`: scan an object for likely duplicates, review the queue, dismiss a pair; and
//! the check a form makes before it saves a new record.

use crate::AppState;
use crate::extract::{Authed, JsonBody, QueryMap};
use crate::problem::ApiResult;
use anchora_core::dedupe::DEFAULT_COUNTRY;
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/duplicates/{object}", get(queue))
        .route("/duplicates/{object}/scan", post(scan))
        .route("/duplicates/{object}/{a}/{b}/dismiss", post(dismiss))
        .route("/records/{object}/possible-duplicates", post(possible))
        .route("/records/{object}/merge", post(merge))
        .route("/merges/{id}/undo", post(undo))
}

/// The calling code for numbers written without one (`?country=49`), digits only.
fn country(q: &std::collections::HashMap<String, String>) -> String {
    q.get("country")
        .map(|c| c.chars().filter(char::is_ascii_digit).take(3).collect::<String>())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| DEFAULT_COUNTRY.to_string())
}

/// Queue a scan (202 with the job): at a million records it takes many seconds.
async fn scan(a: Authed, Path(object): Path<String>, QueryMap(q): QueryMap) -> ApiResult<axum::response::Response> {
    let job = a
        .crm
        .start_duplicate_scan(&a.principal, &object, Some(&country(&q)))
        .await?;
    Ok(super::jobs::accepted(&job))
}

async fn queue(a: Authed, Path(object): Path<String>, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let limit = anchora_core::query::parse_limit(q.get("limit").map(String::as_str))?;
    let (_, def) = a.crm.object(&object).await?;
    let pairs = a.crm.duplicate_queue(&a.principal, &object, limit).await?;
    let data: Vec<JsonValue> = pairs
        .iter()
        .map(|(p, x, y)| {
            json!({"score": p.score, "reasons": p.reasons, "found_at": p.found_at,
                   "a": x.to_json(&def), "b": y.to_json(&def)})
        })
        .collect();
    Ok(Json(json!({"data": data})))
}

async fn dismiss(a: Authed, Path((object, x, y)): Path<(String, String, String)>) -> ApiResult<Json<JsonValue>> {
    a.crm.dismiss_duplicate(&a.principal, &object, &x, &y).await?;
    Ok(Json(json!({"dismissed": true})))
}

async fn possible(a: Authed, Path(object): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let (_, def) = a.crm.object(&object).await?;
    let matches = a.crm.possible_duplicates(&a.principal, &object, &body).await?;
    let data: Vec<JsonValue> = matches
        .iter()
        .map(|m| json!({"score": m.score, "reasons": m.reasons, "record": m.record.to_json(&def)}))
        .collect();
    Ok(Json(json!({"data": data})))
}

async fn merge(a: Authed, Path(object): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let entry = a.crm.merge(&a.principal, &object, body).await?;
    Ok(Json(serde_json::to_value(&entry).unwrap_or_default()))
}

async fn undo(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let entry = a.crm.undo_merge(&a.principal, &id).await?;
    Ok(Json(serde_json::to_value(&entry).unwrap_or_default()))
}
