//! `/support`: questions raised by users and the chain that answers them.

use crate::AppState;
use axum::Router;

pub fn router() -> Router<AppState> {
    Router::new()
}
