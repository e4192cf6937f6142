//! Accounts and safety under `/api/v1`: the caller, users, teams, tokens, the access policy,
//! the audit and change logs, and the GDPR's export and erasure.

use crate::AppState;
use crate::extract::{Authed, JsonBody, QueryMap};
use crate::problem::ApiResult;
use anchora_core::accounts::Origin;
use anchora_core::audit::{AuditQuery, ChangeQuery};
use anchora_core::auth::Credential;
use anchora_core::gdpr::check_person_id;
use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value as JsonValue, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/me/password", post(change_password))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", get(get_user).patch(update_user))
        .route("/teams", get(list_teams).post(create_team))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/access-policy", get(get_policy).put(put_policy))
        .route("/audit", get(audit))
        .route("/changes", get(changes))
        .route("/gdpr/person/{id}", get(export_person))
        .route("/gdpr/person/{id}/erase", post(erase_person))
}

fn origin(a: &Authed) -> Origin {
    Origin {
        ip: a.client.ip.clone(),
    }
}

async fn me(a: Authed) -> ApiResult<Json<JsonValue>> {
    let user = a.crm.me(&a.principal).await?;
    let mut body = user.to_json();
    if let Some(map) = body.as_object_mut() {
        map.insert("workspace".into(), json!(a.workspace));
        map.insert("scope".into(), json!(a.principal.scope));
        let via = match a.principal.credential {
            Credential::Token(_) => "token",
            Credential::Session => "session",
            Credential::Local => "local",
        };
        map.insert("authenticated_by".into(), json!(via));
        if let Some(s) = &a.session {
            map.insert("csrf_token".into(), json!(s.csrf_token));
        }
    }
    Ok(Json(body))
}

async fn change_password(a: Authed, JsonBody(body): JsonBody) -> ApiResult<StatusCode> {
    let keep = a.session.as_ref().map(|s| s.id_hash.clone());
    a.crm
        .change_password(&a.principal, body, keep.as_deref(), &origin(&a))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_users(a: Authed) -> ApiResult<Json<JsonValue>> {
    let users = a.crm.users(&a.principal).await?;
    Ok(Json(
        json!({"data": users.iter().map(|u| u.to_json()).collect::<Vec<_>>()}),
    ))
}

async fn create_user(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let user = a.crm.create_user(&a.principal, body, &origin(&a)).await?;
    Ok((StatusCode::CREATED, Json(user.to_json())))
}

async fn get_user(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    Ok(Json(a.crm.user(&a.principal, &id).await?.to_json()))
}

async fn update_user(a: Authed, Path(id): Path<String>, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    let user = a.crm.update_user(&a.principal, &id, body, &origin(&a)).await?;
    Ok(Json(user.to_json()))
}

async fn list_teams(a: Authed) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!({"data": a.crm.teams(&a.principal).await?})))
}

async fn create_team(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let team = a.crm.create_team(&a.principal, body, &origin(&a)).await?;
    Ok((StatusCode::CREATED, Json(json!(team))))
}

async fn list_tokens(a: Authed, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let all = q.get("all").is_some_and(|v| v == "true" || v == "1");
    let tokens = a.crm.tokens(&a.principal, all).await?;
    Ok(Json(
        json!({"data": tokens.iter().map(|t| t.to_json()).collect::<Vec<_>>()}),
    ))
}

/// The secret is in the answer once and never again.
async fn create_token(a: Authed, JsonBody(body): JsonBody) -> ApiResult<(StatusCode, Json<JsonValue>)> {
    let (token, secret) = a.crm.create_token(&a.principal, body, &origin(&a)).await?;
    let mut out = token.to_json();
    if let Some(map) = out.as_object_mut() {
        map.insert("token".into(), json!(secret));
    }
    Ok((StatusCode::CREATED, Json(out)))
}

async fn revoke_token(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    let token = a.crm.revoke_token(&a.principal, &id, &origin(&a)).await?;
    Ok(Json(token.to_json()))
}

async fn get_policy(a: Authed) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!(a.crm.access_policy(&a.principal).await?)))
}

async fn put_policy(a: Authed, JsonBody(body): JsonBody) -> ApiResult<Json<JsonValue>> {
    Ok(Json(json!(
        a.crm.set_access_policy(&a.principal, body, &origin(&a)).await?
    )))
}

async fn audit(a: Authed, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let query = AuditQuery::parse(&q)?;
    let events = a.crm.audit_log(&a.principal, &query).await?;
    let next = (events.len() == query.limit as usize)
        .then(|| events.last().map(|e| e.seq))
        .flatten();
    Ok(Json(json!({
        "data": events.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

async fn changes(a: Authed, QueryMap(q): QueryMap) -> ApiResult<Json<JsonValue>> {
    let query = ChangeQuery::parse(&q)?;
    let changes = a.crm.change_log(&a.principal, &query).await?;
    let next = (changes.len() == query.limit as usize)
        .then(|| changes.last().map(|c| c.seq))
        .flatten();
    Ok(Json(json!({
        "data": changes.iter().map(|c| {
            let mut j = c.to_json();
            if let Some(m) = j.as_object_mut() {
                m.insert("object".into(), json!(c.object));
                m.insert("record_id".into(), json!(c.record_id.to_string()));
            }
            j
        }).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

async fn export_person(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    check_person_id(&id)?;
    Ok(Json(
        a.crm.export_person(&a.principal, &id, a.client.ip.as_deref()).await?,
    ))
}

async fn erase_person(a: Authed, Path(id): Path<String>) -> ApiResult<Json<JsonValue>> {
    check_person_id(&id)?;
    Ok(Json(
        a.crm.erase_person(&a.principal, &id, a.client.ip.as_deref()).await?,
    ))
}
