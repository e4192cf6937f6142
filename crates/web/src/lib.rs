//! Anchora's HTTP layer (axum): the JSON API under `/api/v1`. Handlers are thin: extract, call
//! the CRM in `anchora-core`, render. Every error is problem+json.

pub mod api;
pub mod bounces;
mod extract;
pub mod i18n;
pub mod imap;
pub mod mail;
pub mod ops;
mod pages;
pub mod problem;
pub mod reminders;
pub mod report_voice;
pub mod support_mailbox;
pub mod ui;
pub mod uploads;

use anchora_core::{Clock, Error, ErrorCode};
use anchora_store::Instance;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
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
    pub mailer: Arc<dyn mail::Mailer>,
    /// Where users reach Anchora (links in e-mails are built from it, never from `Host`).
    pub public_url: String,
    /// Mark cookies `Secure` (set when the public URL is https).
    pub secure_cookies: bool,
    /// Believe `X-Forwarded-For`/`-Proto` from a reverse proxy in front.
    pub trust_proxy: bool,
    /// The most active fields an object may have.
    pub max_fields: usize,
    /// Uploads taken at once, per server and per user.
    pub uploads: uploads::UploadSlots,
    /// The bearer token `/metrics` asks for; `None` (the default): `/metrics` is open, as it
    /// holds no user's data. Read from `ANCHORA_METRICS_TOKEN` by [`AppState::new`].
    pub metrics_token: Option<String>,
}

impl AppState {
    pub fn new(
        instance: Arc<Instance>,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn mail::Mailer>,
        public_url: &str,
    ) -> Self {
        Self {
            instance,
            clock,
            mailer,
            public_url: public_url.trim_end_matches('/').to_string(),
            secure_cookies: public_url.starts_with("https://"),
            trust_proxy: false,
            max_fields: anchora_core::service::DEFAULT_MAX_FIELDS,
            uploads: uploads::UploadSlots::default(),
            metrics_token: std::env::var("ANCHORA_METRICS_TOKEN")
                .ok()
                .filter(|t| !t.trim().is_empty()),
        }
    }
}

/// No inline script or style anywhere, so the policy needs no 'unsafe-inline'.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub fn app(state: AppState) -> Router {
    ops::metrics::install();
    Router::new()
        .nest(
            "/api/v1",
            api::router()
                .fallback(not_found)
                .method_not_allowed_fallback(method_not_allowed),
        )
        .merge(pages::router())
        .merge(ui::router())
        .merge(ops::router())
        .fallback(not_found)
        .with_state(state.clone())
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts(&state),
        ))
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
        // Outermost: a panic's problem, too, carries the request's id, and is counted.
        .layer(axum::middleware::from_fn(ops::request_context))
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

/// Browsers remember to use TLS only when Anchora is served over it.
fn hsts(state: &AppState) -> Option<HeaderValue> {
    state
        .secure_cookies
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"))
}
