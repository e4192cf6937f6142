//! Change requests (B10): a change to scope, plan or budget takes effect only when every named
//! approver has approved it. The state machine is here, pure; applying the approved change to
//! the plan is the caller's one batch.
//!
//! ```text
//! Draft ──submit──▶ Submitted ──every approver approves──▶ Approved (applied)
//!   ▲                  │ │ └──any approver rejects──▶ Rejected ──carry over──▶ (a requirement
//!   │                  │ └──a leader defers──────────▶ Deferred ──carry over──▶  for the next phase)
//!   └─last approver────┘
//!     leaves
//! Draft, Submitted ──withdraw──▶ Withdrawn
//! ```

use crate::ids::UserId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeState {
    Draft,
    Submitted,
    Approved,
    Rejected,
    Deferred,
    Withdrawn,
}

impl ChangeState {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeState::Draft => "draft",
            ChangeState::Submitted => "submitted",
            ChangeState::Approved => "approved",
            ChangeState::Rejected => "rejected",
            ChangeState::Deferred => "deferred",
            ChangeState::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Approve,
    Reject,
}

/// One approver's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The approving member.
    pub approver: u32,
    pub verdict: Verdict,
    pub comment: String,
    pub at: DateTime<Utc>,
    pub by: UserId,
}

/// What the change does to the plan and the budget once approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Effect {
    /// A task or milestone moves.
    MoveTask {
        task: u32,
        start: NaiveDate,
        finish: NaiveDate,
    },
    /// A new task joins the plan.
    AddTask {
        name: String,
        start: NaiveDate,
        finish: NaiveDate,
        area: super::thirds::Area,
        #[serde(default)]
        planned_hours: f64,
        #[serde(default)]
        milestone: bool,
    },
    /// The budget grows (or shrinks) by this many minor units.
    Budget { delta: i64 },
}

/// One change made when the request took effect, with the values before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Applied {
    TaskMoved {
        task: u32,
        name: String,
        from: (NaiveDate, NaiveDate),
        to: (NaiveDate, NaiveDate),
    },
    TaskAdded {
        name: String,
        start: NaiveDate,
        finish: NaiveDate,
    },
    BudgetChanged {
        currency: String,
        from: i64,
        to: i64,
    },
}

/// A step in the request's life, kept so the record shows who moved it and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub state: ChangeState,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRequest {
    pub number: u32,
    pub version: i64,
    pub title: String,
    pub description: String,
    /// The member who asked for it.
    pub requested_by: Option<u32>,
    /// In words: what it does to scope.
    pub scope_impact: String,
    /// In words: what it does to the requirements.
    #[serde(default)]
    pub requirements_impact: String,
    pub effort_hours: f64,
    pub effects: Vec<Effect>,
    /// Who is affected (departments, user groups, the vendor), in words.
    pub affected: Vec<String>,
    /// The members who must all approve.
    pub approvers: Vec<u32>,
    pub decisions: Vec<Decision>,
    pub state: ChangeState,
    pub steps: Vec<Step>,
    /// Exactly what changed when it took effect.
    pub applied: Vec<Applied>,
    /// Carried over as a requirement for the next phase.
    pub carried_over: bool,
}

/// Why a step is not allowed, for the caller to turn into a field error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not in a state that allows the step.
    State(ChangeState),
    NoApprovers,
    NotAnApprover(u32),
    AlreadyDecided(u32),
    /// Rejecting, deferring or withdrawing says why.
    ReasonRequired,
    AlreadyCarried,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::State(s) => write!(f, "a change request that is {} cannot take this step", s.as_str()),
            Refusal::NoApprovers => write!(f, "name at least one approver before submitting"),
            Refusal::NotAnApprover(m) => write!(f, "member {m} is not an approver of this change"),
            Refusal::AlreadyDecided(m) => write!(f, "member {m} has decided already"),
            Refusal::ReasonRequired => write!(f, "say why"),
            Refusal::AlreadyCarried => write!(f, "the change is carried over already"),
        }
    }
}

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Recorded; others still have to decide.
    Pending,
    /// The last approval: apply the effects now, with the request, in one write.
    Approved,
    Rejected,
}

impl ChangeRequest {
    fn step(&mut self, state: ChangeState, by: UserId, at: DateTime<Utc>, note: &str) {
        self.state = state;
        self.steps.push(Step {
            at,
            by,
            state,
            note: note.to_string(),
        });
    }

    fn pending(&self) -> impl Iterator<Item = &u32> {
        self.approvers
            .iter()
            .filter(|a| !self.decisions.iter().any(|d| d.approver == **a))
    }

    pub fn submit(&mut self, by: UserId, at: DateTime<Utc>) -> Result<(), Refusal> {
        if self.state != ChangeState::Draft {
            return Err(Refusal::State(self.state));
        }
        if self.approvers.is_empty() {
            return Err(Refusal::NoApprovers);
        }
        self.decisions.clear();
        self.step(ChangeState::Submitted, by, at, "");
        Ok(())
    }

    /// An approver approves or rejects. A rejection needs a reason and ends the request; the
    /// last approval approves it (the caller then applies the effects in the same write).
    pub fn decide(
        &mut self,
        approver: u32,
        verdict: Verdict,
        comment: &str,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<Outcome, Refusal> {
        if self.state != ChangeState::Submitted {
            return Err(Refusal::State(self.state));
        }
        if !self.approvers.contains(&approver) {
            return Err(Refusal::NotAnApprover(approver));
        }
        if self.decisions.iter().any(|d| d.approver == approver) {
            return Err(Refusal::AlreadyDecided(approver));
        }
        if verdict == Verdict::Reject && comment.trim().is_empty() {
            return Err(Refusal::ReasonRequired);
        }
        self.decisions.push(Decision {
            approver,
            verdict,
            comment: comment.trim().to_string(),
            at,
            by,
        });
        Ok(self.settle(by, at))
    }

    /// After a decision or a departure: rejected, approved, or still waiting.
    fn settle(&mut self, by: UserId, at: DateTime<Utc>) -> Outcome {
        if self.decisions.iter().any(|d| d.verdict == Verdict::Reject) {
            self.step(ChangeState::Rejected, by, at, "");
            return Outcome::Rejected;
        }
        if self.pending().next().is_none() {
            self.step(ChangeState::Approved, by, at, "");
            return Outcome::Approved;
        }
        Outcome::Pending
    }

    /// An approver left the project. Their decision stands if they made one; if they had not,
    /// they are no longer waited for. With no approver left, a submitted request goes back to
    /// draft for new approvers; if everyone left has approved, it is approved.
    pub fn approver_left(&mut self, member: u32, by: UserId, at: DateTime<Utc>) -> Outcome {
        let decided = self.decisions.iter().any(|d| d.approver == member);
        if !decided {
            self.approvers.retain(|a| *a != member);
        }
        if self.state != ChangeState::Submitted {
            return Outcome::Pending;
        }
        if self.approvers.is_empty() {
            self.step(ChangeState::Draft, by, at, "every approver left the project");
            return Outcome::Pending;
        }
        if decided {
            return Outcome::Pending;
        }
        self.settle(by, at)
    }

    /// A leader puts a submitted request off (to a later phase), saying why.
    pub fn defer(&mut self, reason: &str, by: UserId, at: DateTime<Utc>) -> Result<(), Refusal> {
        if self.state != ChangeState::Submitted {
            return Err(Refusal::State(self.state));
        }
        if reason.trim().is_empty() {
            return Err(Refusal::ReasonRequired);
        }
        self.step(ChangeState::Deferred, by, at, reason.trim());
        Ok(())
    }

    pub fn withdraw(&mut self, reason: &str, by: UserId, at: DateTime<Utc>) -> Result<(), Refusal> {
        if !matches!(self.state, ChangeState::Draft | ChangeState::Submitted) {
            return Err(Refusal::State(self.state));
        }
        if reason.trim().is_empty() {
            return Err(Refusal::ReasonRequired);
        }
        self.step(ChangeState::Withdrawn, by, at, reason.trim());
        Ok(())
    }

    /// A rejected or deferred request becomes a requirement for the next phase (once).
    pub fn carry_over(&mut self) -> Result<(), Refusal> {
        if !matches!(self.state, ChangeState::Rejected | ChangeState::Deferred) {
            return Err(Refusal::State(self.state));
        }
        if self.carried_over {
            return Err(Refusal::AlreadyCarried);
        }
        self.carried_over = true;
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn at(h: u32) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("2027-02-01T{h:02}:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    }

    fn who() -> UserId {
        UserId(uuid::Uuid::nil())
    }

    pub(in crate::project) fn request(approvers: &[u32]) -> ChangeRequest {
        ChangeRequest {
            number: 40,
            version: 1,
            title: "Add marketing to phase 1".into(),
            description: String::new(),
            requested_by: Some(3),
            scope_impact: "Marketing's campaigns in scope".into(),
            requirements_impact: String::new(),
            effort_hours: 120.0,
            effects: vec![Effect::Budget { delta: 10_000_000 }],
            affected: vec!["Marketing".into()],
            approvers: approvers.to_vec(),
            decisions: Vec::new(),
            state: ChangeState::Draft,
            steps: Vec::new(),
            applied: Vec::new(),
            carried_over: false,
        }
    }

    #[test]
    fn takes_effect_only_when_every_approver_approves() {
        let mut cr = request(&[1, 2]);
        cr.submit(who(), at(9)).unwrap();
        assert_eq!(cr.decide(1, Verdict::Approve, "", who(), at(10)), Ok(Outcome::Pending));
        assert_eq!(cr.state, ChangeState::Submitted);
        assert_eq!(
            cr.decide(1, Verdict::Approve, "", who(), at(10)),
            Err(Refusal::AlreadyDecided(1))
        );
        assert_eq!(
            cr.decide(7, Verdict::Approve, "", who(), at(10)),
            Err(Refusal::NotAnApprover(7))
        );
        assert_eq!(
            cr.decide(2, Verdict::Approve, "ok", who(), at(11)),
            Ok(Outcome::Approved)
        );
        assert_eq!(cr.state, ChangeState::Approved);
        assert_eq!(
            cr.decide(2, Verdict::Reject, "late", who(), at(12)),
            Err(Refusal::State(ChangeState::Approved))
        );
        assert_eq!(cr.steps.len(), 2);
    }

    #[test]
    fn one_rejection_with_a_reason_ends_it_and_it_can_be_carried_over_once() {
        let mut cr = request(&[1, 2]);
        assert_eq!(
            cr.decide(1, Verdict::Approve, "", who(), at(9)),
            Err(Refusal::State(ChangeState::Draft))
        );
        cr.submit(who(), at(9)).unwrap();
        assert_eq!(
            cr.decide(2, Verdict::Reject, " ", who(), at(10)),
            Err(Refusal::ReasonRequired)
        );
        assert_eq!(
            cr.decide(2, Verdict::Reject, "No budget this year", who(), at(10)),
            Ok(Outcome::Rejected)
        );
        assert_eq!(cr.state, ChangeState::Rejected);
        assert_eq!(cr.carry_over(), Ok(()));
        assert_eq!(cr.carry_over(), Err(Refusal::AlreadyCarried));
    }

    #[test]
    fn submitting_needs_approvers_and_a_draft() {
        let mut cr = request(&[]);
        assert_eq!(cr.submit(who(), at(9)), Err(Refusal::NoApprovers));
        let mut cr = request(&[1]);
        cr.submit(who(), at(9)).unwrap();
        assert_eq!(cr.submit(who(), at(9)), Err(Refusal::State(ChangeState::Submitted)));
    }

    #[test]
    fn deferring_and_withdrawing_say_why() {
        let mut cr = request(&[1]);
        assert_eq!(cr.defer("later", who(), at(9)), Err(Refusal::State(ChangeState::Draft)));
        cr.submit(who(), at(9)).unwrap();
        assert_eq!(cr.defer("", who(), at(9)), Err(Refusal::ReasonRequired));
        cr.defer("Phase 2", who(), at(10)).unwrap();
        assert_eq!(cr.state, ChangeState::Deferred);
        assert_eq!(
            cr.withdraw("gone", who(), at(11)),
            Err(Refusal::State(ChangeState::Deferred))
        );
        cr.carry_over().unwrap();
        let mut cr = request(&[1]);
        assert_eq!(cr.withdraw("", who(), at(9)), Err(Refusal::ReasonRequired));
        cr.withdraw("Not needed", who(), at(9)).unwrap();
        assert_eq!(cr.carry_over(), Err(Refusal::State(ChangeState::Withdrawn)));
    }

    #[test]
    fn an_approver_leaving_the_project() {
        // The one who had not decided leaves: everyone left has approved, so it is approved.
        let mut cr = request(&[1, 2]);
        cr.submit(who(), at(9)).unwrap();
        cr.decide(1, Verdict::Approve, "", who(), at(10)).unwrap();
        assert_eq!(cr.approver_left(2, who(), at(11)), Outcome::Approved);
        assert_eq!(cr.state, ChangeState::Approved);
        assert_eq!(cr.approvers, [1]);
        // One who had approved leaves: the approval stands; the other is still waited for.
        let mut cr = request(&[1, 2]);
        cr.submit(who(), at(9)).unwrap();
        cr.decide(1, Verdict::Approve, "", who(), at(10)).unwrap();
        assert_eq!(cr.approver_left(1, who(), at(11)), Outcome::Pending);
        assert_eq!(cr.state, ChangeState::Submitted);
        assert_eq!(cr.decide(2, Verdict::Approve, "", who(), at(12)), Ok(Outcome::Approved));
        // The only approver leaves before deciding: back to draft, for new approvers.
        let mut cr = request(&[1]);
        cr.submit(who(), at(9)).unwrap();
        assert_eq!(cr.approver_left(1, who(), at(10)), Outcome::Pending);
        assert_eq!(cr.state, ChangeState::Draft);
        assert_eq!(cr.submit(who(), at(11)), Err(Refusal::NoApprovers));
        // A draft's approver leaving just leaves the list.
        let mut cr = request(&[1, 2]);
        assert_eq!(cr.approver_left(2, who(), at(9)), Outcome::Pending);
        assert_eq!((cr.state, cr.approvers.clone()), (ChangeState::Draft, vec![1]));
    }

    #[test]
    fn effects_read_as_json() {
        let e: Vec<Effect> = serde_json::from_str(
            r#"[{"kind": "move_task", "task": 12, "start": "2027-03-01", "finish": "2027-03-05"},
                {"kind": "budget", "delta": -500}]"#,
        )
        .unwrap();
        assert_eq!(e.len(), 2);
        assert!(serde_json::from_str::<Effect>(r#"{"kind": "budget", "delta": 1, "x": 2}"#).is_err());
    }
}
