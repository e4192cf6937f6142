//! Calendar periods: the buckets a report groups dates by (day, ISO week, month, quarter,
//! year) and the relative periods a filter names ("this week", "last quarter"). Weeks start on
//! Monday and belong to the ISO year of their Thursday, so the week of 31 December 2026 is
//! week 53 of 2026 and the one of 1 January 2027 too.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Bucket {
    pub const ALL: [Bucket; 5] = [Bucket::Day, Bucket::Week, Bucket::Month, Bucket::Quarter, Bucket::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
            Bucket::Quarter => "quarter",
            Bucket::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// The first day of the bucket a day falls in.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Bucket::Day => day,
            Bucket::Week => day - Days::new(u64::from(day.weekday().num_days_from_monday())),
            Bucket::Month => day.with_day(1).unwrap_or(day),
            Bucket::Quarter => {
                let month = (day.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
            }
            Bucket::Year => NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day),
        }
    }

    /// The first day of the bucket `n` buckets after (or before, when negative) the one that
    /// starts on `start`.
    pub fn step(self, start: NaiveDate, n: i32) -> NaiveDate {
        let months = |m: i32| {
            let shifted = if m >= 0 {
                start.checked_add_months(Months::new(m.unsigned_abs()))
            } else {
                start.checked_sub_months(Months::new(m.unsigned_abs()))
            };
            shifted.unwrap_or(start)
        };
        let days = |d: i64| {
            let shifted = if d >= 0 {
                start.checked_add_days(Days::new(d.unsigned_abs()))
            } else {
                start.checked_sub_days(Days::new(d.unsigned_abs()))
            };
            shifted.unwrap_or(start)
        };
        match self {
            Bucket::Day => days(i64::from(n)),
            Bucket::Week => days(i64::from(n) * 7),
            Bucket::Month => months(n),
            Bucket::Quarter => months(n * 3),
            Bucket::Year => months(n * 12),
        }
    }

    /// A bucket's name as every language writes it alike: `2026-03-05`, `2026-W09`,
    /// `2026-03`, `2026-Q1`, `2026`.
    pub fn key(self, start: NaiveDate) -> String {
        match self {
            Bucket::Day => start.format("%Y-%m-%d").to_string(),
            Bucket::Week => {
                let w = start.iso_week();
                format!("{}-W{:02}", w.year(), w.week())
            }
            Bucket::Month => start.format("%Y-%m").to_string(),
            Bucket::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
            Bucket::Year => start.year().to_string(),
        }
    }
}

/// A period named relative to today: `this_week`, `last_month`, `next_quarter`, `today`…
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelativePeriod {
    pub bucket: Bucket,
    /// 0 this, -1 last, 1 next.
    pub offset: i32,
}

impl RelativePeriod {
    /// Every name a filter takes, in the order a builder offers them.
    pub const NAMES: [&'static str; 15] = [
        "today",
        "yesterday",
        "this_week",
        "last_week",
        "next_week",
        "this_month",
        "last_month",
        "next_month",
        "this_quarter",
        "last_quarter",
        "next_quarter",
        "this_year",
        "last_year",
        "next_year",
        "tomorrow",
    ];

    pub fn parse(name: &str) -> Option<RelativePeriod> {
        let day = |offset| {
            Some(RelativePeriod {
                bucket: Bucket::Day,
                offset,
            })
        };
        match name {
            "today" => return day(0),
            "yesterday" => return day(-1),
            "tomorrow" => return day(1),
            _ => {}
        }
        let (which, unit) = name.split_once('_')?;
        let offset = match which {
            "this" => 0,
            "last" => -1,
            "next" => 1,
            _ => return None,
        };
        let bucket = Bucket::parse(unit).filter(|b| *b != Bucket::Day)?;
        Some(RelativePeriod { bucket, offset })
    }

    /// The period's days as `[first, end)`, from the local day it is today.
    pub fn days(self, today: NaiveDate) -> (NaiveDate, NaiveDate) {
        let start = self.bucket.step(self.bucket.start_of(today), self.offset);
        (start, self.bucket.step(start, 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weeks_across_a_year_boundary_belong_to_the_iso_year_of_their_thursday() {
        // 2026-12-31 is a Thursday: its week is 2026-W53 and runs to Sunday 2027-01-03.
        let start = Bucket::Week.start_of(d(2026, 12, 31));
        assert_eq!(start, d(2026, 12, 28));
        assert_eq!(Bucket::Week.start_of(d(2027, 1, 3)), start);
        assert_eq!(Bucket::Week.key(start), "2026-W53");
        assert_eq!(Bucket::Week.key(Bucket::Week.start_of(d(2027, 1, 4))), "2027-W01");
        // 2024-12-30 (a Monday) starts 2025-W01.
        assert_eq!(Bucket::Week.key(Bucket::Week.start_of(d(2025, 1, 1))), "2025-W01");
        assert_eq!(Bucket::Week.start_of(d(2025, 1, 1)), d(2024, 12, 30));
    }

    #[test]
    fn months_quarters_and_years_start_on_their_first_day() {
        assert_eq!(Bucket::Quarter.start_of(d(2026, 6, 30)), d(2026, 4, 1));
        assert_eq!(Bucket::Quarter.key(d(2026, 10, 1)), "2026-Q4");
        assert_eq!(Bucket::Month.step(d(2026, 12, 1), 1), d(2027, 1, 1));
        assert_eq!(Bucket::Quarter.step(d(2026, 1, 1), -1), d(2025, 10, 1));
        assert_eq!(Bucket::Year.key(d(2026, 1, 1)), "2026");
    }

    #[test]
    fn relative_periods_are_whole_buckets_around_today() {
        let today = d(2026, 1, 1);
        assert_eq!(
            RelativePeriod::parse("last_quarter").unwrap().days(today),
            (d(2025, 10, 1), d(2026, 1, 1))
        );
        assert_eq!(
            RelativePeriod::parse("this_week").unwrap().days(today),
            (d(2025, 12, 29), d(2026, 1, 5))
        );
        assert_eq!(
            RelativePeriod::parse("yesterday").unwrap().days(today),
            (d(2025, 12, 31), d(2026, 1, 1))
        );
        assert_eq!(RelativePeriod::parse("this_day"), None);
        assert_eq!(RelativePeriod::parse("last_fortnight"), None);
        for name in RelativePeriod::NAMES {
            assert!(RelativePeriod::parse(name).is_some(), "{name}");
        }
    }
}
