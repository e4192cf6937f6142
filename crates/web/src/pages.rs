//! The pages around signing in: login, logout, password reset, and the signed-in start page.
//!
//! Forms before sign-in carry a double-submit CSRF token (a random cookie echoed in a hidden
//! field); forms after sign-in carry the session's own CSRF token.

use crate::AppState;
use crate::extract::{SESSION_COOKIE, authenticate_session, client, cookie};
use crate::i18n::{LOCALE_CHOICES, Tr, negotiate};
use crate::mail::Email;
use crate::ui::Ui;
use anchora_core::login::Client;
use anchora_core::password::MIN_PASSWORD_CHARS as MIN_PASSWORD_CHARS_HINT;
use anchora_core::secret::{constant_time_eq, hash_secret, random_secret, session_workspace};
use anchora_core::service::Crm;
use anchora_core::workspace::{DEFAULT_WORKSPACE, valid_workspace_name};
use anchora_core::{ErrorCode, Store};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;

const FORM_COOKIE: &str = "anchora_form";
const LANG_COOKIE: &str = "anchora_lang";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", axum::routing::post(logout))
        .route("/password-reset", get(reset_request_page).post(reset_request_submit))
        .route(
            "/password-reset/{workspace}/{secret}",
            get(reset_form_page).post(reset_form_submit),
        )
        .route("/account/password", get(password_page).post(password_submit))
        .route("/account/locale", axum::routing::post(locale_submit))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .route("/static/favicon.svg", get(favicon))
        // Browsers ask for this one whatever the page says.
        .route("/favicon.ico", get(favicon))
}

/// What every page needs from the request: the language, the client, the pre-sign-in form
/// token, and whether cookies must be `Secure`.
pub struct PageCtx {
    tr: Tr,
    client: Client,
    form_token: Option<String>,
    /// A language chosen with `?lang=`, to remember in a cookie.
    chosen_lang: Option<&'static str>,
    secure: bool,
    headers: HeaderMap,
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

    fn cookie(&self, name: &str, value: &str, same_site: &str) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; Path=/; HttpOnly; SameSite={same_site}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn expire(&self, name: &str) -> HeaderValue {
        HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; Max-Age=0"))
            .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The form token to embed, and the cookie to set when the browser has none yet.
    fn form_token(&self) -> (String, Option<HeaderValue>) {
        match &self.form_token {
            Some(t) => (t.clone(), None),
            None => {
                let t = random_secret();
                let c = self.cookie(FORM_COOKIE, &t, "Strict");
                (t, Some(c))
            }
        }
    }

    fn form_ok(&self, sent: &str) -> bool {
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

fn workspace_or_default(w: Option<&String>) -> String {
    w.filter(|w| valid_workspace_name(w))
        .cloned()
        .unwrap_or_else(|| DEFAULT_WORKSPACE.to_string())
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    workspace: String,
    email: String,
}

#[derive(Template)]
#[template(path = "reset_request.html")]
struct ResetRequestPage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    error: Option<String>,
    csrf: String,
    workspace: String,
}

#[derive(Template)]
#[template(path = "reset_form.html")]
struct ResetFormPage {
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
struct NoticePage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    text: String,
    workspace: String,
}

fn render_login(
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
async fn home(State(state): State<AppState>, parts: Parts) -> Response {
    match authenticate_session(&parts, &state).await {
        Ok(_) => Redirect::to("/home").into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

async fn login_page(ctx: PageCtx, Query(q): Query<HashMap<String, String>>) -> Response {
    let workspace = workspace_or_default(q.get("workspace"));
    render_login(&ctx, StatusCode::OK, &workspace, "", None, None)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    workspace: Option<String>,
}

async fn crm_for(state: &AppState, workspace: &str) -> Option<Crm> {
    let store = state.instance.workspace(workspace, state.clock.now()).await.ok()??;
    Some(Crm::new(store as Arc<dyn Store>, state.clock.clone()).in_workspace(workspace))
}

async fn login_submit(State(state): State<AppState>, ctx: PageCtx, Form(form): Form<LoginForm>) -> Response {
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
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(State(state): State<AppState>, ctx: PageCtx, parts: Parts, Form(form): Form<CsrfForm>) -> Response {
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

async fn reset_request_page(ctx: PageCtx, Query(q): Query<HashMap<String, String>>) -> Response {
    let workspace = workspace_or_default(q.get("workspace"));
    render_reset_request(&ctx, StatusCode::OK, &workspace, None)
}

fn render_reset_request(ctx: &PageCtx, status: StatusCode, workspace: &str, error: Option<String>) -> Response {
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

fn render_notice(ctx: &PageCtx, status: StatusCode, title_key: &str, text: String, workspace: &str) -> Response {
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
struct ResetRequestForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    workspace: Option<String>,
}

async fn reset_request_submit(
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

fn render_reset_form(
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

fn valid_link(workspace: &str, secret: &str) -> bool {
    valid_workspace_name(workspace) && secret.len() == 43 && secret.chars().all(|c| c.is_ascii_alphanumeric())
}

async fn reset_form_page(ctx: PageCtx, Path((workspace, secret)): Path<(String, String)>) -> Response {
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
struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn reset_form_submit(
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

#[derive(Template)]
#[template(path = "account_password.html")]
struct PasswordPage {
    tr: Tr,
    title: String,
    locales: &'static [&'static str],
    notice: Option<String>,
    error: Option<String>,
    csrf: String,
    min_chars: usize,
    rules: String,
}

fn render_password(ui: &Ui, status: StatusCode, notice: Option<String>, error: Option<String>) -> Response {
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

async fn password_page(ui: Ui) -> Response {
    render_password(&ui, StatusCode::OK, None, None)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn password_submit(ui: Ui, Form(form): Form<PasswordForm>) -> Response {
    let Some(session) = ui.authed.session.clone() else {
        return Redirect::to("/login").into_response();
    };
    let tr = ui.tr.clone();
    if !ui.csrf_ok(&form.csrf) {
        return render_password(&ui, StatusCode::FORBIDDEN, None, Some(tr.t("form-expired")));
    }
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
struct LocaleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    locale: String,
    #[serde(default)]
    back: String,
}

/// The user's language, chosen in the sidebar; kept on their account.
async fn locale_submit(ui: Ui, Form(form): Form<LocaleForm>) -> Response {
    if !ui.csrf_ok(&form.csrf) {
        return crate::ui::form_expired(&ui);
    }
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

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/favicon.svg"),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
        .into_response()
}
