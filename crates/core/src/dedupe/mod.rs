//! Duplicates: the normal forms records are compared by ([`keys`]) and the scan that blocks
//! and scores pairs ([`scan`]).

pub mod keys;
pub mod merge;
mod merge_service;
pub mod scan;
mod service;
pub mod store;

use crate::ids::{RecordId, UserId};
use crate::record::Record;
use chrono::{DateTime, Utc};
use scan::Reason;
use serde::Serialize;

/// The calling code a phone number written without one is taken to have, until workspaces say
/// which country they are in.
pub const DEFAULT_COUNTRY: &str = "46";

/// Two records that are probably one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicatePair {
    pub a: RecordId,
    pub b: RecordId,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PairStatus {
    Open,
    Dismissed,
    Merged,
}

impl PairStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PairStatus::Open => "open",
            PairStatus::Dismissed => "dismissed",
            PairStatus::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [PairStatus::Open, PairStatus::Dismissed, PairStatus::Merged]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// A pair in the review queue. `a` sorts before `b`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPair {
    pub object: String,
    pub a: RecordId,
    pub b: RecordId,
    pub score: f64,
    pub reasons: Vec<Reason>,
    pub status: PairStatus,
    pub found_at: DateTime<Utc>,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A record that may be the one about to be saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub record: Record,
    pub score: f64,
    pub reasons: Vec<Reason>,
}

/// A pair as the queue keeps it: the smaller id first.
pub(crate) fn ordered(x: RecordId, y: RecordId) -> (RecordId, RecordId) {
    if x < y { (x, y) } else { (y, x) }
}

/// How many records a check before saving looks at, at most.
const CHECK_LIMIT: u32 = 200;
