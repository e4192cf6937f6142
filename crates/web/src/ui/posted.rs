//! A signed-in page's form, taken only when it carries the session's CSRF token: the one place
//! the UI's writes check it, instead of a guard at the top of every handler.

use super::{Ui, form_expired};
use crate::AppState;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// The caller's page context and the posted fields, once the form's `csrf` field matched the
/// session's token. A form without it, or with another session's, gets the "form expired"
/// page (403) and reaches no handler.
pub struct Posted<T> {
    pub ui: Ui,
    pub form: T,
}

/// The request's method, address and headers with this body, for reading the body once more
/// (a form extractor reads the query string instead of the body when the method is GET).
fn again(method: &Method, uri: &Uri, headers: &HeaderMap, body: Bytes) -> Request {
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers.clone();
    request
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let ui = Ui::from_request_parts(&mut parts, state).await?;
        let (method, uri, headers) = (parts.method.clone(), parts.uri.clone(), parts.headers.clone());
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Form(fields) =
            Form::<Vec<(String, String)>>::from_request(again(&method, &uri, &headers, body.clone()), state)
                .await
                .map_err(IntoResponse::into_response)?;
        if !ui.csrf_ok(super::form_value(&fields, "csrf")) {
            return Err(form_expired(&ui));
        }
        let Form(form) = Form::<T>::from_request(again(&method, &uri, &headers, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Posted { ui, form })
    }
}
