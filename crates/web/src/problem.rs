//! RFC 9457 problem details: every error leaves the server as `application/problem+json` with a
//! stable `code`.

use anchora_core::{Error, ErrorCode};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// The API's error type: a domain error on its way out.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError(Error::new(code, detail))
    }
}

pub fn problem_body(e: &Error) -> serde_json::Value {
    let (code, status, title) = e.code.describe();
    let mut body = json!({
        "type": format!("urn:anchora:problem:{code}"),
        "title": title,
        "status": status,
        "detail": e.detail,
        "code": code,
    });
    if let Some(map) = body.as_object_mut() {
        if !e.errors.is_empty() {
            map.insert("errors".into(), serde_json::to_value(&e.errors).unwrap_or_default());
        }
        if let Some(current) = &e.current {
            map.insert("current".into(), (**current).clone());
        }
        if let Some(existing) = &e.existing {
            map.insert("existing".into(), serde_json::to_value(existing).unwrap_or_default());
        }
        // Which request this was (RFC 9457's `instance`): the id in the response's
        // `x-request-id` and in the server's log lines for it.
        if let Some(id) = crate::ops::request::current() {
            map.insert("instance".into(), id.urn().into());
        }
    }
    body
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = problem_body(&self.0).to_string();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.0.code == ErrorCode::Unauthenticated {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"anchora\""),
            );
        }
        if let Some(seconds) = self.0.retry_after
            && let Ok(v) = HeaderValue::from_str(&seconds.to_string())
        {
            headers.insert(header::RETRY_AFTER, v);
        }
        if self.0.code == ErrorCode::VersionConflict
            && let Some(v) = self
                .0
                .current
                .as_ref()
                .and_then(|c| c.get("version"))
                .and_then(serde_json::Value::as_i64)
            && let Ok(etag) = HeaderValue::from_str(&format!("\"{v}\""))
        {
            headers.insert(header::ETAG, etag);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
