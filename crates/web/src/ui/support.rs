//! `/support`: questions raised from any page, the chain that answers them (pages).

use crate::AppState;
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
}
