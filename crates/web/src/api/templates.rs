//! `/templates`: e-mail and document templates with merge fields, per language; previewed
//! against a real record, sent to yourself as a test, printed for a record or a selection.

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::templates::{Preview, TemplateView};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/templates", get(list).post(create))
        .route("/templates/{id}", get(one).put(update).delete(delete))
        .route("/templates/{id}/preview", post(preview))
        .route("/templates/{id}/test", post(test_send))
        .route("/templates/{id}/document", post(document))
}

async fn list(a: Authed) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!({"data": a.crm.list_templates(&a.principal).await?})))
}

async fn create(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<TemplateView>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.create_template(&a.principal, body).await?),
    ))
}

async fn one(a: Authed, Path(id): Path<String>) -> ApiResult<Json<TemplateView>> {
    Ok(Json(a.crm.get_template(&a.principal, &id).await?))
}

async fn update(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<TemplateView>> {
    Ok(Json(a.crm.update_template(&a.principal, &id, body).await?))
}

async fn delete(a: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    a.crm.delete_template(&a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn preview(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<Preview>> {
    Ok(Json(a.crm.preview_template(&a.principal, &id, body).await?))
}

async fn test_send(
    a: Authed,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Preview>> {
    Ok(Json(
        a.crm
            .test_send_template(&a.principal, &id, body, state.mailer.as_ref())
            .await?,
    ))
}

async fn document(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    Ok(Json(
        json!({"data": a.crm.render_document(&a.principal, &id, body).await?}),
    ))
}
