//! The implementation project (DOMAIN.md B1–B16): the project group and its roles, the
//! health rules that judge it, the rule of thirds, the living plan, change control, meetings,
//! the communication matrix, status reports and customer journeys. The rules are pure (time is
//! a parameter); the `*_service` modules are the use cases over the store.

pub mod change;
mod change_service;
pub mod escalation;
pub mod health;
mod journey_service;
pub mod journeys;
pub mod matrix;
mod meeting_service;
pub mod meetings;
pub mod model;
pub mod plan;
mod reminder_service;
pub mod reminders;
pub mod report;
mod report_service;
pub mod roles;
pub mod sent;
mod service;
pub mod state;
pub mod store;
pub mod thirds;
mod validate;

pub use state::{ProjectRights, ProjectState};
