//! The pages around signing in: login, logout, password reset, and the signed-in start page.
//!
//! Forms before sign-in carry a double-submit CSRF token (a random cookie echoed in a hidden
//! field); forms after sign-in carry the session's own CSRF token.

mod account;
mod assets;
pub mod context;
mod reset;
mod sign_in;
mod unsubscribe;

use crate::AppState;
use account::{locale_submit, password_page, password_submit};
use assets::{favicon, script, stylesheet};
use axum::Router;
use axum::routing::get;
use reset::{reset_form_page, reset_form_submit, reset_request_page, reset_request_submit};
use sign_in::{home, login_page, login_submit, logout};
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
        .route(
            "/u/{workspace}/{token}",
            get(unsubscribe::unsubscribe_page).post(unsubscribe::unsubscribe_submit),
        )
        .route("/account/locale", axum::routing::post(locale_submit))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .route("/static/favicon.svg", get(favicon))
        // Browsers ask for this one whatever the page says.
        .route("/favicon.ico", get(favicon))
}
