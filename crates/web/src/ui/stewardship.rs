//! `/stewardship`: the plan, its gaps, adjustment requests and answers (pages).

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
