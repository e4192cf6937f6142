//! What a project is made of, as stored: its settings (goals, phases, mandate, budget, cadence,
//! the departments and user groups it must reach, the health thresholds), the members of the
//! project group, the tasks of the plan and the work packages handed to the vendor.
//!
//! Members, tasks and work packages are numbered within their project (T-12, WP-3), as people
//! refer to them in meetings; the numbers are also the plan's task ids.

use super::health::Thresholds;
use super::roles::Assignment;
use super::thirds::{Area, DEFAULT_MAX_SYSTEM_SHARE};
use crate::ids::{ProjectId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A business goal and the strategy it serves: the "why" of the project (B15, B16).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    pub text: String,
    #[serde(default)]
    pub strategy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    pub name: String,
    pub start: NaiveDate,
    pub finish: NaiveDate,
}

/// Management's mandate for the project (B7): who granted it, when, for what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mandate {
    pub granted_by: String,
    pub granted_on: NaiveDate,
    pub scope: String,
}

/// The budget with its buffer made explicit (B6). Money in minor units (cents, öre).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub currency: String,
    /// The whole budget, buffer included.
    pub amount: i64,
    /// The part of `amount` held back for the unforeseen, in percent.
    pub buffer_percent: f64,
    /// Ordered or contracted so far (spent money included).
    #[serde(default)]
    pub committed: i64,
    /// Paid so far.
    #[serde(default)]
    pub spent: i64,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            currency: "EUR".into(),
            amount: 0,
            buffer_percent: 15.0,
            committed: 0,
            spent: 0,
        }
    }
}

/// Where the money stands.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BudgetStatus {
    /// The budget without the buffer: what the plan may use.
    pub base: i64,
    pub buffer: i64,
    /// Committed or spent, whichever is larger.
    pub used: i64,
    /// How much of the buffer the use has eaten into.
    pub buffer_used: i64,
    /// `buffer_used / buffer` (0 when there is no buffer).
    pub buffer_used_share: f64,
    pub remaining: i64,
    pub over_budget: bool,
}

impl Budget {
    pub fn status(&self) -> BudgetStatus {
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let buffer = (self.amount as f64 * self.buffer_percent.clamp(0.0, 100.0) / 100.0).round() as i64;
        let base = self.amount.saturating_sub(buffer);
        let used = self.committed.max(self.spent);
        let buffer_used = used.saturating_sub(base).clamp(0, buffer.max(0));
        #[allow(clippy::cast_precision_loss)]
        let buffer_used_share = if buffer > 0 {
            buffer_used as f64 / buffer as f64
        } else {
            0.0
        };
        BudgetStatus {
            base,
            buffer,
            used,
            buffer_used,
            buffer_used_share,
            remaining: self.amount.saturating_sub(used),
            over_budget: used > self.amount,
        }
    }
}

/// How often the project is on the management agenda (B7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    Weekly,
    Biweekly,
    Monthly,
    Quarterly,
}

impl Cadence {
    pub const ALL: [Cadence; 4] = [Cadence::Weekly, Cadence::Biweekly, Cadence::Monthly, Cadence::Quarterly];

    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Biweekly => "biweekly",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The next occasion after `d`: a week, two weeks, a month or a quarter later (the 31st
    /// becomes the month's last day).
    pub fn after(self, d: NaiveDate) -> NaiveDate {
        let next = match self {
            Cadence::Weekly => d.checked_add_days(chrono::Days::new(7)),
            Cadence::Biweekly => d.checked_add_days(chrono::Days::new(14)),
            Cadence::Monthly => d.checked_add_months(chrono::Months::new(1)),
            Cadence::Quarterly => d.checked_add_months(chrono::Months::new(3)),
        };
        next.unwrap_or(d)
    }

    /// Days of slack before a communication on this rhythm counts as overdue.
    pub fn grace_days(self) -> i64 {
        match self {
            Cadence::Weekly => 2,
            Cadence::Biweekly => 3,
            Cadence::Monthly => 5,
            Cadence::Quarterly => 10,
        }
    }
}

/// Everything about a project that is set as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub name: String,
    pub goals: Vec<Goal>,
    pub phases: Vec<Phase>,
    pub start: NaiveDate,
    pub target: NaiveDate,
    pub mandate: Option<Mandate>,
    pub budget: Budget,
    pub cadence: Cadence,
    /// Departments that must be represented in the project group (B1).
    pub departments: Vec<String>,
    /// User groups that need a key user each (B4).
    pub user_groups: Vec<String>,
    pub thresholds: Thresholds,
    /// Above this share of effort on the system, the rule of thirds warns (B8).
    pub max_system_share: f64,
    /// The status report's template (minijinja producing Markdown); the standard one when unset.
    #[serde(default)]
    pub report_template: Option<String>,
}

impl Settings {
    pub fn new(name: &str, start: NaiveDate, target: NaiveDate) -> Self {
        Self {
            name: name.into(),
            goals: Vec::new(),
            phases: Vec::new(),
            start,
            target,
            mandate: None,
            budget: Budget::default(),
            cadence: Cadence::Monthly,
            departments: Vec::new(),
            user_groups: Vec::new(),
            thresholds: Thresholds::default(),
            max_system_share: DEFAULT_MAX_SYSTEM_SHARE,
            report_template: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    pub id: ProjectId,
    /// Bumped by every change to the settings.
    pub version: i64,
    /// Bumped by every change to the dependencies, so two people adding dependencies at the same
    /// moment cannot close a cycle between them.
    pub plan_version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub settings: Settings,
}

/// A member's confirmation of their roles at the kick-off (B14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmation {
    pub at: DateTime<Utc>,
    pub by: UserId,
    /// The roles as they stood when confirmed.
    pub roles: Vec<String>,
}

/// A member's feedback on their role at the project review (B14).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub at: DateTime<Utc>,
    pub by: UserId,
    /// 1 (did not work) – 5 (worked well).
    pub rating: u8,
    pub text: String,
}

/// A person in the project group: an Anchora user, or an external contact (the vendor's staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub number: u32,
    pub version: i64,
    pub user: Option<UserId>,
    pub name: String,
    #[serde(default)]
    pub email: String,
    /// The member's organisation when external (the vendor), else empty.
    #[serde(default)]
    pub organisation: String,
    pub roles: Vec<Assignment>,
    pub kickoff: Option<Confirmation>,
    pub review: Option<Review>,
}

impl Member {
    pub fn external(&self) -> bool {
        self.user.is_none()
    }

    pub fn holds(&self, role: &str) -> bool {
        self.roles.iter().any(|a| a.role == role)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    NotStarted,
    InProgress,
    Blocked,
    Done,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [
        TaskStatus::NotStarted,
        TaskStatus::InProgress,
        TaskStatus::Blocked,
        TaskStatus::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::NotStarted => "not_started",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Blocked => "blocked",
            TaskStatus::Done => "done",
        }
    }
}

/// Who outside the project the task waits for (B9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalKind {
    Team,
    Vendor,
    ProcessChange,
}

impl ExternalKind {
    pub const ALL: [ExternalKind; 3] = [ExternalKind::Team, ExternalKind::Vendor, ExternalKind::ProcessChange];

    pub fn as_str(self) -> &'static str {
        match self {
            ExternalKind::Team => "team",
            ExternalKind::Vendor => "vendor",
            ExternalKind::ProcessChange => "process_change",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalDependency {
    pub kind: ExternalKind,
    /// Who: the other team, the vendor, the process owner.
    pub party: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub resolved: bool,
}

/// A task or milestone of the living plan (B9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub number: u32,
    pub version: i64,
    pub name: String,
    /// The member who owns it.
    pub owner: Option<u32>,
    #[serde(default)]
    pub phase: String,
    pub start: NaiveDate,
    pub finish: NaiveDate,
    pub milestone: bool,
    pub area: Area,
    pub status: TaskStatus,
    pub percent_done: f64,
    pub planned_hours: f64,
    pub actual_hours: f64,
    /// Minor units, in the budget's currency.
    pub planned_cost: i64,
    pub actual_cost: i64,
    #[serde(default)]
    pub external: Vec<ExternalDependency>,
}

/// Where a work package handed to the vendor stands (B5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    /// Being written by the project.
    Draft,
    /// With the vendor.
    HandedOver,
    /// The vendor says it is done; the project checks the result.
    Delivered,
    Accepted,
    /// The result was not good enough; back with the vendor.
    SentBack,
}

impl PackageState {
    pub const ALL: [PackageState; 5] = [
        PackageState::Draft,
        PackageState::HandedOver,
        PackageState::Delivered,
        PackageState::Accepted,
        PackageState::SentBack,
    ];

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PackageState::Draft => "draft",
            PackageState::HandedOver => "handed_over",
            PackageState::Delivered => "delivered",
            PackageState::Accepted => "accepted",
            PackageState::SentBack => "sent_back",
        }
    }

    /// The project hands a draft over; the vendor delivers (again, after a send-back); the
    /// project accepts the result or sends it back.
    pub fn may_become(self, next: PackageState) -> bool {
        use PackageState::*;
        matches!(
            (self, next),
            (Draft, HandedOver) | (HandedOver | SentBack, Delivered) | (Delivered, Accepted | SentBack)
        )
    }
}

/// One step in a work package's life, kept so the back-and-forth with the vendor is visible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageEvent {
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub state: PackageState,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkPackage {
    pub number: u32,
    pub version: i64,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The vendor's member responsible.
    pub vendor: Option<u32>,
    pub due: Option<NaiveDate>,
    pub state: PackageState,
    pub events: Vec<PackageEvent>,
}

/// The kinds of numbered items in a project, as stored.
pub const MEMBER: &str = "member";
pub const TASK: &str = "task";
pub const WORK_PACKAGE: &str = "work_package";
pub const CHANGE_REQUEST: &str = "change_request";
pub const MEETING: &str = "meeting";
pub const ACTION: &str = "action";
pub const ESCALATION: &str = "escalation";
pub const COMMUNICATION: &str = "communication";
pub const STATUS_REPORT: &str = "status_report";
pub const JOURNEY: &str = "journey";
pub const REQUIREMENT: &str = "requirement";
pub const CONFIGURATION: &str = "configuration";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_buffer_is_used_only_once_the_base_is() {
        let mut b = Budget {
            currency: "SEK".into(),
            amount: 1_000_000,
            buffer_percent: 20.0,
            committed: 700_000,
            spent: 500_000,
        };
        let s = b.status();
        assert_eq!(
            (s.base, s.buffer, s.used, s.buffer_used),
            (800_000, 200_000, 700_000, 0)
        );
        assert!(!s.over_budget);
        b.committed = 900_000;
        let s = b.status();
        assert_eq!(s.buffer_used, 100_000);
        assert!((s.buffer_used_share - 0.5).abs() < 1e-9);
        b.spent = 1_100_000;
        let s = b.status();
        assert_eq!((s.used, s.buffer_used, s.remaining), (1_100_000, 200_000, -100_000));
        assert!(s.over_budget);
    }

    #[test]
    fn work_packages_go_back_and_forth_until_accepted() {
        use PackageState::*;
        assert!(Draft.may_become(HandedOver));
        assert!(HandedOver.may_become(Delivered));
        assert!(Delivered.may_become(SentBack));
        assert!(SentBack.may_become(Delivered));
        assert!(Delivered.may_become(Accepted));
        assert!(!HandedOver.may_become(Accepted), "nothing to accept before delivery");
        assert!(!Accepted.may_become(SentBack));
        assert!(!Draft.may_become(Accepted));
        for s in PackageState::ALL {
            assert_eq!(PackageState::parse(s.as_str()), Some(s));
        }
    }
}
