//! Where projects are kept: each project's settings, its numbered items (members, tasks, work
//! packages) and the plan's dependencies, changed together or not at all.

use super::model::Project;
use super::plan::Dependency;
use super::roles::RoleDef;
use crate::error::Result;
use crate::ids::ProjectId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// One numbered item of a project (a member, a task, a work package) as stored: its body is
/// the item's JSON; number and version are the store's.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub kind: String,
    pub number: u32,
    pub version: i64,
    pub body: String,
}

/// One change to a project's items. Updates and deletes name the version they change.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemWrite {
    /// The store gives the item the project's next number and version 1.
    Insert { kind: &'static str, body: String },
    Update {
        kind: &'static str,
        number: u32,
        expected_version: i64,
        body: String,
    },
    /// Deleting a task deletes its dependencies too.
    Delete {
        kind: &'static str,
        number: u32,
        expected_version: i64,
    },
}

/// Changes to one project, written together or not at all.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectBatch {
    /// New settings (JSON) and the version they replace.
    pub settings: Option<(String, i64)>,
    /// When set, the plan must still be at this version; it is then bumped.
    pub expect_plan_version: Option<i64>,
    pub items: Vec<ItemWrite>,
    pub add_dependencies: Vec<Dependency>,
    pub remove_dependencies: Vec<Dependency>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BatchOutcome {
    /// The numbers given to the inserted items, in order.
    Written(Vec<u32>),
    /// Someone changed this first ("project", "plan" or "<kind> <number>"); nothing was written.
    Stale(String),
    NotFound,
}

#[async_trait]
pub trait ProjectStore: Send + Sync {
    async fn create_project(&self, project: &Project) -> Result<()>;
    async fn projects(&self) -> Result<Vec<Project>>;
    async fn project(&self, id: ProjectId) -> Result<Option<Project>>;
    /// Every member, task and work package of a project, by kind and number.
    async fn project_items(&self, id: ProjectId) -> Result<Vec<StoredItem>>;
    async fn project_dependencies(&self, id: ProjectId) -> Result<Vec<Dependency>>;
    async fn write_project(&self, id: ProjectId, batch: &ProjectBatch, at: DateTime<Utc>) -> Result<BatchOutcome>;
    /// The roles administrators added to the standard catalogue.
    async fn project_roles(&self) -> Result<Vec<RoleDef>>;
    async fn add_project_role(&self, role: &RoleDef) -> Result<()>;
}

/// Where sent reminders are kept.
#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Which of these keys were sent already.
    async fn reminded(&self, keys: &[String]) -> Result<HashSet<String>>;
    /// Keep a key as sent; false when it was kept already (another worker sent it).
    async fn mark_reminded(&self, key: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Forget a key whose e-mail could not be sent, so the next run tries again.
    async fn unmark_reminded(&self, key: &str) -> Result<()>;
}
