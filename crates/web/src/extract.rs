//! Extractors: the authenticated caller with their workspace's CRM, JSON bodies, query strings,
//! and `If-Match`. Each refuses bad input with a problem, never a panic or a plain-text error.

use crate::AppState;
use crate::problem::ApiError;
use anchora_core::auth::Principal;
use anchora_core::caller::{self, Caller};
use anchora_core::identity::{Session, User};
use anchora_core::login::Client;
use anchora_core::secret::{constant_time_eq, session_workspace, token_workspace};
use anchora_core::service::Crm;
use anchora_core::{Error, ErrorCode, Store};
use anchora_store::SqlStore;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use bytes_body::read_body;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "anchora_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The caller, authenticated by a Bearer token or a session cookie, and the CRM of its
/// workspace.
pub struct Authed {
    pub crm: Crm,
    pub principal: Principal,
    pub workspace: String,
    pub user: User,
    /// Set when the caller is a browser session.
    pub session: Option<Session>,
    pub client: Client,
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::new(ErrorCode::Unauthenticated, detail)
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
}

/// Where the request came from: the socket's address, or with a trusted proxy the last
/// address it appended to `X-Forwarded-For`.
pub fn client(parts: &Parts, trust_proxy: bool) -> Client {
    let forwarded = trust_proxy
        .then(|| parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.rsplit(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| v.parse::<std::net::IpAddr>().is_ok());
    let socket = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string());
    Client {
        ip: forwarded.or(socket),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(300).collect()),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let authorization = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        if let Some(header) = authorization {
            return by_token(parts, state, header).await;
        }
        let session = authenticate_session(parts, state).await?;
        // A browser's writes must carry the session's CSRF token in a header, which another
        // site's page cannot set.
        if !is_safe(&parts.method) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let expected = session.session.as_ref().map_or("", |s| s.csrf_token.as_str());
            if expected.is_empty() || !constant_time_eq(sent, expected) {
                return Err(ApiError::new(
                    ErrorCode::CsrfFailed,
                    format!("send the session's CSRF token in the {CSRF_HEADER} header"),
                ));
            }
        }
        Ok(session)
    }
}

async fn by_token(parts: &Parts, state: &AppState, header: &str) -> Result<Authed, ApiError> {
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
    let caller = caller::by_token(&*store, token, now).await?.ok_or_else(invalid)?;
    Ok(authed(parts, state, store, workspace, caller))
}

/// The signed-in browser session named by the request's cookie.
pub async fn authenticate_session(parts: &Parts, state: &AppState) -> Result<Authed, ApiError> {
    let missing = || unauthenticated("sign in, or send an API token as Authorization: Bearer <token>");
    let ended = || unauthenticated("the session has ended; sign in again");
    let secret = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(missing)?;
    let workspace = session_workspace(&secret).ok_or_else(ended)?;
    let now = state.clock.now();
    let store = state.instance.workspace(workspace, now).await?.ok_or_else(ended)?;
    let caller = caller::by_session(&*store, &secret, now).await?.ok_or_else(ended)?;
    Ok(authed(parts, state, store, workspace, caller))
}

/// The caller with the CRM of their workspace, at the schema version read with the credential.
fn authed(parts: &Parts, state: &AppState, store: Arc<SqlStore>, workspace: &str, caller: Caller) -> Authed {
    let crm = Crm::new(store as Arc<dyn Store>, state.clock.clone())
        .at_schema_version(caller.schema_version)
        .in_workspace(workspace)
        .with_max_fields(state.max_fields);
    Authed {
        crm,
        principal: caller.principal,
        workspace: workspace.to_string(),
        user: caller.user,
        session: caller.session,
        client: client(parts, state.trust_proxy),
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
                retry_after: None,
                existing: None,
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

/// The version named by `If-Match` (`"3"`, `W/"3"` or `3`), if the header is there. `*`
/// matches any current version (RFC 9110 §13.1.1), so it names none: a delete needs none, a
/// change still asks for one.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let text = value.to_str().unwrap_or("").trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
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
