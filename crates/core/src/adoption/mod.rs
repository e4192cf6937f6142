//! Adoption (C7, C8): how much each user uses Anchora, counted per day from what the system
//! already keeps (sign-ins in the audit log, creations and updates in the change log), and
//! scored against the user's team in three tiers that administrators weigh: access, process and
//! quality. Only daily counts are kept; the user, the lead of their team and administrators see
//! them, nobody else.

mod digest;
mod expectations;
mod score;
mod service;

pub use digest::{AdoptionMail, DigestLine};
pub use expectations::{Audience, Expectation, ExpectationStore, Expected, MAX_PER_WEEK, Measured, add_to, measure};
pub use score::{Figures, Scored, Tiers, median, score_team};
pub use service::{
    AdoptionBoard, MEASURED_THROUGH_KEY, PlannedSupport, RULES_KEY, TeamTrend, UserAdoption, UserRow, WEIGHTS_KEY,
    WINDOW_DAYS,
};

use crate::error::{Error, FieldError, Result};
use crate::ids::{TeamId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What is counted per user and day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Successful sign-ins (the audit log).
    SignIn,
    /// Records created, per object (an activity created is an activity logged).
    Created,
    /// Distinct records changed, per object.
    Updated,
    /// Activities marked done.
    Completed,
    /// Distinct deals whose stage changed.
    Moved,
}

impl Metric {
    pub const ALL: [Metric; 5] = [
        Metric::SignIn,
        Metric::Created,
        Metric::Updated,
        Metric::Completed,
        Metric::Moved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::SignIn => "sign_in",
            Metric::Created => "created",
            Metric::Updated => "updated",
            Metric::Completed => "completed",
            Metric::Moved => "moved",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// One user's count of one metric on one local day (`object` is "" where none applies).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageDay {
    pub user: UserId,
    pub day: NaiveDate,
    pub metric: Metric,
    pub object: String,
    pub n: i64,
}

/// The local days `first..=last` and the instants they span in the workspace's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageSpan {
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// A user's sums over one week of a span (week 0 starts on the span's first day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageWeek {
    pub user: UserId,
    pub week: i64,
    pub metric: Metric,
    pub object: String,
    pub n: i64,
}

/// A user's active days (days with anything counted) in one week of a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActiveWeek {
    pub user: UserId,
    pub week: i64,
    pub days: i64,
}

/// The last day a user signed in and the last day anything of theirs was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastDays {
    pub user: UserId,
    pub signed_in: Option<NaiveDate>,
    pub active: Option<NaiveDate>,
}

/// How much each tier weighs in a user's score, set by administrators (0–100 each, not all 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub access: u32,
    pub process: u32,
    pub quality: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            access: 40,
            process: 40,
            quality: 20,
        }
    }
}

impl Weights {
    pub fn check(&self) -> Result<()> {
        let mut errors = Vec::new();
        for (field, w) in [
            ("access", self.access),
            ("process", self.process),
            ("quality", self.quality),
        ] {
            if w > 100 {
                errors.push(FieldError::new(field, "a weight is between 0 and 100"));
            }
        }
        if errors.is_empty() && self.access + self.process + self.quality == 0 {
            errors.push(FieldError::new("access", "at least one tier must weigh something"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(errors))
        }
    }
}

/// When a user counts as weak, set by administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeakRules {
    /// No sign-in for this many days (1–365); a new user gets as long from their creation.
    pub no_sign_in_days: u32,
    /// Below half the team's median of records, activities and deal updates this many weeks
    /// running (1–8).
    pub below_half_weeks: u32,
    /// Whether weak users get a friendly weekly e-mail naming their key user.
    #[serde(default)]
    pub nudge: bool,
}

impl Default for WeakRules {
    fn default() -> Self {
        WeakRules {
            no_sign_in_days: 14,
            below_half_weeks: 2,
            nudge: false,
        }
    }
}

impl WeakRules {
    pub fn check(&self) -> Result<()> {
        let mut errors = Vec::new();
        if !(1..=365).contains(&self.no_sign_in_days) {
            errors.push(FieldError::new("no_sign_in_days", "is a number of days from 1 to 365"));
        }
        if !(1..=8).contains(&self.below_half_weeks) {
            errors.push(FieldError::new("below_half_weeks", "is a number of weeks from 1 to 8"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::validation(errors))
        }
    }
}

/// Why a user counts as weak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Weakness {
    /// No sign-in for `days` days (`None`: never since their account was made).
    NoSignIn { days: Option<i64> },
    /// Below half the team's median for `weeks` weeks running.
    BelowMedian { weeks: i64 },
}

/// Extra support planned for a user: the follow-up task given to a key user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportPlan {
    pub user: UserId,
    pub task: crate::ids::RecordId,
    pub planned_by: UserId,
    pub planned_at: DateTime<Utc>,
}

/// Where the daily usage figures and the teams' leads are kept.
#[async_trait]
pub trait AdoptionStore: Send + Sync {
    /// The first moment anything countable happened (a change or a sign-in).
    async fn first_usage_at(&self) -> Result<Option<DateTime<Utc>>>;
    /// Replace the figures of the span's days with those counted from the change log and the
    /// audit log between its instants, local days by the zone's offsets (one transaction).
    /// Returns the rows kept.
    async fn measure_usage(&self, span: &UsageSpan, offsets: &[(DateTime<Utc>, i32)]) -> Result<u64>;
    /// Forget the figures of the days before one (counting from scratch starts there).
    async fn forget_usage_before(&self, day: NaiveDate) -> Result<()>;
    /// Keep daily figures as given, replacing those of the same user, day, metric and object
    /// (a workspace brought over from elsewhere, the demo's history).
    async fn put_usage_days(&self, rows: &[UsageDay]) -> Result<()>;
    /// Every user's sums per week and metric, and active days per week, over `first..=last`.
    async fn usage_weeks(&self, first: NaiveDate, last: NaiveDate) -> Result<(Vec<UsageWeek>, Vec<ActiveWeek>)>;
    /// Each user's last day signed in and last active day, ever.
    async fn last_days(&self) -> Result<Vec<LastDays>>;
    /// One user's figures over `first..=last`, oldest first.
    async fn usage_days(&self, user: UserId, first: NaiveDate, last: NaiveDate) -> Result<Vec<UsageDay>>;
    /// Per owner, how many of their live deals had the close date moved later since a moment.
    async fn pushed_deals(&self, since: DateTime<Utc>) -> Result<Vec<(UserId, i64)>>;
    async fn team_leads(&self) -> Result<Vec<(TeamId, UserId)>>;
    /// Name a team's lead (their manager), or none.
    async fn set_team_lead(&self, team: TeamId, lead: Option<UserId>) -> Result<()>;
    async fn keep_support_plan(&self, plan: &SupportPlan) -> Result<()>;
    /// Every user's latest support plan since a moment.
    async fn support_plans(&self, since: DateTime<Utc>) -> Result<Vec<SupportPlan>>;
}
