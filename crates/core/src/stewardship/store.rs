//! Where the stewardship plan, the adjustment requests and the answers are kept.

use super::answers::Answer;
use super::plan::StoredPlan;
use super::requests::{AdjustmentComment, AdjustmentRequest, Vote};
use crate::error::Result;
use crate::ids::{AdjustmentRequestId, AnswerId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait StewardshipStore: Send + Sync {
    /// The plan, or `None` before anyone wrote one.
    async fn stewardship_plan(&self) -> Result<Option<StoredPlan>>;
    /// Write the plan if it is still at version `expected` (0: none written yet); false when
    /// someone else wrote first.
    async fn write_stewardship_plan(&self, plan: &StoredPlan, expected: i64) -> Result<bool>;

    async fn create_adjustment(&self, request: &AdjustmentRequest) -> Result<()>;
    /// Write a request if it is still at version `expected`; false when stale or gone.
    async fn update_adjustment(&self, request: &AdjustmentRequest, expected: i64) -> Result<bool>;
    /// Remove a request with its votes and comments; false when it was gone.
    async fn delete_adjustment(&self, id: AdjustmentRequestId) -> Result<bool>;
    async fn adjustment(&self, id: AdjustmentRequestId) -> Result<Option<AdjustmentRequest>>;
    async fn adjustments(&self) -> Result<Vec<AdjustmentRequest>>;
    /// Votes on one request, or on every request.
    async fn adjustment_votes(&self, request: Option<AdjustmentRequestId>) -> Result<Vec<Vote>>;
    /// One vote per user and request, kept by the database's key: false when the user had
    /// voted already (also when another writer got there a moment before).
    async fn add_adjustment_vote(&self, request: AdjustmentRequestId, user: UserId, at: DateTime<Utc>) -> Result<bool>;
    async fn remove_adjustment_vote(&self, request: AdjustmentRequestId, user: UserId) -> Result<bool>;
    async fn add_adjustment_comment(&self, comment: &AdjustmentComment) -> Result<()>;
    async fn adjustment_comments(&self, request: AdjustmentRequestId) -> Result<Vec<AdjustmentComment>>;

    async fn create_answer(&self, answer: &Answer) -> Result<()>;
    /// Write an answer (and its search document) if it is still at version `expected`.
    async fn update_answer(&self, answer: &Answer, expected: i64) -> Result<bool>;
    async fn delete_answer(&self, id: AnswerId) -> Result<bool>;
    async fn answer(&self, id: AnswerId) -> Result<Option<Answer>>;
    async fn answers(&self) -> Result<Vec<Answer>>;
    /// At most `limit` answers matching any of the words (each as a prefix; anything but
    /// letters and digits is ignored), those in `language` first, then the best match, with
    /// their rank (higher is better); of the drafts only those `drafts` allows.
    async fn search_answers(
        &self,
        words: &[String],
        language: Option<&str>,
        drafts: DraftsSeen,
        limit: u32,
    ) -> Result<Vec<(Answer, f64)>>;
}

/// Which drafts a search may return besides the published answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftsSeen {
    None,
    /// Those one user wrote.
    By(UserId),
    All,
}
