//! Training records (C9): courses with the roles they are for and how often they must be
//! refreshed, sessions of a course (a date, a trainer, a place or online), and who attended
//! each. A user's training of a course lasts from the session they attended until the refresh
//! interval runs out; the implementation project asks whether its team and the key users were
//! trained before go-live, and a recorded attendance ticks the matching onboarding steps.

mod service;

pub use service::{AttendanceLine, CourseLine, SessionAttendance, SessionLine, TrainingOverview, UserTrainings};

use crate::auth::Role;
use crate::error::{Error, FieldError, Result};
use crate::ids::{CourseId, TrainingSessionId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A training is about to run out this many days before it does.
pub const EXPIRING_DAYS: i64 = 30;
/// The longest refresh interval, in months (ten years).
pub const MAX_REFRESH_MONTHS: u32 = 120;
const MAX_NAME: usize = 120;
const MAX_DESCRIPTION: usize = 5000;
const MAX_PLACE: usize = 200;

/// A course: what is taught, to whom, and how long it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Course {
    pub id: CourseId,
    pub name: String,
    pub description: String,
    /// The roles the course is for (at least one).
    pub audience: Vec<Role>,
    /// Months after which an attendance must be refreshed; `None`: it lasts.
    pub refresh_months: Option<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Course {
    pub fn is_for(&self, role: Role) -> bool {
        self.audience.contains(&role)
    }

    /// The day a training of this course attended on `attended` runs out, if it does.
    pub fn expires_on(&self, attended: NaiveDate) -> Option<NaiveDate> {
        let months = self.refresh_months?;
        Some(
            attended
                .checked_add_months(chrono::Months::new(months))
                .unwrap_or(NaiveDate::MAX),
        )
    }
}

/// One time a course is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrainingSession {
    pub id: TrainingSessionId,
    pub course: CourseId,
    pub on: NaiveDate,
    /// The trainer when they are a user of the workspace.
    pub trainer: Option<UserId>,
    /// The trainer's name when they are not (a consultant, the vendor).
    pub trainer_name: String,
    /// Where: a room, an address, or the meeting link.
    pub place: String,
    pub online: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<UserId>,
}

/// Whether one user attended one session, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attendance {
    pub session: TrainingSessionId,
    pub user: UserId,
    pub attended: bool,
    pub recorded_by: UserId,
    pub recorded_at: DateTime<Utc>,
}

/// An attendance with the course and day of its session (what expiry is counted from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attended {
    pub user: UserId,
    pub course: CourseId,
    pub session: TrainingSessionId,
    pub on: NaiveDate,
    pub recorded_at: DateTime<Utc>,
}

/// Where a user stands with one course on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingState {
    /// Attended, and it lasts more than [`EXPIRING_DAYS`] yet (or for good).
    Valid,
    /// Attended, and it runs out within [`EXPIRING_DAYS`].
    Expiring,
    /// Attended, and it ran out.
    Expired,
    /// A course for their role they never attended.
    Missing,
}

impl TrainingState {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainingState::Valid => "valid",
            TrainingState::Expiring => "expiring",
            TrainingState::Expired => "expired",
            TrainingState::Missing => "missing",
        }
    }

    /// The state on `today` of a training that runs out on `expires` (never: `None`).
    pub fn on(today: NaiveDate, expires: Option<NaiveDate>) -> Self {
        match expires {
            None => TrainingState::Valid,
            Some(day) if day <= today => TrainingState::Expired,
            Some(day) if (day - today).num_days() <= EXPIRING_DAYS => TrainingState::Expiring,
            Some(_) => TrainingState::Valid,
        }
    }
}

/// One course as it stands for one user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CourseStatus {
    pub course: CourseId,
    pub name: String,
    /// Whether the course is for the user's role.
    pub for_role: bool,
    /// The latest session they attended, and when.
    pub session: Option<TrainingSessionId>,
    pub attended_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub state: TrainingState,
}

/// Each course for the user's role, and every other course they attended, with its state.
pub fn course_statuses(courses: &[Course], role: Role, attended: &[Attended], today: NaiveDate) -> Vec<CourseStatus> {
    let mut out: Vec<CourseStatus> = courses
        .iter()
        .filter_map(|c| {
            let latest = attended.iter().filter(|a| a.course == c.id).max_by_key(|a| a.on);
            if latest.is_none() && !c.is_for(role) {
                return None;
            }
            let expires_on = latest.and_then(|a| c.expires_on(a.on));
            Some(CourseStatus {
                course: c.id,
                name: c.name.clone(),
                for_role: c.is_for(role),
                session: latest.map(|a| a.session),
                attended_on: latest.map(|a| a.on),
                expires_on,
                state: match latest {
                    None => TrainingState::Missing,
                    Some(_) => TrainingState::on(today, expires_on),
                },
            })
        })
        .collect();
    // What needs doing first: missing and expired, then expiring, then the rest.
    let rank = |s: TrainingState| match s {
        TrainingState::Expired => 0,
        TrainingState::Missing => 1,
        TrainingState::Expiring => 2,
        TrainingState::Valid => 3,
    };
    out.sort_by(|a, b| {
        rank(a.state)
            .cmp(&rank(b.state))
            .then_with(|| crate::text::fold_case(&a.name).cmp(&crate::text::fold_case(&b.name)))
    });
    out
}

/// Whether `user` was trained for `role` on `day`: an attended session of a course for the
/// role on or before that day, not run out by then.
pub fn trained_on(courses: &[Course], role: Role, attended: &[Attended], day: NaiveDate) -> bool {
    attended.iter().any(|a| {
        a.on <= day
            && courses
                .iter()
                .find(|c| c.id == a.course)
                .is_some_and(|c| c.is_for(role) && c.expires_on(a.on).is_none_or(|end| end > day))
    })
}

/// One line of text a person types: trimmed, `1..=max` characters, no control characters.
pub(crate) fn line(field: &str, text: &str, max: usize, required: bool) -> std::result::Result<String, FieldError> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if text.chars().any(char::is_control) {
        return Err(FieldError::new(field, "must not hold control characters"));
    }
    Ok(text.to_string())
}

/// What a course is made of, as sent (a new course, or every field of a changed one).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourseInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub audience: Vec<String>,
    #[serde(default)]
    pub refresh_months: Option<u32>,
}

/// A course's parts, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCourse {
    pub name: String,
    pub description: String,
    pub audience: Vec<Role>,
    pub refresh_months: Option<u32>,
}

impl CourseInput {
    pub fn validate(self) -> Result<ValidCourse> {
        let mut errors = Vec::new();
        let name = line("name", &self.name, MAX_NAME, true)
            .map_err(|e| errors.push(e))
            .ok();
        let description = self.description.trim().to_string();
        if description.chars().count() > MAX_DESCRIPTION {
            errors.push(FieldError::new(
                "description",
                format!("must be at most {MAX_DESCRIPTION} characters"),
            ));
        }
        if description
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            errors.push(FieldError::new("description", "must not hold control characters"));
        }
        let mut audience = Vec::new();
        for (i, r) in self.audience.iter().enumerate() {
            match Role::parse(r) {
                Some(role) if !audience.contains(&role) => audience.push(role),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    format!("audience[{i}]"),
                    "must be one of admin, key_user, user, read_only",
                )),
            }
        }
        if self.audience.is_empty() {
            errors.push(FieldError::new("audience", "names at least one role the course is for"));
        }
        audience.sort();
        if let Some(m) = self.refresh_months
            && !(1..=MAX_REFRESH_MONTHS).contains(&m)
        {
            errors.push(FieldError::new(
                "refresh_months",
                format!("is a number of months from 1 to {MAX_REFRESH_MONTHS}, or null when the course lasts"),
            ));
        }
        match name {
            Some(name) if errors.is_empty() => Ok(ValidCourse {
                name,
                description,
                audience,
                refresh_months: self.refresh_months,
            }),
            _ => Err(Error::validation(errors)),
        }
    }
}

/// A session as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    pub course: String,
    pub on: NaiveDate,
    #[serde(default)]
    pub trainer: Option<String>,
    #[serde(default)]
    pub trainer_name: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub online: bool,
}

/// One user's attendance as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttendanceInput {
    pub user: String,
    pub attended: bool,
}

/// Check a session's trainer and place (the course and trainer user are checked against the
/// store by the use case): (trainer_name, place).
pub(crate) fn check_session_text(input: &SessionInput) -> Result<(String, String)> {
    let mut errors = Vec::new();
    let name = line(
        "trainer_name",
        input.trainer_name.as_deref().unwrap_or(""),
        MAX_NAME,
        false,
    )
    .map_err(|e| errors.push(e))
    .ok();
    let place = line("place", input.place.as_deref().unwrap_or(""), MAX_PLACE, false)
        .map_err(|e| errors.push(e))
        .ok();
    let no_trainer = input.trainer.as_deref().is_none_or(str::is_empty);
    if no_trainer && name.as_deref().is_some_and(str::is_empty) {
        errors.push(FieldError::new(
            "trainer",
            "name the trainer: a user's id in trainer, or a name in trainer_name",
        ));
    }
    match (name, place) {
        (Some(n), Some(p)) if errors.is_empty() => Ok((n, p)),
        _ => Err(Error::validation(errors)),
    }
}

/// Where courses, sessions and attendance are kept.
#[async_trait]
pub trait TrainingStore: Send + Sync {
    async fn create_course(&self, course: &Course) -> Result<()>;
    /// Replace a course's fields; false when there is no such course.
    async fn update_course(&self, course: &Course) -> Result<bool>;
    async fn courses(&self) -> Result<Vec<Course>>;
    async fn create_training_session(&self, session: &TrainingSession) -> Result<()>;
    async fn training_session(&self, id: TrainingSessionId) -> Result<Option<TrainingSession>>;
    /// Every session (of one course), newest first.
    async fn training_sessions(&self, course: Option<CourseId>) -> Result<Vec<TrainingSession>>;
    /// Record (or change) attendances of one session, all or none.
    async fn record_attendance(&self, rows: &[Attendance]) -> Result<()>;
    /// The attendances recorded for one session.
    async fn attendance(&self, session: TrainingSessionId) -> Result<Vec<Attendance>>;
    /// Every attended session (of one user), with its course and day.
    async fn attended(&self, user: Option<UserId>) -> Result<Vec<Attended>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn course(refresh: Option<u32>, audience: Vec<Role>) -> Course {
        let now = Utc::now();
        Course {
            id: CourseId::new_at(now),
            name: "CRM basics".into(),
            description: String::new(),
            audience,
            refresh_months: refresh,
            created_at: now,
            updated_at: now,
        }
    }

    fn attended(c: &Course, on: &str) -> Attended {
        Attended {
            user: UserId(uuid::Uuid::nil()),
            course: c.id,
            session: TrainingSessionId(uuid::Uuid::nil()),
            on: day(on),
            recorded_at: Utc::now(),
        }
    }

    #[test]
    fn a_training_runs_out_after_its_refresh_interval_and_warns_thirty_days_before() {
        let c = course(Some(12), vec![Role::User]);
        assert_eq!(c.expires_on(day("2026-01-31")), Some(day("2027-01-31")));
        // The 31st of a month plus one month is the last day of the next.
        let monthly = course(Some(1), vec![Role::User]);
        assert_eq!(monthly.expires_on(day("2026-01-31")), Some(day("2026-02-28")));
        let end = Some(day("2027-01-31"));
        assert_eq!(TrainingState::on(day("2026-12-31"), end), TrainingState::Valid);
        assert_eq!(TrainingState::on(day("2027-01-01"), end), TrainingState::Expiring);
        assert_eq!(TrainingState::on(day("2027-01-30"), end), TrainingState::Expiring);
        assert_eq!(TrainingState::on(day("2027-01-31"), end), TrainingState::Expired);
        assert_eq!(TrainingState::on(day("2040-01-01"), None), TrainingState::Valid);
        assert_eq!(course(None, vec![Role::User]).expires_on(day("2026-01-31")), None);
    }

    #[test]
    fn statuses_name_missing_courses_for_the_role_and_keep_the_latest_attendance() {
        let basics = course(Some(12), vec![Role::User, Role::KeyUser]);
        let mut admin = course(None, vec![Role::Admin]);
        admin.name = "Administration".into();
        let rows = [attended(&basics, "2025-01-10"), attended(&basics, "2026-01-10")];
        let s = course_statuses(&[basics.clone(), admin.clone()], Role::User, &rows, day("2026-06-01"));
        assert_eq!(s.len(), 1, "the admin course is not theirs and was never attended");
        assert_eq!(s[0].attended_on, Some(day("2026-01-10")));
        assert_eq!(s[0].state, TrainingState::Valid);
        let s = course_statuses(&[basics.clone(), admin.clone()], Role::Admin, &rows, day("2026-06-01"));
        assert_eq!(s[0].state, TrainingState::Missing, "missing first: {s:?}");
        assert!(!s[1].for_role && s[1].state == TrainingState::Valid);
    }

    #[test]
    fn trained_on_a_day_needs_a_course_for_the_role_attended_by_then_and_not_run_out() {
        let basics = course(Some(12), vec![Role::KeyUser]);
        let rows = [attended(&basics, "2026-01-10")];
        let courses = [basics.clone()];
        assert!(trained_on(&courses, Role::KeyUser, &rows, day("2026-03-01")));
        assert!(
            !trained_on(&courses, Role::KeyUser, &rows, day("2026-01-09")),
            "not yet"
        );
        assert!(
            !trained_on(&courses, Role::KeyUser, &rows, day("2027-01-10")),
            "run out"
        );
        assert!(
            !trained_on(&courses, Role::User, &rows, day("2026-03-01")),
            "not their role's"
        );
    }

    #[test]
    fn a_course_names_each_mistake_by_its_field() {
        let e = CourseInput {
            name: " ".into(),
            description: String::new(),
            audience: vec!["user".into(), "boss".into()],
            refresh_months: Some(0),
        }
        .validate()
        .unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "audience[1]", "refresh_months"]);
        let ok = CourseInput {
            name: "Key-user training".into(),
            description: "Two days".into(),
            audience: vec!["user".into(), "key_user".into(), "user".into()],
            refresh_months: None,
        }
        .validate()
        .unwrap();
        assert_eq!(ok.audience, [Role::KeyUser, Role::User]);
    }
}
