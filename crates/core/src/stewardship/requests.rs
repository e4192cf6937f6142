//! The key-user group's backlog (C4): adjustments the system needs, gathered from questions and
//! from the group's meetings, weighed by value, effort and votes, decided by the forum the plan
//! names, and linked to what changed (the traceability of the project's journeys).

use crate::ids::{AdjustmentCommentId, AdjustmentRequestId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Proposed,
    Accepted,
    Rejected,
    InProgress,
    Done,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 5] = [
        RequestStatus::Proposed,
        RequestStatus::Accepted,
        RequestStatus::Rejected,
        RequestStatus::InProgress,
        RequestStatus::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Proposed => "proposed",
            RequestStatus::Accepted => "accepted",
            RequestStatus::Rejected => "rejected",
            RequestStatus::InProgress => "in_progress",
            RequestStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Where a request may go from here: a proposal is accepted or rejected; accepted work is
    /// started and finished; a rejected one may be proposed again when things change.
    pub fn may_become(self, next: RequestStatus) -> bool {
        use RequestStatus::*;
        matches!(
            (self, next),
            (Proposed, Accepted)
                | (Proposed, Rejected)
                | (Rejected, Proposed)
                | (Accepted, InProgress)
                | (Accepted, Done)
                | (InProgress, Done)
        )
    }

    /// Still waiting for the group: on the next meeting's agenda.
    pub fn open(self) -> bool {
        matches!(
            self,
            RequestStatus::Proposed | RequestStatus::Accepted | RequestStatus::InProgress
        )
    }
}

/// What a link points at: the schema's objects and fields, and shared views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Object,
    Field,
    View,
}

/// A pointer from a request to what changed: `object` `ticket`, `field` `deal.amount`, `view`
/// by its name (or id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeLink {
    pub kind: LinkKind,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdjustmentRequest {
    pub id: AdjustmentRequestId,
    pub version: i64,
    pub title: String,
    pub description: String,
    /// The question it came from, when one did (the support module's id; kept without a
    /// foreign key so a question's removal never takes the request with it).
    pub question: Option<Uuid>,
    pub requested_by: UserId,
    /// 1 (little) – 5 (much).
    pub value: u8,
    /// 1 (little) – 5 (much).
    pub effort: u8,
    pub status: RequestStatus,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: String,
    pub links: Vec<ChangeLink>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The order the group weighs requests in: value per effort, then votes, then the oldest.
/// Votes are the colleagues' voice; they part two requests of equal worth, and add a little
/// worth of their own (a tenth of a point each) so a much-wanted request climbs.
pub fn priority_score(value: u8, effort: u8, votes: usize) -> f64 {
    let votes = f64::from(u32::try_from(votes).unwrap_or(u32::MAX));
    f64::from(value) / f64::from(effort.max(1)) + votes / 10.0
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdjustmentComment {
    pub id: AdjustmentCommentId,
    pub request: AdjustmentRequestId,
    pub author: UserId,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Vote {
    pub request: AdjustmentRequestId,
    pub user: UserId,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_goes_forward_only() {
        use RequestStatus::*;
        assert!(Proposed.may_become(Accepted));
        assert!(Accepted.may_become(InProgress));
        assert!(InProgress.may_become(Done));
        assert!(!Proposed.may_become(Done));
        assert!(!Done.may_become(Proposed));
        assert!(!Rejected.may_become(InProgress));
    }

    #[test]
    fn worth_per_effort_comes_first_and_votes_part_equals() {
        assert!(priority_score(5, 1, 0) > priority_score(5, 5, 9));
        assert!(priority_score(3, 3, 2) > priority_score(3, 3, 1));
    }
}
