//! Where questions and everything about them are kept.

use async_trait::async_trait;

#[async_trait]
pub trait SupportStore: Send + Sync {}
