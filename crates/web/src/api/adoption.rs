//! `/adoption`: usage per user, scored against their team, for the user themselves, the lead
//! of their team and administrators; the tiers' weights; counting usage now; teams' leads.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::adoption::{AdoptionBoard, Expectation, Measured, PlannedSupport, UserAdoption, WeakRules, Weights};
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post, put};
use serde_json::Value as JsonValue;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/adoption", get(board))
        .route("/adoption/users/{id}", get(user))
        .route("/adoption/users/{id}/support", post(plan_support))
        .route("/adoption/rules", get(rules).put(set_rules))
        .route("/adoption/expectations", get(expectations).put(set_expectation))
        .route("/adoption/expectations/mine", get(my_expectations))
        .route("/adoption/expectations/{id}", axum::routing::delete(delete_expectation))
        .route("/adoption/weights", get(weights).put(set_weights))
        .route("/adoption/measure", post(measure))
        .route("/teams/{id}/lead", put(set_lead))
}

async fn board(a: Authed) -> ApiResult<Json<AdoptionBoard>> {
    Ok(Json(a.crm.adoption_board(&a.principal).await?))
}

async fn user(a: Authed, Path(id): Path<String>) -> ApiResult<Json<UserAdoption>> {
    Ok(Json(a.crm.user_adoption(&a.principal, &id).await?))
}

/// Plan extra support for a weak user: a task for the key user of their team.
async fn plan_support(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(axum::http::StatusCode, Json<PlannedSupport>)> {
    let planned = a.crm.plan_support(&a.principal, &id, body).await?;
    Ok((axum::http::StatusCode::CREATED, Json(planned)))
}

async fn rules(a: Authed) -> ApiResult<Json<WeakRules>> {
    a.crm
        .authorize(&a.principal, anchora_core::auth::Permission::ReadRecords)
        .await?;
    Ok(Json(a.crm.adoption_rules().await?))
}

async fn set_rules(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<WeakRules>> {
    Ok(Json(a.crm.set_adoption_rules(&a.principal, body).await?))
}

async fn expectations(a: Authed) -> ApiResult<Json<JsonValue>> {
    let list = a.crm.expectations(&a.principal).await?;
    Ok(Json(serde_json::json!({"data": list})))
}

async fn set_expectation(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<Expectation>> {
    Ok(Json(a.crm.set_expectation(&a.principal, body).await?))
}

async fn my_expectations(a: Authed) -> ApiResult<Json<JsonValue>> {
    let list: Vec<Measured> = a.crm.my_expectations(&a.principal).await?;
    Ok(Json(serde_json::json!({"data": list})))
}

async fn delete_expectation(a: Authed, Path(id): Path<String>) -> ApiResult<axum::http::StatusCode> {
    a.crm.delete_expectation(&a.principal, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn weights(a: Authed) -> ApiResult<Json<Weights>> {
    a.crm
        .authorize(&a.principal, anchora_core::auth::Permission::ReadRecords)
        .await?;
    Ok(Json(a.crm.adoption_weights().await?))
}

async fn set_weights(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<Weights>> {
    Ok(Json(a.crm.set_adoption_weights(&a.principal, body).await?))
}

/// Count usage now, as a job: 202 with the job.
async fn measure(a: Authed, JsonBody(body): JsonBody) -> ApiResult<axum::response::Response> {
    let job = a.crm.start_usage_measure(&a.principal, body).await?;
    Ok(super::jobs::accepted(&job))
}

async fn set_lead(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    Ok(Json(a.crm.set_team_lead(&a.principal, &id, body).await?))
}
