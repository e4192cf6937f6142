//! Escalations (B12): an issue, a risk or an action the project cannot settle itself goes to
//! management. It stays on every status report and steering-group agenda until a decision is
//! recorded.

use crate::ids::UserId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationKind {
    Issue,
    Risk,
    Action,
}

impl EscalationKind {
    pub const ALL: [EscalationKind; 3] = [EscalationKind::Issue, EscalationKind::Risk, EscalationKind::Action];

    pub fn as_str(self) -> &'static str {
        match self {
            EscalationKind::Issue => "issue",
            EscalationKind::Risk => "risk",
            EscalationKind::Action => "action",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Management's decision on an escalation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ruling {
    pub text: String,
    pub at: DateTime<Utc>,
    pub by: UserId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Escalation {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub version: i64,
    pub kind: EscalationKind,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The action escalated, for kind `action`.
    pub action: Option<u32>,
    pub raised_by: UserId,
    pub raised_at: DateTime<Utc>,
    pub decision: Option<Ruling>,
}

impl Escalation {
    pub fn new(number: u32, kind: EscalationKind, title: &str, by: UserId, at: DateTime<Utc>) -> Self {
        Self {
            number,
            version: 1,
            kind,
            title: title.to_string(),
            description: String::new(),
            action: None,
            raised_by: by,
            raised_at: at,
            decision: None,
        }
    }

    pub fn open(&self) -> bool {
        self.decision.is_none()
    }
}
