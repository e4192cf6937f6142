//! Every request's id and span: the id comes from the client's `x-request-id` when that is
//! short and plain, else it is made here; it is in the span every log line of the request is
//! written in, in the response's `x-request-id`, and in problem+json bodies as `instance`.

use super::metrics;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::http::header::HeaderName;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a client.
const MAX_ID_LEN: usize = 64;

/// A request's id: letters, digits and `-_.:~` only (so it is safe in a log line, a header and
/// a URN), at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// A client's id, if it is short and plain enough to keep.
    pub fn parse(text: &str) -> Option<Self> {
        let plain = |c: char| c.is_ascii_alphanumeric() || "-_.:~".contains(c);
        (!text.is_empty() && text.len() <= MAX_ID_LEN && text.chars().all(plain)).then(|| Self(text.into()))
    }

    /// A new id (a UUID v7: ids of one process sort by time).
    pub fn fresh() -> Self {
        Self(uuid::Uuid::now_v7().to_string().into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a URI, for a problem's `instance` (RFC 9457 3.1.5).
    pub fn urn(&self) -> String {
        format!("urn:anchora:request:{}", self.0)
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being answered on this task, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

/// The outermost layer: gives the request its id and span, answers it inside both, puts the id
/// on the response, logs the answer (5xx as a warning, the rest at debug) and counts it by
/// route template and status.
pub async fn request_context(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .and_then(RequestId::parse)
        .unwrap_or_else(RequestId::fresh);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let method = request.method().as_str().to_string();
    request.extensions_mut().insert(id.clone());
    // At the error level, so that a filter that keeps only warnings and errors keeps the
    // span too: every line of the request carries its id, whatever level it is written at.
    let span = tracing::error_span!(
        "request",
        request_id = %id,
        method = %method,
        route = route.as_deref().unwrap_or(metrics::UNMATCHED),
    );
    let started = Instant::now();
    let mut response = CURRENT
        .scope(id.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    let elapsed = started.elapsed();
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response.headers_mut().insert(X_REQUEST_ID, value);
    }
    let status = response.status().as_u16();
    span.in_scope(|| {
        if response.status().is_server_error() {
            tracing::warn!(status, ?elapsed, "answered with a server error");
        } else {
            tracing::debug!(status, ?elapsed, "answered");
        }
    });
    metrics::request_answered(&method, route.as_deref(), status, elapsed);
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken_from_clients() {
        assert_eq!(RequestId::parse("abc-123_x.y:z~").unwrap().as_str(), "abc-123_x.y:z~");
        for bad in ["", "a b", "a\"b", "<script>", "a\nb", "é", &"x".repeat(65)] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?}");
        }
        assert!(RequestId::parse(&"x".repeat(64)).is_some());
        let fresh = RequestId::fresh();
        assert_eq!(RequestId::parse(fresh.as_str()), Some(fresh.clone()));
        assert_eq!(fresh.urn(), format!("urn:anchora:request:{fresh}"));
    }
}
