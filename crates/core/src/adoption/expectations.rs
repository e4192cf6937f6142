//! Expectations from management (C8): targets per role or team, per week ("ten activities a
//! week", "the pipeline updated weekly"), set by administrators for any role or team and by a
//! team's lead for their team; shown against what each user actually did.

use super::score::Figures;
use super::{Metric, WINDOW_DAYS};
use crate::auth::{Permission, Principal, Role};
use crate::error::{Error, FieldError, Result};
use crate::ids::{RecordId, TeamId, UserId};
use crate::service::Crm;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The most any expectation may ask per week.
pub const MAX_PER_WEEK: u32 = 1000;

/// What an expectation counts, per week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// Days with a sign-in or anything done.
    ActiveDays,
    /// Records other than activities created or changed.
    Records,
    /// Activities logged or marked done.
    Activities,
    /// Deals moved or changed ("the pipeline updated weekly" is one a week).
    DealUpdates,
}

impl Expected {
    pub const ALL: [Expected; 4] = [
        Expected::ActiveDays,
        Expected::Records,
        Expected::Activities,
        Expected::DealUpdates,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Expected::ActiveDays => "active_days",
            Expected::Records => "records",
            Expected::Activities => "activities",
            Expected::DealUpdates => "deal_updates",
        }
    }

    pub fn parse(s: &str) -> Option<Expected> {
        Expected::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The figure of a week (or a window) this expectation reads.
    pub fn of(self, f: &Figures) -> i64 {
        match self {
            Expected::ActiveDays => f.active_days,
            Expected::Records => f.records,
            Expected::Activities => f.activities,
            Expected::DealUpdates => f.deal_updates,
        }
    }
}

/// Whom an expectation is for: everyone of a role, or a team (a team's wins over its
/// members' role's for the same figure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Role(Role),
    Team(TeamId),
}

impl Audience {
    /// As kept: `role:user`, `team:<id>`.
    pub fn key(&self) -> String {
        match self {
            Audience::Role(r) => format!("role:{}", r.as_str()),
            Audience::Team(t) => format!("team:{t}"),
        }
    }

    pub fn parse_key(s: &str) -> Option<Audience> {
        match s.split_once(':')? {
            ("role", r) => Role::parse(r).map(Audience::Role),
            ("team", t) => TeamId::parse(t).map(Audience::Team),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expectation {
    pub id: RecordId,
    pub audience: Audience,
    pub metric: Expected,
    pub per_week: u32,
    pub set_by: UserId,
    pub set_at: DateTime<Utc>,
}

/// An expectation against one user's actuals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Measured {
    pub metric: Expected,
    pub per_week: u32,
    /// Whether the user's team set it (else their role's).
    pub from_team: bool,
    /// The last seven days.
    pub this_week: i64,
    /// A week on average over the score's window.
    pub average: f64,
    /// Whether the last seven days met it.
    pub met: bool,
}

/// Where expectations are kept: one per audience and figure.
#[async_trait]
pub trait ExpectationStore: Send + Sync {
    /// Keep one, replacing the one of the same audience and figure; returns the kept id.
    async fn put_expectation(&self, e: &Expectation) -> Result<RecordId>;
    async fn expectations(&self) -> Result<Vec<Expectation>>;
    async fn delete_expectation(&self, id: RecordId) -> Result<bool>;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewExpectation {
    role: Option<String>,
    team: Option<String>,
    metric: String,
    per_week: u32,
}

/// Add one kept count to a user's figures: an activity created or done is an activity, a deal
/// changed (moved or otherwise) a deal update and a record, other creations and changes
/// records; sign-ins count only as active days.
pub fn add_to(f: &mut Figures, metric: Metric, object: &str, n: i64) {
    match (metric, object) {
        (Metric::Created, "activity") | (Metric::Completed, _) => f.activities += n,
        // A deal moved is among the deals changed that day: counted there, once.
        (Metric::Moved, _) => {}
        (Metric::Updated, "deal") => {
            f.deal_updates += n;
            f.records += n;
        }
        (Metric::Updated, "activity") | (Metric::SignIn, _) => {}
        (Metric::Created | Metric::Updated, _) => f.records += n,
    }
}

/// A user's expectations against their figures: their team's, and their role's for figures
/// the team set none for.
pub fn measure(
    all: &[Expectation],
    role: Role,
    team: Option<TeamId>,
    this_week: &Figures,
    window: &Figures,
) -> Vec<Measured> {
    let weeks = WINDOW_DAYS / 7;
    let mut out: Vec<Measured> = Vec::new();
    for from_team in [true, false] {
        for e in all {
            let applies = match e.audience {
                Audience::Team(t) => from_team && team == Some(t),
                Audience::Role(r) => !from_team && r == role,
            };
            if !applies || out.iter().any(|m| m.metric == e.metric) {
                continue;
            }
            let now = e.metric.of(this_week);
            #[allow(clippy::cast_precision_loss)]
            let average = e.metric.of(window) as f64 / weeks as f64;
            out.push(Measured {
                metric: e.metric,
                per_week: e.per_week,
                from_team,
                this_week: now,
                average,
                met: now >= i64::from(e.per_week),
            });
        }
    }
    out.sort_by_key(|m| m.metric);
    out
}

impl Crm {
    /// The caller's own expectations against what they did (the start page shows them).
    pub async fn my_expectations(&self, who: &Principal) -> Result<Vec<Measured>> {
        self.authorize(who, Permission::ReadRecords).await?;
        let all = self.store.expectations().await?;
        if all.is_empty() {
            return Ok(Vec::new());
        }
        let zone = self.time_zone().await?;
        let today = self.clock.now().with_timezone(&zone).date_naive();
        let first = today - chrono::Duration::days(WINDOW_DAYS - 1);
        let week_from = today - chrono::Duration::days(6);
        let mut window = Figures::of(who.user_id);
        let mut this_week = Figures::of(who.user_id);
        let mut days = std::collections::BTreeSet::new();
        for d in self.store.usage_days(who.user_id, first, today).await? {
            add_to(&mut window, d.metric, &d.object, d.n);
            if d.day >= week_from {
                add_to(&mut this_week, d.metric, &d.object, d.n);
            }
            days.insert(d.day);
        }
        window.active_days = i64::try_from(days.len()).unwrap_or(i64::MAX);
        this_week.active_days = i64::try_from(days.range(week_from..).count()).unwrap_or(i64::MAX);
        Ok(measure(&all, who.role, who.team, &this_week, &window))
    }

    /// Every expectation (anyone who may read records sees what is expected).
    pub async fn expectations(&self, who: &Principal) -> Result<Vec<Expectation>> {
        self.authorize(who, Permission::ReadRecords).await?;
        self.store.expectations().await
    }

    /// Set an expectation for a role (administrators) or a team (administrators and the
    /// team's lead), replacing the one for the same figure.
    pub async fn set_expectation(&self, who: &Principal, body: Json) -> Result<Expectation> {
        self.authorize(who, Permission::WriteRecords).await?;
        let new: NewExpectation = crate::service::from_body(body)?;
        let mut errors = Vec::new();
        let metric = Expected::parse(&new.metric);
        if metric.is_none() {
            errors.push(FieldError::new(
                "metric",
                "is one of active_days, records, activities, deal_updates",
            ));
        }
        if new.per_week > MAX_PER_WEEK {
            errors.push(FieldError::new("per_week", format!("is at most {MAX_PER_WEEK}")));
        } else if metric == Some(Expected::ActiveDays) && new.per_week > 7 {
            errors.push(FieldError::new("per_week", "a week has seven days"));
        }
        let audience = match (new.role.as_deref(), new.team.as_deref()) {
            (Some(r), None) => Role::parse(r).map(Audience::Role).or_else(|| {
                errors.push(FieldError::new("role", "is admin, key_user, user or read_only"));
                None
            }),
            (None, Some(t)) => {
                let team = TeamId::parse(t);
                let known = match team {
                    Some(id) => self.store.teams().await?.iter().any(|x| x.id == id),
                    None => false,
                };
                if known {
                    team.map(Audience::Team)
                } else {
                    errors.push(FieldError::new("team", "names no team"));
                    None
                }
            }
            _ => {
                errors.push(FieldError::new("role", "name a role or a team, one of them"));
                None
            }
        };
        let (Some(metric), Some(audience)) = (metric, audience) else {
            return Err(Error::validation(errors));
        };
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        self.may_expect(who, audience).await?;
        let now = self.clock.now();
        let mut e = Expectation {
            id: RecordId::new_at(now),
            audience,
            metric,
            per_week: new.per_week,
            set_by: who.user_id,
            set_at: now,
        };
        e.id = self.store.put_expectation(&e).await?;
        Ok(e)
    }

    pub async fn delete_expectation(&self, who: &Principal, id: &str) -> Result<()> {
        self.authorize(who, Permission::WriteRecords).await?;
        let missing = || Error::not_found(format!("expectation {id}"));
        let id = RecordId::parse(id).ok_or_else(missing)?;
        let e = self
            .store
            .expectations()
            .await?
            .into_iter()
            .find(|e| e.id == id)
            .ok_or_else(missing)?;
        self.may_expect(who, e.audience).await?;
        if !self.store.delete_expectation(id).await? {
            return Err(missing());
        }
        Ok(())
    }

    /// Administrators set any; a team's lead their team's.
    async fn may_expect(&self, who: &Principal, audience: Audience) -> Result<()> {
        if who.role == Role::Admin {
            return Ok(());
        }
        if let Audience::Team(team) = audience
            && self
                .store
                .team_leads()
                .await?
                .iter()
                .any(|(t, lead)| *t == team && *lead == who.user_id)
        {
            return Ok(());
        }
        Err(Error::new(
            crate::error::ErrorCode::Forbidden,
            "only administrators, and a team's lead for their team, set expectations",
        ))
    }
}
