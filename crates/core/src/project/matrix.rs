//! The communication matrix (B13): who tells whom what, how and how often. Each row knows when
//! it is next due; sending the matching status report or a series' minutes marks it done, and
//! the members holding the sender role are reminded while it is due or overdue.

use super::meetings::Series;
use super::model::Cadence;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What fulfils a row: the status report, a series' minutes, or something only a person can
/// confirm (a newsletter, an intranet post).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "series", rename_all = "snake_case")]
pub enum Fulfilment {
    StatusReport,
    Minutes(Series),
    Manual,
}

impl Fulfilment {
    /// As a form value: `status_report`, `minutes:core_team`, `manual`.
    pub fn key(self) -> String {
        match self {
            Fulfilment::StatusReport => "status_report".into(),
            Fulfilment::Minutes(s) => format!("minutes:{}", s.as_str()),
            Fulfilment::Manual => "manual".into(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "status_report" => Some(Fulfilment::StatusReport),
            "manual" => Some(Fulfilment::Manual),
            _ => s
                .strip_prefix("minutes:")
                .and_then(Series::parse)
                .map(Fulfilment::Minutes),
        }
    }

    pub fn all() -> Vec<Fulfilment> {
        let mut all = vec![Fulfilment::StatusReport];
        all.extend(Series::ALL.into_iter().map(Fulfilment::Minutes));
        all.push(Fulfilment::Manual);
        all
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Communication {
    #[serde(default)]
    pub number: u32,
    #[serde(default)]
    pub version: i64,
    /// The role (catalogue key) that sends it; its holders are reminded.
    pub sender_role: String,
    pub audience: String,
    pub content: String,
    pub channel: String,
    pub frequency: Cadence,
    pub fulfilled_by: Fulfilment,
    /// The first occasion, when it is not the project's start.
    pub starts: Option<NaiveDate>,
    /// When it was last sent.
    pub last_done: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    Later,
    /// Within three days.
    Soon,
    /// From the due date until the rhythm's grace runs out.
    Due,
    Overdue,
}

impl Due {
    pub fn as_str(self) -> &'static str {
        match self {
            Due::Later => "later",
            Due::Soon => "soon",
            Due::Due => "due",
            Due::Overdue => "overdue",
        }
    }

    /// Whether the sender should be reminded.
    pub fn remind(self) -> bool {
        self != Due::Later
    }
}

impl Communication {
    /// The next date it is due: a rhythm after it was last sent, else its first occasion.
    pub fn next_due(&self, project_start: NaiveDate) -> NaiveDate {
        match self.last_done {
            Some(done) => self.frequency.after(done),
            None => self.starts.unwrap_or(project_start),
        }
    }

    pub fn due(&self, project_start: NaiveDate, today: NaiveDate) -> (NaiveDate, Due) {
        let next = self.next_due(project_start);
        let days = (today - next).num_days();
        let state = if days > self.frequency.grace_days() {
            Due::Overdue
        } else if days >= 0 {
            Due::Due
        } else if days >= -3 {
            Due::Soon
        } else {
            Due::Later
        };
        (next, state)
    }

    /// Sent on `day`: done, unless a later sending is already recorded.
    pub fn mark_done(&mut self, day: NaiveDate) -> bool {
        if self.last_done.is_some_and(|d| d >= day) {
            return false;
        }
        self.last_done = Some(day);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn row(frequency: Cadence) -> Communication {
        Communication {
            number: 1,
            version: 1,
            sender_role: "project_leader".into(),
            audience: "Steering group".into(),
            content: "Status report".into(),
            channel: "E-mail".into(),
            frequency,
            fulfilled_by: Fulfilment::StatusReport,
            starts: None,
            last_done: None,
        }
    }

    #[test]
    fn due_soon_due_and_overdue_follow_the_clock() {
        let start = d("2027-01-04");
        let mut r = row(Cadence::Monthly);
        assert_eq!(r.due(start, d("2026-12-20")), (start, Due::Later));
        assert_eq!(r.due(start, d("2027-01-01")).1, Due::Soon);
        assert_eq!(r.due(start, d("2027-01-04")).1, Due::Due);
        assert_eq!(r.due(start, d("2027-01-09")).1, Due::Due, "five days of grace a month");
        assert_eq!(r.due(start, d("2027-01-10")).1, Due::Overdue);
        assert!(r.mark_done(d("2027-01-11")));
        assert_eq!(r.due(start, d("2027-01-12")), (d("2027-02-11"), Due::Later));
        assert!(!r.mark_done(d("2027-01-05")), "an older sending does not move it back");
        let mut w = row(Cadence::Weekly);
        w.starts = Some(d("2027-02-01"));
        assert_eq!(w.due(start, d("2027-02-03")).1, Due::Due);
        assert_eq!(
            w.due(start, d("2027-02-04")).1,
            Due::Overdue,
            "two days of grace a week"
        );
        assert!(Due::Soon.remind() && Due::Overdue.remind() && !Due::Later.remind());
    }

    #[test]
    fn fulfilment_keys_round_trip() {
        for f in Fulfilment::all() {
            assert_eq!(Fulfilment::parse(&f.key()), Some(f));
        }
        assert_eq!(Fulfilment::parse("minutes:board"), None);
    }

    #[test]
    fn monthly_rhythm_keeps_to_month_ends() {
        assert_eq!(Cadence::Monthly.after(d("2027-01-31")), d("2027-02-28"));
        assert_eq!(Cadence::Quarterly.after(d("2027-01-15")), d("2027-04-15"));
        assert_eq!(Cadence::Biweekly.after(d("2027-01-15")), d("2027-01-29"));
    }
}
