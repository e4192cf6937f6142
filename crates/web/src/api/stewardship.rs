//! `/stewardship`: the plan (everyone who reads records reads it; administrators change it at
//! the version read), its gaps, the key-user group's adjustment requests (key users and
//! administrators propose, vote and comment; administrators and the plan's decider decide),
//! and answers (published ones for everyone; key users and administrators write them).

use crate::AppState;
use crate::extract::{Authed, JsonBody};
use crate::problem::ApiResult;
use anchora_core::error::Error;
use anchora_core::stewardship::{AnswerHit, Backlog, BacklogOrder, Gap, PlanView, RequestDetail};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stewardship/plan", get(plan).put(update_plan))
        .route("/stewardship/gaps", get(gaps))
        .route("/stewardship/requests", get(requests).post(create_request))
        .route(
            "/stewardship/requests/{id}",
            get(request).put(update_request).delete(delete_request),
        )
        .route("/stewardship/requests/{id}/vote", post(vote).delete(unvote))
        .route("/stewardship/requests/{id}/decide", post(decide))
        .route("/stewardship/requests/{id}/comments", post(comment))
        .route("/stewardship/answers", get(answers).post(create_answer))
        .route("/stewardship/answers/suggest", get(suggest))
        .route("/stewardship/answers/from-question/{id}", post(answer_from_question))
        .route(
            "/stewardship/answers/{id}",
            get(answer).put(update_answer).delete(delete_answer),
        )
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn plan(a: Authed) -> ApiResult<Json<PlanView>> {
    Ok(Json(a.crm.stewardship_plan(&a.principal).await?))
}

async fn update_plan(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<PlanView>> {
    Ok(Json(a.crm.update_stewardship_plan(&a.principal, body).await?))
}

async fn gaps(a: Authed) -> ApiResult<Json<JsonValue>> {
    let list: Vec<Gap> = a.crm.stewardship_gaps(&a.principal).await?;
    Ok(Json(json!({ "data": list })))
}

/// `?sort=priority|votes|newest`.
async fn requests(a: Authed, Query(q): Query<Vec<(String, String)>>) -> ApiResult<Json<Backlog>> {
    let order = BacklogOrder::parse(param(&q, "sort").unwrap_or(""))
        .ok_or_else(|| Error::field("sort", "is priority, votes or newest"))?;
    Ok(Json(a.crm.adjustment_backlog(&a.principal, order).await?))
}

async fn create_request(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<RequestDetail>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.create_adjustment_request(&a.principal, body).await?),
    ))
}

async fn request(a: Authed, Path(id): Path<String>) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(a.crm.adjustment_request(&a.principal, &id).await?))
}

async fn update_request(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(a.crm.update_adjustment_request(&a.principal, &id, body).await?))
}

async fn delete_request(a: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    a.crm.delete_adjustment_request(&a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn vote(a: Authed, Path(id): Path<String>) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(a.crm.vote_adjustment(&a.principal, &id).await?))
}

async fn unvote(a: Authed, Path(id): Path<String>) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(a.crm.unvote_adjustment(&a.principal, &id).await?))
}

async fn decide(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(a.crm.decide_adjustment(&a.principal, &id, body).await?))
}

async fn comment(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<RequestDetail>> {
    Ok(Json(a.crm.comment_adjustment(&a.principal, &id, body).await?))
}

/// `?q=` words to look for, `?language=` whose answers come first.
async fn answers(a: Authed, Query(q): Query<Vec<(String, String)>>) -> ApiResult<Json<JsonValue>> {
    let list: Vec<AnswerHit> = a
        .crm
        .answers(&a.principal, param(&q, "q"), param(&q, "language"))
        .await?;
    Ok(Json(json!({ "data": list })))
}

/// `?text=` what someone is about to ask, `?language=` theirs.
async fn suggest(a: Authed, Query(q): Query<Vec<(String, String)>>) -> ApiResult<Json<JsonValue>> {
    let language = param(&q, "language").unwrap_or("en");
    if !anchora_core::stewardship::LANGUAGES.contains(&language) {
        return Err(Error::field("language", "is one of en, sv, de, da, es").into());
    }
    let list = a
        .crm
        .suggest_answers(&a.principal, param(&q, "text").unwrap_or(""), language)
        .await?;
    Ok(Json(json!({ "data": list })))
}

async fn create_answer(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<AnswerHit>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.create_answer(&a.principal, body).await?),
    ))
}

/// A draft answer from a solved question; the body (`{}` at least) may give title, body,
/// language and category.
async fn answer_from_question(
    a: Authed,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<AnswerHit>)> {
    Ok((
        StatusCode::CREATED,
        Json(a.crm.answer_from_question(&a.principal, &id, body).await?),
    ))
}

async fn answer(a: Authed, Path(id): Path<String>) -> ApiResult<Json<AnswerHit>> {
    Ok(Json(a.crm.answer(&a.principal, &id).await?))
}

async fn update_answer(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<AnswerHit>> {
    Ok(Json(a.crm.update_answer(&a.principal, &id, body).await?))
}

async fn delete_answer(a: Authed, Path(id): Path<String>) -> ApiResult<StatusCode> {
    a.crm.delete_answer(&a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
