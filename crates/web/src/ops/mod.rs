//! Operations: `/healthz` (the process answers), `/readyz` (the database answers and its schema
//! is this build's), `/metrics` (Prometheus text), every request's id and span, and the log's
//! format. None of them needs a session; none shows a secret or a user's data.

pub mod logs;
pub mod metrics;
pub mod request;

pub use logs::LogFormat;
pub use metrics::{observe_jobs, set_job_gauges};
pub use request::{RequestId, request_context};

use crate::AppState;
use crate::problem::ApiError;
use anchora_core::ErrorCode;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::time::Duration;

/// How long `/readyz` waits for the database before it says it is not ready.
const READY_WITHIN: Duration = Duration::from_secs(2);

/// The version of the text format `/metrics` answers in.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
}

/// The process is up and answers: nothing else is asked (a load balancer's liveness probe).
async fn healthz() -> &'static str {
    "ok"
}

/// 200 with the schema version when the main database answers within two seconds and its
/// migrations are the ones this build carries; else 503 problem+json saying which is not so.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.instance.ready(READY_WITHIN).await {
        Ok(version) => Ok(Json(json!({"status": "ready", "schema_version": version}))),
        Err(why) => {
            let mut error = anchora_core::Error::new(ErrorCode::Unavailable, why.to_string());
            error.retry_after = Some(5);
            Err(ApiError(error))
        }
    }
}

/// The metrics in Prometheus text format. Open unless the operator set a token
/// (`ANCHORA_METRICS_TOKEN`), which a scraper then sends as `Authorization: Bearer …`. The
/// pools' gauges are read as the scrape comes.
async fn metrics_text(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = state.metrics_token.as_deref() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !same_secret(given.trim().as_bytes(), token.as_bytes()) {
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "/metrics needs the operator's metrics token as a bearer token",
            ));
        }
    }
    for (workspace, stats) in state.instance.pool_stats().await {
        metrics::set_pool_gauges(&workspace, stats);
    }
    Ok(([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], metrics::render()).into_response())
}

/// Compared in time that does not depend on where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret(b"s3cret", b"s3cret"));
        assert!(!same_secret(b"s3cre", b"s3cret"));
        assert!(!same_secret(b"s3creT", b"s3cret"));
        assert!(!same_secret(b"", b"s3cret"));
    }
}
