//! A user's adoption score: each figure against the median of their team (so a team that
//! phones a lot and one that meets a lot are each measured by their own rhythm), in three tiers
//! weighed by administrators.

use super::Weights;
use crate::ids::UserId;
use serde::Serialize;

/// Days since the last sign-in at which the recency part of access is still whole, and at
/// which it has fallen to nothing.
const RECENT_DAYS: i64 = 7;
const GONE_DAYS: i64 = 28;

/// One user's figures over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub user: UserId,
    /// Days with a sign-in or anything counted.
    pub active_days: i64,
    /// Days since the last sign-in at the window's end; `None` for never.
    pub days_since_sign_in: Option<i64>,
    /// Records other than activities created or changed.
    pub records: i64,
    /// Activities logged or marked done.
    pub activities: i64,
    /// Deals moved to another stage or otherwise updated.
    pub deal_updates: i64,
    /// The average data-quality score (0–1) of the records they own, when known.
    pub quality: Option<f64>,
    /// Of their open deals, the share untouched for a month; `None` without open deals.
    pub stale_share: Option<f64>,
    /// Deals whose close date they moved later in the window, as a share of their open deals
    /// (at most 1); `None` without open deals.
    pub pushed_share: Option<f64>,
}

impl Figures {
    /// Nothing counted yet.
    pub fn of(user: UserId) -> Self {
        Figures {
            user,
            active_days: 0,
            days_since_sign_in: None,
            records: 0,
            activities: 0,
            deal_updates: 0,
            quality: None,
            stale_share: None,
            pushed_share: None,
        }
    }
}

/// The three tiers, 0–100 each; a tier with nothing to judge by is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Tiers {
    pub access: Option<f64>,
    pub process: Option<f64>,
    pub quality: Option<f64>,
}

impl Tiers {
    /// The tiers weighed together (weights of tiers without a figure left out), 0–100.
    pub fn overall(&self, w: Weights) -> Option<f64> {
        let parts = [
            (self.access, w.access),
            (self.process, w.process),
            (self.quality, w.quality),
        ];
        let (sum, weight) = parts
            .iter()
            .filter_map(|(t, w)| t.map(|t| (t * f64::from(*w), f64::from(*w))))
            .fold((0.0, 0.0), |(s, n), (ts, tw)| (s + ts, n + tw));
        (weight > 0.0).then(|| sum / weight)
    }
}

/// A user's tiers and score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    pub figures: Figures,
    pub tiers: Tiers,
    pub score: Option<f64>,
}

/// The median of some counts (the mean of the middle two for an even number); 0 for none.
pub fn median(values: &mut [i64]) -> f64 {
    values.sort_unstable();
    let mid = values.len() / 2;
    #[allow(clippy::cast_precision_loss)] // daily counts are far below 2^52
    let at = |i: usize| values.get(i).copied().unwrap_or(0) as f64;
    if values.is_empty() {
        0.0
    } else if values.len().is_multiple_of(2) {
        (at(mid - 1) + at(mid)) / 2.0
    } else {
        at(mid)
    }
}

/// How a count measures up to the team's median, 0–1: at or above the median is whole. A
/// figure the team does not have (median 0) says nothing, unless the user has some.
fn against(value: i64, median: f64) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    let value = value as f64;
    if median <= 0.0 {
        return (value > 0.0).then_some(1.0);
    }
    Some((value / median).min(1.0))
}

fn mean(parts: &[Option<f64>]) -> Option<f64> {
    let known: Vec<f64> = parts.iter().flatten().copied().collect();
    #[allow(clippy::cast_precision_loss)]
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

/// How recent the last sign-in is, 0–1: whole within a week, nothing after four.
fn recency(days_since: Option<i64>) -> f64 {
    match days_since {
        None => 0.0,
        Some(d) if d <= RECENT_DAYS => 1.0,
        Some(d) if d >= GONE_DAYS => 0.0,
        #[allow(clippy::cast_precision_loss)]
        Some(d) => (GONE_DAYS - d) as f64 / (GONE_DAYS - RECENT_DAYS) as f64,
    }
}

/// Score the members of one team (or the users without a team) against their team's medians;
/// where the team's median is nothing (most of it records nothing), against everyone's, so a
/// team that has not started is not its own yardstick.
pub fn score_team(members: &[Figures], everyone: &[Figures], weights: Weights) -> Vec<Scored> {
    let med = |f: fn(&Figures) -> i64| {
        let team = median(&mut members.iter().map(f).collect::<Vec<_>>());
        if team > 0.0 {
            team
        } else {
            median(&mut everyone.iter().map(f).collect::<Vec<_>>())
        }
    };
    let active = med(|f| f.active_days);
    let records = med(|f| f.records);
    let activities = med(|f| f.activities);
    let deals = med(|f| f.deal_updates);
    members
        .iter()
        .map(|f| {
            let access = mean(&[against(f.active_days, active), Some(recency(f.days_since_sign_in))]);
            // Where nobody anywhere records anything, the tier has nothing to judge by.
            let process = mean(&[
                against(f.records, records),
                against(f.activities, activities),
                against(f.deal_updates, deals),
            ]);
            let quality = mean(&[
                f.quality,
                f.stale_share.map(|s| 1.0 - s),
                f.pushed_share.map(|p| 1.0 - p),
            ]);
            let tiers = Tiers {
                access: access.map(|v| v * 100.0),
                process: process.map(|v| v * 100.0),
                quality: quality.map(|v| v * 100.0),
            };
            Scored {
                figures: f.clone(),
                score: tiers.overall(weights),
                tiers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: u128) -> UserId {
        UserId(uuid::Uuid::from_u128(n))
    }

    fn figures(n: u128, active: i64, since: Option<i64>, records: i64, activities: i64, deals: i64) -> Figures {
        Figures {
            user: user(n),
            active_days: active,
            days_since_sign_in: since,
            records,
            activities,
            deal_updates: deals,
            quality: None,
            stale_share: None,
            pushed_share: None,
        }
    }

    #[test]
    fn medians_of_odd_even_and_no_counts() {
        assert_eq!(median(&mut [5, 1, 3]), 3.0);
        assert_eq!(median(&mut [4, 1, 3, 2]), 2.5);
        assert_eq!(median(&mut []), 0.0);
    }

    #[test]
    fn a_user_at_the_median_is_whole_and_one_at_half_scores_half() {
        let team = [
            figures(1, 20, Some(0), 40, 20, 10),
            figures(2, 20, Some(1), 40, 20, 10),
            figures(3, 10, Some(3), 20, 10, 5),
        ];
        let scored = score_team(&team, &team, Weights::default());
        assert_eq!(scored[0].tiers.access, Some(100.0));
        assert_eq!(scored[0].tiers.process, Some(100.0));
        assert_eq!(scored[2].tiers.process, Some(50.0));
        // Half the active days, signed in three days ago: (0.5 + 1) / 2.
        assert_eq!(scored[2].tiers.access, Some(75.0));
        assert_eq!(scored[2].tiers.quality, None);
        // Quality unknown: access and process weigh 40 each.
        assert_eq!(scored[2].score, Some((75.0 * 40.0 + 50.0 * 40.0) / 80.0));
    }

    #[test]
    fn a_team_that_records_nothing_is_measured_against_everyone() {
        let idle = [
            figures(1, 5, Some(0), 0, 0, 0),
            figures(2, 5, Some(0), 0, 0, 0),
            figures(3, 5, Some(0), 2, 0, 0),
        ];
        let busy = [figures(4, 5, Some(0), 10, 0, 0), figures(5, 5, Some(0), 10, 0, 0)];
        let everyone: Vec<Figures> = idle.iter().chain(&busy).cloned().collect();
        let scored = score_team(&idle, &everyone, Weights::default());
        // The team's median is 0 records; everyone's is 2.
        assert_eq!(scored[0].tiers.process, Some(0.0));
        assert_eq!(scored[2].tiers.process, Some(100.0));
        let nothing = [figures(6, 0, None, 0, 0, 0)];
        assert_eq!(
            score_team(&nothing, &nothing, Weights::default())[0].tiers.process,
            None
        );
    }

    #[test]
    fn recency_falls_from_a_week_to_four_and_never_is_nothing() {
        assert_eq!(recency(Some(7)), 1.0);
        assert_eq!(recency(Some(28)), 0.0);
        assert!((recency(Some(14)) - 14.0 / 21.0).abs() < 1e-9);
        assert_eq!(recency(None), 0.0);
    }

    #[test]
    fn figures_the_team_lacks_say_nothing_and_quality_counts_stale_deals() {
        let mut a = figures(1, 10, Some(0), 10, 0, 0);
        a.quality = Some(0.8);
        a.stale_share = Some(0.5);
        let b = figures(2, 10, Some(0), 10, 0, 0);
        let pair = [a, b];
        let scored = score_team(&pair, &pair, Weights::default());
        assert_eq!(scored[0].tiers.process, Some(100.0));
        assert!((scored[0].tiers.quality.unwrap() - 65.0).abs() < 1e-9);
        let only_quality = Weights {
            access: 0,
            process: 0,
            quality: 100,
        };
        assert_eq!(scored[1].tiers.overall(only_quality), None);
    }

    #[test]
    fn weights_are_checked_by_name() {
        let bad = Weights {
            access: 101,
            process: 0,
            quality: 0,
        };
        assert_eq!(bad.check().unwrap_err().errors[0].field, "access");
        let none = Weights {
            access: 0,
            process: 0,
            quality: 0,
        };
        assert_eq!(none.check().unwrap_err().errors[0].field, "access");
        assert!(Weights::default().check().is_ok());
    }
}
