//! Where the duplicate review queue and the merge journal are kept.

use super::merge::{BatchWrite, MergeEntry, RecordBatch};
use super::{PairStatus, StoredPair};
use crate::error::Result;
use crate::ids::{RecordId, UserId};
use crate::write::WriteCtx;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait DuplicateStore: Send + Sync {
    /// Replace an object's open duplicate pairs with a scan's; decided pairs stay. How many
    /// pairs were put in the queue.
    async fn save_duplicate_scan(&self, object: &str, pairs: &[StoredPair]) -> Result<u64>;
    /// Pairs of an object in one state, best score first.
    async fn duplicate_pairs(&self, object: &str, status: PairStatus, limit: u32) -> Result<Vec<StoredPair>>;
    /// Decide an open pair; whether there was one.
    async fn decide_duplicate(
        &self,
        object: &str,
        pair: (RecordId, RecordId),
        status: PairStatus,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<bool>;
    /// Put a decided pair back in the queue (after a merge is undone).
    async fn reopen_duplicate(&self, object: &str, pair: (RecordId, RecordId)) -> Result<()>;
    /// Many record writes at their versions, with a merge journal entry, in one transaction.
    async fn write_records(&self, batch: &RecordBatch, ctx: WriteCtx) -> Result<BatchWrite>;
    async fn merge_entry(&self, id: uuid::Uuid) -> Result<Option<MergeEntry>>;
}
