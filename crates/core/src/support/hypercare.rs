//! The hypercare view (issue 23, point 4): the questions of each team (department) raised in
//! the weeks after go-live, and how old the open ones are.
//!
//! The window is the support settings' hypercare: from its go-live day to `weeks` later, in the
//! support calendar's zone. Ages and times to resolution are **business time**: the open hours
//! of the support calendar between the question being raised and now (or its resolution),
//! waiting spans included — what a team waited, in the hours the desk was there to answer.
//!
//! Administrators and the system owner see every team; a key user the teams the stewardship
//! plan has them answer for (the same source the chain's routing asks); anyone else is refused
//! (403), as the support settings are.

use super::figures::median;
use super::store::{QuestionFilter, QuestionScope};
use super::{Question, SupportSettings};
use crate::auth::{Permission, Principal};
use crate::error::{Error, ErrorCode, Result};
use crate::ids::{QuestionId, TeamId};
use crate::service::Crm;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

/// Questions read at a time.
const PAGE: u32 = 200;

/// One team's hypercare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HypercareTeam {
    /// `None`: questions from people without a team.
    pub team: Option<TeamId>,
    pub name: String,
    /// Raised within the window.
    pub raised: u64,
    /// Of those, still open (not resolved or closed).
    pub open: u64,
    /// When the oldest open one was raised.
    pub oldest_open_since: Option<DateTime<Utc>>,
    /// Its age in open minutes of the support calendar (waiting included).
    pub oldest_open_business_minutes: Option<i64>,
    /// Median open minutes of the support calendar from raised to resolved, of those solved.
    pub median_resolution_business_minutes: Option<i64>,
    /// Agreed times breached (response or resolution, at any level).
    pub breaches: u64,
}

/// The hypercare window and its teams, as the reader may see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HypercareView {
    /// `None` when no hypercare is set: then `teams` is empty.
    pub go_live: Option<NaiveDate>,
    pub weeks: Option<u32>,
    /// The first day after the window.
    pub ends: Option<NaiveDate>,
    /// Whether today is within it.
    pub running: bool,
    /// Whether it is still to begin (go-live is after today).
    pub coming: bool,
    /// The zone the window's days and the open hours are read in.
    pub time_zone: String,
    /// Always `business`: ages and times to resolution count the support calendar's open time.
    pub age_basis: &'static str,
    /// Every team the reader may see (those without questions too), by name; then questions
    /// from people without a team, when there are any and the reader sees everything.
    pub teams: Vec<HypercareTeam>,
    /// All of the above together.
    pub total: HypercareTeam,
}

#[derive(Default)]
struct Tally {
    raised: u64,
    open: u64,
    oldest: Option<DateTime<Utc>>,
    resolutions: Vec<i64>,
    breaches: u64,
}

impl Tally {
    fn add(&mut self, settings: &SupportSettings, q: &Question, breaches: u64) {
        self.raised += 1;
        self.breaches += breaches;
        if q.status.is_open() {
            self.open += 1;
            self.oldest = Some(self.oldest.map_or(q.opened_at, |o| o.min(q.opened_at)));
        } else if let Some(done) = q.resolved_at.or(q.closed_at) {
            self.resolutions
                .push(settings.calendar.open_between(q.opened_at, done).num_minutes());
        }
    }

    fn row(self, team: Option<TeamId>, name: String, settings: &SupportSettings, now: DateTime<Utc>) -> HypercareTeam {
        HypercareTeam {
            team,
            name,
            raised: self.raised,
            open: self.open,
            oldest_open_since: self.oldest,
            oldest_open_business_minutes: self
                .oldest
                .map(|o| settings.calendar.open_between(o, now).num_minutes()),
            median_resolution_business_minutes: median(self.resolutions),
            breaches: self.breaches,
        }
    }
}

impl Crm {
    /// The teams whose hypercare the reader may see: `None` for every team (administrators,
    /// the system owner), else those they are a key user of; refused when there are none.
    async fn hypercare_teams(&self, who: &Principal) -> Result<Option<HashSet<TeamId>>> {
        // The same reading of the plan as the questions they may see.
        let mine: HashSet<TeamId> = match self.scope_of(who).await? {
            QuestionScope::All | QuestionScope::Of { owner: true, .. } => return Ok(None),
            QuestionScope::Of { teams, .. } => teams.into_iter().collect(),
        };
        if mine.is_empty() {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "the hypercare view is for administrators, the system owner and key users",
            ));
        }
        Ok(Some(mine))
    }

    /// Whether the reader looks after support (administrators, the system owner, key users
    /// the stewardship plan names, whatever their role): the hypercare view and the figures
    /// of the chain are theirs to open, and offered to them.
    pub async fn oversees_support(&self, who: &Principal) -> Result<bool> {
        match self.hypercare_teams(who).await {
            Ok(_) => Ok(true),
            Err(e) if e.code == ErrorCode::Forbidden => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Per team, the questions raised during hypercare: how many, how many still open, the
    /// oldest open one's age, the median time to resolution and the breaches.
    pub async fn hypercare_view(&self, who: &Principal) -> Result<HypercareView> {
        self.authorize(who, Permission::ReadRecords).await?;
        let allowed = self.hypercare_teams(who).await?;
        let settings = self.support_settings_now().await?;
        let now = self.clock.now();
        let zone = settings.calendar.time_zone;
        let mut view = HypercareView {
            go_live: None,
            weeks: None,
            ends: None,
            running: false,
            coming: false,
            time_zone: zone.name().to_string(),
            age_basis: "business",
            teams: Vec::new(),
            total: Tally::default().row(None, String::new(), &settings, now),
        };
        let Some(h) = settings.hypercare.clone() else {
            return Ok(view);
        };
        let ends = h
            .go_live
            .checked_add_days(Days::new(u64::from(h.weeks).saturating_mul(7)));
        view.go_live = Some(h.go_live);
        view.weeks = Some(h.weeks);
        view.ends = ends;
        view.running = settings.in_hypercare(now);
        view.coming = now.with_timezone(&zone).date_naive() < h.go_live;
        let in_window = |q: &Question| {
            let day = q.opened_at.with_timezone(&zone).date_naive();
            day >= h.go_live && ends.is_none_or(|e| day < e)
        };
        let seen = |q: &Question| allowed.as_ref().is_none_or(|a| q.team.is_some_and(|t| a.contains(&t)));

        let mut tallies: BTreeMap<Option<TeamId>, Tally> = BTreeMap::new();
        let mut total = Tally::default();
        let mut before = None;
        loop {
            let page = self
                .store
                .questions(&QuestionFilter::every(false, before, PAGE))
                .await?;
            let Some(last) = page.last() else { break };
            before = Some(last.number);
            let full = page.len() >= PAGE as usize;
            // Numbers follow the order questions were raised in: a page that ends before the
            // window is the last one needed.
            let past = last.opened_at.with_timezone(&zone).date_naive() < h.go_live;
            let mine: Vec<&Question> = page.iter().filter(|q| in_window(q) && seen(q)).collect();
            let ids: Vec<QuestionId> = mine.iter().map(|q| q.id).collect();
            let breached: Vec<QuestionId> = if ids.is_empty() {
                Vec::new()
            } else {
                self.store
                    .alerts_of_questions(&ids)
                    .await?
                    .into_iter()
                    .filter(|a| a.kind == "breach")
                    .map(|a| a.question)
                    .collect()
            };
            for q in mine {
                let breaches = u64::try_from(breached.iter().filter(|b| **b == q.id).count()).unwrap_or(u64::MAX);
                tallies.entry(q.team).or_default().add(&settings, q, breaches);
                total.add(&settings, q, breaches);
            }
            if !full || past {
                break;
            }
        }
        let mut teams = self.store.teams().await?;
        teams.sort_by_cached_key(|t| crate::text::fold_case(&t.name));
        for t in teams {
            if allowed.as_ref().is_some_and(|a| !a.contains(&t.id)) {
                continue;
            }
            let tally = tallies.remove(&Some(t.id)).unwrap_or_default();
            view.teams.push(tally.row(Some(t.id), t.name, &settings, now));
        }
        // Questions of people without a team, and of a team removed since.
        for (team, tally) in tallies {
            view.teams.push(tally.row(team, String::new(), &settings, now));
        }
        view.total = total.row(None, String::new(), &settings, now);
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_middle_or_the_mean_of_the_two_middles() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![30, 10, 20]), Some(20));
        assert_eq!(median(vec![40, 10, 20, 30]), Some(25));
    }
}
