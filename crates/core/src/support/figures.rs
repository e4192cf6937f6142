//! The support figures (issue 23, point 7): questions asked and solved per week, how fast each
//! level answers and solves, breaches and the top categories, over a span, of the questions the
//! reader may see. The support figures page asks for the last weeks; a dashboard's support
//! widgets for the period it is looked at, narrowed to the reader's own or their team's
//! questions by its scope ([`FigureSpan`]).

use super::Level;
use super::store::{FigureSpan, Narrowed};
use crate::auth::{Permission, Principal};
use crate::error::{Error, Result};
use crate::service::Crm;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;

/// The most categories the figures name.
const TOP_CATEGORIES: u32 = 10;

/// Questions opened and solved in one ISO week (in the zone the span's days begin in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeekFigure {
    /// `2026-W48`.
    pub week: String,
    pub opened: u64,
    pub solved: u64,
}

/// How fast one level answers: wall-clock minutes from opening, medians of the questions that
/// are at (or ended at) the level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelFigure {
    pub level: Level,
    pub questions: u64,
    pub median_response_minutes: Option<i64>,
    pub median_resolution_minutes: Option<i64>,
}

/// The support figures over a span, of the questions the reader may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportFigures {
    pub since: DateTime<Utc>,
    /// The end of the span, not in it: the start of tomorrow for the last weeks, the end of a
    /// dashboard's period.
    pub until: DateTime<Utc>,
    pub weeks: Vec<WeekFigure>,
    pub levels: Vec<LevelFigure>,
    pub breaches: u64,
    pub categories: Vec<CategoryFigure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryFigure {
    pub category: String,
    pub questions: u64,
}

/// The middle value (the mean of the middle two, rounded down); none of nothing.
pub(super) fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    if n % 2 == 1 {
        v.get(mid).copied()
    } else {
        Some((v.get(mid - 1)? + v.get(mid)?) / 2)
    }
}

impl SupportFigures {
    /// Questions asked in the span.
    pub fn asked(&self) -> u64 {
        self.weeks.iter().map(|w| w.opened).sum()
    }

    /// Questions solved in the span.
    pub fn solved(&self) -> u64 {
        self.weeks.iter().map(|w| w.solved).sum()
    }
}

/// `2026-W48`: the ISO week a day falls in.
fn week_key(day: NaiveDate) -> String {
    let w = day.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

impl Crm {
    /// Opened and solved per week, median minutes to first response and to resolution per
    /// level, breaches and the top categories, over the last `weeks` (12 unless given, 1 to
    /// 104), of the questions the reader may see.
    pub async fn support_figures(&self, who: &Principal, weeks: Option<&str>) -> Result<SupportFigures> {
        self.authorize(who, Permission::ReadRecords).await?;
        let weeks = match weeks.map(str::trim).filter(|w| !w.is_empty()) {
            None => 12,
            Some(w) => match w.parse::<i64>() {
                Ok(n) if (1..=104).contains(&n) => n,
                _ => return Err(Error::field("weeks", "is a number of weeks from 1 to 104")),
            },
        };
        // The last weeks up to today, all of today (a step taken this very moment too).
        let now = self.clock.now();
        let zone = self.support_settings_now().await?.calendar.time_zone;
        let tomorrow = now.with_timezone(&zone).date_naive() + Duration::days(1);
        let until = crate::zone::start_of_day(zone, tomorrow);
        let span = FigureSpan {
            scope: self.scope_of(who).await?,
            narrowed: Narrowed::Not,
            since: now - Duration::weeks(weeks),
            until,
        };
        self.support_figures_over(&span, zone).await
    }

    /// The figures of a span's questions (a reader's scope, narrowed) over `[since, until)`; weeks
    /// are keyed in `zone`, the zone the span's days begin in (a week of other midnights would
    /// list a week the span barely touches). A level's medians are of the questions opened in
    /// the span, however late they were answered. Weeks
    /// are listed up to today at most (a period that runs on has no figures ahead), a quiet
    /// one as zero.
    pub(crate) async fn support_figures_over(&self, span: &FigureSpan, zone: Tz) -> Result<SupportFigures> {
        let (since, until) = (span.since, span.until);
        let times = self.store.question_times(span).await?;
        // The span ends before `until`, and has no figures after today.
        let last = (until - Duration::seconds(1)).min(self.clock.now());
        let mut by_week = weeks_between(zone, since, last);
        let week_of = |t: DateTime<Utc>| week_key(t.with_timezone(&zone).date_naive());
        let within = |t: DateTime<Utc>| t >= since && t < until;
        let mut by_level: BTreeMap<Level, (u64, Vec<i64>, Vec<i64>)> = BTreeMap::new();
        for t in &times {
            if within(t.opened_at) {
                by_week.entry(week_of(t.opened_at)).or_default().0 += 1;
                let level = by_level.entry(t.level).or_default();
                level.0 += 1;
                if let Some(r) = t.first_response_at {
                    level.1.push((r - t.opened_at).num_minutes());
                }
                if let Some(r) = t.resolved_at {
                    level.2.push((r - t.opened_at).num_minutes());
                }
            }
            if let Some(r) = t.resolved_at.filter(|r| within(*r)) {
                by_week.entry(week_of(r)).or_default().1 += 1;
            }
        }
        Ok(SupportFigures {
            since,
            until,
            weeks: by_week
                .into_iter()
                .map(|(week, (opened, solved))| WeekFigure { week, opened, solved })
                .collect(),
            levels: by_level
                .into_iter()
                .map(|(level, (questions, response, resolution))| LevelFigure {
                    level,
                    questions,
                    median_response_minutes: median(response),
                    median_resolution_minutes: median(resolution),
                })
                .collect(),
            breaches: self.store.breach_count(span).await?,
            categories: self
                .store
                .category_counts(span, TOP_CATEGORIES)
                .await?
                .into_iter()
                .map(|(category, questions)| CategoryFigure { category, questions })
                .collect(),
        })
    }
}

/// Every ISO week from `since` to `last` (both in), as zero: a chart over them keeps time.
fn weeks_between(zone: Tz, since: DateTime<Utc>, last: DateTime<Utc>) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    let first = since.with_timezone(&zone).date_naive();
    let last = last.with_timezone(&zone).date_naive().max(first);
    let mut day = first;
    while day <= last {
        out.insert(week_key(day), (0, 0));
        day += Duration::days(7);
    }
    out.insert(week_key(last), (0, 0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_week_of_a_span_is_listed_across_a_new_year() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let weeks = weeks_between(
            chrono_tz::Europe::Stockholm,
            at("2026-12-20T23:30:00Z"),
            at("2027-01-05T10:00:00Z"),
        );
        // 20 Dec 23:30 UTC is the 21st in Stockholm: week 52 of 2026, then 53, then 1 of 2027.
        let keys: Vec<&str> = weeks.keys().map(String::as_str).collect();
        assert_eq!(keys, ["2026-W52", "2026-W53", "2027-W01"]);
        // A span ending before it begins lists its one week.
        assert_eq!(
            weeks_between(chrono_tz::UTC, at("2026-03-04T00:00:00Z"), at("2026-03-01T00:00:00Z")).len(),
            1
        );
    }

    #[test]
    fn a_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![30, 10, 20, 40]), Some(25));
        assert_eq!(median(vec![7]), Some(7));
        assert_eq!(median(Vec::new()), None);
    }
}
