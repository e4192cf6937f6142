//! The stewardship plan (C5): settled before go-live, so that "we'll solve it when it happens"
//! never has to: who owns the system, who administers it, which key users answer each team's
//! questions, how to reach the vendor, how a question's priority follows from its impact and
//! urgency, and where and how often further development is decided. One per workspace,
//! changed as a whole at the version the writer read.

use crate::error::{Error, FieldError, Result};
use crate::ids::{TeamId, UserId};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How hard a question hits (impact) or how soon it must be solved (urgency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Low, Level::Medium, Level::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    fn index(self) -> usize {
        match self {
            Level::Low => 0,
            Level::Medium => 1,
            Level::High => 2,
        }
    }
}

pub use crate::support::Priority;

/// Impact × urgency → priority: `rows[impact][urgency]`, each from low to high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityMatrix {
    pub rows: [[Priority; 3]; 3],
}

impl Default for PriorityMatrix {
    /// The usual ITIL-like grid: only high impact and high urgency together is urgent; low
    /// impact is never more than normal.
    fn default() -> Self {
        use Priority::*;
        Self {
            rows: [[Low, Low, Normal], [Low, Normal, High], [Normal, High, Urgent]],
        }
    }
}

impl PriorityMatrix {
    pub fn priority(&self, impact: Level, urgency: Level) -> Priority {
        // Both indexes are 0..3 by construction of `Level`.
        self.rows
            .get(impact.index())
            .and_then(|r| r.get(urgency.index()))
            .copied()
            .unwrap_or(Priority::Normal)
    }
}

/// The key users named for one team (department).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamKeyUsers {
    pub team: TeamId,
    pub users: Vec<UserId>,
}

/// Someone at the vendor the chain reaches last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorContact {
    pub name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    /// The vendor's support hours and what the agreement promises, in its own words.
    #[serde(default)]
    pub agreement: String,
}

/// Where and how often further development is decided (C4, C5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forum {
    /// The forum's name ("Key-user group").
    #[serde(default)]
    pub name: String,
    /// It meets every this many weeks; `None`: no rhythm set.
    #[serde(default)]
    pub every_weeks: Option<u32>,
    /// Its next (or first) meeting; later ones follow the rhythm.
    #[serde(default)]
    pub next_meeting: Option<NaiveDate>,
    /// Who decides adjustment requests besides administrators.
    #[serde(default)]
    pub decider: Option<UserId>,
    /// How a change request travels from a colleague to a decision, in words.
    #[serde(default)]
    pub change_route: String,
}

/// The plan itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(default)]
    pub system_owner: Option<UserId>,
    /// Administrators and IT contacts.
    #[serde(default)]
    pub administrators: Vec<UserId>,
    #[serde(default)]
    pub key_users: Vec<TeamKeyUsers>,
    #[serde(default)]
    pub vendor_contacts: Vec<VendorContact>,
    #[serde(default)]
    pub matrix: PriorityMatrix,
    #[serde(default)]
    pub forum: Forum,
    /// The day the plan takes over from the implementation project.
    #[serde(default)]
    pub go_live: Option<NaiveDate>,
}

impl Plan {
    /// Every user the plan names, with the field that names them.
    pub fn people(&self) -> Vec<(String, UserId)> {
        let mut out = Vec::new();
        if let Some(u) = self.system_owner {
            out.push(("system_owner".to_string(), u));
        }
        for (i, u) in self.administrators.iter().enumerate() {
            out.push((format!("administrators[{i}]"), *u));
        }
        for (i, t) in self.key_users.iter().enumerate() {
            for (j, u) in t.users.iter().enumerate() {
                out.push((format!("key_users[{i}].users[{j}]"), *u));
            }
        }
        if let Some(u) = self.forum.decider {
            out.push(("forum.decider".to_string(), u));
        }
        out
    }

    /// The key users the plan names for a team.
    pub fn key_users_for(&self, team: TeamId) -> Vec<UserId> {
        self.key_users
            .iter()
            .filter(|t| t.team == team)
            .flat_map(|t| t.users.iter().copied())
            .collect()
    }

    /// The next `n` meetings of the forum from `today` on, by its rhythm. Dates are added
    /// checked: a rhythm that runs past the calendar's end ends the list instead of panicking.
    pub fn upcoming_meetings(&self, today: NaiveDate, n: usize) -> Vec<NaiveDate> {
        let (Some(every), Some(mut next)) = (self.forum.every_weeks.filter(|w| *w > 0), self.forum.next_meeting) else {
            return Vec::new();
        };
        let step = u64::from(every).saturating_mul(7);
        // A first meeting long past is carried forward by whole rhythms, not day by day.
        if next < today {
            let behind = u64::try_from((today - next).num_days()).unwrap_or(0);
            let Some(later) = next.checked_add_days(Days::new(behind / step * step)) else {
                return Vec::new();
            };
            next = later;
            if next < today {
                let Some(later) = next.checked_add_days(Days::new(step)) else {
                    return Vec::new();
                };
                next = later;
            }
        }
        let mut out = Vec::with_capacity(n.min(52));
        let mut at = Some(next);
        while let Some(date) = at
            && out.len() < n
        {
            out.push(date);
            at = date.checked_add_days(Days::new(step));
        }
        out
    }
}

/// The dates a plan may name: sensible years only, so the rhythm's arithmetic stays far from
/// the calendar's ends.
pub const FIRST_YEAR: i32 = 1900;
pub const LAST_YEAR: i32 = 2200;

fn check_date(errors: &mut Vec<FieldError>, field: &str, date: Option<NaiveDate>) {
    if let Some(d) = date
        && !(FIRST_YEAR..=LAST_YEAR).contains(&d.year())
    {
        errors.push(FieldError::new(
            field,
            format!("is a date in the years {FIRST_YEAR} to {LAST_YEAR}"),
        ));
    }
}

/// The plan as kept: `version` 0 is the plan no one has written yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredPlan {
    pub version: i64,
    #[serde(flatten)]
    pub plan: Plan,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<UserId>,
}

/// A plan to write, at the version read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanInput {
    pub version: i64,
    #[serde(flatten)]
    pub plan: Plan,
}

const MAX_PEOPLE: usize = 200;
const MAX_LINE: usize = 200;
const MAX_TEXT: usize = 5000;

fn has_control(s: &str, lines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(lines && (c == '\n' || c == '\r' || c == '\t')))
}

/// Check a line of text: trimmed, of at most `max` characters, no control characters.
pub(super) fn check_line(errors: &mut Vec<FieldError>, field: &str, s: &mut String, max: usize, required: bool) {
    *s = s.trim().to_string();
    if required && s.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if s.chars().count() > max {
        errors.push(FieldError::new(field, format!("is longer than {max} characters")));
    } else if has_control(s, false) {
        errors.push(FieldError::new(field, "may not hold control characters"));
    }
}

/// Check longer text: line breaks and tabs allowed.
pub(super) fn check_text(errors: &mut Vec<FieldError>, field: &str, s: &mut String, max: usize, required: bool) {
    *s = s.trim().to_string();
    if required && s.is_empty() {
        errors.push(FieldError::new(field, "is required"));
    } else if s.chars().count() > max {
        errors.push(FieldError::new(field, format!("is longer than {max} characters")));
    } else if has_control(s, true) {
        errors.push(FieldError::new(field, "may not hold control characters"));
    }
}

/// The plan's own shape: lengths, text, no team twice, a sensible rhythm. Whether the people
/// and teams it names exist is asked by the use case.
pub(super) fn check_plan(mut plan: Plan) -> Result<Plan> {
    let mut errors = Vec::new();
    if plan.administrators.len() > MAX_PEOPLE {
        errors.push(FieldError::new("administrators", format!("at most {MAX_PEOPLE}")));
    }
    // Each administrator once, in the order first named (`dedup` alone drops only neighbours).
    let mut seen = std::collections::HashSet::new();
    plan.administrators.retain(|u| seen.insert(*u));
    if plan.key_users.len() > MAX_PEOPLE {
        errors.push(FieldError::new("key_users", format!("at most {MAX_PEOPLE} teams")));
    }
    let mut teams = std::collections::HashSet::new();
    for (i, t) in plan.key_users.iter_mut().enumerate() {
        if !teams.insert(t.team) {
            errors.push(FieldError::new(format!("key_users[{i}].team"), "names a team twice"));
        }
        if t.users.len() > MAX_PEOPLE {
            errors.push(FieldError::new(
                format!("key_users[{i}].users"),
                format!("at most {MAX_PEOPLE}"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        t.users.retain(|u| seen.insert(*u));
    }
    if plan.vendor_contacts.len() > 50 {
        errors.push(FieldError::new("vendor_contacts", "at most 50"));
    }
    for (i, v) in plan.vendor_contacts.iter_mut().enumerate() {
        check_line(
            &mut errors,
            &format!("vendor_contacts[{i}].name"),
            &mut v.name,
            MAX_LINE,
            true,
        );
        check_line(
            &mut errors,
            &format!("vendor_contacts[{i}].company"),
            &mut v.company,
            MAX_LINE,
            false,
        );
        check_line(
            &mut errors,
            &format!("vendor_contacts[{i}].email"),
            &mut v.email,
            MAX_LINE,
            false,
        );
        if !v.email.is_empty() && !v.email.contains('@') {
            errors.push(FieldError::new(
                format!("vendor_contacts[{i}].email"),
                "is not an e-mail address",
            ));
        }
        check_line(
            &mut errors,
            &format!("vendor_contacts[{i}].phone"),
            &mut v.phone,
            50,
            false,
        );
        check_text(
            &mut errors,
            &format!("vendor_contacts[{i}].agreement"),
            &mut v.agreement,
            MAX_TEXT,
            false,
        );
    }
    check_line(&mut errors, "forum.name", &mut plan.forum.name, MAX_LINE, false);
    check_text(
        &mut errors,
        "forum.change_route",
        &mut plan.forum.change_route,
        MAX_TEXT,
        false,
    );
    check_date(&mut errors, "forum.next_meeting", plan.forum.next_meeting);
    check_date(&mut errors, "go_live", plan.go_live);
    if let Some(w) = plan.forum.every_weeks
        && !(1..=26).contains(&w)
    {
        errors.push(FieldError::new("forum.every_weeks", "is 1 to 26 weeks"));
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(Error::validation(errors))
    }
}

/// A write at a version someone else has passed: the house's version conflict (412), with the
/// plan as it is now, as records and support questions answer it.
pub(super) fn stale_plan(current: &StoredPlan) -> Error {
    Error::conflict(serde_json::to_value(current).unwrap_or(serde_json::Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_default_matrix_is_urgent_only_when_both_are_high() {
        let m = PriorityMatrix::default();
        assert_eq!(m.priority(Level::High, Level::High), Priority::Urgent);
        assert_eq!(m.priority(Level::Low, Level::Low), Priority::Low);
        assert_eq!(m.priority(Level::Low, Level::High), Priority::Normal);
        assert_eq!(m.priority(Level::Medium, Level::Medium), Priority::Normal);
    }

    #[test]
    fn meetings_follow_the_rhythm_from_a_past_first_meeting() {
        let mut p = Plan::default();
        assert!(p.upcoming_meetings(d("2027-01-10"), 3).is_empty());
        p.forum.every_weeks = Some(2);
        p.forum.next_meeting = Some(d("2027-01-04"));
        assert_eq!(
            p.upcoming_meetings(d("2027-01-10"), 3),
            vec![d("2027-01-18"), d("2027-02-01"), d("2027-02-15")]
        );
        assert_eq!(p.upcoming_meetings(d("2027-01-18"), 1), vec![d("2027-01-18")]);
        assert_eq!(p.upcoming_meetings(d("2026-12-01"), 1), vec![d("2027-01-04")]);
    }

    #[test]
    fn meetings_at_the_calendars_ends_stop_rather_than_panic() {
        let mut p = Plan::default();
        p.forum.every_weeks = Some(26);
        p.forum.next_meeting = Some(NaiveDate::MAX);
        assert_eq!(p.upcoming_meetings(d("2027-01-10"), 3), vec![NaiveDate::MAX]);
        p.forum.next_meeting = Some(NaiveDate::MIN);
        let far = NaiveDate::MAX - chrono::Days::new(10);
        assert!(p.upcoming_meetings(far, 3).len() <= 1);
        p.forum.next_meeting = NaiveDate::from_ymd_opt(262_000, 1, 1);
        assert!(p.upcoming_meetings(d("2027-01-10"), 500).len() < 500);
    }

    #[test]
    fn each_administrator_is_kept_once_in_the_order_named() {
        let (a, b) = (UserId(uuid::Uuid::now_v7()), UserId(uuid::Uuid::now_v7()));
        let p = Plan {
            administrators: vec![b, a, b, a, a],
            ..Plan::default()
        };
        assert_eq!(check_plan(p).unwrap().administrators, vec![b, a]);
    }

    #[test]
    fn control_characters_are_refused_in_every_text() {
        let mut p = Plan::default();
        p.forum.name = "Key\u{7}users".into();
        p.forum.change_route = "Key user\n\u{1b}[31m".into();
        p.vendor_contacts.push(VendorContact {
            name: "Ve\u{85}ra".into(),
            company: String::new(),
            email: String::new(),
            phone: "\u{0}".into(),
            agreement: "Weekdays\r\n\t8-17".into(),
        });
        let e = check_plan(p).unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "vendor_contacts[0].name",
                "vendor_contacts[0].phone",
                "forum.name",
                "forum.change_route"
            ]
        );
    }

    #[test]
    fn plan_dates_are_kept_to_sensible_years() {
        let mut p = Plan::default();
        p.forum.next_meeting = Some(d("9999-01-01"));
        p.go_live = Some(d("1899-12-31"));
        let e = check_plan(p.clone()).unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["forum.next_meeting", "go_live"]);
        p.forum.next_meeting = Some(d("2200-12-31"));
        p.go_live = Some(d("1900-01-01"));
        assert!(check_plan(p).is_ok());
    }

    #[test]
    fn a_plan_is_checked_naming_each_field() {
        let t = TeamId(uuid::Uuid::nil());
        let p = Plan {
            key_users: vec![
                TeamKeyUsers { team: t, users: vec![] },
                TeamKeyUsers { team: t, users: vec![] },
            ],
            vendor_contacts: vec![VendorContact {
                name: " ".into(),
                company: String::new(),
                email: "nope".into(),
                phone: String::new(),
                agreement: String::new(),
            }],
            forum: Forum {
                every_weeks: Some(0),
                ..Forum::default()
            },
            ..Plan::default()
        };
        let e = check_plan(p).unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "key_users[1].team",
                "vendor_contacts[0].name",
                "vendor_contacts[0].email",
                "forum.every_weeks"
            ]
        );
    }
}
