//! `/currency`: the reporting currency and the exchange rates administrators keep.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use axum::Json;
use axum::Router;
use axum::routing::get;
use serde_json::Value as JsonValue;

pub fn router() -> Router<AppState> {
    Router::new().route("/currency", get(settings).put(set_settings))
}

async fn settings(a: Authed) -> ApiResult<Json<JsonValue>> {
    let settings = a.crm.currency_settings_for(&a.principal).await?;
    Ok(Json(serde_json::to_value(settings).unwrap_or_default()))
}

async fn set_settings(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let settings = a.crm.set_currency_settings(&a.principal, body).await?;
    Ok(Json(serde_json::to_value(settings).unwrap_or_default()))
}
