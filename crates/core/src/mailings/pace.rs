//! The pace of a mailing: at most N messages in any M minutes (a sliding window, so a mail
//! server's "40 every few minutes" holds over every stretch, not per fixed block), and sending
//! windows: days of the week and hours of the day, in a named time zone.

use crate::error::{Error, Result};
use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// Messages …
    pub mails: u32,
    /// … per this many minutes.
    pub minutes: u32,
}

impl Throttle {
    pub fn check(&self) -> Result<()> {
        if !(1..=100_000).contains(&self.mails) {
            return Err(Error::field("throttle.mails", "must be 1 to 100000"));
        }
        if !(1..=1440).contains(&self.minutes) {
            return Err(Error::field("throttle.minutes", "must be 1 to 1440 (a day)"));
        }
        Ok(())
    }

    pub fn span(&self) -> Duration {
        Duration::minutes(i64::from(self.minutes))
    }

    /// How many may go now, when `sent` went in the last span (the earliest at `earliest`);
    /// when none may, the moment one may (the earliest leaves the span).
    pub fn allowance(&self, sent: u64, earliest: Option<DateTime<Utc>>, now: DateTime<Utc>) -> (u64, DateTime<Utc>) {
        let left = u64::from(self.mails).saturating_sub(sent);
        let next = earliest.map_or(now, |e| e + self.span() + Duration::milliseconds(1));
        (left, next.max(now))
    }
}

/// When a mailing may send: on these days, from one hour until another, in a time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// The first hour sending may happen (0–23).
    pub from_hour: u32,
    /// The hour sending stops (1–24; after `from_hour`).
    pub to_hour: u32,
    /// An IANA time zone (`Europe/Stockholm`).
    pub time_zone: String,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Window {
    pub fn check(&self) -> Result<()> {
        if self.days.is_empty() || self.days.iter().any(|d| !DAYS.contains(&d.as_str())) {
            return Err(Error::field(
                "window.days",
                "one or more of mon, tue, wed, thu, fri, sat, sun",
            ));
        }
        if self.from_hour > 23 {
            return Err(Error::field("window.from_hour", "must be 0 to 23"));
        }
        if self.to_hour > 24 || self.to_hour <= self.from_hour {
            return Err(Error::field("window.to_hour", "must be after from_hour, at most 24"));
        }
        self.zone().map(|_| ())
    }

    fn zone(&self) -> Result<Tz> {
        self.time_zone.parse::<Tz>().map_err(|_| {
            Error::field(
                "window.time_zone",
                format!("{:?} is not a time zone such as Europe/Stockholm", self.time_zone),
            )
        })
    }

    /// Whether sending may happen at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        let Ok(zone) = self.zone() else { return false };
        let local = now.with_timezone(&zone);
        let day = DAYS
            .get(local.weekday().num_days_from_monday() as usize)
            .copied()
            .unwrap_or("");
        self.days.iter().any(|d| d == day) && (self.from_hour..self.to_hour).contains(&local.hour())
    }

    /// The next moment the window opens at or after `now` (`now` when open); none when it
    /// never opens (a zone that cannot be read).
    pub fn next_open(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(now) {
            return Some(now);
        }
        let zone = self.zone().ok()?;
        let local = now.with_timezone(&zone);
        // The start of each of the next eight days' window (today's may still be ahead).
        for offset in 0..8 {
            let date = local.date_naive() + Duration::days(offset);
            let day = DAYS
                .get(date.weekday().num_days_from_monday() as usize)
                .copied()
                .unwrap_or("");
            if !self.days.iter().any(|d| d == day) {
                continue;
            }
            let start = date.and_hms_opt(self.from_hour, 0, 0)?;
            // A start hour a clock change skips is taken at the first moment after it.
            let start = zone
                .from_local_datetime(&start)
                .earliest()
                .or_else(|| zone.from_local_datetime(&(start + Duration::hours(1))).earliest())?
                .with_timezone(&Utc);
            if start > now {
                return Some(start);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_throttle_lets_n_go_per_span_and_says_when_the_next_may() {
        let t = Throttle { mails: 40, minutes: 5 };
        let now = at("2026-12-04T10:00:00Z");
        assert_eq!(t.allowance(0, None, now), (40, now));
        assert_eq!(t.allowance(39, Some(now), now).0, 1);
        let (left, next) = t.allowance(40, Some(at("2026-12-04T09:57:00Z")), now);
        assert_eq!(left, 0);
        assert_eq!(next, at("2026-12-04T10:02:00.001Z"));
        assert!(Throttle { mails: 0, minutes: 5 }.check().is_err());
        assert!(Throttle { mails: 5, minutes: 0 }.check().is_err());
    }

    #[test]
    fn a_window_opens_on_its_days_and_hours_in_its_time_zone() {
        let w = Window {
            days: vec!["mon".into(), "tue".into(), "wed".into(), "thu".into(), "fri".into()],
            from_hour: 8,
            to_hour: 17,
            time_zone: "Europe/Stockholm".into(),
        };
        w.check().unwrap();
        // Friday 4 December 2026, 08:30 in Stockholm is 07:30 UTC.
        assert!(w.is_open(at("2026-12-04T07:30:00Z")));
        assert!(!w.is_open(at("2026-12-04T06:59:00Z")));
        assert!(!w.is_open(at("2026-12-04T16:00:00Z")));
        // Friday evening: the next opening is Monday 08:00 in Stockholm.
        assert_eq!(
            w.next_open(at("2026-12-04T16:00:00Z")),
            Some(at("2026-12-07T07:00:00Z"))
        );
        // Early Friday: later the same day.
        assert_eq!(
            w.next_open(at("2026-12-04T05:00:00Z")),
            Some(at("2026-12-04T07:00:00Z"))
        );
        // Summer time: 08:00 in Stockholm is 06:00 UTC.
        assert_eq!(
            w.next_open(at("2026-06-01T05:00:00Z")),
            Some(at("2026-06-01T06:00:00Z"))
        );
        let bad = Window {
            time_zone: "Mars/Olympus".into(),
            ..w.clone()
        };
        assert_eq!(bad.check().unwrap_err().errors[0].field, "window.time_zone");
        let bad = Window { to_hour: 8, ..w };
        assert_eq!(bad.check().unwrap_err().errors[0].field, "window.to_hour");
    }
}
