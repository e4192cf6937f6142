//! Signing in and out, and the start page's door: `/` sends a signed-in user to their work.
//!
//! The login form carries a double-submit CSRF token (a random cookie echoed in a hidden field).

use super::context::{PageCtx, crm_for, workspace_or_default};
use crate::AppState;
use crate::extract::{SESSION_COOKIE, authenticate_session, cookie};
use crate::i18n::{LOCALE_CHOICES, Tr};
use anchora_core::ErrorCode;
use anchora_core::secret::{constant_time_eq, hash_secret, session_workspace};
use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    workspace: String,
    email: String,
}

pub(super) fn render_login(
    ctx: &PageCtx,
    status: StatusCode,
    workspace: &str,
    email: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let (csrf, set) = ctx.form_token();
    let page = LoginPage {
        title: ctx.tr.t("login-title"),
        tr: ctx.tr.clone(),
        locales: &LOCALE_CHOICES,
        notice,
        error,
        csrf,
        workspace: workspace.to_string(),
        email: email.to_string(),
    };
    ctx.page(status, page.render(), set.into_iter().collect())
}

/// The start page: the signed-in go to their own work, everyone else to the login.
pub(super) async fn home(State(state): State<AppState>, parts: Parts) -> Response {
    match authenticate_session(&parts, &state).await {
        Ok(_) => Redirect::to("/home").into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

pub(super) async fn login_page(ctx: PageCtx, Query(q): Query<HashMap<String, String>>) -> Response {
    let workspace = workspace_or_default(q.get("workspace"));
    render_login(&ctx, StatusCode::OK, &workspace, "", None, None)
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    workspace: Option<String>,
}

pub(super) async fn login_submit(State(state): State<AppState>, ctx: PageCtx, Form(form): Form<LoginForm>) -> Response {
    let workspace = workspace_or_default(form.workspace.as_ref());
    let email: String = form.email.chars().take(254).collect();
    if !ctx.form_ok(&form.csrf) {
        return render_login(
            &ctx,
            StatusCode::FORBIDDEN,
            &workspace,
            &email,
            None,
            Some(ctx.tr.t("form-expired")),
        );
    }
    let Some(crm) = crm_for(&state, &workspace).await else {
        return render_login(
            &ctx,
            StatusCode::UNAUTHORIZED,
            &workspace,
            &email,
            None,
            Some(ctx.tr.t("login-failed")),
        );
    };
    let previous = cookie(&ctx.headers, SESSION_COOKIE)
        .filter(|s| session_workspace(s) == Some(workspace.as_str()))
        .map(|s| hash_secret(&s));
    match crm
        .login(&email, &form.password, &ctx.client, previous.as_deref())
        .await
    {
        Ok(signed_in) => {
            let mut response = Redirect::to("/").into_response();
            let c = ctx.cookie(SESSION_COOKIE, &signed_in.session_secret, "Lax");
            response.headers_mut().append(header::SET_COOKIE, c);
            response
        }
        Err(e) if e.code == ErrorCode::RateLimited => {
            let seconds = e.retry_after.unwrap_or(60);
            let mut response = render_login(
                &ctx,
                StatusCode::TOO_MANY_REQUESTS,
                &workspace,
                &email,
                None,
                Some(ctx.tr.t1("login-throttled", "seconds", seconds)),
            );
            if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
        Err(e) if e.code == ErrorCode::Unauthenticated => render_login(
            &ctx,
            StatusCode::UNAUTHORIZED,
            &workspace,
            &email,
            None,
            Some(ctx.tr.t("login-failed")),
        ),
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub(super) async fn logout(
    State(state): State<AppState>,
    ctx: PageCtx,
    parts: Parts,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Ok(a) = authenticate_session(&parts, &state).await
        && let Some(session) = &a.session
    {
        if !constant_time_eq(&form.csrf, &session.csrf_token) {
            return (StatusCode::FORBIDDEN, ctx.tr.t("form-expired")).into_response();
        }
        if let Err(e) = a.crm.logout(&session.id_hash, a.user.id, &ctx.client).await {
            tracing::error!(error = %e, "sign-out failed");
        }
    }
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, ctx.expire(SESSION_COOKIE));
    response
}
