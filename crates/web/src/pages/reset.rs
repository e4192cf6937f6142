//! Password reset by e-mailed link: asked for without saying whether the address is known, used
//! once, and only while it is fresh.

use super::context::{PageCtx, crm_for, workspace_or_default};
use crate::AppState;
use crate::i18n::{LOCALE_CHOICES, Tr};
use crate::mail::Email;
use anchora_core::ErrorCode;
use anchora_core::password::MIN_PASSWORD_CHARS as MIN_PASSWORD_CHARS_HINT;
use anchora_core::workspace::{DEFAULT_WORKSPACE, valid_workspace_name};
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Template)]
#[template(path = "reset_request.html")]
pub(super) struct ResetRequestPage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    error: Option<String>,
    csrf: String,
    workspace: String,
}

#[derive(Template)]
#[template(path = "reset_form.html")]
pub(super) struct ResetFormPage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    error: Option<String>,
    csrf: String,
    action: String,
    min_chars: usize,
    rules: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
pub(super) struct NoticePage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    text: String,
    workspace: String,
}

pub(super) async fn reset_request_page(ctx: PageCtx, Query(q): Query<HashMap<String, String>>) -> Response {
    let workspace = workspace_or_default(q.get("workspace"));
    render_reset_request(&ctx, StatusCode::OK, &workspace, None)
}

pub(super) fn render_reset_request(
    ctx: &PageCtx,
    status: StatusCode,
    workspace: &str,
    error: Option<String>,
) -> Response {
    let (csrf, set) = ctx.form_token();
    let page = ResetRequestPage {
        title: ctx.tr.t("reset-title"),
        tr: ctx.tr.clone(),
        locales: &LOCALE_CHOICES,
        error,
        csrf,
        workspace: workspace.to_string(),
    };
    ctx.page(status, page.render(), set.into_iter().collect())
}

pub(super) fn render_notice(
    ctx: &PageCtx,
    status: StatusCode,
    title_key: &str,
    text: String,
    workspace: &str,
) -> Response {
    let page = NoticePage {
        title: ctx.tr.t(title_key),
        tr: ctx.tr.clone(),
        locales: &LOCALE_CHOICES,
        text,
        workspace: workspace.to_string(),
    };
    ctx.page(status, page.render(), Vec::new())
}

#[derive(Deserialize)]
pub(super) struct ResetRequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    workspace: Option<String>,
}

pub(super) async fn reset_request_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(form): Form<ResetRequestForm>,
) -> Response {
    let workspace = workspace_or_default(form.workspace.as_ref());
    if !ctx.form_ok(&form.csrf) {
        return render_reset_request(&ctx, StatusCode::FORBIDDEN, &workspace, Some(ctx.tr.t("form-expired")));
    }
    if let Some(crm) = crm_for(&state, &workspace).await {
        match crm.request_password_reset(&form.email, &ctx.client).await {
            Ok(Some((user, secret))) => {
                let tr = Tr::new(&user.locale);
                let link = format!(
                    "{}/password-reset/{workspace}/{secret}",
                    state.public_url.trim_end_matches('/')
                );
                let email = Email {
                    to: user.email.clone().unwrap_or_default(),
                    subject: tr.t("reset-mail-subject"),
                    text: tr.tn(
                        "reset-mail-body",
                        &[("email", user.email.clone().unwrap_or_default()), ("link", link)],
                    ),
                    ..Email::default()
                };
                // Sent in the background: an answer that waited for the mail server would tell
                // which addresses have accounts.
                let mailer = state.mailer.clone();
                tokio::spawn(async move {
                    if let Err(e) = mailer.send(&email).await {
                        // The link is a secret: log that sending failed, never the message.
                        tracing::error!(error = %e.detail, "the password-reset e-mail could not be sent");
                    }
                });
            }
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "a password reset could not be prepared"),
        }
    }
    // The same answer whether or not the address has an account.
    render_notice(&ctx, StatusCode::OK, "reset-title", ctx.tr.t("reset-sent"), &workspace)
}

pub(super) fn render_reset_form(
    ctx: &PageCtx,
    status: StatusCode,
    workspace: &str,
    secret: &str,
    error: Option<String>,
) -> Response {
    let (csrf, set) = ctx.form_token();
    let page = ResetFormPage {
        title: ctx.tr.t("reset-new-title"),
        tr: ctx.tr.clone(),
        locales: &LOCALE_CHOICES,
        error,
        csrf,
        action: format!("/password-reset/{workspace}/{secret}"),
        min_chars: MIN_PASSWORD_CHARS_HINT,
        rules: ctx.tr.t1("password-rules", "min", MIN_PASSWORD_CHARS_HINT),
    };
    let mut response = ctx.page(status, page.render(), set.into_iter().collect());
    // The secret is in the URL: keep it out of other sites' Referer headers and caches.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(super) fn valid_link(workspace: &str, secret: &str) -> bool {
    valid_workspace_name(workspace) && secret.len() == 43 && secret.chars().all(|c| c.is_ascii_alphanumeric())
}

pub(super) async fn reset_form_page(ctx: PageCtx, Path((workspace, secret)): Path<(String, String)>) -> Response {
    if !valid_link(&workspace, &secret) {
        return render_notice(
            &ctx,
            StatusCode::NOT_FOUND,
            "reset-new-title",
            ctx.tr.t("reset-invalid"),
            DEFAULT_WORKSPACE,
        );
    }
    render_reset_form(&ctx, StatusCode::OK, &workspace, &secret, None)
}

#[derive(Deserialize)]
pub(super) struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

pub(super) async fn reset_form_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((workspace, secret)): Path<(String, String)>,
    Form(form): Form<ResetForm>,
) -> Response {
    let invalid = |ctx: &PageCtx| {
        render_notice(
            ctx,
            StatusCode::NOT_FOUND,
            "reset-new-title",
            ctx.tr.t("reset-invalid"),
            DEFAULT_WORKSPACE,
        )
    };
    if !valid_link(&workspace, &secret) {
        return invalid(&ctx);
    }
    if !ctx.form_ok(&form.csrf) {
        return render_reset_form(
            &ctx,
            StatusCode::FORBIDDEN,
            &workspace,
            &secret,
            Some(ctx.tr.t("form-expired")),
        );
    }
    let Some(crm) = crm_for(&state, &workspace).await else {
        return invalid(&ctx);
    };
    match crm.reset_password(&secret, &form.password, &ctx.client).await {
        Ok(_) => render_notice(
            &ctx,
            StatusCode::OK,
            "reset-new-title",
            ctx.tr.t("reset-done"),
            &workspace,
        ),
        Err(e) if e.code == ErrorCode::ValidationFailed => {
            let text = ctx.tr.t1("password-too-weak", "min", MIN_PASSWORD_CHARS_HINT);
            render_reset_form(&ctx, StatusCode::UNPROCESSABLE_ENTITY, &workspace, &secret, Some(text))
        }
        Err(e) if e.code == ErrorCode::NotFound => invalid(&ctx),
        Err(e) => {
            tracing::error!(error = %e, "a password reset failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
