//! Selections: a set of one object's records to write to, report on or export. A selection
//! holds records picked by hand (static members), a filter evaluated each time it is used
//! (dynamic), or both; it may add other selections and take others away (suppression lists).
//! Who is in it is always worked out for a reader: only records they may see.

mod service;

use crate::error::Result;
use crate::ids::{RecordId, SelectionId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;

pub use service::SelectionView;

/// Selections a selection may name, in and out, at most: each is worked out when it is used.
pub const MAX_PARTS: usize = 20;
/// Records picked by hand in one request at most.
pub const MAX_PICKED: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selection {
    pub id: SelectionId,
    pub name: String,
    pub object: String,
    /// The filter (the one filter language, as JSON) whose matches belong, when dynamic.
    pub filter: Option<serde_json::Value>,
    /// Selections whose members belong too.
    pub include: Vec<SelectionId>,
    /// Selections whose members never belong (suppression lists), whatever else says so.
    pub exclude: Vec<SelectionId>,
    pub owner: UserId,
    /// Others may use it (and see who is in it, as far as they may see those records).
    pub shared: bool,
    pub created_at: DateTime<Utc>,
}

/// Where selections and their picked members are kept.
#[async_trait]
pub trait SelectionStore: Send + Sync {
    async fn create_selection(&self, selection: &Selection) -> Result<()>;
    async fn selection(&self, id: SelectionId) -> Result<Option<Selection>>;
    /// Every selection, newest first.
    async fn selections(&self) -> Result<Vec<Selection>>;
    /// Forget a selection and its picked members; whether it was there.
    async fn delete_selection(&self, id: SelectionId) -> Result<bool>;
    /// Add picked members (those there already stay once); how many were new.
    async fn add_members(&self, id: SelectionId, records: &[RecordId], at: DateTime<Utc>) -> Result<u64>;
    async fn remove_members(&self, id: SelectionId, records: &[RecordId]) -> Result<u64>;
    async fn members(&self, id: SelectionId) -> Result<HashSet<RecordId>>;
    /// Put `to` into every selection `from` was picked into (a merge).
    async fn copy_membership(&self, from: RecordId, to: RecordId, at: DateTime<Utc>) -> Result<()>;
    /// Selections that name this one, in or out (it may not go while they do).
    async fn selections_naming(&self, id: SelectionId) -> Result<Vec<SelectionId>>;
}
