//! The adoption use cases: count the days (a job), score users against their team, and show
//! the figures only to the user, the lead of their team and administrators.

use super::score::{Figures, Scored, score_team};
use super::{LastDays, SupportPlan, UsageDay, UsageSpan, WeakRules, Weakness, Weights};
use crate::auth::{Permission, Principal, Role};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::ids::{RecordId, TeamId, UserId};
use crate::jobs::{JobCtx, JobKind, JobView, NewJob};
use crate::meta::system_field;
use crate::reports::{GroupKey, ReportQuery};
use crate::service::Crm;
use crate::value::Value;
use chrono::{Duration, NaiveDate};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The days a score looks back over (four of the trend's weeks).
pub const WINDOW_DAYS: i64 = 28;
/// Weeks of trend shown.
const TREND_WEEKS: i64 = 8;
/// Days counted in one step of a measuring (one transaction each).
const MEASURE_STEP_DAYS: i64 = 31;
/// An open deal untouched this long is stale.
const STALE_DAYS: i64 = 30;
/// The objects whose data quality counts towards a user's quality tier.
const QUALITY_OBJECTS: [&str; 3] = ["person", "company", "deal"];
pub const WEIGHTS_KEY: &str = "adoption_weights";
pub const RULES_KEY: &str = "adoption_rules";
/// A support task is due the day it is planned: it shows on the key user's start page at once.
const SUPPORT_DUE_DAYS: i64 = 0;
/// The longest subject a support task may be given.
const MAX_SUBJECT: usize = 200;
/// Teams smaller than this do not show their medians to their members: a median of two or
/// three is a colleague's figure.
const MEDIAN_SHOWN_FROM: usize = 5;
/// The last local day whose figures are complete (a later measuring starts the day after).
pub const MEASURED_THROUGH_KEY: &str = "usage_measured_through";

/// One user on the adoption page.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub user: UserId,
    pub name: String,
    pub team: Option<TeamId>,
    pub team_name: Option<String>,
    #[serde(flatten)]
    pub scored: Scored,
    pub last_active: Option<NaiveDate>,
    /// The score week by week, oldest first (the current quality held for past weeks).
    pub trend: Vec<Option<f64>>,
    /// The rules this user falls under now; empty for a user doing well.
    pub weak: Vec<Weakness>,
    /// The open follow-up task of the extra support planned for them, if any.
    pub support: Option<RecordId>,
    /// What management expects of them against what they did.
    pub expectations: Vec<super::Measured>,
}

/// Extra support planned: the task made, and the key user it was given to (none when the
/// team has no key user: the task is then the planner's own).
#[derive(Debug, Clone, Serialize)]
pub struct PlannedSupport {
    pub task: RecordId,
    pub key_user: Option<UserId>,
    pub key_user_name: Option<String>,
}

/// A team's (or the organisation's) average score week by week.
#[derive(Debug, Clone, Serialize)]
pub struct TeamTrend {
    /// The whole organisation's, rather than a team's (or the users without one's).
    pub organisation: bool,
    pub team: Option<TeamId>,
    pub name: Option<String>,
    pub trend: Vec<Option<f64>>,
}

/// What the adoption page shows the caller: the users whose figures they may see.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptionBoard {
    pub today: NaiveDate,
    /// The first day of the score's window.
    pub since: NaiveDate,
    /// The first day of each trend week.
    pub weeks: Vec<NaiveDate>,
    pub weights: Weights,
    /// The last complete day counted; `None` before the first measuring.
    pub measured_through: Option<NaiveDate>,
    /// Whether the caller sees everyone (administrators).
    pub everyone: bool,
    pub users: Vec<UserRow>,
    /// The trends of the teams the caller sees whole, and the organisation's (administrators).
    pub teams: Vec<TeamTrend>,
}

/// One user's adoption page: their row and their daily figures over the trend's weeks.
#[derive(Debug, Clone, Serialize)]
pub struct UserAdoption {
    pub today: NaiveDate,
    pub since: NaiveDate,
    pub weeks: Vec<NaiveDate>,
    pub user: UserRow,
    /// The medians of their team (what their figures are measured against).
    pub team_median: BTreeMap<&'static str, f64>,
    pub days: Vec<UsageDay>,
}

/// A user with their figures week by week and over the window.
struct Member<'a> {
    user: &'a crate::identity::User,
    weeks: Vec<Figures>,
    window: Figures,
}

/// Everyone's scores at once: medians need the whole team.
pub(super) struct Scores {
    today: NaiveDate,
    first: NaiveDate,
    pub(super) rows: Vec<UserRow>,
    /// Per team: its size and its medians.
    medians: HashMap<Option<TeamId>, (usize, BTreeMap<&'static str, f64>)>,
    pub(super) leads: HashMap<TeamId, UserId>,
}

impl Crm {
    /// Count usage per user and day from the last complete day counted (or from the first
    /// thing ever counted) up to today; `from_scratch` counts everything again. The schedule
    /// runs it hourly; a step is one transaction, so a stopped job leaves whole days.
    pub async fn measure_usage(&self, from_scratch: bool, ctx: &JobCtx) -> Result<Json> {
        let zone = self.time_zone().await?;
        let offsets = crate::zone::offsets(zone);
        let now = self.clock.now();
        let today = now.with_timezone(&zone).date_naive();
        // Days counted in another zone began at other instants: count them all again.
        let kept = self.measured_through().await?;
        let through = match kept {
            Some((day, kept_zone)) if !from_scratch && kept_zone == zone.name() => Some(day),
            _ => None,
        };
        let first = match through {
            Some(day) => day.succ_opt().unwrap_or(day),
            None => match self.store.first_usage_at().await? {
                Some(at) => at.with_timezone(&zone).date_naive().min(today),
                None => today,
            },
        };
        if through.is_none() {
            // From scratch: nothing counted before the first day stays (a zone's old days, a
            // history seeded or brought over).
            self.store.forget_usage_before(first).await?;
        }
        let total = u64::try_from((today - first).num_days() / MEASURE_STEP_DAYS + 1).unwrap_or(1);
        ctx.phase("counting", Some(total));
        let mut start = first;
        let mut kept = 0;
        while start <= today {
            ctx.go_on()?;
            let last = (start + Duration::days(MEASURE_STEP_DAYS - 1)).min(today);
            let span = UsageSpan {
                first: start,
                last,
                from: crate::zone::start_of_day(zone, start),
                to: crate::zone::start_of_day(zone, last + Duration::days(1)),
            };
            kept += self.store.measure_usage(&span, &offsets).await?;
            ctx.advance(1);
            start = last + Duration::days(1);
        }
        // Today goes on: the next measuring counts it again.
        let complete = today.pred_opt().unwrap_or(today);
        self.store
            .put_setting(
                MEASURED_THROUGH_KEY,
                &json!({"day": complete, "zone": zone.name()}).to_string(),
            )
            .await?;
        Ok(json!({"from": first, "through": today, "rows_kept": kept}))
    }

    /// Count usage now, as a job (administrators; the schedule does it hourly). `from_scratch`
    /// counts every day again (after the time zone changed, say).
    pub async fn start_usage_measure(&self, who: &Principal, body: Json) -> Result<JobView> {
        self.authorize(who, Permission::ManageUsers).await?;
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Ask {
            #[serde(default)]
            from_scratch: bool,
        }
        let ask: Ask = if body.is_null() {
            Ask::default()
        } else {
            crate::service::from_body(body)?
        };
        let payload = json!({"from_scratch": ask.from_scratch});
        let job = NewJob::now(JobKind::UsageMeasure, payload, Some(who.user_id), self.clock.now());
        Ok(self.view_of(who, self.enqueue(job).await?))
    }

    /// The last complete day counted and the zone it was counted in.
    async fn measured_through(&self) -> Result<Option<(NaiveDate, String)>> {
        #[derive(serde::Deserialize)]
        struct Through {
            day: NaiveDate,
            zone: String,
        }
        Ok(self
            .store
            .setting(MEASURED_THROUGH_KEY)
            .await?
            .and_then(|t| serde_json::from_str::<Through>(&t).ok())
            .map(|t| (t.day, t.zone)))
    }

    pub async fn adoption_weights(&self) -> Result<Weights> {
        self.setting_or_default(WEIGHTS_KEY).await
    }

    /// A setting kept as JSON; its default when unset or unreadable (written by an older
    /// version, say).
    async fn setting_or_default<T: serde::de::DeserializeOwned + Default>(&self, key: &str) -> Result<T> {
        Ok(self
            .store
            .setting(key)
            .await?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default())
    }

    pub async fn adoption_rules(&self) -> Result<WeakRules> {
        self.setting_or_default(RULES_KEY).await
    }

    /// Set when a user counts as weak (administrators).
    pub async fn set_adoption_rules(&self, who: &Principal, body: Json) -> Result<WeakRules> {
        self.authorize(who, Permission::ManageUsers).await?;
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Asked {
            no_sign_in_days: u32,
            below_half_weeks: u32,
            /// Left out: as it was (a form that does not show it keeps it).
            nudge: Option<bool>,
        }
        let asked: Asked = crate::service::from_body(body)?;
        let rules = WeakRules {
            no_sign_in_days: asked.no_sign_in_days,
            below_half_weeks: asked.below_half_weeks,
            nudge: match asked.nudge {
                Some(n) => n,
                None => self.adoption_rules().await?.nudge,
            },
        };
        rules.check()?;
        self.store
            .put_setting(
                RULES_KEY,
                &serde_json::to_string(&rules).map_err(|e| Error::internal(e.to_string()))?,
            )
            .await?;
        Ok(rules)
    }

    /// Plan extra support for a user (the lead of their team, or an administrator): a
    /// follow-up task for the key user of their team, due today. Activities are seen by many,
    /// so the task says only whom to check in with, never why: the reasons stay on the
    /// adoption page. `subject` words it in the planner's language; by default English.
    pub async fn plan_support(&self, who: &Principal, user: &str, body: Json) -> Result<PlannedSupport> {
        self.authorize(who, Permission::WriteRecords).await?;
        #[derive(serde::Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct Ask {
            subject: Option<String>,
        }
        let ask: Ask = if body.is_null() {
            Ask::default()
        } else {
            crate::service::from_body(body)?
        };
        let hidden = || Error::not_found("no such user");
        let id = UserId::parse(user).ok_or_else(hidden)?;
        let target = self.store.user(id).await?.filter(|u| u.active).ok_or_else(hidden)?;
        let leads: HashMap<TeamId, UserId> = self.store.team_leads().await?.into_iter().collect();
        let leads_team = target.team.and_then(|t| leads.get(&t)) == Some(&who.user_id);
        if !(who.role == Role::Admin || leads_team) {
            return Err(hidden());
        }
        let key_user = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| {
                u.active && u.role == Role::KeyUser && u.id != id && target.team.is_some() && u.team == target.team
            })
            .min_by(|a, b| a.name.cmp(&b.name));
        let now = self.clock.now();
        let subject = ask
            .subject
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("Check in with {}", target.name));
        if subject.chars().count() > MAX_SUBJECT {
            return Err(Error::field("subject", format!("is at most {MAX_SUBJECT} characters")));
        }
        let task = json!({
            "type": "task",
            "subject": subject,
            "due_at": now + Duration::days(SUPPORT_DUE_DAYS),
            "owner": key_user.as_ref().map_or(who.user_id, |k| k.id).to_string(),
        });
        let (_, record) = self.create(who, "activity", &task).await?;
        self.store
            .keep_support_plan(&SupportPlan {
                user: id,
                task: record.id,
                planned_by: who.user_id,
                planned_at: now,
            })
            .await?;
        Ok(PlannedSupport {
            task: record.id,
            key_user: key_user.as_ref().map(|k| k.id),
            key_user_name: key_user.map(|k| k.name),
        })
    }

    /// Each user's newest support task of the window that is neither done nor deleted.
    async fn open_support(&self, now: chrono::DateTime<chrono::Utc>) -> Result<HashMap<UserId, RecordId>> {
        let (_, activity) = self.object("activity").await?;
        let mut newest: HashMap<UserId, SupportPlan> = HashMap::new();
        for plan in self.store.support_plans(now - Duration::days(WINDOW_DAYS)).await? {
            match newest.get(&plan.user) {
                Some(p) if p.planned_at >= plan.planned_at => {}
                _ => {
                    newest.insert(plan.user, plan);
                }
            }
        }
        let mut open = HashMap::new();
        for (user, plan) in newest {
            if let Some(task) = self.store.get_record(&activity, plan.task).await?
                && task.deleted_at.is_none()
                && task.values.get("done") != Some(&Value::Bool(true))
            {
                open.insert(user, plan.task);
            }
        }
        Ok(open)
    }

    /// Set how much each tier weighs (administrators).
    pub async fn set_adoption_weights(&self, who: &Principal, body: Json) -> Result<Weights> {
        self.authorize(who, Permission::ManageUsers).await?;
        let weights: Weights = crate::service::from_body(body)?;
        weights.check()?;
        self.store
            .put_setting(
                WEIGHTS_KEY,
                &serde_json::to_string(&weights).map_err(|e| Error::internal(e.to_string()))?,
            )
            .await?;
        Ok(weights)
    }

    /// Name a team's lead: their manager, who sees the team's usage (administrators).
    pub async fn set_team_lead(&self, who: &Principal, team: &str, body: Json) -> Result<Json> {
        self.authorize(who, Permission::ManageUsers).await?;
        let team_id = TeamId::parse(team).ok_or_else(|| Error::not_found("no such team"))?;
        if !self.store.teams().await?.iter().any(|t| t.id == team_id) {
            return Err(Error::not_found("no such team"));
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Lead {
            lead: Option<String>,
        }
        let lead: Lead = crate::service::from_body(body)?;
        let lead = match lead.lead.as_deref() {
            None => None,
            Some(text) => {
                let id = UserId::parse(text).ok_or_else(|| Error::field("lead", "is not a user's id"))?;
                match self.store.user(id).await? {
                    Some(u) if u.active => Some(id),
                    _ => return Err(Error::field("lead", "names no active user")),
                }
            }
        };
        self.store.set_team_lead(team_id, lead).await?;
        Ok(json!({"team": team_id, "lead": lead}))
    }

    /// The adoption page: the users whose figures the caller may see (themselves; the members
    /// of teams they lead; everyone for administrators), scored against their teams.
    pub async fn adoption_board(&self, who: &Principal) -> Result<AdoptionBoard> {
        self.authorize(who, Permission::ReadRecords).await?;
        let scores = self.scores().await?;
        let everyone = who.role == Role::Admin;
        let led: HashSet<TeamId> = scores
            .leads
            .iter()
            .filter(|(_, lead)| **lead == who.user_id)
            .map(|(team, _)| *team)
            .collect();
        let users: Vec<UserRow> = scores
            .rows
            .iter()
            .filter(|r| everyone || r.user == who.user_id || r.team.is_some_and(|t| led.contains(&t)))
            .cloned()
            .collect();
        let mut teams: Vec<TeamTrend> = Vec::new();
        let mut by_team: BTreeMap<Option<TeamId>, Vec<&UserRow>> = BTreeMap::new();
        for row in &scores.rows {
            by_team.entry(row.team).or_default().push(row);
        }
        for (team, members) in &by_team {
            if everyone || team.is_some_and(|t| led.contains(&t)) {
                teams.push(TeamTrend {
                    organisation: false,
                    team: *team,
                    name: members.first().and_then(|m| m.team_name.clone()),
                    trend: average_trend(members),
                });
            }
        }
        if everyone {
            teams.push(TeamTrend {
                organisation: true,
                team: None,
                name: None,
                trend: average_trend(&scores.rows.iter().collect::<Vec<_>>()),
            });
        }
        Ok(AdoptionBoard {
            today: scores.today,
            since: scores.today - Duration::days(WINDOW_DAYS - 1),
            weeks: week_starts(scores.first),
            weights: self.adoption_weights().await?,
            measured_through: self.measured_through().await?.map(|(day, _)| day),
            everyone,
            users,
            teams,
        })
    }

    /// One user's figures: for themselves, the lead of their team and administrators; to
    /// anyone else the user does not exist.
    pub async fn user_adoption(&self, who: &Principal, user: &str) -> Result<UserAdoption> {
        self.authorize(who, Permission::ReadRecords).await?;
        let hidden = || Error::not_found("no such user");
        let id = UserId::parse(user).ok_or_else(hidden)?;
        let scores = self.scores().await?;
        let row = scores.rows.iter().find(|r| r.user == id).ok_or_else(hidden)?;
        let leads_team = row.team.and_then(|t| scores.leads.get(&t)) == Some(&who.user_id);
        if !(who.role == Role::Admin || who.user_id == id || leads_team) {
            return Err(hidden());
        }
        let days = self.store.usage_days(id, scores.first, scores.today).await?;
        Ok(UserAdoption {
            today: scores.today,
            since: scores.today - Duration::days(WINDOW_DAYS - 1),
            weeks: week_starts(scores.first),
            team_median: if who.user_id == id && who.role != Role::Admin && !leads_team {
                scores
                    .medians
                    .get(&row.team)
                    .filter(|(size, _)| *size >= MEDIAN_SHOWN_FROM)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default()
            } else {
                scores
                    .medians
                    .get(&row.team)
                    .map(|(_, m)| m.clone())
                    .unwrap_or_default()
            },
            user: row.clone(),
            days,
        })
    }

    pub(super) async fn scores(&self) -> Result<Scores> {
        let zone = self.time_zone().await?;
        let now = self.clock.now();
        let today = now.with_timezone(&zone).date_naive();
        let first = today - Duration::days(TREND_WEEKS * 7 - 1);
        let weights = self.adoption_weights().await?;
        // People who sign in: active and with an address (a token's service user has none).
        let users: Vec<_> = self
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active && u.email.is_some())
            .collect();
        let team_names: HashMap<TeamId, String> =
            self.store.teams().await?.into_iter().map(|t| (t.id, t.name)).collect();
        let leads: HashMap<TeamId, UserId> = self.store.team_leads().await?.into_iter().collect();
        let (sums, active) = self.store.usage_weeks(first, today).await?;
        let last: HashMap<UserId, LastDays> = self.store.last_days().await?.into_iter().map(|l| (l.user, l)).collect();
        let quality = self.owner_quality().await?;
        let (stale, pushed) = self.deal_shares(now).await?;
        let rules = self.adoption_rules().await?;
        let support = self.open_support(now).await?;
        let expected = self.store.expectations().await?;

        // Per user and week: the figures of that week alone (active days, records…).
        let weeks = usize::try_from(TREND_WEEKS).unwrap_or(8);
        let mut weekly: HashMap<UserId, Vec<Figures>> =
            users.iter().map(|u| (u.id, vec![Figures::of(u.id); weeks])).collect();
        for s in &sums {
            if let Some(w) = weekly
                .get_mut(&s.user)
                .and_then(|v| v.get_mut(usize::try_from(s.week).ok()?))
            {
                super::expectations::add_to(w, s.metric, &s.object, s.n);
            }
        }
        for a in &active {
            if let Some(w) = weekly
                .get_mut(&a.user)
                .and_then(|v| v.get_mut(usize::try_from(a.week).ok()?))
            {
                w.active_days += a.days;
            }
        }
        let window_weeks = usize::try_from(WINDOW_DAYS / 7).unwrap_or(4);
        let mut teams_of: BTreeMap<Option<TeamId>, Vec<Member>> = BTreeMap::new();
        for u in &users {
            let weeks_of = weekly.remove(&u.id).unwrap_or_else(|| vec![Figures::of(u.id); weeks]);
            let mut f = Figures::of(u.id);
            for w in weeks_of.iter().skip(weeks.saturating_sub(window_weeks)) {
                f.active_days += w.active_days;
                f.records += w.records;
                f.activities += w.activities;
                f.deal_updates += w.deal_updates;
            }
            f.days_since_sign_in = last
                .get(&u.id)
                .and_then(|l| l.signed_in)
                .map(|d| (today - d).num_days().max(0));
            f.quality = quality.get(&u.id).copied();
            f.stale_share = stale.get(&u.id).copied();
            f.pushed_share = pushed.get(&u.id).copied();
            teams_of.entry(u.team).or_default().push(Member {
                user: u,
                weeks: weeks_of,
                window: f,
            });
        }

        // Score each team against itself, the window and each trend week alike.
        let everyone: Vec<Figures> = teams_of.values().flatten().map(|m| m.window.clone()).collect();
        let everyone_weekly: Vec<Vec<Figures>> = (0..weeks)
            .map(|week| {
                teams_of
                    .values()
                    .flatten()
                    .filter_map(|m| m.weeks.get(week).cloned())
                    .map(|mut f| {
                        f.active_days *= 4;
                        f
                    })
                    .collect()
            })
            .collect();
        let mut rows: Vec<UserRow> = Vec::with_capacity(users.len());
        let mut medians = HashMap::new();
        for (team, members) in &teams_of {
            let figures: Vec<Figures> = members.iter().map(|m| m.window.clone()).collect();
            medians.insert(*team, (figures.len(), team_medians(&figures)));
            let scored = score_team(&figures, &everyone, weights);
            let below = below_half_weeks(&members.iter().map(|m| m.weeks.as_slice()).collect::<Vec<_>>());
            let mut trends: Vec<Vec<Option<f64>>> = vec![Vec::with_capacity(weeks); members.len()];
            for (week, everyone_then) in everyone_weekly.iter().enumerate() {
                let of_week: Vec<Figures> = members
                    .iter()
                    .map(|m| {
                        let mut f = m.weeks.get(week).cloned().unwrap_or_else(|| Figures::of(m.user.id));
                        // A week stands for a quarter of the window; recency and quality as now.
                        f.active_days *= 4;
                        f.days_since_sign_in = m.window.days_since_sign_in.map(|_| 0);
                        f.quality = m.window.quality;
                        f.stale_share = m.window.stale_share;
                        f.pushed_share = m.window.pushed_share;
                        f
                    })
                    .collect();
                for (trend, s) in trends.iter_mut().zip(score_team(&of_week, everyone_then, weights)) {
                    trend.push(s.score);
                }
            }
            for (((m, s), trend), below) in members.iter().zip(scored).zip(trends).zip(below) {
                let u = m.user;
                let mut weak = Vec::new();
                let since_made = (today - u.created_at.with_timezone(&zone).date_naive()).num_days();
                let limit = i64::from(rules.no_sign_in_days);
                match m.window.days_since_sign_in {
                    Some(days) if days >= limit => weak.push(Weakness::NoSignIn { days: Some(days) }),
                    None if since_made >= limit => weak.push(Weakness::NoSignIn { days: None }),
                    _ => {}
                }
                // Weeks before the account was made are not weeks of falling behind.
                let below = below.min(since_made.max(0) / 7);
                if below >= i64::from(rules.below_half_weeks) {
                    weak.push(Weakness::BelowMedian { weeks: below });
                }
                let last_week = m.weeks.last().cloned().unwrap_or_else(|| Figures::of(u.id));
                let expectations = super::expectations::measure(&expected, u.role, u.team, &last_week, &m.window);
                rows.push(UserRow {
                    user: u.id,
                    name: u.name.clone(),
                    team: u.team,
                    team_name: u.team.and_then(|t| team_names.get(&t).cloned()),
                    scored: s,
                    last_active: last.get(&u.id).and_then(|l| l.active),
                    trend,
                    weak,
                    support: support.get(&u.id).copied(),
                    expectations,
                });
            }
        }
        rows.sort_by(|a, b| {
            a.scored
                .score
                .unwrap_or(0.0)
                .total_cmp(&b.scored.score.unwrap_or(0.0))
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(Scores {
            today,
            first,
            rows,
            medians,
            leads,
        })
    }

    /// Each owner's average data-quality score over the objects measured, by their records.
    async fn owner_quality(&self) -> Result<HashMap<UserId, f64>> {
        let mut sums: HashMap<UserId, (f64, f64)> = HashMap::new();
        for object in QUALITY_OBJECTS {
            for day in self.store.latest_quality_day(object).await? {
                if day.scope != "owner" {
                    continue;
                }
                if let Some(user) = UserId::parse(&day.key) {
                    #[allow(clippy::cast_precision_loss)]
                    let n = day.summary.records as f64;
                    let e = sums.entry(user).or_default();
                    e.0 += day.summary.score * n;
                    e.1 += n;
                }
            }
        }
        Ok(sums
            .into_iter()
            .filter(|(_, (_, n))| *n > 0.0)
            .map(|(u, (s, n))| (u, s / n))
            .collect())
    }

    /// Each owner's share of open deals untouched for [`STALE_DAYS`], and of deals whose close
    /// date they moved later within the window (against their open deals, at most 1).
    async fn deal_shares(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(HashMap<UserId, f64>, HashMap<UserId, f64>)> {
        let (_, deal) = self.object("deal").await?;
        let Some(owner) = system_field("owner") else {
            return Ok(Default::default());
        };
        let open = json!({"not": {"field": "stage", "op": "in", "value": ["won", "lost"]}});
        let stale = json!({"and": [open.clone(),
            {"field": "updated_at", "op": "lt", "value": now - Duration::days(STALE_DAYS)}]});
        let mut counts: Vec<HashMap<UserId, i64>> = Vec::new();
        for filter in [open, stale] {
            let condition = Filter::parse(&filter)?.resolve(&deal, now)?;
            let query = ReportQuery {
                filter: Some(condition),
                owners: None,
                keys: vec![GroupKey::Column(owner.clone())],
                measure: None,
                weight: None,
            };
            let mut by_owner = HashMap::new();
            for row in self.store.report_rows(&deal, &query).await? {
                if let Some(Value::User(u)) = row.keys.first() {
                    by_owner.insert(*u, row.count);
                }
            }
            counts.push(by_owner);
        }
        let (open, stale) = match counts.as_slice() {
            [open, stale] => (open, stale),
            _ => return Ok(Default::default()),
        };
        let pushed: HashMap<UserId, i64> = self
            .store
            .pushed_deals(now - Duration::days(WINDOW_DAYS))
            .await?
            .into_iter()
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let share = |of: &HashMap<UserId, i64>| -> HashMap<UserId, f64> {
            open.iter()
                .filter(|(_, n)| **n > 0)
                .map(|(u, n)| (*u, (of.get(u).copied().unwrap_or(0) as f64 / *n as f64).min(1.0)))
                .collect()
        };
        Ok((share(stale), share(&pushed)))
    }
}

/// For each member, how many weeks up to the last one they stayed below half the team's
/// median of records, activities and deal updates (weeks where the median is nothing do not
/// count either way: they end a run).
fn below_half_weeks(members: &[&[Figures]]) -> Vec<i64> {
    let weeks = members.first().map_or(0, |m| m.len());
    let work = |m: &[Figures], week: usize| m.get(week).map_or(0, |f| f.records + f.activities + f.deal_updates);
    let mut runs = vec![0i64; members.len()];
    let mut going = vec![true; members.len()];
    for week in (0..weeks).rev() {
        let median = super::median(&mut members.iter().map(|m| work(m, week)).collect::<Vec<_>>());
        for ((m, run), on) in members.iter().zip(runs.iter_mut()).zip(going.iter_mut()) {
            #[allow(clippy::cast_precision_loss)]
            let below = median > 0.0 && (work(m, week) as f64) * 2.0 < median;
            if *on && below {
                *run += 1;
            } else {
                *on = false;
            }
        }
    }
    runs
}

fn team_medians(figures: &[Figures]) -> BTreeMap<&'static str, f64> {
    let med = |f: fn(&Figures) -> i64| super::median(&mut figures.iter().map(f).collect::<Vec<_>>());
    BTreeMap::from([
        ("active_days", med(|f| f.active_days)),
        ("records", med(|f| f.records)),
        ("activities", med(|f| f.activities)),
        ("deal_updates", med(|f| f.deal_updates)),
    ])
}

fn week_starts(first: NaiveDate) -> Vec<NaiveDate> {
    (0..TREND_WEEKS).map(|w| first + Duration::days(w * 7)).collect()
}

fn average_trend(rows: &[&UserRow]) -> Vec<Option<f64>> {
    let weeks = usize::try_from(TREND_WEEKS).unwrap_or(8);
    (0..weeks)
        .map(|w| {
            let known: Vec<f64> = rows.iter().filter_map(|r| r.trend.get(w).copied().flatten()).collect();
            #[allow(clippy::cast_precision_loss)]
            (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn week(records: i64) -> Figures {
        let mut f = Figures::of(UserId(uuid::Uuid::nil()));
        f.records = records;
        f
    }

    #[test]
    fn runs_below_half_the_median_count_back_from_the_last_week() {
        // Three members over four weeks; the median of each week is the middle member's.
        let busy = vec![week(10), week(10), week(10), week(10)];
        let middle = vec![week(4), week(4), week(4), week(4)];
        let weak = vec![week(0), week(3), week(1), week(1)];
        let runs = below_half_weeks(&[&busy, &middle, &weak]);
        assert_eq!(
            runs,
            [0, 0, 2],
            "the weak member's last two weeks; the week before was at 3"
        );
        // A week where nobody works ends a run.
        let idle = vec![week(0), week(0)];
        assert_eq!(below_half_weeks(&[&idle, &idle, &idle]), [0, 0, 0]);
    }
}
