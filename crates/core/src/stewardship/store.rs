//! Where the stewardship plan, the adjustment requests and the answers are kept.

use async_trait::async_trait;

#[async_trait]
pub trait StewardshipStore: Send + Sync {}
