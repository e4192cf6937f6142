//! `/selections`: sets of one object's records, picked by hand and by filter, with others
//! added and suppression lists taken away; counted as they are built.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::selections::SelectionView;
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/selections", get(list).post(create))
        .route("/selections/preview", post(preview))
        .route("/selections/{id}", get(one).delete(delete))
        .route("/selections/{id}/members", get(members).post(add))
        .route("/selections/{id}/members/remove", post(remove))
}

async fn list(a: Authed) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!({"data": a.crm.list_selections(&a.principal).await?})))
}

async fn create(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<SelectionView>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.create_selection(&a.principal, body).await?),
    ))
}

async fn preview(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    Ok(Json(
        json!({"count": a.crm.preview_selection(&a.principal, body).await?}),
    ))
}

async fn one(a: Authed, Path(id): Path<String>) -> ApiResult<Json<SelectionView>> {
    Ok(Json(a.crm.get_selection(&a.principal, &id).await?))
}

async fn delete(a: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    a.crm.delete_selection(&a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn members(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!({"data": a.crm.selection_members(&a.principal, &id).await?})))
}

async fn add(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<SelectionView>> {
    Ok(Json(a.crm.pick_members(&a.principal, &id, body, false).await?))
}

async fn remove(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<SelectionView>> {
    Ok(Json(a.crm.pick_members(&a.principal, &id, body, true).await?))
}
