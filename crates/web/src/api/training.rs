//! `/training`: courses and their sessions (anyone reads them; administrators and key users
//! keep them), attendance per session, and a user's trainings with when each runs out (seen by
//! the user, their team's key users and lead, and administrators).

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::training::{Course, SessionAttendance, SessionLine, TrainingOverview, UserTrainings};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/training", get(overview))
        .route("/training/courses", get(courses).post(create_course))
        .route("/training/courses/{id}", get(course).put(update_course))
        .route("/training/sessions", get(sessions).post(create_session))
        .route("/training/sessions/{id}", get(session))
        .route(
            "/training/sessions/{id}/attendance",
            get(attendance).put(record_attendance),
        )
        .route("/training/users/{id}", get(user_trainings))
}

async fn overview(a: Authed) -> ApiResult<Json<TrainingOverview>> {
    Ok(Json(a.crm.training_overview(&a.principal).await?))
}

async fn courses(a: Authed) -> ApiResult<Json<JsonValue>> {
    let list: Vec<Course> = a.crm.courses(&a.principal).await?;
    Ok(Json(json!({ "data": list })))
}

async fn create_course(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<Course>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.create_course(&a.principal, body).await?),
    ))
}

async fn course(a: Authed, Path(id): Path<String>) -> ApiResult<Json<Course>> {
    Ok(Json(a.crm.course(&a.principal, &id).await?))
}

async fn update_course(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<Course>> {
    Ok(Json(a.crm.update_course(&a.principal, &id, body).await?))
}

/// The query as pairs: `course` names one course's sessions (empty: every course's).
async fn sessions(a: Authed, Query(q): Query<Vec<(String, String)>>) -> ApiResult<Json<JsonValue>> {
    let course = q.iter().find(|(k, _)| k == "course").map(|(_, v)| v.as_str());
    let list: Vec<SessionLine> = a.crm.training_sessions(&a.principal, course).await?;
    Ok(Json(json!({ "data": list })))
}

async fn create_session(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<SessionLine>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.create_training_session(&a.principal, body).await?),
    ))
}

async fn session(a: Authed, Path(id): Path<String>) -> ApiResult<Json<SessionLine>> {
    Ok(Json(a.crm.training_session(&a.principal, &id).await?))
}

async fn attendance(a: Authed, Path(id): Path<String>) -> ApiResult<Json<SessionAttendance>> {
    Ok(Json(a.crm.session_attendance(&a.principal, &id).await?))
}

async fn record_attendance(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<SessionAttendance>> {
    Ok(Json(a.crm.record_attendance(&a.principal, &id, body).await?))
}

async fn user_trainings(a: Authed, Path(id): Path<String>) -> ApiResult<Json<UserTrainings>> {
    Ok(Json(a.crm.user_trainings(&a.principal, &id).await?))
}
