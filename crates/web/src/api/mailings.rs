//! `/mailings`: a template sent to a selection of people for one consent purpose, as a job on
//! the queue: started, paused, resumed, cancelled; its recipients with their status.

use crate::AppState;
use crate::extract::{Authed, JsonBody, QueryMap};
use crate::problem::ApiResult;
use anchora_core::mailings::{MailingView, RecipientPage};
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/mailings", get(list).post(create))
        .route("/mailings/{id}", get(one).put(update).delete(delete))
        .route("/mailings/{id}/start", post(start))
        .route("/mailings/{id}/pause", post(pause))
        .route("/mailings/{id}/resume", post(resume))
        .route("/mailings/{id}/cancel", post(cancel))
        .route("/mailings/{id}/resend-uncertain", post(resend_uncertain))
        .route("/mailings/{id}/recipients", get(recipients))
        .route("/mailings/{id}/changes", get(changes))
}

async fn list(a: Authed) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!({"data": a.crm.list_mailings(&a.principal).await?})))
}

async fn create(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<MailingView>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.create_mailing(&a.principal, body).await?),
    ))
}

async fn one(a: Authed, Path(id): Path<String>) -> ApiResult<Json<MailingView>> {
    Ok(Json(a.crm.get_mailing(&a.principal, &id).await?))
}

async fn update(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MailingView>> {
    Ok(Json(a.crm.update_mailing(&a.principal, &id, body).await?))
}

async fn delete(a: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    a.crm.delete_mailing(&a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn start(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MailingView>> {
    Ok(Json(a.crm.start_mailing(&a.principal, &id, body).await?))
}

async fn pause(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MailingView>> {
    Ok(Json(a.crm.pause_mailing(&a.principal, &id, body).await?))
}

async fn resume(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MailingView>> {
    Ok(Json(a.crm.resume_mailing(&a.principal, &id, body).await?))
}

async fn cancel(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MailingView>> {
    Ok(Json(a.crm.cancel_mailing(&a.principal, &id, body).await?))
}

async fn resend_uncertain(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<MailingView>> {
    Ok(Json(a.crm.resend_uncertain(&a.principal, &id, body).await?))
}

async fn recipients(a: Authed, Path(id): Path<String>, QueryMap(q): QueryMap) -> ApiResult<Json<RecipientPage>> {
    let limit = q
        .get("limit")
        .map(|l| {
            l.parse::<u32>()
                .map_err(|_| anchora_core::Error::field("limit", "must be a whole number"))
        })
        .transpose()?;
    Ok(Json(
        a.crm
            .mailing_recipients(
                &a.principal,
                &id,
                q.get("status").map(String::as_str),
                q.get("after").map(String::as_str),
                limit,
            )
            .await?,
    ))
}

async fn changes(a: Authed, Path(id): Path<String>, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let since = q
        .get("since")
        .ok_or_else(|| anchora_core::Error::field("since", "is required: the earlier mailing's id"))?;
    Ok(Json(json!(a.crm.mailing_changes(&a.principal, &id, since).await?)))
}
