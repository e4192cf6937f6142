//! Anchora's HTTP layer (axum): the JSON API under `/api/v1`. Handlers are thin: extract, call
//! the CRM in `anchora-core`, render. Every error is problem+json.

pub mod api;
mod extract;
pub mod problem;

use anchora_core::{Clock, Error, ErrorCode};
use anchora_store::Instance;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use problem::ApiError;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// Bodies larger than this are refused with 413 before they are parsed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub instance: Arc<Instance>,
    pub clock: Arc<dyn Clock>,
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .nest(
            "/api/v1",
            api::router()
                .fallback(not_found)
                .method_not_allowed_fallback(method_not_allowed),
        )
        .route("/", axum::routing::get(home))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback(not_found)
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            ApiError(Error::internal("an internal error occurred; it has been logged")).into_response()
        }))
}

async fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no such endpoint; the API is under /api/v1 (see /api/v1/openapi.json)",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(ErrorCode::MethodNotAllowed, "this endpoint does not take that method")
}

/// Until the web UI lands, the root points people at the API.
async fn home() -> Response {
    let body = "Anchora is running.\n\nAPI: /api/v1 (Bearer token)\nOpenAPI document: /api/v1/openapi.json\n";
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}
