//! Who writes, and when: what every storage port's write is given.

use crate::ids::UserId;
use chrono::{DateTime, Utc};

/// Who writes, and when.
#[derive(Debug, Clone, Copy)]
pub struct WriteCtx {
    pub actor: UserId,
    pub now: DateTime<Utc>,
}
