//! `/consent-purposes` and a person's `/consents`: consent per purpose, with its history.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::consent::{ConsentEvent, PersonConsents, Purpose};
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/consent-purposes", get(purposes).post(add_purpose))
        .route("/records/{object}/{id}/consents", get(consents).post(record))
}

async fn purposes(a: Authed) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!({"data": a.crm.purposes(&a.principal).await?})))
}

async fn add_purpose(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<Purpose>)> {
    Ok((StatusCode::CREATED, Json(a.crm.add_purpose(&a.principal, body).await?)))
}

async fn consents(a: Authed, Path((object, id)): Path<(String, String)>) -> ApiResult<Json<PersonConsents>> {
    Ok(Json(a.crm.person_consents(&a.principal, &object, &id).await?))
}

async fn record(
    a: Authed,
    Path((object, id)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<ConsentEvent>)> {
    let event = a.crm.record_consent(&a.principal, &object, &id, body).await?;
    Ok((StatusCode::CREATED, Json(event)))
}
