//! `/onboarding`: each role's checklist template (administrators change it), a user's checklist
//! (the user, their team's key users and lead, administrators; 404 for anyone else), ticking a
//! manual step, and starting a checklist for someone who has none.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::Error;
use anchora_core::onboarding::{ChecklistView, OnboardingBoard, Template};
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, put};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/onboarding", get(board))
        .route("/onboarding/templates", get(templates))
        .route("/onboarding/templates/{role}", put(set_template))
        .route("/onboarding/users/{id}", get(checklist).post(start))
        .route("/onboarding/users/{id}/steps/{number}", put(tick))
}

async fn board(a: Authed) -> ApiResult<Json<OnboardingBoard>> {
    Ok(Json(a.crm.onboarding_board(&a.principal).await?))
}

async fn templates(a: Authed) -> ApiResult<Json<JsonValue>> {
    let list: Vec<Template> = a.crm.onboarding_templates(&a.principal).await?;
    Ok(Json(json!({ "data": list })))
}

async fn set_template(a: Authed, Path(role): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<Template>> {
    Ok(Json(a.crm.set_onboarding_template(&a.principal, &role, body).await?))
}

async fn checklist(a: Authed, Path(id): Path<String>) -> ApiResult<Json<ChecklistView>> {
    Ok(Json(a.crm.checklist(&a.principal, &id).await?))
}

/// Start a checklist for a user who has none (administrators): 201.
async fn start(a: Authed, Path(id): Path<String>) -> ApiResult<(StatusCode, Json<ChecklistView>)> {
    let view = a.crm.start_checklist(&a.principal, &id).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn tick(
    a: Authed,
    Path((id, number)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<ChecklistView>> {
    let number: u32 = number.parse().map_err(|_| Error::not_found("no such step"))?;
    Ok(Json(a.crm.tick_step(&a.principal, &id, number, body).await?))
}
