//! What every page needs from the request before or after sign-in: the language, the client,
//! the pre-sign-in form token, and whether cookies must be `Secure`.

use crate::AppState;
use crate::extract::{client, cookie};
use crate::i18n::{LOCALE_CHOICES, Tr, negotiate};
use anchora_core::Store;
use anchora_core::login::Client;
use anchora_core::secret::{constant_time_eq, random_secret};
use anchora_core::service::Crm;
use anchora_core::workspace::{DEFAULT_WORKSPACE, valid_workspace_name};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::sync::Arc;

pub(super) const FORM_COOKIE: &str = "anchora_form";

pub(super) const LANG_COOKIE: &str = "anchora_lang";

/// What every page needs from the request: the language, the client, the pre-sign-in form
/// token, and whether cookies must be `Secure`.
pub struct PageCtx {
    pub(super) tr: Tr,
    pub(super) client: Client,
    pub(super) form_token: Option<String>,
    /// A language chosen with `?lang=`, to remember in a cookie.
    pub(super) chosen_lang: Option<&'static str>,
    pub(super) secure: bool,
    pub(super) headers: HeaderMap,
}

impl FromRequestParts<AppState> for PageCtx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let query: HashMap<String, String> = parts
            .uri
            .query()
            .map(|q| {
                q.split('&')
                    .filter_map(|p| p.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let chosen_lang = query
            .get("lang")
            .and_then(|l| LOCALE_CHOICES.iter().copied().find(|x| x == l));
        let locale = chosen_lang
            .or_else(|| {
                cookie(&parts.headers, LANG_COOKIE).and_then(|l| LOCALE_CHOICES.iter().copied().find(|x| *x == l))
            })
            .unwrap_or_else(|| negotiate(parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok())));
        let forwarded_https = state.trust_proxy
            && parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|p| p.eq_ignore_ascii_case("https"));
        Ok(PageCtx {
            tr: Tr::new(locale),
            client: client(parts, state.trust_proxy),
            form_token: cookie(&parts.headers, FORM_COOKIE).filter(|t| t.len() == 43),
            chosen_lang,
            secure: state.secure_cookies || forwarded_https,
            headers: parts.headers.clone(),
        })
    }
}

impl PageCtx {
    pub(crate) fn tr(&self) -> &Tr {
        &self.tr
    }

    pub(crate) fn chosen_lang(&self) -> Option<&'static str> {
        self.chosen_lang
    }

    pub(super) fn cookie(&self, name: &str, value: &str, same_site: &str) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; HttpOnly; SameSite={same_site}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    pub(super) fn expire(&self, name: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; Max-Age=0"))
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The form token to embed, and the cookie to set when the browser has none yet.
    pub(super) fn form_token(&self) -> (String, Option<HeaderValue>) {
        match &self.form_token {
            Some(t) => (t.clone(), None),
            None => {
                let t = random_secret();
                let c = self.cookie(FORM_COOKIE, &t, "Strict");
                (t, Some(c))
            }
        }
    }

    pub(super) fn form_ok(&self, sent: &str) -> bool {
        self.form_token
            .as_deref()
            .is_some_and(|expected| constant_time_eq(sent, expected))
    }

    /// Render a page with the cookies it needs.
    pub(crate) fn page(
        &self,
        status: StatusCode,
        html: Result<String, askama::Error>,
        cookies: Vec<HeaderValue>,
    ) -> Response {
        let body = match html {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "a page failed to render");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        };
        let mut response = (status, Html(body)).into_response();
        let headers = response.headers_mut();
        for c in cookies {
            headers.append(header::SET_COOKIE, c);
        }
        if let Some(lang) = self.chosen_lang {
            let c = self.cookie(LANG_COOKIE, lang, "Lax");
            headers.append(header::SET_COOKIE, c);
        }
        response
    }
}

pub(super) fn workspace_or_default(w: Option<&String>) -> String {
    w.filter(|w| valid_workspace_name(w))
        .cloned()
        .unwrap_or_else(|| DEFAULT_WORKSPACE.to_string())
}

pub(super) async fn crm_for(state: &AppState, workspace: &str) -> Option<Crm> {
    let store = state.instance.workspace(workspace, state.clock.now()).await.ok()??;
    Some(Crm::new(store as Arc<dyn Store>, state.clock.clone()).in_workspace(workspace))
}
