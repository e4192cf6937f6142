//! `/jobs`: long work on the queue — the jobs a caller may see, one job's progress, cancel.
//! Endpoints that start long work (a duplicate scan, "measure now", an import) answer
//! `202 Accepted` with the job and its address in `Location`.

use crate::AppState;
use crate::extract::{Authed, QueryMap};
use crate::problem::ApiResult;
use anchora_core::jobs::JobView;
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/jobs", get(list))
        .route("/jobs/{id}", get(one))
        .route("/jobs/{id}/cancel", post(cancel))
        .route("/jobs/{id}/file", get(file))
}

/// A job just queued: 202, its address, and the job.
pub fn accepted(view: &JobView) -> Response {
    let location = format!("/api/v1/jobs/{}", view.job.id);
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(serde_json::to_value(view).unwrap_or_default()),
    )
        .into_response()
}

async fn list(a: Authed, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let limit = anchora_core::query::parse_limit(q.get("limit").map(String::as_str))?;
    let jobs = a.crm.jobs(&a.principal, Some(limit)).await?;
    Ok(Json(json!({"data": jobs})))
}

async fn one(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JobView>> {
    Ok(Json(a.crm.job(&a.principal, &id).await?))
}

/// The file a job made (an export), once it succeeded.
async fn file(a: Authed, Path(id): Path<String>) -> ApiResult<Response> {
    super::imports::job_file_response(&a.crm, &a.principal, &id).await
}

async fn cancel(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JobView>> {
    Ok(Json(a.crm.cancel_job(&a.principal, &id).await?))
}
