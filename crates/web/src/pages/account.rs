//! A signed-in user's own account: their password and their language. These forms carry the
//! session's CSRF token.

use crate::i18n::{LOCALE_CHOICES, Tr};
use crate::ui::Posted;
use crate::ui::Ui;
use anchora_core::ErrorCode;
use anchora_core::password::MIN_PASSWORD_CHARS as MIN_PASSWORD_CHARS_HINT;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account_password.html")]
pub(super) struct PasswordPage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    min_chars: usize,
    rules: String,
}

pub(super) fn render_password(ui: &Ui, status: StatusCode, notice: Option<String>, error: Option<String>) -> Response {
    let tr = ui.tr.clone();
    let page = PasswordPage {
        title: tr.t("password-change"),
        notice,
        error,
        csrf: ui
            .authed
            .session
            .as_ref()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default(),
        min_chars: MIN_PASSWORD_CHARS_HINT,
        rules: tr.t1("password-rules", "min", MIN_PASSWORD_CHARS_HINT),
        tr,
        locales: &LOCALE_CHOICES,
    };
    ui.page(status, page.render())
}

pub(super) async fn password_page(ui: Ui) -> Response {
    render_password(&ui, StatusCode::OK, None, None)
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub(super) async fn password_submit(Posted { ui, form }: Posted<PasswordForm>) -> Response {
    let Some(session) = ui.authed.session.clone() else {
        return Redirect::to("/login").into_response();
    };
    let tr = ui.tr.clone();
    let body = serde_json::json!({"current_password": form.current_password, "new_password": form.new_password});
    let origin = anchora_core::accounts::Origin {
        ip: ui.authed.client.ip.clone(),
    };
    match ui
        .authed
        .crm
        .change_password(&ui.authed.principal, body, Some(&session.id_hash), &origin)
        .await
    {
        Ok(()) => render_password(&ui, StatusCode::OK, Some(tr.t("password-changed")), None),
        Err(e) if e.errors.iter().any(|f| f.field == "current_password") => render_password(
            &ui,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(tr.t("password-current-wrong")),
        ),
        Err(e) if e.code == ErrorCode::ValidationFailed => render_password(
            &ui,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(tr.t1("password-too-weak", "min", MIN_PASSWORD_CHARS_HINT)),
        ),
        Err(e) => {
            tracing::error!(error = %e, "a password change failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[derive(Deserialize)]
pub(super) struct LocaleForm {
    #[serde(default)]
    locale: String,
    #[serde(default)]
    back: String,
}

/// The user's language, chosen in the sidebar; kept on their account.
pub(super) async fn locale_submit(Posted { ui, form }: Posted<LocaleForm>) -> Response {
    let origin = anchora_core::accounts::Origin {
        ip: ui.authed.client.ip.clone(),
    };
    let body = serde_json::json!({"locale": form.locale});
    if let Err(e) = ui
        .authed
        .crm
        .update_user(&ui.authed.principal, &ui.authed.user.id.to_string(), body, &origin)
        .await
    {
        tracing::warn!(error = %e.detail, "the language could not be changed");
    }
    // Only paths of this site: never a redirect elsewhere.
    let back = crate::ui::same_site_path(&form.back).unwrap_or("/");
    let back = back.split("lang=").next().unwrap_or("/").trim_end_matches(['?', '&']);
    Redirect::to(if back.is_empty() { "/" } else { back }).into_response()
}
