//! The implementation project (DOMAIN.md B1–B9, B14): the project group and its roles, the
//! health rules that judge it, the rule of thirds, and the living plan. Pure rules, no storage:
//! every function takes what it needs, time included.

pub mod change;
pub mod health;
pub mod model;
pub mod plan;
pub mod roles;
mod service;
pub mod thirds;

pub use service::{ProjectRights, ProjectState};
