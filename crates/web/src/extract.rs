//! Extractors: the authenticated caller with their workspace's CRM, JSON bodies, query strings,
//! and `If-Match`. Each refuses bad input with a problem, never a panic or a plain-text error.

use crate::AppState;
use crate::problem::ApiError;
use anchora_core::auth::{Principal, hash_token, token_workspace};
use anchora_core::service::Crm;
use anchora_core::{Error, ErrorCode, Store};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes_body::read_body;
use serde_json::Value as Json;
use std::collections::HashMap;

/// Only write `last_used_at` when it is older than this, so reads stay reads.
const TOKEN_TOUCH_SECONDS: i64 = 60;

/// The caller, authenticated by a Bearer token, and the CRM of the token's workspace.
pub struct Authed {
    pub crm: Crm,
    pub principal: Principal,
    pub workspace: String,
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, detail)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| unauthenticated("send an API token as Authorization: Bearer <token>"))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| unauthenticated("the Authorization header must be: Bearer <token>"))?;
        // Every failure below answers the same, so a caller learns nothing about which part was wrong.
        let invalid = || unauthenticated("the token is not valid, has expired or was revoked");
        let workspace = token_workspace(token).ok_or_else(invalid)?;
        let now = state.clock.now();
        let store = state.instance.workspace(workspace, now).await?.ok_or_else(invalid)?;
        let (api_token, user, schema_version) = store.token_by_hash(&hash_token(token)).await?.ok_or_else(invalid)?;
        if !api_token.usable_at(now) || !user.active {
            return Err(invalid());
        }
        let stale = api_token
            .last_used_at
            .is_none_or(|t| (now - t).num_seconds() >= TOKEN_TOUCH_SECONDS);
        if stale {
            store.touch_token(api_token.id, now).await?;
        }
        let principal = Principal {
            user_id: user.id,
            role: user.role,
            token_id: Some(api_token.id),
        };
        let crm = Crm::new(store as std::sync::Arc<dyn Store>, state.clock.clone()).at_schema_version(schema_version);
        Ok(Authed {
            crm,
            principal,
            workspace: workspace.to_string(),
        })
    }
}

/// A JSON body: `application/json`, at most the configured size, any valid JSON value.
pub struct JsonBody(pub Json);

impl FromRequest<AppState> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .is_some_and(|ct| ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json")));
        if !is_json {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as Content-Type: application/json",
            ));
        }
        let bytes = read_body(req).await?;
        let json = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError(Error {
                code: ErrorCode::InvalidJson,
                detail: format!("the body is not valid JSON: {e}"),
                errors: vec![anchora_core::FieldError::new("body", e.to_string())],
                current: None,
            })
        })?;
        Ok(JsonBody(json))
    }
}

mod bytes_body {
    use crate::problem::ApiError;
    use anchora_core::ErrorCode;
    use axum::body::Bytes;
    use axum::extract::Request;

    pub async fn read_body(req: Request) -> Result<Bytes, ApiError> {
        axum::body::to_bytes(req.into_body(), crate::MAX_BODY_BYTES)
            .await
            .map_err(|_| {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the body is larger than {} bytes", crate::MAX_BODY_BYTES),
                )
            })
    }
}

/// Query parameters as a map; a malformed query string is a 400 problem.
pub struct QueryMap(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(map) =
            axum::extract::Query::<HashMap<String, String>>::from_request_parts(parts, state)
                .await
                .map_err(|e| ApiError(Error::field("query", e.body_text())))?;
        Ok(QueryMap(map))
    }
}

/// The version named by `If-Match` (`"3"`, `W/"3"` or `3`), if the header is there.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or("").trim();
        let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
        text.parse::<i64>()
            .ok()
            .filter(|v| *v >= 1)
            .map(|v| IfMatch(Some(v)))
            .ok_or_else(|| {
                ApiError(Error::field(
                    "If-Match",
                    "must be the ETag of the version you are changing, e.g. \"3\"",
                ))
            })
    }
}
