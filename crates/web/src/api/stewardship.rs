//! `/stewardship`: the plan, its gaps, adjustment requests and answers.

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
