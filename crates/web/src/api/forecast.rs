//! `/forecast`: the pipeline forecast as the caller may see it; `/quotas`: what owners and
//! teams are to win per period.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::forecast::{Forecast, ForecastParams, Quota};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/forecast", get(forecast))
        .route("/quotas", get(quotas).put(set_quota))
        .route("/quotas/{id}", delete(delete_quota))
}

/// The query as pairs: a repeated or odd parameter is read, never refused as plain text.
async fn forecast(a: Authed, Query(q): Query<Vec<(String, String)>>) -> ApiResult<Json<Forecast>> {
    let params = ForecastParams::from_pairs(&q)?;
    Ok(Json(a.crm.forecast(&a.principal, &params).await?))
}

async fn quotas(a: Authed, Query(q): Query<Vec<(String, String)>>) -> ApiResult<Json<JsonValue>> {
    let list: Vec<Quota> = a.crm.quotas_asked(&a.principal, &q).await?;
    Ok(Json(json!({"data": list})))
}

async fn set_quota(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<Quota>> {
    Ok(Json(a.crm.set_quota(&a.principal, body).await?))
}

async fn delete_quota(a: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    a.crm.delete_quota(&a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
