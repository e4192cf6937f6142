//! The public unsubscribe page a mailing links to (`/u/{workspace}/{token}`), in the reader's
//! language, and RFC 8058 one-click: a POST of `List-Unsubscribe=One-Click` to the same address
//! (what a mail program sends) opts out of the link's purpose with nothing asked. The page's
//! own form carries the pre-sign-in CSRF token; the one-click POST has only the signed link.

use super::context::{PageCtx, crm_for};
use crate::AppState;
use crate::i18n::{LOCALE_CHOICES, Tr};
use anchora_core::consent::{UnsubscribePurpose, UnsubscribeView};
use anchora_core::service::Crm;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    intro: String,
    notice: Option<String>,
    subscribed: Vec<UnsubscribePurpose>,
    action: String,
    csrf: String,
}

/// The link's workspace and CRM, when the workspace exists.
async fn crm(state: &AppState, workspace: &str) -> Option<Crm> {
    crm_for(state, workspace).await
}

fn render(
    ctx: &PageCtx,
    status: StatusCode,
    view: UnsubscribeView,
    notice: Option<String>,
    action: String,
) -> Response {
    let (csrf, set) = ctx.form_token();
    let page = UnsubscribePage {
        title: ctx.tr.t("unsub-title"),
        intro: ctx.tr.t1("unsub-intro", "email", view.email_hint),
        tr: ctx.tr.clone(),
        locales: &LOCALE_CHOICES,
        notice,
        subscribed: view.purposes.into_iter().filter(|p| p.subscribed).collect(),
        action,
        csrf,
    };
    ctx.page(status, page.render(), set.into_iter().collect())
}

fn invalid(ctx: &PageCtx) -> Response {
    let view = UnsubscribeView {
        email_hint: "…".into(),
        purposes: Vec::new(),
    };
    let mut page = render(
        ctx,
        StatusCode::NOT_FOUND,
        view,
        Some(ctx.tr.t("unsub-invalid")),
        String::new(),
    );
    *page.status_mut() = StatusCode::NOT_FOUND;
    page
}

pub(super) async fn unsubscribe_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((workspace, token)): Path<(String, String)>,
) -> Response {
    let Some(crm) = crm(&state, &workspace).await else {
        return invalid(&ctx);
    };
    match crm.unsubscribe_view(&token).await {
        Ok(view) => render(&ctx, StatusCode::OK, view, None, format!("/u/{workspace}/{token}")),
        Err(_) => invalid(&ctx),
    }
}

pub(super) async fn unsubscribe_submit(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((workspace, token)): Path<(String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let Some(crm) = crm(&state, &workspace).await else {
        return invalid(&ctx);
    };
    // RFC 8058: a mail program's one-click POST, authenticated by the signed link alone.
    if form == [("List-Unsubscribe".to_string(), "One-Click".to_string())] {
        return match crm.one_click_unsubscribe(&token).await {
            Ok(()) => (StatusCode::OK, "unsubscribed").into_response(),
            Err(_) => (StatusCode::NOT_FOUND, "not a valid unsubscribe link").into_response(),
        };
    }
    let action = format!("/u/{workspace}/{token}");
    let csrf = form.iter().find(|(k, _)| k == "csrf").map_or("", |(_, v)| v.as_str());
    if !ctx.form_ok(csrf) {
        return match crm.unsubscribe_view(&token).await {
            Ok(view) => render(
                &ctx,
                StatusCode::FORBIDDEN,
                view,
                Some(ctx.tr.t("form-expired")),
                action,
            ),
            Err(_) => invalid(&ctx),
        };
    }
    let chosen: Vec<String> = form
        .iter()
        .filter(|(k, _)| k == "purpose")
        .map(|(_, v)| v.clone())
        .collect();
    match crm.unsubscribe(&token, &chosen, "unsubscribe page").await {
        Ok(view) => render(&ctx, StatusCode::OK, view, Some(ctx.tr.t("unsub-done")), action),
        Err(_) => invalid(&ctx),
    }
}
